"""The questionnaire loader: valid files load; every kind of broken file is reported as FILE:LINE: message."""

import textwrap
from pathlib import Path

import pytest

from app.questionnaires.loader import QuestionnaireError, load_directory, parse_questionnaire

MINI = Path(__file__).parent.parent / "fixtures" / "questionnaires" / "mini.yaml"


def mini_source() -> str:
    return MINI.read_text()


def problems_for(source: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(source, "q.yaml")
    return [str(p) for p in caught.value.problems]


def test_mini_questionnaire_loads_with_its_structure():
    q = parse_questionnaire(mini_source(), "mini.yaml")
    assert q.id == "mini" and q.version == "1.0"
    assert [d.id for d in q.domains] == ["lead", "teams"]
    question = q.questions_by_id["lead-q2"]
    assert question.levels[4] == "Leading q2 level 4 descriptor"
    assert question.actions[1].owner == "Clinical director"
    assert question.depends_on == ("lead-q1",)
    assert q.domains_by_id["teams"].depends_on == ("lead",)
    assert [b.name for b in q.bands] == ["Not started", "Emerging", "Developing", "Established"]


def test_content_hash_changes_with_any_edit():
    a = parse_questionnaire(mini_source())
    b = parse_questionnaire(mini_source().replace("Mini readiness check", "Mini readiness check 2"))
    assert a.content_hash != b.content_hash and len(a.content_hash) == 64


def test_yaml_syntax_error_gives_file_and_line():
    source = mini_source().replace("title: Mini readiness check", "title: [unclosed")
    problems = problems_for(source)
    assert len(problems) == 1 and problems[0].startswith("q.yaml:") and "YAML syntax" in problems[0]


def test_duplicate_key_is_reported_at_its_line():
    lines = mini_source().splitlines()
    lines.insert(2, "version: '2.0'")
    problems = problems_for("\n".join(lines))
    assert "q.yaml:3: duplicate key 'version' (first at line 2)" in problems


def test_unknown_and_missing_fields_are_reported():
    source = mini_source().replace("        guidance: Guidance for leading question 1.", "        guidence: typo")
    source = source.replace("title: Mini readiness check\n", "")
    problems = problems_for(source)
    assert any("unknown field 'guidence' in a question" in p for p in problems)
    assert any("missing field 'title' in the questionnaire" in p for p in problems)


def test_level_out_of_range_and_missing_level():
    source = mini_source().replace("          4: Leading q1 level 4 descriptor", "          5: Leading q1 level 5")
    problems = problems_for(source)
    assert any("level 5 in question 'lead-q1' is out of range: the scale has levels 0 to 4" in p for p in problems)
    assert any("question 'lead-q1' is missing level(s) 4" in p for p in problems)


def test_line_numbers_point_at_the_offending_line():
    source = mini_source().replace("        weight: 2\n", "        weight: 9\n", 1)
    line = source.splitlines().index("        weight: 9") + 1
    assert f"q.yaml:{line}: 'weight' in question 'lead-q1' must be a number from 1 to 5" in problems_for(source)


def test_duplicate_ids_unknown_references_and_loops():
    source = mini_source().replace("id: teams-q1", "id: lead-q1")
    assert any("duplicate id 'lead-q1'" in p for p in problems_for(source))
    source = mini_source().replace("depends_on: [lead]", "depends_on: [nowhere]")
    assert any("depends_on names an unknown domain 'nowhere'" in p for p in problems_for(source))
    looped = mini_source().replace("    weight: 2\n", "    weight: 2\n    depends_on: [teams]\n", 1)
    assert any("domain depends_on forms a loop" in p for p in problems_for(looped))


def test_bands_must_rise_from_zero():
    source = mini_source().replace("{name: Emerging, min: 25}", "{name: Emerging, min: 60}")
    assert any("band 'Developing' must start above the band before it" in p for p in problems_for(source))
    source = mini_source().replace("{name: Not started, min: 0}", "{name: Not started, min: 5}")
    assert any("the first band must have min: 0" in p for p in problems_for(source))


def test_supplement_must_name_a_known_core(tmp_path):
    supplement = mini_source().replace("id: mini", "id: local\nkind: supplement\nsupplements: missing-core")
    (tmp_path / "a.yaml").write_text(mini_source())
    (tmp_path / "b.yaml").write_text(supplement)
    with pytest.raises(QuestionnaireError) as caught:
        load_directory(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'b.yaml'}:1: supplements unknown questionnaire 'missing-core'"
    ]


def test_a_mapping_where_a_list_belongs_is_a_clear_error():
    source = textwrap.dedent(
        """\
        id: x
        version: "1"
        title: X
        bands: [{name: A, min: 0}]
        domains: {leadership: yes}
        """
    )
    assert "q.yaml:5: 'domains' must be a non-empty list" in problems_for(source)


def test_text_longer_than_the_plan_can_hold_is_refused():
    long_text = "Is " + "very " * 60 + "long?"
    source = mini_source().replace("text: Leading question 1?", f"text: {long_text}")
    line = source.splitlines().index(f"        text: {long_text}") + 1
    assert f"q.yaml:{line}: 'text' in question 'lead-q1' is {len(long_text)} characters: the most is 250" in (
        problems_for(source)
    )


def test_a_supplement_may_not_reuse_its_cores_domain_or_question_ids(tmp_path):
    """A supplement is answered in the same assessment as its core, so a shared id would mix their answers."""
    import shutil
    from pathlib import Path

    import yaml

    from app.questionnaires.loader import QuestionnaireError, load_directory

    shipped = Path(__file__).resolve().parents[2] / "questionnaires"
    shutil.copy(shipped / "neighbourhood-readiness.yaml", tmp_path)
    text = (shipped / "kent-medway-snh-supplement.yaml").read_text()
    supplement = yaml.safe_load(text)
    core_question = yaml.safe_load((shipped / "neighbourhood-readiness.yaml").read_text())["domains"][0]["questions"][0]
    # Renamed everywhere in the file (references included), so the clash is the only problem.
    text = text.replace(supplement["domains"][0]["questions"][0]["id"], core_question["id"])
    text = text.replace(supplement["domains"][0]["id"], "leadership")
    (tmp_path / "supplement.yaml").write_text(text)
    with pytest.raises(QuestionnaireError) as raised:
        load_directory(tmp_path)
    messages = " ".join(p.message for p in raised.value.problems)
    assert "domain id 'leadership' is also used by 'neighbourhood-readiness'" in messages
    assert "question id" in messages


# The second edition's format: any scale, evidence, not applicable, owners, efforts, glossary, supplements -------

STAGES = Path(__file__).parent.parent / "fixtures" / "questionnaires" / "pcn-maturity-2019.yaml"
SHIPPED = Path(__file__).resolve().parents[2] / "questionnaires"


def test_a_four_stage_scale_is_read_with_its_own_names_and_steps():
    q = parse_questionnaire(STAGES.read_text(), "stages.yaml")
    assert q.scale.names == ("Foundation", "Step 1", "Step 2", "Step 3") and q.scale.max_level == 3
    question = q.questions_by_id["stages-plan"]
    assert sorted(question.levels) == [0, 1, 2, 3] and sorted(question.actions) == [1, 2, 3]
    assert question.evidence == {1: "The draft plan."}
    assert q.questions_by_id["stages-data"].allows_not_applicable
    assert q.questions_by_id["stages-data"].actions[2].requires == (("stages-plan", 1),)
    assert q.questions_by_id["stages-plan"].actions[3].partner == "the ICB"
    # [[PCN]] is shown as the term and listed with its definition on the page that uses it.
    assert q.domains[0].summary == "How the PCN plans together." and q.domains[0].terms == ("PCN",)


def test_a_level_below_the_first_needs_no_descriptor_of_its_own():
    source = STAGES.read_text().replace(
        "  levels: [Foundation, Step 1, Step 2, Step 3]\n",
        "  levels: [Foundation, Step 1, Step 2]\n  below_first: Not yet at Foundation\n",
    )
    q = parse_questionnaire(source, "stages.yaml")
    assert q.scale.below_first and q.scale.names[0] == "Not yet at Foundation" and q.scale.max_level == 3
    # Level 0 of the file is now the level below Foundation; its descriptor is kept where one is written.
    assert q.questions_by_id["stages-plan"].levels[0] == "Practices plan on their own."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  levels: [Foundation, Step 1, Step 2, Step 3]", "  levels: [Foundation, Step 1]"),
         "the scale's 'levels' must list 3 to 6 level names"),
        (("owner: PCN manager, with: the community provider", "owner: ICB"),
         "owner 'ICB' of action 1 of question 'stages-team' is not a PCN role"),
        (("effort: months}", "effort: years}"), "effort of action 3 of question 'stages-team' must be days, weeks"),
        (("effort: months}", "}"), "missing field 'effort' in action 3 of question 'stages-team'"),
        (("Does the [[PCN]] use", "Does the [[ICB]] use"), "'[[ICB]]' is not in the glossary"),
        (("requires: {stages-plan: 1}", "requires: {stages-nothing: 1}"), "requires names an unknown question"),
        (("requires: {stages-plan: 1}", "requires: {stages-plan: 7}"), "needs a level from 1 to 3"),
        (("          2: The plan is agreed by all practices.",
          "          2: " + " ".join(["word"] * 36)), "level 2 of question 'stages-plan' is 36 words: the most is 35"),
        (("          3: The searches feed", "          4: The searches feed"), "level 4 in question 'stages-data'"),
    ],
)  # fmt: skip
def test_the_check_refuses_what_the_second_edition_rules_out(change, message):
    old, new = change
    source = STAGES.read_text()
    assert old in source
    problems = problems_for(source.replace(old, new))
    assert any(message in p for p in problems), problems


def test_a_stored_copy_written_under_earlier_rules_is_still_read():
    # An assessment pinned before owners and efforts were checked must still open.
    source = STAGES.read_text().replace("owner: PCN manager, with: the community provider", "owner: ICB")
    source = source.replace("effort: months}", "}")
    q = parse_questionnaire(source, "stored", strict=False)
    assert q.questions_by_id["stages-team"].actions[1].owner == "ICB"
    assert q.questions_by_id["stages-team"].actions[3].effort == "days"


def _supplement_dir(tmp_path, change=None) -> Path:
    """The shipped core and supplement in a folder of their own; `change(core, supplement)` edits the supplement."""
    import yaml

    core = yaml.safe_load((SHIPPED / "neighbourhood-readiness.yaml").read_text())
    supplement = yaml.safe_load((SHIPPED / "kent-medway-snh-supplement.yaml").read_text())
    if change:
        change(core, supplement)
    (tmp_path / "core.yaml").write_text((SHIPPED / "neighbourhood-readiness.yaml").read_text())
    (tmp_path / "supplement.yaml").write_text(yaml.safe_dump(supplement, sort_keys=False, allow_unicode=True))
    return tmp_path


def _directory_problems(directory: Path) -> str:
    with pytest.raises(QuestionnaireError) as raised:
        load_directory(directory)
    return " ".join(str(p) for p in raised.value.problems)


def test_the_shipped_supplement_attaches_local_guidance_and_passes(tmp_path):
    found = load_directory(_supplement_dir(tmp_path, lambda core, supplement: None))
    assert found["kent-medway-snh-supplement"].local_guidance


def test_a_supplement_question_that_repeats_a_core_question_is_refused(tmp_path):
    def reword(core, supplement):
        repeated = core["domains"][5]["questions"][1]["text"]  # the shared care record
        supplement["domains"][0]["questions"][0]["text"] = "In Kent and Medway, " + repeated[0].lower() + repeated[1:]

    messages = _directory_problems(_supplement_dir(tmp_path, reword))
    assert "repeats 'neighbourhood-readiness' question 'it-shared-record'" in messages


def test_a_supplement_may_not_reuse_a_core_action_title_or_guide_an_unknown_question(tmp_path):
    core_title = []

    def change(core, supplement):
        core_title.append(core["domains"][0]["questions"][0]["actions"][1]["title"])
        supplement["domains"][0]["questions"][0]["actions"][1]["title"] = core_title[0]
        supplement["local_guidance"]["no-such-question"] = "Guidance for a question the core does not ask."

    messages = _directory_problems(_supplement_dir(tmp_path, change))
    assert f"has the title \"{core_title[0]}\", already used by 'neighbourhood-readiness'" in messages
    assert "local_guidance names 'no-such-question', which 'neighbourhood-readiness' does not ask" in messages

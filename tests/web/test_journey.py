"""The PCN's journey through the test client: start, task list, domain pages, check answers, results."""

from app.extensions import db
from app.models import Answer, Assessment
from tests.conftest import error_messages, page
from tests.helpers import complete_all, core, domain_data, start


def test_home_offers_to_start_then_to_continue(cd_client):
    soup = page(cd_client.get("/"))
    assert soup.find("button", string=lambda s: s and "Start a new assessment" in s)
    base = start(cd_client)
    soup = page(cd_client.get("/"))
    assert soup.find("a", href=base, string=lambda s: s and "Continue your assessment" in s)
    assert start(cd_client) == base  # starting again continues the one in progress


def test_assessment_pins_the_questionnaire_version_and_hash(app, cd_client):
    start(cd_client)
    q = core(app)
    with app.app_context():
        assessment = db.session.query(Assessment).one()
        assert (assessment.questionnaire_key, assessment.questionnaire_version) == (q.id, q.version)
        assert assessment.questionnaire_hash == q.content_hash


def test_task_list_shows_every_domain_with_its_status(app, cd_client):
    base = start(cd_client)
    soup = page(cd_client.get(base))
    items = soup.select(".nhsuk-task-list__item")
    assert [i.select_one(".nhsuk-task-list__link").get_text(strip=True) for i in items] == [
        d.title for d in core(app).domains
    ]
    assert all("Not started" in i.get_text() for i in items)
    first = core(app).domains[0]
    data = domain_data(first)
    data.pop(f"{first.questions[-1].id}-target")
    data["later"] = "1"
    cd_client.post(f"{base}/domains/{first.id}", data=data)
    items = page(cd_client.get(base)).select(".nhsuk-task-list__item")
    assert "In progress" in items[0].get_text() and "Not started" in items[1].get_text()


def test_domain_page_shows_questions_guidance_levels_and_not_sure(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    soup = page(cd_client.get(f"{base}/domains/{domain.id}"))
    text = soup.get_text(" ")
    assert soup.h1.get_text(strip=True) == domain.title
    for question in domain.questions:
        assert question.text in text
        legends = [legend.get_text(strip=True) for legend in soup.select("legend")]
        # Each legend names its question too (visually hidden), so groups are told apart by screen readers.
        assert f"Where is your PCN now?: {question.text}" in legends
        assert f"Where do you want to be in six months?: {question.text}" in legends
        radios = soup.select(f'input[name="{question.id}-now"]')
        assert [r["value"] for r in radios] == ["0", "1", "2", "3", "4", "not-sure"]
        for descriptor in question.levels.values():
            assert descriptor in text
        assert soup.select_one(f'textarea[name="{question.id}-note"]') is not None
    assert soup.find("button", string=lambda s: s and "Save and continue" in s)
    assert soup.find("button", string=lambda s: s and "Save and come back later" in s)


def test_save_and_continue_goes_to_the_next_domain_and_keeps_answers(app, cd_client):
    base = start(cd_client)
    first, second = core(app).domains[:2]
    q = first.questions[0]
    data = domain_data(first, current="2", target="4")
    data[f"{q.id}-note"] = "Discussed at the board"
    data[f"{first.questions[1].id}-now"] = "not-sure"
    response = cd_client.post(f"{base}/domains/{first.id}", data=data)
    assert response.location == f"{base}/domains/{second.id}"
    soup = page(cd_client.get(f"{base}/domains/{first.id}"))
    assert soup.select_one(f'input[name="{q.id}-now"][value="2"]').has_attr("checked")
    assert soup.select_one(f'input[name="{q.id}-target"][value="4"]').has_attr("checked")
    assert soup.select_one(f'input[name="{first.questions[1].id}-now"][value="not-sure"]').has_attr("checked")
    assert soup.select_one(f'textarea[name="{q.id}-note"]').get_text().strip() == "Discussed at the board"


def test_save_and_come_back_later_returns_to_the_task_list(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[2]
    q = domain.questions[0]
    response = cd_client.post(f"{base}/domains/{domain.id}", data={"revision": "0", f"{q.id}-now": "1", "later": "1"})
    assert response.location == base
    assert f"Your answers for {domain.title} have been saved" in cd_client.get(base).get_data(as_text=True)


def test_target_below_current_is_refused_and_nothing_is_saved(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    q = domain.questions[0]
    data = domain_data(domain, current="1", target="2", note="Keep this text")
    data[f"{q.id}-now"], data[f"{q.id}-target"] = "3", "1"
    response = cd_client.post(f"{base}/domains/{domain.id}", data=data)
    soup = page(response)
    assert response.status_code == 200 and soup.title.get_text().startswith("Error: ")
    assert error_messages(soup) == [f"Your six-month target cannot be below where your PCN is now: {q.text}"]
    assert soup.select_one(".nhsuk-error-summary a")["href"] == f"#{q.id}-target"
    assert soup.select_one(f"#{q.id}-target") is not None  # the link lands on the first radio
    # What the user typed is still on the page...
    assert soup.select_one(f'input[name="{q.id}-now"][value="3"]').has_attr("checked")
    assert soup.select_one(f'textarea[name="{q.id}-note"]').get_text().strip() == "Keep this text"
    # ...and nothing was saved.
    with app.app_context():
        assert db.session.query(Answer).count() == 0


def test_save_and_continue_needs_every_answer(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[1]
    data = domain_data(domain)
    missing = domain.questions[1]
    del data[f"{missing.id}-now"]
    soup = page(cd_client.post(f"{base}/domains/{domain.id}", data=data))
    assert error_messages(soup) == [f"Select where your PCN is now for: {missing.text}"]
    with app.app_context():
        assert db.session.query(Answer).count() == 0


def test_tampered_values_and_long_notes_get_clear_messages(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    q = domain.questions[0]
    data = domain_data(domain)
    data[f"{q.id}-now"] = "7"
    data[f"{q.id}-note"] = "x" * 2001
    soup = page(cd_client.post(f"{base}/domains/{domain.id}", data=data))
    assert "Select one of the levels shown, or Not sure" in error_messages(soup)
    assert "Note must be 2000 characters or fewer" in error_messages(soup)
    with app.app_context():
        assert db.session.query(Answer).count() == 0


def test_unknown_domain_is_not_found(cd_client):
    base = start(cd_client)
    assert cd_client.get(f"{base}/domains/no-such-domain").status_code == 404


def test_check_answers_lists_everything_with_change_links_then_results(app, cd_client):
    base = start(cd_client)
    complete_all(cd_client, app, base, current="1", target="3")
    soup = page(cd_client.get(f"{base}/check"))
    changes = [a for a in soup.find_all("a") if a.get_text(" ", strip=True).startswith("Change")]
    questions = [q for d in core(app).domains for q in d.questions]
    assert len(changes) == len(questions)
    assert changes[0]["href"] == f"{base}/domains/{core(app).domains[0].id}#{questions[0].id}-heading"
    response = cd_client.post(f"{base}/check")
    assert response.location == f"{base}/results"
    soup = page(cd_client.get(f"{base}/results"))
    text = soup.get_text(" ")
    assert "25%" in text and "75%" in text  # level 1 of 4 now, level 3 of 4 at target, everywhere
    for domain in core(app).domains:
        assert domain.title in text


def test_results_wait_for_confirmation(app, cd_client):
    base = start(cd_client)
    response = cd_client.get(f"{base}/results")
    assert response.status_code == 302 and response.location == f"{base}/check"
    cd_client.post(f"{base}/check")  # confirming with sections left is refused
    assert cd_client.get(f"{base}/results").location == f"{base}/check"


def test_colleague_in_the_same_pcn_works_on_the_same_assessment(app, cd_client, manager_client):
    base = start(cd_client)
    assert start(manager_client) == base
    domain = core(app).domains[0]
    assert manager_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain)).status_code == 302


def test_a_value_that_is_not_a_level_gets_a_message_not_an_error(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    data = domain_data(domain)
    data[f"{domain.questions[0].id}-now"] = "abc"
    response = cd_client.post(f"{base}/domains/{domain.id}", data=data)
    assert response.status_code == 200
    assert "Select one of the levels shown, or Not sure" in error_messages(page(response))


def test_hidden_control_characters_are_refused_with_a_message_not_dropped_silently(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    q = domain.questions[0]
    path = f"{base}/domains/{domain.id}"
    response = cd_client.post(path, data=domain_data(domain, note="Board\x00 agreed\x1b"))
    assert response.status_code == 200
    soup = page(response)
    assert "Your note on question 1 had 2 hidden characters that cannot be saved" in error_messages(soup)[0]
    # Shown again without them, so what would be saved is what the person sees.
    assert soup.select_one(f'textarea[name="{q.id}-note"]').get_text().strip() == "Board agreed"
    with app.app_context():
        assert db.session.query(Answer).count() == 0  # nothing saved
    assert cd_client.post(path, data=domain_data(domain, note="Board agreed")).status_code == 302


def test_a_leading_tab_in_a_note_is_kept(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    response = cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, note="\tIndented list\n\tsecond"))
    assert response.status_code == 302
    with app.app_context():
        assert {a.note for a in db.session.query(Answer)} == {"\tIndented list\n\tsecond"}


def test_saving_a_page_unchanged_leaves_the_plan_up_to_date(app, cd_client):
    base = start(cd_client)
    complete_all(cd_client, app, base)
    cd_client.post(f"{base}/check")
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    revision = page(cd_client.get(path)).select_one("input[name=revision]")["value"]
    assert cd_client.post(path, data=domain_data(domain, revision=revision)).status_code == 302
    assert "Your answers have changed since this plan was made" not in cd_client.get(f"{base}/plan").get_data(
        as_text=True
    )
    revision = page(cd_client.get(path)).select_one("input[name=revision]")["value"]
    assert cd_client.post(path, data=domain_data(domain, target="4", revision=revision)).status_code == 302
    assert "Your answers have changed since this plan was made" in cd_client.get(f"{base}/plan").get_data(as_text=True)


def test_a_confirmed_assessment_keeps_every_answer(app, cd_client):
    base = start(cd_client)
    complete_all(cd_client, app, base)
    cd_client.post(f"{base}/check")
    domain = core(app).domains[0]
    revision = page(cd_client.get(f"{base}/domains/{domain.id}")).select_one("input[name=revision]")["value"]
    data = domain_data(domain, revision=revision)
    del data[f"{domain.questions[0].id}-target"]
    soup = page(cd_client.post(f"{base}/domains/{domain.id}", data={**data, "later": "1"}))
    assert error_messages(soup) == [f"Select where you want to be in six months for: {domain.questions[0].text}"]


def test_colleagues_starting_at_the_same_moment_share_one_assessment(app):
    """Both saw no assessment in progress and pressed Start: the second gets the first's (found by load testing)."""
    from sqlalchemy import select

    from app.models import Organisation
    from app.queries.users import get_user_by_email
    from app.questionnaires import registry
    from app.services import assessments

    with app.app_context():
        user = get_user_by_email("cd@example.org")
        pcn = db.session.get(Organisation, user.organisation_id)
        questionnaire = registry().core()[0]
        first = assessments.start_assessment(pcn, user, questionnaire)
        second = assessments.start_assessment(pcn, user, questionnaire)
        assert second.id == first.id
        assert len(db.session.scalars(select(Assessment).where(Assessment.pcn_id == pcn.id)).all()) == 1


def test_two_first_starts_pinning_the_same_questionnaire_do_not_fail(app, monkeypatch):
    """The content row may appear between the check and the insert (another worker): that is not an error."""
    from app.models import QuestionnaireContent
    from app.questionnaires import registry

    with app.app_context():
        questionnaire = registry().core()[0]
        registry().pin(questionnaire)
        db.session.commit()
        real_scalar = db.session.scalar
        calls = iter([None])  # the first look misses, as it would for the worker that lost the race
        monkeypatch.setattr(db.session, "scalar", lambda *a, **k: next(calls, "x") and real_scalar(*a, **k))
        registry().pin(questionnaire)
        monkeypatch.undo()
        db.session.commit()
        assert db.session.query(QuestionnaireContent).count() == 1

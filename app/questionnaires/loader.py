"""Load and validate questionnaire YAML, reporting every problem as FILE:LINE: message."""

import hashlib
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import yaml

from .schema import EFFORT_DAYS, OWNERS, Action, Band, Domain, Question, Questionnaire, Scale

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Longest text each field may hold: what the database columns and generated plan titles have room for.
MAX_LENGTH = {"id": 80, "version": 40, "text": 250, "title": 150, "owner": 100, "name": 60, "with": 100}
KINDS = ("core", "supplement")
TERM = re.compile(r"\[\[([^\[\]]{1,40})\]\]")
MAX_DESCRIPTOR_WORDS = 35
MAX_DEFINITION_WORDS = 60
SCALE_SIZES = (3, 6)
# How alike a supplement question's wording may be to a core question's before it counts as a repeat.
DUPLICATE_SIMILARITY = 0.75

TOP_FIELDS = {
    "id": True, "version": True, "title": True, "kind": False, "supplements": False, "description": False,
    "bands": True, "max_actions_per_month": False, "domains": False, "scale": False, "glossary": False,
    "plan_capacity": False, "local_guidance": False,
}  # fmt: skip
DOMAIN_FIELDS = {
    "id": True, "title": True, "summary": False, "intro": False, "weight": False, "depends_on": False,
    "questions": True,
}  # fmt: skip
QUESTION_FIELDS = {
    "id": True, "text": True, "guidance": False, "weight": False, "depends_on": False, "levels": True,
    "actions": True, "not_applicable": False,
}  # fmt: skip
ACTION_FIELDS = {
    "title": True, "description": True, "owner": True, "with": False, "effort": False, "requires": False,
}  # fmt: skip
LEVEL_FIELDS = {"text": True, "evidence": False}
SCALE_FIELDS = {"levels": True, "below_first": False}
BAND_FIELDS = {"name": True, "min": True}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class QuestionnaireError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Mapping(dict):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict


class _LineLoader(yaml.SafeLoader):
    duplicate_keys: list[tuple[int, str]]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            loader.duplicate_keys.append((line, f"duplicate key '{key}' (first at line {mapping.key_lines[key]})"))
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Checker:
    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.strict = True

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.filename, line, message))

    def fields(self, mapping: object, spec: dict[str, bool], what: str, line: int) -> bool:
        if not isinstance(mapping, _Mapping):
            self.add(line, f"{what} must be a mapping of fields")
            return False
        for key in mapping:
            if key not in spec:
                self.add(mapping.key_lines[key], f"unknown field '{key}' in {what}")
        for key, required in spec.items():
            if required and key not in mapping:
                self.add(mapping.line, f"missing field '{key}' in {what}")
        return True

    def text(self, mapping: _Mapping, key: str, what: str) -> str:
        value = mapping.get(key)
        if value is None:
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
            self.add(mapping.key_lines[key], f"'{key}' in {what} must be non-empty text")
            return ""
        text = str(value).strip()
        limit = MAX_LENGTH.get(key)
        if limit and len(text) > limit:
            self.add(mapping.key_lines[key], f"'{key}' in {what} is {len(text)} characters: the most is {limit}")
        return text

    def number(self, mapping: _Mapping, key: str, what: str, default: float, low: float, high: float) -> float:
        if key not in mapping:
            return default
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.add(mapping.key_lines[key], f"'{key}' in {what} must be a number from {low:g} to {high:g}")
            return default
        return float(value)

    def id_list(self, mapping: _Mapping, key: str, what: str) -> tuple[str, ...]:
        value = mapping.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(mapping.key_lines.get(key, mapping.line), f"'{key}' in {what} must be a list of ids")
            return ()
        return tuple(value)

    def identifier(self, mapping: _Mapping, what: str, seen: dict[str, int]) -> str:
        value = mapping.get("id")
        if value is None:
            return ""
        line = mapping.key_lines["id"]
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.add(line, f"id '{value}' in {what} must be lower-case letters, digits and hyphens")
            return str(value)
        if len(value) > MAX_LENGTH["id"]:
            self.add(line, f"id '{value}' in {what} is longer than {MAX_LENGTH['id']} characters")
        if value in seen:
            self.add(line, f"duplicate id '{value}' (first at line {seen[value]})")
        else:
            seen[value] = line
        return value


def content_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


class _Terms:
    """Glossary terms written as [[TERM]]: shown as the term itself, and listed with their definitions per page."""

    def __init__(self, glossary: dict[str, str]):
        self.glossary = glossary
        self.unknown: dict[str, int] = {}

    def strip(self, text: str, line: int, used: dict[str, None] | None = None) -> str:
        for term in TERM.findall(text):
            if term not in self.glossary:
                self.unknown.setdefault(term, line)
            if used is not None:
                used[term] = None
        return TERM.sub(lambda match: match.group(1), text)


def parse_questionnaire(source: str, filename: str = "<questionnaire>", strict: bool = True) -> Questionnaire:
    """Parse and validate YAML text. Raises QuestionnaireError listing every problem found.

    `strict` applies the content rules of the current edition (owners, efforts, descriptor length, glossary terms);
    a stored copy an assessment was taken against is read with strict=False, so older content stays readable.
    """
    check = _Checker(filename)
    check.strict = strict
    loader = _LineLoader(source)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise QuestionnaireError([Problem(filename, line, f"YAML syntax: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise QuestionnaireError([Problem(filename, 1, f"YAML syntax: {exc}")]) from None
    finally:
        loader.dispose()
    for line, message in loader.duplicate_keys:
        check.add(line, message)

    if not check.fields(data, TOP_FIELDS, "the questionnaire", 1):
        raise QuestionnaireError(check.problems)

    check.identifier(data, "the questionnaire", {})
    check.text(data, "version", "the questionnaire")
    check.text(data, "title", "the questionnaire")
    kind = data.get("kind", "core")
    if kind not in KINDS:
        check.add(data.key_lines["kind"], f"kind must be one of {', '.join(KINDS)}")
    supplements = data.get("supplements")
    if kind == "supplement" and not supplements:
        check.add(data.line, "a supplement must say which questionnaire it 'supplements'")
    if kind != "supplement" and supplements:
        check.add(data.key_lines["supplements"], "'supplements' is only for kind: supplement")
    if kind != "supplement" and "local_guidance" in data:
        check.add(data.key_lines["local_guidance"], "'local_guidance' is only for kind: supplement")
    if kind != "supplement" and "domains" not in data:
        check.add(data.line, "missing field 'domains' in the questionnaire")

    bands = _bands(check, data)
    scale = _scale(check, data)
    max_per_month = int(check.number(data, "max_actions_per_month", "the questionnaire", 5, 1, 20))
    capacity = int(check.number(data, "plan_capacity", "the questionnaire", 12, 2, 60))
    terms = _Terms(_glossary(check, data))
    description = terms.strip(
        check.text(data, "description", "the questionnaire"), data.key_lines.get("description", 1)
    )
    local_guidance = _local_guidance(check, data, terms)

    domain_ids: dict[str, int] = {}
    question_ids: dict[str, int] = {}
    domains: list[Domain] = []
    references: list[tuple[int, str, str]] = []  # (line, kind, id)
    raw_domains = data.get("domains")
    if raw_domains is not None and (not isinstance(raw_domains, list) or not raw_domains):
        check.add(data.key_lines["domains"], "'domains' must be a non-empty list")
        raw_domains = []
    context = _Context(check, scale, terms, domain_ids, question_ids, references)
    for raw in raw_domains or []:
        domain = _domain(context, raw, data.key_lines.get("domains", 1))
        if domain:
            domains.append(domain)

    for line, kind_of_ref, ref in references:
        known = domain_ids if kind_of_ref == "domain" else question_ids
        if ref not in known and not (kind == "supplement" and kind_of_ref == "requires"):
            check.add(line, f"{'requires' if kind_of_ref == 'requires' else 'depends_on'} names an unknown "
                      f"{'question' if kind_of_ref == 'requires' else kind_of_ref} '{ref}'")  # fmt: skip
    _check_cycles(check, domains, data.key_lines.get("domains", 1))
    borrowed = dict(terms.unknown)
    if strict and kind != "supplement":
        for term, line in borrowed.items():
            check.add(line, f"'[[{term}]]' is not in the glossary: define it there or write the words out")

    if check.problems:
        raise QuestionnaireError(check.problems)
    return Questionnaire(
        id=str(data["id"]),
        version=str(data["version"]),
        title=str(data["title"]).strip(),
        kind=kind,
        description=description,
        bands=bands,
        domains=tuple(domains),
        max_actions_per_month=max_per_month,
        supplements=supplements,
        content_hash=content_hash(source),
        source=source,
        scale=scale,
        glossary=terms.glossary,
        plan_capacity=capacity,
        local_guidance=local_guidance,
        borrowed_terms=borrowed,
    )


def _bands(check: _Checker, data: _Mapping) -> tuple[Band, ...]:
    raw = data.get("bands")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        check.add(data.key_lines["bands"], "'bands' must be a non-empty list")
        return ()
    bands: list[Band] = []
    for item in raw:
        if not check.fields(item, BAND_FIELDS, "a band", data.key_lines["bands"]):
            continue
        name = check.text(item, "name", "a band")
        low = check.number(item, "min", "a band", -1, 0, 100)
        if bands and low <= bands[-1].min:
            check.add(item.line, f"band '{name}' must start above the band before it ({bands[-1].min:g})")
        if not bands and low != 0:
            check.add(item.line, "the first band must have min: 0")
        bands.append(Band(name=name, min=low))
    return tuple(bands)


@dataclass
class _Context:
    check: _Checker
    scale: Scale
    terms: _Terms
    domain_ids: dict[str, int]
    question_ids: dict[str, int]
    references: list[tuple[int, str, str]]


def _scale(check: _Checker, data: _Mapping) -> Scale:
    raw = data.get("scale")
    if raw is None:
        return Scale()
    if not check.fields(raw, SCALE_FIELDS, "the scale", data.key_lines["scale"]):
        return Scale()
    names = raw.get("levels")
    low, high = SCALE_SIZES
    if (
        not isinstance(names, list)
        or not all(isinstance(n, str | int) and not isinstance(n, bool) and str(n).strip() for n in names)
        or not low <= len(names) <= high
    ):
        check.add(raw.key_lines.get("levels", raw.line), f"the scale's 'levels' must list {low} to {high} level names")
        return Scale()
    names = [str(n).strip() for n in names]
    for name in names:
        if len(name) > 40:
            check.add(raw.key_lines["levels"], f"level name '{name}' is longer than 40 characters")
    if len(set(names)) != len(names):
        check.add(raw.key_lines["levels"], "the scale's level names must differ from one another")
    below = raw.get("below_first")
    if below is not None:
        below = check.text(raw, "below_first", "the scale")
        if below in names:
            check.add(raw.key_lines["below_first"], "the level below the first must have a name of its own")
        return Scale(names=(below, *names), below_first=True)
    return Scale(names=tuple(names))


def _glossary(check: _Checker, data: _Mapping) -> dict[str, str]:
    raw = data.get("glossary")
    if raw is None:
        return {}
    if not isinstance(raw, _Mapping) or not raw:
        check.add(data.key_lines["glossary"], "'glossary' must map each term to its definition")
        return {}
    glossary: dict[str, str] = {}
    for term, definition in raw.items():
        line = raw.key_lines[term]
        term = str(term)
        if not term.strip() or len(term) > 40 or "[" in term or "]" in term:
            check.add(line, f"glossary term '{term}' must be 1 to 40 characters, without brackets")
            continue
        if not isinstance(definition, str) or not definition.strip():
            check.add(line, f"glossary term '{term}' needs a definition")
            continue
        if check.strict and len(definition.split()) > MAX_DEFINITION_WORDS:
            check.add(line, f"the definition of '{term}' is {len(definition.split())} words: the most is "
                      f"{MAX_DEFINITION_WORDS}")  # fmt: skip
        glossary[term] = " ".join(TERM.sub(lambda m: m.group(1), definition).split())
    return glossary


def _local_guidance(check: _Checker, data: _Mapping, terms: _Terms) -> dict[str, str]:
    raw = data.get("local_guidance")
    if raw is None:
        return {}
    if not isinstance(raw, _Mapping):
        check.add(data.key_lines["local_guidance"], "'local_guidance' must map core question ids to guidance")
        return {}
    guidance: dict[str, str] = {}
    for question_id, text in raw.items():
        line = raw.key_lines[question_id]
        if not isinstance(text, str) or not text.strip():
            check.add(line, f"local guidance for '{question_id}' must be non-empty text")
            continue
        guidance[str(question_id)] = terms.strip(text.strip(), line)
    return guidance


def _domain(context: _Context, raw, line) -> Domain | None:
    check = context.check
    if not check.fields(raw, DOMAIN_FIELDS, "a domain", line):
        return None
    domain_id = check.identifier(raw, "a domain", context.domain_ids)
    what = f"domain '{domain_id}'"
    depends = check.id_list(raw, "depends_on", what)
    context.references.extend((raw.key_lines["depends_on"], "domain", ref) for ref in depends)
    questions: list[Question] = []
    raw_questions = raw.get("questions")
    if raw_questions is not None and (not isinstance(raw_questions, list) or not raw_questions):
        check.add(raw.key_lines["questions"], f"'questions' in {what} must be a non-empty list")
        raw_questions = []
    for raw_q in raw_questions or []:
        question = _question(context, raw_q, raw.key_lines.get("questions", raw.line), domain_id)
        if question:
            questions.append(question)
            if isinstance(raw_q, _Mapping) and "depends_on" in raw_q:
                context.references.extend(
                    (raw_q.key_lines["depends_on"], "question", ref) for ref in question.depends_on
                )
    intro_terms: dict[str, None] = {}
    return Domain(
        id=domain_id,
        title=check.text(raw, "title", what),
        summary=context.terms.strip(check.text(raw, "summary", what), raw.key_lines.get("summary", 0), intro_terms),
        intro=context.terms.strip(check.text(raw, "intro", what), raw.key_lines.get("intro", 0), intro_terms),
        weight=check.number(raw, "weight", what, 1, 0.1, 10),
        questions=tuple(questions),
        depends_on=depends,
        intro_terms=tuple(intro_terms),
    )


def _question(context: _Context, raw, line, domain_id) -> Question | None:
    check, terms = context.check, context.terms
    if not check.fields(raw, QUESTION_FIELDS, "a question", line):
        return None
    question_id = check.identifier(raw, "a question", context.question_ids)
    what = f"question '{question_id}'"
    used: dict[str, None] = {}
    text = terms.strip(check.text(raw, "text", what), raw.key_lines.get("text", 0), used)
    guidance = terms.strip(check.text(raw, "guidance", what), raw.key_lines.get("guidance", 0), used)
    not_applicable = terms.strip(check.text(raw, "not_applicable", what), raw.key_lines.get("not_applicable", 0), used)
    levels, evidence = _levels(context, raw, what, used)
    actions = _actions(context, raw, what)
    return Question(
        id=question_id,
        domain_id=domain_id,
        text=text,
        guidance=guidance,
        weight=check.number(raw, "weight", what, 1, 1, 5),
        levels=levels,
        actions=actions,
        depends_on=check.id_list(raw, "depends_on", what),
        evidence=evidence,
        not_applicable=not_applicable,
        terms=tuple(used),
    )


def _levels(context: _Context, raw: _Mapping, what: str, used: dict) -> tuple[dict[int, str], dict[int, str]]:
    check, scale, terms = context.check, context.scale, context.terms
    levels: dict[int, str] = {}
    evidence: dict[int, str] = {}
    raw_levels = raw.get("levels")
    if raw_levels is None:
        return levels, evidence
    top = scale.max_level
    if not isinstance(raw_levels, _Mapping):
        check.add(raw.key_lines["levels"], f"'levels' in {what} must map 0 to {top} to descriptors")
        return levels, evidence
    for key, value in raw_levels.items():
        line = raw_levels.key_lines[key]
        if isinstance(key, bool) or key not in scale.levels:
            check.add(line, f"level {key!r} in {what} is out of range: the scale has levels 0 to {top}")
            continue
        if isinstance(value, _Mapping):
            if not check.fields(value, LEVEL_FIELDS, f"level {key} of {what}", line):
                continue
            text = check.text(value, "text", f"level {key} of {what}")
            proof = check.text(value, "evidence", f"level {key} of {what}")
            if proof:
                evidence[key] = terms.strip(proof, value.key_lines["evidence"], used)
        elif isinstance(value, str) and value.strip():
            text = value.strip()
        else:
            check.add(line, f"level {key} in {what} needs a descriptor")
            continue
        if not text:
            continue
        if check.strict and len(text.split()) > MAX_DESCRIPTOR_WORDS:
            check.add(line, f"level {key} of {what} is {len(text.split())} words: the most is {MAX_DESCRIPTOR_WORDS}")
        levels[key] = terms.strip(text, line, used)
    if scale.below_first and 0 not in levels:
        levels[0] = scale.name(0)  # the level below the first needs no descriptor of its own
    missing = [str(level) for level in scale.levels if level not in raw_levels and level not in levels]
    if missing:
        check.add(raw_levels.line, f"{what} is missing level(s) {', '.join(missing)}")
    return levels, evidence


def _actions(context: _Context, raw: _Mapping, what: str) -> dict:
    check, scale, terms = context.check, context.scale, context.terms
    actions: dict[int, Action] = {}
    raw_actions = raw.get("actions")
    if raw_actions is None:
        return actions
    top = scale.max_level
    if not isinstance(raw_actions, _Mapping):
        check.add(raw.key_lines["actions"], f"'actions' in {what} must map steps 1 to {top} to actions")
        return actions
    for key, value in raw_actions.items():
        if isinstance(key, bool) or key not in scale.steps:
            check.add(raw_actions.key_lines[key], f"action step {key!r} in {what} is out of range: use 1 to {top}")
            continue
        action_what = f"action {key} of {what}"
        if not check.fields(value, ACTION_FIELDS, action_what, raw_actions.key_lines[key]):
            continue
        owner = check.text(value, "owner", action_what)
        if check.strict and owner and owner not in OWNERS:
            check.add(value.key_lines["owner"], f"owner '{owner}' of {action_what} is not a PCN role: use one of "
                      f"{', '.join(OWNERS)}, and name partner organisations in 'with'")  # fmt: skip
        effort = value.get("effort")
        if effort is None:
            if check.strict:
                check.add(value.line, f"missing field 'effort' in {action_what}: use days, weeks or months")
            effort = "days"
        elif effort not in EFFORT_DAYS:
            check.add(value.key_lines["effort"], f"effort of {action_what} must be days, weeks or months")
            effort = "days"
        actions[key] = Action(
            title=terms.strip(check.text(value, "title", action_what), value.key_lines.get("title", 0)),
            description=terms.strip(
                check.text(value, "description", action_what), value.key_lines.get("description", 0)
            ),
            owner=owner,
            partner=check.text(value, "with", action_what),
            effort=effort,
            requires=_requires(context, value, action_what),
        )
    missing = [str(step) for step in scale.steps if step not in raw_actions]
    if missing:
        check.add(raw_actions.line, f"{what} is missing action(s) for step(s) {', '.join(missing)}")
    return actions


def _requires(context: _Context, value: _Mapping, what: str) -> tuple[tuple[str, int], ...]:
    raw = value.get("requires")
    if raw is None:
        return ()
    line = value.key_lines["requires"]
    if not isinstance(raw, _Mapping) or not raw:
        context.check.add(line, f"'requires' in {what} must map a question id to the level it needs")
        return ()
    found = []
    for question_id, level in raw.items():
        if isinstance(level, bool) or not isinstance(level, int) or level not in context.scale.steps:
            context.check.add(line, f"'requires' in {what} needs a level from 1 to {context.scale.max_level}")
            continue
        context.references.append((line, "requires", str(question_id)))
        found.append((str(question_id), level))
    return tuple(found)


def _check_cycles(check: _Checker, domains: list[Domain], line: int) -> None:
    """Foundations must form no loop, or no plan could put them first."""
    for graph, what in (
        ({d.id: d.depends_on for d in domains}, "domain"),
        ({q.id: q.depends_on for d in domains for q in d.questions}, "question"),
    ):
        state: dict[str, int] = {}

        def visit(node: str, trail: list[str], graph=graph, what=what, state=state) -> bool:
            if state.get(node) == 2:
                return False
            if state.get(node) == 1:
                check.add(line, f"{what} depends_on forms a loop: {' -> '.join([*trail, node])}")
                return True
            state[node] = 1
            for ref in graph.get(node, ()):
                if ref in graph and visit(ref, [*trail, node]):
                    return True
            state[node] = 2
            return False

        for node in graph:
            if visit(node, []):
                break


def load_file(path: Path) -> Questionnaire:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError([Problem(str(path), 1, f"cannot read file: {exc}")]) from None
    return parse_questionnaire(source, str(path))


def load_directory(directory: Path) -> dict[str, Questionnaire]:
    """Every questionnaire in a directory, by id. Raises QuestionnaireError with all problems in all files."""
    found: dict[str, Questionnaire] = {}
    paths: dict[str, Path] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            questionnaire = load_file(path)
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
            continue
        if questionnaire.id in found:
            problems.append(Problem(str(path), 1, f"another file already has id '{questionnaire.id}'"))
        found[questionnaire.id] = questionnaire
        paths[questionnaire.id] = path
    for key, questionnaire in found.items():
        if questionnaire.kind == "supplement":
            problems.extend(supplement_problems(questionnaire, found.get(questionnaire.supplements), str(paths[key])))
        else:
            problems.extend(_title_problems(questionnaire, None, str(paths[key])))
    if problems:
        raise QuestionnaireError(problems)
    return found


def supplement_problems(supplement: Questionnaire, core: Questionnaire | None, filename: str) -> list[Problem]:
    """What a supplement may not do to its core: clash with its ids, repeat its questions or action titles, use a
    term neither defines, or point at questions the core does not have."""
    if core is None:
        return [Problem(filename, 1, f"supplements unknown questionnaire '{supplement.supplements}'")]
    problems: list[Problem] = []
    # A supplement is answered in the same assessment as its core: its ids must not clash with the core's.
    for kind, mine, theirs in (
        ("domain", supplement.domains_by_id, core.domains_by_id),
        ("question", supplement.questions_by_id, core.questions_by_id),
    ):
        for clash in sorted(set(mine) & set(theirs)):
            message = f"{kind} id '{clash}' is also used by '{core.id}', which this supplements: rename it"
            problems.append(Problem(filename, 1, message))
    if supplement.scale != core.scale:
        problems.append(Problem(filename, 1, f"the scale must be the same as '{core.id}''s: {core.scale.describe()}"))
    for question_id in supplement.local_guidance:
        if question_id not in core.questions_by_id:
            problems.append(
                Problem(filename, 1, f"local_guidance names '{question_id}', which '{core.id}' does not ask")
            )
    known = set(core.questions_by_id) | set(supplement.questions_by_id)
    for question in supplement.questions_by_id.values():
        for action in question.actions.values():
            for needed, _level in action.requires:
                if needed not in known:
                    problems.append(Problem(filename, 1, f"requires names an unknown question '{needed}'"))
    for term, line in supplement.borrowed_terms.items():
        if term not in core.glossary:
            problems.append(
                Problem(filename, line, f"'[[{term}]]' is in neither this glossary nor '{core.id}''s: define it")
            )
    for question in supplement.questions_by_id.values():
        twin = _closest(question, core)
        if twin is not None:
            message = (
                f"question '{question.id}' repeats '{core.id}' question '{twin.id}' (\"{twin.text}\"): "
                "attach local guidance to it with local_guidance instead"
            )
            problems.append(Problem(filename, 1, message))
    problems.extend(_title_problems(supplement, core, filename))
    return problems


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _closest(question: Question, core: Questionnaire) -> Question | None:
    mine = _words(question.text)
    for other in core.questions_by_id.values():
        if SequenceMatcher(None, mine, _words(other.text)).ratio() >= DUPLICATE_SIMILARITY:
            return other
    return None


def _title_problems(questionnaire: Questionnaire, core: Questionnaire | None, filename: str) -> list[Problem]:
    """An action title names one thing to do: the plan must never hold two actions of the same name."""
    seen: dict[str, str] = {}
    if core is not None:
        seen = {a.title.casefold(): f"'{core.id}' question '{q.id}'" for q in core.questions_by_id.values()
                for a in q.actions.values()}  # fmt: skip
    problems = []
    for question in questionnaire.questions_by_id.values():
        for step, action in sorted(question.actions.items()):
            key = action.title.casefold()
            if key in seen:
                message = (
                    f"action {step} of question '{question.id}' has the title \"{action.title}\", "
                    f"already used by {seen[key]}"
                )
                problems.append(Problem(filename, 1, message))
            else:
                seen[key] = f"question '{question.id}'"
    return problems


def check_files(paths: list[Path], directory: Path) -> tuple[int, list[Problem]]:
    """Check the files given, as `questionnaires check FILE…` does: each on its own, and a supplement against its
    core (given alongside, or the shipped one). Returns how many passed and every problem."""
    loaded: dict[str, tuple[Questionnaire, Path]] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            questionnaire = load_file(path)
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
            continue
        loaded[questionnaire.id] = (questionnaire, path)
    passed = 0
    for questionnaire, path in loaded.values():
        if questionnaire.kind == "supplement":
            core = loaded[questionnaire.supplements][0] if questionnaire.supplements in loaded else None
            if core is None:
                core = next((q for q in _readable(directory) if q.id == questionnaire.supplements), None)
            found = supplement_problems(questionnaire, core, str(path))
        else:
            found = _title_problems(questionnaire, None, str(path))
        problems.extend(found)
        passed += not found
    return passed, problems


def _readable(directory: Path) -> list[Questionnaire]:
    found = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            found.append(load_file(path))
        except QuestionnaireError:
            continue
    return found

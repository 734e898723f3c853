"""Load and validate questionnaire YAML, reporting every problem as FILE:LINE: message."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .schema import LEVELS, STEPS, Action, Band, Domain, Question, Questionnaire

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Longest text each field may hold: what the database columns and generated plan titles have room for.
MAX_LENGTH = {"id": 80, "version": 40, "text": 250, "title": 150, "owner": 100, "name": 60}
KINDS = ("core", "supplement")

TOP_FIELDS = {
    "id": True, "version": True, "title": True, "kind": False, "supplements": False, "description": False,
    "bands": True, "max_actions_per_month": False, "domains": True,
}  # fmt: skip
DOMAIN_FIELDS = {
    "id": True, "title": True, "summary": False, "intro": False, "weight": False, "depends_on": False,
    "questions": True,
}  # fmt: skip
QUESTION_FIELDS = {
    "id": True, "text": True, "guidance": False, "weight": False, "depends_on": False, "levels": True,
    "actions": True,
}  # fmt: skip
ACTION_FIELDS = {"title": True, "description": True, "owner": True}
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


def parse_questionnaire(source: str, filename: str = "<questionnaire>") -> Questionnaire:
    """Parse and validate YAML text. Raises QuestionnaireError listing every problem found."""
    check = _Checker(filename)
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

    bands = _bands(check, data)
    max_per_month = int(check.number(data, "max_actions_per_month", "the questionnaire", 5, 1, 20))

    domain_ids: dict[str, int] = {}
    question_ids: dict[str, int] = {}
    domains: list[Domain] = []
    references: list[tuple[int, str, str]] = []  # (line, kind, id)
    raw_domains = data.get("domains")
    if raw_domains is not None and (not isinstance(raw_domains, list) or not raw_domains):
        check.add(data.key_lines["domains"], "'domains' must be a non-empty list")
        raw_domains = []
    for raw in raw_domains or []:
        domain = _domain(check, raw, data.key_lines.get("domains", 1), domain_ids, question_ids, references)
        if domain:
            domains.append(domain)

    for line, kind_of_ref, ref in references:
        known = domain_ids if kind_of_ref == "domain" else question_ids
        if ref not in known:
            check.add(line, f"depends_on names an unknown {kind_of_ref} '{ref}'")
    _check_cycles(check, domains, data.key_lines.get("domains", 1))

    if check.problems:
        raise QuestionnaireError(check.problems)
    return Questionnaire(
        id=str(data["id"]),
        version=str(data["version"]),
        title=str(data["title"]).strip(),
        kind=kind,
        description=str(data.get("description") or "").strip(),
        bands=bands,
        domains=tuple(domains),
        max_actions_per_month=max_per_month,
        supplements=supplements,
        content_hash=content_hash(source),
        source=source,
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


def _domain(check, raw, line, domain_ids, question_ids, references) -> Domain | None:
    if not check.fields(raw, DOMAIN_FIELDS, "a domain", line):
        return None
    domain_id = check.identifier(raw, "a domain", domain_ids)
    what = f"domain '{domain_id}'"
    depends = check.id_list(raw, "depends_on", what)
    references.extend((raw.key_lines["depends_on"], "domain", ref) for ref in depends)
    questions: list[Question] = []
    raw_questions = raw.get("questions")
    if raw_questions is not None and (not isinstance(raw_questions, list) or not raw_questions):
        check.add(raw.key_lines["questions"], f"'questions' in {what} must be a non-empty list")
        raw_questions = []
    for raw_q in raw_questions or []:
        question = _question(check, raw_q, raw.key_lines.get("questions", raw.line), domain_id, question_ids)
        if question:
            questions.append(question)
            if isinstance(raw_q, _Mapping) and "depends_on" in raw_q:
                references.extend((raw_q.key_lines["depends_on"], "question", ref) for ref in question.depends_on)
    return Domain(
        id=domain_id,
        title=check.text(raw, "title", what),
        summary=check.text(raw, "summary", what),
        intro=check.text(raw, "intro", what),
        weight=check.number(raw, "weight", what, 1, 0.1, 10),
        questions=tuple(questions),
        depends_on=depends,
    )


def _question(check, raw, line, domain_id, question_ids) -> Question | None:
    if not check.fields(raw, QUESTION_FIELDS, "a question", line):
        return None
    question_id = check.identifier(raw, "a question", question_ids)
    what = f"question '{question_id}'"
    levels: dict[int, str] = {}
    raw_levels = raw.get("levels")
    if raw_levels is not None:
        if not isinstance(raw_levels, _Mapping):
            check.add(raw.key_lines["levels"], f"'levels' in {what} must map 0 to 4 to descriptors")
        else:
            for key, value in raw_levels.items():
                if key not in LEVELS or isinstance(key, bool):
                    check.add(raw_levels.key_lines[key], f"level {key!r} in {what} is out of range: use 0 to 4")
                elif not isinstance(value, str) or not value.strip():
                    check.add(raw_levels.key_lines[key], f"level {key} in {what} needs a descriptor")
                else:
                    levels[key] = value.strip()
            missing = [str(level) for level in LEVELS if level not in raw_levels]
            if missing:
                check.add(raw_levels.line, f"{what} is missing level(s) {', '.join(missing)}")
    actions: dict[int, Action] = {}
    raw_actions = raw.get("actions")
    if raw_actions is not None:
        if not isinstance(raw_actions, _Mapping):
            check.add(raw.key_lines["actions"], f"'actions' in {what} must map steps 1 to 4 to actions")
        else:
            for key, value in raw_actions.items():
                if key not in STEPS or isinstance(key, bool):
                    check.add(raw_actions.key_lines[key], f"action step {key!r} in {what} is out of range: use 1 to 4")
                    continue
                action_what = f"action {key} of {what}"
                if check.fields(value, ACTION_FIELDS, action_what, raw_actions.key_lines[key]):
                    actions[key] = Action(
                        title=check.text(value, "title", action_what),
                        description=check.text(value, "description", action_what),
                        owner=check.text(value, "owner", action_what),
                    )
            missing = [str(step) for step in STEPS if step not in raw_actions]
            if missing:
                check.add(raw_actions.line, f"{what} is missing action(s) for step(s) {', '.join(missing)}")
    return Question(
        id=question_id,
        domain_id=domain_id,
        text=check.text(raw, "text", what),
        guidance=check.text(raw, "guidance", what),
        weight=check.number(raw, "weight", what, 1, 1, 5),
        levels=levels,
        actions=actions,
        depends_on=check.id_list(raw, "depends_on", what),
    )


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
        if questionnaire.supplements and questionnaire.supplements not in found:
            message = f"supplements unknown questionnaire '{questionnaire.supplements}'"
            problems.append(Problem(str(paths[key]), 1, message))
        elif questionnaire.supplements:
            # A supplement is answered in the same assessment as its core: its ids must not clash with the core's.
            core = found[questionnaire.supplements]
            for kind, mine, theirs in (
                ("domain", questionnaire.domains_by_id, core.domains_by_id),
                ("question", questionnaire.questions_by_id, core.questions_by_id),
            ):
                for clash in sorted(set(mine) & set(theirs)):
                    message = f"{kind} id '{clash}' is also used by '{core.id}', which this supplements: rename it"
                    problems.append(Problem(str(paths[key]), 1, message))
    if problems:
        raise QuestionnaireError(problems)
    return found

"""An ICB's PCN roster, read from the file NHS England's Organisation Data Service (ODS) publishes of PCNs and their
core member practices.

The file is the "PCN Core Partner Details" sheet of the monthly ePCN workbook saved as CSV, or the same report
(`epcncorepartnerdetails`) downloaded as CSV from ODS Data Search and Export, which comes without a header row. It
has one row for each practice's membership of a PCN:

    Partner Organisation Code, Partner Name, Practice Parent Sub ICB Location Code,
    Practice Parent Sub ICB Location Name, PCN Code, PCN Name, PCN Parent Sub ICB Location Code,
    PCN Parent Sub ICB Location Name, Practice to PCN Relationship Start Date,
    Practice to PCN Relationship End Date, Practice Sub ICB and PCN Sub ICB Match?

Only the PCN's code, name and parent sub-ICB location are used, and the end date to leave out practices that have
left (dates are YYYYMMDD as ODS publishes them; DD/MM/YYYY, as a spreadsheet may save them, is accepted too). Every
row is checked before anything changes: a file with any bad row imports nothing, and the problems say where they are.
An import adds PCNs, renames them and moves them between the ICB's sub-ICB locations; it never deletes one, so
importing the same file again changes nothing.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..models import Organisation, OrgKind, RosterUpload, User
from ..models.base import utcnow
from ..templating import UK, plural
from . import audit

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NAME = 200  # Organisation.name
UPLOADS_KEPT_FOR = timedelta(days=1)

PRACTICE_CODE = "Partner Organisation Code"
PCN_CODE = "PCN Code"
PCN_NAME = "PCN Name"
PCN_SUB_ICB = "PCN Parent Sub ICB Location Code"
PRACTICE_SUB_ICB = "Practice Parent Sub ICB Location Code"
END_DATE = "Practice to PCN Relationship End Date"
# The columns in the order ODS publishes them: a file without a header row is read in this order.
PUBLISHED_COLUMNS = (
    PRACTICE_CODE,
    "Partner Name",
    PRACTICE_SUB_ICB,
    "Practice Parent Sub ICB Location Name",
    PCN_CODE,
    PCN_NAME,
    PCN_SUB_ICB,
    "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship Start Date",
    END_DATE,
    "Practice Sub ICB and PCN Sub ICB Match?",
)

PCN_CODE_PATTERN = re.compile(r"U\d{5}")
SUB_ICB_CODE_PATTERN = re.compile(r"[A-Z0-9]{3}")
ICB_CODE_PATTERN = re.compile(r"[A-Z0-9]{3}")

# Names are published in capitals. These stay in capitals; the small words are lower case except at the start.
ACRONYMS = {"PCN", "NHS", "ICB", "ICS", "GP", "CCG", "UK", "CIC", "LLP", "NE", "NW", "SE", "SW", "II", "III", "IV"}
SMALL_WORDS = {"and", "of", "the", "in", "on", "at", "upon", "by", "for", "with", "to"}
# Only between hyphens, as in Chester-le-Street, Ashby-de-la-Zouch or Ashton-under-Lyne.
HYPHENATED_SMALL_WORDS = SMALL_WORDS | {"le", "la", "de", "under"}
APOSTROPHES = "'\u2019"


class UnreadableFile(Exception):
    """The file cannot be read as a CSV at all (empty, too large, binary, not UTF-8); the message says why."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class ImportClash(Exception):
    """Someone else changed the same organisations at the same moment; nothing was imported."""


class RosterProblems(Exception):
    """Rows of the file that cannot be imported. Nothing has been changed."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the roster file")
        self.problems = problems


@dataclass(frozen=True)
class NewPcn:
    code: str
    name: str
    sub_icb: str  # code


@dataclass(frozen=True)
class Rename:
    code: str
    old_name: str
    new_name: str


@dataclass(frozen=True)
class Move:
    code: str
    name: str
    old_sub_icb: str | None  # code, or None when it had none
    new_sub_icb: str


@dataclass
class Plan:
    """What importing the file would change for one ICB."""

    icb_id: int
    additions: list[NewPcn] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    unchanged: int = 0
    not_in_file: list[Organisation] = field(default_factory=list)  # kept as they are: an import never deletes
    memberships: int = 0  # current practice memberships read
    ended: int = 0  # memberships left out because they have ended
    headerless: bool = False
    sub_icb_names: dict[str, str] = field(default_factory=dict)
    _sub_icb_ids: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def changes(self) -> int:
        return len(self.additions) + len(self.renames) + len(self.moves)

    @property
    def pcn_count(self) -> int:
        """How many PCNs the file lists."""
        return len(self.additions) + self.unchanged + len({c.code for c in [*self.renames, *self.moves]})

    def sub_icb_label(self, code: str | None) -> str:
        if code is None:
            return "none"
        return f"{self.sub_icb_names[code]} ({code})" if code in self.sub_icb_names else code

    def summary(self) -> str:
        """One sentence for a person: what changed (or will change)."""
        if not self.changes:
            return f"No changes: all {plural(self.unchanged, 'PCN')} in the file are already recorded as they are."
        parts = [
            f"{plural(len(self.additions), 'PCN')} added",
            f"{len(self.renames)} renamed",
            f"{len(self.moves)} moved to another sub-ICB location",
        ]
        return f"{', '.join(parts)}; {self.unchanged} unchanged."


# Reading the file ---------------------------------------------------------------------------------------------------


def read_upload(storage: FileStorage) -> bytes:
    """The uploaded file's bytes, refusing an empty file or one over the size limit."""
    data = storage.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile("The selected file must be 5 MB or smaller")
    if not data.strip():
        raise UnreadableFile("The selected file is empty")
    return data


def decode(data: bytes | str) -> str:
    """The file as text: UTF-8, with or without a byte order mark; anything else is refused with the reason."""
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        if data.startswith(b"PK\x03\x04"):
            raise UnreadableFile(
                "The selected file is an Excel workbook (or another zipped file), not a CSV file. Open the ePCN "
                "workbook, go to the PCN Core Partner Details sheet and save it as CSV UTF-8, then upload that"
            )
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise UnreadableFile(
                "The selected file is saved as UTF-16 (Unicode text). Save it as CSV UTF-8 and upload it again"
            )
        if b"\x00" in data:
            raise UnreadableFile("The selected file is not a CSV file: it holds binary data, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableFile(
                "The selected file is not saved as UTF-8 text. Save it as CSV UTF-8 (comma delimited) and upload "
                "it again"
            ) from None
    if "\x00" in text:
        raise UnreadableFile("The selected file is not a CSV file: it holds binary data, not text")
    if not text.strip():
        raise UnreadableFile("The selected file is empty")
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted cell may run over several lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise RosterProblems(
                [Problem(start, "(whole line)", "This line cannot be read as CSV: check for a quote mark left open")]
            ) from None
        yield start, row
        start = reader.line_num + 1


def _header_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return " ".join(row[index].split())


def parse_date(text: str) -> date | None:
    """A published date: YYYYMMDD (as ODS publishes), DD/MM/YYYY or YYYY-MM-DD; blank is None."""
    text = text.strip()
    if not text:
        return None
    for pattern, order in (
        (r"(\d{4})(\d{2})(\d{2})", "ymd"),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "dmy"),
        (r"(\d{4})-(\d{2})-(\d{2})(?:[ T][\d:.]+)?", "ymd"),
    ):
        if match := re.fullmatch(pattern, text):
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            return date(parts["y"], parts["m"], parts["d"])  # ValueError for a day that does not exist
    raise ValueError(text)


def _hidden_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


# Names --------------------------------------------------------------------------------------------------------------


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def _tidy_piece(piece: str, *, first: bool, between_hyphens: bool) -> str:
    match = re.fullmatch(r"([^\w]*)(.*?)([^\w]*)", piece)
    lead, core, trail = match.groups()
    if not core:
        return piece
    lower = core.lower()
    if core.upper() in ACRONYMS:
        core = core.upper()
    elif not first and not lead and (lower in SMALL_WORDS or (between_hyphens and lower in HYPHENATED_SMALL_WORDS)):
        core = lower
    elif any(mark in core for mark in APOSTROPHES):
        # ST JOHN'S -> St John's, O'BRIEN -> O'Brien: one letter after an apostrophe is an ending, more is a name.
        bits = re.split(f"([{APOSTROPHES}])", core)
        tidied = [bits[0].upper() if bits[0].upper() in ACRONYMS else _capitalise(bits[0])]
        for mark, bit in zip(bits[1::2], bits[2::2], strict=True):
            tidied.append(mark + (bit.lower() if len(bit) <= 1 else _capitalise(bit)))
        core = "".join(tidied)
    else:
        core = _capitalise(core)
    return lead + core + trail


def tidy_name(raw: str) -> str:
    """A name published in capitals, as people write it ("RIVERSIDE AND COAST PCN" -> "Riverside and Coast PCN").

    A name that already has lower-case letters was written by a person and is left as it is (spaces aside).
    """
    name = " ".join(raw.split())
    if any(ch.islower() for ch in name):
        return name
    words = []
    for index, word in enumerate(name.split(" ")):
        pieces = re.split(r"([-/])", word)
        tidied = []
        for position in range(0, len(pieces), 2):
            between = 0 < position < len(pieces) - 1 and pieces[position - 1] == "-" and pieces[position + 1] == "-"
            tidied.append(_tidy_piece(pieces[position], first=index == 0 and position == 0, between_hyphens=between))
            if position + 1 < len(pieces):
                tidied.append(pieces[position + 1])
        words.append("".join(tidied))
    return " ".join(words)


# Checking a file against the database -------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(UK).date()


def sub_icbs_of(icb_id: int) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrgKind.SUB_ICB, Organisation.area_id == icb_id)
            .order_by(Organisation.ods_code)
        )
    )


def pcns_of(icb_id: int) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrgKind.PCN, Organisation.area_id == icb_id)
            .order_by(Organisation.name)
        )
    )


def _organisations_with_codes(codes: Iterable[str]) -> dict[str, Organisation]:
    codes = sorted(set(codes))
    found: dict[str, Organisation] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for org in db.session.scalars(select(Organisation).where(Organisation.ods_code.in_(chunk))):
            found[org.ods_code] = org
    return found


@dataclass
class _Seen:
    """A PCN as first given in the file: its name and sub-ICB location, and the lines they came from."""

    name: str
    name_line: int
    sub_icb: str | None
    sub_icb_line: int
    in_capitals: bool  # as ODS publishes names: then a different capitalisation is not a rename


def _columns(header: list[str], line: int) -> tuple[dict[str, int], list[Problem]]:
    """Where each published column is (matched ignoring case and spacing), and a problem for each one missing."""
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        message = "The columns are separated by semicolons or tabs: save the sheet as CSV UTF-8 (comma delimited)"
        return {}, [Problem(line, "(whole line)", message)]
    positions: dict[str, int] = {}
    wanted = {_header_key(name): name for name in PUBLISHED_COLUMNS}
    for index, cell in enumerate(header):
        name = wanted.get(_header_key(cell))
        if name and name not in positions:
            positions[name] = index
    missing = [name for name in (PCN_CODE, PCN_NAME) if name not in positions]
    if PCN_SUB_ICB not in positions and PRACTICE_SUB_ICB not in positions:
        missing.append(PCN_SUB_ICB)
    message = (
        "The file has no “{}” column. Use the header row NHS England publishes in the ePCN file "
        "(PCN Core Partner Details)"
    )
    return positions, [Problem(line, name, message.format(name)) for name in missing]


def _looks_like_published_data(row: list[str]) -> bool:
    """A first row that is already a membership in the published column order: the ODS download has no header."""
    return len(row) >= len(PUBLISHED_COLUMNS) - 1 and bool(
        PCN_CODE_PATTERN.fullmatch(_cell(row, PUBLISHED_COLUMNS.index(PCN_CODE)).upper())
    )


class _Checker:
    """Checks the rows of one file for one ICB, collecting every problem and each PCN as the file gives it."""

    def __init__(self, icb: Organisation, positions: dict[str, int], on: date):
        self.icb = icb
        self.on = on
        self.sub_icbs = {org.ods_code: org for org in sub_icbs_of(icb.id)}
        self.sub_icb_column = PCN_SUB_ICB if PCN_SUB_ICB in positions else PRACTICE_SUB_ICB
        self.code_at, self.name_at = positions[PCN_CODE], positions[PCN_NAME]
        self.sub_icb_at, self.end_at = positions[self.sub_icb_column], positions.get(END_DATE)
        self.problems: list[Problem] = []
        self.seen: dict[str, _Seen] = {}
        self.memberships = 0
        self.ended = 0

    def problem(self, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(line, column, message))

    def row(self, line: int, row: list[str]) -> None:
        if not any(cell.strip() for cell in row) or self._has_ended(line, _cell(row, self.end_at)):
            return
        self.memberships += 1
        code = self._code(line, _cell(row, self.code_at).upper())
        raw_name = _cell(row, self.name_at)
        name = self._name(line, raw_name)
        sub_icb = self._sub_icb(line, _cell(row, self.sub_icb_at).upper())
        if code:
            self._compare(line, code, name, sub_icb, in_capitals=not any(ch.islower() for ch in raw_name))

    def _has_ended(self, line: int, text: str) -> bool:
        try:
            ended_on = parse_date(text)
        except ValueError:
            self.problem(line, END_DATE, f"“{text}” is not a date: use YYYYMMDD (such as 20250401) or DD/MM/YYYY")
            return False
        if ended_on is not None and ended_on <= self.on:
            self.ended += 1
            return True
        return False

    def _code(self, line: int, code: str) -> str:
        if not code:
            self.problem(line, PCN_CODE, "The PCN code is missing")
        elif not PCN_CODE_PATTERN.fullmatch(code):
            self.problem(line, PCN_CODE, f"“{code}” is not a PCN code: a PCN code is U and 5 digits, such as U12345")
            return ""
        return code

    def _name(self, line: int, raw: str) -> str:
        name = tidy_name(raw)
        if not name:
            self.problem(line, PCN_NAME, "The PCN name is missing")
        elif _hidden_characters(name):
            self.problem(line, PCN_NAME, "The PCN name has a hidden character (such as a tab or NUL)")
            return ""
        elif len(name) > MAX_NAME:
            self.problem(line, PCN_NAME, f"The PCN name must be {MAX_NAME} characters or fewer")
            return ""
        return name

    def _sub_icb(self, line: int, code: str) -> str:
        column = self.sub_icb_column
        if not code:
            self.problem(line, column, "The sub-ICB location code is missing")
        elif not SUB_ICB_CODE_PATTERN.fullmatch(code):
            self.problem(
                line, column, f"“{code}” is not a sub-ICB location code: these are 3 letters or digits, such as 91Q"
            )
            return ""
        elif code not in self.sub_icbs:
            known = ", ".join(self.sub_icbs) or "none are recorded yet"
            self.problem(
                line,
                column,
                f"Sub-ICB location {code} is not one of {self.icb.name}'s ({known}). Keep only the rows for your "
                "ICB's area, or ask an administrator to add this sub-ICB location",
            )
        return code

    def _compare(self, line: int, code: str, name: str, sub_icb: str, *, in_capitals: bool) -> None:
        """A PCN given on several rows (one for each member practice) must have one name and one sub-ICB location."""
        earlier = self.seen.get(code)
        if earlier is None:
            self.seen[code] = _Seen(name, line, sub_icb or None, line, in_capitals)
            return
        if name and not earlier.name:
            earlier.name, earlier.name_line, earlier.in_capitals = name, line, in_capitals
        elif name and name.casefold() != earlier.name.casefold():
            self.problem(
                line, PCN_NAME, f"PCN {code} is called “{name}” here but “{earlier.name}” on line {earlier.name_line}"
            )
        if sub_icb and earlier.sub_icb is None:
            earlier.sub_icb, earlier.sub_icb_line = sub_icb, line
        elif sub_icb and sub_icb != earlier.sub_icb:
            self.problem(
                line,
                self.sub_icb_column,
                f"PCN {code} is under sub-ICB location {sub_icb} here but under {earlier.sub_icb} on line "
                f"{earlier.sub_icb_line}: a PCN has one sub-ICB location",
            )

    def check_existing(self) -> dict[str, Organisation]:
        """The organisations already recorded with the file's PCN codes; a problem for any outside this ICB."""
        existing = _organisations_with_codes(self.seen)
        for code, entry in self.seen.items():
            org = existing.get(code)
            if org is not None and org.kind != OrgKind.PCN:
                self.problem(entry.name_line, PCN_CODE, f"{code} is already the code of {org.name}, which is not a PCN")
            elif org is not None and org.area_id != self.icb.id:
                self.problem(
                    entry.name_line,
                    PCN_CODE,
                    f"PCN {code} is recorded in another ICB's area, so it cannot be imported for {self.icb.name}. "
                    "Keep only the rows for your ICB's area",
                )
        return existing

    def plan(self, existing: dict[str, Organisation], plan: Plan) -> Plan:
        plan.sub_icb_names = {code: org.name for code, org in self.sub_icbs.items()}
        plan._sub_icb_ids = {code: org.id for code, org in self.sub_icbs.items()}
        plan.memberships, plan.ended = self.memberships, self.ended
        for code, entry in self.seen.items():
            org = existing.get(code)
            if org is None:
                plan.additions.append(NewPcn(code, entry.name, entry.sub_icb))
                continue
            renamed = entry.name != org.name and not (
                entry.in_capitals and entry.name.casefold() == org.name.casefold()
            )
            if renamed:
                plan.renames.append(Rename(code, org.name, entry.name))
            moved = org.parent_id != self.sub_icbs[entry.sub_icb].id
            if moved:
                plan.moves.append(Move(code, org.name, org.parent.ods_code if org.parent else None, entry.sub_icb))
            plan.unchanged += not (renamed or moved)
        plan.not_in_file = [org for org in pcns_of(self.icb.id) if org.ods_code not in self.seen]
        return plan


def check(content: bytes | str, icb: Organisation, *, on: date | None = None) -> Plan:
    """Check every row of a roster file for this ICB and work out what importing it would change.

    Raises UnreadableFile if it is not a readable CSV at all, or RosterProblems listing every bad row.
    """
    records = _records(decode(content))
    header_line, header = next(((n, row) for n, row in records if any(c.strip() for c in row)), (1, []))
    plan = Plan(icb_id=icb.id, headerless=_looks_like_published_data(header))
    if plan.headerless:
        positions = {name: index for index, name in enumerate(PUBLISHED_COLUMNS)}
        rows: Iterable[tuple[int, list[str]]] = [(header_line, header), *records]
    else:
        positions, problems = _columns(header, header_line)
        if problems:
            raise RosterProblems(problems)
        rows = records
    checker = _Checker(icb, positions, on or today())
    for line, row in rows:
        checker.row(line, row)
    if not checker.seen and not checker.problems and not checker.ended:
        checker.problem(header_line, PCN_CODE, "The file has no PCNs in it: only a header row")
    existing = checker.check_existing()
    if checker.problems:
        raise RosterProblems(sorted(checker.problems, key=lambda p: p.line))
    return checker.plan(existing, plan)


# Changing the database ----------------------------------------------------------------------------------------------


def apply(plan: Plan) -> None:
    """Make the plan's changes in the current transaction (the caller commits). Never deletes a PCN."""
    for new in plan.additions:
        db.session.add(
            Organisation(
                name=new.name,
                kind=OrgKind.PCN,
                ods_code=new.code,
                area_id=plan.icb_id,
                parent_id=plan._sub_icb_ids[new.sub_icb],
            )
        )
    existing = _organisations_with_codes([r.code for r in plan.renames] + [m.code for m in plan.moves])
    for rename in plan.renames:
        existing[rename.code].name = rename.new_name
    for move in plan.moves:
        existing[move.code].parent_id = plan._sub_icb_ids[move.new_sub_icb]
    db.session.flush()


def _audit_summary(plan: Plan, source: str) -> str:
    details = []
    if plan.additions:
        details.append("added " + ", ".join(f"{p.code} {p.name}" for p in plan.additions))
    if plan.renames:
        details.append("renamed " + ", ".join(f"{r.code} from {r.old_name} to {r.new_name}" for r in plan.renames))
    if plan.moves:
        details.append("moved " + ", ".join(f"{m.code} to {m.new_sub_icb}" for m in plan.moves))
    return f"PCN roster imported from {source}: {plan.summary()}" + (f" ({'; '.join(details)})" if details else "")


def import_roster(
    content: bytes | str,
    icb: Organisation,
    *,
    source: str,
    user: User | None = None,
    on: date | None = None,
    upload: RosterUpload | None = None,
) -> Plan:
    """Check the file against the database as it is now, apply it and record it in the audit log, in one commit.

    Raises UnreadableFile or RosterProblems (and changes nothing) if the file cannot be imported.
    """
    plan = check(content, icb, on=on)
    apply(plan)
    audit.record("roster_imported", _audit_summary(plan, source), area_id=icb.id, user=user)
    if upload is not None:
        db.session.delete(upload)
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):  # a PCN added, or the upload confirmed, by another request just now
        db.session.rollback()
        raise ImportClash(
            "These PCNs were changed by someone else at the same moment, so nothing was imported"
        ) from None
    return plan


# Uploads waiting for confirmation -----------------------------------------------------------------------------------


def _display_filename(filename: str | None) -> str:
    name = re.split(r"[/\\]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cc").strip()
    return name[:200] or "the uploaded file"


def store_upload(storage: FileStorage, icb: Organisation, user: User) -> RosterUpload:
    """Check an uploaded file and keep it until its uploader confirms the import.

    Raises UnreadableFile or RosterProblems, storing nothing, if it cannot be imported as it is. Uploads left
    unconfirmed for over a day are removed.
    """
    text = decode(read_upload(storage))
    check(text, icb)
    db.session.execute(delete(RosterUpload).where(RosterUpload.created_at < utcnow() - UPLOADS_KEPT_FOR))
    upload = RosterUpload(user_id=user.id, icb_id=icb.id, filename=_display_filename(storage.filename), content=text)
    db.session.add(upload)
    db.session.commit()
    return upload


def upload_belongs_to(upload: RosterUpload, user: User, icb_id: int) -> bool:
    """An upload is its uploader's alone, and only while they work for the same ICB."""
    return upload.user_id == user.id and upload.icb_id == icb_id


def get_upload(upload_id: int) -> RosterUpload | None:
    return db.session.get(RosterUpload, upload_id)


def confirm_upload(upload: RosterUpload, icb: Organisation, user: User) -> Plan:
    """Import a confirmed upload, re-checked against the database as it is now; the upload goes in the same commit."""
    return import_roster(upload.content, icb, source=upload.filename, user=user, upload=upload)


# Sub-ICB locations --------------------------------------------------------------------------------------------------


def add_sub_icb(icb_code: str, code: str, name: str) -> tuple[Organisation, str]:
    """Register a sub-ICB location of an ICB, or rename it if it is already registered there.

    Returns the location and "added", "renamed" or "unchanged". Raises ValueError with a message for a person.
    """
    code, name = code.strip().upper(), " ".join(name.split())
    icb = icb_by_code(icb_code)
    if icb is None:
        raise ValueError(f"There is no ICB with the code {icb_code.strip()}.")
    if not SUB_ICB_CODE_PATTERN.fullmatch(code):
        raise ValueError(f"“{code}” is not a sub-ICB location code: use 3 letters or digits, such as 91Q.")
    if not name or _hidden_characters(name) or len(name) > MAX_NAME:
        raise ValueError(f"Give the sub-ICB location a name of 1 to {MAX_NAME} characters, without hidden characters.")
    found = db.session.scalar(select(Organisation).where(Organisation.ods_code == code))
    if found is not None and (found.kind != OrgKind.SUB_ICB or found.area_id != icb.id):
        raise ValueError(f"The code {code} is already used by {found.name}.")
    if found is not None and found.name == name:
        return found, "unchanged"
    if found is not None:
        audit.record("sub_icb_renamed", f"Sub-ICB location {code} renamed from {found.name} to {name}", area_id=icb.id)
        found.name = name
        db.session.commit()
        return found, "renamed"
    location = Organisation(name=name, kind=OrgKind.SUB_ICB, ods_code=code, area_id=icb.id)
    db.session.add(location)
    audit.record("sub_icb_added", f"Sub-ICB location {code} {name} added to {icb.name}", area_id=icb.id)
    db.session.commit()
    return location, "added"


def icb_by_code(icb_code: str) -> Organisation | None:
    icb_code = icb_code.strip().upper()
    if not ICB_CODE_PATTERN.fullmatch(icb_code):
        return None
    icb = db.session.scalar(select(Organisation).where(Organisation.ods_code == icb_code))
    return icb if icb is not None and icb.kind == OrgKind.ICB else None

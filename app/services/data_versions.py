"""Counters that change whenever the data behind a group of pages may have changed.

The page cache (app/page_cache.py) keeps a rendered page under the counters of the scopes its viewer's pages depend
on, and serves it again only while none of them has moved. Every transaction that writes counts itself, in the same
transaction, so a reader never sees a change without its count.

Scopes, and what bumps them:
- "all": every change to anything a page shows. Administrators' pages depend on this alone.
- "epoch": every change to organisations, accounts, LMC coverage, rounds, letters, questionnaires and anything else
  not listed in PCN_TABLES or PEER_TABLES; and every change at all made by anyone but a signed-in PCN user or ICB
  lead or a job acting for one PCN (administrators, LMC officers, other jobs, the command line). Every page depends
  on it.
- "org:<id>": changes to the tables in PCN_TABLES (a PCN's assessments, answers, plans, stored reports, invitations
  and the audit trail) made by a signed-in user of that organisation: a PCN's users, or an ICB's lead.
- "area:<icb id>": the same changes made by the users of any PCN in that ICB's area.
- "peers": a PCN's submitted returns (PEER_TABLES), when submitted or reopened by its own users or ICB lead, or
  written by a job acting for that PCN (`acting_for`); these also bump the writer's scopes above.

Whose pages depend on what:
- a PCN user: epoch, their PCN, their ICB (its lead's changes; not the other PCNs'); and on the results and web
  report pages, which show peer figures from every PCN's returns, peers;
- an ICB lead: epoch, their ICB, their ICB's area;
- an LMC officer: epoch, their LMC, and the ICB and area of each ICB holding a sub-ICB location it covers;
- an administrator: all.

Why that is enough: a PCN user can change only their own PCN's rows in PCN_TABLES and PEER_TABLES (every route
checks), and those rows are shown only to that PCN, its ICB's lead, LMC officers covering that ICB and
administrators; a submitted return is also shown, as peer figures, on other PCNs' results and web report pages,
which depend on peers. An ICB lead can change such rows only for PCNs in their own ICB, whose pages depend on the
ICB's scope. Everything else moves the epoch, which every page depends on. A table that is never shown on a kept
page (sessions, kept input, jobs) bumps nothing. Anything that cannot be told apart (a raw SQL write) moves the
epoch.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import chain

from flask import g, has_request_context
from sqlalchemy import String, TextClause, case, cast, event, func, inspect, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from ..models import DataVersion, Organisation, OrgKind, Role, User, lmc_coverage

ALL = "all"
EPOCH = "epoch"
PCN_TABLES = frozenset(
    {"assessment", "answer", "domain_progress", "plan_action", "stored_report", "invitation", "audit_event"}
)
# A PCN's submitted returns: also shown, as peer figures, on every PCN's results and web report pages.
PEER_TABLES = frozenset({"submission", "submission_answer", "submission_domain_score"})
PEERS = "peers"
# Shown on no kept page: the account page (sessions, API tokens) and the job pages are never kept.
UNSEEN_TABLES = frozenset({"data_version", "user_session", "pending_input", "background_job", "api_token"})
PCN_ROLES = (Role.CLINICAL_DIRECTOR, Role.PCN_MEMBER)
_WRITTEN = "data_versions.written"


def org(org_id: int | None) -> str:
    return f"org:{org_id}"


def area(icb_id: int | None) -> str:
    return f"area:{icb_id}"


# --- Which scopes a change bumps ---------------------------------------------------------------------------------


def writer_scopes(user: User | None) -> list[str] | None:
    """The scopes a change to PCN_TABLES by this user bumps; None if it must move the epoch."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    organisation = user.organisation
    if user.role in PCN_ROLES and organisation.kind == OrgKind.PCN:
        return [org(organisation.id), area(organisation.area_id)]
    if user.role == Role.ICB_LEAD and organisation.kind == OrgKind.ICB:
        return [org(organisation.id)]
    return None


def scopes_for(tables: Iterable[str], writer: list[str] | None) -> set[str]:
    """What a transaction that wrote these tables bumps, given its writer's scopes (None: not a PCN user or ICB
    lead)."""
    seen = set(tables) - UNSEEN_TABLES
    if not seen:
        return set()
    if seen <= PCN_TABLES | PEER_TABLES and writer:
        return {ALL, *writer, PEERS} if seen & PEER_TABLES else {ALL, *writer}
    return {ALL, EPOCH}


_acting_for: ContextVar[list[str] | None] = ContextVar("data_versions_acting_for", default=None)


@contextmanager
def acting_for(pcn: Organisation):
    """Changes made inside count as the PCN's own (a background job's work on one PCN's return), not as the epoch."""
    token = _acting_for.set([org(pcn.id), area(pcn.area_id)])
    try:
        yield
    finally:
        _acting_for.reset(token)


def _writer() -> list[str] | None:
    acting = _acting_for.get()
    if acting is not None:
        return acting
    if not has_request_context():
        return None
    return writer_scopes(g.get("_login_user"))  # the user Flask-Login loaded for this request, if any


def bump(session: Session, scopes: Iterable[str]) -> None:
    """Add one to each scope's counter, creating it at 1, in the session's transaction."""
    ordered = sorted(set(scopes))  # the same order in every transaction, so two writers cannot deadlock
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(DataVersion).values([{"scope": scope, "version": 1} for scope in ordered])
    session.execute(
        statement.on_conflict_do_update(index_elements=["scope"], set_={"version": DataVersion.version + 1})
    )


# --- Noticing changes --------------------------------------------------------------------------------------------


def _written(session: Session) -> set[str]:
    return session.info.setdefault(_WRITTEN, set())


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context) -> None:
    tables = _written(session)
    for instance in chain(session.new, session.deleted):
        tables.add(inspect(instance).mapper.local_table.name)
    for instance in session.dirty:
        if session.is_modified(instance):
            tables.add(inspect(instance).mapper.local_table.name)


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        if name != DataVersion.__tablename__:
            _written(state.session).add(name or "?")
    elif isinstance(statement, TextClause) and str(statement).lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        _written(state.session).add("?")  # cannot tell which rows: the epoch moves


def uncommitted_writes(session: Session) -> bool:
    """Whether this session holds changes not yet committed (and so not yet counted)."""
    return bool(session.info.get(_WRITTEN) or session.new or session.deleted or session.dirty)


@event.listens_for(Session, "before_commit")
def _count_changes(session: Session) -> None:
    session.flush()  # commit flushes after this hook; what it would flush must be counted too
    tables = session.info.pop(_WRITTEN, None)
    if tables:
        scopes = scopes_for(tables, _writer())
        if scopes:
            bump(session, scopes)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction is over: committed (and counted) or rolled back
        session.info.pop(_WRITTEN, None)


# --- Which scopes a viewer's pages depend on ---------------------------------------------------------------------
#
# A request for a kept page reads its session, its user and every counter any viewer might need in one statement
# (app/queries/sessions.py, GLANCE), as the columns below, and `pick` chooses the ones this viewer's pages depend on.

OWNER = aliased(Organisation, name="owner")  # the user's organisation, joined to name its ICB


def _counter(scope):
    return select(DataVersion.version).where(DataVersion.scope == scope).scalar_subquery()


def _covered(prefix: str):
    """The scopes, under this prefix, of each ICB holding a sub-ICB location the user's LMC covers."""
    return (
        select(literal(prefix) + cast(Organisation.area_id, String))
        .join(lmc_coverage, lmc_coverage.c.sub_icb_id == Organisation.id)
        .where(lmc_coverage.c.lmc_id == OWNER.id)
        .correlate(OWNER)
    )


# Counters only ever grow, so their sum grows whenever any of them does: one figure for all of an LMC's ICBs. Read
# for LMC officers only (CASE is evaluated lazily, so no one else pays for it).
_COVERED = case(
    (
        OWNER.kind == OrgKind.LMC,
        select(func.coalesce(func.sum(DataVersion.version), 0))
        .where(or_(DataVersion.scope.in_(_covered("org:")), DataVersion.scope.in_(_covered("area:"))))
        .correlate(OWNER)
        .scalar_subquery(),
    ),
    else_=0,
)

COUNTERS = (
    _counter(literal(EPOCH)).label("epoch"),
    _counter(literal(ALL)).label("all"),
    _counter(literal("org:") + cast(User.organisation_id, String)).label("own"),
    _counter(literal("org:") + cast(OWNER.area_id, String)).label("icb"),
    _counter(literal("area:") + cast(User.organisation_id, String)).label("area"),
    _counter(literal(PEERS)).label("peers"),
    _COVERED.label("covered"),
)
_READ = select(*COUNTERS).select_from(User).join(OWNER, OWNER.id == User.organisation_id)


# The PCN pages that show peer figures: every PCN's submitted returns, in its ICB and in England.
PEER_PAGES = frozenset({"assessments.results", "reports.report"})


def pick(role: str, kind: str, counters, endpoint: str | None = None) -> tuple | None:
    """From the counters, those of the scopes the pages of a user with this role, in an organisation of this kind,
    depend on (see the top of this module), as a key; None if their pages are not kept. The epoch, in every key but
    an administrator's, moves with any change to roles, organisations or LMC coverage, so a key never outlives the
    scopes it was read for."""
    if role in PCN_ROLES and kind == OrgKind.PCN:
        return ("pcn", counters.epoch, counters.own, counters.icb, counters.peers if endpoint in PEER_PAGES else 0)
    if role == Role.ICB_LEAD and kind == OrgKind.ICB:
        return ("icb", counters.epoch, counters.own, counters.area)
    if role == Role.LMC_OFFICER and kind == OrgKind.LMC:
        return ("lmc", counters.epoch, counters.own, counters.covered)
    if role == Role.ADMIN and kind == OrgKind.ADMIN:
        return ("admin", counters.all)
    return None


def viewer_versions(session: Session, user: User, endpoint: str | None = None) -> tuple | None:
    """`pick` for this user, reading the counters on their own."""
    counters = session.execute(_READ.where(User.id == user.id)).one()
    return pick(user.role, user.organisation.kind, counters, endpoint)

"""Object-level access, generated from the url map: every route that names an object, for every role.

Each route that takes an id or names an object is tried by every role and by a user of another PCN and of
another ICB, on an assessment of Riverside PCN: completed with its plan, and still a draft. A route added without a
rule, or with a rule or a URL argument this matrix does not know, fails the test until someone says here what
each role should get.
"""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.access import ALL_ROLES, PCN_ROLES
from app.extensions import db
from app.models import (
    Answer,
    Assessment,
    AuditEvent,
    BackgroundJob,
    DomainProgress,
    Invitation,
    PendingInput,
    PlanAction,
    ReturnRound,
    Role,
    RosterUpload,
    Submission,
    User,
)
from app.queries.organisations import get_organisation_by_code
from app.queries.users import get_user_by_email
from app.questionnaires import registry
from app.services import rounds
from tests.conftest import _client_for
from tests.helpers import core

# Who tries, and which account they use (None: signed out).
PEOPLE = {
    "owner (clinical director)": "cd@example.org",
    "owner (PCN member)": "manager@example.org",
    "another PCN, same ICB": "cd2@example.org",
    "a PCN in another ICB": "cd4@example.org",
    "ICB lead": "icb@example.org",
    "another ICB's lead": "icb2@example.org",
    "LMC officer": "lmc@example.org",
    "administrator": "admin@example.org",
    "signed out": None,
}
OWNERS = {"owner (clinical director)", "owner (PCN member)"}

# For each kind of rule: what each person gets on another PCN's object. "ok" is any answer that serves the page
# or moves on within it (not 403, not 404, not a sign-in redirect, not a 500).
EXPECTED = {
    tuple(PCN_ROLES): {
        "owner (clinical director)": "ok",
        "owner (PCN member)": "ok",
        "another PCN, same ICB": 404,
        "a PCN in another ICB": 404,
        "ICB lead": 403,
        "another ICB's lead": 403,
        "LMC officer": 403,
        "administrator": 403,
        "signed out": "sign-in",
    },
}

# Routes of one ICB's round and its returns: its own ICB lead only; another ICB's lead cannot find them.
EXPECTED[(Role.ICB_LEAD,)] = {
    "owner (clinical director)": 403,
    "owner (PCN member)": 403,
    "another PCN, same ICB": 403,
    "a PCN in another ICB": 403,
    "ICB lead": "ok",
    "another ICB's lead": 404,
    "LMC officer": 403,
    "administrator": 403,
    "signed out": "sign-in",
}

# A PCN's members, managed by its clinical director: another PCN cannot find them; other roles are refused.
EXPECTED[(Role.CLINICAL_DIRECTOR,)] = {
    "owner (clinical director)": "ok",
    "owner (PCN member)": 403,
    "another PCN, same ICB": 404,
    "a PCN in another ICB": 404,
    "ICB lead": 403,
    "another ICB's lead": 403,
    "LMC officer": 403,
    "administrator": 403,
    "signed out": "sign-in",
}
# Withdrawing an invitation to Riverside that its clinical director sent: whoever could have sent it.
EXPECTED[(Role.CLINICAL_DIRECTOR, Role.ICB_LEAD, Role.ADMIN)] = {
    "owner (clinical director)": "ok",
    "owner (PCN member)": 403,
    "another PCN, same ICB": 404,
    "a PCN in another ICB": 404,
    "ICB lead": "ok",
    "another ICB's lead": 404,
    "LMC officer": 403,
    "administrator": "ok",
    "signed out": "sign-in",
}
# A background job about Riverside's return that its clinical director asked for: the requester and the round's
# ICB lead; nobody else can find it.
EXPECTED[(Role.ICB_LEAD, Role.ADMIN, Role.CLINICAL_DIRECTOR, Role.PCN_MEMBER)] = {
    "owner (clinical director)": "ok",
    "owner (PCN member)": 404,
    "another PCN, same ICB": 404,
    "a PCN in another ICB": 404,
    "ICB lead": "ok",
    "another ICB's lead": 404,
    "LMC officer": 403,
    "administrator": 404,
    "signed out": "sign-in",
}
# Benchmarks of a round: its own ICB lead, and an LMC officer covering a PCN in it (the demo LMC covers Riverside's
# sub-ICB location); another ICB's lead cannot find it; everyone else is refused.
EXPECTED[(Role.ICB_LEAD, Role.LMC_OFFICER)] = {
    "owner (clinical director)": 403,
    "owner (PCN member)": 403,
    "another PCN, same ICB": 403,
    "a PCN in another ICB": 403,
    "ICB lead": "ok",
    "another ICB's lead": 404,
    "LMC officer": "ok",
    "administrator": 403,
    "signed out": "sign-in",
}
# The service's own settings (which questionnaires are offered): administrators only.
EXPECTED[(Role.ADMIN,)] = {person: 403 for person in PEOPLE} | {"administrator": "ok", "signed out": "sign-in"}

EXPECTED_BY_ROLES = {frozenset(rule): outcome for rule, outcome in EXPECTED.items()}

# Files anyone may fetch (the design system and our CSS): their URL names a file, not anyone's object.
PUBLIC_FILES = {"static", "main.assets", "main.frontend"}
# The URL arguments this matrix knows how to fill in.
ARGUMENTS = {
    "assessment_id",
    "action_id",
    "domain_id",
    "round_id",
    "submission_id",
    "upload_id",
    "user_id",
    "invitation_id",
    "job_id",
}


@pytest.fixture(params=["completed, with a plan, submitted", "a draft in progress"])
def riverside(request, app, cd_client):
    """Riverside PCN's return for a Demo ICB round (Riverside alone in scope): completed with its plan and submitted,
    or still a draft. Values for every URL argument."""
    from app.services import assessments
    from app.services.scoring import AnswerValue

    with app.app_context():
        icb, lead = get_organisation_by_code("QDM"), get_user_by_email("icb@example.org")
        cd = get_user_by_email("cd@example.org")
        pcn = get_organisation_by_code("U00001")
        round_ = rounds.create_round(
            icb,
            lead,
            title="Matrix round",
            core=registry().get("neighbourhood-readiness"),
            supplement=None,
            opens_on=rounds.today(),
            closes_on=rounds.today() + timedelta(days=10),
            pcn_ids=[pcn.id],
        )
        assessment = rounds.start_return(round_, pcn, cd)
        submission_id = 1  # a draft has no submission: any id must still be refused
        if request.param.startswith("completed"):
            questionnaire = assessments.questionnaire_for(assessment)
            for domain in questionnaire.domains:
                values = {q.id: AnswerValue(1, 3) for q in domain.questions}
                assessments.save_domain(assessment, domain, values, 0, cd)
            assessments.complete_assessment(assessment)
            submission_id = rounds.submit(assessment, cd, declared=True).id
        action = db.session.scalar(select(PlanAction).where(PlanAction.assessment_id == assessment.id))
        upload = RosterUpload(user_id=lead.id, icb_id=icb.id, filename="roster.csv", content="PCN Code,PCN Name\n")
        invitation = Invitation(
            token_hash=secrets.token_hex(32),
            email="new.colleague@example.org",
            name="New Colleague",
            role=Role.PCN_MEMBER,
            organisation_id=pcn.id,
            invited_by_id=cd.id,
            expires_at=datetime.now(UTC) + timedelta(days=7),
        )
        job = BackgroundJob(kind="submission_pdf", status="done", round_id=round_.id, requested_by_id=cd.id)
        db.session.add_all([upload, invitation, job])
        db.session.commit()
        return {
            "upload_id": upload.id,
            "user_id": get_user_by_email("manager@example.org").id,
            "invitation_id": invitation.id,
            "job_id": job.id,
            "assessment_id": assessment.id,
            "action_id": action.id if action else 1,  # a draft has no actions: any id must still be refused
            "domain_id": core(app).domains[0].id,
            "round_id": round_.id,
            "submission_id": submission_id,
            "submitted": request.param.startswith("completed"),
        }


def _routes_with_objects(app):
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "access_rule", None) == "public":
            continue  # open to anyone (an invitation link carries its own secret: tested in test_people.py)
        if rule.endpoint.startswith("api."):
            continue  # the JSON API takes tokens, not session cookies: tests/web/test_api.py has its own matrix
        if rule.arguments & ARGUMENTS or (rule.arguments and rule.endpoint not in PUBLIC_FILES):
            yield rule


def _snapshot(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Answer,
                Assessment,
                DomainProgress,
                PendingInput,
                PlanAction,
                Submission,
                BackgroundJob,
                RosterUpload,
            )
        ) + (
            # Downloads are audited, as they should be; nothing else may be recorded.
            db.session.scalar(select(func.count()).where(AuditEvent.action.not_in(("export", "benchmark_export")))),
            db.session.scalar(select(func.count()).where(Invitation.withdrawn_at.is_not(None))),
            db.session.scalar(select(func.count()).where(User.active.is_(False))),
            tuple(db.session.execute(select(User.id, User.role).order_by(User.id)).all()),
            db.session.scalar(select(func.max(PlanAction.revision))),
            db.session.scalar(select(func.count()).where(ReturnRound.closed_early_at.is_not(None))),
            db.session.scalar(select(func.count()).where(Submission.reopened_at.is_not(None))),
        )


def test_every_route_that_names_an_object_gives_each_person_what_they_should_get(app, riverside):
    rules = list(_routes_with_objects(app))
    assert len(rules) >= 10  # the assessment, plan and report routes at least
    unknown = [r.rule for r in rules if not r.arguments <= ARGUMENTS]
    assert not unknown, f"routes with URL arguments this matrix cannot fill in; add them: {unknown}"
    unruled = [r.endpoint for r in rules if getattr(app.view_functions[r.endpoint], "access_rule", None) is None]
    assert not unruled, f"routes without an access rule: {unruled}"
    unexpected = {
        r.endpoint for r in rules if frozenset(app.view_functions[r.endpoint].access_rule) not in EXPECTED_BY_ROLES
    }
    assert not unexpected, f"say in EXPECTED what each person gets from these routes' rules: {unexpected}"

    clients = {who: _client_for(app, email) for who, email in PEOPLE.items()}
    before = _snapshot(app)
    wrong = []
    tried = 0
    for rule in rules:
        expected = dict(EXPECTED_BY_ROLES[frozenset(app.view_functions[rule.endpoint].access_rule)])
        if "submission_id" in rule.arguments and not riverside["submitted"]:
            expected["ICB lead"] = 404  # there is no submission to see: the id names nothing of theirs
        with app.test_request_context():
            path = app.url_for(rule.endpoint, **{k: riverside[k] for k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who, client in clients.items():
                if who in OWNERS and method != "GET":
                    continue  # owners' posts change things: the journey and plan tests cover them
                if method != "GET" and expected[who] == "ok":
                    continue  # posts by those allowed change things: each feature's own tests cover them
                response = client.open(path, method=method, data={})
                tried += 1
                got = response.status_code
                location = response.headers.get("Location", "")
                if got >= 500:
                    outcome = got
                elif got == 302 and location.startswith("/sign-in"):
                    outcome = "sign-in"
                elif got in (403, 404):
                    outcome = got
                else:
                    outcome = "ok"
                if outcome != expected[who]:
                    wrong.append(f"{method} {path} as {who}: expected {expected[who]}, got {got} {location}")
    assert not wrong, "\n".join(wrong)
    assert tried > 50
    assert _snapshot(app) == before  # nobody but the owners changed anything


# Routes that name no object: each rule's roles get the page; everyone else signed in gets 403.
NO_OBJECT_SKIP = {"static", "main.assets", "main.frontend", "main.health", "auth.sign_in", "auth.sign_out"}


def test_every_route_without_an_object_gives_each_person_what_their_role_allows(app):
    clients = {who: _client_for(app, email) for who, email in PEOPLE.items()}
    roles_of = {who: (get_role(app, email) if email else None) for who, email in PEOPLE.items()}
    wrong, tried = [], 0
    for rule in app.url_map.iter_rules():
        if rule.arguments or rule.endpoint in NO_OBJECT_SKIP or rule.endpoint.startswith("api."):  # tokens: test_api
            continue
        access = app.view_functions[rule.endpoint].access_rule
        if access == "public":
            continue
        allowed = set(access)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who, client in clients.items():
                role = roles_of[who]
                if role in allowed and method != "GET":
                    continue  # allowed posts are tried with real input by each feature's own tests
                response = client.open(rule.rule, method=method, data={})
                tried += 1
                got = response.status_code
                if role is None:
                    ok = got == 302 and response.headers["Location"].startswith("/sign-in")
                elif role in allowed:
                    ok = got < 400 or got == 400 and method != "GET"
                else:
                    ok = got == 403
                if not ok:
                    wrong.append(f"{method} {rule.rule} as {who}: got {got}")
    assert not wrong, "\n".join(wrong)
    assert tried > 30
    assert set(ALL_ROLES)  # every role appears among the people above
    assert {r for r in roles_of.values() if r} == set(ALL_ROLES)


def get_role(app, email):
    with app.app_context():
        return Role(get_user_by_email(email).role)

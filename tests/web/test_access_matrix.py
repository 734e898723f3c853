"""Object-level access, generated from the url map: every route that names an object, for every role.

Each route that takes an id or names an object is tried by every role and by a user of another PCN and of
another ICB, on an assessment of Riverside PCN: completed with its plan, and still a draft. A route added without a
rule, or with a rule or a URL argument this matrix does not know, fails the test until someone says here what
each role should get.
"""

import pytest
from sqlalchemy import func, select

from app.access import PCN_ROLES
from app.extensions import db
from app.models import Answer, Assessment, DomainProgress, PendingInput, PlanAction
from tests.conftest import _client_for
from tests.helpers import complete_all, core, start

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

# Files anyone may fetch (the design system and our CSS): their URL names a file, not anyone's object.
PUBLIC_FILES = {"static", "main.assets", "main.frontend"}
# The URL arguments this matrix knows how to fill in.
ARGUMENTS = {"assessment_id", "action_id", "domain_id"}


@pytest.fixture(params=["completed, with a plan", "a draft in progress"])
def riverside(request, app, cd_client):
    """An assessment of Riverside PCN, completed with its plan or still a draft; values for every URL argument."""
    base = start(cd_client)
    if request.param == "completed, with a plan":
        complete_all(cd_client, app, base)
        assert cd_client.post(f"{base}/check").status_code == 302
    with app.app_context():
        assessment = db.session.scalar(select(Assessment))
        action = db.session.scalar(select(PlanAction).where(PlanAction.assessment_id == assessment.id))
        return {
            "assessment_id": assessment.id,
            "action_id": action.id if action else 1,  # a draft has no actions: any id must still be refused
            "domain_id": core(app).domains[0].id,
        }


def _routes_with_objects(app):
    for rule in app.url_map.iter_rules():
        if rule.arguments & ARGUMENTS or (rule.arguments and rule.endpoint not in PUBLIC_FILES):
            yield rule


def _snapshot(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Answer, Assessment, DomainProgress, PendingInput, PlanAction)
        ) + (db.session.scalar(select(func.max(PlanAction.revision))),)


def test_every_route_that_names_an_object_gives_each_person_what_they_should_get(app, riverside):
    rules = list(_routes_with_objects(app))
    assert len(rules) >= 10  # the assessment, plan and report routes at least
    unknown = [r.rule for r in rules if not r.arguments <= ARGUMENTS]
    assert not unknown, f"routes with URL arguments this matrix cannot fill in; add them: {unknown}"
    unruled = [r.endpoint for r in rules if getattr(app.view_functions[r.endpoint], "access_rule", None) is None]
    assert not unruled, f"routes without an access rule: {unruled}"
    unexpected = {r.endpoint for r in rules if tuple(app.view_functions[r.endpoint].access_rule) not in EXPECTED}
    assert not unexpected, f"say in EXPECTED what each person gets from these routes' rules: {unexpected}"

    clients = {who: _client_for(app, email) for who, email in PEOPLE.items()}
    before = _snapshot(app)
    wrong = []
    tried = 0
    for rule in rules:
        expected = EXPECTED[tuple(app.view_functions[rule.endpoint].access_rule)]
        with app.test_request_context():
            path = app.url_for(rule.endpoint, **{k: riverside[k] for k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who, client in clients.items():
                if who in OWNERS and method != "GET":
                    continue  # owners' posts change things: the journey and plan tests cover them
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

"""Arbitrary input to every form and route: never a server error, and a refused form changes nothing.

Hypothesis builds form posts from each page's own field names plus stray ones, with values drawn from any text
(control characters, NULs, very long strings, numbers far beyond the database's range), and URLs whose ids and
names are anything at all.
"""

import hashlib

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Assessment, PendingInput, PlanAction, User
from tests.helpers import complete_all, core, start

FUZZ = settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

values = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(["0", "4", "5", "-1", "not-sure", "later", "none", str(2**31), str(10**25), "1e3", " ", "\x00"]),
    st.integers().map(str),
    st.just("x" * 2500),
)


def _state(app) -> str:
    """A digest of everything a form could change."""
    with app.app_context():
        rows = [
            *db.session.execute(select(Answer.question_id, Answer.current, Answer.target, Answer.note)).all(),
            *db.session.execute(
                select(
                    PlanAction.id,
                    PlanAction.title,
                    PlanAction.owner,
                    PlanAction.month,
                    PlanAction.status,
                    PlanAction.note,
                    PlanAction.removed,
                    PlanAction.revision,
                )  # fmt: skip
            ).all(),
            *db.session.execute(select(Assessment.id, Assessment.max_actions_per_month, Assessment.status)).all(),
            *db.session.execute(select(User.id, User.password_hash, User.active)).all(),
            *db.session.execute(select(PendingInput.token)).all(),
        ]
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


@pytest.fixture
def forms(app, cd_client):
    """Every form page of a completed assessment with a plan: its path and the names of its fields."""
    base = start(cd_client)
    complete_all(cd_client, app, base)
    cd_client.post(f"{base}/check")
    html = cd_client.get(f"{base}/plan").get_data(as_text=True)
    action = next(
        a["href"]
        for a in BeautifulSoup(html, "html.parser").select("a[href*='/plan/actions/']")
        if a["href"][-1].isdigit()
    )
    domain = core(app).domains[0]
    paths = [f"{base}/domains/{domain.id}", action, f"{base}/plan/actions/new", f"{base}/plan/settings", "/account"]
    found = {}
    for path in paths:
        soup = BeautifulSoup(cd_client.get(path).get_data(as_text=True), "html.parser")
        for form in soup.select("main form"):
            target = form.get("action") or path
            fields: dict[str, set[str]] = {}
            for field in form.select("[name]"):
                if field["name"] != "csrf_token":
                    options = {field.get("value", "")} | {o.get("value", "") for o in field.select("option")}
                    fields.setdefault(field["name"], set()).update(options)
            if fields:  # forms with fields; button-only forms are tried in the route fuzz below
                found[target] = {name: sorted(options) for name, options in fields.items()}
    assert len(found) >= 5, found
    return found


def test_arbitrary_form_input_is_never_a_server_error_and_a_refusal_changes_nothing(app, cd_client, forms):
    @FUZZ
    @given(data=st.data())
    def post_anything(data):
        path = data.draw(st.sampled_from(sorted(forms)))
        fields = forms[path]
        # Mostly the page's own fields with the values it offers, so that posts get past the first check and
        # reach the deeper ones; then stray fields, and anything at all in any field.
        form = {name: data.draw(st.sampled_from(options)) for name, options in fields.items() if options}
        for name in data.draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=4)):
            form[name] = data.draw(values)
        for name in data.draw(st.lists(st.text(min_size=1, max_size=20), max_size=2)):
            form[name] = data.draw(values)
        before = _state(app)
        response = cd_client.post(path, data=form)
        assert response.status_code < 500, (path, form)
        if response.status_code != 302:  # refused (or a conflict): nothing may have changed
            assert _state(app) == before, (path, form, response.status_code)

    post_anything()


segments = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=80),
)


@pytest.mark.parametrize("client_name", ["cd_client", "cd2_client", "icb_client", "anon_client"])
def test_arbitrary_urls_are_never_a_server_error(app, request, client_name):
    client = request.getfixturevalue(client_name)
    rules = [r for r in app.url_map.iter_rules() if r.arguments and r.endpoint != "static"]

    @FUZZ
    @given(data=st.data())
    def open_anything(data):
        rule = data.draw(st.sampled_from(rules))
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", data.draw(segments)).replace(f"<{argument}>", data.draw(segments))
        method = data.draw(st.sampled_from(sorted(rule.methods - {"OPTIONS"})))
        response = client.open(path, method=method, data={"note": data.draw(values)})
        assert response.status_code < 500, (method, path)

    open_anything()


EXTREMES = [str(10**25), str(2**31), "-1", "\x00", "\x1b[31m", "x" * 2500, "=cmd|' /C calc'!A0"]


def test_each_field_of_each_form_with_each_extreme_value_is_never_a_server_error(app, cd_client, forms):
    """A sweep: one field at a time gets an extreme value while the rest hold what the page offers."""
    tried = 0
    for path, fields in sorted(forms.items()):
        valid = {name: options[-1] for name, options in fields.items() if options}
        for name in fields:
            for value in EXTREMES:
                before = _state(app)
                response = cd_client.post(path, data={**valid, name: value})
                tried += 1
                assert response.status_code < 500, (path, name, value)
                if response.status_code != 302:
                    assert _state(app) == before, (path, name, value, response.status_code)
    assert tried > 100

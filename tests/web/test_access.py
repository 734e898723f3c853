"""Who may use what: every route declares a rule, and the rules hold for every role."""

import pytest

from tests.helpers import core, domain_data, start

PUBLIC_ENDPOINTS = {"static"}  # Flask's own static files (our CSS)


def test_every_route_declares_who_may_use_it(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "access_rule", None):
            missing.append(rule.endpoint)
    assert missing == []


@pytest.mark.parametrize(
    ("client_name", "status"),
    [
        ("cd_client", 200),
        ("manager_client", 200),
        ("icb_client", 200),
        ("lmc_client", 200),
        ("admin_client", 200),
        ("anon_client", 302),
    ],
)
def test_home_for_each_role(request, client_name, status):
    assert request.getfixturevalue(client_name).get("/").status_code == status


@pytest.mark.parametrize("client_name", ["icb_client", "lmc_client", "admin_client"])
def test_only_pcn_members_can_start_an_assessment(request, client_name):
    assert request.getfixturevalue(client_name).post("/assessments/start").status_code == 403


def _assessment_paths(app, base):
    domain = core(app).domains[0]
    return [
        ("get", base, None),
        ("get", f"{base}/domains/{domain.id}", None),
        ("post", f"{base}/domains/{domain.id}", domain_data(domain)),
        ("get", f"{base}/check", None),
        ("post", f"{base}/check", {}),
        ("get", f"{base}/results", None),
    ]


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [("cd2_client", 404), ("icb_client", 403), ("lmc_client", 403), ("admin_client", 403), ("anon_client", 302)],
)
def test_a_draft_is_the_pcns_alone(app, cd_client, request, client_name, expected):
    base = start(cd_client)
    other = request.getfixturevalue(client_name)
    for method, path, data in _assessment_paths(app, base):
        response = getattr(other, method)(path, data=data)
        assert response.status_code == expected, (client_name, method, path)
        if expected == 302:
            assert response.location.startswith("/sign-in")


def test_other_pcn_clinical_director_changes_nothing(app, cd_client, cd2_client):
    from app.extensions import db
    from app.models import Answer

    base = start(cd_client)
    domain = core(app).domains[0]
    cd2_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain))
    with app.app_context():
        assert db.session.query(Answer).count() == 0


def test_icb_home_lists_its_pcns_but_no_drafts(app, cd_client, icb_client):
    start(cd_client)
    text = icb_client.get("/").get_data(as_text=True)
    assert "Riverside PCN" in text and "U00001" in text
    assert "/assessments/" not in text


def test_design_system_files_are_served_to_everyone(anon_client):
    assert anon_client.get("/frontend/nhsuk-frontend.min.css").status_code == 200
    assert anon_client.get("/frontend/nhsuk-frontend.min.js").status_code == 200
    assert anon_client.get("/assets/images/favicon.ico").status_code == 200  # the CSS and template ask here
    assert anon_client.get("/frontend/package.json").status_code == 404  # nothing else from the package

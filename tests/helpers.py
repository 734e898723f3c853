"""Helpers for walking the assessment through the test client."""

from flask import Flask

from app.questionnaires import registry


def core(app: Flask):
    with app.app_context():
        return registry().get("neighbourhood-readiness")


def domain_data(domain, current="1", target="3", revision="0", note="") -> dict:
    data = {"revision": revision}
    for question in domain.questions:
        data[f"{question.id}-now"] = current
        data[f"{question.id}-target"] = target
        if note:
            data[f"{question.id}-note"] = note
    return data


def start(client) -> str:
    """Start (or continue) an assessment; returns its task list path."""
    response = client.post("/assessments/start")
    assert response.status_code == 302, response.status_code
    return response.location


def complete_all(client, app, base: str, current="1", target="3") -> None:
    for domain in core(app).domains:
        response = client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, current, target))
        assert response.status_code == 302, (domain.id, response.status_code)

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


def xlsx_cells(data: bytes) -> list:
    """Every cell of every sheet of an XLSX file, as openpyxl reads it (value, data_type, quotePrefix)."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_typed_text_never_a_formula(data: bytes, typed: str) -> None:
    """The XLSX holds no formula at all, and shows what was typed exactly, as a text cell marked as typed."""
    cells = xlsx_cells(data)
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    found = [cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(typed)]
    assert found and all(cell.data_type == "s" and cell.quotePrefix for cell in found)

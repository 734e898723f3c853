"""NHS.UK components rendered once per set of parameters: what a user sees must be the macro's own markup, always."""

from flask import current_app
from markupsafe import Markup

from app.forms import widgets
from app.forms.widgets import Component, render_component
from app.questionnaires import registry
from tests.conftest import page


def _macro(component: str, name: str, params: dict) -> str:
    """The NHS.UK macro itself, called directly, as the templates did before the store existed."""
    return str(
        current_app.jinja_env.get_template(f"nhsuk/components/{component}/macro.jinja").module.__dict__[name](params)
    )


def _radios(checked: str | None, error: str | None = None, label="Level") -> dict:
    items = [{"value": v, "text": f"Level {v}", "checked": v == checked} for v in ("0", "1", "2")]
    items.append({"value": "not-sure", "html": Markup("<strong>Not sure</strong>"), "checked": checked == "not-sure"})
    return {
        "idPrefix": "q-now",
        "name": "q-now",
        "items": items,
        "fieldset": {"legend": {"text": label}},
        "errorMessage": {"text": error} if error else None,
    }


def test_each_answer_renders_as_the_macro_does(app_ctx):
    # Every state a question can be in, asked twice (the second time from the store): the macro's own bytes.
    for checked in (None, "0", "1", "2", "not-sure"):
        for error in (None, "Select where your PCN is now"):
            params = _radios(checked, error)
            first = render_component("radios", "radios", params)
            again = render_component("radios", "radios", _radios(checked, error))
            assert str(first) == str(again) == _macro("radios", "radios", params)
    checked_once = str(render_component("radios", "radios", _radios("1")))
    assert checked_once.count("checked") == 1
    assert 'value="1" checked' in checked_once


def test_text_and_markup_are_not_confused(app_ctx):
    # The same characters as text (escaped) and as markup (inserted) are two different renders.
    as_text = render_component("inset-text", "insetText", {"text": "<b>bold</b>"})
    as_markup = render_component("inset-text", "insetText", {"html": Markup("<b>bold</b>")})
    escaped = render_component("inset-text", "insetText", {"html": "<b>bold</b>"})
    assert "&lt;b&gt;bold&lt;/b&gt;" in as_text
    assert "<b>bold</b>" in as_markup
    assert str(escaped) == _macro("inset-text", "insetText", {"html": "<b>bold</b>"})
    # True, 1 and "1" are three keys.
    assert render_component("tag", "tag", {"text": 1}) is not render_component("tag", "tag", {"text": True})
    assert "True" in render_component("tag", "tag", {"text": True})


def test_a_note_typed_by_a_user_is_escaped_and_the_store_stays_bounded(app_ctx, monkeypatch):
    monkeypatch.setattr(widgets, "COMPONENT_CACHE_SIZE", 10)
    for n in range(25):
        note = f'<script>alert("{n}")</script>'
        html = render_component(
            "textarea", "textarea", {"id": "note", "name": "note", "value": note, "label": {"text": "Note"}}
        )
        assert "<script>" not in html and f"alert(&#34;{n}&#34;)" in html
    assert len(current_app.extensions["nhsuk_components"]["rendered"]) <= 10


def test_unusual_parameters_are_rendered_directly(app_ctx):
    # An object the key cannot describe is passed straight to the macro, never stored.
    class Title:
        def __str__(self):
            return "A title"

    stored = len(current_app.extensions.get("nhsuk_components", {}).get("rendered", {}))
    html = render_component("inset-text", "insetText", {"text": Title()})
    assert "A title" in html
    assert len(current_app.extensions["nhsuk_components"]["rendered"]) == stored


def test_call_blocks_still_pass_their_content(app_ctx):
    callout = Component("warning-callout", "warningCallout")
    html = callout({"heading": "Copy your new token now"}, caller=lambda: Markup("<p>Token: abc</p>"))
    assert "Copy your new token now" in html and "<p>Token: abc</p>" in html


def test_the_domain_page_shows_the_saved_answer_checked(app, cd_client):
    # Through the real page: the answer saved is the one checked, for each question of the section.
    with app.app_context():
        questionnaire = registry().core()[0]
        domain = questionnaire.domains[0]
    response = cd_client.post("/assessments/start", data={"questionnaire": questionnaire.id}, follow_redirects=True)
    assessment_path = response.request.path
    form = page(cd_client.get(f"{assessment_path}/domains/{domain.id}"))
    data = {"csrf_token": form.find("input", {"name": "csrf_token"})["value"]}
    data["revision"] = form.find("input", {"name": "revision"})["value"]
    for index, question in enumerate(domain.questions):
        data[f"{question.id}-now"] = str(index % 3)
        data[f"{question.id}-target"] = str(index % 3 + 1)
    data["later"] = "1"
    assert cd_client.post(f"{assessment_path}/domains/{domain.id}", data=data).status_code == 302
    soup = page(cd_client.get(f"{assessment_path}/domains/{domain.id}"))
    for index, question in enumerate(domain.questions):
        now = soup.find_all("input", {"name": f"{question.id}-now", "checked": True})
        target = soup.find_all("input", {"name": f"{question.id}-target", "checked": True})
        assert [i["value"] for i in now] == [str(index % 3)]
        assert [i["value"] for i in target] == [str(index % 3 + 1)]

"""Render WTForms fields with NHS.UK frontend macros, so a template says `{{ form.field(params={...}) }}`."""

from functools import cache

from flask import current_app
from markupsafe import Markup


@cache
def _macro_module(component: str):
    return current_app.jinja_env.get_template(f"nhsuk/components/{component}/macro.jinja").module


def render_component(component: str, macro: str, params: dict) -> Markup:
    return Markup(getattr(_macro_module(component), macro)(params))


def _merge(base: dict, extra: dict | None) -> dict:
    merged = dict(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error(field) -> dict | None:
    return {"text": field.errors[0]} if field.errors else None


class NhsInput:
    input_type = "text"

    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        base = {
            "id": field.id,
            "name": field.name,
            "type": self.input_type,
            "value": field._value() if self.input_type != "password" else "",
            "label": {"text": field.label.text},
            "errorMessage": _error(field),
        }
        if field.description:
            base["hint"] = {"text": field.description}
        return render_component("input", "input", _merge(base, params))


class NhsEmailInput(NhsInput):
    input_type = "email"


class NhsPasswordInput(NhsInput):
    input_type = "password"


class NhsTextarea:
    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        base = {
            "id": field.id,
            "name": field.name,
            "value": field._value(),
            "label": {"text": field.label.text},
            "errorMessage": _error(field),
            "rows": 3,
        }
        if field.description:
            base["hint"] = {"text": field.description}
        return render_component("textarea", "textarea", _merge(base, params))


class NhsRadios:
    """Radios; a field with a `hints` mapping (value -> text) shows a hint under each choice."""

    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        hints = getattr(field, "hints", {})
        divider_before = getattr(field, "divider_before", None)
        items = []
        for choice in field.choices:
            value, label = (choice.value, choice.label) if hasattr(choice, "value") else choice
            if value == divider_before and items:
                items.append({"divider": "or"})
            item = {"value": value, "checked": field.data == value}
            item["html" if isinstance(label, Markup) else "text"] = label
            if hints.get(value):
                hint = hints[value]
                item["hint"] = {"html": hint} if isinstance(hint, Markup) else {"text": hint}
            items.append(item)
        base = {
            "idPrefix": field.id,
            "name": field.name,
            "items": items,
            "fieldset": {"legend": {"text": field.label.text}},
            "errorMessage": _error(field),
        }
        if field.description:
            base["hint"] = {"text": field.description}
        return render_component("radios", "radios", _merge(base, params))


class NhsSelect:
    def __call__(self, field, params: dict | None = None, **kwargs) -> Markup:
        items = []
        for choice in field.choices:
            value, label = (choice.value, choice.label) if hasattr(choice, "value") else choice
            items.append({"value": value, "text": label, "selected": str(field.data) == str(value)})
        base = {
            "id": field.id,
            "name": field.name,
            "items": items,
            "label": {"text": field.label.text},
            "errorMessage": _error(field),
        }
        if field.description:
            base["hint"] = {"text": field.description}
        return render_component("select", "select", _merge(base, params))

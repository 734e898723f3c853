"""Render WTForms fields with NHS.UK frontend macros, so a template says `{{ form.field(params={...}) }}`.

A macro's output depends on its parameters only, and the same parameters come back again and again (the same
question's radios with the same answer checked, the same header for the same user), so `render_component` keeps
what each set of parameters rendered to, keyed by the parameters themselves. A field renders in microseconds
instead of milliseconds, and the NHS.UK markup is the macros' own, byte for byte. The store is per app and bounded:
it is emptied when it reaches COMPONENT_CACHE_SIZE entries (a note's text makes a new entry each time it changes).
"""

from flask import current_app
from markupsafe import Markup

COMPONENT_CACHE_SIZE = 4096


class _NotAKey(Exception):
    """A parameter that cannot be part of a key (an object the macro might read in ways a key cannot capture)."""


def _key(value):
    """A hashable, exact stand-in for a macro's parameters. Types are part of it: True, 1 and "1" render apart,
    and Markup (inserted as it is) apart from text (escaped)."""
    if isinstance(value, dict):
        return ("d",) + tuple((k, _key(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return ("l",) + tuple(_key(v) for v in value)
    if value is None or type(value) in (str, int, bool, float):
        return (type(value), value)
    if isinstance(value, Markup):
        return (Markup, str(value))
    raise _NotAKey(type(value).__name__)


def _store(app) -> dict:
    store = app.extensions.get("nhsuk_components")
    if store is None:
        store = app.extensions["nhsuk_components"] = {"modules": {}, "rendered": {}}
    return store


def _macro(store: dict, component: str, macro: str):
    module = store["modules"].get(component)
    if module is None:
        module = current_app.jinja_env.get_template(f"nhsuk/components/{component}/macro.jinja").module
        store["modules"][component] = module
    return getattr(module, macro)


def render_component(component: str, macro: str, params: dict) -> Markup:
    """An NHS.UK component, rendered by its macro once for each distinct set of parameters."""
    store = _store(current_app._get_current_object())
    try:
        key = (component, macro, _key(params))
    except _NotAKey:
        return Markup(_macro(store, component, macro)(params))
    rendered = store["rendered"]
    html = rendered.get(key)
    if html is None:
        html = Markup(_macro(store, component, macro)(params))
        if len(rendered) >= COMPONENT_CACHE_SIZE:
            rendered.clear()
        rendered[key] = html
    return html


class Component:
    """An NHS.UK macro for templates, rendered through `render_component`: `{% set tag = component("tag", "tag") %}`
    then `{{ tag({...}) }}` as with the macro itself. `{% call %}` (content passed in) renders afresh each time."""

    def __init__(self, component: str, macro: str):
        self.component, self.macro = component, macro

    def __call__(self, params: dict | None = None, caller=None) -> Markup:
        if caller is not None:
            store = _store(current_app._get_current_object())
            return Markup(_macro(store, self.component, self.macro)(params or {}, caller=caller))
        return render_component(self.component, self.macro, params or {})


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

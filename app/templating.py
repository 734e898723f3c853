"""Jinja set-up: our templates first, then the NHS.UK frontend macros; filters for guidance Markdown."""

from pathlib import Path

import markdown
import nh3
from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader
from markupsafe import Markup

from .config import PROJECT_ROOT

ALLOWED_TAGS = {"p", "a", "ul", "ol", "li", "strong", "em", "br", "code"}


def render_markdown(text: str | None) -> Markup:
    """Questionnaire guidance is Markdown; sanitise the HTML so a questionnaire file cannot inject markup."""
    if not text:
        return Markup("")
    html = markdown.markdown(text, output_format="html")
    html = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, link_rel="noopener noreferrer")
    # NHS.UK body text classes so lists and paragraphs pick up the design system's spacing.
    html = html.replace("<ul>", '<ul class="nhsuk-list nhsuk-list--bullet">').replace(
        "<ol>", '<ol class="nhsuk-list nhsuk-list--number">'
    )
    return Markup(html)


def level_label(level: int | None, unsure: bool) -> str:
    if unsure:
        return "Not sure"
    return "Not answered" if level is None else f"Level {level}"


def answer_summary(value) -> str:
    """One line for a saved answer, as shown when comparing with a colleague's save."""
    summary = f"Now: {level_label(value.current, value.current_unsure)}. "
    summary += f"In six months: {level_label(value.target, value.target_unsure)}."
    return summary + (f" Note: {value.note}" if value.note else "")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """"1 action", "5 actions": counts read as sentences, never "action(s)"."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(Path(PROJECT_ROOT / "templates")), PackageLoader("nhsuk_frontend_jinja")]
    )
    app.jinja_env.undefined = ChainableUndefined
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["answer_summary"] = answer_summary
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.globals["level_label"] = level_label

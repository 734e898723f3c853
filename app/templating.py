"""Jinja set-up: our templates first, then the NHS.UK frontend macros; filters for guidance Markdown."""

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import markdown
import nh3
from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader
from markupsafe import Markup

from .config import PROJECT_ROOT
from .forms.widgets import Component
from .services import peer_charts

ALLOWED_TAGS = {"p", "a", "ul", "ol", "li", "strong", "em", "br", "code"}
# Times are stored in UTC and shown as the clock on the wall in England: GMT in winter, BST in summer.
UK = ZoneInfo("Europe/London")


def render_markdown(text: str | None) -> Markup:
    """Questionnaire guidance is Markdown; sanitise the HTML so a questionnaire file cannot inject markup."""
    if not text:
        return Markup("")
    return _markdown_html(str(text))


@lru_cache(maxsize=2048)
def _markdown_html(text: str) -> Markup:
    """The same guidance comes back on every page view: converted once per text (a questionnaire has a few hundred)."""
    html = markdown.markdown(text, output_format="html")
    html = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, link_rel="noopener noreferrer")
    # NHS.UK body text classes so lists and paragraphs pick up the design system's spacing.
    html = html.replace("<ul>", '<ul class="nhsuk-list nhsuk-list--bullet">').replace(
        "<ol>", '<ol class="nhsuk-list nhsuk-list--number">'
    )
    return Markup(html)


def level_label(scale, level: int | None, unsure: bool, not_applicable: bool = False) -> str:
    """A level as people read it: the scale's own name for it ("Step 1", "Partly in place")."""
    if not_applicable:
        return "Not applicable or not in place locally yet"
    if unsure:
        return "Not sure"
    if level is None or level not in scale.levels:
        return "Not answered"
    return scale.name(level)


def answer_summary(value, scale) -> str:
    """One line for a saved answer, as shown when comparing with a colleague's save."""
    if value.not_applicable:
        summary = f"{level_label(scale, None, False, True)}."
    else:
        summary = f"Now: {level_label(scale, value.current, value.current_unsure)}. "
        summary += f"In six months: {level_label(scale, value.target, value.target_unsure)}."
    return summary + (f" Note: {value.note}" if value.note else "")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 action", "5 actions": counts read as sentences, never "action(s)"."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def in_uk(moment: date | datetime | None) -> date | datetime | None:
    """A stored moment as UK time. Naive datetimes come from SQLite and are UTC; a plain date stays as it is."""
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UK)


def uk_date(moment: date | datetime | None) -> str:
    """ "24 November 2026", the day it was in the UK."""
    moment = in_uk(moment)
    return f"{moment.day} {moment:%B %Y}" if moment else ""


def uk_time(moment: datetime | None) -> str:
    """ "15:26" on a UK clock."""
    moment = in_uk(moment)
    return f"{moment:%H:%M}" if moment else ""


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
    app.jinja_env.filters["in_uk"] = in_uk
    app.jinja_env.filters["uk_date"] = uk_date
    app.jinja_env.filters["uk_time"] = uk_time
    # NHS.UK components rendered once per distinct set of parameters: `{% set tag = component("tag", "tag") %}`.
    app.jinja_env.globals["component"] = Component
    app.jinja_env.globals["level_label"] = level_label
    app.jinja_env.globals["peer_charts"] = peer_charts  # the peer comparison chart and its wording

"""Questionnaires: the shipped files, and every earlier version an assessment was taken against."""

from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import QuestionnaireContent
from .loader import QuestionnaireError, load_directory, parse_questionnaire
from .schema import OWNERS, Action, Band, Domain, Question, Questionnaire, Scale

__all__ = [
    "Action",
    "Band",
    "Domain",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "OWNERS",
    "Registry",
    "Scale",
    "registry",
]


class Registry:
    """The current questionnaire files by id, and any version by content hash."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.current: dict[str, Questionnaire] = load_directory(directory)
        self._by_hash: dict[str, Questionnaire] = {q.content_hash: q for q in self.current.values()}

    def core(self) -> list[Questionnaire]:
        return [q for q in self.current.values() if q.kind == "core"]

    def get(self, questionnaire_id: str) -> Questionnaire | None:
        return self.current.get(questionnaire_id)

    def by_hash(self, content_hash: str) -> Questionnaire:
        """The exact content an assessment pinned: from the files if unchanged, else from the stored copy."""
        if content_hash not in self._by_hash:
            stored = db.session.get(QuestionnaireContent, content_hash)
            if stored is None:
                raise LookupError(f"no questionnaire content with hash {content_hash}")
            self._by_hash[content_hash] = parse_questionnaire(
                stored.source, f"stored:{stored.questionnaire_key}", strict=False
            )
        return self._by_hash[content_hash]

    def pin(self, questionnaire: Questionnaire) -> None:
        """Keep a copy of this exact content in the database, so later file edits cannot change it."""
        exists = db.session.scalar(
            select(QuestionnaireContent.content_hash).where(
                QuestionnaireContent.content_hash == questionnaire.content_hash
            )
        )
        if exists:
            return
        # Two colleagues' first starts can race here: the loser's insert fails on the key, and the row it wanted
        # is there either way. A savepoint keeps the rest of the transaction.
        try:
            with db.session.begin_nested():
                db.session.add(
                    QuestionnaireContent(
                        content_hash=questionnaire.content_hash,
                        questionnaire_key=questionnaire.id,
                        version=questionnaire.version,
                        source=questionnaire.source,
                    )
                )
        except IntegrityError:
            pass


def init_app(app: Flask) -> None:
    app.extensions["questionnaires"] = None


def registry() -> Registry:
    """Loaded on first use, so `questionnaires check` can still report on a broken file."""
    if current_app.extensions.get("questionnaires") is None:
        current_app.extensions["questionnaires"] = Registry(Path(current_app.config["QUESTIONNAIRE_DIR"]))
    return current_app.extensions["questionnaires"]

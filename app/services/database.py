"""Schema management through Alembic, driven from the app's own engine."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from ..extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(revision: str = "head") -> None:
    with db.engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def autogenerate(message: str) -> None:
    with db.engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)

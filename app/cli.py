"""Command-line tasks: `flask --app app db upgrade`, `questionnaires check`, `demo load`, `users deactivate`."""

import sys
from pathlib import Path

import click
from flask import Flask, current_app

from .orgs.cli import register_orgs
from .queries.users import get_user_by_email
from .questionnaires.loader import QuestionnaireError, check_files, load_directory
from .services import database, demo, demo_rounds, demo_scale, users


def register(app: Flask) -> None:
    register_orgs(app)  # orgs import, orgs add-sub-icb

    @app.cli.group("db")
    def db_group():
        """Database schema (Alembic migrations)."""

    @db_group.command("upgrade")
    def db_upgrade():
        """Create or upgrade the schema to the latest migration."""
        database.upgrade()
        click.echo("Database is up to date.")

    @db_group.command("revision")
    @click.argument("message")
    def db_revision(message: str):
        """Write a new migration from the difference between the models and the database."""
        database.autogenerate(message)

    @app.cli.group("questionnaires")
    def questionnaires_group():
        """Questionnaire files."""

    @questionnaires_group.command("check")
    @click.argument("files", nargs=-1, type=click.Path(path_type=Path))
    def check(files: tuple[Path, ...]):
        """Check the shipped questionnaires, or the FILES given. Prints FILE:LINE: message for each problem."""
        problems = []
        checked = 0
        try:
            if files:
                checked, problems = check_files(list(files), Path(current_app.config["QUESTIONNAIRE_DIR"]))
            else:
                checked = len(load_directory(Path(current_app.config["QUESTIONNAIRE_DIR"])))
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            click.echo(f"{len(problems)} problem(s) found.", err=True)
            sys.exit(1)
        click.echo(f"{checked} questionnaire file(s) OK.")

    @app.cli.group("demo")
    def demo_group():
        """Demonstration data."""

    @demo_group.command("load")
    @click.option(
        "--pcns",
        type=click.IntRange(min=1, max=5000),
        default=None,
        help="Also build a national-scale data set of about this many PCNs (for measuring), most with returns.",
    )
    def demo_load(pcns: int | None):
        """Create the demo ICB, LMC, PCNs, accounts and return rounds (idempotent). Refused outside development."""
        if not current_app.config["DEMO_DATA_ALLOWED"]:
            click.echo("Demo data is only for development: set APP_ENV=development to load it.", err=True)
            sys.exit(1)
        created = demo.load()
        rounds_added = demo_rounds.load()
        click.echo(f"Demo data loaded ({created} new record(s)). Accounts use the password '{demo.PASSWORD}'.")
        if rounds_added:
            click.echo("Demo return rounds added for the Demo ICB.")
        if pcns:
            summary = demo_scale.load(pcns)
            click.echo(summary)

    @demo_group.command("remove")
    def demo_remove():
        """Remove the demo accounts (a production server refuses to serve while they exist)."""
        removed = demo.remove()
        click.echo(f"{removed} demo account(s) removed.")

    @app.cli.group("users")
    def users_group():
        """User accounts."""

    @users_group.command("deactivate")
    @click.argument("email")
    def users_deactivate(email: str):
        """Stop EMAIL's account signing in and end all of its sessions."""
        user = get_user_by_email(email)
        if user is None:
            click.echo(f"No account has the email address {email}.", err=True)
            sys.exit(1)
        ended = users.deactivate(user, by="command line")
        click.echo(f"{user.email} is deactivated; {ended} session(s) ended.")

"""Command-line tasks through Flask's CLI runner."""

from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Organisation, User

MINI = Path(__file__).parent.parent / "fixtures" / "questionnaires" / "mini.yaml"


def test_questionnaires_check_passes_on_the_shipped_files(app):
    result = app.test_cli_runner().invoke(args=["questionnaires", "check"])
    assert result.exit_code == 0, result.output
    assert "2 questionnaire file(s) OK." in result.output


def test_questionnaires_check_reports_file_line_and_fails(app, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINI.read_text().replace("          3: Leading q1 level 3 descriptor\n", "          7: x\n"))
    result = app.test_cli_runner().invoke(args=["questionnaires", "check", str(MINI), str(broken)])
    assert result.exit_code == 1
    line = broken.read_text().splitlines().index("          7: x") + 1
    message = "level 7 in question 'lead-q1' is out of range: the scale has levels 0 to 4"
    assert f"{broken}:{line}: {message}" in result.output
    assert "problem(s) found" in result.output


def test_questionnaires_check_reports_a_broken_shipped_file_without_crashing(app, tmp_path):
    (tmp_path / "bad.yaml").write_text("id: [\n")
    app.config["QUESTIONNAIRE_DIR"] = str(tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["questionnaires", "check"])
    finally:
        app.config["QUESTIONNAIRE_DIR"] = str(Path(app.root_path).parent / "questionnaires")
    assert result.exit_code == 1 and f"{tmp_path / 'bad.yaml'}:" in result.output and "YAML syntax" in result.output


def test_demo_load_is_idempotent(app):
    runner = app.test_cli_runner()
    with app.app_context():
        before = (
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Organisation.id))),
        )
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "0 new record(s)" in result.output
    with app.app_context():
        after = (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Organisation.id))))
    assert before == after and before[1] >= 9  # ICB, LMC, admin body and six PCNs


def test_demo_load_is_refused_in_production(app):
    app.config["DEMO_DATA_ALLOWED"] = False
    try:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    finally:
        app.config["DEMO_DATA_ALLOWED"] = True
    assert result.exit_code == 1 and "only for development" in result.output


def test_db_upgrade_is_safe_to_repeat(app):
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "Database is up to date." in result.output

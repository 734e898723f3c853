"""Command-line tasks through Flask's CLI runner."""

from pathlib import Path

import pytest
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


@pytest.mark.parametrize("pcns", [5, 42])  # one ICB with no PCN started; 42 ICBs of one PCN
def test_a_small_national_scale_data_set_loads_with_a_pcn_in_every_icb(tmp_path, pcns):
    """`demo load --pcns N` for a quick look at the ICB pages: it used to fail for small totals, where an ICB could
    be left with no PCN, or with no PCN that had started its return."""
    from app import create_app
    from app.models import OrgKind
    from app.services import database

    application = create_app(
        {"APP_ENV": "testing", "SECRET_KEY": "test-secret", "DATABASE_URL": f"sqlite:///{tmp_path / 'small.sqlite'}"}
    )
    with application.app_context():
        database.upgrade()
    try:
        result = application.test_cli_runner().invoke(args=["demo", "load", "--pcns", str(pcns)])
        assert result.exit_code == 0, result.output
        assert f"National-scale data set loaded: {pcns} PCNs" in result.output
        with application.app_context():
            icbs = db.session.scalars(select(Organisation).where(Organisation.name.like("Measuring ICB __"))).all()
            pcns_in = {
                icb.ods_code: db.session.scalar(
                    select(func.count(Organisation.id)).where(
                        Organisation.area_id == icb.id, Organisation.kind == OrgKind.PCN
                    )
                )
                for icb in icbs
            }
        assert len(icbs) == min(pcns, 42) and sum(pcns_in.values()) == pcns and min(pcns_in.values()) >= 1
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()

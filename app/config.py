"""Configuration: defaults, then instance/config.py, then environment variables."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    """A stable random key kept in instance/, so sessions survive a restart without a committed secret."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def build_config(instance_path: Path) -> dict:
    env = os.environ.get("APP_ENV", "development")
    return {
        "APP_ENV": env,
        "SECRET_KEY": _secret_key(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'readiness.sqlite'}"),
        "QUESTIONNAIRE_DIR": os.environ.get("QUESTIONNAIRE_DIR", str(PROJECT_ROOT / "questionnaires")),
        # The NHS.UK frontend: built CSS and JS, and the images, icons and manifest the CSS asks for at /assets/.
        "FRONTEND_DIR": str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
        "ASSETS_DIR": str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk" / "assets"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env not in ("development", "testing"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env not in ("development", "testing"),
        # The cookie outlives the idle timeout, so a user whose session ended is still known when they come back
        # and what they typed can be given back to them alone.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Idle time after which a signed-in user must sign in again (their typed input is kept).
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "60")),
        # The CSRF token lives as long as the session; an idle timeout handles staleness instead.
        "WTF_CSRF_TIME_LIMIT": None,
        # Demo accounts exist only where this is set (make run sets it; production never should).
        "DEMO_DATA_ALLOWED": env in ("development", "testing") or os.environ.get("DEMO_DATA_ALLOWED") == "1",
    }

"""Configuration: defaults, then instance/config.py, then the caller's overrides; checked before the app starts.

Production is the default: a deployment that forgets APP_ENV gets Secure cookies, HSTS, no demo data and a
refusal to start without a proper SECRET_KEY. `make run` sets APP_ENV=development and the tests set testing.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("production", "development", "testing")
MIN_SECRET_KEY = 32


class ConfigError(RuntimeError):
    """The configuration is not safe to run with; the message says what to set."""


def _development_key(instance_path: Path) -> str:
    """A stable random key kept in instance/, so a developer's sessions survive a restart. Never used in production."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def app_env(overrides: dict | None = None) -> str:
    return (overrides or {}).get("APP_ENV") or os.environ.get("APP_ENV") or "production"


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    env = app_env(overrides)
    if env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV is {env!r}: set it to one of {', '.join(ENVIRONMENTS)}.")
    relaxed = env in ("development", "testing")
    secret = os.environ.get("SECRET_KEY") or (_development_key(instance_path) if relaxed else "")
    redis_url = os.environ.get("REDIS_URL", "")
    return {
        "APP_ENV": env,
        "SECRET_KEY": secret,
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'readiness.sqlite'}"),
        "QUESTIONNAIRE_DIR": os.environ.get("QUESTIONNAIRE_DIR", str(PROJECT_ROOT / "questionnaires")),
        # Core questionnaires offered for self-assessment until an administrator chooses on the Questionnaires page.
        "DEFAULT_QUESTIONNAIRES": tuple(
            k.strip()
            for k in os.environ.get("DEFAULT_QUESTIONNAIRES", "neighbourhood-readiness").split(",")
            if k.strip()
        ),
        # The NHS.UK frontend: built CSS and JS, and the images, icons and manifest the CSS asks for at /assets/.
        "FRONTEND_DIR": str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
        "ASSETS_DIR": str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk" / "assets"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not relaxed,
        "SESSION_COOKIE_NAME": "session" if relaxed else "__Host-session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": not relaxed,
        # The cookie outlives the session it names, so a user whose session ended is still known when they come
        # back and what they typed can be given back to them alone. The session itself lives on the server.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        # The cookie is sent again only when what it holds changes: its 14 days run from signing in, far beyond any
        # session's own limits (SESSION_MAX_HOURS), and re-signing it on every page was measurable work.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Bytes of rendered pages each worker keeps (app/page_cache.py); 0 turns keeping pages off.
        "PAGE_CACHE_BYTES": int(os.environ.get("PAGE_CACHE_BYTES", str(32 * 1024 * 1024))),
        # Render a kept page afresh all the same and fail if the two differ: the tests check every kept page this way.
        "PAGE_CACHE_VERIFY": env == "testing",
        # Idle time after which a signed-in user must sign in again (their typed input is kept). ASVS level 2: 30.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        # However active, a session ends this long after sign-in.
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", "12")),
        # The CSRF token lives as long as the session; the session's own limits handle staleness instead.
        "WTF_CSRF_TIME_LIMIT": None,
        # Demo accounts exist only where this is set (make run sets it; production never should).
        "DEMO_DATA_ALLOWED": relaxed,
        # Sign-in throttling (failed attempts only). Shared across app instances when REDIS_URL is set.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": False,  # Retry-After is set on a refusal only, never on an ordinary failure
        "RATELIMIT_KEY_PREFIX": "readiness",
        # Failed sign-ins to one account from one address (or /64 network) before it must wait there.
        "SIGN_IN_LIMIT_PER_ACCOUNT": os.environ.get("SIGN_IN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        # Attempts on one account from anywhere: caps guessing spread over many addresses (ASVS: under 100 an hour)
        # while one address guessing cannot lock the owner out elsewhere.
        "SIGN_IN_LIMIT_ACCOUNT_TOTAL": os.environ.get("SIGN_IN_LIMIT_ACCOUNT_TOTAL", "20 per 15 minutes"),
        "SIGN_IN_LIMIT_PER_ADDRESS": os.environ.get("SIGN_IN_LIMIT_PER_ADDRESS", "50 per 15 minutes"),
        # The JSON API (app/api): requests per token, counted in the same storage; returns per page.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "120 per minute"),
        "API_PAGE_SIZE": int(os.environ.get("API_PAGE_SIZE", "50")),
        # Background jobs (app/jobs): Redis when JOBS_REDIS_URL (or REDIS_URL) is set, else a SQLite file that needs
        # no server. The tests run each job at once in the same process; a worker (app/worker.py) never does.
        "JOBS_REDIS_URL": os.environ.get("JOBS_REDIS_URL", redis_url),
        "JOBS_SQLITE_PATH": os.environ.get("JOBS_SQLITE_PATH", str(instance_path / "jobs.sqlite")),
        "JOBS_QUEUE_NAME": os.environ.get("JOBS_QUEUE_NAME", "readiness"),
        "JOBS_IMMEDIATE": env == "testing",
        # A running job silent this long (or a queued one not started) was lost with its worker: it is run again.
        "JOBS_STALE_MINUTES": int(os.environ.get("JOBS_STALE_MINUTES", "5")),
        # Email (app/services/mail.py): "smtp" in production, "file" (instance/mail/ and the console) in development,
        # "memory" (app.extensions["mail_outbox"]) in the tests. Production refuses to start without a server to use.
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND") or {"development": "file", "testing": "memory"}.get(env, "smtp"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "true").strip().lower() not in ("0", "false", "no", "off"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "PCN Neighbourhood Readiness <no-reply@localhost>" if relaxed else ""),
        "MAIL_FILE_DIR": os.environ.get("MAIL_FILE_DIR", str(instance_path / "mail")),
        # Invitation links work once, for this many days; bad links from one address (or /64) before it must wait.
        "INVITATION_DAYS": int(os.environ.get("INVITATION_DAYS", "7")),
        "INVITATION_LINK_LIMIT": os.environ.get("INVITATION_LINK_LIMIT", "20 per 15 minutes"),
        # How many proxies in front of the app set X-Forwarded-For/-Proto (0: the app faces clients directly).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Where the browser may fetch the NHS.UK fonts from (the design system's CSS asks for Frutiger there).
        "FONT_ORIGINS": os.environ.get("FONT_ORIGINS", "https://assets.nhs.uk"),
        "HSTS_SECONDS": 0 if relaxed else 31_536_000,
    }


def check_config(config: dict) -> None:
    """Fail closed: refuse to start a production app whose settings would make it unsafe."""
    if config["APP_ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV is {config['APP_ENV']!r}: set it to one of {', '.join(ENVIRONMENTS)}.")
    if config.get("MAIL_BACKEND", "memory") not in ("smtp", "file", "memory"):
        raise ConfigError(f"MAIL_BACKEND is {config['MAIL_BACKEND']!r}: set it to smtp, file or memory.")
    if config["APP_ENV"] != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if not isinstance(key, str) or len(key) < MIN_SECRET_KEY:
        raise ConfigError(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY} characters in production, "
            "for example: python3 -c 'import secrets; print(secrets.token_hex(32))'. "
            "For a development server, set APP_ENV=development."
        )
    if config.get("DEMO_DATA_ALLOWED"):
        raise ConfigError("DEMO_DATA_ALLOWED cannot be set in production.")
    if config.get("MAIL_BACKEND") == "smtp" and not (config.get("MAIL_SERVER") and config.get("MAIL_FROM")):
        raise ConfigError(
            "MAIL_SERVER and MAIL_FROM must be set in production, so that invitations can be emailed: for example "
            "MAIL_SERVER=smtp.example.org and MAIL_FROM='PCN Neighbourhood Readiness <readiness@example.org>'. "
            "To deliver email another way, set MAIL_BACKEND (file: saved in instance/mail/ and printed on the console)."
        )
    if config.get("MAIL_BACKEND") == "smtp" and config.get("MAIL_PASSWORD") and not config.get("MAIL_USE_TLS"):
        raise ConfigError("MAIL_PASSWORD is set but MAIL_USE_TLS is off: the password would be sent unencrypted.")

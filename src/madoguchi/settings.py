"""The one settings module. Everything configurable comes from the environment (see .env.example).

Safe laptop defaults: SQLite under ./var, a secret key generated once into the data directory,
DEBUG off, both zones served.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf.locale import LANG_INFO

from madoguchi.env import (
    EnvError,
    default_workers,
    env_bool,
    env_choice,
    env_database_url,
    env_int,
    env_list,
    env_login_limits,
    env_mapping,
    env_rate_limits,
    env_secret,
    env_str,
    env_weights,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("MADOGUCHI_DATA_DIR", "var")).resolve()


def _owner_only(path: Path, *, mode: int) -> None:
    """Create `path` (a directory for 0o700, else an empty file) readable by the owner only, or
    tighten it to `mode` when it exists and belongs to this user: the data directory holds the
    SQLite database, the secret keys and residents' data."""
    if mode & 0o100:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
    elif not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
        path.chmod(mode)


_owner_only(DATA_DIR, mode=0o700)

DEBUG = env_bool("MADOGUCHI_DEBUG", False)
ZONE = env_choice("MADOGUCHI_ZONE", "all", ("all", "public", "staff"))
ALLOWED_HOSTS = env_list("MADOGUCHI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("MADOGUCHI_CSRF_TRUSTED_ORIGINS", [])


def _laptop_secret_key() -> str:
    """A random key kept in the data directory, so sessions survive a restart on a laptop."""
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


SECRET_KEY = env_secret("MADOGUCHI_SECRET_KEY", "MADOGUCHI_SECRET_KEY_FILE", "") or (
    _laptop_secret_key()
)

INSTALLED_APPS = [
    "madoguchi.core.admin_site.AdminConfig",  # django.contrib.admin; refuses Individual Numbers
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "madoguchi.core",
    "madoguchi.staff",
    "madoguchi.offices",
    "madoguchi.reservations",
    "madoguchi.walkins",
    "madoguchi.issuance",
    "madoguchi.forecasts",
    "madoguchi.resident_site",
    "madoguchi.staff_console",
    "madoguchi.queue_board",
    "madoguchi.api",
    "madoguchi.demo",  # the demo city and its command; touches every app above
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "madoguchi.core.middleware.ContentSecurityPolicyMiddleware",
    "madoguchi.core.middleware.RequestGuardMiddleware",  # NUL bytes, oversized bodies, DB down
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # public pages: the municipality of /m/<code>/ or of the host (docs/municipalities.md)
    "madoguchi.offices.tenancy.MunicipalityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "madoguchi.api.middleware.JsonMethodNotAllowedMiddleware",
    "madoguchi.api.middleware.ApiLaneMiddleware",  # /api/ skips the page middleware below
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "madoguchi.core.middleware.StaffLanguageMiddleware",  # staff pages: Japanese or English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # the staff zone: sign-in, second factor, idle and absolute timeouts (docs/staff-login.md)
    "madoguchi.staff.middleware.StaffLoginMiddleware",
]

ROOT_URLCONF = "madoguchi.urls"
WSGI_APPLICATION = "madoguchi.wsgi.application"
AUTH_USER_MODEL = "staff.StaffUser"
LOGIN_URL = "/staff/login/"
LOGIN_REDIRECT_URL = "/staff/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Staff sessions (docs/staff-login.md): signed out after this many idle minutes, and this many
# hours after the password step whatever happens.
MADOGUCHI_STAFF_IDLE_MINUTES = env_int(
    "MADOGUCHI_STAFF_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60
)
MADOGUCHI_STAFF_SESSION_MAX_HOURS = env_int(
    "MADOGUCHI_STAFF_SESSION_MAX_HOURS", 12, minimum=1, maximum=7 * 24
)
# Failed staff logins allowed per account and per client address in a fixed window
# (attempts/seconds); counted before the password is hashed. They cannot be switched off.
MADOGUCHI_STAFF_LOGIN_LIMITS = env_login_limits(
    "MADOGUCHI_STAFF_LOGIN_LIMITS", {"account": (5, 900), "address": (20, 900)}
)
OTP_TOTP_ISSUER = "madoguchi"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "madoguchi.core.context_processors.zone",
                # after Django's csrf processor: a page rendered for the page cache gets a
                # marker for its CSRF token, replaced per answer (core/pagecache.py)
                "madoguchi.core.pagecache.context",
                "madoguchi.core.context_processors.languages",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # Writers queue on the lock instead of failing; IMMEDIATE takes the write lock at
            # BEGIN so two bookings never deadlock on a lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        # A file (threads in concurrency tests need real, separate connections), one per test
        # process so parallel runs never share it.
        config["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
    return config


DATABASE_URL = env_database_url("DATABASE_URL", f"sqlite:///{DATA_DIR / 'madoguchi.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # An empty file made 0600 first: SQLite takes it as a new database and creates its -wal and
    # -shm files with the same permissions.
    _owner_only(Path(DATABASES["default"]["NAME"]), mode=0o600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Languages (docs/languages.md). Japanese is the source language (the msgids); every language
# here has a complete catalogue for the residents' pages, mails and notice guidance
# (`madoguchi check-translations`, tests/test_translations.py). Staff pages are Japanese and
# English only (STAFF_LANGUAGES); on them any other choice is shown in Japanese. The switch names
# each language in its own name (LANG_INFO's name_local).
LANGUAGE_CODE = "ja"
LANG_INFO["ja-x-easy"] = {
    # やさしい日本語: a private-use BCP 47 tag; its catalogue lives in locale/ja_X-easy, and dates
    # and other formats fall back to Japanese.
    "bidi": False,
    "code": "ja-x-easy",
    "name": "Easy Japanese",
    "name_local": "やさしい日本語",
}
LANGUAGES = [
    ("ja", "日本語"),
    ("ja-x-easy", "やさしい日本語"),
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("ko", "한국어"),
    ("vi", "Tiếng Việt"),
    ("pt-br", "Português"),
]
STAFF_LANGUAGES = ("ja", "en")
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Dates in each language's own form: Django's formats per language, plus the project's named
# formats (DAY_FORMAT, …) in core/formats/<locale>/formats.py (docs/languages.md).
FORMAT_MODULE_PATH = ["madoguchi.core.formats"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Served over HTTPS (the default): cookies only over HTTPS, and Strict-Transport-Security on
# every HTTPS answer. `madoguchi demo` switches it off for plain http on a laptop; the test
# suite's root conftest does too. Behind a proxy that ends TLS, trust its X-Forwarded-Proto.
HTTPS = env_bool("MADOGUCHI_HTTPS", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int(
    "MADOGUCHI_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0, maximum=63_072_000
)
if env_bool("MADOGUCHI_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# One strict policy for every page (core.middleware.ContentSecurityPolicyMiddleware): only this
# site's own scripts, styles, images and forms; no inline script or style; never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# Bodies above this are refused with 413 (JSON under /api/) before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "MADOGUCHI_MAX_BODY_BYTES", 2_621_440, minimum=1024, maximum=1_073_741_824
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_HOST = env_str("MADOGUCHI_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("MADOGUCHI_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("MADOGUCHI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("MADOGUCHI_EMAIL_PASSWORD", "MADOGUCHI_EMAIL_PASSWORD_FILE", "")
EMAIL_USE_TLS = env_bool("MADOGUCHI_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("MADOGUCHI_EMAIL_FROM", "madoguchi@localhost")
EMAIL_BACKEND = env_str(
    "MADOGUCHI_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("MADOGUCHI_EMAIL_HOST", "")
    else "django.core.mail.backends.console.EmailBackend",
)

# Text messages to residents' mobile phones (core/sms.py): "console" prints them, "file"
# appends JSON lines to MADOGUCHI_SMS_FILE, "twilio" sends through Twilio's Messages API.
MADOGUCHI_SMS_BACKEND = env_choice(
    "MADOGUCHI_SMS_BACKEND", "console", ("console", "file", "twilio")
)
MADOGUCHI_SMS_FILE = env_str("MADOGUCHI_SMS_FILE", str(DATA_DIR / "sms.jsonl"))
MADOGUCHI_TWILIO_ACCOUNT_SID = env_str("MADOGUCHI_TWILIO_ACCOUNT_SID", "")
MADOGUCHI_TWILIO_AUTH_TOKEN = env_secret(
    "MADOGUCHI_TWILIO_AUTH_TOKEN", "MADOGUCHI_TWILIO_AUTH_TOKEN_FILE", ""
)
MADOGUCHI_TWILIO_FROM = env_str("MADOGUCHI_TWILIO_FROM", "")
MADOGUCHI_TWILIO_API_BASE = env_str("MADOGUCHI_TWILIO_API_BASE", "https://api.twilio.com")

# Public rate limits (scope=requests/seconds); see core/ratelimit.py for the scopes.
MADOGUCHI_RATE_LIMITS = env_rate_limits(
    "MADOGUCHI_RATE_LIMITS",
    {"ip": (120, 60), "ip_write": (20, 60), "notice": (10, 600), "code": (20, 600)},
)
# How a site's bookable counter time is shared between procedures: weights by procedure code,
# over the defaults in `reservations.slots.DEFAULT_SLOT_WEIGHTS` (the codes are
# `offices.models.ProcedureCode`'s; settings cannot import models).
MADOGUCHI_SLOT_WEIGHTS = env_weights("MADOGUCHI_SLOT_WEIGHTS", {})

# Audit events are sealed into the hash chain by one background timer per process within this
# many milliseconds of their commit; 0 seals right after each commit (decision 0008).
MADOGUCHI_AUDIT_SEAL_MS = env_int("MADOGUCHI_AUDIT_SEAL_MS", 500, minimum=0, maximum=60_000)


# The audit log's secret (decision 0016, docs/audit.md): chain links, each event's seal and the
# checkpoints are HMAC-SHA256 with this key, which never goes into the database. Unset on a
# laptop: one is generated into the data directory (0600). Keep it — and back it up — apart
# from the database: without it the log cannot be verified.
def _laptop_audit_key() -> str:
    path = DATA_DIR / "audit_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fresh = DATA_DIR / f".audit_key.{os.getpid()}"
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(fresh, path)  # atomic: of two processes starting at once, one key wins
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    return path.read_text(encoding="utf-8").strip()


MADOGUCHI_AUDIT_KEY = env_secret("MADOGUCHI_AUDIT_KEY", "MADOGUCHI_AUDIT_KEY_FILE", "") or (
    _laptop_audit_key()
)
if len(MADOGUCHI_AUDIT_KEY) < 32:
    raise EnvError("MADOGUCHI_AUDIT_KEY", "…", "32 文字以上のランダムな文字列にしてください")
# Municipality reports (docs/municipality-report.md, decision 0026): each municipality's
# Ed25519 signing key is a PEM file `<code>.ed25519.pem` in this directory (0600, never in the
# database; created on first use when missing — back it up with the audit key). The roll-up
# accepts imported reports signed by the public keys listed in the trusted-keys file
# (`CODE BASE64_KEY` per line, kept by the deployment's operators).
MADOGUCHI_REPORT_KEY_DIR = Path(
    env_str("MADOGUCHI_REPORT_KEY_DIR", str(DATA_DIR / "report_keys"))
).resolve()
MADOGUCHI_REPORT_TRUSTED_KEYS = Path(
    env_str("MADOGUCHI_REPORT_TRUSTED_KEYS", str(DATA_DIR / "report_trusted_keys.txt"))
).resolve()
# Decision 0030: the roll-up's staff may also trust and revoke keys on the trusted keys screen
# (kept in the database). True keeps the stricter rule of decision 0026: the file above is the
# only source of trust — the screen lists the keys read-only, refuses to add or revoke (403),
# and keys stored in the database are not used to verify a report.
MADOGUCHI_REPORT_KEYS_FILE_ONLY = env_bool("MADOGUCHI_REPORT_KEYS_FILE_ONLY", False)
# Every sealing pass appends a keyed checkpoint (sequence number + head hash) here and to the
# server log; `madoguchi audit-verify` compares the chain with them. Put it where the database's
# users cannot rewrite it (another disk or host; `chattr +a`).
MADOGUCHI_AUDIT_CHECKPOINT_FILE = Path(
    env_str("MADOGUCHI_AUDIT_CHECKPOINT_FILE", str(DATA_DIR / "audit-checkpoints.jsonl"))
).resolve()
# PostgreSQL: the role the application connects as, when migrations run as another (the
# owner). After every `migrate` that role gets only what the application needs — on the audit
# table INSERT, SELECT and UPDATE of the seal columns (core/db_roles.py, docs/audit.md).
MADOGUCHI_DB_APP_ROLE = env_str("MADOGUCHI_DB_APP_ROLE", "")

# The largest J-LIS delivery file the staff upload page takes (bigger ones: `import-deliveries`)
MADOGUCHI_IMPORT_UPLOAD_MAX_BYTES = env_int(
    "MADOGUCHI_IMPORT_UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1024, maximum=2**31
)
# Sites, municipalities and procedures are kept this many seconds per process for the booking
# path (a change made elsewhere takes effect within it); 0 reads them on every booking.
MADOGUCHI_REFERENCE_CACHE_SECONDS = env_int(
    "MADOGUCHI_REFERENCE_CACHE_SECONDS", 10, minimum=0, maximum=3600
)
# The residents' booking pages before the form (home, procedures, sites, month, day) are kept
# this many seconds per process (core/pagecache.py, decision 0020): the availability they show
# is at most this old; the confirmation reads the slot live. 0 renders them on every request.
MADOGUCHI_PAGE_CACHE_SECONDS = env_int("MADOGUCHI_PAGE_CACHE_SECONDS", 2, minimum=0, maximum=60)

# PostgreSQL: the residents' flow's live seat read runs as a prepared statement of the
# connection (core/prepared.py); 0 for a connection pooler that does not keep sessions.
MADOGUCHI_PREPARED_READS = env_bool("MADOGUCHI_PREPARED_READS", True)

# How a booking is written on PostgreSQL: "statement" sends the whole transaction as one
# statement in one round trip (reservations/fastpath.py, decision 0017); "orm" the ORM reference
# implementation, which SQLite always uses.
MADOGUCHI_BOOKING_PATH = env_choice("MADOGUCHI_BOOKING_PATH", "statement", ("statement", "orm"))

PORT = env_int("MADOGUCHI_PORT", 8000, minimum=1, maximum=65535)
# The residents' site as residents reach it: every link in mails, SMS, the notice's QR code and
# the queue slip (core/links.py). Unset: this machine on MADOGUCHI_PORT (`serve --port` and
# `demo --port` set it for their port when it is unset).
PUBLIC_BASE_URL = env_str("MADOGUCHI_PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}")
# Several municipalities on one deployment (docs/municipalities.md): each municipality's
# residents' site is at /m/<municipality code>/ and, for a host named here, at that host's root
# (`host=code,host=code`; the host also belongs in MADOGUCHI_ALLOWED_HOSTS). With one
# municipality its site stays at /.
MUNICIPALITY_HOSTS = {
    host.lower(): code for host, code in env_mapping("MADOGUCHI_MUNICIPALITY_HOSTS", {}).items()
}
# gunicorn sync workers for `madoguchi serve`: one per core with the database on this machine,
# 2 × cores + 1 with a remote one (env.default_workers, decision 0010).
WORKERS = env_int("MADOGUCHI_WORKERS", default_workers(DATABASE_URL), minimum=1, maximum=64)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("MADOGUCHI_LOG_LEVEL", "WARNING")},
    # the audit chain's checkpoints always reach the server log: a copy outside the database
    "loggers": {"madoguchi.audit.checkpoint": {"level": "INFO"}},
}

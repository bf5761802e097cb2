"""Settings read from SECGO_* environment variables, with safe defaults."""
import os
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

# The package folder: templates, static files, catalogs, migrations and the service worker are
# package data, so an installed copy runs from any working directory.
PACKAGE = Path(__file__).resolve().parent
LOCALES = ("en", "km", "lo", "my", "th", "vi")
TIMEZONES = (
    "Asia/Bangkok",
    "Asia/Phnom_Penh",
    "Asia/Vientiane",
    "Asia/Ho_Chi_Minh",
    "Asia/Yangon",
    "UTC",
)


def _env(name, default=None):
    return os.environ.get(f"SECGO_{name}", default)


def _env_bool(name, default):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name, default):
    value = _env(name)
    return int(value) if value not in (None, "") else default


def load_or_create_secret(instance_path):
    """Return the instance secret key, creating it on first start (never hard-coded).

    Several processes may start at once (gunicorn workers, push workers): the key is written
    to a private temporary file and linked into place atomically, so every process reads the
    one key that won, never a half-written file.
    """
    path = Path(instance_path) / "secret_key"
    for _ in range(3):
        try:
            key = path.read_text().strip()
            if key:
                return key
        except FileNotFoundError:
            pass
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"secret_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won: read its key
        finally:
            tmp.unlink(missing_ok=True)
    raise RuntimeError(f"cannot read or create {path}")


def _ratelimit_storage_options(uri):
    """Short Redis timeouts: an unreachable Redis must not hold a log-in for minutes."""
    if uri.split(":", 1)[0].lower() in ("redis", "rediss", "redis+unix"):
        return {"socket_connect_timeout": 2, "socket_timeout": 2}
    return {}


# Rate-limit stores whose counters live inside one process: with several workers or instances
# each keeps its own count, so every limit is multiplied by the number of processes.
PER_PROCESS_STORAGES = ("memory",)


def storage_is_per_process(uri: str | None) -> bool:
    """True when this RATELIMIT_STORAGE_URI keeps counters in the process's own memory."""
    return (uri or "memory://").split(":", 1)[0].lower() in PER_PROCESS_STORAGES


def per_process_storage_problem(config, workers: int) -> str | None:
    """The operator's warning when `workers` processes would each count limits on their own."""
    uri = config.get("RATELIMIT_STORAGE_URI")
    if workers <= 1 or not config.get("RATELIMIT_ENABLED", True) or not storage_is_per_process(uri):
        return None
    return (
        f"SEC GO! rate limits are kept in each process's memory ({uri}) but {workers} workers "
        f"run: each worker counts on its own, so login throttling is {workers} times weaker. "
        "Set SECGO_RATELIMIT_STORAGE_URI=redis://<host>:6379/0 (one Redis shared by every "
        "worker and instance)."
    )


def _unique_test_prefix():
    return f"secgo-test-{uuid.uuid4().hex}"


class Config:
    """Production-safe defaults; every value may be overridden by a SECGO_* variable."""

    SECRET_KEY = _env("SECRET_KEY")  # None -> generated in the instance folder
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")  # None -> SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = _env("DEFAULT_TIMEZONE", "Asia/Bangkok")
    # The .po files; each is compiled to a .mo beside it when the app starts, or into the
    # instance folder when the installed package cannot be written (secgo/i18n/catalogs.py).
    BABEL_TRANSLATION_DIRECTORIES = str(PACKAGE / "translations")
    LANGUAGES = LOCALES

    SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "secgo_session"
    REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("REMEMBER_DAYS", 365))
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The remember cookie goes out again once a day (authn._cookies_once_a_day), not with every
    # answer (Flask-Login's refresh also rewrote the session cookie each time): about 0.6 KB
    # less on each answer on 2G, and it still runs a year from the last day of use.
    REMEMBER_COOKIE_REFRESH_EACH_REQUEST = False
    SESSION_REFRESH_EACH_REQUEST = False
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: queued forms stay valid
    WTF_CSRF_SSL_STRICT = False  # SameSite cookies + token; Referer is often stripped by proxies

    # One process (`make run`): memory is enough. Several workers or instances: set
    # SECGO_RATELIMIT_STORAGE_URI=redis://host:6379/0 so they share one count (gunicorn.conf.py
    # logs an error when several workers start on the memory store).
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STORAGE_OPTIONS = _ratelimit_storage_options(RATELIMIT_STORAGE_URI)
    # Keeps SEC GO!'s counters apart from other users of the same Redis.
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "secgo")
    # Redis down: keep throttling each process in memory (logged) rather than refusing logins.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _env_bool("RATELIMIT_IN_MEMORY_FALLBACK", True)
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Rendered pages kept per user while their data is unchanged (secgo/pagecache.py).
    PAGE_CACHE = _env_bool("PAGE_CACHE", True)
    # Where kept pages are shared by every worker and instance (secgo/pagestore.py): unset, the
    # rate limits' Redis when they use one; `memory://`: each process keeps its own.
    PAGE_CACHE_STORE_URI = _env("PAGE_CACHE_STORE_URI", "")
    PAGE_CACHE_KEY_PREFIX = _env("PAGE_CACHE_KEY_PREFIX", "")  # unset: the rate limits' prefix
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute;60 per hour")

    INVITE_TTL = timedelta(hours=_env_int("INVITE_TTL_HOURS", 72))
    # Issues without any answer for longer than this are flagged on the coordinator dashboard.
    COORDINATOR_UNANSWERED_HOURS = _env_int("COORDINATOR_UNANSWERED_HOURS", 48)
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_BYTES", 12 * 1024 * 1024)
    PUSH_ALLOWED_HOSTS = _env(
        "PUSH_ALLOWED_HOSTS",
        "fcm.googleapis.com,updates.push.services.mozilla.com,"
        "web.push.apple.com,*.notify.windows.com",
    )
    # How many proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none).
    PROXY_HOPS = _env_int("PROXY_HOPS", 0)
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000")
    VAPID_SUBJECT = _env("VAPID_SUBJECT", "admin@secgo.example")
    # None -> generated once in the instance folder (share the key between instances).
    VAPID_PRIVATE_KEY = _env("VAPID_PRIVATE_KEY")
    VAPID_PUBLIC_KEY = _env("VAPID_PUBLIC_KEY")  # optional: checked against the private key
    # Push delivery (secgo/push/worker.py). A push lives 5 days at the push service: phones
    # offline for days still get it (TTL 0 would be dropped at once).
    PUSH_TTL = _env_int("PUSH_TTL", 5 * 24 * 3600)
    PUSH_MAX_ATTEMPTS = _env_int("PUSH_MAX_ATTEMPTS", 8)
    PUSH_BACKOFF_SECONDS = _env_int("PUSH_BACKOFF_SECONDS", 30)
    PUSH_BACKOFF_MAX_SECONDS = _env_int("PUSH_BACKOFF_MAX_SECONDS", 6 * 3600)
    PUSH_RETRY_AFTER_MAX_SECONDS = _env_int("PUSH_RETRY_AFTER_MAX_SECONDS", 24 * 3600)
    PUSH_LEASE_SECONDS = _env_int("PUSH_LEASE_SECONDS", 300)
    PUSH_TIMEOUT_SECONDS = _env_int("PUSH_TIMEOUT_SECONDS", 10)
    PUSH_MAX_DEVICES = _env_int("PUSH_MAX_DEVICES", 20)  # subscriptions kept per user
    PUSH_POLL_SECONDS = _env_int("PUSH_POLL_SECONDS", 2)
    PUSH_UNANSWERED_CHECK_SECONDS = _env_int("PUSH_UNANSWERED_CHECK_SECONDS", 300)
    # Reminders (secgo/notify/reminders.py): an active order with no update for this many days
    # reminds its producer; the push worker looks for reminders due this often.
    REMIND_STALE_DAYS = _env_int("REMIND_STALE_DAYS", 3)
    REMIND_CHECK_SECONDS = _env_int("REMIND_CHECK_SECONDS", 300)
    # Channels beside push (secgo/channels/): each is off until its credentials are set.
    TELEGRAM_BOT_TOKEN = _env("TELEGRAM_BOT_TOKEN")
    TELEGRAM_BOT_USERNAME = _env("TELEGRAM_BOT_USERNAME")
    TELEGRAM_WEBHOOK_SECRET = _env("TELEGRAM_WEBHOOK_SECRET")
    TELEGRAM_API_URL = _env("TELEGRAM_API_URL", "https://api.telegram.org")
    TELEGRAM_LINK_TTL_MINUTES = _env_int("TELEGRAM_LINK_TTL_MINUTES", 30)
    SMS_GATEWAY_URL = _env("SMS_GATEWAY_URL")
    SMS_GATEWAY_USER = _env("SMS_GATEWAY_USER")
    SMS_GATEWAY_PASSWORD = _env("SMS_GATEWAY_PASSWORD")
    SMS_CODE_TTL_MINUTES = _env_int("SMS_CODE_TTL_MINUTES", 10)
    CHANNEL_TIMEOUT_SECONDS = _env_int("CHANNEL_TIMEOUT_SECONDS", 10)
    PREFERRED_URL_SCHEME = "https"
    # Operations (secgo/ops/observe.py): one JSON line per request on stderr ("json"), or
    # Flask's plain logging ("text"); /metrics answers only with this bearer token.
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    REQUEST_LOG = _env_bool("REQUEST_LOG", True)
    METRICS_TOKEN = _env("METRICS_TOKEN")
    # Account and permission events are kept this long (`flask audit-prune` forgets older).
    AUDIT_RETENTION_DAYS = _env_int("AUDIT_RETENTION_DAYS", 730)


class TestConfig(Config):
    """Settings for the test suite: fast hashing, no secure-cookie requirement."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_ENABLED = True
    # Tests count on a real Redis, as production does; a unique prefix per app instance keeps
    # concurrent runs and tests apart, and no silent fall back to memory.
    RATELIMIT_STORAGE_URI = _env("TEST_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    RATELIMIT_STORAGE_OPTIONS = _ratelimit_storage_options(RATELIMIT_STORAGE_URI)
    RATELIMIT_KEY_PREFIX = staticmethod(_unique_test_prefix)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
    PREFERRED_URL_SCHEME = "http"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests only
    # Each test's app takes the templates the process compiled already (templating.ProcessTemplates).
    TEMPLATES_SHARED_IN_PROCESS = True
    REQUEST_LOG = False  # tests that read the request log turn it on
    # Channels on, at a closed port of 127.0.0.1: a test that sends starts its own fake
    # provider (tests/channelfakes.py) and points these at it.
    TELEGRAM_BOT_TOKEN = "123456:test-token"
    TELEGRAM_BOT_USERNAME = "secgo_test_bot"
    TELEGRAM_WEBHOOK_SECRET = "test-webhook-secret"
    TELEGRAM_API_URL = "http://127.0.0.1:9"
    SMS_GATEWAY_URL = "http://127.0.0.1:9"
    SMS_GATEWAY_USER = "sms"
    SMS_GATEWAY_PASSWORD = "test-password"
    CHANNEL_TIMEOUT_SECONDS = 3
    METRICS_TOKEN = None

"""Push settings: app config first, then SECGO_* environment variables, then defaults."""
import os

DEFAULTS = {
    "PUSH_TTL": 5 * 24 * 3600,  # phones offline for days still get it; TTL 0 would be dropped
    "PUSH_MAX_ATTEMPTS": 8,
    "PUSH_BACKOFF_SECONDS": 30,
    "PUSH_BACKOFF_MAX_SECONDS": 6 * 3600,
    "PUSH_RETRY_AFTER_MAX_SECONDS": 24 * 3600,
    "PUSH_LEASE_SECONDS": 300,
    "PUSH_TIMEOUT_SECONDS": 10,
    "PUSH_MAX_DEVICES": 20,
    "PUSH_POLL_SECONDS": 2,
    "PUSH_UNANSWERED_CHECK_SECONDS": 300,
}


def setting(app, name: str, default=None):
    """The value of a push setting; numbers are converted like their default."""
    value = app.config.get(name)
    if value in (None, ""):
        value = os.environ.get(f"SECGO_{name}")
    if value in (None, ""):
        return DEFAULTS.get(name, default)
    kind = type(DEFAULTS.get(name, default))
    return kind(value) if kind in (int, float) else value

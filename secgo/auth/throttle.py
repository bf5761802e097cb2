"""Log-in throttling: who shares which bucket of failed attempts, and the device cookie.

Three buckets, each LOGIN_RATE_LIMIT, counted in the limiter's shared store (Redis in
production) and only for attempts that do not log in:

- per address: one source spraying passwords at many logins;
- per login, for untrusted clients: everyone without a device cookie for that login shares it;
- per device cookie: a browser that logged in to that login before (OWASP "device cookie")
  counts its own failures, so an attacker who fills the login's bucket does not lock the real
  user out of their own phone. Such attempts skip the address and login buckets.

An attempt takes its place in the buckets before the password is checked (an atomic
increment: a burst of parallel guesses cannot slip past the limit, as it could with a
test-then-deduct) and gives it back when it logs in.
"""
import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, g, make_response, request
from flask_login import current_user
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import limiter
from .services import normalize_phone

DEVICE_COOKIE = "secgo_device"
DEVICE_COOKIE_AGE = timedelta(days=365)
DEVICE_COOKIE_PATH = "/login"
DEVICE_SALT = "secgo.auth.device-cookie"
MAX_DEVICE_LOGINS = 5  # several people may share one phone


def login_limit() -> str:
    """The limit of each log-in bucket, e.g. "10 per minute;60 per hour"."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_digest(identifier: str) -> str:
    """A keyed digest naming a login the way log-in finds it (case, spaces, phone punctuation).

    The digest, not the login, goes into Redis keys and cookies: no phone numbers or e-mail
    addresses in the store, and no way to test guesses against it without the app's secret.
    """
    raw = identifier or ""
    normal = normalize_phone(raw) or raw.strip().lower()[:254]
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"login:" + normal.encode(), hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def _device_entries() -> list:
    """The [login digest, nonce] pairs of this request's valid device cookie."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value or len(value) > 2048:
        return []
    try:
        entries = _serializer().loads(value, max_age=int(DEVICE_COOKIE_AGE.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries[:MAX_DEVICE_LOGINS]
            if isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)]


def trusted_device() -> str | None:
    """The nonce of this request's device cookie when it names the login typed in the form."""
    if "device_nonce" not in g:
        digest = login_digest(request.form.get("login", ""))
        g.device_nonce = next((n for d, n in _device_entries() if hmac.compare_digest(d, digest)), None)
    return g.device_nonce


def address_key() -> str:
    """Bucket of every untrusted attempt from one address."""
    return "login-address:" + get_remote_address()


def is_trusted_device() -> bool:
    """True when the attempt is counted against its device cookie only."""
    return trusted_device() is not None


def login_key() -> str:
    """Bucket of this attempt: its device cookie's, or the typed login's shared one."""
    nonce = trusted_device()
    if nonce:
        return "login-device:" + nonce
    return "login:" + login_digest(request.form.get("login", ""))


def _give_back_attempt() -> None:
    """Return this request's places in the log-in buckets: it was not a failed attempt."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return  # throttling is off (benchmarks): nothing was taken
    try:
        store = limiter.limiter.storage
        for taken in limiter.current_limits:
            if not taken.breached:
                store.incr(taken.key, taken.limit.get_expiry(), amount=-1)
    except Exception:  # a store outage must not turn a good log-in into an error
        current_app.logger.exception("Could not give back a log-in attempt to the rate limiter")


def _remember_device(response, identifier: str) -> None:
    """Set (or refresh) the signed device cookie naming this login on this browser."""
    digest = login_digest(identifier)
    kept = [e for e in _device_entries() if e[0] != digest]
    entries = [[digest, secrets.token_urlsafe(16)], *kept][:MAX_DEVICE_LOGINS]
    response.set_cookie(
        DEVICE_COOKIE, _serializer().dumps(entries),
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()), path=DEVICE_COOKIE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Strict",
    )


def count_failures_only(view):
    """Wrap the log-in view: a POST that logs in gives its attempt back and trusts the device."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        logged_in_before = current_user.is_authenticated
        response = view(*args, **kwargs)
        if not current_user.is_authenticated:
            return response  # a failed attempt: it stays counted
        _give_back_attempt()
        if logged_in_before:
            return response
        response = make_response(response)
        _remember_device(response, request.form.get("login", ""))
        return response

    return wrapper


def password_check_key() -> str:
    """Bucket of a signed-in user's guesses at their current password (changing it in settings)."""
    return f"password-check:{current_user.id}"


def not_a_password_check() -> bool:
    """True for settings forms that do not ask for the current password."""
    return request.form.get("action") != "password"

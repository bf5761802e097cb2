"""Who is asking: a sign-in's session or remember cookie (with CSRF), or a bearer API token
(without CSRF, and only when the token itself is valid)."""
from datetime import timedelta

from flask import current_app, g, has_request_context, request, session
from flask_login import user_logged_in
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from .errors import ApiError, wants_json
from .extensions import csrf, db, login_manager
from .models import ApiToken, User, UserSession, hash_token, utcnow
from .models.user import parse_login_id
from .security import write_intent

# A sign-in's last_seen_at is written at most this often (not on every request).
SEEN_EVERY = timedelta(minutes=5)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


# The user of a live sign-in and when it was last seen: built once (every request runs it),
# the sign-in and the idle cut-off as binds.
SIGNED_IN = (
    select(User, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.id == bindparam("sid"), UserSession.secret_hash == bindparam("secret_hash"),
           UserSession.live_since(bindparam("seen_after")))
)


# (login id, secgo.pagecache.SignedInRead): the user of this sign-in as the page cache read
# it, with the same rule, moments ago in this request (a page it did not have).
SIGNED_IN_READ = "secgo.signed_in_read"


@login_manager.user_loader
def load_user(login_id: str):
    """The user of a sign-in that has not ended, if the account is active; in one query, or
    none when the page cache read it for this request already."""
    parsed = parse_login_id(login_id)
    if parsed is None:
        return None
    sid, secret_hash = parsed
    read = request.environ.get(SIGNED_IN_READ) if has_request_context() else None
    if read is not None and read[0] == login_id:
        values, last_seen = read[1].values()
        user = _known(values)
    else:
        seen_after = utcnow() - current_app.config["REMEMBER_COOKIE_DURATION"]  # as UserSession.live
        row = db.session.execute(
            SIGNED_IN, {"sid": sid, "secret_hash": secret_hash, "seen_after": seen_after}
        ).first()
        if row is None:
            return None
        user, last_seen = row
    if not user.is_active:
        return None
    user.login_id = login_id
    if last_seen < utcnow() - SEEN_EVERY:
        _note_seen(sid)
    return user


def _known(values: dict) -> User:
    """The user whose row was read already, in the session as if loaded by a query (no SQL)."""
    user = User()
    for key, value in values.items():
        set_committed_value(user, key, value)
    make_transient_to_detached(user)
    return db.session.merge(user, load=False)


def _note_seen(sid: int) -> None:
    stmt = update(UserSession).where(UserSession.id == sid).values(last_seen_at=utcnow())
    if write_intent.get():  # this request writes (and holds SQLite's write lock): join it
        db.session.execute(stmt)
        return
    try:  # a reading request does not commit: a short transaction of its own
        with db.engine.begin() as conn:
            conn.execute(stmt)
    except SQLAlchemyError:  # only a "last seen" time: never worth failing a page for
        current_app.logger.warning("could not note sign-in %s as seen", sid, exc_info=True)


def _bearer_header() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and request.path.startswith("/api/"):
        return header[7:].strip()
    return None


def bearer_user() -> User | None:
    """The user whose valid API token this request carries; None for none or a bad one."""
    if "secgo_bearer_user" not in g:
        secret, user = _bearer_header(), None
        if secret:
            token = db.session.scalar(select(ApiToken).where(
                ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None)))
            if token is not None and token.user.is_active:
                token.last_used_at = utcnow()
                user = token.user
                request.environ["secgo.bearer"] = True
        g.secgo_bearer_user = user
    return g.secgo_bearer_user


@login_manager.request_loader
def load_user_from_token(_req):
    """Authenticate an integration by its bearer token."""
    return bearer_user()


@login_manager.unauthorized_handler
def unauthorized():
    """401 JSON for API clients; the login page for people."""
    from flask import flash, redirect, url_for

    if wants_json():
        raise ApiError(401)
    flash(login_manager.login_message, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# Routes a provider calls, authenticated by a secret header the route itself checks; and a
# tracking link's writes, whose secret token in the URL is the credential (a forged cross-site
# post would need it; the outbox replays them after a browser restart, when no session is left).
CSRF_EXEMPT = {"channels.telegram_webhook", "orders.track_receipt", "orders.track_problem"}


def _cookies_once_a_day():
    """A signed-in browser's cookies are sent again on its first request of each day (UTC), so
    that the remember cookie keeps running a year from the last day of use without going out,
    with the session cookie, on every answer."""
    if "_user_id" not in session:
        return
    today = utcnow().date().toordinal()
    if session.get("_day") != today:
        session["_day"] = today  # the session changed: its cookie goes out
        if request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
            session["_remember"] = "set"  # and Flask-Login sends the remember cookie again


def _signed_in_today(_app, **_extra):
    """A sign-in sends both cookies: nothing more that day."""
    session["_day"] = utcnow().date().toordinal()


def init_app(app):
    """A bearer request is its token's user or 401; every other unsafe request needs CSRF."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_cookies_once_a_day)
    user_logged_in.connect(_signed_in_today, app)

    @app.before_request
    def _bearer_or_csrf():
        if _bearer_header() is not None:
            user = bearer_user()
            if user is None:  # a bad token is refused, whatever cookies come with it
                raise ApiError(401)
            # The token, not a session cookie sent alongside, says who this is.
            login_manager._update_request_context_with_user(user)
            return  # a browser never adds a bearer token on its own: nothing to forge
        if request.method in SAFE_METHODS or not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.endpoint in CSRF_EXEMPT:
            return  # its own secret authenticates it (see CSRF_EXEMPT)
        csrf.protect()

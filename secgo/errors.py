"""One place that answers errors: JSON for API clients, a page for people."""
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager

# Short, localised words for each status code we answer with.
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in."),
    403: _l("You may not do this."),
    404: _l("Not found."),
    405: _l("This action is not allowed here."),
    409: _l("This conflicts with the current state. Reload and try again."),
    413: _l("The upload is too large."),
    415: _l("This type of file or data is not accepted."),
    422: _l("Please correct the highlighted fields."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Your data is safe; please try again."),
    503: _l("SEC GO! is busy for a moment. Please try again shortly; reports waiting on your "
            "phone are sent by themselves."),
    507: _l("The server cannot store photos right now, so nothing was saved. Please try again "
            "later; reports waiting on your phone are sent by themselves."),
}
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 500: "server_error", 503: "unavailable",
    507: "insufficient_storage",
}
# Seconds a client should wait before sending again (the outbox honours Retry-After).
RETRY_AFTER = {503: 5, 507: 60}


class ApiError(Exception):
    """A refusal with a status, a machine code, a localised message and per-field errors."""

    def __init__(self, status: int, message=None, fields: dict | None = None, code=None,
                 retry_after: int | None = None):
        super().__init__(str(message or MESSAGES.get(status, "")))
        self.status = status
        self.retry_after = retry_after if retry_after is not None else RETRY_AFTER.get(status)
        self.message = message
        self.fields = fields or {}
        self.code = code or CODES.get(status, "error")

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message or MESSAGES.get(self.status, ""))}
        if self.fields:
            body["fields"] = {k: str(v) for k, v in self.fields.items()}
        return {"error": body}


JSON_ONLY_PATHS = ("/api/", "/telegram/")  # called by programs, never by people


def wants_json() -> bool:
    """True for API paths (and the Telegram bot's webhook) and clients that ask for JSON
    rather than a page."""
    if request.path.startswith(JSON_ONLY_PATHS):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _respond(status: int, message=None, fields=None, code=None):
    return _render(ApiError(status, message, fields, code))


def _render(err: ApiError):
    """The refusal as JSON or as a page, with Retry-After where the client should try again."""
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after else {}
    if wants_json():
        return jsonify(err.to_dict()), err.status, headers
    message = err.to_dict()["error"]["message"]
    return render_template("errors/error.html", status=err.status, message=message), err.status, headers


def _plain_503():
    try:
        message = str(MESSAGES[503])
    except Exception:  # noqa: BLE001 - no language to be had: the source words
        message = MESSAGES[503]._args[0]
    if wants_json():
        return jsonify(ApiError(503, message).to_dict()), 503, {"Retry-After": str(RETRY_AFTER[503])}
    return message, 503, {"Retry-After": str(RETRY_AFTER[503]), "Content-Type": "text/plain; charset=utf-8"}


def database_unavailable(err: Exception) -> bool:
    """True for a database that cannot answer now (restarting, unreachable, busy), which a
    retry fixes; not for a mistake in a query."""
    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated or isinstance(err, InterfaceError):
        return True
    if not isinstance(err, OperationalError):
        return False
    if type(err.orig).__module__.startswith("sqlite3"):
        return any(word in str(err.orig).lower() for word in ("locked", "busy"))
    return True  # PostgreSQL: connection lost or refused, shutting down or starting, deadlock


def init_app(app):
    """Register the error handlers, and the end of each request's session."""

    @app.teardown_appcontext
    def _end_session(_error):
        # Before Flask-SQLAlchemy's own (teardowns run last registered first). The answer is
        # made; a connection the database dropped since (a restart) only means the database
        # rolled the transaction back itself: no reason to turn the answer into a 500.
        try:
            db.session.remove()
        except DBAPIError as err:
            if not database_unavailable(err):
                raise
            app.logger.warning("database gone at the end of a request: %s",
                               str(getattr(err, "orig", err)).strip()[:200])
            db.session.remove()  # the connection is invalidated now: this ends the session

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        db.session.rollback()
        return _render(err)

    @app.errorhandler(CSRFError)
    def _csrf_error(err):
        return _respond(400, _("Your form expired or came from elsewhere. Please try again."), code="csrf")

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        if status == 429:
            # A limit may say what was limited (error_message=_l(...)); else the general words.
            own = getattr(getattr(err, "limit", None), "error_message", None)
            return _respond(429, None if callable(own) else own)
        if 300 <= status < 400:
            return err
        return _respond(status if status in MESSAGES else status, MESSAGES.get(status, err.description))

    @app.errorhandler(Exception)
    def _server_error(err):
        if database_unavailable(err):  # a restart or failover: 503, and the client retries
            try:
                db.session.rollback()
            except DBAPIError:
                pass
            # The signed-in person (expired by the rollback) cannot be read now: answer as to a
            # visitor, in the language the request asks for.
            login_manager._update_request_context_with_user(None)
            app.logger.warning("database unavailable: %s", str(getattr(err, "orig", err)).strip()[:200])
            try:
                return _respond(503)
            except Exception:  # noqa: BLE001 - the page itself needed the database: words alone
                app.logger.warning("database unavailable: plain answer", exc_info=True)
                return _plain_503()
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return _respond(500)

"""One place that answers errors: JSON for API clients, a page for people."""
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db

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
}
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 500: "server_error",
}


class ApiError(Exception):
    """A refusal with a status, a machine code, a localised message and per-field errors."""

    def __init__(self, status: int, message=None, fields: dict | None = None, code=None):
        super().__init__(str(message or MESSAGES.get(status, "")))
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.code = code or CODES.get(status, "error")

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message or MESSAGES.get(self.status, ""))}
        if self.fields:
            body["fields"] = {k: str(v) for k, v in self.fields.items()}
        return {"error": body}


def wants_json() -> bool:
    """True for API paths and clients that ask for JSON rather than a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _respond(status: int, message=None, fields=None, code=None):
    err = ApiError(status, message, fields, code)
    if wants_json():
        return jsonify(err.to_dict()), status
    return render_template("errors/error.html", status=status, message=err.to_dict()["error"]["message"]), status


def init_app(app):
    """Register the error handlers."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        db.session.rollback()
        if wants_json():
            return jsonify(err.to_dict()), err.status
        return render_template(
            "errors/error.html", status=err.status, message=err.to_dict()["error"]["message"]
        ), err.status

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
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return _respond(500)

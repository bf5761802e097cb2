"""Answers shared by page views: one handler serves a plain form POST and the outbox's fetch."""
from flask import jsonify, redirect

from .errors import ApiError, wants_json


def done(location: str, status: int = 201, body: dict | None = None):
    """Success: JSON {location, ...} for scripts (the outbox), a redirect for plain forms."""
    if wants_json():
        return jsonify({"location": location, **(body or {})}), status, {"Location": location}
    return redirect(location, code=303)


def refuse_form(form, message=None):
    """For scripts, raise a 422 JSON error with the form's field errors; pages re-render."""
    if wants_json():
        raise ApiError(
            422, message, fields={name: errs[0] for name, errs in form.errors.items() if errs}
        )

"""Hostile shapes of input, refused in one place before any view or query sees them.

- NUL in the URL path (404), or in a query argument, form field, uploaded file name or header
  (400): PostgreSQL refuses NUL in text, so it would otherwise reach a query as a 500, and no
  person types it.
- JSON bodies: read by json_body() only, which refuses what is not JSON, nesting deeper than
  any of our documents, NaN and infinities (400), and NUL in a text (422, naming the field).
- Where to go next after a login or a language change: safe_next(), same-site paths only.
"""
import json
import math
import re
import unicodedata
from itertools import accumulate
from urllib.parse import unquote, urlsplit

from flask import g, request
from flask_babel import lazy_gettext as _l

from .errors import ApiError

MAX_JSON_DEPTH = 16  # our deepest document (a push subscription) nests 3 levels
MAX_NEXT_LENGTH = 2048

NOT_JSON = _l("Send JSON (Content-Type: application/json).")
NOT_AN_OBJECT = _l("The body must be a JSON object.")
TOO_DEEP = _l("The body is nested too deeply.")
NOT_ALLOWED = _l("This text contains characters that are not allowed.")
BAD_REQUEST_TEXT = _l("This request contains characters that are not allowed.")

# Control, format, surrogate, private-use, unassigned, line and paragraph separators.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _not_a_number(text):
    raise ValueError(f"{text} is not a number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # in a string (outside one JSON has none)
_STRING = re.compile(rb'"[^"]*"')  # a JSON string once its escapes are gone
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _nests_too_deeply(data: bytes) -> bool:
    """Whether the body opens more than MAX_JSON_DEPTH brackets at once, outside its strings.

    Counted before parsing: json.loads recurses once per level, and a body nested thousands
    deep would take the parser to the interpreter's recursion limit, where anything else
    that runs in that stack (a finalizer the garbage collector calls) fails as well."""
    # (Escapes first, then strings: each a single pass, with nothing to try again.)
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", data)).translate(None, _NOT_A_BRACKET)
    if brackets.count(b"[") + brackets.count(b"{") <= MAX_JSON_DEPTH:
        return False  # any body of ours
    if b"[" * (MAX_JSON_DEPTH + 1) in brackets.replace(b"{", b"["):
        return True  # (at once, for the usual attack)
    return max(accumulate(_DEPTH_STEP[b] for b in brackets)) > MAX_JSON_DEPTH


def _parse(data: bytes):
    """The JSON value of the body, or a 400: nesting too deep and ValueError never go further."""
    if _nests_too_deeply(data):
        raise ApiError(400, TOO_DEEP)
    try:
        return json.loads(data, parse_constant=_not_a_number, parse_float=_finite)
    except ValueError:  # also UnicodeDecodeError and too many digits in an integer
        raise ApiError(400, NOT_AN_OBJECT) from None


def _check_shape(body: dict) -> None:
    """Refuse NUL in a key (400) or a text (422); the nesting was counted before parsing."""
    if any("\x00" in key for key in body):
        raise ApiError(400, BAD_REQUEST_TEXT)
    bad = {}
    stack = [(value, key) for key, value in body.items()]
    while stack:
        value, field = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                bad[field] = NOT_ALLOWED
        elif isinstance(value, dict):
            if any("\x00" in key for key in value):
                raise ApiError(400, BAD_REQUEST_TEXT)
            stack.extend((v, field) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, field) for v in value)
    if bad:
        raise ApiError(422, fields=bad)


def json_body(empty_ok: bool = False) -> dict:
    """The request's JSON object; a 415, 400 or 422 refusal for anything else.

    The one reader of JSON request bodies. With empty_ok, an empty body is an empty object.
    MAX_CONTENT_LENGTH applies (413) as the body is read.
    """
    if "secgo_json_body" in g:
        return g.secgo_json_body
    data = request.get_data(cache=True)
    if empty_ok and not data:
        return {}
    if not request.is_json:
        raise ApiError(415, NOT_JSON)
    body = _parse(data)
    if not isinstance(body, dict):
        raise ApiError(400, NOT_AN_OBJECT)
    _check_shape(body)
    g.secgo_json_body = body
    return body


def _unsafe_text(text: str) -> bool:
    return any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in text)


def safe_next(target: str | None) -> str | None:
    """A same-site path to go to after a login or a language change, or None (no open redirect).

    Checked as sent and after every round of percent-decoding: no control or invisible
    characters (browsers drop tab, CR and LF from URLs), no backslash (browsers read it as
    "/"), a path starting with one "/" and no scheme or host.
    """
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_LENGTH:
        return None
    form = target
    for _round in range(5):
        if _unsafe_text(form) or "\\" in form:
            return None
        if not form.startswith("/") or form.startswith("//"):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
        decoded = unquote(form)
        if decoded == form:
            return target
        form = decoded
    return None


def _has_nul(pairs) -> bool:
    """NUL in a name or value; a part of a multipart body with no name (None) counts too:
    it is as malformed, and no field could take it."""
    return any(key is None or value is None or "\x00" in key or "\x00" in value
               for key, value in pairs)


def refuse_nul() -> None:
    """Before every request: NUL in the path is a 404, anywhere else in the request (or a
    form's part without a name) a 400."""
    if "\x00" in request.path:
        raise ApiError(404)
    if (_has_nul(request.args.items(multi=True)) or _has_nul(request.headers.items())
            or _has_nul(request.cookies.items(multi=True))):
        raise ApiError(400, BAD_REQUEST_TEXT)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        files = ((key, f.filename or "") for key, f in request.files.items(multi=True))
        if _has_nul(request.form.items(multi=True)) or _has_nul(files):
            raise ApiError(400, BAD_REQUEST_TEXT)


def init_app(app) -> None:
    """Run refuse_nul() before every other before-request function (CSRF, limits, logins)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)

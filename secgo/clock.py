"""What a page shows that changes with the clock alone, with no change in the database.

A kept page (secgo/pagecache.py) is answered again only while it reads as it would if made
now. Its data has versions; what the clock changes has none: a relative time ("5 minutes
ago", "Age: 3 hours"), the viewer's today (overdue, this year) and a figure refreshed in
the background. So whatever writes such a thing says here, while the page is being made,
how long it will read the same (`changes_in`); the page cache keeps the page no longer than
the soonest of those (`seconds_left`), nor past the viewer's midnight.

A page whose relative times are written as each answer is served (the order page and the
issues list, kept with places to fill: secgo/pagecache.py) need not go when one of them
would read otherwise: such a time is kept as a place for it (`later`) and written for the
moment of each answer (`fill`), in the words a page made then would have.
"""
import re
import time
from functools import lru_cache

from flask import has_request_context, request

from .assets import FILL_LATER

CHANGES_AT = "secgo.changes_at"  # in the request's environ: time.time() of the soonest change
# In the request's environ: the token of the places for relative times, when the page being
# made has them written as it is served (set by the page cache).
LATER_ENVIRON = "secgo.clock_later"


def changes_in(seconds: float) -> None:
    """What the page being made has just written reads differently `seconds` from now."""
    if not has_request_context():
        return
    at = time.time() + max(0.0, seconds)
    soonest = request.environ.get(CHANGES_AT)
    if soonest is None or at < soonest:
        request.environ[CHANGES_AT] = at


def seconds_left(environ) -> float | None:
    """Seconds until the first thing the page shows changes by the clock; None: nothing does."""
    at = environ.get(CHANGES_AT)
    return None if at is None else at - time.time()


def later(kind: str, moment) -> str | None:
    """Where a relative time of `moment` (an aware datetime) goes in the page being made, when
    its relative times are written as each answer is served; kind "ago" ("5 minutes ago", "in
    2 days") or "since" ("5 minutes", to now). None: the page writes it now."""
    if not has_request_context() or request.method != "GET":
        return None
    token = request.environ.get(LATER_ENVIRON)
    if token is None:
        return None
    request.environ[FILL_LATER] = True
    return f"{token}{kind[0]}{round(moment.timestamp() * 1000)}_"


@lru_cache(maxsize=64)  # one per process whose kept pages this one serves
def _place(token: bytes):
    return re.compile(re.escape(token) + rb"([as])(-?\d+)_")


def fill(body: bytes, token: bytes, now: float, words) -> bytes:
    """The body with each place for a relative time (`later`, kept with this token) written
    for the moment `now` (seconds since 1970 by the clock the pages' relative times are written
    by, secgo.models.utcnow): words(kind, seconds) gives the text, as the page
    would write it, of the span from now to the moment (kind "ago") or from it to now
    ("since")."""
    if token not in body:
        return body

    def write(m) -> bytes:
        kind, seconds = m.group(1), int(m.group(2)) / 1000 - now
        return words("ago" if kind == b"a" else "since", seconds if kind == b"a" else -seconds).encode()

    return _place(token).sub(write, body)

"""What a page shows that changes with the clock alone, with no change in the database.

A kept page (secgo/pagecache.py) is answered again only while it reads as it would if made
now. Its data has versions; what the clock changes has none: a relative time ("5 minutes
ago", "Age: 3 hours"), the viewer's today (overdue, this year) and a figure refreshed in
the background. So whatever writes such a thing says here, while the page is being made,
how long it will read the same (`changes_in`); the page cache keeps the page no longer than
the soonest of those (`seconds_left`), nor past the viewer's midnight.
"""
import time

from flask import has_request_context, request

CHANGES_AT = "secgo.changes_at"  # in the request's environ: time.time() of the soonest change


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

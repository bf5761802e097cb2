"""Text limits: one table (field -> most characters) and one message per kind of refusal.

Read by the forms (WTForms Length validators, which also set the inputs' maxlength), the
services (clean_text), hence the JSON API, and the OpenAPI document (max_length -> maxLength).
"""
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length

from .i18n import NormalizedText, normalize_text
from .inputs import NOT_ALLOWED

LIMITS = {
    # Orders (the first four are the widths of their columns).
    "product": 120,
    "unit": 20,
    "origin": 120,
    "destination": 120,
    "notes": 2000,
    # Status updates, deliveries, issue transitions; a confirmation's comment.
    "note": 2000,
    "comment": 1000,
    # Issues (the title is its column's width) and their comments.
    "title": 140,
    "description": 4000,
    "body": 4000,
    # Tracking links: the contact's name.
    "contact_name": 80,
    # Proof at handover: who received the goods (its column's width).
    "receiver_name": 80,
    # Order search: longer queries are cut, not refused.
    "q": 100,
    # Clusters, organizations and people (secgo/admin): their columns' widths.
    "cluster_name": 120,
    "org_name": 160,
    "province": 80,
    "cluster_product": 80,
    "display_name": 80,
    "username": 64,
    "email": 254,
    "phone": 20,
    # Signing in: a login (a phone, an e-mail or a username) and a password; an API token's
    # name (its column's width).
    "login": 254,
    "password": 200,
    "token_name": 80,
    # Business matching (secgo/matching): an event's name and place (their columns' widths),
    # a match's products of interest (a short list of names), why a match is no longer pursued.
    "event_name": 160,
    "place": 160,
    "products": 300,
    "reason": 1000,
    # Producer profiles (secgo/profiles): a certification's name. (A profile's description
    # and an enquiry's message are a "description" and a "body", with their limits.)
    "cert_name": 80,
}

NOT_TEXT = _l("Expected text.")
REQUIRED = _l("Please fill this in.")


def too_long(field: str):
    """The one message for text over its field's limit."""
    return _l("At most %(n)s characters.", n=LIMITS[field])


def length(field: str) -> Length:
    """The WTForms validator of a field's limit (it also sets the input's maxlength)."""
    return Length(max=LIMITS[field], message=too_long(field))


def max_length(field: str) -> dict:
    """The OpenAPI fragment of a field's limit."""
    return {"maxLength": LIMITS[field]}


def clean_text(value, field: str, fields: dict, *, required=False) -> NormalizedText:
    """The normalised text of a field; a refusal added to fields when it is not text, holds
    NUL, is over LIMITS[field] or is empty though required (True, or the message to show)."""
    missing = REQUIRED if required is True else required
    if value is None or value == "":
        if missing:
            fields[field] = missing
        return normalize_text("")
    if not isinstance(value, str):
        fields[field] = NOT_TEXT
        return normalize_text("")
    text = normalize_text(value)
    if "\x00" in text:
        fields[field] = NOT_ALLOWED
    elif len(text) > LIMITS[field]:
        fields[field] = too_long(field)
    elif missing and not text:
        fields[field] = missing
    return text


# --- device clocks --------------------------------------------------------------------------
# When a report happened (occurred_at) is the phone's word, and phones in the corridor often
# have the wrong time (a wrong zone, a clock reset to 1970 or 2000). It is believed within
# what is possible: not after the server received it, not before its order existed. A time
# outside that window (by more than CLOCK_SKEW) is a wrong clock: the report keeps the time
# the server received it. It is never refused for its time: the phone could not send it any
# better, and its outbox would hold it for ever. A report made offline hours or days ago and
# sent now keeps its own time. The timeline is ordered by when the server received each one.
CLOCK_SKEW = timedelta(minutes=10)


def event_time(claimed: datetime | None, received: datetime, not_before: datetime | None = None
               ) -> tuple[datetime, bool]:
    """When a report happened: (the phone's time, False) when it can be true, else (the
    server's receive time, True: the phone's clock is wrong). Never later than received."""
    if claimed is None:
        return received, False
    if claimed > received + CLOCK_SKEW or (not_before is not None and claimed < not_before - CLOCK_SKEW):
        return received, True
    return min(claimed, received), False

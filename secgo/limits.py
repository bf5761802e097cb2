"""Text limits: one table (field -> most characters) and one message per kind of refusal.

Read by the forms (WTForms Length validators, which also set the inputs' maxlength), the
services (clean_text), hence the JSON API, and the OpenAPI document (max_length -> maxLength).
"""
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
    # Order search: longer queries are cut, not refused.
    "q": 100,
    # Clusters, organizations and people (secgo/admin): their columns' widths.
    "cluster_name": 120,
    "org_name": 160,
    "province": 80,
    "cluster_product": 80,
    "display_name": 80,
    "email": 254,
    "phone": 20,
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

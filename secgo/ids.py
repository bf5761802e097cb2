"""Record ids from outside (URLs, JSON bodies): whole numbers the database can hold, or a refusal.

Ids are INTEGER columns: 32 bits on PostgreSQL. A larger number can name no row, and handing
it to the database driver fails (OverflowError on SQLite, "integer out of range" on
PostgreSQL), so it is refused before any query.
"""
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from .errors import ApiError

MAX_ID = 2**31 - 1

NOT_AN_ID = _l("Expected the number of an existing record.")


class IdConverter(IntegerConverter):
    """Flask's `<int:...>` with an upper bound: a larger number matches no route (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    """Bound every `<int:...>` URL part; call before any blueprint is registered."""
    app.url_map.converters["int"] = IdConverter


def is_id(value) -> bool:
    """True for a whole number (not a bool) a record id can be."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def id_value(value, field: str):
    """A single id from a JSON body: None when absent, else a valid id or a 422 for `field`."""
    if value is None:
        return None
    if not is_id(value):
        raise ApiError(422, fields={field: NOT_AN_ID})
    return value


def id_list(value, field: str, max_items: int) -> list[int]:
    """A list of ids from a JSON body (absent or null: empty), or a 422 for `field`."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise ApiError(422, fields={field: _l("Send a list of at most %(n)s record numbers.", n=max_items)})
    if not all(is_id(v) for v in value):
        raise ApiError(422, fields={field: NOT_AN_ID})
    return value

"""The row format and shorthands for the expected statuses of each role.

A row is Row(method, url, expected, body=None, shows=None); a plain 4-tuple
(method, url, expected, body) is read as a Row too.

- url: a path, or callable(world) -> path. A callable runs in an app context once per row and
  role, so it can make the fresh record the row acts on (tests/factories.py, matrix_*).
- expected: {role: status} for every role of ROLES.
- body: None (an empty form), a dict (sent as a form), or form(...)/as_json(...)/multipart(...),
  whose value may itself be callable(world) -> dict.
- shows: (marker, roles) for lists: the marker (a str or callable(world) -> str) must be in the
  answer of those roles and in no other role's 200 answer, so a list that all roles may open
  still checks who sees what.
"""
from dataclasses import dataclass
from typing import Any, Callable

ROLES = ("anon", "producer", "customer", "coordinator", "admin",
         "other_producer", "other_customer", "other_coordinator")
LOGGED_IN = ROLES[1:]
# The roles on the world's order (farm -> buyer, rice cluster).
ON_ORDER = ("producer", "customer", "coordinator", "admin")
# Outsiders to it: silk's weaver, another customer (Saigon Buyer), silk's coordinator.
OUTSIDERS = ("other_producer", "other_customer", "other_coordinator")


@dataclass(frozen=True)
class Body:
    kind: str  # form | json | multipart
    value: Any  # dict, or callable(world) -> dict


def form(value) -> Body:
    return Body("form", value)


def as_json(value) -> Body:
    return Body("json", value)


def multipart(value) -> Body:
    """Fields and files: {"file": (io.BytesIO(data), "name.jpg")}; use a callable for files."""
    return Body("multipart", value)


@dataclass(frozen=True)
class Row:
    method: str
    url: str | Callable
    expected: dict
    body: Any = None
    shows: tuple | None = None


def as_row(value) -> Row:
    return value if isinstance(value, Row) else Row(*value)


def everyone(status):
    return {role: status for role in ROLES}


def logged_in(status, anon=302):
    return {**everyone(status), "anon": anon}


def staff_only(ok=200):
    return {**logged_in(403), "coordinator": ok, "admin": ok, "other_coordinator": ok}


def outsiders(status=404):
    """Those who may not see the world's order: never a hint that it exists."""
    return {role: status for role in OUTSIDERS}


def api(status, anon=401):
    return {**everyone(status), "anon": anon}


def order_side(ok, producer=None, customer=None, coordinator=None, admin=None, anon=302):
    """Statuses for an action on the world's order: its two sides, its coordinator, admin, outsider."""
    return {
        "anon": anon, "producer": producer or ok, "customer": customer or ok,
        "coordinator": coordinator or ok, "admin": admin or ok, **outsiders(404),
    }


def producer_side(ok, refused=403, anon=302):
    """An action of the producer side (producer, its coordinator, admin); the customer may see
    the order but not act (403); an outsider gets 404."""
    return order_side(ok, customer=refused, anon=anon)


def customer_side(ok, refused=403, anon=302):
    """An action of the customer side (customer, admin); the producer and its coordinator may
    see the order but not act (403); an outsider gets 404."""
    return order_side(ok, producer=refused, coordinator=refused, anon=anon)


def owner_only(ok, owner="producer", anon=302):
    """A record of one user's own (a device): theirs to act on; 404 to everyone else."""
    return {**logged_in(404, anon=anon), owner: ok}

"""Issue and coordinator routes.

world.issue is an open issue the customer raised on the world's order; a row that changes an
issue's state acts on a fresh one (tests.factories.matrix_issue), made once per row and role.
"""
from tests.factories import matrix_issue

from .common import (  # noqa: F401
    ON_ORDER,
    Row,
    api,
    as_json,
    everyone,
    logged_in,
    order_side,
    staff_only,
)


def _sees(ok, anon=302, **overrides):
    """Everyone on the world's order (farm -> buyer) gets ok; outsiders 404."""
    return {**order_side(ok, anon=anon), **overrides}


def _issue(suffix=""):
    return lambda ctx: f"/issues/{ctx.issue}{suffix}"


def _api_issue(suffix=""):
    return lambda ctx: f"/api/v1/issues/{ctx.issue}{suffix}"


def _border_times(world):
    """The world's order waited 6 hours at Aranyaprathet - Poipet; the figures are refreshed."""
    from datetime import datetime, timezone

    from secgo.coordinator.promptness import refresh
    from secgo.extensions import db
    from secgo.models import Order, StatusUpdate

    order = db.session.scalar(db.select(Order).where(Order.reference == world.issue_order))
    border = datetime(2026, 3, 4, 6, tzinfo=timezone.utc)
    for status, moment in (("at_border", border), ("customs_cleared", border.replace(hour=12))):
        db.session.add(StatusUpdate(order_id=order.id, status=status, note="", occurred_at=moment,
                                    recorded_at=moment, author_id=world.users["producer"]))
    db.session.commit()
    refresh()
    return "/coordinator/borders.csv?from=2026-03-01&to=2026-03-31"


def _fresh_issue(prefix, suffix):
    return lambda w: f"{prefix}/issues/{matrix_issue(w)}{suffix}"


# The customer raised it: the producer (the counterpart), the coordinator and admin may
# acknowledge it; the customer may see it but not acknowledge their own issue (403).
ACKNOWLEDGE = {"action": "acknowledge"}
ISSUE_TITLE = "Ten bags short"  # world.issue's (tests.issue_factories.raise_as)

ROUTES = {
    "issues.index": Row("GET", "/issues?tab=all", logged_in(200), shows=(ISSUE_TITLE, ON_ORDER)),
    "issues.detail": ("GET", _issue(), _sees(200), None),
    "issues.comment": ("POST", _issue("/comments"), _sees(303), {"body": "Checking now"}),
    "issues.transition": (
        "POST", _fresh_issue("", "/transitions"), _sees(303, customer=403), ACKNOWLEDGE,
    ),
    "issues.new": ("GET", lambda ctx: f"/orders/{ctx.issue_order}/issues/new", _sees(200), None),
    "coordinator.dashboard": ("GET", "/coordinator", staff_only(), None),
    "coordinator.issues_csv": ("GET", "/coordinator/issues.csv", staff_only(), None),
    "coordinator.orders_csv": ("GET", "/coordinator/orders.csv", staff_only(), None),
    # Only the world's order (rice cluster) crossed a border: silk's coordinator sees no row.
    "coordinator.borders_csv": Row("GET", _border_times, staff_only(),
                                   shows=("aranyaprathet_poipet,2026-03,1,6.0,6.0", ("coordinator", "admin"))),
    "coordinator.promptness_csv": Row("GET", lambda w: _border_times(w).replace("borders", "promptness"),
                                      staff_only(), shows=("Takeo Rice Coop", ("coordinator", "admin"))),
    "api.issues_list": Row("GET", "/api/v1/issues", api(200), shows=(ISSUE_TITLE, ON_ORDER)),
    "api.issues_read": ("GET", _api_issue(), _sees(200, anon=401), None),
    "api.issues_create": (
        "POST", lambda ctx: f"/api/v1/orders/{ctx.issue_order}/issues",
        _sees(201, anon=401),
        as_json({"category": "quality", "severity": "high", "title": "Six bags wet"}),
    ),
    "api.issues_comment": (
        "POST", _api_issue("/comments"), _sees(201, anon=401),
        as_json({"body": "Checking now"}),
    ),
    "api.issues_transition": (
        "POST", _fresh_issue("/api/v1", "/transitions"),
        _sees(201, anon=401, customer=403), as_json(ACKNOWLEDGE),
    ),
}

UNIFORM = {}

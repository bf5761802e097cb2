"""Issue and coordinator routes."""
from .common import api, everyone, logged_in, staff_only  # noqa: F401


def _sees(ok, anon=302):
    """Everyone on the world's order (farm -> buyer) gets ok; another producer 404."""
    return {**logged_in(ok, anon=anon), "other_producer": 404}


def _issue(suffix=""):
    return lambda ctx: f"/issues/{ctx.issue}{suffix}"


def _api_issue(suffix=""):
    return lambda ctx: f"/api/v1/issues/{ctx.issue}{suffix}"


ROUTES = {
    "issues.index": ("GET", "/issues", logged_in(200), None),
    "issues.detail": ("GET", _issue(), _sees(200), None),
    "issues.comment": ("POST", _issue("/comments"), _sees(303), {"body": "Checking now"}),
    # The customer raised it: they may not acknowledge their own issue.
    "issues.transition": (
        "POST", _issue("/transitions"), {**_sees(303), "customer": 403}, {"action": "acknowledge"}
    ),
    "issues.new": ("GET", lambda ctx: f"/orders/{ctx.issue_order}/issues/new", _sees(200), None),
    "coordinator.dashboard": ("GET", "/coordinator", staff_only(), None),
    "coordinator.issues_csv": ("GET", "/coordinator/issues.csv", staff_only(), None),
    "coordinator.orders_csv": ("GET", "/coordinator/orders.csv", staff_only(), None),
    "api.issues_list": ("GET", "/api/v1/issues", api(200), None),
    "api.issues_read": ("GET", _api_issue(), {**api(200), "other_producer": 404}, None),
    # Writes take JSON only: a form post is refused (415) once the caller may see the order.
    "api.issues_create": (
        "POST", lambda ctx: f"/api/v1/orders/{ctx.issue_order}/issues",
        {**api(415), "other_producer": 404}, {"title": "x"},
    ),
    "api.issues_comment": ("POST", _api_issue("/comments"), {**api(415), "other_producer": 404}, {"body": "x"}),
    "api.issues_transition": (
        "POST", _api_issue("/transitions"), {**api(415), "other_producer": 404}, {"action": "x"}
    ),
}

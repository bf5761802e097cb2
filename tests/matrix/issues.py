"""Issue and coordinator routes."""
from .common import api, everyone, logged_in, staff_only  # noqa: F401

ROUTES = {
    "issues.index": ("GET", "/issues", logged_in(200), None),
    "coordinator.dashboard": ("GET", "/coordinator", staff_only(), None),
}

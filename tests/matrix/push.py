"""Push subscription routes."""
from .common import api, everyone, logged_in, staff_only  # noqa: F401

ROUTES = {}

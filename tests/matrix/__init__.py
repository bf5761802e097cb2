"""The authorization matrix, one module per domain; test_authz_matrix merges them.

Each module defines ROUTES: endpoint -> (method, url or callable(world) -> url,
{role: expected status}, form data or None). Roles are those of ROLES.
"""
from .common import ROLES  # noqa: F401
from . import foundation, orders, issues, push  # noqa: E402

ROUTES = {}
for _module in (foundation, orders, issues, push):
    ROUTES.update(_module.ROUTES)

"""The authorization matrix, one module per domain; test_authz_matrix merges them.

Each module defines ROUTES: endpoint -> Row (or a 4-tuple; see common.py), and UNIFORM:
endpoint -> why every logged-in role rightly gets the same answer there. Any other row must
give at least two logged-in roles different answers, or it does not test a role rule.
"""
from .common import LOGGED_IN, ROLES, as_row  # noqa: F401
from . import admin, channels, documents, foundation, orders, issues, matching, profiles, push  # noqa: E402

ROUTES = {}
UNIFORM = {}
for _module in (foundation, orders, documents, issues, push, channels, admin, matching, profiles):
    ROUTES.update({endpoint: as_row(row) for endpoint, row in _module.ROUTES.items()})
    UNIFORM.update(_module.UNIFORM)

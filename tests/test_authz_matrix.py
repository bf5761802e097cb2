"""Every route x every role -> the expected status, from one table.

A route that is not in ROUTES fails test_every_route_has_a_row: add its row when you add it.
"""
import pytest

from secgo.extensions import db
from secgo.models import User

from tests.matrix import ROLES, ROUTES


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, f"add these endpoints to ROUTES: {missing}"
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"ROUTES names endpoints that no longer exist: {stale}"


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_route(app, world, role):
    from tests.factories import PASSWORD

    failures = []
    for _endpoint, (method, url, expected, data) in sorted(ROUTES.items()):
        client = app.test_client()
        if role != "anon":
            with app.app_context():
                username = db.session.get(User, world.users[role]).username
            client.post("/login", data={"login": username, "password": PASSWORD})
        path = url(world) if callable(url) else url
        with client.open(path, method=method, data=data or {}) as response:
            response.get_data()
        if response.status_code != expected[role]:
            failures.append(f"{method} {path} as {role}: {response.status_code} != {expected[role]}")
    assert not failures, "\n".join(failures)

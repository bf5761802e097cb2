"""Every route x every role -> the expected status, from one table (tests/matrix).

A route that is not in ROUTES fails test_every_route_has_a_row: add its row when you add it.
A row that gives every logged-in role the same answer tests no role rule: it fails
test_every_row_reaches_the_role_rules unless it is in UNIFORM with the reason why.
"""
import pytest

from secgo.extensions import db
from secgo.models import User

from tests.matrix import LOGGED_IN, ROLES, ROUTES, UNIFORM
from tests.matrix.common import Body


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, f"add these endpoints to ROUTES: {missing}"
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"ROUTES names endpoints that no longer exist: {stale}"


def answers(row) -> dict:
    """What each logged-in role is expected to get: its status, and for lists what it sees."""
    seen = set(row.shows[1]) if row.shows else set()
    return {role: (row.expected[role], role in seen) for role in LOGGED_IN}


def test_every_row_reaches_the_role_rules():
    """A row where all logged-in roles get one answer (say a 415 for a form sent to a JSON
    route, or a 404 for a made-up id) never reaches the role rules: give it a real record and
    a valid body, or name it in UNIFORM with the reason."""
    for endpoint, row in ROUTES.items():
        assert set(row.expected) == set(ROLES), f"{endpoint}: expected statuses for {ROLES}"
    uniform = sorted(e for e, row in ROUTES.items() if len(set(answers(row).values())) == 1)
    unexplained = [e for e in uniform if e not in UNIFORM]
    assert not unexplained, f"same answer for every logged-in role: {unexplained}"
    stale = sorted(set(UNIFORM) - set(uniform))
    assert not stale, f"UNIFORM names rows that are not (or no longer) uniform: {stale}"
    assert all(reason.strip() for reason in UNIFORM.values())


def _body(body, world) -> dict:
    """The test client's keyword arguments for a row's body."""
    if body is None:
        return {"data": {}}
    if isinstance(body, dict):
        return {"data": body}
    assert isinstance(body, Body), body
    value = body.value(world) if callable(body.value) else body.value
    if body.kind == "json":
        return {"json": value}
    if body.kind == "multipart":
        return {"data": value, "content_type": "multipart/form-data"}
    return {"data": value}


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_route(app, world, role):
    """Each role on its own fresh world; rows run in name order, each making the fresh
    records it acts on (in an app context, before its request)."""
    from tests.factories import PASSWORD

    failures = []
    for _endpoint, row in sorted(ROUTES.items()):
        client = app.test_client()
        if role != "anon":
            with app.app_context():
                username = db.session.get(User, world.users[role]).username
            client.post("/login", data={"login": username, "password": PASSWORD})
        with app.app_context():
            path = row.url(world) if callable(row.url) else row.url
            kwargs = _body(row.body, world)
            marker = None
            if row.shows:
                marker = row.shows[0](world) if callable(row.shows[0]) else row.shows[0]
        with client.open(path, method=row.method, **kwargs) as response:
            text = response.get_data().decode("utf-8", "replace")
        expected = row.expected[role]
        if response.status_code != expected:
            failures.append(f"{row.method} {path} as {role}: {response.status_code} != {expected}")
        elif marker is not None and expected == 200:
            sees = role in row.shows[1]
            if sees != (marker in text):
                failures.append(f"{row.method} {path} as {role}: {marker!r} "
                                f"{'missing' if sees else 'shown'}")
    assert not failures, "\n".join(failures)

"""One definition per rule: /orders, the order page, the dashboard, the CSV and the API agree on
open issues, overdue orders and updates awaiting confirmation; the OpenAPI limits are LIMITS."""
import csv
import io
import re
from datetime import timedelta

import pytest

from secgo.coordinator import services as dash
from secgo.extensions import db
from secgo.limits import LIMITS
from secgo.models import STATES, Issue, StatusUpdate, utcnow
from tests.factories import PASSWORD
from tests.issue_factories import make_order, person, raise_as

NO_CSRF = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}

# reference -> what every interface must say about it
EXPECTED = {
    "SEC-AGREE1": {"open_issues": 3, "overdue": True, "awaiting": 2},   # an issue in every state
    "SEC-AGREE2": {"open_issues": 1, "overdue": False, "awaiting": 1},  # due in the future
    "SEC-AGREE3": {"open_issues": 0, "overdue": False, "awaiting": 0},  # delivered late: not overdue
}


def _build(world):
    now = utcnow()
    today = now.date()
    farm, buyer = world.orgs["farm"], world.orgs["buyer"]
    made = now - timedelta(days=3)
    a = make_order(farm, buyer, reference="SEC-AGREE1", status="in_transit",
                   due=today - timedelta(days=5), created_at=made)
    b = make_order(farm, buyer, reference="SEC-AGREE2", status="ready",
                   due=today + timedelta(days=5), created_at=made)
    c = make_order(farm, buyer, reference="SEC-AGREE3", status="delivered",
                   due=today - timedelta(days=5), created_at=made)
    for state in STATES:  # open, acknowledged, resolved, closed, reopened
        issue = raise_as("customer", a, title=f"Issue {state}", now=made)
        issue.state = state
    raise_as("customer", b, title="Open on B", now=made)
    closed = raise_as("customer", c, title="Closed on C", now=made)
    closed.state = "closed"
    old = now - timedelta(days=2)
    db.session.add_all([
        StatusUpdate(order_id=a.id, status="dispatched", recorded_at=old, occurred_at=old),
        StatusUpdate(order_id=a.id, status="at_border", recorded_at=old, occurred_at=old),
        StatusUpdate(order_id=a.id, status="accepted", recorded_at=old, occurred_at=old,
                     confirmed_at=old),
        StatusUpdate(order_id=a.id, status="note", note="Rain", recorded_at=old, occurred_at=old),
        StatusUpdate(order_id=b.id, status="ready", recorded_at=old, occurred_at=old),
        StatusUpdate(order_id=c.id, status="delivered", recorded_at=old, occurred_at=old,
                     confirmed_at=old),
    ])
    db.session.commit()
    return now


def _orders_page(html):
    """reference -> the counts the /orders list shows for it."""
    found = {}
    for card in html.split('<li class="card order-card">')[1:]:
        ref = re.search(r'<strong class="ref">([^<]+)</strong>', card).group(1)
        issues = re.search(r"(\d+) open issues?<", card)
        awaiting = re.search(r"(\d+) to confirm<", card)
        found[ref] = {"open_issues": int(issues.group(1)) if issues else 0,
                      "overdue": "<strong>Overdue</strong>" in card,
                      "awaiting": int(awaiting.group(1)) if awaiting else 0}
    return found


def _order_page(html):
    """The counts the order page shows (for a viewer who does not confirm)."""
    issues = re.search(r'class="open-issues">(\d+)<', html)
    return {"open_issues": int(issues.group(1)) if issues else 0,
            "overdue": '<strong class="overdue">' in html,
            "awaiting": html.count(">Awaiting confirmation</p>")}


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_every_interface_counts_open_issues_overdue_and_awaiting_the_same(app, world, client):
    with app.app_context():
        now = _build(world)
    client.post("/login", data={"login": "coordinator", "password": PASSWORD})

    listed = _orders_page(client.get("/orders").get_data(as_text=True))
    assert {ref: listed[ref] for ref in EXPECTED} == EXPECTED

    for ref, expected in EXPECTED.items():
        assert _order_page(client.get(f"/orders/{ref}").get_data(as_text=True)) == expected, ref
        read = client.get(f"/api/v1/orders/{ref}").get_json()
        assert {"open_issues": read["open_issues"], "overdue": read["overdue"],
                "awaiting": read["awaiting_confirmation"]} == expected, ref

    items = client.get("/api/v1/orders").get_json()["items"]
    api = {o["reference"]: {"open_issues": o["open_issues"], "overdue": o["overdue"],
                            "awaiting": o["awaiting_confirmation"]} for o in items}
    assert {ref: api[ref] for ref in EXPECTED} == EXPECTED

    body = client.get("/coordinator/orders.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    col = {name: n for n, name in enumerate(rows[0])}
    exported = {r[col["Order"]]: {"open_issues": int(r[col["Open issues"]]),
                                  "overdue": r[col["Overdue"]] == "yes",
                                  "awaiting": int(r[col["Awaiting confirmation"]])}
                for r in rows[1:]}
    assert {ref: exported[ref] for ref in EXPECTED} == EXPECTED

    # The dashboard's totals are the sums of the same per-order figures (its "unconfirmed"
    # counts updates waiting over 24 hours: all of these are two days old).
    others = {ref: v for ref, v in listed.items() if ref not in EXPECTED}
    every = [*EXPECTED.values(), *others.values()]
    with app.app_context():
        coordinator = person("coordinator")
        period = dash.parse_period({}, now)
        d = dash.dashboard(coordinator, {}, period, now, 48)
        stale = sum(1 for u in db.session.scalars(db.select(StatusUpdate))
                    if u.awaiting_confirmation and u.recorded_at < now - timedelta(hours=24))
        resolved = db.session.scalar(db.select(db.func.count()).where(Issue.waits_for_close))
    assert d["open_count"] == sum(v["open_issues"] for v in every)
    assert d["overdue_count"] == sum(v["overdue"] for v in every)
    assert d["unconfirmed_count"] == stale == sum(v["awaiting"] for v in every)
    assert d["waiting_for_close_count"] == resolved == 1
    page = client.get("/coordinator").get_data(as_text=True)
    assert f"<strong>{d['open_count']}</strong><span>Open issues</span>" in page
    assert f"<strong>{d['overdue_count']}</strong><span>Overdue orders</span>" in page
    assert "<strong>1</strong><span>Resolved, waiting to be closed</span>" in page


def _max_lengths(node, found, name=None):
    """(property name, maxLength) of every string property in an OpenAPI document."""
    if isinstance(node, dict):
        if name is not None and "maxLength" in node:
            found.append((name, node["maxLength"]))
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for prop, schema in value.items():
                    _max_lengths(schema, found, prop)
            elif key == "parameters" and isinstance(value, list):
                for param in value:
                    _max_lengths(param.get("schema", {}), found, param.get("name"))
            else:
                _max_lengths(value, found)
    elif isinstance(node, list):
        for value in node:
            _max_lengths(value, found)
    return found


def test_the_openapi_limits_are_the_limits_table(client):
    document = client.get("/api/v1/openapi.json").get_json()
    found = [(name, n) for name, n in _max_lengths(document, []) if name in LIMITS]
    assert found and all(n == LIMITS[name] for name, n in found), found
    # Every limit of a field the API takes is documented (the admin pages' fields, such as a
    # cluster's name, are not in the API).
    schemas = document.get("components", {}).get("schemas", {})
    api_fields = _request_fields(document.get("paths", {}), schemas, set()) & set(LIMITS)
    assert {name for name, _n in found} == api_fields
    assert {"note", "title", "description", "body"} <= api_fields


def _request_fields(node, schemas, names, inside=False):
    """Names of the fields clients send (request body properties, parameters); what an
    answer holds has no limit to document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and inside and isinstance(value, dict):
                names.update(value)
            elif key == "parameters" and isinstance(value, list):
                names.update(p.get("name") for p in value if isinstance(p, dict))
            elif key == "$ref" and inside and isinstance(value, str):
                _request_fields(schemas.get(value.rsplit("/", 1)[-1], {}), schemas, names, True)
            _request_fields(value, schemas, names, inside or key == "requestBody")
    elif isinstance(node, list):
        for item in node:
            _request_fields(item, schemas, names, inside)
    return names


@pytest.mark.parametrize("app", [NO_CSRF], indirect=True)
def test_one_message_for_a_text_over_its_limit_on_every_interface(app, world, client):
    client.post("/login", data={"login": "customer", "password": PASSWORD})
    with app.app_context():
        order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-LIMIT1")
        issue = raise_as("customer", order)
        db.session.commit()
        issue_id = issue.id
    long_title = "x" * (LIMITS["title"] + 1)
    message = f"At most {LIMITS['title']} characters."
    r = client.post("/api/v1/orders/SEC-LIMIT1/issues",
                    json={"category": "delay", "severity": "low", "title": long_title})
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["title"] == message
    r = client.post("/orders/SEC-LIMIT1/issues/new",
                    data={"category": "delay", "severity": "low", "title": long_title})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    r = client.post(f"/api/v1/issues/{issue_id}/comments", json={"body": "y" * (LIMITS["body"] + 1)})
    assert r.get_json()["error"]["fields"]["body"] == f"At most {LIMITS['body']} characters."
    r = client.post("/api/v1/updates/0/confirm", json={})
    assert r.status_code == 404
    # The lookup by reference: one normalisation (case, spaces) and one length limit.
    assert client.get("/api/v1/orders/%20sec-limit1%20").status_code == 200
    assert client.get("/orders/sec-limit1/issues/new").status_code == 200
    assert client.get("/api/v1/orders/SEC-LIMIT1" + "X" * 10).status_code == 404


def test_every_text_box_allows_exactly_what_the_server_accepts():
    # A limit typed into a template drifts from LIMITS (the tracking link's description once
    # allowed 2000 in the page and 4000 on the server): templates take it from `limits`.
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "secgo" / "templates"
    typed = [f"{path.relative_to(templates)}: {m.group(0)}"
             for path in templates.rglob("*.html")
             for m in re.finditer(r'<(?:input|textarea)[^>]*\bname="(\w+)"[^>]*maxlength="\d+"',
                                  path.read_text())
             if m.group(1) not in ("received_quantity", "capacity")]  # numbers, not texts
    assert not typed, "take these limits from `limits` (secgo/limits.py):\n" + "\n".join(typed)


def test_no_length_limit_is_typed_as_a_number_in_a_form_or_the_openapi_document():
    # A number typed beside its table drifts from it: forms take length("field") and the
    # OpenAPI document max_length("field") (secgo/limits.py), or the constant their check uses.
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "secgo"
    typed = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "limits.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                typed += [f"{path.relative_to(package)}:{node.lineno} maxLength" for key, value
                          in zip(node.keys, node.values, strict=True) if isinstance(key, ast.Constant)
                          and key.value == "maxLength" and isinstance(value, ast.Constant)]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Length":
                typed += [f"{path.relative_to(package)}:{node.lineno} Length(max=...)"
                          for kw in node.keywords
                          if kw.arg == "max" and isinstance(kw.value, ast.Constant)]
    assert not typed, "take these limits from secgo/limits.py:\n" + "\n".join(typed)

"""What an operator relies on: a request id on every answer, one JSON log line per request
(without the secrets in paths), Prometheus metrics only with the token and summed over
gunicorn workers, and a readiness check that fails when the database cannot serve."""
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from secgo.extensions import db
from secgo.ops.observe import REQUEST_LOG, JsonFormatter, RequestIdFilter

from tests.conftest import make_app
from tests.live import stop_process_group

TOKEN = "metrics-token-for-tests-0123456789"


def test_every_answer_carries_a_request_id_and_keeps_a_proxys_plain_one(client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login").headers["X-Request-ID"]
    assert len(first) == 32 and first != second
    given = "proxy-abc.123_XYZ"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for hostile in ("x" * 65, "short", "two words here", "a\u0e01b-0123456789", "<script>alert(1)</script>"):
        answered = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert answered != hostile and len(answered) == 32


@pytest.fixture
def request_lines(app):
    app.config["REQUEST_LOG"] = True
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    REQUEST_LOG.addHandler(handler)
    REQUEST_LOG.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    REQUEST_LOG.removeHandler(handler)


def test_each_request_is_one_json_line_naming_its_route_not_the_secret_in_its_path(client, request_lines):
    secret = "tracking-token-that-must-never-reach-a-log-file"
    answer = client.get(f"/t/{secret}")
    lines = request_lines()
    assert len(lines) == 1
    line = lines[0]
    assert line["route"] == "/t/<token>" and line["method"] == "GET"
    assert line["status"] == answer.status_code and line["request_id"] == answer.headers["X-Request-ID"]
    assert line["duration_ms"] >= 0 and "time" in line and line["user_id"] is None
    assert secret not in json.dumps(lines)


def test_a_signed_in_request_logs_the_user_id(client, world, auth, request_lines):
    auth.login("producer")
    client.get("/orders")
    assert request_lines()[-1]["user_id"] == world.users["producer"]


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(app, client):
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    assert _scrape(client, "wrong-token").status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert _scrape(client).status_code == 200


def _value(body: str, name: str, **labels) -> float:
    for line in body.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_and_status_and_read_the_outbox(app, client):
    from secgo.models import Notification, User

    app.config["METRICS_TOKEN"] = TOKEN
    before = _value(_scrape(client).get_data(as_text=True), "secgo_http_requests_total",
                    route="/login", method="GET", status="200")
    for _ in range(3):
        client.get("/login")
    with app.app_context():
        user = User(username="outbox-owner", display_name="Owner", role="customer")
        db.session.add(user)
        db.session.flush()
        db.session.add(Notification(user_id=user.id, event="update_posted", state="pending"))
        db.session.commit()
    body = _scrape(client).get_data(as_text=True)
    assert _value(body, "secgo_http_requests_total", route="/login", method="GET", status="200") == before + 3
    assert _value(body, "secgo_http_request_duration_seconds_count", route="/login", method="GET") >= 3
    assert _value(body, "secgo_outbox_pending") == 1
    assert _value(body, "secgo_notifications", state="pending") == 1
    assert "# TYPE secgo_outbox_oldest_pending_age_seconds gauge" in body


def test_readiness_is_ready_with_the_database_and_redis(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready", "checks": {"database": "ok", "rate_limit_storage": "ok"}}


def test_readiness_fails_when_the_schema_is_behind_the_code(app, client):
    with app.app_context():
        db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        db.session.execute(text("INSERT INTO alembic_version VALUES ('e7975c5ae6f4')"))
        db.session.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "flask db upgrade" in answer.get_json()["checks"]["database"]


def test_readiness_fails_when_the_database_is_gone(tmp_path):
    app = make_app(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["checks"]["database"].startswith("failed")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_sum_the_requests_of_every_gunicorn_worker(tmp_path, database_url):
    """Two workers answering requests sent at once: every scrape, whichever worker answers it,
    counts all of them."""
    app = make_app(tmp_path, database_url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    port = _free_port()
    env = {**os.environ, "SECGO_DATABASE_URL": database_url, "SECGO_METRICS_TOKEN": TOKEN,
           "SECGO_INSTANCE_PATH": str(tmp_path / "gunicorn-instance"), "SECGO_SECURE_COOKIES": "0",
           "SECGO_RATELIMIT_ENABLED": "0", "SECGO_REQUEST_LOG": "0"}
    counts = tmp_path / "metrics"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(counts)
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--config", "python:secgo.gunicorn_conf",
         "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=10).ok:
                    break
            except requests.RequestException:  # not listening yet, or its workers still starting
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        sent = 0
        with ThreadPoolExecutor(8) as pool:  # at once, so that both sync workers answer
            while len(set(counts.glob("counter_*.db"))) < 2 and sent < 400:
                answers = list(pool.map(lambda _: requests.get(base + "/offline", timeout=10), range(40)))
                assert all(a.status_code == 200 for a in answers)
                sent += len(answers)
        assert len(set(counts.glob("counter_*.db"))) == 2, "both workers should have answered"
        for _ in range(6):
            scrape = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            assert scrape.status_code == 200
            assert _value(scrape.text, "secgo_http_requests_total", route="/offline", method="GET",
                          status="200") == sent
    finally:
        stop_process_group(proc)


def test_a_page_answered_from_the_page_cache_is_counted_and_has_a_request_id(app, client, world, auth, request_lines):
    app.config["METRICS_TOKEN"] = TOKEN
    auth.login("producer")
    before = _value(_scrape(client).get_data(as_text=True), "secgo_http_requests_total",
                    route="/orders", method="GET", status="200")
    first, second = client.get("/orders"), client.get("/orders")
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    body = _scrape(client).get_data(as_text=True)
    assert _value(body, "secgo_http_requests_total", route="/orders", method="GET", status="200") == before + 2
    kept = [line for line in request_lines() if line.get("page_cache")]
    assert kept and kept[-1]["route"] == "/orders" and kept[-1]["request_id"] == second.headers["X-Request-ID"]


def test_each_request_line_says_the_cpu_it_cost_a_kept_page_far_less_than_one_made(client, world, auth, request_lines):
    auth.login("producer")
    client.get("/orders")  # made
    client.get("/orders")  # kept: answered before Flask runs
    made, kept = request_lines()[-2:]
    assert "page_cache" not in made and kept["page_cache"]
    assert 0 < kept["cpu_ms"] < made["cpu_ms"]

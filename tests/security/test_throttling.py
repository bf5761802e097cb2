"""Attacks on log-in throttling: more guesses through several workers, locking out the real
user, spelling one login many ways, and a deployment that counts in each worker's memory.

The limiter counts in a real Redis (TestConfig), each app under its own key prefix.
"""
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer

from secgo.auth.throttle import DEVICE_COOKIE
from secgo.config import TestConfig
from secgo.extensions import db
from secgo.models import User
from tests.conftest import Auth
from tests.factories import PASSWORD
from tests.live import stop_process_group

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
LIMIT = 10  # LOGIN_RATE_LIMIT: "10 per minute;60 per hour"
WRONG = "not the password 1"
# Shared by this test app and the gunicorn workers below, as one deployment's workers share it.
SHARED_PREFIX = f"secgo-test-shared-{uuid.uuid4().hex}"
THAI_TOO_MANY = "ลองหลายครั้งเกินไป"


def csrf(client, path="/login"):
    return Auth(client).csrf(path)


def attempt(client, login, password=WRONG, token=None, address="127.0.0.1", **kwargs):
    data = {"login": login, "password": password, "csrf_token": token or csrf(client)}
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address}, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(tmp_path, workers, **env):
    """`gunicorn -w N wsgi:app` from the repository (so it reads gunicorn.conf.py); always stopped."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    environ = {
        **os.environ, "SECGO_SECURE_COOKIES": "0", "SECGO_SECRET_KEY": TestConfig.SECRET_KEY,
        "SECGO_INSTANCE_PATH": str(tmp_path / f"instance-{port}"), **env,
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(GUNICORN), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--graceful-timeout", "2",
             "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while log.read_text(errors="replace").count("Booting worker") < workers:
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + log.read_text(errors="replace")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop_process_group(proc)


def wait_until_serving(base):
    deadline = time.monotonic() + 30
    while True:
        try:
            return requests.get(base + "/login", timeout=5)
        except requests.RequestException:
            assert time.monotonic() < deadline
            time.sleep(0.1)


@pytest.mark.parametrize("app", [{"RATELIMIT_KEY_PREFIX": SHARED_PREFIX}], indirect=True)
def test_guesses_spread_over_workers_and_instances_share_one_budget(app, client, world, tmp_path,
                                                                    database_url):
    storage = app.config["RATELIMIT_STORAGE_URI"]
    with gunicorn(tmp_path, 2, SECGO_DATABASE_URL=database_url, SECGO_RATELIMIT_STORAGE_URI=storage,
                  SECGO_RATELIMIT_KEY_PREFIX=SHARED_PREFIX) as (base, log):
        other = requests.Session()
        page = wait_until_serving(base)
        other_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        other.cookies.update(page.cookies)

        def remote():
            return other.post(base + "/login", allow_redirects=False, timeout=10, data={
                "login": "producer", "password": WRONG, "csrf_token": other_token}).status_code

        token = csrf(client)
        here = [attempt(client, "producer", token=token).status_code for _ in range(4)]
        there = [remote() for _ in range(LIMIT - 4)]
        assert here + there == [401] * LIMIT
        assert attempt(client, "producer", token=token).status_code == 429
        assert remote() == 429
        assert "ERROR" not in log.read_text(errors="replace")


def test_an_attacker_filling_a_logins_bucket_does_not_lock_out_the_users_own_device(app, world):
    phone = app.test_client()
    assert attempt(phone, "producer", PASSWORD).status_code == 302
    phone.post("/logout", data={"csrf_token": csrf(phone, "/offline")})

    # The attacker's own account gives a device cookie for that login only; a forged one, none.
    attacker = app.test_client()
    assert attempt(attacker, "other_producer", PASSWORD).status_code == 302
    attacker.post("/logout", data={"csrf_token": csrf(attacker, "/offline")})
    token = csrf(attacker)
    guesses = [attempt(attacker, "producer", token=token, address=f"198.51.100.{i}").status_code
               for i in range(LIMIT // 2)]
    forged = URLSafeTimedSerializer("a guessed secret", salt="secgo.auth.device-cookie")
    attacker.set_cookie(DEVICE_COOKIE, forged.dumps([["0" * 32, "nonce"]]), path="/login")
    guesses += [attempt(attacker, "producer", token=token, address=f"198.51.100.{i}").status_code
                for i in range(LIMIT // 2, LIMIT + 1)]
    assert guesses == [401] * LIMIT + [429]
    # A stranger typing the right password is refused too: the login's shared bucket is full.
    assert attempt(app.test_client(), "producer", PASSWORD, address="198.51.100.99").status_code == 429

    token = csrf(phone)
    assert attempt(phone, "Producer ", "a typo in it", token=token).status_code == 401
    response = attempt(phone, "producer", PASSWORD, token=token)
    assert response.status_code == 302
    assert phone.get("/orders").status_code == 200
    cookie = phone.get_cookie(DEVICE_COOKIE, path="/login")
    assert cookie.http_only and cookie.same_site == "Strict"


def test_spelling_a_login_many_ways_or_from_many_addresses_shares_its_bucket(app, client, world):
    with app.app_context():
        db.session.get(User, world.users["producer"]).phone = "+85512345678"
        db.session.commit()
    spellings = ["+85512345678", "+855 12 345 678", "+855-12-345-678", "+855.12.345.678",
                 "(+855) 12345678", " +85512345678 ", "+855 1234 5678", "+855-1234-5678",
                 "+855 (12) 345-678", "+855 123 45678"]
    token = csrf(client)
    statuses = [attempt(client, login, token=token, address=f"203.0.113.{i}").status_code
                for i, login in enumerate(spellings)]
    assert statuses == [401] * LIMIT
    headers = {"Accept-Language": "th"}
    refused = attempt(client, "+855 12345 678", token=token, address="203.0.113.200", headers=headers)
    assert refused.status_code == 429
    assert THAI_TOO_MANY in refused.get_data(as_text=True)
    refused = attempt(client, "+85512345678", token=token, address="203.0.113.201",
                      headers={**headers, "Accept": "application/json"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert THAI_TOO_MANY in refused.get_json()["error"]["message"]


def test_colleagues_logging_in_from_one_office_address_are_not_throttled(app, world):
    office = "192.0.2.10"
    people = ["producer", "customer", "coordinator", "admin", "other_producer", "other_customer"]
    for _ in range(2):
        for name in people:
            device = app.test_client()
            assert attempt(device, name, PASSWORD, address=office).status_code == 302, name
    # The address still has its whole budget for mistakes.
    device = app.test_client()
    token = csrf(device)
    typos = [attempt(device, "producer", token=token, address=office).status_code for _ in range(LIMIT)]
    assert typos == [401] * LIMIT


def test_several_workers_on_the_in_memory_store_log_an_error_at_start(tmp_path):
    with gunicorn(tmp_path, 2, SECGO_RATELIMIT_STORAGE_URI="memory://") as (_, log):
        errors = [line for line in log.read_text(errors="replace").splitlines() if "[ERROR]" in line]
    assert len(errors) == 1, errors
    assert "memory://" in errors[0] and "2 workers" in errors[0]
    assert "SECGO_RATELIMIT_STORAGE_URI=redis://" in errors[0]


def test_a_stolen_session_cannot_guess_the_current_password_without_end(client, auth, world):
    auth.login("producer")
    token = csrf(client, "/settings")

    def guess(current):
        return client.post("/settings", data={
            "action": "password", "csrf_token": token, "pw-csrf_token": token, "pw-current": current,
            "pw-password": "a brand new password", "pw-confirm": "a brand new password"})

    wrong = [guess(f"guess number {i}") for i in range(LIMIT)]
    assert [r.status_code for r in wrong] == [422] * LIMIT
    assert "This is not your current password." in wrong[-1].get_data(as_text=True)
    assert guess(PASSWORD).status_code == 429
    # Other settings still save.
    saved = client.post("/settings", data={
        "action": "profile", "csrf_token": token, "profile-display_name": "Sokha",
        "profile-locale": "en", "profile-timezone": "Asia/Bangkok"})
    assert saved.status_code == 302


@pytest.mark.parametrize("app", [{"PROXY_HOPS": 1}], indirect=True)
def test_behind_a_proxy_each_client_address_has_its_own_budget_and_cannot_spoof_another(app, world):
    # Every request reaches the app from the proxy (127.0.0.1); the proxy appends the client's
    # address to X-Forwarded-For. Only that last hop counts: a client-sent value before it doesn't.
    def guess(client, forwarded, login):
        data = {"login": login, "password": WRONG, "csrf_token": csrf(client)}
        return client.post("/login", data=data, headers={"X-Forwarded-For": forwarded}).status_code

    mallory = app.test_client()
    statuses = [guess(mallory, f"198.51.100.{i}, 203.0.113.66", f"nobody{i}") for i in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    assert guess(app.test_client(), "203.0.113.7", "someone") == 401  # another client: its own budget

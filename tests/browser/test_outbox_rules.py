"""The outbox's send rules, once, against the one script the page and the service worker share.

static/js/outbox-send.js is loaded into a page as the worker loads it (a classic script) and as
outbox.js loads it (a module); every answer a server or the network can give is played to it by
a tiny HTTP server of the test's own (no app server), and the item's outcome and what stays in
IndexedDB are checked. The end-to-end offline tests (test_offline.py) drive the same script
through the real page and the real service worker.
"""
import json
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.browser.offline_live import wait_js
from tests.live import POLL

pytestmark = [pytest.mark.browser, pytest.mark.once]

SHARED = Path(__file__).resolve().parents[2] / "secgo" / "static" / "js" / "outbox-send.js"
USER = "7"

# An item as outbox.js queues it: its fields, one photo as a Blob, the form's CSRF token.
SEND = """async ({ url, pageToken, photo }) => {
  const O = self.SecgoOutbox;
  const item = {
    key: `key-${url}`, url, csrf: 'form-token', created: Date.now(), state: 'pending',
    error: null, user: '%s', page: '/orders/SEC-TEST01', label: 'At border', summary: '',
    fields: [['status', 'at_border'], ['note', 'ຮອດດ່ານຊາຍແດນ']],
    files: photo ? [{ name: 'photos', blob: new Blob([new Uint8Array(4096)], { type: 'image/jpeg' }),
                      filename: 'border.jpg' }] : [],
  };
  item.seq = await O.putItem(item);
  const result = await O.send(item, pageToken);
  const kept = (await O.allItems()).find((i) => i.key === item.key);
  return { result, kept: kept && { state: kept.state, error: kept.error, files: kept.files.length,
                                   answer: kept.answer || null } };
}""" % USER


def error_body(code, message, fields=None):
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def json_answer(status, body, headers=None):
    return {"status": status, "content_type": "application/json", "body": json.dumps(body),
            "headers": headers or {}}


class Server:
    """A tiny HTTP server on 127.0.0.1 (a secure context: Web Locks work) that answers
    /post/<case> from ANSWERS and /offline as a session page, and records every POST."""

    def __init__(self, loader):
        self.requests = []
        self.offline = {"user": USER, "token": "fresh-token"}
        self.loader = loader
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.answer(self)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       kwargs={"poll_interval": POLL})
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.thread.join(10)
        self.httpd.server_close()

    def answer(self, handler):
        path = handler.path
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        if path == "/":
            kind = ' type="module"' if self.loader == "module" else ""
            answer = html(f'<script{kind} src="/static/js/outbox-send.js"></script>')
        elif path == "/static/js/outbox-send.js":
            answer = {"status": 200, "content_type": "text/javascript", "body": SHARED.read_text()}
        elif path == "/offline":
            answer = "network" if self.offline is None else html(
                f'<body data-user="{self.offline["user"]}"><form>'
                f'<input name="csrf_token" value="{self.offline["token"]}"></form>')
        elif not path.startswith("/post/"):
            answer = html("<p>a page</p>")  # /login, /orders/...: where redirects lead
        else:
            case = path.removeprefix("/post/")
            headers = {k.lower(): v for k, v in handler.headers.items()}
            self.requests.append({"case": case, "method": handler.command, "headers": headers,
                                  "body": body})
            answer = ANSWERS[case]
            if callable(answer):
                answer = answer(headers)
        if answer == "network":  # the connection drops without an answer
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        data = answer.get("body", "").encode()
        handler.send_response(answer["status"])
        for name, value in answer.get("headers", {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", answer.get("content_type", "text/plain"))
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def html(body):
    return {"status": 200, "content_type": "text/html; charset=utf-8",
            "body": f"<!doctype html><html>{body}</html>"}


def csrf_then_created(headers):
    if headers.get("x-csrftoken") == "fresh-token":
        return json_answer(201, {"location": "/orders/SEC-TEST01#u9"})
    return json_answer(400, error_body("csrf", "The form expired."))


def unavailable_for_90_seconds(headers):
    return json_answer(503, error_body("unavailable", "Later."),
                       {"Retry-After": formatdate(time.time() + 90, usegmt=True)})


ANSWERS = {
    "created": json_answer(201, {"location": "/orders/SEC-TEST01#u9", "id": 9}),
    "ok": json_answer(200, {"location": "/orders/SEC-TEST01"}),
    "asked": json_answer(201, {"location": "/orders/SEC-TEST01#u9", "id": 9,
                               "zawgyi_suggestion": {"note": "ဆိုင်"}}),
    "redirect-page": {"status": 303, "headers": {"Location": "/orders/SEC-TEST01"}},
    "redirect-login": {"status": 302, "headers": {"Location": "/login?next=/orders"}},
    "unauthorized": json_answer(401, error_body("login", "Log in again.")),
    "csrf-renewed": csrf_then_created,
    "csrf": json_answer(400, error_body("csrf", "The form expired.")),
    "csrf-offline": json_answer(400, error_body("csrf", "The form expired.")),
    "bad-request": json_answer(400, error_body("bad_request", "Bad request.")),
    "forbidden": json_answer(403, error_body("forbidden", "You may not do this.")),
    "not-found": json_answer(404, error_body("not_found", "No such order.")),
    "conflict": json_answer(409, error_body("conflict", "The order was cancelled.")),
    "too-large": json_answer(413, error_body("too_large", "The photos are too large.")),
    "unsupported": json_answer(415, error_body("unsupported", "Only photos can be attached.")),
    "invalid": json_answer(422, error_body("invalid", "Check the form.",
                                           {"status": "Choose a status."})),
    "html-refusal": {"status": 422, "content_type": "text/html", "body": "<p>no</p>"},
    "timeout": json_answer(408, error_body("timeout", "Too slow.")),
    "too-early": {"status": 425, "body": ""},
    "throttled": json_answer(429, error_body("rate_limited", "Too many."), {"Retry-After": "120"}),
    "server-error": {"status": 500, "body": "oops"},
    "bad-gateway": {"status": 502, "body": ""},
    "unavailable": unavailable_for_90_seconds,
    "gateway-timeout": {"status": 504, "body": ""},
    "network": "network",
}

# What /offline answers when a token is renewed, where it is not this user's fresh session.
SESSIONS = {"csrf": {"user": "8", "token": "other-users-token"}, "csrf-offline": None}

# case -> (outcome, what stays in the store: None = removed, else the item's state)
RULES = {
    "created": ("sent", None),
    "ok": ("sent", None),
    "asked": ("sent", "asked"),
    "redirect-page": ("sent", None),
    "redirect-login": ("login", "pending"),
    "unauthorized": ("login", "pending"),
    "csrf-renewed": ("sent", None),
    "csrf": ("login", "pending"),  # the session now is another user's: log in
    "csrf-offline": ("retry", "pending"),  # no fresh token to be had now: later
    "bad-request": ("failed", "failed"),
    "forbidden": ("failed", "failed"),
    "not-found": ("failed", "failed"),
    "conflict": ("failed", "failed"),
    "too-large": ("failed", "failed"),
    "unsupported": ("failed", "failed"),
    "invalid": ("failed", "failed"),
    "html-refusal": ("failed", "failed"),
    "timeout": ("retry", "pending"),
    "too-early": ("retry", "pending"),
    "throttled": ("retry", "pending"),
    "server-error": ("retry", "pending"),
    "bad-gateway": ("retry", "pending"),
    "unavailable": ("retry", "pending"),
    "gateway-timeout": ("retry", "pending"),
    "network": ("retry", "pending"),
}


def serve(page, loader):
    """The test server, with a page that loaded the shared script (classic: as the worker's
    importScripts does; module: as outbox.js imports it)."""
    server = Server(loader)
    page.goto(server.url + "/")
    wait_js(page, "!!self.SecgoOutbox")
    return server


@pytest.fixture
def shared(page):
    server = serve(page, "classic")
    yield page, server
    server.close()


def send(page, case, page_token="page-token", photo=True):
    return page.evaluate(SEND, {"url": f"/post/{case}", "pageToken": page_token, "photo": photo})


@pytest.mark.parametrize("case", list(RULES))
def test_each_answer_decides_the_items_outcome_and_what_stays_queued(shared, case):
    page, server = shared
    server.offline = SESSIONS.get(case, server.offline)
    outcome, stays = RULES[case]
    got = send(page, case)
    assert got["result"]["outcome"] == outcome, got
    if stays is None:
        assert got["kept"] is None, got  # 2xx: gone from the queue
    else:
        assert got["kept"]["state"] == stays, got  # nothing else is ever dropped
    if outcome == "failed":
        error = got["kept"]["error"]
        assert error["status"] == ANSWERS[case]["status"]
        assert error["message"], got  # the server's message, kept to show the user
        if case == "invalid":
            assert error["message"] == "Check the form."
            assert error["fields"] == {"status": "Choose a status."}
        if case == "html-refusal":
            assert error["message"].startswith("422")
    if stays == "asked":
        assert got["kept"]["files"] == 0 and got["kept"]["answer"]["zawgyi_suggestion"]


def test_the_page_loads_the_same_script_as_a_module_with_the_same_rules(page):
    server = serve(page, "module")
    try:
        for case in ("created", "invalid", "unauthorized", "throttled", "network"):
            assert send(page, case)["result"]["outcome"] == RULES[case][0], case
    finally:
        server.close()


def test_a_success_tells_where_the_report_landed(shared):
    page, server = shared
    assert send(page, "created")["result"]["location"] == "/orders/SEC-TEST01#u9"
    assert send(page, "redirect-page")["result"]["location"] == server.url + "/orders/SEC-TEST01"


def test_a_retry_is_not_sooner_than_the_servers_retry_after(shared):
    page, _ = shared
    assert send(page, "throttled")["result"]["retryAfter"] == 120000
    assert 80000 < send(page, "unavailable")["result"]["retryAfter"] <= 90000
    assert send(page, "server-error")["result"]["retryAfter"] == 0


def test_an_expired_csrf_token_is_renewed_once_then_the_item_goes_out(shared):
    page, server = shared
    assert send(page, "csrf-renewed", photo=False)["result"]["outcome"] == "sent"
    tokens = [r["headers"].get("x-csrftoken") for r in server.requests]
    assert tokens == ["page-token", "fresh-token"]
    assert page.evaluate("self.SecgoOutbox.freshToken()") == "fresh-token"
    send(page, "created")  # the fresh token is used from now on
    assert server.requests[-1]["headers"]["x-csrftoken"] == "fresh-token"


def test_a_report_with_a_photo_asks_for_a_current_token_first_and_goes_up_once(shared):
    page, server = shared
    assert send(page, "csrf-renewed")["result"]["outcome"] == "sent"
    assert [r["headers"].get("x-csrftoken") for r in server.requests] == ["fresh-token"]


def test_a_text_report_without_a_page_token_takes_the_forms(shared):
    page, server = shared
    send(page, "created", page_token="", photo=False)
    assert server.requests[-1]["headers"]["x-csrftoken"] == "form-token"


def test_an_item_is_posted_with_its_key_fields_photos_and_csrf_header(shared):
    page, server = shared
    send(page, "created", page_token="")
    (request,) = server.requests
    assert request["method"] == "POST"
    assert request["headers"]["idempotency-key"] == "key-/post/created"
    assert request["headers"]["accept"] == "application/json"
    assert request["headers"]["x-csrftoken"] == "fresh-token"  # a photo: the session's current one
    assert request["headers"]["content-type"].startswith("multipart/form-data")
    body = request["body"]
    assert 'name="status"' in body.decode("latin-1") and "ຮອດດ່ານຊາຍແດນ".encode() in body
    assert b'name="photos"; filename="border.jpg"' in body
    assert b"Content-Type: image/jpeg" in body and body.count(b"\x00" * 4096) == 1


DRAIN = """async (urls) => {
  const O = self.SecgoOutbox;
  for (const [url, user] of urls) {
    await O.putItem({ key: `key-${url}-${user}`, url, csrf: 't', created: Date.now(),
      state: 'pending', error: null, user, page: '/', label: url, fields: [], files: [] });
  }
  const heard = [];
  const last = await O.drain('%s', 'page-token', (item, result) => {
    heard.push([item.url, result.outcome]);
  });
  const left = (await O.allItems()).map((i) => [i.url, i.user, i.state]);
  return { last: last.outcome, heard, left };
}""" % USER


def test_the_queue_goes_in_order_past_refusals_and_stops_at_the_first_retry(shared):
    page, server = shared
    got = page.evaluate(DRAIN, [["/post/invalid", USER], ["/post/ok", "8"], ["/post/created", USER],
                                ["/post/unavailable", USER], ["/post/ok", USER]])
    assert got["heard"] == [["/post/invalid", "failed"], ["/post/created", "sent"],
                            ["/post/unavailable", "retry"]]
    assert got["last"] == "retry"
    assert got["left"] == [["/post/invalid", USER, "failed"], ["/post/ok", "8", "pending"],
                           ["/post/unavailable", USER, "pending"], ["/post/ok", USER, "pending"]]
    assert [r["case"] for r in server.requests] == ["invalid", "created", "unavailable"]


def test_the_queue_stops_at_a_login_and_is_done_when_empty(shared):
    page, _ = shared
    got = page.evaluate(DRAIN, [["/post/unauthorized", USER], ["/post/ok", USER]])
    assert got["last"] == "login" and [s for *_, s in got["left"]] == ["pending", "pending"]
    page.evaluate("""async () => { for (const i of await self.SecgoOutbox.allItems())
                                     await self.SecgoOutbox.deleteItem(i.seq); }""")
    got = page.evaluate(DRAIN, [["/post/created", USER], ["/post/ok", USER]])
    assert got == {"last": "done", "heard": [["/post/created", "sent"], ["/post/ok", "sent"]],
                   "left": []}

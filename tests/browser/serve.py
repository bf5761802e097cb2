"""Run the app for browser tests: python -m tests.browser.serve (settings from the environment).

SECGO_LIVE_DB (database URL), SECGO_LIVE_TMP (folder for instance and uploads), SECGO_LIVE_PORT.
A file named `crash-after-write` in SECGO_LIVE_TMP makes the next page write stop the server
after it has committed and before it answers: a crash in the middle of a replay. The text of a
file named `sw-release` is added to /service-worker.js as a comment: a new release. While a
file named `slow-pages` exists, every page (GET /orders...) waits that many seconds: a poor signal.
While a file named `fail-writes` exists, every POST is answered 503 without reaching the app.
"""
import os
import time
from pathlib import Path

from werkzeug.serving import make_server

from tests.conftest import make_app


def crash_after_write(app, flag: Path):
    """Wrap the WSGI app: finish a POST (commit), then die without answering when flagged."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or not flag.exists():
            return inner(environ, start_response)
        captured = {}

        def hold(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(inner(environ, hold))
        if captured["status"].startswith("2"):
            flag.unlink()
            os._exit(3)  # the write is committed; the answer is lost
        start_response(captured["status"], captured["headers"])
        return [body]

    app.wsgi_app = wsgi


def new_release(app, marker: Path):
    """Wrap the WSGI app: /service-worker.js ends with the marker's text, when there is one."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ["PATH_INFO"] != "/service-worker.js" or not marker.exists():
            return inner(environ, start_response)
        environ["HTTP_ACCEPT_ENCODING"] = "identity"
        captured = {}

        def hold(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(inner(environ, hold)) + f"\n// {marker.read_text()}\n".encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]

    app.wsgi_app = wsgi


def slow_pages(app, flag: Path):
    """Wrap the WSGI app: order pages answer late while the flag file exists."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].startswith("/orders") \
                and flag.exists():
            time.sleep(float(flag.read_text() or 1))
        return inner(environ, start_response)

    app.wsgi_app = wsgi


def failing_writes(app, flag: Path):
    """Wrap the WSGI app: POSTs get a 503 (an overloaded server or proxy) while flagged."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and flag.exists():
            body = b'{"error": {"code": "unavailable", "message": "Try again later."}}'
            start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "application/json"),
                                                      ("Content-Length", str(len(body)))])
            return [body]
        return inner(environ, start_response)

    app.wsgi_app = wsgi


def main():
    """Serve until killed."""
    tmp = Path(os.environ["SECGO_LIVE_TMP"])
    app = make_app(tmp, os.environ["SECGO_LIVE_DB"], RATELIMIT_ENABLED=False)
    crash_after_write(app, tmp / "crash-after-write")
    new_release(app, tmp / "sw-release")
    slow_pages(app, tmp / "slow-pages")
    failing_writes(app, tmp / "fail-writes")
    server = make_server("127.0.0.1", int(os.environ["SECGO_LIVE_PORT"]), app, threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

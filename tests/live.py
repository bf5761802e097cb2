"""A live server for tests that need real HTTP (concurrency, the browser): the test's own app,
run by werkzeug in a thread on 127.0.0.1 and a free port."""
import threading
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

# How often a test's HTTP server looks for its stop: shutdown() waits up to this long (the
# standard library's 0.5 s cost every test with a server half a second or more at its end).
POLL = 0.02


@pytest.fixture(name="live_server")
def live_server_fixture(app):
    """Serve the test's app (same database) over HTTP; yields .url and .app."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True,
                              kwargs={"poll_interval": POLL})
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def stop_process_group(proc, grace: float = 10) -> None:
    """Stop a server started with start_new_session=True (gunicorn and its workers): TERM,
    then KILL if it is still there after `grace` seconds."""
    import os
    import signal
    import subprocess

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)

"""Fixtures for the offline tests: the app in its own process (so it can crash and restart on
the same database) and a Chromium profile that survives a browser restart.

Use: from tests.browser.offline_live import app_server, phone, playwright_driver  # noqa: F401
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SECGO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """tests.browser.serve on 127.0.0.1; stop() and start() keep the port and the data."""

    def __init__(self, tmp_path: Path, database_url: str):
        self.tmp = tmp_path
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        env = {**os.environ, "SECGO_LIVE_TMP": str(self.tmp), "SECGO_LIVE_DB": self.database_url,
               "SECGO_LIVE_PORT": str(self.port)}
        with open(self.tmp / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.browser.serve"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.tmp / "server.log").read_text()[-3000:])
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the app server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def crash_after_next_write(self):
        """The next successful POST commits, then the server dies before it answers."""
        (self.tmp / "crash-after-write").touch()

    def wait_for_crash(self, timeout=30):
        self.process.wait(timeout)
        self.process = None


@pytest.fixture
def app_server(app, world, tmp_path, database_url):
    """The test's database (with the world) served by a separate process."""
    server = AppServer(tmp_path, database_url).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_driver(playwright_instance):
    return playwright_instance


@pytest.fixture
def phone(playwright_driver, tmp_path):
    """phone() -> a 360 x 740 Chromium on one profile; calling it again after close() is the
    same phone restarted (same IndexedDB, caches and service worker)."""
    profile = tmp_path / "profile"
    profile.mkdir()
    opened = []

    def _open(**options):
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 360, "height": 740}, device_scale_factor=1, **options,
        )
        context.set_default_timeout(30000)  # the test machine is shared and slow
        opened.append(context)
        return context

    yield _open
    for context in opened:
        try:
            context.close()
        except Exception:  # noqa: BLE001 - closed by the test already
            pass


def wait_js(page, expression, timeout=45.0):
    """Poll a script expression until it is true (wait_for_function needs eval, which the CSP
    rightly forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Exception:  # noqa: BLE001 - the page is navigating
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        time.sleep(0.2)


def wait_for_worker(page):
    """Until the service worker controls the page (a page that loaded while the first worker
    was still installing is taken over at its next load)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    wait_js(page, "navigator.serviceWorker.controller !== null")

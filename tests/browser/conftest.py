"""Browser fixtures: a live server and Debian's headless Chromium driven by Playwright.

Tests here skip cleanly where /usr/bin/chromium (or Playwright) is missing. Use them as:

    def test_something(live_server, page, login): login("producer"); page.goto(live_server.url + "/orders")
"""
import os
from pathlib import Path

import pytest

from tests.live import live_server_fixture  # noqa: F401  (the live_server fixture)

CHROMIUM = os.environ.get("SECGO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# A browser test that waits on something that never comes fails after this many seconds (with
# every thread's stack in the log) instead of holding the whole run: Playwright's own waits
# stop at 15 s, but a page.evaluate, a route handler or a closing context has no limit of its
# own.
BROWSER_TEST_TIMEOUT = 120
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in item.nodeid and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT))


@pytest.fixture(scope="session")
def playwright_instance():
    """The one Playwright driver of the session (a second sync driver cannot start beside it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def browser_context(browser):
    """A fresh phone-sized context (360 x 740, touch) per test."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1,
                                  has_touch=True, is_mobile=True)
    try:
        yield context
    finally:
        # Leave every page first (each wait bounded): closing a context whose page was still
        # sending from its outbox once hung Chromium past the test's time limit in CI.
        for open_page in context.pages:
            try:
                open_page.goto("about:blank", timeout=5000)
            except Exception:  # noqa: BLE001 - a page already gone or stuck: close it anyway
                pass
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.fixture
def login(page, live_server):
    """Log the page in as one of the world's people."""
    from tests.factories import PASSWORD

    def _login(username, password=PASSWORD):
        page.context.clear_cookies()
        seen = []
        for _attempt in range(3):
            # On a loaded machine the service worker may answer from its copies (network-first
            # with a short wait), or the server a busy 503: ask again, with time for the page.
            response = page.goto(f"{live_server.url}/login")
            try:
                page.wait_for_selector("input[name=login]", timeout=20000)
                break
            except Exception:  # noqa: BLE001 - playwright's TimeoutError: note what came
                seen.append(f"{page.url} {response.status if response else '-'} "
                            f"{page.locator('body').inner_text()[:200]!r}")
        else:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"login-{username}-failed.png"), full_page=True)
            raise AssertionError(f"the sign-in page never came: {seen}")
        page.fill("input[name=login]", username)
        page.fill("input[name=password]", password)
        page.locator("form button[type=submit], form button").last.click()
        page.wait_for_load_state()
        return page

    return _login


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot to test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(name):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot

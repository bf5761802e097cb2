"""The tab bar: which tabs each role has, in one list, and their unread counts.

A new section adds one row to TABS. Tabs with `menu=True` go behind "More" when a role has
two or more of them (at 360 px four tabs and "More" fit in every language; six do not);
a role with only one such tab shows it in the bar. A row whose endpoint does not exist in
the app (a blueprint not installed) is left out.
"""
from dataclasses import dataclass

from flask import current_app, g, get_template_attribute, has_request_context, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from . import readmarks

STAFF = ("coordinator", "admin")


@dataclass(frozen=True)
class Tab:
    endpoint: str
    label: object
    current: str  # the endpoint, or a blueprint's prefix ("orders."), that marks it current
    roles: tuple | None = None  # None: everyone signed in
    count: str | None = None  # "orders" or "issues": shows readmarks.tab_counts' number
    menu: bool = False


TABS = (
    Tab("coordinator.dashboard", _l("Dashboard"), "coordinator.", roles=STAFF),
    Tab("orders.index", _l("Orders"), "orders.", count="orders"),
    Tab("issues.index", _l("Issues"), "issues.", count="issues"),
    Tab("profiles.directory", _l("Producers"), "profiles.", roles=("customer", *STAFF), menu=True),
    Tab("onboarding.index", _l("People"), "onboarding.", roles=STAFF, menu=True),
    Tab("admin.people", _l("Accounts"), "admin.", roles=STAFF, menu=True),
    Tab("matching.index", _l("Business matching"), "matching.", roles=STAFF, menu=True),
    Tab("matching.index", _l("My matches"), "matching.", roles=("customer",), menu=True),
    Tab("audit.index", _l("Account history"), "audit.", roles=STAFF, menu=True),
    Tab("auth.settings", _l("Settings"), "auth.settings", menu=True),
)
# A producer's own profile, its enquiries and its business matches are reached from the
# settings page: producers keep their three tabs and no menu (tests/browser/test_tab_bar.py).
NO_COUNTS = {"main.offline"}  # kept by the service worker as the app shell: no live numbers


@dataclass(frozen=True)
class Shown:
    tab: Tab
    is_current: bool

    @property
    def href(self) -> str:
        return url_for(self.tab.endpoint)


# How many tab bars an app keeps written (TabBar.html): languages x roles x current tabs x
# numbers seen lately; when full it starts again.
WRITTEN_BARS = 2000


class TabBar:
    """The signed-in user's tabs: `bar` (always visible), `more` (behind "More"), `counts`."""

    def __init__(self, user, endpoint: str):
        views = current_app.view_functions
        shown = [
            Shown(t, endpoint == t.current or (t.current.endswith(".") and endpoint.startswith(t.current)))
            for t in TABS
            if t.endpoint in views and (t.roles is None or user.role in t.roles)
        ]
        menu = [s for s in shown if s.tab.menu]
        grouped = len(menu) > 1
        self.bar = [s for s in shown if not (grouped and s.tab.menu)]
        self.more = menu if grouped else []
        self.more_current = any(s.is_current for s in self.more)
        self._user, self._endpoint, self._counts = user, endpoint, None

    @property
    def counts(self) -> dict:
        """Unread orders and issues (one query, on first use); {} where none are shown."""
        if self._counts is None:
            self._counts = {}
            if self._endpoint not in NO_COUNTS:
                try:  # (a kept order page: the numbers its key holds, read by the page cache)
                    self._counts = g.get("tab_counts") or readmarks.tab_counts(self._user)
                except SQLAlchemyError:  # an error page after a database failure still renders
                    current_app.logger.warning("tab counts unavailable", exc_info=True)
        return self._counts

    def html(self) -> Markup:
        """The bar as base.html shows it (_tabs.html), written once per language, tabs, current
        tab and numbers, and kept by the app: the same few bars are on every page."""
        shown = [*self.bar, *self.more]
        numbers = tuple(tab_number(s.tab.count, self.counts.get(s.tab.count, 0) if s.tab.count else 0)
                        for s in shown)
        key = (str(get_locale()), request.script_root, len(self.bar),
               tuple((TABS.index(s.tab), s.is_current) for s in shown), numbers)
        written = current_app.extensions.setdefault("secgo.tab_bars", {})
        text = written.get(key)
        if text is None:
            if len(written) >= WRITTEN_BARS:
                written.clear()
            text = written[key] = Markup(get_template_attribute("_tabs.html", "tab_bar")(self, numbers))
        return text


def tab_bar() -> TabBar | None:
    """The tab bar of this request's user (None when nobody is signed in)."""
    if not current_user.is_authenticated:
        return None
    return TabBar(current_user, request.endpoint or "")


# (language, number) -> what a tab shows of it (_unread_badge.html), as written once: the
# page cache fills it into kept order pages as they are served.
_BADGES: dict = {}


def badge(locale: str, n: int, app=None) -> Markup:
    """What a tab shows of its number n in this language (a code of config.LOCALES): in a
    request in that language, or outside any request with `app`."""
    n = min(n, readmarks.COUNT_CAP + 1)  # all above the cap show as "99+"
    text = _BADGES.get((locale, n))
    if text is None:
        if has_request_context() and str(get_locale()) == locale:
            text = get_template_attribute("_unread_badge.html", "unread_badge")(n)
        else:
            with (app or current_app).test_request_context(), force_locale(locale):
                text = get_template_attribute("_unread_badge.html", "unread_badge")(n)
        _BADGES[locale, n] = text = Markup(text)
    return text


def tab_number(count: str | None, n: int) -> Markup:
    """A tab's number in the page: its badge, or where the page cache will put it as it serves
    a kept order page (secgo.pagecache.tab_later)."""
    if not count:
        return Markup()
    from .pagecache import tab_later  # (the page cache reads the tab counts: imported here)

    later = tab_later(count)
    return later if later is not None else badge(str(get_locale()), n)


def init_app(app) -> None:
    """base.html draws the tab bar from tab_bar() and tab_number(); the count cap shows as
    "99+"."""
    app.jinja_env.globals.update(tab_bar=tab_bar, tab_number=tab_number, UNREAD_CAP=readmarks.COUNT_CAP)

"""Which language and time zone a request gets, and the catalog it reads its words from."""
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, refresh
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from ..config import LOCALES, TIMEZONES

LANG_COOKIE = "secgo_lang"


def select_locale() -> str:
    """A page's own language (an invite: the invitee's) unless the switcher chose one; else
    the user's setting, then the switcher's cookie, then Accept-Language, then English."""
    if not has_request_context():
        return "en"
    cookie = request.cookies.get(LANG_COOKIE)
    page = g.get("secgo_page_locale")
    if page in LOCALES:
        return cookie if cookie in LOCALES else page
    user = _request_user()
    if user is not None and user.locale in LOCALES:
        return user.locale
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or "en"


def select_timezone() -> str:
    """The page's own zone (an invite: the invitee's), the user's, else the configured default."""
    page = g.get("secgo_page_timezone") if has_request_context() else None
    if page in TIMEZONES:
        return page
    user = _request_user()
    if user is not None and user.timezone in TIMEZONES:
        return user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def use_page_language(locale: str | None, timezone: str | None = None) -> None:
    """Show this page in a given language and zone (the language switcher still wins)."""
    g.secgo_page_locale, g.secgo_page_timezone = locale, timezone
    refresh()  # forget a language or zone already looked up in this request


def _request_user():
    """The signed-in user, or None; never loaded for a static file.

    Every other request asks, matched or not: a page that matched no route (404, 405) is
    still the signed-in person's page, in their language. An error page must not fail
    again because the database is what failed: then the visitor's language is used.
    """
    if not has_request_context() or request.endpoint == "static":
        return None
    try:
        user = current_user._get_current_object()
    except SQLAlchemyError as err:
        from ..extensions import db, login_manager

        # One line: during an outage every request comes here (the 503 itself is logged).
        current_app.logger.warning("language of the signed-in user not known: %s", type(err).__name__)
        db.session.rollback()
        login_manager._update_request_context_with_user(None)  # the page shows no one signed in
        return None
    return user if user is not None and user.is_authenticated else None


def request_translations():
    """The catalog of the request's language, looked up once per request and language.

    Templates call gettext hundreds of times per page, and Flask-Babel's get_translations()
    finds the catalog again on every call. Kept per get_locale() value, so force_locale()
    and refresh() are followed.
    """
    try:
        request_g = g._get_current_object()  # one context lookup instead of four per message
    except RuntimeError:
        return get_translations()  # no request or app context: Flask-Babel's null catalog
    babel_ns = getattr(request_g, "_flask_babel", None)  # where Flask-Babel keeps the locale
    locale = getattr(babel_ns, "babel_locale", None) or get_locale()
    cached = getattr(request_g, "secgo_translations", None)
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    request_g.secgo_translations = (locale, translations)
    return translations


# Jinja's newstyle gettext and ngettext (jinja2.ext._make_new_gettext, _make_new_ngettext),
# reaching the catalog in one call: Jinja's own go through three Context.call()s per message
# (`_` -> gettext -> the function given), two thirds of a message's cost on a page.
@pass_eval_context
def _template_gettext(eval_ctx, string, /, **variables):
    rv = request_translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    # Always a format string ("%%" is "%"), as Jinja's; one without "%" is already its result.
    return rv % variables if variables or "%" in rv else rv


@pass_eval_context
def _template_ngettext(eval_ctx, singular, plural, num, /, **variables):
    variables.setdefault("num", num)
    rv = request_translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def init_app(app):
    """Bind Flask-Babel with our selectors; templates translate through request_translations."""
    # One Babel per app: Flask-Babel keeps the catalogs it has loaded on the Babel object,
    # keyed by language only, so an app must not read another app's (older) catalogs.
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext,
                                 ngettext=_template_ngettext)

"""Which language and time zone a request gets, and the catalog it reads its words from."""
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user

from ..config import LOCALES, TIMEZONES

LANG_COOKIE = "secgo_lang"


def select_locale() -> str:
    """User setting, then the switcher's cookie, then Accept-Language, then English."""
    user = current_user if _has_user() else None
    if user is not None and user.is_authenticated and user.locale in LOCALES:
        return user.locale
    if not has_request_context():
        return "en"
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or "en"


def select_timezone() -> str:
    """The user's time zone, else the configured default."""
    user = current_user if _has_user() else None
    if user is not None and user.is_authenticated and user.timezone in TIMEZONES:
        return user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _has_user() -> bool:
    # current_user touches the database; avoid it for static files and errors before login.
    return has_request_context() and request.endpoint not in (None, "static")


def request_translations():
    """The catalog of the request's language, looked up once per request and language.

    Templates call gettext hundreds of times per page, and Flask-Babel's get_translations()
    finds the catalog again on every call. Kept per get_locale() value, so force_locale()
    and refresh() are followed.
    """
    locale = get_locale()
    cached = g.get("secgo_translations")
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g.secgo_translations = (locale, translations)
    return translations


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

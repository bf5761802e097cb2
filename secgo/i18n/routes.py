"""Script catalogs at /i18n/<lang>.<hash>.json: cached for a year, a new catalog a new URL."""
from flask import Response, current_app, g, redirect, url_for
from flask_babel import get_locale, get_timezone

from ..config import LOCALES
from . import bp
from .catalogs import script_catalogs


def script_catalog_url(locale: str) -> str:
    """The URL of a language's script catalog (its hash changes when its content does)."""
    digest = script_catalogs(current_app)[locale][0]
    return url_for("i18n.catalog", lang=locale, digest=digest)


@bp.get(f"/i18n/<any({', '.join(LOCALES)}):lang>.<digest>.json")
def catalog(lang, digest):
    """A language's messages for scripts; an old hash is sent on to the current URL."""
    current, body = script_catalogs(current_app)[lang]
    if digest != current:
        response = redirect(url_for("i18n.catalog", lang=lang, digest=current))
        response.headers["Cache-Control"] = "no-cache"
        return response
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def page_language() -> dict:
    """Every page's <html lang>, the address of its script catalog and the viewer's time
    zone (<html data-tz>: the scripts write times in it, as the pages do) (base.html)."""
    loc = get_locale()
    code = loc.language if loc else "en"
    g.locale_code = code
    return {"locale_code": code, "i18n_catalog_url": script_catalog_url(code),
            "timezone_code": str(get_timezone())}

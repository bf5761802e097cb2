"""Languages: locale and time zone, catalogs, Zawgyi, text, search folding, formatting, labels."""
from flask import Blueprint

bp = Blueprint("i18n", __name__)

from . import catalogs, formatting, labels, locale, routes
from .catalogs import JS_KEYWORDS, JS_SOURCES, build_script_catalogs, compile_catalogs
from .catalogs import js_msgids, script_catalog
from .formatting import CLDR_UNITS, CURRENCIES, format_ago, format_clock, format_day
from .formatting import format_duration, format_money, format_number, format_quantity, format_since
from .formatting import format_when
from .labels import BORDER_LABELS, CATEGORY_LABELS, DOCUMENT_LABELS, CONDITION_LABELS, COUNTRY_LABELS
from .labels import LANGUAGE_NAMES, ROLE_LABELS, SEVERITY_LABELS, STATE_LABELS
from .labels import STATUS_LABELS, TIMEZONE_LABELS
from .locale import LANG_COOKIE, request_translations, select_locale, select_timezone
from .question import ZAWGYI_ANSWERS, ZawgyiQuestion, apply_zawgyi_choice
from .question import check_zawgyi, zawgyi_answer
from .routes import script_catalog_url
from .search import fold
from .text import CONTROL_CHARS, NormalizedText, normalize_text
from .zawgyi import ZAWGYI_SURE, ZAWGYI_UNSURE, zawgyi_probability, zawgyi_to_unicode

__all__ = [
    "bp", "init_app",
    # locale
    "LANG_COOKIE", "request_translations", "select_locale", "select_timezone",
    # catalogs
    "JS_KEYWORDS", "JS_SOURCES", "build_script_catalogs", "compile_catalogs", "js_msgids",
    "script_catalog", "script_catalog_url",
    # zawgyi, text and the "did you mean ...?" question
    "ZAWGYI_SURE", "ZAWGYI_UNSURE", "zawgyi_probability", "zawgyi_to_unicode",
    "CONTROL_CHARS", "NormalizedText", "normalize_text",
    "ZAWGYI_ANSWERS", "ZawgyiQuestion", "apply_zawgyi_choice", "check_zawgyi", "zawgyi_answer",
    # search
    "fold",
    # formatting
    "CLDR_UNITS", "CURRENCIES", "format_ago", "format_clock", "format_day", "format_duration", "format_since",
    "format_money", "format_number", "format_quantity", "format_when",
    # labels
    "BORDER_LABELS", "CATEGORY_LABELS", "DOCUMENT_LABELS", "CONDITION_LABELS", "COUNTRY_LABELS", "LANGUAGE_NAMES",
    "ROLE_LABELS", "SEVERITY_LABELS", "STATE_LABELS", "STATUS_LABELS", "TIMEZONE_LABELS",
]


def init_app(app):
    """Bind Flask-Babel, compile the catalogs, and give templates gettext, filters and labels."""
    catalogs.init_app(app)  # first: Flask-Babel reads the folder of the compiled catalogs
    locale.init_app(app)
    formatting.init_app(app)
    labels.init_app(app)
    app.context_processor(routes.page_language)

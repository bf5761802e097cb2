"""What the profile's codes are called: certifications (our catalogs), markets and months
(the CLDR names Babel has for every language), languages (each in its own script)."""
from datetime import date

from babel.dates import get_month_names
from flask_babel import format_date, format_percent, get_locale
from flask_babel import lazy_gettext as _l

from ..i18n import LANGUAGE_NAMES

CERT_LABELS = {
    "organic": _l("Organic"),
    "gap": _l("GAP (good agricultural practice)"),
    "halal": _l("Halal"),
    "fair_trade": _l("Fair trade"),
    "gi": _l("Geographical indication (GI)"),
    "other": _l("Other certification"),
}


def spoken_name(code: str) -> str:
    """A language someone speaks: the app's languages in their own script (as the language
    menu writes them), any other (Chinese) in the page's language (a phone may lack CJK fonts)."""
    return LANGUAGE_NAMES.get(code) or get_locale().languages.get(code, code)


def market_name(code: str) -> str:
    """A market (a country, or the EU) in the page's language."""
    return get_locale().territories.get(code, code)


def month_name(number: int) -> str:
    """A month's name in the page's language."""
    return get_month_names("wide", "stand-alone", locale=get_locale())[number]


def month_label(month: str) -> str:
    """"2026-11" as the page's language names a month of a year."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "LLLL y")


def percent(value) -> str:
    """A share in whole percent, in the language's own way of writing it."""
    return format_percent(value / 100)

"""Locale and time-zone selection, formatting helpers and text normalising."""
import os
import unicodedata
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, request
from flask_babel import format_datetime, format_decimal, format_timedelta
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .config import LOCALES, TIMEZONES
from .models import utcnow

LANG_COOKIE = "secgo_lang"
# Each language named in its own script, for the switcher.
LANGUAGE_NAMES = {
    "km": "ខ្មែរ",
    "lo": "ລາວ",
    "my": "မြန်မာ",
    "th": "ไทย",
    "vi": "Tiếng Việt",
    "en": "English",
}


def select_locale() -> str:
    """User setting, then the switcher's cookie, then Accept-Language, then English."""
    user = current_user if _has_user() else None
    if user is not None and user.is_authenticated and user.locale in LOCALES:
        return user.locale
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
    return request.endpoint not in (None, "static")


def compile_catalogs(directory: str | os.PathLike) -> int:
    """Compile every messages.po whose .mo is missing or older; return how many were built."""
    built = 0
    for po_path in Path(directory).glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        os.replace(tmp, mo_path)  # atomic: several workers may start at once
        built += 1
    return built


# --- text -------------------------------------------------------------------------------

ZAWGYI_SURE = 0.95
ZAWGYI_UNSURE = 0.05


@lru_cache(maxsize=1)
def _zawgyi_detector():
    from myanmartools import ZawgyiDetector

    return ZawgyiDetector()


@lru_cache(maxsize=1)
def _zawgyi_converter():
    import icu

    return icu.Transliterator.createInstance("Zawgyi-my")


def _has_myanmar(text: str) -> bool:
    return any("\u1000" <= ch <= "\u109f" or "\uaa60" <= ch <= "\uaa7f" for ch in text)


def zawgyi_probability(text: str) -> float:
    """Probability that Burmese text is Zawgyi-encoded (0 for text with no Myanmar letters)."""
    if not text or not _has_myanmar(text):
        return 0.0
    return float(_zawgyi_detector().get_zawgyi_probability(text))


def zawgyi_to_unicode(text: str) -> str:
    """Convert Zawgyi-encoded Burmese to Unicode with ICU's transliterator."""
    return unicodedata.normalize("NFC", _zawgyi_converter().transliterate(text))


class NormalizedText(str):
    """Normalised text that remembers what was typed and how sure the Zawgyi guess was."""

    original: str | None
    zawgyi_suggestion: str | None


def normalize_text(value: str | None) -> NormalizedText:
    """NFC-normalise input; convert sure Zawgyi to Unicode, keeping the original beside it.

    When the detector is unsure, the text is kept as typed and a suggestion is attached
    for the form to show as "did you mean ...?".
    """
    text = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n").strip())
    original = suggestion = None
    p = zawgyi_probability(text)
    if p >= ZAWGYI_SURE:
        original, text = text, zawgyi_to_unicode(text)
    elif p > ZAWGYI_UNSURE:
        suggestion = zawgyi_to_unicode(text)
    result = NormalizedText(text)
    result.original = original
    result.zawgyi_suggestion = suggestion
    return result


def fold(text: str | None) -> str:
    """Fold text for search: NFC, case-folded, Vietnamese (and other Latin) marks removed.

    Thai, Khmer, Lao and Burmese have no case and keep their marks; substring search on the
    folded text then finds words in scripts written without spaces.
    """
    text = unicodedata.normalize("NFC", text or "").casefold()
    out = []
    for ch in unicodedata.normalize("NFD", text.replace("đ", "d")):
        if unicodedata.combining(ch) and _base_is_latin(out):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _base_is_latin(out: list[str]) -> bool:
    return bool(out) and out[-1] < "\u0250"


# --- formatting -------------------------------------------------------------------------


def format_when(value: datetime | None, fmt: str = "medium") -> str:
    """Format an aware datetime in the viewer's language and time zone."""
    return format_datetime(value, fmt) if value else ""


def format_ago(value: datetime | None) -> str:
    """Relative time ("3 hours ago") in the viewer's language."""
    if not value:
        return ""
    return format_timedelta(value - utcnow(), add_direction=True, threshold=1.1)


def format_quantity(value) -> str:
    """A quantity with the viewer's digit grouping and no trailing zeros."""
    if value is None:
        return ""
    return format_decimal(value.normalize() if hasattr(value, "normalize") else value)


# --- labels for codes stored in the database ----------------------------------------------
# One place for the words of each code, so pages, API and push agree.

STATUS_LABELS = {
    "accepted": _l("Accepted"),
    "in_production": _l("In production"),
    "ready": _l("Ready"),
    "dispatched": _l("Dispatched"),
    "at_border": _l("At border"),
    "customs_cleared": _l("Customs cleared"),
    "in_transit": _l("In transit"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
    "note": _l("Note"),
}
ROLE_LABELS = {
    "producer": _l("Producer"),
    "customer": _l("Customer"),
    "coordinator": _l("Coordinator"),
    "admin": _l("Admin"),
}
COUNTRY_LABELS = {
    "KH": _l("Cambodia"),
    "LA": _l("Laos"),
    "MM": _l("Myanmar"),
    "TH": _l("Thailand"),
    "VN": _l("Vietnam"),
}
CATEGORY_LABELS = {
    "delay": _l("Delay"),
    "quality": _l("Quality"),
    "quantity": _l("Quantity"),
    "documents_customs": _l("Documents / customs"),
    "transport": _l("Transport"),
    "payment": _l("Payment"),
    "other": _l("Other"),
}
SEVERITY_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
STATE_LABELS = {
    "open": _l("Open"),
    "acknowledged": _l("Acknowledged"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
}
CONDITION_LABELS = {
    "good": _l("Good"),
    "damaged": _l("Damaged"),
    "short": _l("Short"),
    "wrong_item": _l("Wrong item"),
}
BORDER_LABELS = {
    "aranyaprathet_poipet": _l("Aranyaprathet – Poipet (TH–KH)"),
    "bavet_moc_bai": _l("Bavet – Moc Bai (KH–VN)"),
    "hat_lek_cham_yeam": _l("Hat Lek – Cham Yeam (TH–KH)"),
    "phu_nam_ron_htee_kee": _l("Phu Nam Ron – Htee Kee (TH–MM)"),
    "mae_sot_myawaddy": _l("Mae Sot – Myawaddy (TH–MM)"),
    "nong_khai_vientiane": _l("Nong Khai – Vientiane (TH–LA)"),
}
TIMEZONE_LABELS = {
    "Asia/Bangkok": _l("Bangkok (UTC+7)"),
    "Asia/Phnom_Penh": _l("Phnom Penh (UTC+7)"),
    "Asia/Vientiane": _l("Vientiane (UTC+7)"),
    "Asia/Ho_Chi_Minh": _l("Ho Chi Minh City (UTC+7)"),
    "Asia/Yangon": _l("Yangon (UTC+6:30)"),
    "UTC": _l("UTC"),
}


def init_app(app):
    """Register template helpers and compile catalogs that are missing or stale."""
    compile_catalogs(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    app.jinja_env.filters.update(
        when=format_when, ago=format_ago, qty=format_quantity
    )
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        STATUS_LABELS=STATUS_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        COUNTRY_LABELS=COUNTRY_LABELS,
        CATEGORY_LABELS=CATEGORY_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        STATE_LABELS=STATE_LABELS,
        CONDITION_LABELS=CONDITION_LABELS,
        BORDER_LABELS=BORDER_LABELS,
    )

    @app.context_processor
    def _locale_context():
        from flask_babel import get_locale

        loc = get_locale()
        code = loc.language if loc else "en"
        g.locale_code = code
        return {"locale_code": code}

"""Locale and time-zone selection, formatting helpers, script catalogs and text normalising."""
import hashlib
import json
import os
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.units import format_unit
from flask import Blueprint, Response, current_app, g, has_app_context, has_request_context, redirect
from flask import request
from flask import url_for
from flask_babel import format_currency, format_date, format_datetime, format_decimal
from flask_babel import format_time, format_timedelta, get_locale, get_translations, ngettext
from flask_babel.speaklater import LazyString
from flask_login import current_user

from .config import LOCALES, ROOT, TIMEZONES
from .errors import ApiError, wants_json
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


def _gettext(string: str, **variables) -> str:
    """gettext through request_translations (the labels below are read on every page)."""
    text = request_translations().ugettext(string) if has_app_context() else string
    return text % variables if variables else text


def _l(string: str, **variables) -> LazyString:
    """lazy_gettext for this module's labels: translated when shown, in the page's language."""
    return LazyString(_gettext, string, **variables)


def request_translations():
    """The catalog of the request's language: Flask-Babel's, looked up once per request and
    language (templates call gettext hundreds of times per page), following force_locale."""
    holder = g.get("_flask_babel")
    if holder is not None:
        cached = getattr(holder, "secgo_translations", None)
        if cached is not None and cached[0] is getattr(holder, "babel_locale", None):
            return cached[1]
    translations = get_translations()
    holder = g.get("_flask_babel")
    if holder is not None:
        holder.secgo_translations = (getattr(holder, "babel_locale", None), translations)
    return translations



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


# NUL is left in so that validation refuses it with a message (PostgreSQL cannot store it).
CONTROL_CHARS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(value: str | None) -> NormalizedText:
    """NFC-normalise input; convert sure Zawgyi to Unicode, keeping the original beside it.

    When the detector is unsure, the text is kept as typed and a suggestion is attached
    for the form to show as "did you mean ...?".
    """
    if isinstance(value, NormalizedText):
        return value  # already settled (e.g. by check_zawgyi): keep its original and answer
    text = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n"))
    # Invisible control characters never belong in a note.
    text = CONTROL_CHARS.sub("", text).strip()
    original = suggestion = None
    p = zawgyi_probability(text)
    if p >= ZAWGYI_SURE:
        converted = zawgyi_to_unicode(text)
        if converted != text:
            original, text = text, converted
    elif p > ZAWGYI_UNSURE:
        converted = zawgyi_to_unicode(text)
        suggestion = converted if converted != text else None
    result = NormalizedText(text)
    result.original = original
    result.zawgyi_suggestion = suggestion
    return result


def apply_zawgyi_choice(value: str | None, choice: str | None) -> NormalizedText:
    """Normalise input after the "did you mean ...?" question (templates/_i18n.html).

    "unicode" takes the suggested Unicode reading and keeps the typed text as the original;
    "typed" keeps the text as typed; no answer is the same as normalize_text().
    """
    result = normalize_text(value)
    if choice == "unicode" and result.zawgyi_suggestion:
        chosen = NormalizedText(result.zawgyi_suggestion)
        chosen.original, chosen.zawgyi_suggestion = str(result), None
        return chosen
    if choice == "typed":
        result.zawgyi_suggestion = None
    return result


ZAWGYI_ANSWERS = ("unicode", "typed")


class ZawgyiQuestion(ApiError):
    """A page form's text may be Zawgyi: ask "did you mean ...?" (422) before saving anything."""

    def __init__(self, doubts: dict):
        super().__init__(
            422, _l("This text may be in Zawgyi. Choose how to save it, then send again."),
            code="zawgyi_unsure",
        )
        self.doubts = doubts


def check_zawgyi(data: dict, names) -> dict:
    """The one rule for free text people write (pages, the outbox and the API call it).

    Each named text field in data becomes a NormalizedText, which the services keep as it is:
    sure Zawgyi converted (original kept), the answer "<name>_encoding" ("unicode" | "typed")
    to an earlier "did you mean ...?" applied, unless "<name>_typed" shows that the text was
    edited since. Returns the fields the detector is unsure about, {name: {typed, unicode,
    answer}}. A plain page form with an unanswered one is refused with ZawgyiQuestion; scripts
    are never blocked (the text is stored as typed; see zawgyi_answer()).
    """
    doubts = {}
    for name in names:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            continue
        typed = normalize_text(value)
        answer = data.get(f"{name}_encoding")
        asked_about = data.get(f"{name}_typed")
        if answer not in ZAWGYI_ANSWERS or (
            isinstance(asked_about, str) and str(normalize_text(asked_about)) != str(typed)
        ):
            answer = None
        if typed.zawgyi_suggestion:
            doubts[name] = {"typed": str(typed), "unicode": typed.zawgyi_suggestion, "answer": answer}
        data[name] = apply_zawgyi_choice(typed, answer)
    if any(d["answer"] is None for d in doubts.values()) and not wants_json():
        raise ZawgyiQuestion(doubts)
    return doubts


def zawgyi_answer(doubts: dict) -> dict:
    """What a JSON answer adds for text stored as typed: {"zawgyi_suggestion": {name: ...}}."""
    open_ = {n: {"typed": d["typed"], "unicode": d["unicode"]}
             for n, d in doubts.items() if d["answer"] is None}
    return {"zawgyi_suggestion": open_} if open_ else {}


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
# All in the viewer's language and time zone (Flask-Babel's selectors above).


def format_when(value: datetime | None, fmt: str = "medium") -> str:
    """Date and time of an aware datetime in the viewer's language and time zone."""
    return format_datetime(value, fmt) if value else ""


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date (a datetime is first moved to the viewer's time zone)."""
    return format_date(value, fmt) if value else ""


def format_clock(value: datetime | time | None, fmt: str = "short") -> str:
    """The time of day in the viewer's time zone."""
    return format_time(value, fmt) if value else ""


def format_ago(value: datetime | None) -> str:
    """Relative time ("3 hours ago", "in 2 days") in the viewer's language."""
    if not value:
        return ""
    return format_timedelta(value - utcnow(), add_direction=True, threshold=1.1)


def format_number(value, decimals: int | None = None) -> str:
    """A number with the viewer's digit grouping and decimal sign."""
    if value is None:
        return ""
    if decimals is not None:
        return format_decimal(value, format="#,##0." + "0" * decimals if decimals else "#,##0")
    return format_decimal(value.normalize() if isinstance(value, Decimal) else value)


# Units written in orders -> CLDR units, which Babel names in each language ("กก.", "ກິໂລ").
CLDR_UNITS = {
    "kg": "mass-kilogram",
    "g": "mass-gram",
    "t": "mass-tonne",
    "m": "length-meter",
    "cm": "length-centimeter",
    "m2": "area-square-meter",
    "m3": "volume-cubic-meter",
    "l": "volume-liter",
}


def format_quantity(value, unit: str | None = None) -> str:
    """A quantity, with its unit named in the viewer's language where we know the unit."""
    if value is None:
        return ""
    number = value.normalize() if isinstance(value, Decimal) else value
    if not unit:
        return format_decimal(number)
    cldr = CLDR_UNITS.get(unit.strip().lower())
    if cldr:
        return format_unit(number, cldr, length="short", locale=get_locale())
    count = _count_unit(unit.strip().lower(), number)
    return count if count else f"{format_decimal(number)} {unit}"


def _count_unit(unit: str, number) -> str | None:
    n = int(number) if number == int(number) else 2  # plural form for fractions
    num = format_decimal(number)
    if unit in ("pcs", "pc", "piece", "pieces"):
        return ngettext("%(count)s piece", "%(count)s pieces", n, count=num)
    if unit in ("box", "boxes"):
        return ngettext("%(count)s box", "%(count)s boxes", n, count=num)
    if unit in ("bag", "bags"):
        return ngettext("%(count)s bag", "%(count)s bags", n, count=num)
    return None


CURRENCIES = ("KHR", "LAK", "MMK", "THB", "VND", "USD")


def format_money(value, currency: str | None) -> str:
    """An amount in a currency, with the currency's usual decimals (VND, LAK, MMK: none)."""
    if value is None:
        return ""
    if not currency:
        return format_number(value)
    return format_currency(value, currency.upper())


# --- labels for codes stored in the database ----------------------------------------------
# One place for the words of each code, so pages, API and push agree.

STATUS_LABELS = {
    "accepted": _l("Accepted"),
    "in_production": _l("In production"),
    # TRANSLATORS: order status: the goods are ready to ship. See translations/GLOSSARY.md.
    "ready": _l("Ready"),
    "dispatched": _l("Dispatched"),
    "at_border": _l("At border"),
    "customs_cleared": _l("Customs cleared"),
    "in_transit": _l("In transit"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
    # TRANSLATORS: an update that changes no status, only adds a note.
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
    # TRANSLATORS: state of an issue (a problem that is not yet handled), not "open a page".
    "open": _l("Open"),
    "acknowledged": _l("Acknowledged"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
}
CONDITION_LABELS = {
    "good": _l("Good"),
    "damaged": _l("Damaged"),
    # TRANSLATORS: condition of a delivery: fewer goods arrived than were ordered.
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


# --- catalogs for scripts -----------------------------------------------------------------
# JS modules get only the messages they use, from the same .po files as the pages, at a URL
# that names the content's hash: cached for a year, and a new catalog gets a new URL.

bp = Blueprint("i18n", __name__)
JS_SOURCES = ("secgo/static/js/**/*.js", "service-worker.js")
JS_KEYWORDS = {"gettext": None, "ngettext": (1, 2)}


def js_msgids(root: Path = ROOT) -> dict[str, str | None]:
    """Msgids used by the scripts (singular -> plural or None), read with Babel's JS extractor."""
    found: dict[str, str | None] = {}
    for pattern in JS_SOURCES:
        for path in sorted(root.glob(pattern)):
            with path.open("rb") as fh:
                for _lineno, message, _comments, _context in extract(
                    "javascript", fh, keywords=JS_KEYWORDS
                ):
                    if isinstance(message, tuple):
                        found[message[0]] = message[1]
                    elif message:
                        found.setdefault(message, None)
    return found


def script_catalog(directory: str | os.PathLike, locale: str, msgids: dict) -> dict:
    """Translations of msgids for one language: msgid -> text, or list of plural forms."""
    po_path = Path(directory) / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not po_path.exists():
        return {}
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    out: dict = {}
    for msgid in sorted(msgids):
        message = catalog.get(msgid)
        if message is None or message.fuzzy:
            continue
        if isinstance(message.string, tuple | list):
            if all(message.string):
                out[msgid] = list(message.string)
        elif message.string:
            out[msgid] = message.string
    return out


def build_script_catalogs(directory: str | os.PathLike) -> dict[str, tuple[str, bytes]]:
    """locale -> (hash, JSON body) for every language, from the scripts and the .po files."""
    return _build_script_catalogs(str(directory), _sources_stamp(directory))


def _sources_stamp(directory) -> tuple:
    paths = [p for pattern in JS_SOURCES for p in ROOT.glob(pattern)]
    paths += Path(directory).glob("*/LC_MESSAGES/messages.po")
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in paths))


@lru_cache(maxsize=8)
def _build_script_catalogs(directory: str, _stamp: tuple) -> dict[str, tuple[str, bytes]]:
    msgids = js_msgids()
    built = {}
    for locale in LOCALES:
        body = json.dumps(
            script_catalog(directory, locale, msgids),
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        ).encode()
        built[locale] = (hashlib.sha256(body).hexdigest()[:12], body)
    return built


def _script_catalogs(app) -> dict[str, tuple[str, bytes]]:
    """The catalogs built when the app started (kept in memory for its lifetime)."""
    return app.extensions["secgo_script_catalogs"]


def script_catalog_url(locale: str) -> str:
    """The URL of a language's script catalog (its hash changes when its content does)."""
    digest = _script_catalogs(current_app)[locale][0]
    return url_for("i18n.catalog", lang=locale, digest=digest)


@bp.get(f"/i18n/<any({', '.join(LOCALES)}):lang>.<digest>.json")
def catalog(lang, digest):
    """A language's messages for scripts; an old hash is sent on to the current URL."""
    current, body = _script_catalogs(current_app)[lang]
    if digest != current:
        response = redirect(url_for("i18n.catalog", lang=lang, digest=current))
        response.headers["Cache-Control"] = "no-cache"
        return response
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def init_app(app):
    """Register template helpers and compile catalogs that are missing or stale."""
    from .extensions import babel

    compile_catalogs(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    # Flask-Babel keeps loaded catalogs on the process-wide Babel object, keyed by language
    # only: an app that starts must read the catalogs it has just compiled.
    with app.app_context():
        babel.domain_instance.cache.clear()
    app.extensions["secgo_script_catalogs"] = build_script_catalogs(
        app.config["BABEL_TRANSLATION_DIRECTORIES"]
    )
    app.register_blueprint(bp)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        when=format_when,
        day=format_day,
        clock=format_clock,
        ago=format_ago,
        number=format_number,
        qty=format_quantity,
        money=format_money,
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
        loc = get_locale()
        code = loc.language if loc else "en"
        g.locale_code = code
        return {"locale_code": code, "i18n_catalog_url": script_catalog_url(code)}

"""Words for codes stored in the database, and each language's own name, in one place."""
import re

from babel.support import LazyProxy
from flask import has_app_context
from markupsafe import escape

from .locale import request_translations

# Each language named in its own script, for the switcher.
LANGUAGE_NAMES = {
    "km": "ខ្មែរ",
    "lo": "ລາວ",
    "my": "မြန်မာ",
    "th": "ไทย",
    "vi": "Tiếng Việt",
    "en": "English",
}


def _gettext(string: str) -> str:
    return request_translations().ugettext(string) if has_app_context() else string


class LazyLabel(LazyProxy):
    """A label translated each time it is shown, in the language of the page (or force_locale)."""

    __slots__ = ()

    def __init__(self, string: str):
        super().__init__(_gettext, string, enable_cache=False)

    def __html__(self) -> str:
        return str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


class BorderLabel(LazyLabel):
    """A border crossing's name. On a page each place and the country codes stay on one line
    ("ဟတ်လက်" is not a dictionary word, so a browser would break it anywhere); the codes never
    break after their dash. Text (CSV, JSON, push, an <option>, SVG) gets the plain name."""

    __slots__ = ()

    def __init__(self, label: LazyLabel):
        super().__init__(label._args[0])

    def __html__(self) -> str:
        name = str(self)
        codes = _CODES.search(name)
        places = (name[: codes.start()] if codes else name).strip()
        shown = " – ".join(f'<span class="nw">{escape(p)}</span>' for p in places.split(" – "))
        if codes:
            shown += f' <span class="nw">{escape(keep_codes_together(codes.group(0)))}</span>'
        return shown


def keep_codes_together(name: str) -> str:
    """"(TH–KH)" with word joiners around its dash, so a narrow screen cannot break it there."""
    return _CODES.sub(lambda m: m.group(0).replace("–", "\u2060–\u2060"), name)


_CODES = re.compile(r"\([A-Z]{2}–[A-Z]{2}\)")


def _l(string: str) -> LazyLabel:
    """lazy_gettext for the tables below (read on every page, through request_translations)."""
    return LazyLabel(string)


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
# The papers of a cross-border shipment (secgo.documents): the glossary's terms.
DOCUMENT_LABELS = {
    "commercial_invoice": _l("Commercial invoice"),
    "packing_list": _l("Packing list"),
    "certificate_of_origin": _l("Certificate of origin (ATIGA Form D)"),
    "phytosanitary": _l("Phytosanitary certificate"),
    "fumigation": _l("Fumigation certificate"),
    "export_permit": _l("Export permit or licence"),
    "delivery_note": _l("Signed delivery note"),
    "other": _l("Other document"),
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
# Each crossing is written in the reader's script (translations/GLOSSARY.md); the country codes
# stay Latin. A page shows them through BorderLabel.__html__ (no line break inside "(TH–KH)").
BORDER_LABELS = {code: BorderLabel(label) for code, label in {
    "aranyaprathet_poipet": _l("Aranyaprathet – Poipet (TH–KH)"),
    "bavet_moc_bai": _l("Bavet – Moc Bai (KH–VN)"),
    "hat_lek_cham_yeam": _l("Hat Lek – Cham Yeam (TH–KH)"),
    "phu_nam_ron_htee_kee": _l("Phu Nam Ron – Htee Kee (TH–MM)"),
    "mae_sot_myawaddy": _l("Mae Sot – Myawaddy (TH–MM)"),
    "nong_khai_vientiane": _l("Nong Khai – Vientiane (TH–LA)"),
}.items()}
TIMEZONE_LABELS = {
    "Asia/Bangkok": _l("Bangkok (UTC+7)"),
    "Asia/Phnom_Penh": _l("Phnom Penh (UTC+7)"),
    "Asia/Vientiane": _l("Vientiane (UTC+7)"),
    "Asia/Ho_Chi_Minh": _l("Ho Chi Minh City (UTC+7)"),
    "Asia/Yangon": _l("Yangon (UTC+6:30)"),
    "UTC": _l("UTC"),
}


def init_app(app):
    """Give every template the label tables and the language names."""
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        STATUS_LABELS=STATUS_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        COUNTRY_LABELS=COUNTRY_LABELS,
        CATEGORY_LABELS=CATEGORY_LABELS,
        DOCUMENT_LABELS=DOCUMENT_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        STATE_LABELS=STATE_LABELS,
        CONDITION_LABELS=CONDITION_LABELS,
        BORDER_LABELS=BORDER_LABELS,
    )

"""Printable QR labels for an order's sacks and crates, and what a scanned label opens.

Who may print them, what a sheet holds and how the numbers are checked live here once: the
order page, its form and the API call these. Labels speak the producer organization's
language (its country's) beside English, drawn by WeasyPrint on Pango/HarfBuzz, which shapes
Khmer, Lao, Burmese and Thai correctly, with Debian's Noto fonts named by family.
"""
import re
from dataclasses import dataclass
from decimal import Decimal

import segno
from babel import Locale
from flask import render_template, url_for
from flask_babel import force_locale, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import ApiError
from ..i18n import format_quantity
from . import services

MAX_PACKAGES = 500  # 21 sheets; a bigger shipment prints in parts
PER_SHEET = 24  # 3 columns x 8 rows on A4 (70 x 37.125 mm each)
LABEL_SIDES = services.PRODUCER_SIDES  # labels go on what the producer packs
# The producer organization's language, from its country (organizations have no language).
COUNTRY_LANGUAGE = {"KH": "km", "LA": "lo", "MM": "my", "TH": "th", "VN": "vi"}

WHOLE_NUMBER = re.compile(r"\s*\d{1,9}\s*")  # any script's digits; more than 9 is out of range
NOT_WHOLE = _l("Write a whole number with digits, for example 40.")
NOT_YOURS = _l("Labels are printed by the producer’s side of the order.")


@dataclass(frozen=True)
class LabelRequest:
    packages: int
    per_package: Decimal


def check_side(actor, order) -> None:
    """404 for someone who may not see the order; 403 for a side that does not print labels."""
    if services.side_of(actor, order) not in LABEL_SIDES:
        raise ApiError(403, NOT_YOURS)


def validate(data, order) -> LabelRequest:
    """The number of packages (1..MAX_PACKAGES) and the quantity in each, or a 422 by field."""
    fields: dict = {}
    raw = data.get("packages")
    packages = None
    if raw is None or raw == "":
        fields["packages"] = _("Enter how many packages, from 1 to %(max)s.", max=MAX_PACKAGES)
    elif not isinstance(raw, (str, int)) or isinstance(raw, bool) or (
            isinstance(raw, str) and not WHOLE_NUMBER.fullmatch(raw)):
        too_long = isinstance(raw, str) and raw.strip().isdigit()
        fields["packages"] = (_("Enter how many packages, from 1 to %(max)s.", max=MAX_PACKAGES)
                              if too_long else str(NOT_WHOLE))
    else:
        packages = int(raw)
        if not 1 <= packages <= MAX_PACKAGES:
            fields["packages"] = _("Enter how many packages, from 1 to %(max)s.", max=MAX_PACKAGES)
    per_package = services._decimal(data, "per_package", fields, required=True,
                                        maximum=services.MAX_QUANTITY, positive=True)
    if per_package is not None and per_package > order.quantity:
        fields["per_package"] = _("A package cannot hold more than the whole order (%(quantity)s).",
                                  quantity=format_quantity(order.quantity, order.unit))
    if fields:
        raise ApiError(422, fields=fields)
    return LabelRequest(packages, per_package)


def language(order) -> str:
    """The producer organization's language ("en" where its country has none of ours)."""
    return COUNTRY_LANGUAGE.get(order.producer_org.country, "en")


def language_name(order) -> str:
    """The name of the labels' language in the viewer's language (Burmese readers read "ခမာ"),
    as written inside a sentence: CLDR's Vietnamese names begin "Tiếng", a sentence says "tiếng"."""
    name = Locale.parse(language(order)).get_display_name(get_locale()) or language(order)
    return name[:1].lower() + name[1:] if str(get_locale()) == "vi" else name


def label_url(order) -> str:
    """What the QR code says: the order's label address on this site (/l/<reference>)."""
    return url_for("orders.label", code=order.reference, _external=True)


def qr_data_uri(url: str) -> str:
    """The QR code as a PNG data URI, one pixel a module (drawn without smoothing: sharp at any
    size); the same image on every label is stored once in the PDF. Medium error correction
    survives a scuffed sack."""
    return segno.make(url, error="m").png_data_uri(scale=1, border=2)


def _texts(order, req: LabelRequest, lang: str) -> dict:
    """A language's words: the quantity line, and "n of N" for every package."""
    with force_locale(lang):
        total = format_decimal(req.packages)
        return {
            "lang": lang,
            "per_package": _("Per package: %(quantity)s",
                             quantity=format_quantity(req.per_package, order.unit)),
            "of": [_("Package %(n)s of %(total)s", n=format_decimal(n), total=total)
                   for n in range(1, req.packages + 1)],
        }


def render_pdf(order, req: LabelRequest) -> bytes:
    """The A4 PDF: PER_SHEET labels a sheet, as many sheets as the packages need."""
    from weasyprint import HTML, URLFetcher  # (imported on use: it loads Pango, needed only here)

    lang = language(order)
    local = _texts(order, req, lang)
    english = _texts(order, req, "en") if lang != "en" else None
    numbers = list(range(req.packages))
    sheets = [numbers[i:i + PER_SHEET] for i in range(0, req.packages, PER_SHEET)]
    html = render_template("orders/labels_pdf.html", order=order, product=order.product, sheets=sheets,
                           local=local, english=english, qr=qr_data_uri(label_url(order)))
    # The QR code is the one resource, a data: URI: nothing else is fetched (no file, no network).
    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()

"""What Share says about an order: one short text in the sharer's language, built here once
and used by the phone's share sheet, Copy, and the LINE, WhatsApp and Telegram links."""
from urllib.parse import quote

from flask_babel import gettext as _

from ..i18n import STATUS_LABELS, format_quantity


def share_text(order) -> str:
    """Reference, product and quantity, and the latest status, in the current language."""
    label = STATUS_LABELS.get(order.status)
    return _("Order %(reference)s (%(product)s, %(quantity)s): %(status)s",
             reference=order.reference, product=order.product,
             quantity=format_quantity(order.quantity, order.unit),
             status=str(label) if label is not None else order.status)


def share(order, url: str) -> dict:
    """Everything a Share box shows: the words, the link, and each chat app's share link
    (their documented URL schemes; the words go where the app takes words)."""
    text = share_text(order)
    return {
        "title": _("Order %(reference)s", reference=order.reference),
        "text": text,
        "url": url,
        # https://developers.line.biz/en/docs/messaging-api/using-line-url-scheme/ ("Sending text
        # messages": line.me/R/share?text=, for LINE on phones, where this app's people are; the
        # share button plugin would carry the link alone, without the words)
        "line": "https://line.me/R/share?text=" + quote(f"{text}\n{url}", safe=""),
        # https://faq.whatsapp.com/5913398998672934 (click to chat: wa.me/?text=)
        "whatsapp": "https://wa.me/?text=" + quote(f"{text}\n{url}", safe=""),
        # https://core.telegram.org/widgets/share#custom-buttons
        "telegram": "https://t.me/share/url?url=" + quote(url, safe="") + "&text=" + quote(text, safe=""),
    }

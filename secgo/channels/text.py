"""What Telegram and SMS say: the push payload's words (push/payload.render), dressed per channel.

Every event in notify.EVENTS, today's and any added later, is worded once, in push/payload.py,
for each recipient in their language; a channel only changes the dress: HTML with a button for
Telegram, a text of at most two UCS-2 segments with the app's short link for SMS.
"""
import html
import unicodedata

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ..push.payload import render, safe_path

SMS_LIMIT = 134  # two UCS-2 segments (67 each): Khmer, Lao, Burmese and Thai are never GSM-7
SMS_BRAND = "SEC GO!"
# A cut must not leave a stacking mark or a sign that joins the next letter dangling.
JOINERS = {"\u17d2", "\u1039", "\u200d", "\u200c"}


def public_url(path: str) -> str:
    """An absolute link to a path of this site (SECGO_PUBLIC_URL)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + safe_path(path)


def short_code(notification_id: int) -> str:
    """The short path's code of a notification: its id in base 36."""
    digits, n, out = "0123456789abcdefghijklmnopqrstuvwxyz", int(notification_id), ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def parse_short_code(code: str) -> int | None:
    """The notification id of a short code; None when it is not one."""
    if not isinstance(code, str) or not 0 < len(code) <= 12 or not code.isascii() or not code.isalnum():
        return None
    return int(code.lower(), 36)


def short_link(notification) -> str:
    """https://<site>/n/<code>: redirects to the notification's page after the usual checks."""
    return public_url(f"/n/{short_code(notification.id)}")


def telegram_message(notification, user, *, quiet: bool = False) -> dict:
    """sendMessage's fields but chat_id: the push words in HTML, a button to the page."""
    body = render(notification, user)
    with force_locale(body["lang"]):
        button = _("Open in SEC GO!")
    text = f"<b>{html.escape(body['title'], quote=False)}</b>"
    if body["body"]:
        text += "\n" + html.escape(body["body"], quote=False)
    message = {
        "text": text,
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": button, "url": public_url(body["url"])}]]},
        "link_preview_options": {"is_disabled": True},
    }
    if quiet:  # sent again after a worker died mid-send: the phone may have it already
        message["disable_notification"] = True
    return message


def sms_text(notification, user) -> str:
    """The SMS: brand and heading, the body as far as it fits, the short link; ≤ SMS_LIMIT."""
    body = render(notification, user)
    return fit_sms(f"{SMS_BRAND} {body['title']}", body["body"], short_link(notification))


def ucs2_length(text: str) -> int:
    """Length in UCS-2 code units (what an SMS counts): 2 for a letter beyond the BMP."""
    return len(text.encode("utf-16-le")) // 2


def fit_sms(heading: str, body: str, link: str, limit: int = SMS_LIMIT) -> str:
    """heading, body and link on three lines, the body (then the heading) cut to fit."""
    text = f"{heading}\n{body}\n{link}" if body else f"{heading}\n{link}"
    if ucs2_length(text) <= limit:
        return text
    room = limit - ucs2_length(heading) - ucs2_length(link) - 2
    if body and room >= 12:
        return f"{heading}\n{clip(body, room)}\n{link}"
    return f"{clip(heading, limit - ucs2_length(link) - 1)}\n{link}"


def clip(text: str, units: int) -> str:
    """text cut to at most `units` UCS-2 units, ending with "…", never inside a cluster."""
    if ucs2_length(text) <= units:
        return text
    kept, used = [], 1  # the ellipsis
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > units:
            break
        kept.append(char)
        used += size
    rest = text[len(kept):]
    # A mark belongs to the letter before it, and a stacker (Khmer coeng, Burmese virama) joins
    # its letter to the next: give the cut's last letter back until no cluster is split.
    while kept and (kept[-1] in JOINERS or (rest and (
            unicodedata.category(rest[0]).startswith("M") or rest[0] in JOINERS))):
        rest = kept.pop() + rest
    return "".join(kept).rstrip() + "…"

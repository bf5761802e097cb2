"""The bot's webhook: Telegram posts each Update here (setWebhook, `flask telegram
set-webhook`). Authenticated by the secret token Telegram sends in
X-Telegram-Bot-Api-Secret-Token, not by a session, so it is exempt from CSRF (authn.py).

/start <token> links the chat to the account that made the one-time token on its settings
page; /stop unlinks every account from the chat. The answer is the bot's reply, as a Bot API
method in the webhook's response (https://core.telegram.org/bots/api#making-requests-when-getting-updates).
"""
import hmac

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..config import LOCALES
from ..errors import ApiError
from ..extensions import limiter
from ..writes import Write, submit
from . import bp, services

MAX_BODY = 64 * 1024  # an Update with a text message is a few kilobytes
MAX_TEXT = 4096  # Telegram's own limit on a message's text
BAD_UPDATE = _l("This is not a Telegram update.")


def _secret_ok() -> bool:
    secret = current_app.config.get("TELEGRAM_WEBHOOK_SECRET")
    sent = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    return bool(secret) and hmac.compare_digest(sent.encode(), str(secret).encode())


def _message(update: dict):
    """(chat id, chat type, text, language) of an Update's message; None when it has none."""
    if not isinstance(update.get("update_id"), int) or isinstance(update.get("update_id"), bool):
        raise ApiError(400, BAD_UPDATE)
    message = update.get("message")
    if message is None:
        return None  # an edit, a callback, a member change ...: nothing to do
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    text = message.get("text", "") if isinstance(message, dict) else None
    sender = message.get("from") if isinstance(message, dict) else None
    if (not isinstance(chat_id, int) or isinstance(chat_id, bool) or not -2**63 < chat_id < 2**63
            or not isinstance(text, str) or len(text) > MAX_TEXT
            or not isinstance(chat.get("type", "private"), str)
            or (sender is not None and not isinstance(sender, dict))):
        raise ApiError(400, BAD_UPDATE)
    language = (sender or {}).get("language_code")
    language = language[:2] if isinstance(language, str) and language[:2] in LOCALES else "en"
    return chat_id, chat.get("type", "private"), text.strip(), language


def _reply(chat_id: int, locale: str, text_of) -> dict:
    with force_locale(locale):
        return {"method": "sendMessage", "chat_id": chat_id, "text": str(text_of())}


def _handle(posted, _caller):
    return 200, handle_update(posted.data), None


def handle_update(update: dict) -> dict:
    """One Update from the webhook or from getUpdates: the bot's reply as a sendMessage
    request ({} for none). Flushes only; a malformed update is a 400 ApiError."""
    found = _message(update)
    if found is None:
        return {}
    chat_id, chat_type, text, language = found
    command, _sep, argument = text.partition(" ")
    command = command.split("@", 1)[0]  # "/start@secgo_bot" in a group
    if command == "/start" and argument:
        if chat_type != "private":
            return _reply(chat_id, language, lambda: _(
                "Open the link from SEC GO! in a private chat with this bot, not in a group."))
        user = services.telegram_link_chat(argument.strip(), chat_id)
        if user is None:
            return _reply(chat_id, language, lambda: _(
                "This link has expired or was used already. Open Settings in SEC GO! and link "
                "Telegram again."))
        return _reply(chat_id, user.locale or "en", lambda: _(
            "Linked: SEC GO! notifications for %(name)s will come to this chat. Send /stop to "
            "end them.", name=user.display_name))
    if command == "/stop":
        users = services.telegram_unlink_chat(chat_id)
        locale = users[0].locale if users else language
        return _reply(chat_id, locale or "en", lambda: _(
            "Done: no more SEC GO! notifications in this chat."))
    return _reply(chat_id, language, lambda: _(
        "This bot sends SEC GO! notifications. Link it from Settings in SEC GO!; send /stop to "
        "end them."))


UPDATE = Write("channels.telegram_update", _handle, body="json")


@bp.post("/telegram/webhook")
@limiter.limit("120 per minute")
def telegram_webhook():
    """Telegram's updates for the bot (checked by the secret token header)."""
    if not _secret_ok():
        raise ApiError(403)
    if request.content_length is None or request.content_length > MAX_BODY:
        raise ApiError(413)
    return submit(UPDATE, None, caller="telegram")

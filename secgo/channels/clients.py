"""The two providers' HTTP APIs, called only at their configured host, never redirected.

Telegram Bot API (https://core.telegram.org/bots/api): POST <base>/bot<token>/<method> with a
JSON body; the answer is {"ok": true, "result": ...} or {"ok": false, "error_code",
"description", "parameters": {"retry_after"}}. 403 means the person blocked the bot.

SMS Gateway for Android (capcom6/android-sms-gateway, https://docs.sms-gate.app/integration/api/):
the phone's local server (http://<phone>:8080) or the cloud server
(https://api.sms-gate.app/3rdparty/v1) take POST <base>/message with HTTP Basic auth and
{"id", "textMessage": {"text"}, "phoneNumbers": [...]}, and answer 202 with the message's state.
"""
import json
from urllib.parse import quote

import requests
from flask import current_app

from ..push.endpoints import origin_of, safe_endpoint
from ..push.worker import Outcome, _retry_after

MAX_ANSWER = 64 * 1024  # what is read of a provider's answer


def telegram_configured(config=None) -> bool:
    """True when a bot token and its username are set."""
    config = config or current_app.config
    return bool(config.get("TELEGRAM_BOT_TOKEN") and config.get("TELEGRAM_BOT_USERNAME"))


def sms_configured(config=None) -> bool:
    """True when an SMS gateway and its credentials are set."""
    config = config or current_app.config
    return bool(config.get("SMS_GATEWAY_URL") and config.get("SMS_GATEWAY_USER")
                and config.get("SMS_GATEWAY_PASSWORD"))


def configured(channel: str, config=None) -> bool:
    """True when this channel can send."""
    return {"telegram": telegram_configured, "sms": sms_configured}[channel](config)


def _read(response) -> dict:
    try:
        raw = response.raw.read(MAX_ANSWER, decode_content=True)
        data = json.loads(raw.decode("utf-8")) if raw else {}
    except (ValueError, UnicodeDecodeError, requests.RequestException, OSError):
        data = {}
    finally:
        response.close()
    return data if isinstance(data, dict) else {}


def _post(http, url: str, allowed: str, timeout: float, **kwargs):
    """POST to url only when it is at the allowed origin; (response or None, Outcome or None)."""
    safe = safe_endpoint(url, [allowed])
    if safe is None:
        return None, Outcome("failed", error="provider URL not on its allow-list")
    try:
        return http.post(safe, timeout=timeout, allow_redirects=False, stream=True, **kwargs), None
    except requests.RequestException as err:
        return None, Outcome("retry", error=f"network: {type(err).__name__}")


def telegram_call(http, method: str, body: dict, config=None, wait: float = 0) -> tuple[Outcome, dict]:
    """One Bot API call; (what it means for a delivery, the answer's JSON). `wait`: seconds
    Telegram may hold a getUpdates call open (long polling), added to the timeout."""
    config = config or current_app.config
    base = str(config["TELEGRAM_API_URL"]).rstrip("/")
    token = quote(str(config["TELEGRAM_BOT_TOKEN"]), safe=":")
    response, failed = _post(http, f"{base}/bot{token}/{method}", origin_of(base),
                             float(config["CHANNEL_TIMEOUT_SECONDS"]) + wait, json=body)
    if failed:
        return failed, {}
    status, header = response.status_code, response.headers.get("Retry-After")
    data = _read(response)
    if 200 <= status < 300 and data.get("ok") is True:
        return Outcome("sent", status), data
    if status == 403:  # "Forbidden: bot was blocked by the user" (or the chat is gone)
        return Outcome("gone", status, error="HTTP 403: blocked by the user"), data
    if status in (401, 408, 429) or status >= 500 or 300 <= status < 400:
        params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        wait = params.get("retry_after")
        wait = float(wait) if isinstance(wait, int) and 0 <= wait <= 86400 else _retry_after(header)
        return Outcome("retry", status, wait, error=f"HTTP {status}"), data
    return Outcome("failed", status, error=f"HTTP {status}"), data


def sms_send(http, number: str, text: str, message_id: str | None = None, config=None) -> Outcome:
    """Ask the gateway to send one SMS; a resend carries the same message id."""
    config = config or current_app.config
    base = str(config["SMS_GATEWAY_URL"]).rstrip("/")
    body = {"textMessage": {"text": text}, "phoneNumbers": [number]}
    if message_id:
        body = {"id": message_id, **body}
    response, failed = _post(
        http, f"{base}/message", origin_of(base), float(config["CHANNEL_TIMEOUT_SECONDS"]),
        json=body, auth=(str(config["SMS_GATEWAY_USER"]), str(config["SMS_GATEWAY_PASSWORD"])),
    )
    if failed:
        return failed
    status, header = response.status_code, response.headers.get("Retry-After")
    response.close()
    if 200 <= status < 300:
        return Outcome("sent", status)
    if status == 409:  # the gateway has a message with this id already: it took the first try
        return Outcome("sent", status)
    # 401/403: the gateway's credentials are wrong; kept for when the operator fixes them.
    if status in (401, 403, 408, 429) or status >= 500 or 300 <= status < 400:
        return Outcome("retry", status, _retry_after(header), error=f"HTTP {status}")
    return Outcome("failed", status, error=f"HTTP {status}")

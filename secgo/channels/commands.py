"""flask telegram set-webhook / delete-webhook / poll: how the bot hears its messages."""
import re
import time

import click
import requests
from flask import current_app
from flask.cli import AppGroup

from .clients import telegram_call, telegram_configured

telegram_cli = AppGroup("telegram", help="The Telegram bot that sends notifications.")


@telegram_cli.command("set-webhook")
def set_webhook_command():
    """Point the bot's updates at <SECGO_PUBLIC_URL>/telegram/webhook, with the secret token."""
    config = current_app.config
    if not telegram_configured() or not config.get("TELEGRAM_WEBHOOK_SECRET"):
        raise click.ClickException(
            "Set SECGO_TELEGRAM_BOT_TOKEN, SECGO_TELEGRAM_BOT_USERNAME and "
            "SECGO_TELEGRAM_WEBHOOK_SECRET first.")
    secret = str(config["TELEGRAM_WEBHOOK_SECRET"])
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise click.ClickException(
            "SECGO_TELEGRAM_WEBHOOK_SECRET may hold only letters, digits, _ and - (Telegram's rule).")
    url = config["PUBLIC_URL"].rstrip("/") + "/telegram/webhook"
    body = {"url": url, "secret_token": config["TELEGRAM_WEBHOOK_SECRET"],
            "allowed_updates": ["message"], "drop_pending_updates": True}
    with requests.Session() as http:
        outcome, answer = telegram_call(http, "setWebhook", body)
    if outcome.kind != "sent":
        description = answer.get("description") if isinstance(answer.get("description"), str) else ""
        raise click.ClickException(f"Telegram refused: {outcome.error} {description}".strip())
    click.echo(f"Telegram will send the bot's messages to {url}")


@telegram_cli.command("delete-webhook")
def delete_webhook_command():
    """Stop Telegram sending the bot's updates here."""
    if not telegram_configured():
        raise click.ClickException("Set SECGO_TELEGRAM_BOT_TOKEN first.")
    with requests.Session() as http:
        outcome, _answer = telegram_call(http, "deleteWebhook", {})
    if outcome.kind != "sent":
        raise click.ClickException(f"Telegram refused: {outcome.error}")
    click.echo("Webhook removed.")


@telegram_cli.command("poll")
@click.option("--once", is_flag=True, help="Read what is waiting, answer it, and exit (tests, cron).")
def poll_command(once):
    """Read the bot's messages by long polling (getUpdates) instead of a webhook, for a server
    Telegram cannot reach (no public https address). Run one at a time, and no webhook."""
    from ..errors import ApiError
    from ..extensions import db
    from .webhook import handle_update

    if not telegram_configured():
        raise click.ClickException("Set SECGO_TELEGRAM_BOT_TOKEN and SECGO_TELEGRAM_BOT_USERNAME first.")
    offset, wait = None, 0 if once else 25
    with requests.Session() as http:
        while True:
            body = {"timeout": wait, "allowed_updates": ["message"],
                    **({"offset": offset} if offset is not None else {})}
            outcome, answer = telegram_call(http, "getUpdates", body, wait=wait)
            if outcome.kind != "sent":
                if once:
                    raise click.ClickException(f"Telegram refused: {outcome.error}")
                time.sleep(5)
                continue
            updates = answer.get("result") if isinstance(answer.get("result"), list) else []
            for update in updates:
                if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                    continue
                offset = update["update_id"] + 1
                try:
                    reply = handle_update(update)
                    db.session.commit()
                except ApiError:
                    db.session.rollback()
                    continue
                if reply:
                    telegram_call(http, "sendMessage", {k: v for k, v in reply.items() if k != "method"})
            if once:
                if offset is not None:  # an offset past them confirms what was read
                    telegram_call(http, "getUpdates", {"offset": offset, "timeout": 0})
                click.echo(f"Telegram: {len(updates)} messages read.")
                return


def init_app(app):
    """Register the commands."""
    app.cli.add_command(telegram_cli)

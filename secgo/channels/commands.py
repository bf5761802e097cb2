"""flask telegram set-webhook / delete-webhook: tell Telegram where the bot's updates go."""
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


def init_app(app):
    """Register the commands."""
    app.cli.add_command(telegram_cli)

"""Notification channels beside Web Push: Telegram and SMS, their settings, the bot's webhook
and the short links text messages carry."""
from flask import Blueprint

bp = Blueprint("channels", __name__)

from . import routes, webhook  # noqa: E402,F401

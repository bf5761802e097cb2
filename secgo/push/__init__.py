"""Web Push: subscriptions, the notification outbox and its worker."""
from flask import Blueprint

bp = Blueprint("push", __name__)

from . import routes  # noqa: E402,F401

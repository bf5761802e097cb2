"""Web Push: subscriptions, the notification outbox and its worker."""
from flask import Blueprint

bp = Blueprint("push", __name__)

"""Orders: list, search, create, the timeline, status updates and confirmations."""
from flask import Blueprint

bp = Blueprint("orders", __name__)

from . import routes  # noqa: F401

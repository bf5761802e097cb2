"""Log in and out, invite and reset links, the settings page and API tokens."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402,F401

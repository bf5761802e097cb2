"""People's data under their control: download everything held about oneself; erasure."""
from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

from . import routes  # noqa: E402,F401

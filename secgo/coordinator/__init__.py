"""The coordinator's review dashboard: open issues, ages, bottlenecks, CSV export."""
from flask import Blueprint

bp = Blueprint("coordinator", __name__)

from . import routes  # noqa: E402,F401

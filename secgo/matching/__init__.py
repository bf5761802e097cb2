"""Business matching followed up (issue 20): events, matches, their steps, the impact report."""
from flask import Blueprint

bp = Blueprint("matching", __name__)

from . import routes  # noqa: E402,F401

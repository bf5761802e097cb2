"""Admin pages: clusters (admins), organizations and people (admins, and coordinators within
their onboarding reach): lists, edits, deactivation and reactivation."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401

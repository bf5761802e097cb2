"""Papers per order (invoice, packing list, certificates) and each crossing's checklist."""
from flask import Blueprint

bp = Blueprint("documents", __name__)

from . import routes  # noqa: E402,F401

"""Producer profiles, their track record, the producer directory and buyers' enquiries."""
from flask import Blueprint

bp = Blueprint("profiles", __name__)

from . import routes  # noqa: E402,F401

"""Photos: validated by content, re-encoded without metadata, served only to who may see them."""
from flask import Blueprint

bp = Blueprint("attachments", __name__)

from . import routes  # noqa: F401

"""Issues on orders: raise, discuss, acknowledge, resolve, close or reopen."""
from flask import Blueprint

bp = Blueprint("issues", __name__)

from . import routes  # noqa: E402,F401

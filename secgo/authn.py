"""Who is asking: session cookie (with CSRF) or bearer API token (without)."""
from flask import request
from flask_login import current_user
from sqlalchemy import select

from .errors import ApiError, wants_json
from .extensions import csrf, db, login_manager
from .models import ApiToken, User, hash_token, utcnow


@login_manager.user_loader
def load_user(user_id: str):
    """Load the user of a session; a changed password (epoch) ends old sessions."""
    try:
        uid, epoch = (int(part) for part in user_id.split("."))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_epoch != epoch or not user.is_active:
        return None
    return user


@login_manager.request_loader
def load_user_from_token(req):
    """Authenticate an integration by its bearer token."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(header[7:].strip()), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    request.environ["secgo.bearer"] = True
    return token.user


@login_manager.unauthorized_handler
def unauthorized():
    """401 JSON for API clients; the login page for people."""
    from flask import flash, redirect, url_for

    if wants_json():
        raise ApiError(401)
    flash(login_manager.login_message, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app):
    """CSRF on every unsafe request except those authenticated by a bearer token."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def _csrf():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.headers.get("Authorization", "").startswith("Bearer ") and request.path.startswith("/api/"):
            if not current_user.is_authenticated:
                raise ApiError(401)
            return
        csrf.protect()

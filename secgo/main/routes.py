from pathlib import Path

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from ..config import LOCALES
from ..extensions import db
from ..i18n import LANG_COOKIE
from . import bp

ROOT = Path(__file__).resolve().parent.parent.parent


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role in ("coordinator", "admin"):
        return redirect(url_for("coordinator.dashboard"))
    return redirect(url_for("orders.index"))


@bp.get("/offline")
def offline():
    return render_template("main/offline.html")


@bp.get("/service-worker.js")
def service_worker():
    response = send_file(ROOT / "service-worker.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang not in LOCALES:
        abort(400)
    target = safe_next(request.form.get("next")) or url_for("main.index")
    response = redirect(target)
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
    )
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db.session.commit()
    return response


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths; anything else is ignored (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target

import hashlib
import json
from pathlib import Path

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..config import LOCALES
from ..extensions import db
from ..i18n import LANG_COOKIE
from ..inputs import safe_next
from . import bp


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


# The app shell the service worker precaches: everything under these static folders but the
# libraries a single page fetches only when it needs them (the label scanner's QR reader, only
# where the browser has no BarcodeDetector): every phone would download them otherwise.
SHELL_FOLDERS = ("css", "js", "icons")
SHELL_FILES = ("manifest.webmanifest",)
ON_DEMAND = ("js/vendor/",)


def on_demand(name: str) -> bool:
    """True for a static file (path under static/) that is not part of the precached shell."""
    return name.startswith(ON_DEMAND)


def shell_urls() -> list[str]:
    """Fingerprinted URLs of the app shell, and the offline page."""
    static = Path(current_app.static_folder)
    names = [name for name in SHELL_FILES if (static / name).is_file()]
    for folder in SHELL_FOLDERS:
        names += sorted(
            name for name in (p.relative_to(static).as_posix() for p in (static / folder).rglob("*")
                              if p.is_file() and not p.name.startswith(".") and not p.name.endswith("~"))
            if not on_demand(name)
        )
    return [url_for("static", filename=name) for name in names] + [url_for("main.offline")]


@bp.get("/service-worker.js")
def service_worker():
    """The service worker, with the app shell's URLs and their hash filled in.

    A change to any shell file changes these bytes, so browsers install the new version.
    """
    source = (Path(current_app.root_path) / "service-worker.js").read_text(encoding="utf-8")
    shell = shell_urls()
    build = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:16]
    source = source.replace("const BUILD = 'dev';", f"const BUILD = '{build}';", 1)
    source = source.replace(
        "const SHELL = ['/offline'];", f"const SHELL = {json.dumps(shell)};", 1
    )
    response = current_app.response_class(source, mimetype="text/javascript")
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

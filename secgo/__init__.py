"""SEC GO!: order and shipment reporting for the Mekong Southern Economic Corridor."""
import os
from pathlib import Path

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l

from .config import Config, load_or_create_secret

BLUEPRINTS = (
    "main",
    "i18n",
    "auth",
    "onboarding",
    "admin",
    "orders",
    "documents",
    "issues",
    "coordinator",
    "matching",
    "push",
    "channels",
    "attachments",
    "api",
    "audit",
    "privacy",
    "profiles",
)


def create_app(test_config=None):
    """Create and configure the application."""
    instance = os.environ.get("SECGO_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance)
    from .templating import Environment

    app.jinja_environment = Environment  # before anything makes app.jinja_env
    app.config.from_object(Config)
    if isinstance(test_config, dict):
        app.config.from_mapping(test_config)
    elif test_config is not None:
        app.config.from_object(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app)
    app.config.setdefault("UPLOAD_FOLDER", str(Path(app.instance_path) / "uploads"))

    from . import (assets, authn, errors, i18n, ids, inputs, liveness, pagecache, prepared, readmarks, security,
                   tabs, templating)
    from .extensions import csrf, db, limiter, login_manager, migrate

    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    checked = options.get("pool_pre_ping") and liveness.checks_itself(app.config["SQLALCHEMY_DATABASE_URI"])
    if checked:  # the same check as pool_pre_ping, without its round trip
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": False}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent / "migrations"))
    i18n.init_app(app)  # Flask-Babel, catalogs, template filters and labels
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            security.configure_sqlite(db.engine)
        prepared.keep_prepared_statements(db.engine)
        if checked:
            liveness.check_on_checkout(db.engine)

    from . import ops

    ops.init_app(app)  # before assets: its after_request runs after compression (full time, sent size)
    assets.init_app(app)  # first: its after_request then runs last and compresses the final body
    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    authn.init_app(app)
    ids.init_app(app)  # before the blueprints: bounds every <int:...> URL part
    inputs.init_app(app)  # refuses NUL anywhere in a request, before any other check
    pagecache.init_app(app)
    readmarks.init_app(app)  # one's own activity on an order or issue is never unread
    tabs.init_app(app)  # the tab bar's tabs and unread counts

    for name in BLUEPRINTS:
        module = __import__(f"{__name__}.{name}", fromlist=["bp"])
        app.register_blueprint(module.bp)

    from . import cli

    cli.init_app(app)

    @app.before_request
    def _request_start():
        g.request_path = request.path

    return app


def database_url(app) -> str:
    """The configured database URL, or SQLite in the instance folder; psycopg 3 for PostgreSQL."""
    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        return "sqlite:///" + str(Path(app.instance_path) / "secgo.db")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url

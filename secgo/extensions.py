"""Flask extensions, created once and bound to the app in create_app()."""
import flask_limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter whose key prefix is taken from each app it is bound to.

    Flask-Limiter keeps the first app's RATELIMIT_KEY_PREFIX for good; the test suite binds
    the one limiter to many apps, each with its own prefix in the shared Redis.
    RATELIMIT_KEY_PREFIX may be a callable, called once per app (a unique prefix per test app).
    """

    def init_app(self, app):
        """Bind to `app`, with this app's key prefix."""
        prefix = app.config.get("RATELIMIT_KEY_PREFIX")
        if callable(prefix):
            app.config["RATELIMIT_KEY_PREFIX"] = prefix()
        self._key_prefix = ""
        super().init_app(app)


limiter = Limiter(key_func=get_remote_address, default_limits=[])

"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL when asked), clients, people."""
import os
import shutil
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from secgo import create_app
from secgo.config import TestConfig
from secgo.extensions import db

PG_URL = os.environ.get("SECGO_TEST_DATABASE_URL")


def _url_builders_once_per_process():
    """Werkzeug writes and compiles two small functions for each URL rule of an app, to build
    its URLs (Rule._compile_builder): some 40 ms for each app of ours, and the suite makes an
    app per test. A rule without defaults gets the same function from the same rule text and
    parsed parts (the function reads the rule's converters from its `self` at each call), so
    the process keeps each and hands it to the next app's rule; a rule with defaults is
    compiled as ever."""
    from werkzeug.routing.rules import Rule

    compile_builder, kept = Rule._compile_builder, {}

    def _compile_builder(self, append_unknown=True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        found = kept.get(key)
        if found is None:
            found = kept[key] = compile_builder(self, append_unknown)
        return found

    Rule._compile_builder = _compile_builder


_url_builders_once_per_process()


ONCE = ("does not depend on the database engine (marked once): run on the SQLite pass, the "
        "README's command")


def pytest_collection_modifyitems(items):
    """On the PostgreSQL pass, skip the tests marked `once`: what they check (catalogs, static
    files, the look of a screen, the outbox's own rules, a PostgreSQL of their own) comes out
    the same whichever database the app runs on, and CI runs the SQLite pass beside this one."""
    if not PG_URL:
        return
    for item in items:
        if item.get_closest_marker("once") is not None:
            item.add_marker(pytest.mark.skip(reason=ONCE))


_TEMPLATE = {}  # this process's PostgreSQL database that already holds the schema


def _schema_template(base) -> str:
    """A database with the models' tables, made once per test process, copied for each test
    (CREATE DATABASE ... TEMPLATE is a file copy: far cheaper than create_all every time)."""
    if "name" not in _TEMPLATE:
        import atexit
        import tempfile
        from pathlib import Path

        name = f"secgo_tpl_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        app = make_app(Path(tempfile.mkdtemp(prefix="secgo-tpl-")), base.set(database=name)
                       .render_as_string(hide_password=False))
        with app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()

        with create_engine(base.set(database=name), poolclass=NullPool).connect() as conn:
            _TEMPLATE["shape"] = conn.execute(_SHAPE).scalar()

        def drop():
            with admin.connect() as conn:
                for each in [*_FREE, name]:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{each}"'))
            admin.dispose()

        atexit.register(drop)
        _TEMPLATE["name"] = name
    return _TEMPLATE["name"]


# The shape of a database's schema: its tables, indexes, sequences and views with their
# columns' count, its functions, triggers and extensions. A test that changed it (a migration,
# an extension) leaves a database that is dropped, not used again.
_SHAPE = text(
    "SELECT md5(concat_ws('|',"
    " (SELECT string_agg(relname || ':' || relkind::text || ':' || relnatts::text, ',' ORDER BY relname)"
    "  FROM pg_class WHERE relnamespace = 'public'::regnamespace),"
    " (SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc"
    "  WHERE pronamespace = 'public'::regnamespace),"
    " (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),"
    " (SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension)))"
)
_FREE = []  # this process's databases with the template's schema, emptied, ready for a test


def _empty_for_the_next_test(base, name) -> bool:
    """Empty a test's database for the next one when its schema is still the template's: every
    row deleted (triggers off, so the audit trail's append-only rule does not stop it) and every
    sequence back at its start, as after CREATE DATABASE ... TEMPLATE. About 10 ms, where a new
    copy costs 150-350 ms of the database server's CPU (CI runs some 1,300 tests on it)."""
    engine = create_engine(base.set(database=name), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if conn.execute(_SHAPE).scalar() != _TEMPLATE["shape"]:
                return False
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = conn.execute(text(
                "SELECT relname, relkind FROM pg_class "
                "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S')")).all()
            for relname, kind in names:
                conn.execute(text(f'DELETE FROM "{relname}"' if kind == "r"
                                  else f'ALTER SEQUENCE "{relname}" RESTART'))
        return True
    finally:
        engine.dispose()


def _sqlite_template() -> str:
    """A SQLite file with the models' tables, made once per test process and copied for each
    test (a copy takes a millisecond, create_all some 25)."""
    if "sqlite" not in _TEMPLATE:
        import atexit
        import tempfile
        from pathlib import Path

        home = Path(tempfile.mkdtemp(prefix="secgo-tpl-"))
        app = make_app(home, f"sqlite:///{home / 'template.db'}")
        with app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        _TEMPLATE["sqlite"] = str(home / "template.db")
    return _TEMPLATE["sqlite"]


@contextmanager
def fresh_database(tmp_path, schema=True):
    """Yield the URL of a new database with the models' tables and no rows (schema=True: on
    SQLite a copy of the template file; on PostgreSQL an earlier test's database, emptied, or a
    new copy of the template database), or of a new, empty one (schema=False: for migrations)."""
    if not PG_URL:
        if schema:
            shutil.copyfile(_sqlite_template(), tmp_path / "test.db")
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = make_url(PG_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    if schema and _FREE:
        name = _FREE.pop()
    else:
        name = f"secgo_t_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{_schema_template(base)}"' if schema else ""
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        if schema and _empty_for_the_next_test(base, name):
            _FREE.append(name)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def make_app(tmp_path, url, **overrides):
    config = {
        key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()
    }
    config.update(SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    config.update(overrides)
    os.environ["SECGO_INSTANCE_PATH"] = str(tmp_path / "instance")
    try:
        return create_app(config)
    finally:
        del os.environ["SECGO_INSTANCE_PATH"]


@pytest.fixture
def database_url(tmp_path):
    """A new database with the models' tables and no rows."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database: for migrations from nothing."""
    with fresh_database(tmp_path, schema=False) as url:
        yield url


@pytest.fixture
def app(tmp_path, database_url, request):
    overrides = getattr(request, "param", {}) or {}
    app = make_app(tmp_path, database_url, **overrides)  # (its tables are there: database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def world(app):
    """A small corridor: two clusters, producers, customers and one person of each role."""
    from tests.factories import build_world

    with app.app_context():
        return build_world()


class Auth:
    def __init__(self, client):
        self.client = client

    def csrf(self, path="/login"):
        import re

        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'name="csrf_token" value="([^"]+)"', html
        )
        return match.group(1) if match else ""

    def login(self, username, password="correct horse battery"):
        return self.client.post(
            "/login",
            data={"login": username, "password": password, "remember": "y", "csrf_token": self.csrf()},
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf("/offline")})


@pytest.fixture
def auth(client):
    return Auth(client)

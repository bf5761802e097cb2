"""The app factory, configuration and the things every page has."""
import os

from secgo import create_app
from secgo.config import TestConfig


def test_factory_reads_testing_config(app):
    assert app.testing
    assert create_app.__doc__ is not None


def test_default_database_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SECGO_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("SECGO_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'secgo.db'}"


def test_postgres_url_uses_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("SECGO_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/db"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.setenv("SECGO_INSTANCE_PATH", str(tmp_path / "inst"))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert first != TestConfig.SECRET_KEY
    assert oct(os.stat(tmp_path / "inst" / "secret_key").st_mode & 0o777) == "0o600"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    from secgo.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            if db.engine.dialect.name != "sqlite":
                return
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_every_page_sets_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_pages_have_no_inline_script(client, auth, world):
    auth.login("producer")
    for path in ("/login", "/orders", "/settings", "/offline"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html, path


def test_service_worker_is_served_from_the_root_with_site_scope(client):
    with client.get("/service-worker.js") as response:
        response.get_data()
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"


def test_language_switcher_names_each_language_in_its_own_script(client):
    html = client.get("/login").get_data(as_text=True)
    for name in ("ខ្មែរ", "ລາວ", "မြန်မာ", "ไทย", "Tiếng Việt", "English"):
        assert name in html


def test_switching_language_sets_html_lang_and_remembers_it(client):
    client.get("/login")
    token = _csrf(client)
    response = client.post("/language", data={"lang": "th", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert '<html lang="th"' in client.get("/login").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(client):
    client.get("/login")
    response = client.post(
        "/language", data={"lang": "km", "next": "//evil.example/", "csrf_token": _csrf(client)}
    )
    assert response.headers["Location"] == "/"


def test_accept_language_picks_the_page_language(client):
    html = client.get("/login", headers={"Accept-Language": "vi-VN,vi;q=0.9"}).get_data(as_text=True)
    assert '<html lang="vi"' in html


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_page_answers_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def _csrf(client):
    import re

    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_processes_starting_at_once_share_one_secret_key(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from secgo.config import load_or_create_secret; "
            "print(load_or_create_secret(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "inst")],
                              stdout=subprocess.PIPE, text=True) for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(keys) == 1 and len(keys.pop()) >= 40


def test_a_second_app_in_the_process_compiles_no_template_the_first_did(app, tmp_path):
    """The test suite makes an app per test; each took the templates the process compiled."""
    from tests.conftest import make_app

    with app.test_request_context():
        app.jinja_env.get_template("auth/login.html")
    second = make_app(tmp_path / "second", app.config["SQLALCHEMY_DATABASE_URI"])
    compiled = []
    original = second.jinja_env.compile
    second.jinja_env.compile = lambda *a, **k: compiled.append(a[1] if len(a) > 1 else k.get("name")) or original(*a, **k)
    with second.test_request_context():
        html = second.jinja_env.get_template("auth/login.html")
    assert html is not None and compiled == []


def test_a_template_changed_or_compiled_differently_is_compiled_again():
    from jinja2 import DictLoader, Environment

    from secgo.templating import ProcessTemplates

    kept = ProcessTemplates()
    first = Environment(loader=DictLoader({"t.html": "{{ 1 + 1 }} first\n"}), bytecode_cache=kept)
    assert first.get_template("t.html").render() == "2 first"
    changed = Environment(loader=DictLoader({"t.html": "{{ 2 + 2 }} changed\n"}), bytecode_cache=kept)
    assert changed.get_template("t.html").render() == "4 changed"
    same = Environment(loader=DictLoader({"t.html": "{{ 2 + 2 }} changed\n"}), bytecode_cache=kept)
    assert same.get_template("t.html").render() == "4 changed"
    # Another comment syntax compiles the same source to other code: not taken from the first.
    other = Environment(loader=DictLoader({"t.html": "{{ 2 + 2 }} changed\n"}), bytecode_cache=kept,
                        variable_start_string="[[", variable_end_string="]]")
    assert other.get_template("t.html").render() == "{{ 2 + 2 }} changed"

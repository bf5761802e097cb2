"""Migrations build the schema from empty on both engines; the CLI seeds and creates users."""
import warnings
from datetime import datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, inspect, select, text

from secgo.extensions import db
from secgo.models import Cluster, Issue, Order, Organization, User
from secgo.models.base import schema_objects_for
from tests.conftest import make_app

DEMO_LOGINS = [
    "demo-producer", "demo-customer", "demo-coordinator", "demo-admin", "demo-producer-km",
    "demo-producer-lo", "demo-producer-my", "demo-producer-th", "demo-producer-vi",
]


def test_migrations_from_empty_match_the_models(tmp_path, empty_database_url):
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": schema_objects_for(conn.dialect.name)})
            with warnings.catch_warnings():  # an index on expressions is not reflected: below
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
                warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based")
                diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"
        on_expressions = {ix.name: ix for table in db.metadata.tables.values() for ix in table.indexes
                          if ix.info.get("expressions")}
        with db.engine.connect() as conn:
            made = {name: sql for name, sql in conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes" if conn.dialect.name == "postgresql"
                else "SELECT name, sql FROM sqlite_master WHERE type = 'index'")) if name in on_expressions}
        assert set(made) == set(on_expressions)
        assert all(" WHERE " in sql and "CASE" in sql for sql in made.values())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_issues_raised_before_the_upgrade_show_their_orders_border_crossing(tmp_path, empty_database_url):
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade(revision="c3a7f19d2e58")  # issues had no crossing of their own
        now = datetime(2026, 3, 2, tzinfo=timezone.utc)
        with db.engine.begin() as conn:
            cluster = conn.execute(insert(Cluster.__table__).values(
                name="Rice", country="KH", province="Takeo", product="Rice", created_at=now)
                .returning(Cluster.id)).scalar()
            farm, buyer = (conn.execute(insert(Organization.__table__).values(
                kind=kind, name=kind, country="KH", cluster_id=in_cluster, created_at=now)
                .returning(Organization.id)).scalar()
                for kind, in_cluster in (("producer", cluster), ("customer", None)))
            orders = [conn.execute(insert(Order.__table__).values(
                reference=f"SEC-MIG{n}", producer_org_id=farm, customer_org_id=buyer, product="Rice",
                quantity=1, unit="kg", origin="Takeo", destination="Bangkok", border_crossing=crossing,
                status="accepted", created_at=now, last_activity_at=now).returning(Order.id)).scalar()
                for n, crossing in enumerate(("bavet_moc_bai", None))]
            for order_id in orders:
                conn.execute(insert(Issue.__table__).values(
                    order_id=order_id, producer_org_id=farm, customer_org_id=buyer, category="delay",
                    severity="low", title="Late", raised_by_side="customer", created_at=now,
                    updated_at=now))
        upgrade()
        crossings = db.session.execute(select(Order.reference, Issue.border_crossing)
                                       .join(Order, Issue.order_id == Order.id).order_by(Order.reference)).all()
        assert crossings == [("SEC-MIG0", "bavet_moc_bai"), ("SEC-MIG1", None)]
        db.session.remove()
        db.engine.dispose()


def test_seed_demo_is_idempotent_and_every_demo_login_works(tmp_path, empty_database_url):
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = (db.session.scalar(select(func.count(User.id))),
                  db.session.scalar(select(func.count(Order.id))))
    again = runner.invoke(args=["seed-demo"])
    assert "(0 new records)" in again.output
    with app.app_context():
        assert counts == (db.session.scalar(select(func.count(User.id))),
                          db.session.scalar(select(func.count(Order.id))))
        by_name = {u.username: u for u in db.session.scalars(select(User))}
        for login in DEMO_LOGINS:
            assert by_name[login].check_password("demo-password"), login
        for lang in ("km", "lo", "my", "th", "vi"):
            assert by_name[f"demo-producer-{lang}"].locale == lang
    client = app.test_client()
    from tests.conftest import Auth

    assert Auth(client).login("demo-producer-km", "demo-password").status_code == 302
    assert '<html lang="km"' in client.get("/orders").get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_create_user_prints_a_single_use_invite_link(runner, app, world):
    result = runner.invoke(args=[
        "create-user", "--username", "kosal", "--name", "Kosal", "--role", "producer",
        "--organization", "Takeo Rice Coop", "--locale", "km",
    ])
    assert result.exit_code == 0, result.output
    token = result.output.strip().rsplit("/invite/", 1)[1]
    client = app.test_client()
    assert client.get(f"/invite/{token}").status_code == 200


def test_create_user_refuses_a_taken_username(runner, world):
    result = runner.invoke(args=[
        "create-user", "--username", "producer", "--name", "X", "--role", "admin", "--password", "long password 1",
    ])
    assert result.exit_code != 0 and "taken" in result.output


def test_gunicorn_serves_the_same_app(tmp_path, empty_database_url):
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SECGO_DATABASE_URL": empty_database_url,
           "SECGO_INSTANCE_PATH": str(tmp_path / "gunicorn-instance")}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=Path(__file__).resolve().parent.parent, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert "SEC GO!" in body and 'name="password"' in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)

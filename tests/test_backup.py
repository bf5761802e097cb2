"""`flask backup` and `flask restore`: a backup restores every row and file into an empty
instance, and a damaged, mismatched or misplaced one is refused with nothing restored.

Runs on the engine of the suite (SQLite, or PostgreSQL with SECGO_TEST_DATABASE_URL)."""
import hashlib
import io
import json
import tarfile
import warnings
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import MetaData, inspect, select

from secgo.extensions import db

from tests.conftest import fresh_database, make_app


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def populated(app):
    """The app of the suite with the demo data, an uploaded photo and its VAPID key."""
    from secgo.attachments.services import save_photo
    from secgo.demo import seed_demo
    from secgo.models import User
    from secgo.push.vapid import load_keys

    with app.app_context():
        seed_demo()
        producer = db.session.scalar(select(User).where(User.username == "demo-producer"))
        save_photo(producer, _jpeg())
        db.session.commit()
        load_keys()
    return app


@pytest.fixture
def empty(tmp_path):
    """A second instance on a new, empty database with an empty upload folder."""
    home = tmp_path / "restored"
    home.mkdir()
    with fresh_database(home, schema=False) as url:
        app = make_app(home, url)
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _backup(app, dest) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    return Path(result.output.split("Backed up to ", 1)[1].split(":", 1)[0])


def _restore(app, src, *extra):
    return app.test_cli_runner().invoke(args=["restore", str(src), *extra])


def _rows(app) -> dict:
    with app.app_context():
        meta = MetaData()
        with warnings.catch_warnings():  # SQLite cannot reflect an index on expressions: no matter here
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            meta.reflect(bind=db.engine)
        out = {}
        with db.engine.connect() as conn:
            for name, table in meta.tables.items():
                order = list(table.primary_key.columns) or list(table.columns)
                out[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
        return out


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _uploads(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


def _tables(app) -> list:
    with app.app_context():
        return inspect(db.engine).get_table_names()


def _rewrite(src: Path, dest: Path, change) -> Path:
    """A copy of a backup with its members passed through change(name, body) -> (name, body)
    or None (left out)."""
    with tarfile.open(src) as tar, tarfile.open(dest, "w") as out:
        for member in tar.getmembers():
            changed = change(member.name, tar.extractfile(member).read())
            if changed is None:
                continue
            name, body = changed
            info = tarfile.TarInfo(name)
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    return dest


def test_a_backup_restores_every_row_and_every_file_into_an_empty_instance(populated, empty, tmp_path):
    archive = _backup(populated, tmp_path / "backups")
    assert archive.name.startswith("secgo-backup-") and archive.suffix == ".tar"
    assert archive.stat().st_mode & 0o077 == 0, "a backup holds keys: readable by its owner only"

    result = _restore(empty, archive)
    assert result.exit_code == 0, result.output

    before, after = _rows(populated), _rows(empty)
    assert set(after) == set(before)
    for table, rows in before.items():
        assert after[table] == rows, f"table {table} differs after the restore"
    assert before["orders"] and before["attachments"], "the test must back up real data"
    assert _files(_uploads(empty)) == _files(_uploads(populated))
    assert len(_files(_uploads(populated))) >= 2  # the photo and its thumbnail
    key = "vapid_private.pem"
    assert (Path(empty.instance_path) / key).read_bytes() == (Path(populated.instance_path) / key).read_bytes()


def test_the_restored_instance_serves_the_demo_login_and_its_orders(populated, empty, tmp_path):
    _restore(empty, _backup(populated, tmp_path / "b.tar"))
    client = empty.test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", data={"login": "demo-producer", "password": "demo-password",
                                         "csrf_token": token})
    assert answer.status_code in (302, 303)
    assert "SEC-" in client.get("/orders").get_data(as_text=True)


def test_verify_only_checks_a_backup_and_restores_nothing(populated, empty, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")
    result = _restore(empty, archive, "--verify-only")
    assert result.exit_code == 0 and "complete and intact" in result.output
    assert _tables(empty) == []


def test_a_backup_never_overwrites_a_file_and_leaves_no_partial_file(populated, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")
    body = archive.read_bytes()
    result = populated.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code != 0 and "exists already" in result.output
    assert archive.read_bytes() == body
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b.tar")) == ["b.tar"]


def _assert_nothing_restored(app):
    assert _tables(app) == []
    uploads = _uploads(app)
    assert not uploads.exists() or not any(uploads.iterdir())
    assert not (Path(app.instance_path) / "vapid_private.pem").exists()


def test_a_damaged_backup_is_refused_and_nothing_is_restored(populated, empty, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")

    def flip(name, body):
        if name.startswith("uploads/") and not name.endswith(".thumb.jpg"):
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        return name, body

    damaged = _rewrite(archive, tmp_path / "damaged.tar", flip)
    result = _restore(empty, damaged)
    assert result.exit_code != 0 and "damaged" in result.output
    _assert_nothing_restored(empty)


def test_a_truncated_backup_is_refused(populated, empty, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    result = _restore(empty, cut)
    assert result.exit_code != 0
    assert "Error:" in result.output and "Traceback" not in result.output
    _assert_nothing_restored(empty)


def test_a_backup_with_a_member_outside_its_folders_is_refused(populated, empty, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")

    def escape(name, body):
        return ("uploads/../../escaped.txt", body) if name.startswith("uploads/") else (name, body)

    hostile = _rewrite(archive, tmp_path / "hostile.tar", escape)
    result = _restore(empty, hostile)
    assert result.exit_code != 0 and "unexpected member" in result.output
    assert not (tmp_path / "escaped.txt").exists()
    _assert_nothing_restored(empty)


def test_a_backup_of_the_other_engine_is_refused(populated, empty, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")
    dumps = {"sqlite": "database.sqlite3.gz", "postgresql": "database.pgdump"}

    def swap_engine(name, body):
        if name == "manifest.json":
            manifest = json.loads(body)
            mine = manifest["engine"]
            other = "postgresql" if mine == "sqlite" else "sqlite"
            manifest["engine"] = other
            manifest["files"][dumps[other]] = manifest["files"].pop(dumps[mine])
            return name, json.dumps(manifest).encode()
        if name in dumps.values():
            return next(v for v in dumps.values() if v != name), body
        return name, body

    result = _restore(empty, _rewrite(archive, tmp_path / "other.tar", swap_engine))
    assert result.exit_code != 0 and "is configured for" in result.output
    _assert_nothing_restored(empty)


def test_restore_refuses_a_database_that_is_not_empty(populated, tmp_path):
    archive = _backup(populated, tmp_path / "b.tar")
    before = _rows(populated)
    result = _restore(populated, archive)
    assert result.exit_code != 0 and "not empty" in result.output
    assert _rows(populated) == before


def test_a_database_that_fails_to_restore_leaves_no_files_behind(populated, empty, tmp_path):
    """The database is restored last, in one step: when it fails, the uploads and keys
    already put in place are taken back."""
    archive = _backup(populated, tmp_path / "b.tar")
    garbage = b"this is not a database dump at all" * 10
    dumps = ("database.sqlite3.gz", "database.pgdump")

    def spoil(name, body):
        if name in dumps:
            return name, garbage
        if name == "manifest.json":
            manifest = json.loads(body)
            for dump in dumps:
                if dump in manifest["files"]:
                    manifest["files"][dump] = {"size": len(garbage),
                                               "sha256": hashlib.sha256(garbage).hexdigest()}
            return name, json.dumps(manifest).encode()
        return name, body

    result = _restore(empty, _rewrite(archive, tmp_path / "spoilt.tar", spoil))
    assert result.exit_code != 0 and "Traceback" not in result.output
    _assert_nothing_restored(empty)
    assert not [p for p in _uploads(empty).parent.iterdir() if p.name.startswith(".secgo-restore-")]

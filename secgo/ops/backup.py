"""Backups that restore: one archive with the database, the uploads, the keys and a manifest.

A backup is a tar file:
    database.sqlite3.gz   SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump       PostgreSQL: `pg_dump --format=custom` (one snapshot transaction)
    uploads/...           every file under UPLOAD_FOLDER
    instance/...          the keys in the instance folder (VAPID private key, secret key)
    manifest.json         format, engine, schema revision, row counts, size and SHA-256 of
                          every other member; written last
Restore checks the whole archive before it touches anything, restores only into an empty
database and an empty upload folder, and never leaves half a restore behind.
"""
import functools
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from flask import current_app
from sqlalchemy import func, inspect, select, table, text

from ..extensions import db

FORMAT = "secgo-backup"
VERSION = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3.gz", "postgresql": "database.pgdump"}
INSTANCE_FILES = ("vapid_private.pem", "secret_key")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(functools.partial(fh.read, CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _engine_name() -> str:
    name = db.engine.dialect.name
    if name not in DUMPS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _libpq(url) -> tuple[str, dict]:
    """A libpq connection string without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict, what: str) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise BackupError(f"{args[0]} is not installed (Debian: postgresql-client)") from err
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def _dump_database(engine: str, into: Path) -> Path:
    """A consistent snapshot of the app's database in the folder `into`."""
    if engine == "sqlite":
        raw = into / "database.sqlite3"
        source = sqlite3.connect(db.engine.url.database)
        target = sqlite3.connect(raw)
        try:
            with target:
                source.backup(target)  # the online backup API: consistent while others write
        finally:
            target.close()
            source.close()
        packed = into / DUMPS["sqlite"]
        with raw.open("rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        raw.unlink()
        return packed
    dump = into / DUMPS["postgresql"]
    conninfo, env = _libpq(db.engine.url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
          f"--file={dump}", f"--dbname={conninfo}"], env, "pg_dump")
    return dump


def _schema_revision() -> str | None:
    if not inspect(db.engine).has_table("alembic_version"):
        return None
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def _row_counts() -> dict[str, int]:
    # By name: reflecting whole tables would read their indexes too, and SQLite's reflection
    # cannot read an index on expressions (it warns).
    return {name: db.session.scalar(select(func.count()).select_from(table(name)))
            for name in sorted(inspect(db.engine).get_table_names())}


def _backup_members() -> list[tuple[str, Path]]:
    """(name in the archive, file on disk) for the uploads and the instance keys."""
    members = []
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.is_dir():
        for path in sorted(uploads.rglob("*")):
            if path.is_file() and not path.name.endswith(".tmp"):
                members.append(("uploads/" + path.relative_to(uploads).as_posix(), path))
    instance = Path(current_app.instance_path)
    for name in INSTANCE_FILES:
        if (instance / name).is_file():
            members.append((f"instance/{name}", instance / name))
    return members


def backup_name(now: datetime | None = None) -> str:
    """The file name of a backup made now, sortable by time."""
    now = now or datetime.now(timezone.utc)
    return f"secgo-backup-{now:%Y%m%dT%H%M%SZ}.tar"


def create_backup(dest: str | os.PathLike) -> tuple[Path, dict]:
    """Write a backup to dest (a file named *.tar, else a folder to put a time-named file in);
    return its path and manifest. The archive appears under its name only when it is complete."""
    engine = _engine_name()
    dest = Path(dest)
    if dest.suffix != ".tar":  # a folder (made when missing) for time-named backups
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest / backup_name()
    if dest.exists():
        raise BackupError(f"{dest} exists already; a backup never overwrites one")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    manifest = {
        "format": FORMAT, "version": VERSION, "engine": engine,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "schema_revision": _schema_revision(), "row_counts": _row_counts(), "files": {},
    }
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".secgo-backup-") as work:
        dump = _dump_database(engine, Path(work))
        members = [(dump.name, dump)] + _backup_members()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, path in members:
                    manifest["files"][name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mode = 0o600
                    with path.open("rb") as fh:
                        tar.addfile(info, fh)
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(body), 0o600, int(datetime.now().timestamp())
                tar.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
    return dest, manifest


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (not path.is_absolute() and ".." not in path.parts and name == path.as_posix()
            and (name in DUMPS.values() or name == MANIFEST
                 or (path.parts[0] == "uploads" and len(path.parts) > 1)
                 or (path.parts[0] == "instance" and len(path.parts) == 2
                     and path.parts[1] in INSTANCE_FILES)))


def read_manifest(tar: tarfile.TarFile) -> dict:
    """The archive's manifest, checked against every member's size and checksum."""
    try:
        return _checked_manifest(tar)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise BackupError(f"the backup is damaged or incomplete ({err})") from None


def _checked_manifest(tar: tarfile.TarFile) -> dict:
    members = tar.getmembers()
    for member in members:
        if not member.isfile() or not _safe_name(member.name):
            raise BackupError(f"not a SEC GO! backup: unexpected member {member.name!r}")
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
    except KeyError:
        raise BackupError("not a SEC GO! backup: it has no manifest.json (incomplete?)") from None
    except ValueError:
        raise BackupError("the backup's manifest is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a SEC GO! backup")
    if manifest.get("version") != VERSION:
        raise BackupError(f"backup format version {manifest.get('version')!r} is not one this "
                          f"version reads ({VERSION})")
    files = manifest.get("files")
    if manifest.get("engine") not in DUMPS or not isinstance(files, dict):
        raise BackupError("the backup's manifest is damaged")
    names = {m.name for m in members} - {MANIFEST}
    if names != set(files):
        missing, extra = sorted(set(files) - names), sorted(names - set(files))
        raise BackupError(f"the backup does not match its manifest (missing {missing[:5]}, "
                          f"unlisted {extra[:5]})")
    if DUMPS[manifest["engine"]] not in files:
        raise BackupError("the backup holds no database")
    for member in members:
        if member.name == MANIFEST:
            continue
        expected = files[member.name]
        digest = hashlib.sha256()
        for block in iter(functools.partial(tar.extractfile(member).read, CHUNK), b""):
            digest.update(block)
        if member.size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
            raise BackupError(f"the backup is damaged: {member.name} does not match its checksum")
    return manifest


def _open(src: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(src, mode="r:")
    except FileNotFoundError:
        raise BackupError(f"{src} does not exist") from None
    except (tarfile.TarError, OSError) as err:
        raise BackupError(f"{src} is not a readable backup ({err})") from None


def verify_backup(src: str | os.PathLike) -> dict:
    """Check a backup completely without restoring it; return its manifest."""
    with _open(Path(src)) as tar:
        return read_manifest(tar)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def _check_target(manifest: dict) -> None:
    engine = _engine_name()
    if manifest["engine"] != engine:
        raise BackupError(f"this backup is of a {manifest['engine']} database; the app is "
                          f"configured for {engine}")
    revision = manifest.get("schema_revision")
    if revision and revision not in _known_revisions():
        raise BackupError(f"the backup's schema ({revision}) comes from a newer or different "
                          "version of SEC GO!; install that version to restore it")
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(f"the database is not empty ({len(tables)} tables); restore only "
                          "into a new, empty database")
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.exists() and any(uploads.iterdir()):
        raise BackupError(f"the upload folder {uploads} is not empty")


def _extract(tar: tarfile.TarFile, name: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tar.extractfile(name) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)


def _restore_database(engine: str, dump: Path) -> None:
    if engine == "sqlite":
        target = Path(db.engine.url.database)
        staged = target.with_name(target.name + ".restoring")
        try:
            with gzip.open(dump, "rb") as src, staged.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            check = sqlite3.connect(staged)
            try:
                ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            finally:
                check.close()
        except (OSError, EOFError, sqlite3.DatabaseError) as err:
            staged.unlink(missing_ok=True)
            raise BackupError(f"the backed-up SQLite database cannot be read ({err})") from None
        if not ok:
            staged.unlink()
            raise BackupError("the backed-up SQLite database fails its integrity check")
        db.engine.dispose()
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(staged, target)
        return
    conninfo, env = _libpq(db.engine.url)
    db.engine.dispose()
    _run(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
          "--no-privileges", f"--dbname={conninfo}", str(dump)], env, "pg_restore")


def restore_backup(src: str | os.PathLike) -> dict:
    """Restore a backup into this app's empty database and upload folder; all or nothing."""
    src = Path(src)
    with _open(src) as tar:
        manifest = read_manifest(tar)
        _check_target(manifest)
        uploads = Path(current_app.config["UPLOAD_FOLDER"])
        instance = Path(current_app.instance_path)
        uploads.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=uploads.parent, prefix=".secgo-restore-") as work:
            work = Path(work)
            staged_uploads = work / "uploads"
            staged_uploads.mkdir()
            for name in manifest["files"]:
                if name.startswith("uploads/"):
                    _extract(tar, name, staged_uploads / name[len("uploads/"):])
                elif name.startswith("instance/"):
                    _extract(tar, name, work / name)
            dump = work / DUMPS[manifest["engine"]]
            _extract(tar, dump.name, dump)
            # Files first (each step undone on failure), the database last, as one step.
            kept_keys = _swap_instance_files(work / "instance", instance)
            if uploads.exists():
                uploads.rmdir()  # empty: checked above
            os.replace(staged_uploads, uploads)
            try:
                _restore_database(manifest["engine"], dump)
            except BaseException:
                os.replace(uploads, staged_uploads)
                uploads.mkdir()
                _put_back(kept_keys, instance)
                raise
    return manifest


def _swap_instance_files(staged: Path, instance: Path) -> dict[str, bytes | None]:
    """Put the backed-up keys in place; return what was there before, to undo it."""
    kept = {}
    instance.mkdir(parents=True, exist_ok=True)
    if not staged.is_dir():
        return kept
    for path in staged.iterdir():
        target = instance / path.name
        kept[path.name] = target.read_bytes() if target.exists() else None
        os.chmod(path, 0o600)
        os.replace(path, target)
    return kept


def _put_back(kept: dict[str, bytes | None], instance: Path) -> None:
    for name, body in kept.items():
        target = instance / name
        if body is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(body)

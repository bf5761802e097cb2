"""The production install: the wheel built from setup.cfg serves the app from any folder.

The wheel is built from the project's files, installed without its dependencies into a fresh
venv (the dependencies come from this test's own environment through a .pth file, so no network
is needed, and the checkout is on no path), then migrated and served by gunicorn from an empty
working directory, over real HTTP.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.live import stop_process_group

pytestmark = pytest.mark.once


ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def run(command, **kwargs):
    """Run a command to completion; its output is in the assertion message when it fails."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=120,
                          **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path) -> Path:
    """The wheel of a copy of the project (nothing is written into the checkout)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "secgo", source / "secgo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    wheels = tmp_path / "wheels"
    run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source])
    (wheel,) = wheels.glob("secgo-*.whl")
    return wheel


def fresh_venv(tmp_path, wheel) -> Path:
    """A new venv holding the wheel; the dependencies are read from this test's environment."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    run([*PIP, "--python", python, "install", "--no-deps", "--no-index", wheel])
    ours = {sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")}
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "secgo-test-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return python


def clean_env(**values) -> dict:
    """This process's environment without SECGO_* or PYTHON* settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECGO_", "PYTHON", "FLASK_"))}
    return {**env, **values}


def fetch(url, headers=None):
    """(status, headers, body) of a GET; error statuses are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def catalog_text(lang, msgid) -> str:
    with (ROOT / "secgo" / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        text = read_po(fh, locale=lang).get(msgid).string
    assert text, f"{lang} has no translation of {msgid!r}"
    return text


def test_the_installed_wheel_serves_pages_static_files_worker_and_translations_from_tmp(
    tmp_path, empty_database_url
):
    python = fresh_venv(tmp_path, build_wheel(tmp_path))
    workdir = tmp_path / "empty"
    workdir.mkdir()
    env = clean_env(SECGO_INSTANCE_PATH=str(tmp_path / "instance"), SECGO_DATABASE_URL=empty_database_url,
                    SECGO_SECURE_COOKIES="0")

    where = run([python, "-c", "import secgo, sys; print(secgo.__file__); print(*sys.path, sep='\\n')"],
                cwd=workdir, env=env).split("\n")
    assert Path(where[0]).is_relative_to(python.parent.parent), where[0]
    assert str(ROOT) not in [p.rstrip("/") for p in where[1:]], "the checkout is on the path"

    run([python, "-m", "flask", "--app", "secgo", "db", "upgrade"], cwd=workdir, env=env)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "--config", "python:secgo.gunicorn_conf", "--workers", "2",
             "--no-control-socket",  # several test runs at once must not share one socket
             "--bind", f"127.0.0.1:{port}", "secgo:create_app()"],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                status, _headers, body = fetch(f"{base}/login")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert status == 200, body
        login = body.decode()
        assert 'lang="en"' in login

        icon = re.search(r'href="(/static/icons/icon[^"]*\.svg[^"]*)"', login).group(1)
        status, headers, body = fetch(base + icon)
        assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
        assert body == (ROOT / "secgo" / "static" / "icons" / "icon.svg").read_bytes()
        stylesheet = re.search(r'href="(/static/css/[^"]+)"', login).group(1)
        status, headers, body = fetch(base + stylesheet)
        assert status == 200 and headers["Content-Type"].startswith("text/css") and body

        status, headers, body = fetch(f"{base}/service-worker.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        assert headers["Service-Worker-Allowed"] == "/"
        worker = body.decode()
        assert "const BUILD = 'dev';" not in worker and stylesheet in worker

        status, _headers, body = fetch(f"{base}/login", {"Accept-Language": "km"})
        khmer = body.decode()
        assert status == 200 and 'lang="km"' in khmer
        assert catalog_text("km", "Log in") in khmer

        # The start-up check of secgo.gunicorn_conf ran (two workers, limits kept in memory).
        assert "rate limits are kept in each process's memory" in log.read_text()
    finally:
        stop_process_group(server, grace=15)

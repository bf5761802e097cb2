"""Shared helpers for the benchmarks: databases, a live gunicorn on 127.0.0.1, logging in."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GUNICORN = [str(Path(sys.executable).parent / "gunicorn")]
if not Path(GUNICORN[0]).exists():
    GUNICORN = [sys.executable, "-m", "gunicorn"]
# Any database of the server will do: each run creates (and drops) its own database there.
PG_BASE = (os.environ.get("SECGO_BENCH_PG_URL") or os.environ.get("SECGO_TEST_DATABASE_URL")
           or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEMO_PASSWORD = "demo-password"
DEMO_ORDER = "SEC-7K3F9Q"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_available() -> bool:
    """True when the local PostgreSQL answers."""
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_BASE)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


@contextmanager
def database(kind: str, workdir: Path):
    """Yield the URL of a new, empty database: a SQLite file or a PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(PG_BASE)
    name = f"secgo_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def server_env(url: str, instance: Path, **extra) -> dict:
    """Environment for a server process on the given database."""
    env = dict(os.environ)
    env.update(
        SECGO_DATABASE_URL=url,
        SECGO_INSTANCE_PATH=str(instance),
        SECGO_SECURE_COOKIES="0",
        SECGO_SECRET_KEY="bench-secret-key-not-for-production",
        SECGO_PUBLIC_URL="http://127.0.0.1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def make_app(url: str, instance: Path):
    """An application object on the given database (for filling it in this process)."""
    os.environ["SECGO_INSTANCE_PATH"] = str(instance)
    os.environ.setdefault("SECGO_SECURE_COOKIES", "0")
    from secgo import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-not-for-production"})


def prepare_demo(url: str, instance: Path) -> None:
    """Create the schema and the demo data (the same as `flask seed-demo`)."""
    app = make_app(url, instance)
    from secgo.demo import seed_demo
    from secgo.extensions import db

    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        db.engine.dispose()


class Server:
    """A gunicorn process on 127.0.0.1; always stopped on exit."""

    def __init__(self, env: dict, workers: int = 2, app: str = "wsgi:app", threads: int = 1,
                 port: int | None = None, log: Path | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log or Path(tempfile.mkstemp(prefix="secgo-gunicorn-", suffix=".log")[1])
        self.cmd = [*GUNICORN, "-w", str(workers), "--threads", str(threads), "-b",
                    f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "--timeout", "60",
                    "--no-control-socket", app]  # two instances must not share one socket
        self.proc = None

    def __enter__(self):
        self.logfile = open(self.log, "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self.logfile,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.base + "/", timeout=2, allow_redirects=False).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not start; see {self.log}")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.logfile.close()
        if not exc or exc[0] is None:
            if not self.errors_in_log():
                self.log.unlink(missing_ok=True)

    def errors_in_log(self) -> list[str]:
        """Tracebacks the server logged."""
        text = self.log.read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or "Unhandled error" in line]

    def exceptions_in_log(self) -> list[str]:
        """The distinct exception lines (type: message) of the tracebacks the server logged."""
        text = self.log.read_text(errors="replace")
        found = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception|Violation)\b.*)$", text, re.M)
        return list(dict.fromkeys(line[:300] for line in found))


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str | None:
    """The CSRF token of the first form of a page."""
    m = CSRF_RE.search(html)
    return (m[1] or m[2]) if m else None


def login(base: str, username: str, password: str = DEMO_PASSWORD, session=None) -> requests.Session:
    """A requests session logged in as username (raises when the login fails)."""
    s = session or requests.Session()
    page = s.get(base + "/login", timeout=30)
    token = csrf_token(page.text)
    r = s.post(base + "/login", data={"login": username, "password": password, "remember": "y",
                                      "csrf_token": token}, allow_redirects=False, timeout=30)
    if r.status_code not in (302, 303):
        raise RuntimeError(f"login as {username} failed: {r.status_code}")
    s.headers["X-CSRFToken"] = token or ""
    return s


def api_csrf(s: requests.Session, base: str) -> str:
    """A CSRF token for script writes from a page of the app (sent as X-CSRFToken)."""
    token = csrf_token(s.get(base + "/settings", timeout=30).text)
    if token:
        s.headers["X-CSRFToken"] = token
    return token


def routes(url: str = "sqlite://") -> set[str]:
    """The URL rules of the app as it is now (so benchmarks skip what is not built yet)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(url, Path(tmp))
        return {rule.rule + " " + ",".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
                for rule in app.url_map.iter_rules()}


def has_route(rules: set[str], rule: str, method: str = "GET") -> bool:
    """True when the app has this URL rule with this method."""
    return any(r.split(" ")[0] == rule and method in r.split(" ")[1].split(",") for r in rules)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def write_results(name: str, data: dict, markdown: str) -> None:
    """Write bench/results/<name>.json and .md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")


def md_table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def machine() -> str:
    """A short description of where a benchmark ran."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores, load average {load} at the end, Python {sys.version.split()[0]}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")

"""Faults survived: PostgreSQL restarted in the middle of the 100-phone load test.

Starts a throwaway PostgreSQL server of its own (initdb into a temporary folder, a free port,
trust authentication; never the shared one on 5432), serves SEC GO! on it with gunicorn, and
lets 100 phones post notes as the offline outbox does: every write has its UUID, and a phone
that gets no answer, a 5xx or a network error sends the same write again with the same key
(after Retry-After) until it is accepted; at random it double-taps or loses an answer. In the
middle, PostgreSQL is restarted (`pg_ctl restart -m fast`, then `-m immediate`: a crash and
recovery), while gunicorn keeps running. Afterwards:

- every write answered 2xx is stored exactly once, and every write a phone meant to send was
  accepted in the end (retrying through the outage loses nothing);
- during the outage the app answered 503 with Retry-After and a JSON error in the phone's
  language, never a 500 or a traceback;
- the same gunicorn (no restart) answers writes again after each restart (pool pre-ping).

    .venv/bin/python bench/faults.py                 # 100 phones, 2 minutes, writes bench/results/faults.*
    .venv/bin/python bench/faults.py --short         # 30 s
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import datagen  # noqa: E402
from load import verify  # noqa: E402

PG_BIN = Path(os.environ.get("SECGO_PG_BIN", "/usr/lib/postgresql/15/bin"))
LANGUAGES = ("en", "km", "lo", "my", "th", "vi")


class Postgres:
    """A throwaway PostgreSQL server in a temporary folder (run as `postgres` when we are root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="secgo-faults-pg-"))
        self.data, self.sock, self.log = self.dir / "data", self.dir / "sock", self.dir / "server.log"
        self.port = common.free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args, timeout=120, check=True):
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check)

    def start(self):
        self.sock.mkdir(parents=True)
        if self.user:
            shutil.chown(self.dir, self.user)
            shutil.chown(self.sock, self.user)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")
        return self

    def restart(self, mode: str) -> float:
        """Restart the server; the seconds it was away."""
        started = time.monotonic()
        # -l: the new postmaster writes to its log, not to our pipe (which would never close).
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "-m", mode,
                  "restart", timeout=180)
        return time.monotonic() - started

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database="postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@contextmanager
def throwaway_postgres():
    """A running throwaway server; stopped and deleted at the end, whatever happens."""
    pg = Postgres()
    try:
        yield pg.start()
    finally:
        pg.stop()


class Ledger:
    """What the phones meant to send, what they were answered, what the outage looked like."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.errors = Counter()
        self.accepted = {}  # key -> id of the first 2xx answer
        self.mismatch = []
        self.sent_keys = set()
        self.given_up = set()
        self.requests = 0
        self.outage_answers = []  # (status, Retry-After, content type, code, language, message)

    def record(self, key, lang, response=None, error=None):
        with self.lock:
            self.requests += 1
            self.sent_keys.add(key)
            if error is not None:
                self.errors[type(error).__name__] += 1
                return
            self.statuses[response.status_code] += 1
            if 200 <= response.status_code < 300:
                got = response.json().get("id")
                first = self.accepted.setdefault(key, got)
                if first != got:
                    self.mismatch.append((key, first, got))
            elif response.status_code >= 500 and len(self.outage_answers) < 5000:
                try:
                    error_body = response.json()["error"]
                except (ValueError, KeyError, TypeError):
                    error_body = {}
                self.outage_answers.append((response.status_code, response.headers.get("Retry-After"),
                                            response.headers.get("Content-Type", ""), error_body.get("code"),
                                            lang, error_body.get("message")))


class Phone:
    """One producer's phone whose outbox sends each write until it is accepted."""

    def __init__(self, base, username, orders, ledger, rnd, lang):
        self.base, self.orders, self.ledger, self.rnd, self.lang = base, orders, ledger, rnd, lang
        self.session = common.login(base, username)
        self.session.headers["Accept-Language"] = lang

    def post(self, ref, key, note, via, timeout=30.0):
        try:
            if via == "api":
                r = self.session.post(f"{self.base}/api/v1/orders/{ref}/updates", timeout=timeout,
                                      json={"status": "note", "note": note}, headers={"Idempotency-Key": key})
            else:
                r = self.session.post(f"{self.base}/orders/{ref}/updates", timeout=timeout,
                                      data={"status": "note", "note": note, "client_id": key,
                                            "csrf_token": self.session.headers["X-CSRFToken"]},
                                      headers={"Accept": "application/json", "Idempotency-Key": key})
        except requests.RequestException as err:
            self.ledger.record(key, self.lang, error=err)
            return None
        self.ledger.record(key, self.lang, r)
        return r

    def deliver(self, write, give_up_at):
        """The outbox: send until a 2xx (or a refusal, which must not happen here)."""
        ref, key, note, via = write
        wait = 0.5
        first = True
        while time.monotonic() < give_up_at:
            if first and self.rnd.random() < 0.1:  # the answer is lost on the way back
                self.post(ref, key, note, via, timeout=0.01)
            first = False
            r = self.post(ref, key, note, via)
            if r is not None and r.status_code < 300:
                return
            if r is not None and 400 <= r.status_code < 500 and r.status_code not in (408, 425, 429):
                return  # refused: counted by its status
            retry_after = float(r.headers.get("Retry-After") or 0) if r is not None else 0
            time.sleep(min(max(retry_after, wait), 5.0) * self.rnd.uniform(0.5, 1.0))
            wait = min(wait * 2, 5.0)
        with self.ledger.lock:
            self.ledger.given_up.add(key)

    def run(self, deadline, give_up_at, think):
        pool = ThreadPoolExecutor(max_workers=2)
        try:
            while time.monotonic() < deadline:
                write = (self.rnd.choice(self.orders), str(uuid.uuid4()),
                         f"Load note {self.rnd.randrange(10**6)} ស្រូវបានដឹក", "api" if self.rnd.random() < 0.5 else "form")
                if self.rnd.random() < 0.1:  # double tap: the same write twice at once
                    list(pool.map(lambda w: self.deliver(w, give_up_at), [write, write]))
                else:
                    self.deliver(write, give_up_at)
                time.sleep(self.rnd.uniform(0, think))
        finally:
            pool.shutdown(wait=True)


def probe(base, session, ref, limit_s=60.0) -> float | None:
    """Seconds until a fresh write is accepted again, or None."""
    started = time.monotonic()
    key = str(uuid.uuid4())
    while time.monotonic() - started < limit_s:
        try:
            r = session.post(f"{base}/api/v1/orders/{ref}/updates", json={"status": "note", "note": "probe"},
                             headers={"Idempotency-Key": key}, timeout=10)
            if r.status_code == 201:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return None


def run(args) -> dict:
    """One load run with PostgreSQL restarted in the middle."""
    print(f"== PostgreSQL restarted under load: {args.phones} phones, {args.duration} s, "
          f"restarts {args.restarts} ==", flush=True)
    from sqlalchemy import create_engine, text

    with throwaway_postgres() as pg, tempfile.TemporaryDirectory(prefix="secgo-faults-") as tmp:
        tmp = Path(tmp)
        admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE secgo"))
        admin.dispose()
        url = pg.url("secgo")
        common.prepare_demo(url, tmp / "instance")
        engine = create_engine(url)
        datagen.fill(engine, orders=1000, updates_per_order=2, issues=50, users=2 * args.phones + 100,
                     log=lambda m: None)
        with engine.connect() as conn:
            phones = conn.execute(text(
                "SELECT username, organization_id FROM users WHERE username LIKE 'bench-producer-%' ORDER BY id")).all()
            orders = {}
            for ref, org in conn.execute(text("SELECT reference, producer_org_id FROM orders")):
                orders.setdefault(org, []).append(ref)
        engine.dispose()
        phones = [p for p in phones if p[1] in orders][: args.phones]
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0", SECGO_LOG_FORMAT="text",
                                SECGO_REQUEST_LOG="0")
        ledger = Ledger()
        restarts = []
        server = common.Server(env, workers=args.workers, log=tmp / "gunicorn.log")
        with server:
            master = server.proc.pid
            rnd = random.Random(args.seed)
            with ThreadPoolExecutor(max_workers=16) as pool:
                devices = list(pool.map(
                    lambda i: Phone(server.base, phones[i][0], orders[phones[i][1]], ledger,
                                    random.Random(rnd.random()), LANGUAGES[i % len(LANGUAGES)]),
                    range(len(phones))))
            prober = common.login(server.base, phones[0][0])
            started = time.monotonic()
            deadline = started + args.duration
            give_up_at = deadline + args.grace
            threads = [threading.Thread(target=d.run, args=(deadline, give_up_at, args.think)) for d in devices]
            for t in threads:
                t.start()
            modes = args.restarts.split(",")
            for n, mode in enumerate(modes, 1):
                time.sleep(max(0.0, started + args.duration * n / (len(modes) + 1) - time.monotonic()))
                before = sum(ledger.statuses.values())
                away = pg.restart(mode)
                back = probe(server.base, prober, orders[phones[0][1]][0])
                restarts.append({"mode": mode, "at_s": round(time.monotonic() - started - away, 1),
                                 "pg_ctl_s": round(away, 2), "first_write_accepted_after_s":
                                 None if back is None else round(back, 2), "answers_before": before})
                print(f"    restart -m {mode}: {restarts[-1]}", flush=True)
            for t in threads:
                t.join(timeout=args.duration + args.grace + 120)
            elapsed = time.monotonic() - started
            same_master = server.proc.poll() is None and server.proc.pid == master
            log_text = server.log.read_text(errors="replace")
            exceptions = server.exceptions_in_log()
            if os.environ.get("SECGO_FAULTS_KEEP_LOG"):
                shutil.copy(server.log, os.environ["SECGO_FAULTS_KEEP_LOG"])
        booted = log_text.count("Booting worker")
        # A request that failed: the app's "Unhandled error" (a 500), Flask's own when an error
        # handler failed, gunicorn's. (Warnings may carry a traceback: counted, not failures.)
        failed = [line for line in log_text.splitlines()
                  if any(m in line for m in ("Unhandled error", "ERROR in app", "Error handling request"))]
        tracebacks = log_text.count("Traceback")
        check = verify(url, ledger)
    intended = ledger.sent_keys
    outage = ledger.outage_answers
    five = Counter(s for s, *_ in outage)
    bad_outage = [a for a in outage if a[0] != 503 or not a[1] or "json" not in a[2] or a[3] != "unavailable"]
    languages = {}
    for *_, lang, message in outage:
        languages.setdefault(lang, message)
    result = {
        "phones": len(phones), "duration_s": round(elapsed, 1), "workers": args.workers, "restarts": restarts,
        "requests": ledger.requests, "statuses": dict(ledger.statuses), "client_errors": dict(ledger.errors),
        "writes_meant": len(intended), "given_up": len(ledger.given_up), **check,
        "five_xx": dict(five), "five_xx_not_a_clean_503": len(bad_outage), "bad_examples": bad_outage[:5],
        "messages_by_language": languages, "requests_failed_in_server_log": len(failed), "tracebacks_in_warnings": tracebacks,
        "exceptions": exceptions[:10],
        "gunicorn_same_master": same_master, "gunicorn_workers_booted": booted,
    }
    result["ok"] = bool(
        check["accepted"] > 0 and check["missing"] == 0 and check["duplicates"] == 0 and check["wrong_id"] == 0
        and check["replay_mismatch"] == 0 and check["unknown"] == 0 and check["duplicate_idempotency_rows"] == 0
        and not ledger.given_up and len(intended) == check["accepted"] and not bad_outage and not failed
        and same_master and booted == args.workers
        and all(r["first_write_accepted_after_s"] is not None for r in restarts))
    print(f"    {result}", flush=True)
    return result


def report(r) -> str:
    """The result as Markdown."""
    rows = [[x["mode"], x["at_s"], x["pg_ctl_s"], x["first_write_accepted_after_s"]] for x in r["restarts"]]
    lines = [
        f"PostgreSQL restarted under load ({common.machine()})", "",
        f"{r['phones']} phones for {r['duration_s']} s against gunicorn -w {r['workers']} on a throwaway "
        "PostgreSQL 15; restarts while the phones kept sending:", "",
        common.md_table(["pg_ctl restart -m", "at s", "pg_ctl took s", "next write accepted after s"], rows), "",
        common.md_table(
            ["requests", "answers", "network errors", "writes meant", "accepted", "stored", "missing", "twice",
             "replay ≠ first", "given up", "5xx", "5xx not a clean 503", "failed in server log",
             "gunicorn restarted", ""],
            [[r["requests"], r["statuses"], r["client_errors"], r["writes_meant"], r["accepted"], r["stored"],
              r["missing"], r["duplicates"], r["replay_mismatch"], r["given_up"], r["five_xx"],
              r["five_xx_not_a_clean_503"], r["requests_failed_in_server_log"],
              "no" if r["gunicorn_same_master"] and r["gunicorn_workers_booted"] == r["workers"] else "**yes**",
              "ok" if r["ok"] else "**FAIL**"]]), "",
        "The 503 message each language got during the outage:", "",
    ]
    lines += [f"- {lang}: {message}" for lang, message in sorted(r["messages_by_language"].items())]
    return "\n".join(lines)


def main(argv=None):
    """Run the fault test; write bench/results/faults.*; exit 1 on any loss, duplicate or 500."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--short", action="store_true", help="30 s of load")
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--restarts", default="fast,immediate", help="pg_ctl shutdown modes, in order")
    parser.add_argument("--grace", type=float, default=90.0, help="seconds the phones keep retrying after")
    parser.add_argument("--think", type=float, default=0.5, help="max pause between a phone's writes, s")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    if args.short:
        args.duration = 30.0
    if not (PG_BIN / "initdb").exists():
        print(f"no PostgreSQL server binaries in {PG_BIN} (set SECGO_PG_BIN): skipped")
        return 2
    result = run(args)
    text = report(result)
    print(text)
    if not args.no_write:
        common.write_results("faults", {"args": vars(args), "result": result}, text)
    print("NO LOSS" if result["ok"] else "FAULT TEST FAILED")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

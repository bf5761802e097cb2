"""Load without loss: 100 phones posting updates with retries and duplicates; nothing lost, nothing twice.

Each simulated phone logs in as its own producer and, until the time is up, posts notes to
its organization's orders, as the offline outbox does: every write carries a fresh UUID
(as `Idempotency-Key` header or `client_id` form field; through the order page's form
endpoint and the JSON API), and at random it double-taps (sends the same write twice at once),
times out and retries, or replays an old write much later. Afterwards: zero 5xx, every
accepted write is in the database exactly once, every replay got the first answer, and no
client id appears twice.

    .venv/bin/python bench/load.py                  # SQLite and PostgreSQL, 2 minutes each
    .venv/bin/python bench/load.py --short          # 15 s each (a CI-like check)
    .venv/bin/python bench/load.py --db postgresql --instances 2 --push-workers 2
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import datagen  # noqa: E402


class Ledger:
    """What the phones sent and what they were answered (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.errors = Counter()
        self.accepted = {}  # key -> first answer's update id
        self.mismatch = []  # replays that got a different answer
        self.sent_keys = set()
        self.requests = 0

    def record(self, key, response=None, error=None):
        with self.lock:
            self.requests += 1
            self.sent_keys.add(key)
            if error is not None:
                self.errors[type(error).__name__] += 1
                return
            self.statuses[response.status_code] += 1
            if 200 <= response.status_code < 300:
                try:
                    got = response.json().get("id")
                except ValueError:
                    got = None
                first = self.accepted.setdefault(key, got)
                if first != got:
                    self.mismatch.append((key, first, got))


class Phone:
    """One producer's phone, sending to one of the server instances."""

    def __init__(self, bases, username, orders, ledger, rnd, api):
        self.bases, self.username, self.orders = bases, username, orders
        self.ledger, self.rnd, self.api = ledger, rnd, api
        self.base = bases[0]
        self.session = common.login(self.base, username)
        self.old = []  # writes already sent, for a replay much later

    def send(self, write, timeout=30.0):
        """Send one write (ref, key, note, via, base); record the answer."""
        ref, key, note, via, base = write
        try:
            if via == "api":
                r = self.session.post(f"{base}/api/v1/orders/{ref}/updates", json={"status": "note", "note": note},
                                      headers={"Idempotency-Key": key}, timeout=timeout)
            else:
                header = {"Idempotency-Key": key} if self.rnd.random() < 0.5 else {}
                r = self.session.post(f"{base}/orders/{ref}/updates",
                                      data={"status": "note", "note": note, "client_id": key,
                                            "csrf_token": self.session.headers["X-CSRFToken"]},
                                      headers={"Accept": "application/json", **header}, timeout=timeout)
        except requests.RequestException as err:
            self.ledger.record(key, error=err)
            return None
        self.ledger.record(key, r)
        return r

    def run(self, deadline, think):
        """Post until the deadline; bounded by time, never endless."""
        pool = ThreadPoolExecutor(max_workers=2)
        try:
            while time.monotonic() < deadline:
                base = self.rnd.choice(self.bases)
                via = "api" if self.api and self.rnd.random() < 0.5 else "form"
                write = (self.rnd.choice(self.orders), str(uuid.uuid4()),
                         f"Load note {self.rnd.randrange(10**6)} ສົ່ງແລ້ວ", via, base)
                roll = self.rnd.random()
                if roll < 0.15:  # double tap: the same write twice at once
                    list(pool.map(self.send, [write, write]))
                elif roll < 0.30:  # the network drops the answer: retry (maybe on the other instance)
                    self.send(write, timeout=0.01)
                    self.send((*write[:4], self.rnd.choice(self.bases)))
                elif roll < 0.40 and self.old:  # a replay of an old write, long after
                    self.send(self.rnd.choice(self.old))
                else:
                    self.send(write)
                self.old.append(write)
                if think:
                    time.sleep(self.rnd.uniform(0, think))
        finally:
            pool.shutdown(wait=True)


def verify(url, ledger) -> dict:
    """Compare what the phones were told with what the database holds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT client_id, count(*), min(id) FROM status_updates WHERE note LIKE 'Load note %' "
            "GROUP BY client_id")).all()
        dup_keys = conn.execute(text(
            "SELECT count(*) FROM (SELECT user_key, key FROM idempotency_keys GROUP BY user_key, key "
            "HAVING count(*) > 1) d")).scalar()
    engine.dispose()
    stored = {r[0]: (r[1], r[2]) for r in rows}
    missing = [k for k in ledger.accepted if k not in stored]
    twice = [k for k, (n, _id) in stored.items() if n != 1]
    wrong_id = [k for k, got in ledger.accepted.items() if got is not None and k in stored and stored[k][1] != got]
    unknown = [k for k in stored if k not in ledger.sent_keys]
    return {"accepted": len(ledger.accepted), "stored": len(stored), "missing": len(missing),
            "duplicates": len(twice), "wrong_id": len(wrong_id), "unknown": len(unknown),
            "replay_mismatch": len(ledger.mismatch), "duplicate_idempotency_rows": dup_keys,
            "stored_but_answer_lost": len(set(stored) - set(ledger.accepted))}


def start_push_workers(n, env):
    """Start n `flask push-worker` processes when the command exists; return them."""
    flask = str(Path(sys.executable).parent / "flask")
    probe = subprocess.run([flask, "--app", "secgo", "push-worker", "--help"], cwd=common.ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return None
    return [subprocess.Popen([flask, "--app", "secgo", "push-worker"], cwd=common.ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            for _ in range(n)]


def stop(procs):
    """Stop processes this script started (by their own process group)."""
    for p in procs or []:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs or []:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


class FakePushService:
    """A push service on 127.0.0.1 that accepts every push and counts them per endpoint."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        counts, lock = Counter(), threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    counts[self.path] += 1
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.counts = counts
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def subscribe_everyone(url, instance, origin) -> int:
    """A push subscription (to the fake service) for every customer and coordinator."""
    import base64
    import secrets

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    app = common.make_app(url, instance)
    from secgo.extensions import db
    from secgo.models import PushSubscription, User
    from secgo.push.vapid import load_keys

    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    with app.app_context():
        load_keys(app)  # the VAPID key, made once before several processes start
        users = db.session.scalars(db.select(User).where(User.role.in_(("customer", "coordinator")))).all()
        for user in users:
            db.session.add(PushSubscription(user_id=user.id, endpoint=f"{origin}/push/u{user.id}",
                                            p256dh=b64(point), auth=b64(secrets.token_bytes(16)),
                                            user_agent="bench", events=[], failures=0))
        db.session.commit()
        db.engine.dispose()
    return len(users)


def drain_and_check_push(url, fake, limit_s=120.0, cap_s=900.0) -> dict:
    """Wait until the outbox is empty (while it shrinks, up to cap_s; limit_s without progress);
    compare pushes received with deliveries recorded."""
    from sqlalchemy import create_engine, text

    from datetime import datetime, timezone

    from sqlalchemy import func, select

    from secgo.models import Notification
    from secgo.notify.reminders import REMINDERS

    def due(conn):  # pending and due now: a reminder held for the recipient's morning is not
        return conn.execute(select(func.count()).select_from(Notification).where(
            Notification.state == "pending",
            Notification.next_attempt_at <= datetime.now(timezone.utc))).scalar()

    engine = create_engine(url)
    started = time.monotonic()
    deadline, least = started + limit_s, None
    with engine.connect() as conn:
        # A busy run leaves thousands of pushes behind its last write: the workers are given
        # the time they need while they get through them, not a fixed two minutes.
        while time.monotonic() < min(deadline, started + cap_s):
            pending = due(conn)
            conn.rollback()
            if not pending:
                break
            if least is None or pending < least:
                least, deadline = pending, time.monotonic() + limit_s
            time.sleep(1)
        states = dict(conn.execute(text("SELECT state, count(*) FROM notifications GROUP BY state")).all())
        # Reminders (#15) wait for the recipient's morning (quiet hours 21:00-07:00 local): held,
        # not stuck. Anything else still pending, or anything due, is a fault.
        held_events = dict(conn.execute(select(Notification.event, func.count()).where(
            Notification.state == "pending",
            Notification.next_attempt_at > datetime.now(timezone.utc)).group_by(Notification.event)).all())
        states["pending"] = due(conn) + sum(n for e, n in held_events.items() if e not in REMINDERS)
        states["held_reminders"] = sum(n for e, n in held_events.items() if e in REMINDERS)
        recorded = dict(conn.execute(text(
            "SELECT s.endpoint, count(*) FROM push_deliveries d JOIN push_subscriptions s "
            "ON s.id = d.subscription_id WHERE d.state = 'sent' GROUP BY s.endpoint")).all())
    engine.dispose()
    received = {fake.origin + path: n for path, n in fake.counts.items()}
    twice = sum(1 for endpoint, n in received.items() if n > recorded.get(endpoint, 0))
    return {"notifications": states, "pushes_received": sum(received.values()),
            "deliveries_recorded": sum(recorded.values()), "devices_pushed_more_than_recorded": twice,
            "push_ok": (not states.get("pending") and not states.get("failed") and twice == 0
                        and sum(received.values()) == sum(recorded.values()))}


def run_db(kind, args, rules) -> dict:
    """One load run on one database."""
    from sqlalchemy import create_engine, text

    print(f"== {kind}: {args.phones} phones, {args.duration} s, {args.instances} instance(s) x "
          f"{args.workers} workers ==", flush=True)
    api = common.has_route(rules, "/api/v1/orders/<reference>/updates", "POST")
    with tempfile.TemporaryDirectory(prefix="secgo-load-") as tmp, common.database(kind, Path(tmp)) as url:
        tmp = Path(tmp)
        common.prepare_demo(url, tmp / "instance")
        engine = create_engine(url)
        datagen.fill(engine, orders=3000, updates_per_order=3, issues=100, users=2 * args.phones + 100,
                     log=lambda m: None)
        with engine.connect() as conn:
            phones = conn.execute(text(
                "SELECT u.username, u.organization_id FROM users u WHERE u.username LIKE 'bench-producer-%' "
                "ORDER BY u.id")).all()
            orders = {}
            for ref, org in conn.execute(text("SELECT reference, producer_org_id FROM orders")):
                orders.setdefault(org, []).append(ref)
            phones = [p for p in phones if p[1] in orders][: args.phones]
        engine.dispose()
        fake = FakePushService() if args.push_workers else None
        extra = {}
        if fake:
            subscribe_everyone(url, tmp / "instance", fake.origin)
            extra = {"SECGO_PUSH_ALLOWED_HOSTS": fake.origin, "SECGO_PUSH_POLL_SECONDS": "1"}
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0", **extra)
        servers = [common.Server(env, workers=args.workers, threads=args.threads) for _ in range(args.instances)]
        push = None
        ledger = Ledger()
        try:
            for s in servers:
                s.__enter__()
            if args.push_workers:
                push = start_push_workers(args.push_workers, env)
            bases = [s.base for s in servers]
            rnd = random.Random(args.seed)
            with ThreadPoolExecutor(max_workers=32) as pool:
                devices = list(pool.map(
                    lambda i: Phone(bases[i % len(bases):] + bases[: i % len(bases)], phones[i][0],
                                    orders[phones[i][1]], ledger, random.Random(rnd.random()), api),
                    range(len(phones))))
            started = time.monotonic()
            deadline = started + args.duration
            threads = [threading.Thread(target=d.run, args=(deadline, args.think)) for d in devices]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=args.duration + 120)
            elapsed = time.monotonic() - started
            server_errors = [e for s in servers for e in s.errors_in_log()]
            push_check = drain_and_check_push(url, fake) if push else None
        finally:
            stop(push)
            for s in servers:
                s.__exit__(None, None, None)
            if fake:
                fake.close()
        check = verify(url, ledger)
    five = sum(n for code, n in ledger.statuses.items() if code >= 500)
    result = {"database": kind, "phones": len(phones), "duration_s": round(elapsed, 1),
              "instances": args.instances, "workers": args.workers, "threads": args.threads,
              "push_workers": len(push) if push else 0,
              "push_worker_note": None if push or not args.push_workers else "flask push-worker does not exist yet",
              "via_api": api, "requests": ledger.requests, "rps": round(ledger.requests / elapsed, 1),
              "statuses": dict(ledger.statuses), "client_errors": dict(ledger.errors),
              "five_xx": five, "server_errors": len(server_errors), **check, "push": push_check}
    result["ok"] = (five == 0 and not server_errors and check["missing"] == 0 and check["duplicates"] == 0
                    and check["wrong_id"] == 0 and check["replay_mismatch"] == 0 and check["unknown"] == 0
                    and check["duplicate_idempotency_rows"] == 0 and check["accepted"] > 0
                    and (push_check is None or push_check["push_ok"]))
    print(f"    {result}", flush=True)
    return result


def report(results, args) -> str:
    """The results as Markdown."""
    rows = [[r["database"], f"{r['instances']}×{r['workers']}", r["push_workers"], r["phones"], r["duration_s"],
             r["requests"], r["rps"], r["statuses"], r["five_xx"], r["accepted"], r["stored"], r["missing"],
             r["duplicates"], r["replay_mismatch"], "ok" if r["ok"] else "**FAIL**"] for r in results]
    notes = [f"- {r['database']}: {r['push_worker_note']}" for r in results if r["push_worker_note"]]
    notes += [f"- {r['database']} push: {r['push']['pushes_received']} pushes received by the fake push "
              f"service, {r['push']['deliveries_recorded']} deliveries recorded, "
              f"{r['push']['devices_pushed_more_than_recorded']} devices pushed more often than recorded; "
              f"notifications {r['push']['notifications']}" for r in results if r.get("push")]
    return "\n".join([f"Load without loss ({common.machine()}; writes via {'form and API' if results and results[0]['via_api'] else 'form'})", "",
                      common.md_table(["database", "instances×workers", "push workers", "phones", "seconds",
                                       "requests", "req/s", "answers", "5xx", "accepted", "stored",
                                       "missing", "twice", "replay ≠ first", ""], rows)] + notes)


def main(argv=None, name="load"):
    """Run the load test; write bench/results/<name>.*; exit 1 on any loss, duplicate or 5xx."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per database")
    parser.add_argument("--short", action="store_true", help="15 s per database")
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--push-workers", type=int, default=0)
    parser.add_argument("--think", type=float, default=0.5, help="max pause between a phone's writes, s")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    if args.short:
        args.duration = 15.0
    rules = common.routes()
    results = []
    for kind in args.db.split(","):
        if kind == "postgresql" and not common.pg_available():
            print("PostgreSQL is not reachable: skipped", flush=True)
            continue
        results.append(run_db(kind, args, rules))
    text = report(results, args)
    print(text)
    if not args.no_write:
        common.write_results(name, {"args": vars(args), "results": results}, text)
    ok = bool(results) and all(r["ok"] for r in results)
    print("NO LOSS" if ok else "LOAD TEST FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

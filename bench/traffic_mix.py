"""Real traffic: many different people browsing and writing at once, against gunicorn.

200 different people (producers, customers and coordinators of the generated data) each
browse their orders list, one of their order pages and their issues list; one request in
ten is a write instead (a producer's note on an order, a customer's confirmation of an
update or comment on an issue, a coordinator's comment). Measured as requests per second,
as a ratio to the bare Flask hello world served the same way in the same run (target
>= 0.25), with the mix's latency percentiles and the CPU each process kind used per request
(gunicorn's workers, PostgreSQL, Redis, this client: the machine's cores are shared).

Every answer is checked as it arrives: a page is the page of the person who asked for it
(`<body data-user>`), and after each write the writer's next view shows it at once (the
orders list leads with the order just written to; an issue shows the comment): a stale or
someone else's page fails the run, whatever the speed.

    .venv/bin/python bench/traffic_mix.py --db sqlite,postgresql   # exit 1 when a target is missed
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import datagen  # noqa: E402

RATIO_TARGET = 0.25
WRITE_SHARE = 0.1
MIX = {"producer": 0.6, "customer": 0.3, "coordinator": 0.1}  # of the people
USER_RE = re.compile(r'<body data-user="(\d*)"')
FIRST_ORDER_RE = re.compile(r'href="/orders/(SEC-[0-9A-Z]+)"')


def people(url: str, count: int, seed: int = 19) -> list[dict]:
    """`count` different people of the generated data, each with what they may see: orders
    (theirs, or their clusters'), issues on those orders, updates waiting for them."""
    from sqlalchemy import create_engine, text

    rnd = random.Random(seed)
    engine = create_engine(url)
    chosen = []
    with engine.connect() as conn:
        for role, share in MIX.items():
            want = max(1, round(count * share))
            rows = conn.execute(text(
                "SELECT id, username, organization_id FROM users "
                f"WHERE username LIKE 'bench-{role}-%' AND active ORDER BY id")).all()
            for row in rnd.sample(rows, min(want, len(rows))):
                if role == "coordinator":
                    seen = ("o.producer_org_id IN (SELECT g.id FROM organizations g JOIN cluster_coordinators cc "
                            "ON cc.cluster_id = g.cluster_id WHERE cc.user_id = :me)")
                else:
                    column = "producer_org_id" if role == "producer" else "customer_org_id"
                    seen = f"o.{column} = :org"
                params = {"me": row.id, "org": row.organization_id}
                orders = conn.execute(text(f"SELECT o.id, o.reference FROM orders o WHERE {seen} "
                                           "ORDER BY o.last_activity_at DESC LIMIT 5"), params).all()
                if not orders:
                    continue
                ids = [o.id for o in orders]
                marks = ",".join(str(i) for i in ids)
                issues = conn.execute(text(
                    f"SELECT id FROM issues WHERE order_id IN ({marks}) AND state <> 'closed' "
                    "ORDER BY id LIMIT 5")).scalars().all()
                waiting = conn.execute(text(
                    "SELECT u.id, o.reference FROM status_updates u JOIN orders o ON o.id = u.order_id "
                    f"WHERE u.order_id IN ({marks}) AND u.confirmed_at IS NULL AND u.status <> 'note' "
                    "ORDER BY u.id LIMIT 5")).all() if role == "customer" else []
                chosen.append({"id": row.id, "username": row.username, "role": role, "org": row.organization_id,
                               "orders": [o.reference for o in orders], "issues": list(issues),
                               "waiting": [tuple(w) for w in waiting]})
    engine.dispose()
    return chosen


class Person:
    """One signed-in person and what they do next."""

    def __init__(self, base: str, who: dict, rnd: random.Random, engine):
        self.base, self.who, self.rnd, self.engine = base, who, rnd, engine
        self.session = common.login(base, who["username"])
        self.session.headers["Accept-Encoding"] = "br, gzip"
        self.lock = threading.Lock()  # one request at a time per person, as on one phone
        self.step = 0

    def leads_rightly(self, first: str, written: str, client_id: str) -> bool:
        """A list shown after a note leads with the order written to, or with one whose latest
        activity is no older than that note (someone wrote to it since); a stale page leads
        with an order last active before the note."""
        from sqlalchemy import text

        if first == written:
            return True
        with self.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT (SELECT last_activity_at FROM orders WHERE reference = :first "
                "AND producer_org_id = :org) >= (SELECT recorded_at FROM status_updates "
                "WHERE client_id = :cid)"), {"first": first, "org": self.who["org"], "cid": client_id}).scalar())

    def page(self, kind: str, path: str) -> tuple[str, requests.Response, float]:
        """(kind, answer, milliseconds) of a GET, checked to be this person's page."""
        started = time.perf_counter()
        r = self.session.get(self.base + path, timeout=60)
        ms = (time.perf_counter() - started) * 1000
        if r.status_code == 200 and r.headers.get("Content-Type", "").startswith("text/html"):
            m = USER_RE.search(r.text)
            if not m or m[1] != str(self.who["id"]):
                raise Stale(f"{path} for user {self.who['id']} showed user {m and m[1]}")
        return kind, r, ms

    def browse(self) -> list:
        """The next of: orders list, an order page, issues list."""
        self.step += 1
        kind = ("list", "order", "issues")[self.step % 3]
        if kind == "list":
            return [self.page("GET /orders", "/orders")]
        if kind == "order":
            return [self.page("GET /orders/<ref>", f"/orders/{self.rnd.choice(self.who['orders'])}")]
        return [self.page("GET /issues", "/issues")]

    def post(self, kind, path, data, client_id=None) -> tuple[str, requests.Response, float]:
        data = {**data, "client_id": client_id or str(uuid.uuid4()),
                "csrf_token": self.session.headers.get("X-CSRFToken")}
        started = time.perf_counter()
        r = self.session.post(self.base + path, data=data, timeout=60, headers={"Accept": "application/json"})
        return kind, r, (time.perf_counter() - started) * 1000

    def write(self) -> list:
        """A write this person may make, then the view that must show it at once (each
        request counted on its own: the view is a page served like any other)."""
        who, text = self.who, f"mix {uuid.uuid4().hex[:10]}"
        if who["role"] == "customer" and who["waiting"]:
            update_id, ref = who["waiting"].pop()
            return [self.post("POST confirm", f"/orders/{ref}/updates/{update_id}/confirm", {"comment": text})]
        if who["role"] == "producer" or not who["issues"]:
            if who["role"] != "producer":
                return self.browse()
            ref = self.rnd.choice(who["orders"])
            client_id = str(uuid.uuid4())
            posted = self.post("POST note", f"/orders/{ref}/updates", {"status": "note", "note": text}, client_id)
            if posted[1].status_code >= 300:
                return [posted]
            shown = self.page("GET /orders (after a note)", "/orders")
            first = FIRST_ORDER_RE.search(shown[1].text)
            if not first or not self.leads_rightly(first[1], ref, client_id):
                raise Stale(f"/orders of {who['username']} does not lead with the order just written to")
            return [posted, shown]
        issue = self.rnd.choice(who["issues"])
        posted = self.post("POST comment", f"/issues/{issue}/comments", {"body": text})
        if posted[1].status_code >= 300:
            return [posted]
        shown = self.page("GET /issues/<id> (after a comment)", f"/issues/{issue}")
        if text not in shown[1].text:
            raise Stale(f"issue {issue} does not show the comment just written")
        return [posted, shown]


class Stale(Exception):
    """A page that was not the current one of the person who asked."""


def kept_share(log: Path, offset: int) -> dict:
    """Of the requests the server's request log shows after `offset`, per route: how many
    pages the page cache answered (before Flask ran) and how many were rendered, and the
    worker's CPU milliseconds each took on average (the log's cpu_ms)."""
    tally: dict[str, dict] = {}
    with open(log, "rb") as f:
        f.seek(offset)
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") != "request":
                continue
            route = entry.get("route", "?")
            if entry.get("method") != "GET":
                route = f"{entry.get('method')} {route}"
            counts = tally.setdefault(route, {"kept": 0, "rendered": 0, "kept_cpu_ms": 0.0, "rendered_cpu_ms": 0.0})
            how = "kept" if entry.get("page_cache") else "rendered"
            counts[how] += 1
            counts[f"{how}_cpu_ms"] += entry.get("cpu_ms") or 0.0
    for counts in tally.values():
        for how in ("kept", "rendered"):
            counts[f"{how}_cpu_ms"] = round(counts[f"{how}_cpu_ms"] / max(1, counts[how]), 2)
    return {route: c for route, c in sorted(tally.items())
            if route.startswith(("/orders", "/issues", "POST"))}


def cpu_seconds(server_pid: int | None) -> dict:
    """CPU seconds used so far (user and system) by gunicorn's workers (the children of
    server_pid), every PostgreSQL process, Redis and this client process: where a run's CPU
    goes, per request (run_mix)."""
    import resource

    tick = os.sysconf("SC_CLK_TCK")

    def of(pids) -> float:
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def pids(*args) -> list[str]:
        return subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout.split()

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"gunicorn": of(pids("-P", str(server_pid))) if server_pid else 0.0,
            "postgresql": of(pids("-x", "postgres")), "redis": of(pids("-x", "redis-server")),
            "client": usage.ru_utime + usage.ru_stime}


def run_mix(base: str, url: str, crowd: list[dict], seconds: int, concurrency: int, seed: int = 7,
            log: Path | None = None, warmup: int = 0, server_pid: int | None = None) -> dict:
    """Threads pick people at random and make their next request until time is up; what
    they do in the first `warmup` seconds is not counted (the steady state is measured), nor
    the CPU the processes used meanwhile (server_pid: gunicorn's master)."""
    from sqlalchemy import create_engine

    rnd = random.Random(seed)
    engine = create_engine(url)
    print(f"  signing in {len(crowd)} people ...", flush=True)
    persons = [Person(base, who, random.Random(rnd.random()), engine) for who in crowd]
    for p in persons:  # the first view of each (the page cache starts cold, as after a deploy)
        p.browse()
    times: dict[str, list[float]] = {}
    statuses: dict[str, dict] = {}
    stale, errors = [], []
    guard = threading.Lock()
    log_offset = [log.stat().st_size if log else 0]
    measured_from = time.monotonic() + warmup
    stop = measured_from + seconds

    def worker(seed):
        r = random.Random(seed)
        while time.monotonic() < stop:
            person = r.choice(persons)
            if not person.lock.acquire(blocking=False):
                continue
            counted = time.monotonic() >= measured_from
            try:
                # A write is mostly followed by its check view: writes stay WRITE_SHARE of requests.
                done = person.write() if r.random() < WRITE_SHARE / (1 - WRITE_SHARE) else person.browse()
                if not counted:
                    continue
                with guard:
                    for kind, response, ms in done:
                        times.setdefault(kind, []).append(ms)
                        statuses.setdefault(kind, {}).setdefault(response.status_code, 0)
                        statuses[kind][response.status_code] += 1
            except Stale as err:  # counted in the warm-up too
                with guard:
                    stale.append(str(err))
            except requests.RequestException as err:
                with guard:
                    errors.append(repr(err))
            finally:
                person.lock.release()

    threads = [threading.Thread(target=worker, args=(rnd.random(),)) for _ in range(concurrency)]
    for t in threads:
        t.start()
    if warmup:
        time.sleep(max(0.0, measured_from - time.monotonic()))
        log_offset[0] = log.stat().st_size if log else 0
        print(f"  warmed up for {warmup} s; measuring {seconds} s ...", flush=True)
    cpu_before = cpu_seconds(server_pid)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - measured_from
    cpu_used = {k: v - cpu_before[k] for k, v in cpu_seconds(server_pid).items()}
    engine.dispose()
    every = [ms for values in times.values() for ms in values]
    by_kind = {k: {"count": len(v), "p50_ms": round(common.percentile(v, 50), 1),
                   "p95_ms": round(common.percentile(v, 95), 1), "statuses": statuses[k]}
               for k, v in sorted(times.items())}
    bad = sum(n for s in statuses.values() for code, n in s.items() if code >= 400)
    writes = sum(len(v) for k, v in times.items() if k.startswith("POST"))
    return {"requests": len(every), "write_share": round(writes / max(1, len(every)), 3),
            "rps": len(every) / elapsed, "p50_ms": round(common.percentile(every, 50), 1),
            "p95_ms": round(common.percentile(every, 95), 1), "by_kind": by_kind, "refused_or_failed": bad,
            "stale": stale[:20], "stale_count": len(stale), "errors": errors[:20], "error_count": len(errors),
            "cpu": {k: {"cores": round(v / elapsed, 2), "ms_per_request": round(v / max(1, len(every)) * 1000, 2)}
                    for k, v in cpu_used.items()},
            "page_cache": kept_share(log, log_offset[0]) if log else {}}


def hello_rps(base: str, seconds: int, concurrency: int) -> float:
    """The bare hello world, asked the same way (Python threads, one session each)."""
    count, stop = [0], time.monotonic() + seconds
    guard = threading.Lock()

    def worker():
        s = requests.Session()
        while time.monotonic() < stop:
            s.get(base + "/", timeout=30)
            with guard:
                count[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / (time.monotonic() - started)


def run_db(kind: str, args) -> dict:
    from sqlalchemy import create_engine

    print(f"== {kind} ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="secgo-mix-") as tmp, common.database(kind, Path(tmp)) as url:
        tmp = Path(tmp)
        common.prepare_demo(url, tmp / "instance")
        engine = create_engine(url)
        s = args.scale
        counts = datagen.fill(engine, orders=int(100_000 * s), updates_per_order=10, issues=int(20_000 * s),
                              users=int(2_000 * s), log=lambda m: print(m, flush=True))
        engine.dispose()
        crowd = people(url, args.users)
        out = {"database": kind, "data": counts, "people": {r: sum(p["role"] == r for p in crowd) for r in MIX}}
        # Kept pages shared by both workers through Redis, as in production (README).
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0",
                                SECGO_PAGE_CACHE_STORE_URI=args.page_store,
                                SECGO_PAGE_CACHE_KEY_PREFIX=f"bench-mix-{uuid.uuid4().hex[:12]}")
        with common.Server(env, workers=args.workers) as server:
            out["mix"] = run_mix(server.base, url, crowd, args.seconds, args.concurrency, log=server.log,
                                 warmup=args.warmup, server_pid=server.proc.pid)
            out["server_errors"] = server.errors_in_log()
        with common.Server(common.server_env(url, tmp / "instance"), workers=args.workers,
                           app="bench.hello:app") as hello:
            out["hello_rps"] = hello_rps(hello.base, args.seconds, args.concurrency)
        out["ratio"] = round(out["mix"]["rps"] / out["hello_rps"], 3)
        m = out["mix"]
        print("  CPU per request: " + ", ".join(f"{k} {v['ms_per_request']} ms" for k, v in m["cpu"].items()),
              flush=True)
        print(f"  mix {m['rps']:.0f} req/s (p50 {m['p50_ms']} ms, p95 {m['p95_ms']} ms), hello "
              f"{out['hello_rps']:.0f} req/s, ratio {out['ratio']}; stale {m['stale_count']}, "
              f"errors {m['error_count']}, refused {m['refused_or_failed']}", flush=True)
    return out


def report(results: list[dict], args) -> str:
    lines = [f"Traffic mix ({common.machine()}; gunicorn -w {args.workers} sync; scale {args.scale}; "
             f"{args.users} people, {args.concurrency} at a time, {args.seconds} s measured after "
             f"{args.warmup} s of warm-up, kept pages in {args.page_store.split(':')[0]}, "
             f"{int(WRITE_SHARE * 100)}% writes)", ""]
    for r in results:
        d, m = r["data"], r["mix"]
        ok = r["ratio"] >= RATIO_TARGET and not m["stale_count"] and not m["error_count"] and not r["server_errors"]
        lines += [f"### {r['database']}: {d['orders']:,} orders, {d['status_updates']:,} status updates; "
                  f"people: {r['people']}", ""]
        rows = [[k, v["count"], v["p50_ms"], v["p95_ms"], v["statuses"]] for k, v in m["by_kind"].items()]
        lines.append(common.md_table(["request", "count", "p50 ms", "p95 ms", "answers"], rows))
        lines += ["", f"Mix: {m['rps']:.0f} req/s ({m.get('write_share', 0):.1%} writes), p50 {m['p50_ms']} ms, p95 {m['p95_ms']} ms (round trip); "
                  f"hello world {r['hello_rps']:.0f} req/s; ratio **{r['ratio']}** (target ≥ {RATIO_TARGET}); "
                  f"stale or someone else's pages: {m['stale_count']}; client errors: {m['error_count']}; "
                  f"server errors: {len(r['server_errors'])} — {'ok' if ok else '**MISSED**'}", ""]
        kept = m.get("page_cache") or {}
        if kept:
            lines += ["Pages answered by the page cache: " + "; ".join(
                f"`{route}` {c['kept']} of {c['kept'] + c['rendered']}" for route, c in kept.items()
                if not route.startswith("POST")), ""]
            lines += ["The worker's CPU per request (ms, mean; kept / rendered or written): " + "; ".join(
                f"`{route}` {c['kept_cpu_ms']} / {c['rendered_cpu_ms']}" if c["kept"] else
                f"`{route}` {c['rendered_cpu_ms']}" for route, c in kept.items()), ""]
        cpu = m.get("cpu") or {}
        if cpu:
            lines += ["CPU while measured (of the machine's cores; per request of the mix): " + "; ".join(
                f"{who} {c['cores']} cores, {c['ms_per_request']} ms" for who, c in cpu.items()), ""]
        lines += [f"- stale: {s}" for s in m["stale"]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data size")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=0,
                        help="seconds of the mix before measuring (0: from a cold page cache)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-store", default="redis://127.0.0.1:6379/0",
                        help="where the workers share kept pages (memory:// for each its own)")
    args = parser.parse_args(argv)
    results = []
    for kind in args.db.split(","):
        if kind == "postgresql" and not common.pg_available():
            print("PostgreSQL is not reachable: skipped", flush=True)
            continue
        results.append(run_db(kind, args))
    text = report(results, args)
    print(text)
    common.write_results("traffic_mix", {"args": vars(args), "results": results}, text)
    ok = all(r["ratio"] >= RATIO_TARGET and not r["mix"]["stale_count"] and not r["mix"]["error_count"]
             and not r["server_errors"] for r in results)
    print("TRAFFIC MIX OK" if ok else "TRAFFIC MIX: TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

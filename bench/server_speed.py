"""Server speed with years of data: p50/p95 server time of pages and API, and throughput.

Fills a fresh database (SQLite file and/or PostgreSQL) with 100,000 orders, 1,000,000 status
updates, 20,000 issues and 2,000 users, serves it with gunicorn on 127.0.0.1, then measures
each page and API call sequentially (server time from the Server-Timing header; the round
trip is shown too). Budgets: p95 <= 50 ms for pages, <= 30 ms for API calls. Then the
throughput of /orders as a ratio to a bare Flask "hello world" served the same way
(target >= 0.3), with ApacheBench (`ab`, Debian's apache2-utils: `bash scripts/system-deps.sh
bench`) when installed. Latencies are measured with the page cache off (every view rendered
from the database); throughput with it on, and off.

    .venv/bin/python bench/server_speed.py                      # both databases, full size
    .venv/bin/python bench/server_speed.py --db sqlite --scale 0.1 --requests 30
    .venv/bin/python bench/server_speed.py --db postgresql --scale 10   # 1,000,000 orders

Results go to bench/results/server_speed.* (full size) or server_speed_x<scale>.* (others).
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import datagen  # noqa: E402

PAGE_BUDGET_MS = 50
API_BUDGET_MS = 30
RATIO_TARGET = 0.3
TIMING_RE = re.compile(r"app;dur=([\d.]+)")


def pick_users(url):
    """Usernames to log in as, and an order each may see (from the filled database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        producer = conn.execute(text(
            "SELECT u.username, u.organization_id FROM users u WHERE u.username LIKE 'bench-producer-%' "
            "ORDER BY u.id LIMIT 1")).one()
        customer = conn.execute(text(
            "SELECT u.username, u.organization_id FROM users u WHERE u.username LIKE 'bench-customer-%' "
            "ORDER BY u.id LIMIT 1")).one()
        coordinator = conn.execute(text(
            "SELECT username FROM users WHERE username LIKE 'bench-coordinator-%' ORDER BY id LIMIT 1")).scalar()
        order = conn.execute(text(
            "SELECT reference FROM orders WHERE producer_org_id = :o AND status <> 'delivered' "
            "ORDER BY last_activity_at DESC LIMIT 1"), {"o": producer.organization_id}).scalar()
        visible = conn.execute(text("SELECT count(*) FROM orders WHERE producer_org_id = :o"),
                               {"o": producer.organization_id}).scalar()
    engine.dispose()
    return {"producer": producer.username, "customer": customer.username,
            "coordinator": coordinator, "admin": "demo-admin", "order": order,
            "producer_orders": visible}


def timed(session, method, url, **kw):
    """(server ms, round-trip ms, status) of one request."""
    started = time.perf_counter()
    r = session.request(method, url, timeout=60, allow_redirects=False, **kw)
    rtt = (time.perf_counter() - started) * 1000
    m = TIMING_RE.search(r.headers.get("Server-Timing", ""))
    return (float(m[1]) if m else rtt), rtt, r.status_code


# Requests before the timed ones: three for each of gunicorn's two workers (the first requests
# a process serves compile its templates and queries; they land on either worker).
WARM_UP = 6


def measure(name, kind, fn, n):
    """Run fn n times after a warm-up; percentiles of server and round-trip time."""
    for _ in range(WARM_UP):
        fn()
    server, rtt, statuses = [], [], {}
    for _ in range(n):
        s, t, status = fn()
        server.append(s)
        rtt.append(t)
        statuses[status] = statuses.get(status, 0) + 1
    budget = PAGE_BUDGET_MS if kind == "page" else API_BUDGET_MS
    p95 = common.percentile(server, 95)
    ok_status = all(200 <= code < 300 for code in statuses)
    return {"name": name, "kind": kind, "n": n, "p50_ms": round(common.percentile(server, 50), 1),
            "p95_ms": round(p95, 1), "rtt_p50_ms": round(common.percentile(rtt, 50), 1),
            "rtt_p95_ms": round(common.percentile(rtt, 95), 1), "statuses": statuses,
            "budget_ms": budget, "ok": p95 <= budget and ok_status}


def latency_suite(base, who, rules, n):
    """Every measurement that the app's current routes allow; and what was skipped."""
    sessions = {role: common.login(base, who[role]) for role in ("producer", "coordinator", "admin")}
    p, c, a = sessions["producer"], sessions["coordinator"], sessions["admin"]
    ref = who["order"]
    results, skipped = [], []

    def get(s, path, **kw):
        return lambda: timed(s, "GET", base + path, **kw)

    plan = [
        ("/orders (producer)", "page", "/orders", get(p, "/orders")),
        ("/orders (coordinator)", "page", "/orders", get(c, "/orders")),
        ("/orders (admin, all orders)", "page", "/orders", get(a, "/orders")),
        ("order page", "page", "/orders/<reference>", get(p, f"/orders/{ref}")),
        ("search ?q=mango (producer)", "page", "/orders", get(p, "/orders?q=mango")),
        ("search ?q=mango (admin)", "page", "/orders", get(a, "/orders?q=mango")),
        ("search by reference (admin)", "page", "/orders", get(a, f"/orders?q={ref[4:]}")),
        ("coordinator dashboard", "page", "/coordinator", get(c, "/coordinator")),
        ("/issues (coordinator)", "page", "/issues", get(c, "/issues")),
        ("API GET /me", "api", "/api/v1/me", get(p, "/api/v1/me")),
        ("API GET /orders", "api", "/api/v1/orders", get(p, "/api/v1/orders")),
        ("API GET /orders?q=", "api", "/api/v1/orders", get(p, "/api/v1/orders?q=mango")),
        ("API GET /orders/<ref>", "api", "/api/v1/orders/<reference>", get(p, f"/api/v1/orders/{ref}")),
        ("API GET /issues", "api", "/api/v1/issues", get(c, "/api/v1/issues")),
    ]

    def page_write():
        token = p.headers.get("X-CSRFToken")
        return timed(p, "POST", f"{base}/orders/{ref}/updates", headers={"Accept": "application/json"},
                     data={"status": "note", "note": "Bench note", "client_id": str(uuid.uuid4()),
                           "csrf_token": token})

    def api_write():
        return timed(p, "POST", f"{base}/api/v1/orders/{ref}/updates",
                     headers={"Idempotency-Key": str(uuid.uuid4())}, json={"status": "note", "note": "Bench note"})

    plan += [("write: note via order page form (JSON)", "page", "/orders/<reference>/updates", page_write),
             ("API POST /orders/<ref>/updates", "api", "/api/v1/orders/<reference>/updates", api_write)]
    for name, kind, rule, fn in plan:
        method = "POST" if name.startswith(("write", "API POST")) else "GET"
        if not common.has_route(rules, rule, method):
            skipped.append(f"{name}: route {method} {rule} does not exist yet")
            continue
        results.append(measure(name, kind, fn, n))
        print(f"    {name:42s} p50 {results[-1]['p50_ms']:6.1f}  p95 {results[-1]['p95_ms']:6.1f} ms"
              f"  {results[-1]['statuses']}", flush=True)
    return results, skipped, sessions


def throughput(base, path, cookies, seconds, concurrency):
    """Requests per second for a GET, with ab when installed, else Python threads."""
    ab = shutil.which("ab")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if ab:
        cmd = [ab, "-q", "-t", str(seconds), "-n", "1000000", "-c", str(concurrency), "-H", "Accept-Encoding: br, gzip"]
        if cookie:
            cmd += ["-C", cookie]
        out = subprocess.run(cmd + [base + path], capture_output=True, text=True, timeout=seconds + 60).stdout
        rps = float(re.search(r"Requests per second:\s+([\d.]+)", out)[1])
        non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
        failed = int(re.search(r"Failed requests:\s+(\d+)", out)[1])
        return {"tool": "ab", "rps": rps, "non_2xx": int(non2xx[1]) if non2xx else 0, "failed": failed}
    import requests

    count, errors, stop = [0], [0], time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        s = requests.Session()
        s.cookies.update(cookies)
        while time.monotonic() < stop:
            r = s.get(base + path, timeout=30)
            with lock:
                count[0] += 1
                errors[0] += r.status_code >= 300
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"tool": "python", "rps": count[0] / (time.monotonic() - started), "non_2xx": errors[0], "failed": 0}


REFRESH = """
import time
from secgo import create_app
from secgo.coordinator.promptness import refresh
from secgo.extensions import db
from secgo.models import RollupState
app = create_app()
with app.app_context():
    db.session.execute(db.delete(RollupState))  # the data was written around the app: all of it
    db.session.commit()
    started = time.perf_counter()
    refresh()
    print(round(time.perf_counter() - started, 1))
"""


def refresh_figures(url, instance) -> float:
    """What the push worker does: the dashboard's monthly figures, here all of them at once
    (the first refresh); returns its seconds."""
    done = subprocess.run([sys.executable, "-c", REFRESH], env=common.server_env(url, instance),
                          check=True, capture_output=True, text=True, cwd=common.ROOT)
    seconds = float(done.stdout.strip().splitlines()[-1])
    print(f"  promptness figures, first refresh: {seconds:.1f}s", flush=True)
    return seconds


def run_db(kind, args, rules):
    """Fill one database, serve it, measure; return the results."""
    print(f"== {kind} ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="secgo-speed-") as tmp:
        if args.database_url:  # a database an earlier fill left (a million orders take minutes)
            return _measure(kind, args, rules, args.database_url, Path(tmp), fill=False)
        with common.database(kind, Path(tmp)) as url:
            return _measure(kind, args, rules, url, Path(tmp), fill=True)


def _measure(kind, args, rules, url, tmp, fill):
    from sqlalchemy import create_engine

    engine = create_engine(url)
    if fill:
        common.prepare_demo(url, tmp / "instance")
        s = args.scale
        counts = datagen.fill(engine, orders=int(100_000 * s), updates_per_order=10,
                              issues=int(20_000 * s), users=int(2_000 * s), log=lambda m: print(m, flush=True))
        engine.dispose()
        out_refresh = refresh_figures(url, tmp / "instance")
    else:
        counts = {**datagen.sizes(engine), "seconds": None}
        engine.dispose()
        out_refresh = None  # refreshed when it was filled
    who = pick_users(url)
    # Latency with the page cache off: every view is rendered from the database, as the
    # first view after a change is. Throughput with it on (the default), and off.
    env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0", SECGO_PAGE_CACHE="0")
    out = {"database": kind, "data": counts, "who": who, "promptness_refresh_s": out_refresh}
    with common.Server(env, workers=args.workers) as server:
        results, skipped, sessions = latency_suite(server.base, who, rules, args.requests)
        out["latency"], out["skipped"] = results, skipped
        cookies = sessions["producer"].cookies.get_dict()
        out["throughput_orders_uncached"] = throughput(
            server.base, "/orders", cookies, args.seconds, args.concurrency)
        out["server_errors"] = server.errors_in_log()
    cached_env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0")
    with common.Server(cached_env, workers=args.workers) as server:
        producer = common.login(server.base, who["producer"])
        producer.get(server.base + "/orders")
        out["throughput_orders"] = throughput(
            server.base, "/orders", producer.cookies.get_dict(), args.seconds, args.concurrency)
        out["server_errors"] += server.errors_in_log()
    hello_env = common.server_env(url, tmp / "instance")
    with common.Server(hello_env, workers=args.workers, app="bench.hello:app") as hello:
        out["throughput_hello"] = throughput(hello.base, "/", {}, args.seconds, args.concurrency)
    out["ratio"] = round(out["throughput_orders"]["rps"] / out["throughput_hello"]["rps"], 3)
    print(f"    throughput /orders {out['throughput_orders']['rps']:.0f} req/s, hello "
          f"{out['throughput_hello']['rps']:.0f} req/s, ratio {out['ratio']}", flush=True)
    return out


def report(all_results, args) -> str:
    """The results as Markdown."""
    lines = [f"Server speed ({common.machine()}; gunicorn -w {args.workers} sync; scale {args.scale}; "
             f"{args.requests} requests per row)", ""]
    for r in all_results:
        d = r["data"]
        lines += [f"### {r['database']}: {d['orders']:,} orders, {d['status_updates']:,} status updates, "
                  f"{d['issues']:,} issues, {d['users']:,} users ({d.get('size_mb', 0):,.0f} MB on disk"
                  + (f"; filled in {d['seconds']} s" if d.get("seconds") else "")
                  + (f"; first refresh of the promptness figures {r['promptness_refresh_s']} s"
                     if r.get("promptness_refresh_s") else "") + ")", ""]
        rows = [[x["name"], x["kind"], x["p50_ms"], x["p95_ms"], x["rtt_p95_ms"], f"≤ {x['budget_ms']}",
                 "ok" if x["ok"] else "**OVER**" if all(200 <= c < 300 for c in x["statuses"]) else f"**{x['statuses']}**"]
                for x in r["latency"]]
        lines.append(common.md_table(["request", "kind", "server p50 ms", "server p95 ms",
                                      "round trip p95 ms", "budget", ""], rows))
        t, h = r["throughput_orders"], r["throughput_hello"]
        u = r.get("throughput_orders_uncached", {"rps": 0})
        lines += ["", f"Throughput ({t['tool']}, {args.concurrency} concurrent, {args.seconds} s): /orders "
                  f"{t['rps']:.0f} req/s, hello world {h['rps']:.0f} req/s, ratio **{r['ratio']}** "
                  f"(target ≥ {RATIO_TARGET}) — {'ok' if r['ratio'] >= RATIO_TARGET else 'BELOW TARGET'}; "
                  f"with the page cache off: {u['rps']:.0f} req/s (ratio {u['rps'] / h['rps']:.3f})"]
        lines += [f"- skipped: {s}" for s in r["skipped"]]
        if r["server_errors"]:
            lines.append(f"- server logged {len(r['server_errors'])} errors")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    """Run the benchmark; write bench/results/server_speed.*; exit 1 when a budget is broken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data size")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per row")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="throughput run length")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", help="measure this already filled database (with its "
                        "promptness figures refreshed) instead of filling a new one; one --db")
    args = parser.parse_args(argv)
    rules = common.routes()
    all_results = []
    for kind in args.db.split(","):
        if kind == "postgresql" and not common.pg_available():
            print("PostgreSQL is not reachable: skipped", flush=True)
            continue
        all_results.append(run_db(kind, args, rules))
    text = report(all_results, args)
    print(text)
    # The full-size run keeps its own file; a ten-times run (--scale 10) and quick looks theirs.
    name = "server_speed" if args.scale == 1 else f"server_speed_x{args.scale:g}"
    common.write_results(name, {"args": vars(args), "results": all_results}, text)
    ok = all(x["ok"] for r in all_results for x in r["latency"]) and all(
        r["ratio"] >= RATIO_TARGET for r in all_results)
    print("SERVER SPEED OK" if ok else "SERVER SPEED: BUDGET BROKEN")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Lighthouse (mobile) on /login, /orders and an order page, in every language: scores >= 95.

Serves the demo data with gunicorn on 127.0.0.1 and runs the `lighthouse` npm package
(installed under bench/node_modules by bench/lighthouse.sh) with Debian's Chromium, mobile
form factor with simulated throttling (Lighthouse's default), for performance,
accessibility and best practices. A logged-in page gets the session cookie as a header.

    bash bench/lighthouse.sh [--languages en,th] [--pages /login]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import budgets  # noqa: E402
import common  # noqa: E402

CATEGORIES = ("performance", "accessibility", "best-practices")
TARGET = 95
LIGHTHOUSE = common.ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
                "--disable-background-networking --disable-component-update --disable-sync --no-first-run")


def lighthouse(url, cookie, out: Path) -> dict:
    """Scores (0-100) of one page, and the audits that lost points."""
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
           "--max-wait-for-load=45000"]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode != 0 or not out.exists():
        return {"error": (proc.stderr or proc.stdout)[-1500:]}
    report = json.loads(out.read_text())
    scores = {c: round((report["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}
    lost = []
    for c in CATEGORIES:
        for ref in report["categories"][c]["auditRefs"]:
            audit = report["audits"].get(ref["id"], {})
            if ref.get("weight") and audit.get("score") is not None and audit["score"] < 1:
                lost.append(f"{c}: {ref['id']} ({audit['score']:.2f})")
    metrics = report["audits"]
    return {"scores": scores, "lost": lost,
            "fcp_ms": round(metrics.get("first-contentful-paint", {}).get("numericValue", 0)),
            "lcp_ms": round(metrics.get("largest-contentful-paint", {}).get("numericValue", 0)),
            "tbt_ms": round(metrics.get("total-blocking-time", {}).get("numericValue", 0))}


def measured(url, cookie, out: Path, runs: int) -> dict:
    """One run; when it errs or misses the target, more runs and the median of each score.

    Lighthouse's own guidance for variance: on a shared 2-core machine a single run's total
    blocking time swings with whatever else runs, so a page below target is measured again.
    """
    results = []
    for attempt in range(runs + 2):
        result = lighthouse(url, cookie, out.with_suffix(f".{attempt}.json"))
        if "scores" in result:
            results.append(result)
            if len(results) == 1 and all(v >= TARGET for v in result["scores"].values()):
                return {**result, "runs": 1}
            if len(results) >= runs:
                break
    if not results:
        return result
    med = {c: sorted(r["scores"][c] for r in results)[len(results) // 2] for c in CATEGORIES}
    best = min(results, key=lambda r: abs(r["scores"]["performance"] - med["performance"]))
    return {**best, "scores": med, "runs": len(results),
            "all_scores": [r["scores"] for r in results]}


def main(argv=None):
    """Run Lighthouse on every page and language; write bench/results/lighthouse.*; exit 1 below target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=",".join(budgets.LANGUAGES))
    parser.add_argument("--pages", default=f"/login,/orders,/orders/{common.DEMO_ORDER}")
    parser.add_argument("--user", default="demo-producer")
    parser.add_argument("--runs", type=int, default=3, help="runs (median) for a page below target")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        print("lighthouse is not installed: npm install --prefix bench lighthouse  (bench/lighthouse.sh does it)")
        return 2
    if not shutil.which(os.environ.get("CHROME_PATH", "/usr/bin/chromium")):
        print("Chromium not found (set CHROME_PATH)")
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="secgo-lighthouse-") as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{tmp / 'bench.db'}"
        common.prepare_demo(url, tmp / "instance")
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0")
        with common.Server(env, workers=2) as server:
            for lang in args.languages.split(","):
                anon = requests.Session()
                budgets.set_language(anon, server.base, lang)
                user = common.login(server.base, args.user)
                budgets.set_language(user, server.base, lang)
                for page in args.pages.split(","):
                    session = anon if page == "/login" else user
                    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())
                    result = measured(server.base + page, cookie, tmp / f"{lang}-{len(rows)}", args.runs)
                    row = {"page": page, "lang": lang, **result}
                    row["ok"] = "scores" in result and all(v >= TARGET for v in result["scores"].values())
                    rows.append(row)
                    print(f"  {page:24s} {lang}  {result.get('scores', result.get('error', '')[:200])}", flush=True)
    table = common.md_table(
        ["page", "lang", "performance", "accessibility", "best practices", "FCP ms", "LCP ms", "TBT ms", "runs", ""],
        [[r["page"], r["lang"], *(r.get("scores", {}).get(c, "-") for c in CATEGORIES), r.get("fcp_ms", "-"),
          r.get("lcp_ms", "-"), r.get("tbt_ms", "-"), r.get("runs", "-"),
          "ok" if r["ok"] else "**BELOW 95**"] for r in rows])
    lost = sorted({item for r in rows for item in r.get("lost", [])})
    text = "\n".join([f"Lighthouse, mobile (simulated slow 4G, 4x CPU slowdown), Chromium ({common.machine()}); "
                      f"a page below {TARGET} is run {args.runs} times and the median counts",
                      "", table, "", "Audits that lost points somewhere:" if lost else "",
                      *[f"- {item}" for item in lost]])
    print(text)
    common.write_results("lighthouse", {"target": TARGET, "rows": rows}, text)
    ok = bool(rows) and all(r["ok"] for r in rows)
    print("LIGHTHOUSE OK" if ok else "LIGHTHOUSE BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

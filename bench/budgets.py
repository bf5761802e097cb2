"""Page-weight budgets, measured on a live server as a phone's first visit sees them.

For /login, /orders and an order page, in every language, with an empty cache and
`Accept-Encoding: br, gzip`: the compressed HTML + CSS + JS on the critical rendering path
must fit in 14 KB (one TCP initial window of 10 segments), and every static file of the
app shell together (the static folder and the service worker) in 60 KB. A library one page
fetches only when it needs it (secgo.main.routes.ON_DEMAND: the label scanner's QR reader) is
not precached, so it is shown apart and not counted in the shell. Prints a table; exits 1 when
a budget is broken.

The critical rendering path is what the first paint waits for: the page, its stylesheets
and any classic script without defer/async. Module scripts (and everything they import) are
deferred by the HTML standard, and every page works without them (progressive enhancement),
so they are measured and shown ("deferred JS") and count against the app-shell budget;
`--strict` counts them against the 14 KB page budget too.

    .venv/bin/python bench/budgets.py [--languages en,th] [--strict] [--no-write]
"""
import argparse
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PAGE_BUDGET = 14 * 1024
SHELL_BUDGET = 60 * 1024
LANGUAGES = ("en", "km", "lo", "my", "th", "vi")
ACCEPT = {"Accept-Encoding": "br, gzip"}

LINK_RE = re.compile(r"<link\b[^>]*>", re.I)
SCRIPT_RE = re.compile(r"<script\b[^>]*>", re.I)
ATTR_RE = re.compile(r'(\w[\w-]*)="([^"]*)"')
IMPORT_RE = re.compile(r"""(?:\bfrom\s*|\bimport\s*)(['"])([^'"]+)\1""")
CSS_IMPORT_RE = re.compile(r"""@import\s+(?:url\()?['"]?([^'")\s;]+)""")


def fetch(session, url):
    """(compressed body bytes, header bytes, decoded text, response) of a GET."""
    r = session.get(url, headers=ACCEPT, stream=True, timeout=30, allow_redirects=False)
    raw = r.raw.read(decode_content=False)
    header_bytes = sum(len(k) + len(v) + 4 for k, v in r.headers.items()) + 17
    encoding = r.headers.get("Content-Encoding", "identity")
    if encoding == "br":
        import brotli

        body = brotli.decompress(raw)
    elif encoding == "gzip":
        import gzip

        body = gzip.decompress(raw)
    else:
        body = raw
    return len(raw), header_bytes, body.decode("utf-8", "replace"), r


def critical_resources(html: str, page_url: str) -> list[tuple[str, bool]]:
    """Stylesheets and scripts a page loads, as (absolute URL, blocks first paint), in order."""
    found = []
    for tag in LINK_RE.findall(html):
        attrs = dict(ATTR_RE.findall(tag))
        rel = attrs.get("rel", "").lower().split()
        if "stylesheet" in rel and attrs.get("href"):
            blocking = attrs.get("media", "all") in ("all", "screen", "")
            found.append((urljoin(page_url, attrs["href"]), blocking))
        elif ("modulepreload" in rel or "preload" in rel) and attrs.get("href"):
            found.append((urljoin(page_url, attrs["href"]), False))
    for tag in SCRIPT_RE.findall(html):
        attrs = dict(ATTR_RE.findall(tag))
        if attrs.get("src"):
            deferred = attrs.get("type") == "module" or re.search(r"\s(defer|async)[\s>=]", tag)
            found.append((urljoin(page_url, attrs["src"]), not deferred))
    return list(dict.fromkeys(found))


def measure_page(session, base, path):
    """Bytes of a page and everything on its critical path (following JS and CSS imports)."""
    size, headers, html, r = fetch(session, base + path)
    rows = [{"url": path, "kind": "html", "bytes": size, "header_bytes": headers,
             "status": r.status_code, "encoding": r.headers.get("Content-Encoding", "identity")}]
    queue = critical_resources(html, base + path)
    seen = set()
    while queue:
        url, blocking = queue.pop(0)
        if url in seen or urlparse(url).netloc != urlparse(base).netloc:
            continue
        seen.add(url)
        size, headers, text, r = fetch(session, url)
        kind = "css" if ".css" in urlparse(url).path else "js"
        rows.append({"url": urlparse(url).path + ("?" + urlparse(url).query if urlparse(url).query else ""),
                     "kind": kind, "blocking": blocking, "bytes": size, "header_bytes": headers,
                     "status": r.status_code, "encoding": r.headers.get("Content-Encoding", "identity"),
                     "cache": r.headers.get("Cache-Control", "")})
        if kind == "js":
            queue += [(urljoin(url, spec), blocking) for _q, spec in IMPORT_RE.findall(text)
                      if spec.startswith((".", "/"))]
        else:
            queue += [(urljoin(url, spec), blocking) for spec in CSS_IMPORT_RE.findall(text)]
    rows[0]["blocking"] = True
    return rows


def measure_shell(session, base):
    """Every file of the static folder, and the service worker, as sent compressed; files that
    one page fetches only when it needs them (secgo.main.routes.ON_DEMAND) are not precached by
    the service worker and are measured apart (on_demand)."""
    from secgo.main.routes import on_demand

    static = common.ROOT / "secgo" / "static"
    rows = []
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        name = path.relative_to(static).as_posix()
        url = "/static/" + name
        size, _h, _t, r = fetch(session, base + url)
        rows.append({"url": url, "bytes": size, "status": r.status_code,
                     "encoding": r.headers.get("Content-Encoding", "identity"),
                     "on_demand": on_demand(name)})
    size, _h, _t, r = fetch(session, base + "/service-worker.js")
    rows.append({"url": "/service-worker.js", "bytes": size, "status": r.status_code,
                 "encoding": r.headers.get("Content-Encoding", "identity")})
    return rows


def set_language(session, base, lang):
    """Switch the session (and the logged-in user) to a language."""
    token = common.csrf_token(session.get(base + "/login", timeout=30).text) or session.headers.get("X-CSRFToken")
    session.post(base + "/language", data={"lang": lang, "csrf_token": token, "next": "/"},
                 allow_redirects=False, timeout=30)


def run(languages=LANGUAGES, user="demo-producer", order=common.DEMO_ORDER, strict=False):
    """Measure every page in every language; return the results as a dict."""
    import requests

    results = {"pages": [], "shell": [], "skipped": [], "budgets": {"page": PAGE_BUDGET, "shell": SHELL_BUDGET}}
    with tempfile.TemporaryDirectory(prefix="secgo-budgets-") as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{tmp / 'bench.db'}"
        common.prepare_demo(url, tmp / "instance")
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0")
        with common.Server(env, workers=1) as server:
            base = server.base
            for lang in languages:
                anon = requests.Session()
                set_language(anon, base, lang)
                results["pages"].append(_page("/login", lang, measure_page(anon, base, "/login")))
                s = common.login(base, user)
                set_language(s, base, lang)
                for path in ("/orders", f"/orders/{order}"):
                    rows = measure_page(s, base, path)
                    if rows[0]["status"] != 200:
                        results["skipped"].append(f"{path} [{lang}]: answered {rows[0]['status']} (page not built yet?)")
                        continue
                    results["pages"].append(_page(path, lang, rows))
            results["shell"] = measure_shell(requests.Session(), base)
            results["server_errors"] = server.errors_in_log()
    results["shell_total"] = sum(r["bytes"] for r in results["shell"] if not r.get("on_demand"))
    results["on_demand_total"] = sum(r["bytes"] for r in results["shell"] if r.get("on_demand"))
    results["strict"] = strict
    # Every file a page links must come fingerprinted (cached for good) and compressed.
    results["problems"] = sorted({
        f"{r['url']}: " + ("not cached as immutable" if "immutable" not in r["cache"] else "not compressed")
        for p in results["pages"] for r in p["resources"][1:]
        if "immutable" not in r["cache"] or (r["encoding"] == "identity" and r["bytes"] >= 512)})
    for p in results["pages"]:
        p["counted"] = p["with_deferred"] if strict else p["total"]
    results["ok"] = (all(p["counted"] <= PAGE_BUDGET for p in results["pages"])
                     and results["shell_total"] <= SHELL_BUDGET and not results["server_errors"]
                     and not results["problems"])
    return results


def _page(path, lang, rows):
    blocking = [r for r in rows if r["blocking"]]
    return {"path": path, "lang": lang, "resources": rows, "total": sum(r["bytes"] for r in blocking),
            "html": rows[0]["bytes"], "css": sum(r["bytes"] for r in blocking if r["kind"] == "css"),
            "js": sum(r["bytes"] for r in blocking if r["kind"] == "js"),
            "deferred_js": sum(r["bytes"] for r in rows if not r["blocking"] and r["kind"] == "js"),
            "with_deferred": sum(r["bytes"] for r in rows)}


def report(results) -> str:
    """The results as Markdown."""
    kb = lambda n: f"{n / 1024:.1f} KB"  # noqa: E731
    rows = [[p["path"], p["lang"], kb(p["html"]), kb(p["css"]), kb(p["js"]), kb(p["total"]),
             kb(p["deferred_js"]), kb(p["with_deferred"]),
             "ok" if p["counted"] <= PAGE_BUDGET else "**OVER**"] for p in results["pages"]]
    counted = "everything, deferred JS included (--strict)" if results["strict"] else "critical path"
    out = [f"Page weight, first load, compressed ({common.machine()}); budget on: {counted}", "",
           common.md_table(["page", "lang", "HTML", "CSS", "blocking JS", "critical path", "deferred JS",
                            "all", f"≤ {kb(PAGE_BUDGET)}"], rows), "",
           common.md_table(["app shell file", "encoding", "bytes"],
                           [[r["url"] + (" (on demand)" if r.get("on_demand") else ""), r["encoding"],
                             r["bytes"]] for r in results["shell"]]), "",
           f"App shell total: {kb(results['shell_total'])} (budget {kb(SHELL_BUDGET)}): "
           + ("ok" if results["shell_total"] <= SHELL_BUDGET else "**OVER**"),
           f"On demand, not precached (fetched by one page when it needs them): "
           f"{kb(results.get('on_demand_total', 0))}"]
    out += [f"- **{problem}**" for problem in results["problems"]]
    for note in results["skipped"]:
        out.append(f"- skipped {note}")
    if results.get("server_errors"):
        out.append(f"- server logged errors: {results['server_errors'][:3]}")
    return "\n".join(out)


def main(argv=None):
    """Measure, print, write bench/results/budgets.*; exit 1 when a budget is broken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    parser.add_argument("--strict", action="store_true", help="count deferred module JS in the page budget")
    args = parser.parse_args(argv)
    results = run(tuple(args.languages.split(",")), strict=args.strict)
    text = report(results)
    print(text)
    if not args.no_write:
        common.write_results("budgets", results, text)
    print("\nBUDGETS OK" if results["ok"] else "\nBUDGET BROKEN", flush=True)
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

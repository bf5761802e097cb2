"""What a report costs on the wire, and how long it takes on 2G, from a real phone browser.

Chromium (360 x 740) signed in as the demo producer sends, through the app's own forms and
outbox: a text-only status update, an update with one photo, and an issue with two photos,
the photos being real 12-megapixel phone-camera-sized JPEGs (4000 x 3000, about 4 MB: an
outdoor scene with a printed packing list, made here). Every byte between the browser and
the server goes through a counting proxy on 127.0.0.1, so the figures are the bytes on the
wire, both ways, headers included, from the tap on "send" until the report is stored and the
page has settled. Then the same reports on emulated 2G (250 kbit/s down, 50 kbit/s up,
300 ms round trip): seconds from the tap until the server has stored the report; and the
first paint of /orders from a cold cache on 2G. Last, with the data saver on (the producer's
setting): an update with one photo, which goes as a preview of at most 60 KB while the full
photo stays in the phone's outbox (held for Wi-Fi), on both links.

    .venv/bin/python bench/wire.py            # exit 1 when a budget is broken

Budgets (issue 19): text update <= 2 KB each way and <= 3 s on 2G; an update with one photo
<= 250 KB without the data saver, <= 70 KB with it (preview <= 60 KB) and <= 15 s on 2G;
/orders first paint <= 3 s on 2G. A broken budget or a missing measure exits 1.
"""
import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

CHROMIUM = os.environ.get("SECGO_CHROMIUM", "/usr/bin/chromium")
TWO_G = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 50_000 / 8}
BUDGETS = {"text_up_kb": 2, "text_down_kb": 2, "photo_total_kb": 250, "text_2g_s": 3, "first_paint_2g_s": 3,
           "saver_total_kb": 70, "saver_2g_s": 15, "preview_kb": 60}
SAVER = "update with one photo, data saver"


class Proxy:
    """The phone's link: a TCP proxy on 127.0.0.1 between Chromium and gunicorn that counts
    the bytes of every HTTP request and its answer, and can shape the link like 2G (every
    request of the page, its service worker and the outbox alike). Like the buffering proxy
    production runs behind (README), it hands gunicorn a request only once all of it has
    arrived: a sync worker reading a 2G upload itself would be stopped by its timeout."""

    def __init__(self, target_port: int):
        self.target_port, self.port = target_port, common.free_port()
        self.network = None  # None: as fast as the machine; else TWO_G-like figures
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.next_free = {"up": 0.0, "down": 0.0}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)

    def since(self, mark: int) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self.requests[mark:]]

    def mark(self) -> int:
        with self.lock:
            return len(self.requests)

    def _account_up(self, conn: dict, data: bytes) -> None:
        """Split the bytes the browser sends into requests (HTTP/1.1, one at a time)."""
        i = 0
        while i < len(data):
            if conn["left"] == 0:  # at a request's start: its head, then Content-Length bytes
                conn["head"] += data[i:]
                end = conn["head"].find(b"\r\n\r\n")
                if end < 0:
                    return
                head = conn["head"][:end + 4]
                i = len(data) - (len(conn["head"]) - len(head))
                conn["head"] = b""
                lines = head.decode("latin-1").split("\r\n")
                method, path = (lines[0].split(" ") + ["", ""])[:2]
                length = next((int(x.split(":", 1)[1]) for x in lines if x.lower().startswith("content-length:")), 0)
                request = {"method": method, "path": path, "up": len(head), "down": 0, "at": time.monotonic()}
                with self.lock:
                    self.requests.append(request)
                conn["request"], conn["left"] = request, length
            else:
                take = min(conn["left"], len(data) - i)
                with self.lock:
                    conn["request"]["up"] += take
                conn["left"] -= take
                i += take

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def pipe(reader, connect, way, conn):
            """Copy one direction; connect() gives the writer (the server's side is opened
            only when a whole request is in, as a buffering proxy does)."""
            queue: asyncio.Queue = asyncio.Queue()

            async def deliver():
                alive, held, writer = True, b"", None
                while (item := await queue.get()) is not None:
                    at, data, whole = item
                    wait = at - time.monotonic()
                    if wait > 0 and alive:
                        await asyncio.sleep(wait)
                    held += data
                    if alive and whole:  # like nginx: the server gets a request once it is all in
                        try:
                            writer = writer or await connect()
                            writer.write(held)
                            await writer.drain()
                        except (ConnectionError, OSError):  # the other side closed: drop the rest
                            alive = False
                        held = b""
                if writer is not None:
                    writer.close()

            sender = asyncio.ensure_future(deliver())
            try:
                while data := await reader.read(16384):
                    if way == "up":
                        self._account_up(conn, data)
                    elif conn["request"] is not None:
                        with self.lock:
                            conn["request"]["down"] += len(data)
                    now, net = time.monotonic(), self.network
                    if net is None:
                        at = now
                    else:  # on the air one after another at the link's rate, then half a round trip
                        rate = net["uploadThroughput"] if way == "up" else net["downloadThroughput"]
                        start = max(now, self.next_free[way])
                        self.next_free[way] = start + len(data) / rate
                        at = self.next_free[way] + net["latency"] / 2000
                    whole = way == "down" or (conn["left"] == 0 and not conn["head"])
                    await queue.put((at, data, whole))
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                await queue.put(None)
                await sender

        async def handle(client_reader, client_writer):
            conn = {"head": b"", "left": 0, "request": None}
            server = {}
            opened = asyncio.Event()

            async def connect_server():
                server["reader"], server["writer"] = await asyncio.open_connection("127.0.0.1", self.target_port)
                opened.set()
                return server["writer"]

            async def to_client():
                return client_writer

            async def answers():
                await opened.wait()
                await pipe(server["reader"], to_client, "down", conn)

            down = asyncio.ensure_future(answers())
            await pipe(client_reader, connect_server, "up", conn)
            if not opened.is_set():  # the phone left before sending a whole request
                down.cancel()
                client_writer.close()
            else:
                await down

        async def main():
            await asyncio.start_server(handle, "127.0.0.1", self.port)
            self.ready.set()
            await asyncio.Event().wait()

        self.loop.run_until_complete(main())


def phone_photo(path: Path, seed: int) -> Path:
    """A 4000 x 3000 JPEG of about 4 MB, like a phone camera's: sky, a textured field,
    a truck and a printed packing list with small text."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rnd = random.Random(seed)
    w, h = 4000, 3000
    noise = Image.effect_noise((w, h), 48).convert("L")
    img = Image.merge("RGB", (noise.point(lambda v: v * 0.5 + 40), noise.point(lambda v: v * 0.6 + 70),
                              noise.point(lambda v: v * 0.3 + 30)))
    draw = ImageDraw.Draw(img)
    for y in range(0, 1100, 4):  # sky, darker to the top
        draw.rectangle([0, y, w, y + 4], fill=(110 + y // 12, 150 + y // 16, 215 - y // 40))
    for _ in range(400):  # leaves and stones
        x, y, r = rnd.randrange(w), rnd.randrange(1100, h), rnd.randrange(6, 40)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(rnd.randrange(30, 120), rnd.randrange(70, 160), 40))
    draw.rectangle([300, 900, 1900, 1900], fill=(200, 40, 40))  # the truck
    draw.rectangle([1900, 1200, 2500, 1900], fill=(230, 230, 225))
    font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    big = ImageFont.truetype(font_path, 72) if Path(font_path).exists() else ImageFont.load_default()
    small = ImageFont.truetype(font_path, 44) if Path(font_path).exists() else ImageFont.load_default()
    draw.rectangle([2600, 1300, 3800, 2800], fill=(245, 245, 240))  # the packing list
    draw.text((2650, 1340), "PACKING LIST  SEC-7QK2MD", fill=(10, 10, 10), font=big)
    for i in range(22):
        draw.text((2650, 1460 + i * 58), f"{i + 1:2d}  Jasmine rice 25 kg  bag {rnd.randrange(1000, 9999)}  ok",
                  fill=(20, 20, 20), font=small)
    img = img.filter(ImageFilter.UnsharpMask(2, 80, 2))
    img.save(path, "JPEG", quality=93)
    return path


def stored(url: str, sql: str, params: dict) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(sql), params).scalar())
    finally:
        engine.dispose()


def wait_stored(url: str, sql: str, params: dict, timeout: float = 240) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if stored(url, sql, params):
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError(f"not stored after {timeout}s: {params}")


UPDATE_SQL = "SELECT count(*) FROM status_updates WHERE note = :text"
ISSUE_SQL = "SELECT count(*) FROM issues WHERE title = :text"


def send(page, base, url, ref, kind, text, photos, proxy, network=None) -> dict:
    """Fill the form (the page already open), tap send: the report's own request and answer,
    everything the phone sent and received until the page settled, and seconds until stored."""
    if kind == "issue":
        page.goto(f"{base}/orders/{ref}/issues/new")
        page.select_option("select[name=category]", "quantity")
        page.fill("input[name=title]", text)
        if photos:
            page.set_input_files("input[name=photos]", [str(p) for p in photos])
        button, sql = page.locator("main form[data-outbox] button.primary").last, ISSUE_SQL
    else:
        page.goto(f"{base}/orders/{ref}")
        page.fill(".update-form textarea[name=note]", text)
        if photos:
            page.set_input_files(".update-form input[name=photos]", [str(p) for p in photos])
        button, sql = page.locator(".update-form .status-buttons button").first, UPDATE_SQL
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # photos are made smaller on the phone before the tap counts
    mark = proxy.mark()
    proxy.network = network
    started = time.monotonic()
    button.click()
    seconds = wait_stored(url, sql, {"text": text}) - started
    page.wait_for_timeout(6000 if network else 1500)  # the answer and the page it leads to
    proxy.network = None
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    sent = proxy.since(mark)
    posts = [r for r in sent if r["method"] == "POST"]
    report_up, report_down = sum(r["up"] for r in posts), sum(r["down"] for r in posts)
    return {"report_up_kb": round(report_up / 1024, 2), "report_down_kb": round(report_down / 1024, 2),
            "all_up_kb": round(sum(r["up"] for r in sent) / 1024, 2),
            "all_down_kb": round(sum(r["down"] for r in sent) / 1024, 2),
            "requests": [f"{r['method']} {r['path'].split('?')[0]} {r['up']}/{r['down']} "
                         f"at {r['at'] - started:+.2f} s" for r in sent],
            "seconds": round(seconds, 2)}


def preview_of(url: str, note: str, instance: Path) -> dict:
    """The stored photo of the update with this note: its size, whether it is marked a preview."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT a.size, a.width, a.height, a.preview, a.sha256 FROM attachments a "
                "JOIN update_photos p ON p.attachment_id = a.id "
                "JOIN status_updates u ON u.id = p.update_id WHERE u.note = :note"), {"note": note}).first()
    finally:
        engine.dispose()
    if row is None:
        return {"preview_kb": None, "preview_size": None, "marked_preview": False}
    folder = instance / "uploads"
    return {"preview_kb": round(row[0] / 1024, 1), "preview_size": f"{row[1]}x{row[2]}",
            "marked_preview": bool(row[3]), "preview_path": str(folder / row[4][:2] / f"{row[4]}.jpg")}


def first_paint(browser, base, cookies, proxy) -> float:
    """/orders on 2G from a cold cache (a new profile, signed in with the same cookies)."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_cookies(cookies)
    page = context.new_page()
    proxy.network = TWO_G
    try:
        page.goto(base + "/orders", wait_until="load", timeout=120_000)
    finally:
        proxy.network = None
    fcp = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
    context.close()
    return round(fcp / 1000, 2) if fcp else None


def run(args) -> dict:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import create_engine, text

    with tempfile.TemporaryDirectory(prefix="secgo-wire-") as tmp, common.database("sqlite", Path(tmp)) as url:
        tmp = Path(tmp)
        common.prepare_demo(url, tmp / "instance")
        app = common.make_app(url, tmp / "instance")
        with app.test_request_context():  # fresh orders: each status update moves one on by a step
            from secgo.extensions import db
            from secgo.models import Order, User
            from secgo.orders import services

            producer = db.session.scalar(db.select(User).where(User.username == "demo-producer"))
            customer_org = db.session.scalar(db.select(Order.customer_org_id)
                                             .where(Order.producer_org_id == producer.organization_id))
            for _ in range(6):
                services.create_order(producer, {
                    "customer_org_id": customer_org, "product": "Organic jasmine rice", "quantity": "2000",
                    "unit": "kg", "origin": "Takeo", "destination": "Bangkok"})
            db.session.commit()
            db.engine.dispose()
        engine = create_engine(url)
        with engine.connect() as conn:
            refs = conn.execute(text(
                "SELECT o.reference FROM orders o JOIN users u ON u.organization_id = o.producer_org_id "
                "WHERE u.username = 'demo-producer' AND o.status NOT IN ('delivered', 'cancelled') "
                "ORDER BY o.id")).scalars().all()
        engine.dispose()
        photos = [phone_photo(tmp / f"phone-{i}.jpg", i) for i in range(2)]
        sizes = [round(p.stat().st_size / 1024) for p in photos]
        print(f"  phone photos: 4000x3000, {sizes} KB", flush=True)
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0")
        out = {"orders": refs, "photo_kb": sizes, "rows": []}
        updates = iter(refs)  # each status update moves a fresh order on by one step
        with common.Server(env, workers=2) as server, sync_playwright() as pw:
            proxy = Proxy(server.port)
            base = f"http://127.0.0.1:{proxy.port}"
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 360, "height": 740})
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("input[name=login]", "demo-producer")
            page.fill("input[name=password]", common.DEMO_PASSWORD)
            page.click("main form button.primary")
            page.wait_for_load_state()
            for _ in range(2):  # the app shell and the service worker in place, as on a phone in use
                page.goto(f"{base}/orders/{refs[0]}")
                page.wait_for_timeout(1500)
            plan = [("text update", "update", []), ("update with one photo", "update", photos[:1]),
                    ("issue with two photos", "issue", photos)]
            for network_name, network in (("fast", None), ("2G", TWO_G)):
                for name, kind, files in plan:
                    text_ = f"wire {network_name} {name} {random.randrange(10**8)}"
                    ref = next(updates) if kind == "update" else refs[0]
                    row = {"report": name, "network": network_name,
                           **send(page, base, url, ref, kind, text_, files, proxy, network)}
                    out["rows"].append(row)
                    print(f"  {network_name:4s} {name:24s} report {row['report_up_kb']:7.1f} up "
                          f"{row['report_down_kb']:5.1f} down KB; all {row['all_up_kb']:7.1f} up "
                          f"{row['all_down_kb']:6.1f} down KB; {row['seconds']:6.2f} s", flush=True)
                    print("       ", "; ".join(row["requests"]), flush=True)
            # The data saver, as the producer turns it on in Settings.
            page.goto(f"{base}/settings")
            page.check("#saver input[name=data_saver]")
            page.click("#saver button")
            page.wait_for_load_state()
            for network_name, network in (("fast", None), ("2G", TWO_G)):
                text_ = f"wire {network_name} saver {random.randrange(10**8)}"
                row = {"report": SAVER, "network": network_name,
                       **send(page, base, url, next(updates), "update", text_, photos[:1], proxy, network)}
                row.update(preview_of(url, text_, tmp / "instance"))
                row["held_in_outbox"] = page.evaluate(
                    "async () => (await self.SecgoOutbox.allItems()).filter((i) => i.hold && !i.now).length")
                out["rows"].append(row)
                print(f"  {network_name:4s} {SAVER:24s} report {row['report_up_kb']:7.1f} up "
                      f"{row['report_down_kb']:5.1f} down KB; preview {row['preview_kb']} KB "
                      f"{row['preview_size']}; {row['seconds']:6.2f} s; full photos held: "
                      f"{row['held_in_outbox']}", flush=True)
                print("       ", "; ".join(row["requests"]), flush=True)
                if args.keep_preview and network is None:
                    shutil.copy(row.pop("preview_path"), args.keep_preview)
                row.pop("preview_path", None)
            out["first_paint_2g_s"] = first_paint(browser, base, context.cookies(), proxy)
            print(f"  /orders first paint on 2G, cold cache: {out['first_paint_2g_s']} s", flush=True)
            browser.close()
            out["server_errors"] = server.errors_in_log()
    return out


def check(out: dict) -> list[str]:
    rows = {(r["report"], r["network"]): r for r in out["rows"]}
    text_fast, photo_fast = rows[("text update", "fast")], rows[("update with one photo", "fast")]
    text_2g = rows[("text update", "2G")]
    broken = []
    for network in ("fast", "2G"):
        saver = rows.get((SAVER, network))
        if saver is None:
            broken.append(f"{SAVER} on {network}: not measured")
            continue
        total = saver["report_up_kb"] + saver["report_down_kb"]
        if total > BUDGETS["saver_total_kb"]:
            broken.append(f"{SAVER} on {network}: {total:.0f} KB (budget 70 KB)")
        if not saver.get("marked_preview") or (saver.get("preview_kb") or 999) > BUDGETS["preview_kb"]:
            broken.append(f"{SAVER} on {network}: preview {saver.get('preview_kb')} KB, marked "
                          f"{saver.get('marked_preview')} (budget 60 KB, stored as a preview)")
        if not saver.get("held_in_outbox"):
            broken.append(f"{SAVER} on {network}: the full photo is not held in the outbox")
    saver_2g = rows.get((SAVER, "2G"))
    if saver_2g is not None and saver_2g["seconds"] > BUDGETS["saver_2g_s"]:
        broken.append(f"{SAVER} on 2G {saver_2g['seconds']} s (budget 15 s)")
    if text_fast["report_up_kb"] > BUDGETS["text_up_kb"] or text_fast["report_down_kb"] > BUDGETS["text_down_kb"]:
        broken.append(f"text update {text_fast['report_up_kb']} KB up / {text_fast['report_down_kb']} KB down "
                      "(budget 2 KB each way)")
    photo_kb = photo_fast["report_up_kb"] + photo_fast["report_down_kb"]
    if photo_kb > BUDGETS["photo_total_kb"]:
        broken.append(f"update with one photo {photo_kb:.0f} KB (budget 250 KB)")
    if text_2g["seconds"] > BUDGETS["text_2g_s"]:
        broken.append(f"text update on 2G {text_2g['seconds']} s (budget 3 s)")
    if not out["first_paint_2g_s"] or out["first_paint_2g_s"] > BUDGETS["first_paint_2g_s"]:
        broken.append(f"/orders first paint on 2G {out['first_paint_2g_s']} s (budget 3 s)")
    if out["server_errors"]:
        broken.append(f"server logged {len(out['server_errors'])} errors")
    return broken


def report(out: dict, broken: list[str]) -> str:
    rows = [[r["report"], r["network"], r["report_up_kb"], r["report_down_kb"], r["all_up_kb"], r["all_down_kb"],
             r["seconds"]] for r in out["rows"]]
    lines = [f"Bytes and seconds per report ({common.machine()}; Chromium 360x740; photos 4000x3000, "
             f"{out['photo_kb']} KB each)", "",
             common.md_table(["report", "network", "its request KB", "its answer KB", "all sent KB",
                              "all received KB", "seconds to stored"], rows), "",
             "(its request and answer: the report's own POST; all: every byte from the tap until the "
             "page settled, the page the answer leads to included)", "",
             f"/orders first paint on 2G from a cold cache: {out['first_paint_2g_s']} s", ""]
    lines += [f"- **over budget or missing**: {b}" for b in broken] or ["- every budget holds"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-preview", metavar="FILE",
                        help="copy the stored data-saver preview there, to look at it")
    args = parser.parse_args(argv)
    out = run(args)
    broken = check(out)
    text = report(out, broken)
    print(text)
    common.write_results("wire", {"results": out, "broken": broken}, text)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

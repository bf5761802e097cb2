"""Take 360x740 Chromium screenshots of the main pages in all six languages into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py            # every page, every language
    .venv/bin/python scripts/screenshots.py km th      # some languages
    .venv/bin/python scripts/screenshots.py --full --out /tmp/shots my   # whole pages, elsewhere
    .venv/bin/python scripts/screenshots.py --pages order,tabs km        # some pages

Runs the app on a temporary seeded SQLite database on 127.0.0.1.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
LANGS = ("en", "km", "lo", "my", "th", "vi")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# page name -> (login, path)
PAGES = {
    "login": (None, "/login"),
    "orders": ("demo-customer", "/orders"),
    "order": ("demo-customer", "/orders/SEC-7K3F9Q"),
    "order-producer": ("demo-producer", "/orders/SEC-7K3F9Q"),
    # The timeline, with the voice note add_voice_note() left on it.
    "order-voice": ("demo-customer", "/orders/SEC-7K3F9Q#timeline"),
    "awaiting": ("demo-customer", "/orders/awaiting"),
    "issue-new": ("demo-customer", "/orders/SEC-7K3F9Q/issues/new?update=1"),
    "issues": ("demo-coordinator", "/issues"),
    "issue": ("demo-coordinator", "/issues/1"),
    "links": ("demo-producer", "/orders/SEC-7K3F9Q/links"),
    "coordinator": ("demo-coordinator", "/coordinator"),
    "people": ("demo-coordinator", "/onboarding/"),
    # Admin pages (ids of a fresh demo database: cluster 1, organization 1, user 2).
    "admin-clusters": ("demo-admin", "/admin/clusters"),
    "admin-cluster": ("demo-admin", "/admin/clusters/1"),
    "admin-orgs": ("demo-coordinator", "/admin/organizations"),
    "admin-org": ("demo-admin", "/admin/organizations/1"),
    "admin-people": ("demo-admin", "/admin/people"),
    "admin-person": ("demo-admin", "/admin/people/2"),
    "audit": ("demo-admin", "/audit/"),
    "erase": ("demo-admin", "/privacy/people/2/erase"),
    "settings": ("demo-producer", "/settings"),
    "new-order": ("demo-producer", "/orders/new"),
    # Issue 17: the photo picker with two photos chosen; crossing names on the dashboard.
    "order-photos": ("demo-producer", "/orders/SEC-7K3F9Q#photos"),
    "coordinator-urgent": ("demo-coordinator", "/coordinator#urgent"),
    "coordinator-where": ("demo-coordinator", "/coordinator#where-h"),
    "coordinator-promptness": ("demo-coordinator", "/coordinator#promptness"),
    "coordinator-borders": ("demo-coordinator", "/coordinator#border-times"),
    # Issue 16: an order's papers with its crossing's checklist; the checklists; the dashboard.
    "order-documents": ("demo-customer", "/orders/SEC-2H6N8P#documents"),
    "order-documents-producer": ("demo-producer-my", "/orders/SEC-2H6N8P#papers-warning"),
    "checklists": ("demo-coordinator", "/coordinator/checklists"),
    "checklists-form": ("demo-coordinator", "/coordinator/checklists#set"),
    "coordinator-papers": ("demo-coordinator", "/coordinator#papers"),
    # Issue 20: business matching (the demo's forum is event 1; match 1 is Bangkok x Takeo rice).
    "matching": ("demo-coordinator", "/matching"),
    "matching-event": ("demo-coordinator", "/matching/1"),
    "matching-match": ("demo-coordinator", "/matching/matches/1"),
    "matching-report": ("demo-coordinator", "/matching/1/report"),
    "matching-buyer": ("demo-customer", "/matching/matches/1"),
    # Issue 16: the label form (and refused numbers), and the label scanner.
    "labels": ("demo-producer", "/orders/SEC-7K3F9Q/labels"),
    "labels-refused": ("demo-producer", "/orders/SEC-7K3F9Q/labels.pdf?packages=0&per_package=abc"),
    "scan": ("demo-customer", "/scan"),
    # Issue 16: proof at handover. The producer's order page with its handover code; a
    # tracking link's delivery form (no login) with a signature drawn, and with the code.
    "order-handover-code": ("demo-producer", "/orders/SEC-7K3F9Q#handover-code"),
    "tracking-sign": (None, "{tracking}#deliver"),
    "tracking-code": (None, "{tracking}#deliver"),
    # Issue 20: a producer's profile with its track record, its edit page, the directory, an enquiry.
    "profile": ("demo-customer", "/profiles/1"),
    "profile-record": ("demo-customer", "/profiles/1#record-h"),
    "profile-own": ("demo-producer-km", "/profiles/2"),  # its own, with too few orders for figures
    "profile-edit": ("demo-producer", "/profiles/1/edit"),
    "directory": ("demo-customer", "/directory?certification=organic"),
    "enquiry": ("demo-customer", "/enquiries/1"),
    # The rest of issue 20: a cluster's own profile and its edit page, enquiries with unread
    # marks, a buyer's own business matches.
    "cluster": ("demo-customer", "/directory?cluster=1"),
    "cluster-edit": ("demo-coordinator", "/clusters/1/profile/edit"),
    "enquiries": ("demo-producer", "/enquiries"),
    "my-matches": ("demo-customer", "/matching"),
}
# page name -> the refusal it shows on purpose (a form with its errors)
REFUSED = {"labels-refused": 422}
# page name -> (file input, how many photos to choose) before the picture is taken
CHOOSE_PHOTOS = {"order-photos": ("#photos", 2)}
TRACKING = {}  # "{tracking}" in a path: a tracking link of the demo order, made once per run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tone_webm(seconds=7.0, rate=48000) -> bytes:
    """A short WebM/Opus recording, as Chrome for Android makes one (a tone, for the picture)."""
    import io
    import math
    import struct

    import av

    frame_samples = 960
    pcm = b"".join(struct.pack("<h", int(5000 * math.sin(2 * math.pi * 300 * i / rate)))
                   for i in range(frame_samples))
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as dst:
        stream = dst.add_stream("libopus", rate=rate, layout="mono")
        stream.bit_rate = 24000
        for n in range(int(seconds * rate) // frame_samples):
            frame = av.AudioFrame(format="s16", layout="mono", samples=frame_samples)
            frame.planes[0].update(pcm)
            frame.sample_rate, frame.pts = rate, n * frame_samples
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def add_voice_note(base):
    """The demo producer leaves a voice note on the demo order (through the order page's form)."""
    session = requests.Session()
    token = _csrf(session.get(base + "/login").text)
    session.post(base + "/login", data={"csrf_token": token, "login": "demo-producer",
                                        "password": "demo-password"})
    token = _csrf(session.get(base + "/orders/SEC-7K3F9Q").text)
    answer = session.post(base + "/orders/SEC-7K3F9Q/updates",
                          data={"csrf_token": token, "status": "note", "note": ""},
                          files={"voice": ("voice.webm", tone_webm(), "audio/webm")},
                          allow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]


def add_tracking_link(base) -> str:
    """A tracking link of the demo order for its buyer's warehouse clerk; returns its path."""
    session = requests.Session()
    token = _csrf(session.get(base + "/login").text)
    session.post(base + "/login", data={"csrf_token": token, "login": "demo-producer",
                                        "password": "demo-password"})
    token = _csrf(session.get(base + "/orders/SEC-7K3F9Q/links").text)
    answer = session.post(base + "/orders/SEC-7K3F9Q/links",
                          data={"csrf_token": token, "contact_name": "Somchai (warehouse)"})
    return "/t/" + re.search(r'value="http[^"]+/t/([^"]+)"', answer.text).group(1)


def proof(page, name):
    """Fill the tracking page's delivery form the way the shot shows it."""
    if name not in ("tracking-sign", "tracking-code"):
        return
    page.evaluate("() => new Promise((r) => setTimeout(r, 500))")  # signature.js sets up
    page.fill("#receiver_name", "Somchai Jaidee")
    if name == "tracking-code":
        page.check("input[name=proof][value=code]")
        page.fill("#handover_code", "482913")
        target = "#handover_code"
    else:
        canvas = page.locator("canvas.signature-pad")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        x, y = box["x"] + 30, box["y"] + box["height"] * 0.6
        page.mouse.move(x, y)
        page.mouse.down()
        for i in range(1, 40):
            page.mouse.move(x + i * 6, y - 30 * abs(((i % 10) - 5) / 5) + (i // 10) * 4, steps=2)
        page.mouse.up()
        target = "canvas.signature-pad"
    page.locator(target).evaluate(  # the proof's fieldset, just below the app bar
        "(e) => scrollTo(0, e.closest('fieldset').getBoundingClientRect().top + scrollY - 64)")


def main(langs, out=OUT, full=False, pages=None):
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SECGO_INSTANCE_PATH": tmp, "SECGO_SECURE_COOKIES": "0",
               "SECGO_RATELIMIT_ENABLED": "0", "FLASK_APP": "secgo"}
        flask = str(Path(sys.executable).with_name("flask"))
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([flask, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([flask, "run", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):  # a busy machine starts it slowly
                try:
                    requests.get(base + "/login", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            add_voice_note(base)
            TRACKING["path"] = add_tracking_link(base)
            shoot(base, langs, out, full, pages or list(PAGES))
        finally:
            server.terminate()
            server.wait()


def shoot(base, langs, out, full, pages):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for lang in langs:
            for name in pages:
                login, path = PAGES[name]
                context = browser.new_context(viewport={"width": 360, "height": 740},
                                              device_scale_factor=1, locale=lang)
                context.add_cookies([{"name": "secgo_lang", "value": lang, "url": base}])
                page = context.new_page()
                if login:
                    page.goto(base + "/login")
                    page.fill("#login", login)
                    page.fill("#password", "demo-password")
                    page.click("form[novalidate] button")
                    page.wait_for_load_state("networkidle")
                    # The user's own language setting wins over the cookie: switch it.
                    page.goto(base + path)
                    page.click(".lang summary")
                    page.click(f".lang button[value={lang}]")
                path = path.replace("{tracking}", TRACKING.get("path", ""))
                path, _, anchor = path.partition("#")  # the page scrolled to that element
                response = page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if anchor:
                    page.locator(f"#{anchor}").evaluate(  # just below the app bar
                        "(e) => scrollTo(0, e.getBoundingClientRect().top + scrollY - 64)")
                if response is None or (response.status >= 400 and response.status != REFUSED.get(name)):
                    print(f"skip {name} {lang}: {response.status if response else 'no answer'}")
                    context.close()
                    continue
                if name in CHOOSE_PHOTOS:
                    choose_photos(page, *CHOOSE_PHOTOS[name])
                proof(page, name)
                target = out / f"{name}-{lang}.png"
                page.screenshot(path=str(target), full_page=full)
                print(target)
                context.close()
        browser.close()


def choose_photos(page, selector, count):
    """Choose count small pictures in a photo picker and bring it to the middle of the screen."""
    from io import BytesIO

    from PIL import Image

    files = []
    for i in range(count):
        buffer = BytesIO()
        Image.new("RGB", (40, 30), (40 * i, 120, 80)).save(buffer, "JPEG")
        files.append({"name": f"photo-{i + 1}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()})
    page.set_input_files(selector, files)
    page.evaluate("(s) => document.querySelector(s).closest('.field').scrollIntoView({block: 'center'})", selector)


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = [a for a in args if re.fullmatch(r"[a-z]{2}", a)] or list(LANGS)
    out = Path(args[args.index("--out") + 1]) if "--out" in args else OUT
    pages = args[args.index("--pages") + 1].split(",") if "--pages" in args else None
    main(chosen, out, full="--full" in args, pages=pages)

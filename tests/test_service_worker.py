"""The installable app: service worker, manifest, icons and the offline page, over HTTP."""
import json
import re
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.once


STATIC = Path(__file__).resolve().parent.parent / "secgo" / "static"


def shell_of(source: str) -> list[str]:
    return json.loads(re.search(r"^const SHELL = (\[.*\]);", source, re.M).group(1))


def build_of(source: str) -> str:
    return re.search(r"^const BUILD = '([0-9a-f]+)';", source, re.M).group(1)


def test_service_worker_is_served_at_the_root_for_the_whole_site(client):
    response = client.get("/service-worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "importScripts('/static/js/sw-push.js')" in response.get_data(as_text=True)


def test_service_worker_precaches_the_app_shell_by_fingerprinted_urls(client):
    source = client.get("/service-worker.js").get_data(as_text=True)
    shell = shell_of(source)
    assert "/offline" in shell
    for name in ("css/app.css", "js/app.js", "js/outbox.js", "js/outbox-send.js", "js/offline.js",
                 "js/photos.js",
                 "icons/icon-192.png", "manifest.webmanifest"):
        assert any(re.fullmatch(rf"/static/{re.escape(name)}\?v=[0-9a-f]+", url) for url in shell), name
    for url in shell:
        assert client.get(url).status_code == 200, url


def test_the_page_and_the_worker_send_the_outbox_with_one_shared_script(client):
    """outbox-send.js holds the store and the send rules (tests/browser/test_outbox_rules.py);
    the worker imports it as a classic script, outbox.js as a fingerprinted module import, and
    neither keeps a copy of its own."""
    worker = client.get("/service-worker.js").get_data(as_text=True)
    assert "importScripts('/static/js/outbox-send.js')" in worker
    outbox = client.get("/static/js/outbox.js").get_data(as_text=True)
    assert re.search(r"^import '\./outbox-send\.js\?v=[0-9a-f]+';", outbox, re.M)
    shared = (STATIC / "js" / "outbox-send.js").read_text()
    assert not re.search(r"^\s*(import|export)\b", shared, re.M)  # importScripts() can run it
    for copy in ("indexedDB.open", "'Idempotency-Key'", "'X-CSRFToken'", "fetch(item.url",
                 "425", "renewSession", "errorOf", "deadline(", "new FormData()"):
        assert copy in shared, copy
        assert copy not in worker and copy not in outbox, copy


def test_a_changed_shell_file_changes_the_service_worker_so_browsers_update(app, client, tmp_path):
    before = client.get("/service-worker.js").get_data(as_text=True)
    assert before == client.get("/service-worker.js").get_data(as_text=True)
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    (copy / "css" / "app.css").write_text((copy / "css" / "app.css").read_text() + "\n/* v2 */\n")
    app.static_folder = str(copy)
    after = client.get("/service-worker.js").get_data(as_text=True)
    assert build_of(after) != build_of(before)
    assert shell_of(after) != shell_of(before)


def test_manifest_makes_the_app_installable(client):
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] and manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["theme_color"].startswith("#")
    icons = {(i["sizes"], i.get("purpose", "any")): i["src"] for i in manifest["icons"]}
    for size in ("192x192", "512x512"):
        for purpose in ("any", "maskable"):
            src = icons[(size, purpose)]
            data = client.get(src).get_data()
            image = Image.open(BytesIO(data))
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == size


def test_maskable_icons_fill_the_whole_square(client):
    for size in (192, 512):
        image = Image.open(BytesIO(client.get(f"/static/icons/maskable-{size}.png").get_data()))
        corners = [image.convert("RGBA").getpixel(p) for p in ((0, 0), (size - 1, size - 1))]
        assert all(pixel[3] == 255 for pixel in corners)  # no transparent corners to be cropped


def test_every_page_links_the_manifest_and_loads_the_app_script(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'rel="manifest"' in html and "/static/js/app.js?v=" in html
    assert 'id="sync-badge"' in html


def test_offline_page_holds_the_outbox_view_and_works_for_anyone(client):
    response = client.get("/offline")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="outbox-list"' in html and 'class="card center offline-note"' in html
    assert "<script>" not in html and " style=" not in html  # the CSP forbids inline code


def test_logout_tells_the_browser_to_forget_saved_pages(client, world, auth):
    auth.login("producer")
    response = auth.logout()
    assert response.headers["Clear-Site-Data"] == '"cache"'


def test_write_forms_answer_scripts_with_json(app, client, world, auth):
    """The outbox's contract: a form POST with Accept: application/json gets JSON back."""
    auth.login("producer")
    html = client.get("/orders/SEC-WRLD01").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    headers = {"Accept": "application/json", "Idempotency-Key": "0f6b1c7e-1111-4c2a-9d6e-1234567890ab",
               "X-CSRFToken": token}
    first = client.post("/orders/SEC-WRLD01/updates", data={"status": "note", "note": "ok"},
                        headers=headers)
    assert first.status_code == 201 and first.json["location"].startswith("/orders/SEC-WRLD01")
    again = client.post("/orders/SEC-WRLD01/updates", data={"status": "note", "note": "ok"},
                        headers=headers)
    assert again.status_code == 201 and again.json == first.json
    refused = client.post(
        "/orders/SEC-WRLD01/updates", data={"status": "teleported"},
        headers={**headers, "Idempotency-Key": "0f6b1c7e-2222-4c2a-9d6e-1234567890ab"},
    )
    assert refused.status_code == 422 and refused.json["error"]["message"]

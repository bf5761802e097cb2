"""Static files are fingerprinted and cached for a year; answers are compressed for 2G."""
import gzip
import re
import shutil
from pathlib import Path

import brotli
import pytest

import secgo

pytestmark = pytest.mark.once


STATIC = Path(secgo.__file__).parent / "static"
BR = {"Accept-Encoding": "br, gzip"}


@pytest.fixture
def static_app(app, tmp_path):
    """The app in development serving a copy of the static folder that a test may change."""
    app.jinja_env.auto_reload = True  # as in debug mode: files change under the running app
    folder = tmp_path / "static"
    shutil.copytree(STATIC, folder)
    (folder / "js" / "dep.js").write_text("export const answer = 42;\n" * 40)
    (folder / "js" / "entry.js").write_text(
        "import { answer } from './dep.js';\nconsole.log(answer);\n"
    )
    (folder / "tiny.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 2000)
    app.static_folder = str(folder)
    return app


def _url(app, filename):
    with app.test_request_context():
        from flask import url_for

        return url_for("static", filename=filename)


def _version(url):
    return re.search(r"[?&]v=([0-9a-f]+)", url)[1]


def test_pages_link_static_files_with_a_content_fingerprint(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'href="/static/css/app\.css\?v=[0-9a-f]{12}"', html)
    assert re.search(r'src="/static/js/app\.js\?v=[0-9a-f]{12}"', html)


def test_fingerprinted_static_files_are_cached_for_a_year(static_app):
    client = static_app.test_client()
    url = _url(static_app, "css/app.css")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_static_files_without_the_current_fingerprint_are_cached_briefly(static_app):
    client = static_app.test_client()
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"]
        assert "max-age=300" in response.headers["Cache-Control"]


def test_fingerprint_changes_when_the_file_changes(static_app):
    before = _url(static_app, "css/app.css")
    css = Path(static_app.static_folder) / "css" / "app.css"
    css.write_text(css.read_text() + "\n.changed { color: red }\n")
    after = _url(static_app, "css/app.css")
    assert _version(before) != _version(after)
    assert b".changed" in static_app.test_client().get(after).get_data()


def test_in_production_a_fingerprint_is_read_once_per_process(static_app):
    static_app.jinja_env.auto_reload = False
    before = _url(static_app, "css/app.css")
    css = Path(static_app.static_folder) / "css" / "app.css"
    css.write_text(css.read_text() + "\n.changed { color: red }\n")
    assert _url(static_app, "css/app.css") == before
    response = static_app.test_client().get(before)  # the file as it is now, cached briefly
    assert b".changed" in response.get_data()
    assert "immutable" not in response.headers["Cache-Control"]


def test_a_module_fingerprint_changes_when_a_module_it_imports_changes(static_app):
    client = static_app.test_client()
    entry_before = _url(static_app, "js/entry.js")
    body = client.get(entry_before).get_data(as_text=True)
    dep_url = _url(static_app, "js/dep.js")
    assert f"from './dep.js?v={_version(dep_url)}'" in body

    (Path(static_app.static_folder) / "js" / "dep.js").write_text("export const answer = 7;\n")
    entry_after = _url(static_app, "js/entry.js")
    assert _version(entry_before) != _version(entry_after)
    assert _version(_url(static_app, "js/dep.js")) in client.get(entry_after).get_data(as_text=True)


def test_static_files_are_sent_with_brotli_or_gzip_as_the_phone_accepts(static_app):
    client = static_app.test_client()
    url = _url(static_app, "js/dep.js")
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers

    br = client.get(url, headers=BR)
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.get_data()) == plain.get_data()

    gz = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.get_data()) == plain.get_data()

    refused = client.get(url, headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["Content-Encoding"] == "gzip"


def test_images_are_not_compressed_again(static_app):
    response = static_app.test_client().get("/static/tiny.png", headers=BR)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_compressed_login_page_is_smaller_and_decodes_to_the_page(client):
    plain = client.get("/login", headers={"Accept-Encoding": "identity"})
    br = client.get("/login", headers=BR)
    gz = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert br.headers["Content-Encoding"] == "br"
    assert gz.headers["Content-Encoding"] == "gzip"
    assert len(br.get_data()) < len(plain.get_data()) / 2
    assert len(gz.get_data()) < len(plain.get_data()) / 2
    assert b"</html>" in brotli.decompress(br.get_data())
    assert int(br.headers["Content-Length"]) == len(br.get_data())
    assert "Accept-Encoding" in br.headers["Vary"]


def test_tiny_answers_are_sent_as_they_are(client):
    response = client.get("/healthz", headers=BR)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_unchanged_static_file_revalidates_with_304(static_app):
    client = static_app.test_client()
    url = _url(static_app, "css/app.css")
    first = client.get(url, headers=BR)
    etag = first.headers["ETag"]
    again = client.get(url, headers={**BR, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    stale = client.get(url, headers={**BR, "If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_unchanged_api_document_revalidates_with_304(client):
    first = client.get("/api/v1/openapi.json", headers=BR)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = client.get("/api/v1/openapi.json", headers={**BR, "If-None-Match": etag})
    assert again.status_code == 304


def test_streamed_answers_are_not_buffered_or_compressed(app):
    def stream():
        yield "x" * 5000

    app.add_url_rule("/_stream_test", "stream_test", lambda: app.response_class(stream(), mimetype="text/plain"))
    response = app.test_client().get("/_stream_test", headers=BR)
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == b"x" * 5000


def test_static_paths_outside_the_folder_are_not_found(client):
    assert client.get("/static/../__init__.py").status_code == 404
    assert client.get("/static/nothing-here.css").status_code == 404


def test_every_answer_says_how_long_the_server_took(client):
    response = client.get("/login")
    assert re.fullmatch(r"app;dur=\d+\.\d", response.headers["Server-Timing"])


def test_the_service_worker_script_is_sent_compressed(client):
    response = client.get("/service-worker.js", headers=BR)
    assert response.status_code == 200
    if len(response.get_data()) >= 512 or response.headers.get("Content-Encoding"):
        assert response.headers["Content-Encoding"] == "br"
        assert b"addEventListener" in brotli.decompress(response.get_data())
    assert response.headers["Service-Worker-Allowed"] == "/"

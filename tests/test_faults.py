"""Faults that really happen, run for real: the database restarted under load, the push worker
killed mid-batch, the upload folder full or unwritable. (A phone's wrong clock: test_clock.py.)"""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from flask_babel import force_locale
from markupsafe import escape
from PIL import Image
from sqlalchemy import delete, func, select

from secgo import notify
from secgo.errors import MESSAGES
from secgo.extensions import db
from secgo.models import Attachment, IdempotencyKey, Notification, PushDelivery, StatusUpdate, User
from secgo.push import services as push_services
from secgo.push.vapid import load_keys
from tests.issue_factories import make_order as make_issue_order
from tests.pushservice import PushService
from tests.test_orders import NO_CSRF, make_order
from tests.test_photos import multipart

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


# --- the upload folder full or unwritable during a photo upload ----------------------------

def noise_photo(size=(520, 400)) -> bytes:
    """A photo that does not compress to nothing (noise), as a phone camera's would not."""
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _mount(target: Path, options: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, timeout=30)
    return done.returncode == 0


def _fill(folder: Path, leave: int) -> None:
    """Fill a small file system until `leave` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    (folder / "filler").write_bytes(b"\0" * max(0, free - leave))


@pytest.fixture
def upload_fault(app, tmp_path):
    """Point the app's upload folder at a real failing place; yields (kind, fix) where fix()
    makes it writable again. Kinds: 'full' and 'main-fits-thumb-does-not' (a tiny tmpfs,
    needs root), 'read-only' (a read-only tmpfs as root, else chmod), 'not-a-folder' (the
    folder's parent is a regular file: mkdir fails with ENOTDIR for anyone)."""
    mounts = []

    def make(kind, photo=None):
        folder = tmp_path / f"uploads-{kind}"
        if kind in ("full", "main-fits-thumb-does-not"):
            if not _mount(folder, "size=1m"):
                pytest.skip("a tiny tmpfs needs root and mount")
            mounts.append(folder)
            from secgo.attachments.services import clean_photo

            jpeg, thumb, *_ = clean_photo(photo)
            leave = 16 * 1024 if kind == "full" else -(-len(jpeg) // 4096) * 4096 + 4096
            assert len(jpeg) > 32 * 1024 and len(thumb) > 8 * 1024  # neither fits where it must not
            _fill(folder, leave)
            app.config["UPLOAD_FOLDER"] = str(folder)
            return lambda: (folder / "filler").unlink()
        if kind == "read-only":
            if _mount(folder, "size=1m,ro"):
                mounts.append(folder)
                app.config["UPLOAD_FOLDER"] = str(folder)
                return lambda: subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
            if os.geteuid() == 0:
                pytest.skip("root writes through chmod and mount is not permitted here")
            folder.mkdir()
            folder.chmod(0o555)
            app.config["UPLOAD_FOLDER"] = str(folder)
            return lambda: folder.chmod(0o755)
        assert kind == "not-a-folder"
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where a folder should be")
        app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
        return lambda: (blocker.unlink(), blocker.mkdir())

    yield make
    for folder in mounts:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def set_locale(app, username, locale):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).locale = locale
        db.session.commit()


def localized(app, locale, message) -> str:
    """The message in that language, failing when the catalog has no words for it."""
    with app.test_request_context(), force_locale(locale):
        text = str(message)
    with app.test_request_context(), force_locale("en"):
        assert text != str(message), f"no {locale} translation for: {text}"
    return text


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "filler")


def _rows(app) -> tuple:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Attachment, StatusUpdate, IdempotencyKey))


FAULTS = ["full", "main-fits-thumb-does-not", "read-only", "not-a-folder"]


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
@pytest.mark.parametrize("kind", FAULTS)
def test_a_photo_the_server_cannot_store_is_refused_cleanly_and_the_same_report_goes_through_later(
        app, world, client, auth, upload_fault, kind):
    ref = make_order(app, world)
    set_locale(app, "producer", "km")
    photo = noise_photo()
    fix = upload_fault(kind, photo)
    folder = Path(app.config["UPLOAD_FOLDER"])
    before = _rows(app)
    auth.login("producer")
    key = str(uuid.uuid4())
    body, content_type = multipart({"status": "ready", "note": "Bags at the gate"}, [("photos", "bags.jpg", photo)])

    def send(**headers):  # as the outbox sends it: form fields, the photo, its key, JSON please
        return client.post(f"/orders/{ref}/updates", data=body, content_type=content_type,
                           headers={"Accept": "application/json", "Idempotency-Key": key, **headers})

    refused = send()
    assert refused.status_code == 507, refused.get_data(as_text=True)
    error = refused.json["error"]
    assert error["code"] == "insufficient_storage"
    assert refused.headers["Retry-After"] == "60"
    assert error["message"] == localized(app, "km", MESSAGES[507])  # the producer reads Khmer
    # No row pointing to a missing file, no report half-made, no key that would replay the refusal.
    assert _rows(app) == before
    if folder.is_dir():
        assert _files(folder) == [], "a partial or orphan file was left behind"
    # A plain form (no JavaScript) gets a page that says the same, not a traceback.
    page = client.post(f"/orders/{ref}/updates", data=body, content_type=content_type,
                       headers={"Accept": "text/html"})
    assert page.status_code == 507 and page.mimetype == "text/html"
    assert escape(error["message"]) in page.get_data(as_text=True)
    assert "Bags at the gate" in page.get_data(as_text=True), "the form again, with what was typed"
    assert _rows(app) == before
    # Room again: the outbox sends the same report with the same key, and it lands once.
    fix()
    sent = send()
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert send().json["id"] == sent.json["id"]  # and a replay is answered from the first
    with app.app_context():
        update = db.session.scalar(select(StatusUpdate).where(StatusUpdate.client_id == key))
        assert update is not None and len(update.photos) == 1
        stored = Path(app.config["UPLOAD_FOLDER"]) / update.photos[0].storage_name
        assert stored.exists() and stored.with_name(stored.name.replace(".jpg", ".thumb.jpg")).exists()
        assert db.session.scalar(select(func.count()).select_from(StatusUpdate)
                                 .where(StatusUpdate.client_id == key)) == 1


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_refusal_is_in_the_users_language_on_the_api_too(app, world, client, upload_fault):
    from tests.test_api_orders import token_for

    upload_fault("not-a-folder")
    set_locale(app, "producer", "th")
    body, content_type = multipart({}, [("file", "p.jpg", noise_photo((200, 150)))])
    answer = client.post("/api/v1/attachments", data=body, content_type=content_type,
                         headers={**token_for(app, "producer"), "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 507 and answer.json["error"]["code"] == "insufficient_storage"
    assert answer.json["error"]["message"] == localized(app, "th", MESSAGES[507])
    assert _rows(app)[0] == 0


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_an_order_paper_the_server_cannot_store_is_refused_cleanly_and_goes_through_later(
        app, world, client, auth, upload_fault):
    # Papers are stored as photos are (secgo.attachments.services.store_files): a 507, no row,
    # no file, and the same upload with the same key lands once when there is room again.
    from secgo.models import Document
    from tests.test_documents import sample_pdf, upload

    ref = make_order(app, world)
    fix = upload_fault("not-a-folder")
    auth.login("producer")
    key = str(uuid.uuid4())
    refused = upload(client, ref, sample_pdf(), client_id=key, Accept="application/json")
    assert refused.status_code == 507 and refused.json["error"]["code"] == "insufficient_storage"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    fix()
    assert _files(Path(app.config["UPLOAD_FOLDER"])) == []
    sent = upload(client, ref, sample_pdf(), client_id=key, Accept="application/json")
    assert sent.status_code == 201, sent.get_data(as_text=True)
    with app.app_context():
        (doc,) = db.session.scalars(select(Document)).all()
        folder = Path(app.config["UPLOAD_FOLDER"])
        assert sorted(_files(folder)) == sorted([doc.storage_name, doc.thumb_name])


OUTBOX_SEND = ROOT / "secgo" / "static" / "js" / "outbox-send.js"
NODE_SEND = r"""
const fs = require('fs'); const vm = require('vm');
const answer = JSON.parse(process.argv[2]);
globalThis.self = globalThis;
// Browsers truncate a fractional timeout (WebIDL [EnforceRange]); node refuses it: truncate.
const timeout = AbortSignal.timeout.bind(AbortSignal);
AbortSignal.timeout = (ms) => timeout(Math.floor(ms));
globalThis.fetch = async () => new Response(answer.body, { status: answer.status, headers: answer.headers });
vm.runInThisContext(fs.readFileSync(process.argv[1], 'utf8'));
const item = { seq: 1, key: 'k', url: '/orders/SEC-1/updates', user: '7', fields: [['status', 'ready']],
               files: [{ name: 'photos', blob: new Blob([new Uint8Array(10)], { type: 'image/jpeg' }),
                         filename: 'a.jpg' }] };
// A 'failed' outcome would write the item to IndexedDB, which node has not: it would throw.
self.SecgoOutbox.send(item, 'token').then((r) => console.log(JSON.stringify(r)),
                                           (e) => { console.log(JSON.stringify({ thrown: String(e) })); });
"""


@pytest.mark.parametrize("app", NO_CSRF, indirect=True)
def test_the_outbox_keeps_a_report_the_server_could_not_store_and_retries_it(
        app, world, client, auth, upload_fault):
    """The server's real 507 answer, played to the outbox's own send rules (outbox-send.js)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    ref = make_order(app, world)
    upload_fault("not-a-folder")
    auth.login("producer")
    body, content_type = multipart({"status": "ready"}, [("photos", "a.jpg", noise_photo((200, 150)))])
    refused = client.post(f"/orders/{ref}/updates", data=body, content_type=content_type,
                          headers={"Accept": "application/json", "Idempotency-Key": str(uuid.uuid4())})
    assert refused.status_code == 507
    answer = {"status": refused.status_code, "body": refused.get_data(as_text=True),
              "headers": {k: v for k, v in refused.headers.items() if k.lower() in ("content-type", "retry-after")}}
    run = subprocess.run([node, "-e", NODE_SEND, str(OUTBOX_SEND), json.dumps(answer)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result.get("outcome") == "retry", result  # kept, sent again; never 'failed'
    assert result["retryAfter"] == 60000


# --- the push worker killed with SIGKILL mid-batch, then restarted --------------------------

class HoldingPushService(PushService):
    """The test push service, slow to answer; the n-th push is accepted, then its answer held
    until released: a worker killed then has handed it over without knowing."""

    def __init__(self, key, delay, hold_at):
        super().__init__(key, delay=delay)
        self.hold_at, self.holding, self.release = hold_at, threading.Event(), threading.Event()

    def handle(self, path, headers, body):
        answer = super().handle(path, headers, body)
        with self.lock:
            nth = len(self.received)
        if nth == self.hold_at:
            self.holding.set()
            self.release.wait(60)
        return answer


def _worker(env, log):
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "secgo", "push-worker"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _outbox(app) -> list:
    with app.app_context():
        rows = db.session.execute(select(Notification.id, Notification.state, Notification.attempts,
                                         Notification.lease_until, Notification.last_error)).all()
        deliveries = db.session.execute(select(PushDelivery.notification_id, PushDelivery.subscription_id,
                                               PushDelivery.state)).all()
        db.session.rollback()
    return [tuple(r) for r in rows] + [tuple(d) for d in deliveries]


def _wait(what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.2)
    return False


def test_a_push_worker_killed_mid_batch_and_restarted_delivers_everything_and_doubles_only_the_push_in_flight(
        app, world, tmp_path, database_url):
    with app.app_context():
        key = load_keys().application_server_key
        db.session.execute(delete(Notification))
        db.session.commit()
    service = HoldingPushService(key, delay=0.15, hold_at=7)
    with service:
        app.config["PUSH_ALLOWED_HOSTS"] = service.origin
        with app.app_context():
            customer = db.session.scalar(select(User).where(User.username == "customer"))
            devices = []
            for _ in range(2):
                device = service.new_device()
                push_services.save(customer, {**service.subscription(device), "events": None}, "Android")
                devices.append(device)
            db.session.commit()
            order = make_issue_order(world.orgs["farm"], world.orgs["buyer"])
            for i in range(12):  # status updates (with a Topic) and deliveries (urgent: the phone alerts)
                notify.enqueue("status_update" if i % 2 else "delivery", [customer], order=order,
                               url=f"/orders/{order.reference}",
                               params={"reference": order.reference, "status": "at_border",
                                       "condition": "good", "received": "100"})
            db.session.commit()
            ids = list(db.session.scalars(select(Notification.id)))
        env = {**os.environ, "SECGO_DATABASE_URL": database_url, "SECGO_INSTANCE_PATH": str(tmp_path / "instance"),
               "SECGO_PUSH_ALLOWED_HOSTS": service.origin, "SECGO_PUSH_LEASE_SECONDS": "3",
               "SECGO_PUSH_POLL_SECONDS": "1", "SECGO_LOG_FORMAT": "text"}
        log_path = tmp_path / "worker.log"
        with open(log_path, "wb") as log:
            kills = []
            worker = _worker(env, log)
            try:
                # Kill 1: while the push service holds the answer to a push it has taken.
                assert service.holding.wait(120), log_path.read_text()
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(30)
                kills.append(len(service.received))
                service.release.set()
                # Kill 2: a while into the next worker's batch, wherever it is (the service is slow).
                worker = _worker(env, log)
                assert _wait(lambda: len(service.received) >= kills[0] + 5, 120), log_path.read_text()
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(30)
                kills.append(len(service.received))
                worker = _worker(env, log)

                def done():
                    with app.app_context():
                        states = set(db.session.scalars(select(Notification.state).where(Notification.id.in_(ids))))
                        db.session.rollback()
                    return states == {"sent"}

                assert _wait(done, 180), (log_path.read_text(), _outbox(app))
            finally:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
                    try:
                        worker.wait(30)
                    except subprocess.TimeoutExpired:
                        os.killpg(worker.pid, signal.SIGKILL)
    assert service.errors == []
    counts = service.count()
    pairs = {(d.token, nid) for d in devices for nid in ids}
    assert set(counts) == pairs, "every notification reached every device"
    doubled = {pair: n for pair, n in counts.items() if n > 1}
    # Only a push in flight when a worker died may arrive twice: one per kill at most, and the
    # held one surely did. The second copy asks the phone not to alert again, same tag.
    assert 1 <= len(doubled) <= len(kills) and set(doubled.values()) == {2}, counts
    for token, nid in doubled:
        first, again = [r for r in service.received if r.token == token and r.payload["id"] == nid]
        assert again.payload["renotify"] is False  # (the first alerts only when urgent)
        assert {k: v for k, v in again.payload.items() if k != "renotify"} == \
               {k: v for k, v in first.payload.items() if k != "renotify"}
        assert again.headers.get("topic") == first.headers.get("topic")
    with app.app_context():
        states = dict(db.session.execute(select(PushDelivery.state, func.count()).group_by(PushDelivery.state)).all())
    assert states == {"sent": len(pairs)}
    assert "again" in log_path.read_text()


# --- PostgreSQL restarted in the middle of the load test ------------------------------------

@pytest.mark.once  # its own PostgreSQL, whichever database the suite runs on
def test_postgresql_restarted_under_load_loses_nothing_stores_nothing_twice_and_answers_503_meanwhile():
    """bench/faults.py, CI-sized: its own throwaway PostgreSQL (never the shared one), restarted
    with -m fast and then -m immediate while 15 phones keep sending; gunicorn is not restarted."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL server binaries are not installed")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faults.py"), "--phones", "15", "--duration", "16",
         "--workers", "2", "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    assert "NO LOSS" in result.stdout

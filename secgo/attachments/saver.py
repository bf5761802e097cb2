"""The data saver: photos go first as small previews, the full photo follows once.

A phone with the saver on (static/js/photos.js, outbox.js) sends a report with previews of at
most 60 KB, each under its own id (a client UUID, form field `preview_keys`, one per photo
file). The full photo stays in the phone's outbox and follows on Wi-Fi, when the saver is off,
or when asked: by its sender ("Send full photo now") or by a party of the order ("Ask for the
full photo", recorded in `wanted_at`, which the sender's outbox reads through wanted()). It
replaces the preview in the same row, once, and only if it is the same picture.
"""
import hashlib
import io
import uuid

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import exists, select

from ..authz import visible_orders_clause
from ..errors import ApiError
from ..extensions import db
from ..models import Attachment, Order, utcnow
from .services import (
    MAX_PHOTO_BYTES,
    _linked_orders,
    _refuse,
    _store,
    clean_photo,
    remove_when_committed,
    storage_path,
    store_files,
)

PREVIEW_MAX_BYTES = 60 * 1024  # what the phone makes (photos.js PREVIEW_BYTES)
PREVIEW_UPLOAD_BYTES = 64 * 1024  # what the server takes as a preview
PREVIEW_QUALITIES = (85, 75, 65, 55, 45, 35, 30, 25, 20)
MAX_KEYS = 50  # previews one wanted() question may ask about
# Same picture: the two, made 32 x 32 and gray, differ by at most this much on average (of
# 255; a 60 KB preview against its own full photo: about 2; another photo: 20 and more; the
# same scene taken again a step aside: 3-5, refused only when it moved more than that).
SAME_PICTURE_DIFF = 5.0
SAME_ASPECT = 0.03


def is_key(value) -> bool:
    """A client's photo id: a UUID in its canonical text."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


def check_keys(user, keys, n_files: int) -> list:
    """A write's preview keys, one per photo file ("" for a full photo); none: all are full."""
    keys = list(keys or [])
    if not keys:
        return [""] * n_files
    message = _l("These photo previews do not match the photos sent.")
    if user is None or len(keys) != n_files or any(k and not is_key(k) for k in keys):
        _refuse(422, message, field="preview_keys")
    named = [k.lower() for k in keys if k]
    if len(set(named)) != len(named):
        _refuse(422, message, field="preview_keys")
    return [k.lower() for k in keys]


def save_preview(user, data: bytes, key: str) -> Attachment:
    """Clean and store a preview under the phone's id for it (once: the same id again with the
    same picture is the same row; with another picture, refused)."""
    if len(data) > PREVIEW_UPLOAD_BYTES:
        _refuse(413, _l("A photo preview may be at most %(kb)s KB.", kb=PREVIEW_MAX_BYTES // 1024))
    jpeg, thumb, width, height = clean_photo(data, qualities=PREVIEW_QUALITIES,
                                             max_bytes=max(len(data), PREVIEW_MAX_BYTES))
    row = db.session.scalar(select(Attachment).where(Attachment.uploaded_by_id == user.id,
                                                     Attachment.photo_key == key))
    if row is not None:
        if row.preview and not _same(storage_path(row), jpeg):
            _refuse(409, _l("This photo id is already used for another photo."), field="preview_keys")
        return row
    row = _store(user, jpeg, thumb, width, height, fresh=True)
    row.preview, row.photo_key = True, key
    return row


def _gray(data_or_path) -> Image.Image:
    source = data_or_path if not isinstance(data_or_path, bytes) else io.BytesIO(data_or_path)
    with Image.open(source) as img:
        img.draft("L", (64, 64))  # a JPEG decodes at 1/8 scale: fast for a 2048 px photo
        return img.convert("L")


def _same(preview, full: bytes) -> bool:
    """Whether a full photo shows the same picture as the preview (a path or bytes)."""
    try:
        a, b = _gray(preview), _gray(full)
    except (OSError, ValueError):
        return False
    if abs(a.width / a.height - b.width / b.height) > SAME_ASPECT * (a.width / a.height):
        return False
    a, b = a.resize((32, 32), Image.Resampling.BOX), b.resize((32, 32), Image.Resampling.BOX)
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0] <= SAME_PICTURE_DIFF


def own_preview(user, key: str) -> Attachment:
    """The uploader's photo under this id (404 for anyone else, or an unknown id)."""
    row = None
    if user is not None and is_key(key):
        row = db.session.scalar(select(Attachment).where(Attachment.uploaded_by_id == user.id,
                                                         Attachment.photo_key == key.lower()))
    if row is None:
        raise ApiError(404)
    return row


def send_full(user, key: str, data: bytes | None) -> Attachment:
    """The full photo replaces its preview: same row (the pages show it at once), new bytes."""
    row = own_preview(user, key)
    if not row.preview:
        raise ApiError(409, _l("The full photo was sent already."))
    if not data:
        _refuse(422, _l("Attach the full photo in the field “photo”."), field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        _refuse(413, _l("A photo may be at most %(mb)s MB.", mb=MAX_PHOTO_BYTES // (1024 * 1024)),
                field="photo")
    try:
        jpeg, thumb, width, height = clean_photo(data)
    except ApiError as err:
        raise ApiError(err.status, err.message, fields={"photo": err.message}) from None
    if width < row.width:  # less than the preview: keep the preview
        _refuse(422, _l("This is not the full photo: it is smaller than its preview."), field="photo")
    if not _same(storage_path(row), jpeg):
        _refuse(422, _l("This is not the same picture as its preview. Nothing was changed."),
                field="photo")
    # The preview's files go once this commits, unless another photo has the same bytes
    # (files are named by their content).
    if not db.session.scalar(select(exists().where(Attachment.sha256 == row.sha256,
                                                   Attachment.id != row.id))):
        remove_when_committed(storage_path(row), storage_path(row, thumb=True))
    row.sha256 = hashlib.sha256(jpeg).hexdigest()
    store_files("photo", "full photo", (storage_path(row), jpeg), (storage_path(row, thumb=True), thumb))
    row.size, row.width, row.height = len(jpeg), width, height
    row.preview, row.wanted_at = False, None
    db.session.flush()
    return row


def want_full(user, attachment_id: int) -> Attachment:
    """A party of an order the preview is part of asks for its full photo (recorded once)."""
    row = db.session.get(Attachment, attachment_id)
    linked = _linked_orders(attachment_id).subquery()
    if row is None or user is None or not db.session.scalar(
            select(exists().where(Order.id.in_(select(linked.c[0])), visible_orders_clause(user)))):
        raise ApiError(404)
    if row.preview and row.wanted_at is None:
        row.wanted_at = utcnow()
        db.session.flush()
    return row


def wanted(user, keys) -> list:
    """Which of these previews of the user someone asked the full photo of."""
    keys = [k.lower() for k in keys if is_key(k)][:MAX_KEYS]
    if not keys:
        return []
    return sorted(db.session.scalars(select(Attachment.photo_key).where(
        Attachment.uploaded_by_id == user.id, Attachment.photo_key.in_(keys),
        Attachment.preview.is_(True), Attachment.wanted_at.is_not(None))))


def photo_state(row: Attachment) -> dict:
    """What a write about a photo answers: its id, whether it is still a preview, its size."""
    return {"id": row.id, "preview": row.preview, "size": row.size, "width": row.width,
            "height": row.height, "wanted": row.wanted_at is not None}


def order_page_of(row: Attachment) -> str | None:
    """The page of the first order the photo is part of (where a plain form goes back to)."""
    from flask import url_for

    linked = _linked_orders(row.id).subquery()
    reference = db.session.scalar(select(Order.reference).where(Order.id.in_(select(linked.c[0])))
                                  .order_by(Order.id).limit(1))
    return url_for("orders.detail", reference=reference) if reference else None


def run_full(posted, user, key):
    """writes.Write run: the full photo of the user's preview `key`."""
    data = posted.files[0].read(MAX_PHOTO_BYTES + 1) if posted.files else None
    row = send_full(user, key, data)
    return 200, photo_state(row), None


def run_want(posted, user, attachment_id):
    """writes.Write run: ask for the full photo of a preview."""
    del posted  # the URL says it all
    row = want_full(user, attachment_id)
    return 200, photo_state(row), order_page_of(row)

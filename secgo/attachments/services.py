"""Photo rules: what is accepted, how it is cleaned and stored, and who may see it."""
import hashlib
import io
import logging
import os
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session

from ..authz import visible_orders_clause
from ..errors import MESSAGES, ApiError
from ..extensions import db
from ..ids import is_id
from ..models import (
    Attachment,
    DeliveryConfirmation,
    Issue,
    IssueComment,
    Order,
    StatusUpdate,
)
from ..models.issue import comment_photos, issue_photos
from ..models.order import delivery_photos, update_photos

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 6
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb
MAX_SIDE = 2048  # the browser already shrinks to 1600; the server caps what others send
THUMB_SIDE = 320
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# A signature drawn on the screen (static/js/signature.js sends a PNG of its canvas): a line
# drawing, small; anything else is not a signature pad's picture.
MAX_SIGNATURE_BYTES = 512 * 1024
SIGNATURE_MIN = (60, 30)
SIGNATURE_MAX = (2400, 1200)
SIGNATURE_FIELD = "signature"
log = logging.getLogger(__name__)


def _refuse(status, message, field="photos"):
    raise ApiError(status, message, fields={field: message})


def _open_image(data: bytes, formats=FORMATS):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in formats:
                _refuse(415, _l("Only photos (JPEG, PNG or WebP) can be attached."))
            width, height = img.size
            if width * height > MAX_PIXELS or width > 20000 or height > 20000:
                _refuse(422, _l("This picture has too many pixels."))
            img.load()
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(422, _l("This picture has too many pixels."))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        _refuse(415, _l("Only photos (JPEG, PNG or WebP) can be attached."))
    return img


def clean_photo(data: bytes, *, formats=FORMATS, max_side=MAX_SIDE,
                qualities=(82,), max_bytes=None) -> tuple[bytes, bytes, int, int]:
    """Check a photo by its content; return (JPEG, thumbnail JPEG, width, height) without
    metadata. Documents (secgo.documents) take HEIC too and keep more pixels for the text."""
    if not data:
        _refuse(422, _l("The photo is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        _refuse(413, _l("A photo may be at most %(mb)s MB.", mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    img = _open_image(data, formats)
    img = ImageOps.exif_transpose(img)  # keep the orientation the camera meant, then drop EXIF
    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, "white")
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    img = img.convert("RGB")
    img.thumbnail((max_side, max_side))
    # A fresh image carries pixels only: no EXIF, GPS, ICC, XMP or comments.
    clean = Image.frombytes("RGB", img.size, img.tobytes())
    for quality in qualities:  # a preview (secgo.attachments.saver) stays as small as it came
        out = io.BytesIO()
        clean.save(out, "JPEG", quality=quality, optimize=True)
        if max_bytes is None or out.tell() <= max_bytes:
            break
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    tout = io.BytesIO()
    thumb.save(tout, "JPEG", quality=75)
    return out.getvalue(), tout.getvalue(), clean.width, clean.height


class StorageFailed(Exception):
    """The upload folder refused a file (full, read-only, missing); nothing was left there."""


def _write(path: Path, data: bytes) -> bool:
    """Store data at path whole or not at all (a temporary file renamed into place); True
    when this call created the file, False when it was there already (same content)."""
    if path.exists():
        return False
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # a full disk may only say so here
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)  # never a partial file left behind
        raise StorageFailed(f"{path.parent}: {err.strerror or err}") from err
    return True


def _remove(path: Path) -> None:
    """Remove a file of ours; a folder that cannot even be read holds none."""
    try:
        path.unlink(missing_ok=True)
    except NotADirectoryError:
        pass
    except OSError as err:
        log.error("could not remove %s: %s", path, err.strerror or err)


_LEFT = "secgo.files_left"  # session.info: files a transaction leaves, removed once it commits


def remove_when_committed(*paths: Path) -> None:
    """Remove these files of ours once the session's transaction commits (a row that no longer
    points to them); nothing is removed when it rolls back."""
    db.session.info.setdefault(_LEFT, []).extend(paths)


@event.listens_for(Session, "after_commit")
def _remove_left_files(session) -> None:
    for path in session.info.pop(_LEFT, ()):
        _remove(path)


@event.listens_for(Session, "after_soft_rollback")
def _keep_left_files(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_LEFT, None)


def store_files(field: str, what: str, *files: tuple[Path, bytes]) -> None:
    """Store an upload's files (path, bytes), before its row is added: a row never points to a
    file that is not there. When the disk is full or the folder unwritable: no file of this
    call left, and a 507 for `field` that the outbox keeps the report for, to send again later
    (secgo/static/js/outbox-send.js)."""
    created = []
    try:
        for path, data in files:
            if _write(path, data):
                created.append(path)
    except StorageFailed as err:
        for path in created:
            _remove(path)
        log.error("%s not stored: %s", what, err)
        raise ApiError(507, fields={field: MESSAGES[507]}) from err


def storage_path(attachment: Attachment, thumb: bool = False) -> Path:
    """Where the attachment's bytes live under UPLOAD_FOLDER."""
    name = attachment.storage_name
    if thumb and not attachment.is_voice:
        name = name[: -len(attachment.extension) - 1] + ".thumb.jpg"
    return Path(current_app.config["UPLOAD_FOLDER"]) / name


def clean_signature(data: bytes) -> tuple[bytes, bytes, int, int]:
    """Check a drawn signature by its content (a PNG of sensible size and shape) and return it
    as clean_photo does: flattened on white, re-encoded, without metadata."""
    field = SIGNATURE_FIELD
    if not data:
        _refuse(422, _l("Sign in the box first."), field)
    if len(data) > MAX_SIGNATURE_BYTES:
        _refuse(413, _l("This signature is too big."), field)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        _refuse(415, _l("This is not a signature drawn in the box."), field)
    try:
        img = _open_image(data)
    except ApiError:
        _refuse(415, _l("This is not a signature drawn in the box."), field)
    if img.format != "PNG":
        _refuse(415, _l("This is not a signature drawn in the box."), field)
    width, height = img.size
    if not (SIGNATURE_MIN[0] <= width <= SIGNATURE_MAX[0]
            and SIGNATURE_MIN[1] <= height <= SIGNATURE_MAX[1]):
        _refuse(422, _l("This signature has an unusual size. Sign in the box again."), field)
    return clean_photo(data)


def save_signature(user, data: bytes) -> Attachment:
    """Clean and store one drawn signature (as a photo is stored)."""
    return _store(user, *clean_signature(data))


def save_photo(user, data: bytes) -> Attachment:
    """Clean and store one photo; the same person uploading the same photo twice gets one row."""
    return _store(user, *clean_photo(data))


def _store(user, jpeg: bytes, thumb: bytes, width: int, height: int, *, mime: str = "image/jpeg",
           field: str = "photos", fresh: bool = False) -> Attachment:
    """Store a cleaned picture (or a cleaned PDF, mime application/pdf) once per uploader: the
    files first, then its row (fresh: a row of its own, as a preview that will change)."""
    digest = hashlib.sha256(jpeg).hexdigest()
    user_id = user.id if user is not None else None
    row = None if fresh else db.session.scalar(
        select(Attachment).where(Attachment.sha256 == digest, Attachment.uploaded_by_id == user_id,
                                 Attachment.photo_key.is_(None))  # a preview's row changes
    ) if user_id is not None else None
    if row is not None:
        return row
    row = Attachment(sha256=digest, mime=mime, size=len(jpeg), width=width, height=height,
                     uploaded_by_id=user_id)
    store_files(field, "photo", (storage_path(row), jpeg), (storage_path(row, thumb=True), thumb))
    db.session.add(row)
    db.session.flush()
    return row


def photos_from_request(user, files, ids=(), preview_keys=()) -> list[Attachment]:
    """Photos of a write: new files (cleaned and stored) plus ids uploaded earlier by this user;
    with preview_keys (the data saver: one per file, "" for a full photo) a file with a key is
    a small preview, stored under that key until its full photo follows."""
    from .saver import check_keys, save_preview  # the saver builds on this module's intake

    files = [f for f in files if f and f.filename]
    ids = list(ids or [])
    if len(files) + len(ids) > MAX_PHOTOS:
        _refuse(422, _l("At most %(n)s photos.", n=MAX_PHOTOS))
    keys = check_keys(user, preview_keys, len(files))
    photos = [save_preview(user, f.read(MAX_PHOTO_BYTES + 1), key) if key
              else save_photo(user, f.read(MAX_PHOTO_BYTES + 1))
              for f, key in zip(files, keys, strict=True)]
    if ids:
        if user is None or not all(is_id(i) for i in ids):
            _refuse(422, _l("Unknown photo."), field="photo_ids")
        # Photos only: a voice note or a certificate's PDF is never a write's photo.
        found = db.session.scalars(
            select(Attachment).where(Attachment.id.in_(ids), Attachment.uploaded_by_id == user.id,
                                     Attachment.mime == "image/jpeg")
        ).all()
        if len(found) != len(set(ids)):
            _refuse(422, _l("Unknown photo."), field="photo_ids")
        photos.extend(found)
    unique = []
    for photo in photos:
        if photo not in unique:
            unique.append(photo)
    return unique


def _linked_orders(attachment_id):
    """A subquery of the orders an attachment (a photo or a voice note) is part of."""
    via_update = select(StatusUpdate.order_id).join(
        update_photos, update_photos.c.update_id == StatusUpdate.id
    ).where(update_photos.c.attachment_id == attachment_id)
    via_delivery = select(DeliveryConfirmation.order_id).join(
        delivery_photos, delivery_photos.c.delivery_id == DeliveryConfirmation.id
    ).where(delivery_photos.c.attachment_id == attachment_id)
    via_issue = select(Issue.order_id).join(
        issue_photos, issue_photos.c.issue_id == Issue.id
    ).where(issue_photos.c.attachment_id == attachment_id)
    via_comment = select(Issue.order_id).join(
        IssueComment, IssueComment.issue_id == Issue.id
    ).join(comment_photos, comment_photos.c.comment_id == IssueComment.id).where(
        comment_photos.c.attachment_id == attachment_id
    )
    signature = select(DeliveryConfirmation.order_id).where(
        DeliveryConfirmation.signature_id == attachment_id)
    voice = [  # a voice note is one column on each of the four
        select(StatusUpdate.order_id).where(StatusUpdate.voice_id == attachment_id),
        select(DeliveryConfirmation.order_id).where(DeliveryConfirmation.voice_id == attachment_id),
        select(Issue.order_id).where(Issue.voice_id == attachment_id),
        select(Issue.order_id).join(IssueComment, IssueComment.issue_id == Issue.id)
        .where(IssueComment.voice_id == attachment_id),
    ]
    return via_update.union(via_delivery, via_issue, via_comment, signature, *voice)


def can_see(user, attachment: Attachment) -> bool:
    """Its uploader, whoever may see an order it belongs to, and whoever may see a producer
    profile it is a photo or certificate of."""
    if user is None or not user.is_authenticated:
        return False
    if attachment.uploaded_by_id == user.id:
        return True
    linked = _linked_orders(attachment.id).subquery()
    if db.session.scalar(
        select(exists().where(Order.id.in_(select(linked.c[0])), visible_orders_clause(user)))
    ):
        return True
    from ..profiles.services import shows_attachment  # profiles use this module's photo intake

    return shows_attachment(user, attachment.id)


def belongs_to_order(attachment_id: int, order_id: int) -> bool:
    """True when the attachment is part of that order's history (for tracking links)."""
    linked = _linked_orders(attachment_id).subquery()
    return bool(db.session.scalar(select(exists().where(linked.c[0] == order_id))))


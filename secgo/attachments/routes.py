from flask import Response, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..errors import ApiError
from ..extensions import db
from ..models import Attachment
from . import bp, saver
from .services import can_see, storage_path


def send_voice(attachment: Attachment):
    """A stored voice note (AAC in MP4) with Range requests answered 206: Safari fetches media
    in ranges and will not play a file served whole. Private: only the browser that fetched it
    may keep it (the bytes never change)."""
    path = storage_path(attachment)
    if not path.exists():
        raise ApiError(404)
    data = path.read_bytes()  # a minute is about 180 KB
    response = Response(data, mimetype=attachment.mime)
    response.set_etag(attachment.sha256)
    response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    return response


PAPER_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def send_paper(path, etag: str, mime: str, *, thumb=False, filename="", download=False) -> Response:
    """A stored paper (an order's document, a profile's certificate): never sniffed, cached only
    by the browser that fetched it. A PDF opens in the browser's viewer inside a sandbox (no
    script, no form, no plugin of the file reaches the site); download=True, or a photo, comes
    as a file to save; a thumbnail shows inline."""
    if not path.exists():
        raise ApiError(404)
    etag = etag + ("t" if thumb else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(path.read_bytes(), mimetype="image/jpeg" if thumb else mime)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PAPER_CSP
    if thumb:
        response.headers["Content-Disposition"] = "inline"
    else:
        how = "inline" if mime == "application/pdf" and not download else "attachment"
        response.headers["Content-Disposition"] = f'{how}; filename="{filename}"'
    return response


def send_photo(attachment: Attachment, thumb: bool = False):
    """The stored JPEG, cacheable only by the browser that fetched it (photos never change);
    a voice note through send_voice (it has no thumbnail), a certificate's PDF as a paper."""
    if attachment.is_voice:
        if thumb:
            raise ApiError(404)
        return send_voice(attachment)
    if attachment.is_pdf:
        return send_paper(storage_path(attachment, thumb=thumb), attachment.sha256, attachment.mime,
                          thumb=thumb, filename=f"certificate-{attachment.id}.pdf",
                          download=request.args.get("download") == "1")
    path = storage_path(attachment, thumb=thumb)
    if not path.exists():
        raise ApiError(404)
    etag = attachment.sha256 + ("t" if thumb else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.set_etag(etag)
    # A preview's full photo may come at any time (secgo.attachments.saver): ask again each time.
    response.headers["Cache-Control"] = "private, no-cache" if attachment.preview else "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    return response


def _visible(attachment_id) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not can_see(current_user, attachment):
        raise ApiError(404)
    return attachment


@bp.get("/attachments/<int:attachment_id>")
@login_required
def photo(attachment_id):
    return send_photo(_visible(attachment_id))


@bp.get("/attachments/<int:attachment_id>/thumb")
@login_required
def thumb(attachment_id):
    return send_photo(_visible(attachment_id), thumb=True)


# --- the data saver (secgo.attachments.saver): the full photo follows its preview ------------
# (secgo.writes reads photos through this package: its Writes are made on first use.)
WANTED_FLASH = _l("Asked. The full photo comes when the sender has a good connection.")


def saver_writes():
    """The data saver's two writes: the full photo (page and API), the wish for it."""
    from ..writes import Write

    return (Write("attachments.full", saver.run_full, files="photo"),
            Write("attachments.want", saver.run_want, body=None, flash=WANTED_FLASH))


@bp.post("/photos/<key>/full")
@login_required
def full_photo(key):
    from ..writes import submit

    return submit(saver_writes()[0], current_user, key)


@bp.post("/attachments/<int:attachment_id>/want")
@login_required
def want_full(attachment_id):
    from ..writes import submit

    return submit(saver_writes()[1], current_user, attachment_id)


@bp.get("/photos/wanted")
@login_required
def wanted():
    """The outbox asks, while it holds full photos, which of them someone has asked for."""
    keys = request.args.get("keys", "")[:saver.MAX_KEYS * 37].split(",")
    return {"wanted": saver.wanted(current_user, keys)}, 200, {"Cache-Control": "no-store"}

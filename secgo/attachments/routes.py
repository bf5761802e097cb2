from flask import Response, request
from flask_login import current_user, login_required

from ..errors import ApiError
from ..extensions import db
from ..models import Attachment
from . import bp
from .services import can_see, storage_path


def send_photo(attachment: Attachment, thumb: bool = False):
    """The stored JPEG, cacheable only by the browser that fetched it (photos never change)."""
    path = storage_path(attachment, thumb=thumb)
    if not path.exists():
        raise ApiError(404)
    etag = attachment.sha256 + ("t" if thumb else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=86400"
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

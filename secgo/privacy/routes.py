"""Download my data (everyone, their own); erase a person (admins, after typing their login)."""
from flask import Response, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..attachments.services import storage_path
from ..authz import roles_required
from ..errors import ApiError
from ..extensions import db, limiter
from ..idempotency import new_client_id
from ..models import User, utcnow
from ..onboarding.routes import current_actor
from ..writes import Write, submit
from . import bp, services


@bp.post("/export")
@login_required
@limiter.limit("5 per hour", key_func=lambda: f"export-{current_user.id}")
def export():
    """A zip of everything SEC GO! holds about the signed-in person, with their photos."""
    user = current_user._get_current_object()
    body = services.export_zip(user, storage_path)
    db.session.commit()  # the download's audit event
    name = f"secgo-my-data-{user.username}-{utcnow():%Y%m%d}.zip"
    return Response(body, 200, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _person(user_id) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        raise ApiError(404)
    return person


@bp.get("/people/<int:user_id>/erase")
@roles_required("admin")
def erase_confirm(user_id):
    return render_template("privacy/erase.html", person=_person(user_id), errors={},
                           client_id=new_client_id())


def _erase(posted, actor, user_id):
    person = _person(user_id)
    if posted.fields.get("confirm", "").strip().lower() != person.username:
        raise ApiError(422, fields={"confirm": _l("Type the person's login to confirm.")})
    services.erase_person(actor, person)
    return 200, {"id": person.id, "erased": True}, url_for("admin.person", user_id=person.id)


def _erase_refused(refusal, actor, user_id):
    person = _person(user_id)
    errors = dict(refusal.errors) or {"confirm": refusal.message}
    return render_template("privacy/erase.html", person=person, errors=errors,
                           client_id=new_client_id()), refusal.status


ERASE = Write("privacy.erase", _erase, refused=_erase_refused,
              flash=_l("Personal data erased. The person's reports stay, by a former member."))


@bp.post("/people/<int:user_id>/erase")
@roles_required("admin")
def erase(user_id):
    return submit(ERASE, current_actor(), user_id)


import segno
from flask import abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth import services as accounts
from ..authz import managed_clusters, roles_required
from ..errors import ApiError
from ..extensions import db
from ..writes import Write, refuse_form, submit
from ..models import Invite, User, utcnow
from ..forms import choices
from . import bp, services
from .forms import InviteForm, OrganizationForm


def _link_page(user, token, purpose):
    url = url_for("auth.redeem", token=token, _external=True)
    # A viewBox and no fixed size: the stylesheet makes it large and centred; the 4-module
    # quiet zone is part of the drawing, and crisp edges keep every module sharp when scaled.
    qr = segno.make(url, error="m").svg_inline(
        dark="#111", light="#fff", border=4, omitsize=True, svgclass="qr-code"
    ).replace("<svg ", '<svg shape-rendering="crispEdges" focusable="false" aria-hidden="true" ', 1)
    response = render_template("onboarding/link.html", person=user, url=url, qr=qr, purpose=purpose)
    return response, 201, {"Cache-Control": "no-store"}


@bp.get("/")
@roles_required("coordinator", "admin")
def index():
    actor = current_actor()
    orgs = services.manageable_orgs(actor)
    org_ids = [o.id for o in orgs]
    people = db.session.scalars(
        select(User).where(User.organization_id.in_(org_ids)).order_by(User.display_name)
    ).all()
    pending = set(
        db.session.scalars(
            select(Invite.user_id).where(
                Invite.user_id.in_([p.id for p in people]), Invite.used_at.is_(None),
                Invite.expires_at > utcnow(),
            )
        )
    )
    by_org = {}
    for person in people:
        by_org.setdefault(person.organization_id, []).append(person)
    return render_template(
        "onboarding/index.html", orgs=orgs, by_org=by_org, pending=pending,
        need_admin=services.orgs_needing_an_admin(actor), ask_an_admin=services.ASK_AN_ADMIN,
    )


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def invite():
    actor = current_actor()
    form = InviteForm()
    form.set_roles(services.invitable_roles(actor))
    orgs = services.manageable_orgs(actor)
    form.organization.choices = choices([(0, "—")] + [(o.id, o.name) for o in orgs])
    clusters = managed_clusters(actor)
    form.clusters.choices = choices((c.id, c.name) for c in clusters)
    if request.method == "GET" and request.args.get("org", "").isdecimal():
        form.organization.data = int(request.args["org"])
    if form.validate_on_submit():
        try:
            org = services.organization_for_invite(actor, form.organization.data)
            user = accounts.create_user(
                username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, organization=org, email=form.email.data or None,
                phone=form.phone.data or None, locale=form.locale.data,
                timezone=form.timezone.data,
                clusters=services.coordinator_clusters(form.role.data, clusters, form.clusters.data),
            )
        except ApiError as err:
            db.session.rollback()
            for name, message in err.fields.items():
                getattr(form, name).errors.append(message)
        else:
            token = accounts.issue_link(user, "invite", actor)
            db.session.commit()
            return _link_page(user, token, "invite")
    return render_template("onboarding/invite.html", form=form), (422 if form.errors else 200)


@bp.post("/people/<int:user_id>/reset")
@roles_required("coordinator", "admin")
def reset(user_id):
    actor = current_actor()
    user = db.session.get(User, user_id)
    if user is None or not services.can_manage_user(actor, user):
        abort(404)
    token = accounts.issue_link(user, "reset", actor)
    db.session.commit()
    return _link_page(user, token, "reset")


def _create_organization(posted, actor, form):
    org = services.create_organization(
        actor, kind=form.kind.data, name=form.name.data, country=form.country.data,
        province=form.province.data or "", cluster_id=form.cluster.data,
    )
    return 201, {"id": org.id}, url_for("onboarding.index", _anchor=f"org-{org.id}")


def _refused_organization(refusal, actor, form):
    if not refusal.errors:
        return None
    for name, message in refusal.errors.items():
        getattr(form, name).errors.append(message)
    return render_template("onboarding/organization.html", form=form), 422


NEW_ORGANIZATION = Write("onboarding.organization", _create_organization,
                         refused=_refused_organization, flash=_l("Organization added."))


@bp.route("/organizations/new", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def new_organization():
    actor = current_actor()
    form = OrganizationForm()
    form.cluster.choices = choices([(0, "—")] + [(c.id, c.name) for c in managed_clusters(actor)])
    if request.method == "POST" and not form.validate():
        refuse_form(form)
    elif form.is_submitted():
        return submit(NEW_ORGANIZATION, actor, form)
    return render_template("onboarding/organization.html", form=form), (422 if form.errors else 200)


def current_actor() -> User:
    from flask_login import current_user

    return db.session.scalar(
        select(User).options(selectinload(User.clusters)).where(User.id == current_user.id)
    )

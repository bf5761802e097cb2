"""Admin pages: thin views over secgo.admin.services; every write goes through secgo.writes."""
from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..authz import managed_clusters, roles_required
from ..forms import choices
from ..onboarding.routes import current_actor
from ..writes import Write, submit
from . import bp, services
from .forms import ActionForm, ClusterForm, OrganizationForm, PersonForm

STAFF = ("coordinator", "admin")
TEXTS = ("name", "province", "product", "display_name")  # a Zawgyi guess is asked about


def _data(posted, *lists) -> dict:
    """The write's fields, with the multiple choices as lists (a form repeats the name)."""
    return {**posted.data, **{name: posted.getlist(name) for name in lists}}


def _show_errors(form, refusal) -> None:
    for name, message in refusal.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [message]


def _listing(template, page, **context):
    return render_template(template, page=page, **context)


# --- clusters (admins only) -------------------------------------------------------------------

@bp.get("/clusters")
@roles_required("admin")
def clusters():
    page = services.list_clusters(request.args.get("q", ""), services.page_number(request.args.get("page")))
    return _listing("admin/clusters.html", page)


def _cluster_page(form, cluster, status=200, message=None, zawgyi=None):
    form.coordinators.choices = choices(
        (u.id, f"{u.display_name} ({u.username})") for u in services.coordinator_choices())
    return render_template("admin/cluster.html", form=form, cluster=cluster, message=message,
                           zawgyi=zawgyi or {}), status


def _save_cluster(posted, cluster_id, form):
    cluster = services.get_cluster(cluster_id) if cluster_id else None
    cluster = services.save_cluster(cluster, _data(posted, "coordinators"))
    return (200 if cluster_id else 201), {"id": cluster.id}, url_for("admin.clusters", q=cluster.name)


def _cluster_refused(refusal, cluster_id, form):
    _show_errors(form, refusal)
    cluster = services.get_cluster(cluster_id) if cluster_id else None
    return _cluster_page(form, cluster, refusal.status,
                         None if refusal.errors else refusal.message, refusal.zawgyi)


SAVE_CLUSTER = Write("admin.cluster", _save_cluster, texts=TEXTS, refused=_cluster_refused,
                     flash=_l("Cluster saved."))


@bp.route("/clusters/new", methods=["GET", "POST"])
@roles_required("admin")
def new_cluster():
    form = ClusterForm()
    if request.method == "POST":
        return submit(SAVE_CLUSTER, None, form)
    return _cluster_page(form, None)


@bp.route("/clusters/<int:cluster_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_cluster(cluster_id):
    cluster = services.get_cluster(cluster_id)
    form = ClusterForm()
    if request.method == "POST":
        return submit(SAVE_CLUSTER, cluster_id, form)
    form.name.data, form.country.data = cluster.name, cluster.country
    form.province.data, form.product.data = cluster.province, cluster.product
    form.coordinators.data = [u.id for u in cluster.coordinators]
    return _cluster_page(form, cluster)


# --- organizations ----------------------------------------------------------------------------

@bp.get("/organizations")
@roles_required(*STAFF)
def organizations():
    page = services.list_organizations(current_actor(), request.args.get("q", ""),
                                       services.page_number(request.args.get("page")))
    return _listing("admin/organizations.html", page)


def _organization_page(actor, org, form, status=200, message=None, zawgyi=None):
    form.cluster.choices = choices([(0, "—")] + [(c.id, c.name) for c in services.cluster_choices(actor)])
    members = sorted(org.members, key=lambda u: (not u.active, u.display_name))
    return render_template("admin/organization.html", org=org, form=form, members=members,
                           action=ActionForm(formdata=None), message=message,
                           zawgyi=zawgyi or {}), status


def _save_organization(posted, actor, org_id, form):
    org = services.update_organization(actor, services.get_organization(actor, org_id), posted.data)
    return 200, {"id": org.id}, url_for("admin.organization", org_id=org.id)


def _organization_refused(refusal, actor, org_id, form):
    _show_errors(form, refusal)
    org = services.get_organization(actor, org_id)
    return _organization_page(actor, org, form, refusal.status,
                              None if refusal.errors else refusal.message, refusal.zawgyi)


SAVE_ORGANIZATION = Write("admin.organization", _save_organization, texts=TEXTS,
                          refused=_organization_refused, flash=_l("Organization saved."))


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def organization(org_id):
    actor = current_actor()
    org = services.get_organization(actor, org_id)
    if request.method == "POST":
        return submit(SAVE_ORGANIZATION, actor, org_id, OrganizationForm())
    return _organization_page(actor, org, _organization_form(org))


def _organization_form(org) -> OrganizationForm:
    """The form showing the organization as it is."""
    form = OrganizationForm(formdata=None, obj=org)
    form.cluster.data = org.cluster_id or 0
    return form


def _switch_organization(posted, actor, org_id, active):
    org = services.get_organization(actor, org_id)
    if active:
        services.reactivate_organization(actor, org)
    else:
        services.deactivate_organization(actor, org)
    return 200, {"id": org.id, "active": org.active}, url_for("admin.organization", org_id=org.id)


def _switch_organization_refused(refusal, actor, org_id, active):
    org = services.get_organization(actor, org_id)
    return _organization_page(actor, org, _organization_form(org), refusal.status, refusal.message)


DEACTIVATE_ORGANIZATION = Write(
    "admin.organization_off", _switch_organization, refused=_switch_organization_refused,
    flash=_l("Organization deactivated, with all its people: none of them can sign in now."))
REACTIVATE_ORGANIZATION = Write(
    "admin.organization_on", _switch_organization, refused=_switch_organization_refused,
    flash=_l("Organization reactivated. Its people stay deactivated until you reactivate each one."))


@bp.post("/organizations/<int:org_id>/deactivate")
@roles_required(*STAFF)
def deactivate_organization(org_id):
    return submit(DEACTIVATE_ORGANIZATION, current_actor(), org_id, False)


@bp.post("/organizations/<int:org_id>/reactivate")
@roles_required(*STAFF)
def reactivate_organization(org_id):
    return submit(REACTIVATE_ORGANIZATION, current_actor(), org_id, True)


# --- people -------------------------------------------------------------------------------------

@bp.get("/people")
@roles_required(*STAFF)
def people():
    page = services.list_people(current_actor(), request.args.get("q", ""),
                                services.page_number(request.args.get("page")))
    return _listing("admin/people.html", page)


def _person_page(actor, person, form, status=200, message=None, zawgyi=None):
    form.set_roles(services.role_choices(actor))
    orgs = services.organization_choices(actor)
    if person.organization is not None and person.organization not in orgs:
        orgs.append(person.organization)
    form.organization.choices = choices([(0, "—")] + [(o.id, o.name) for o in orgs])
    form.clusters.choices = choices((c.id, c.name) for c in managed_clusters(actor))
    return render_template("admin/person.html", person=person, form=form,
                           action=ActionForm(formdata=None), message=message,
                           zawgyi=zawgyi or {}), status


def _save_person(posted, actor, user_id, form):
    person = services.update_person(actor, services.get_person(actor, user_id), _data(posted, "clusters"))
    return 200, {"id": person.id}, url_for("admin.person", user_id=person.id)


def _person_refused(refusal, actor, user_id, form):
    _show_errors(form, refusal)
    person = services.get_person(actor, user_id)
    return _person_page(actor, person, form, refusal.status,
                        None if refusal.errors else refusal.message, refusal.zawgyi)


SAVE_PERSON = Write("admin.person", _save_person, texts=TEXTS, refused=_person_refused,
                    flash=_l("Saved."))


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def person(user_id):
    actor = current_actor()
    person = services.get_person(actor, user_id)
    if request.method == "POST":
        return submit(SAVE_PERSON, actor, user_id, PersonForm())
    return _person_page(actor, person, _person_form(person))


def _person_form(person) -> PersonForm:
    """The form showing the person as they are."""
    form = PersonForm(formdata=None, obj=person)
    form.organization.data = person.organization_id or 0
    form.clusters.data = [c.id for c in person.clusters]
    return form


def _switch_person(posted, actor, user_id, active):
    person = services.get_person(actor, user_id)
    if active:
        services.reactivate_person(actor, person)
    else:
        services.deactivate_person(actor, person)
    return 200, {"id": person.id, "active": person.active}, url_for("admin.person", user_id=person.id)


def _switch_person_refused(refusal, actor, user_id, active):
    person = services.get_person(actor, user_id)
    return _person_page(actor, person, _person_form(person), refusal.status, refusal.message)


DEACTIVATE_PERSON = Write(
    "admin.person_off", _switch_person, refused=_switch_person_refused,
    flash=_l("Deactivated: signed out on every device, and their API tokens no longer work."))
REACTIVATE_PERSON = Write("admin.person_on", _switch_person, refused=_switch_person_refused,
                          flash=_l("Reactivated: they can sign in again."))


@bp.post("/people/<int:user_id>/deactivate")
@roles_required(*STAFF)
def deactivate_person(user_id):
    return submit(DEACTIVATE_PERSON, current_actor(), user_id, False)


@bp.post("/people/<int:user_id>/reactivate")
@roles_required(*STAFF)
def reactivate_person(user_id):
    return submit(REACTIVATE_PERSON, current_actor(), user_id, True)

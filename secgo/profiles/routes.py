"""Profile, directory and enquiry pages: thin views over secgo.profiles.services; every write
goes through secgo.writes."""
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from .. import readmarks
from ..admin.services import page_number
from ..documents.services import MAX_DOCUMENT_BYTES, paper_attachment
from ..authz import (can_edit_cluster_profile, can_edit_profile, can_see_private_cluster_profile,
                     can_see_private_profile, can_use_directory, roles_required)
from ..errors import ApiError
from ..extensions import db
from ..models import CERT_KINDS, COUNTRIES, MARKETS, SPOKEN, Cluster
from ..writes import Write, submit
from . import bp, services
from .forms import EnquiryForm, ProfileForm, ReplyForm
from .labels import CERT_LABELS, market_name, month_label, month_name, percent, spoken_name

TEXTS = ("description", "description_en", "contact_name")
SPARE_ROWS = 2  # empty rows the edit page offers for a new product or certification


def _zone():
    try:
        return ZoneInfo(str(get_timezone()))
    except Exception:  # noqa: BLE001 - a zone Babel knows but zoneinfo not: UTC is near enough
        return ZoneInfo("UTC")


def _labels() -> dict:
    return {"CERT_LABELS": CERT_LABELS, "market_name": market_name, "month_name": month_name,
            "month_label": month_label, "percent": percent,
            "spoken_name": spoken_name, "CERT_KINDS": CERT_KINDS, "MARKETS": MARKETS,
            "SPOKEN": SPOKEN, "shown_text": _shown_text}


def _shown_text(own, english, country):
    return services.shown_text(own, english, country, str(get_locale()))


# --- a profile ------------------------------------------------------------------------------

@bp.get("/profiles/mine")
@login_required
def mine():
    """A producer's own profile; anyone else the directory."""
    if current_user.role == "producer" and current_user.organization_id:
        return redirect(url_for("profiles.profile", org_id=current_user.organization_id))
    return redirect(url_for("profiles.directory"))


def _profile_page(org, enquiry_form=None, status=200, message=None, zawgyi=None):
    profile = services.profile_of(org)
    record = services.track_record(org) if profile.show_track_record else None
    editable = can_edit_profile(current_user, org)
    return render_template(
        "profiles/profile.html", org=org, profile=profile, record=record,
        MIN_DELIVERED=services.MIN_DELIVERED, private=can_see_private_profile(current_user, org),
        editable=editable, today=services.today_in(_zone()),
        unread_enquiries=readmarks.enquiry_count(current_user) if editable else 0,
        enquiry_form=enquiry_form or (EnquiryForm(formdata=None) if current_user.role == "customer" else None),
        message=message, zawgyi=zawgyi or {}, **_labels()), status


@bp.get("/profiles/<int:org_id>")
@login_required
def profile(org_id):
    return _profile_page(services.get_producer(current_user, org_id))


def _values(profile) -> MultiDict:
    """The edit page's fields as the profile holds them."""
    values = MultiDict({"description": profile.description, "description_en": profile.description_en,
                        "contact_name": profile.contact_name, "contact_phone": profile.contact_phone})
    for code in profile.languages:
        values.add("contact_languages", code)
    for code in profile.markets:
        values.add("export_markets", code)
    if profile.capacity_private:
        values["capacity_private"] = "1"
    if profile.show_track_record:
        values["show_track_record"] = "1"
    for i, p in enumerate(profile.products):
        values.update({f"p{i}_name": p.name, f"p{i}_name_en": p.name_en, f"p{i}_unit": p.unit,
                       f"p{i}_capacity": "" if p.monthly_capacity is None
                       else format(p.monthly_capacity.normalize(), "f"),
                       f"p{i}_from": str(p.season_from or ""), f"p{i}_to": str(p.season_to or "")})
    for i, c in enumerate(profile.certifications):
        values.update({f"c{i}_kind": c.kind, f"c{i}_name": c.name,
                       f"c{i}_expires": c.expires_on.isoformat() if c.expires_on else "",
                       f"c{i}_doc": str(c.document_id or "")})
    for photo in profile.photos:
        values.add("photo_ids", str(photo.id))
    return values


def _rows_in(values, prefix, present, most) -> int:
    """How many rows the edit page draws: those filled in, then spare ones, at most `most`."""
    filled = [i for i in range(most) if any(values.get(f"{prefix}{i}_{n}") for n in present)]
    return min(most, (max(filled) + 1 if filled else 0) + SPARE_ROWS)


def _edit_page(org, values, status=200, errors=None, message=None, zawgyi=None):
    profile = services.profile_of(org)
    return render_template(
        "profiles/edit.html", org=org, profile=profile, values=values, errors=errors or {},
        form=ProfileForm(formdata=None), message=message, zawgyi=zawgyi or {},
        product_rows=_rows_in(values, "p", ("name", "name_en", "unit", "capacity"), services.MAX_PRODUCTS),
        cert_rows=_rows_in(values, "c", ("kind", "name", "expires"), services.MAX_CERTIFICATIONS),
        photos={p.id: p for p in profile.photos}, **_labels()), status


def form_data(form, user) -> dict:
    """The edit page's flat fields as the service's profile (the API sends this shape as JSON);
    a certification's new document (a PDF or a photo of the paper) goes through the documents'
    one cleaning first (secgo.documents.services.paper_attachment)."""
    data = {name: form.get(name) for name in ("description", "description_en", "contact_name",
                                               "contact_phone", "capacity_private", "show_track_record")}
    data["contact_languages"] = form.getlist("contact_languages")
    data["export_markets"] = form.getlist("export_markets")
    data["products"] = [
        {"name": form.get(f"p{i}_name"), "name_en": form.get(f"p{i}_name_en"),
         "unit": form.get(f"p{i}_unit"), "monthly_capacity": form.get(f"p{i}_capacity"),
         "season_from": form.get(f"p{i}_from"), "season_to": form.get(f"p{i}_to")}
        for i in range(services.MAX_PRODUCTS) if f"p{i}_name" in form]
    certs = []
    for i in range(services.MAX_CERTIFICATIONS):
        if f"c{i}_kind" not in form:
            continue
        row = {"kind": form.get(f"c{i}_kind"), "name": form.get(f"c{i}_name"),
               "expires_on": form.get(f"c{i}_expires"), "document_id": form.get(f"c{i}_doc")}
        upload = request.files.get(f"c{i}_file")
        if upload and upload.filename:
            try:
                row["document_id"] = paper_attachment(user, upload.read(MAX_DOCUMENT_BYTES + 1)).id
            except ApiError as err:
                raise ApiError(err.status, fields={f"certifications.{len(certs)}.document_id":
                                                   next(iter(err.fields.values()), err.message)}) from None
        certs.append(row)
    data["certifications"] = certs
    return data


def _save(posted, org):
    data = {**form_data(MultiDict(posted.lists), current_user), **{k: posted.data.get(k) for k in TEXTS}}
    services.save_profile(current_user, org, data, files=posted.files, photo_ids=posted.photo_ids)
    return 200, {"org_id": org.id}, url_for("profiles.profile", org_id=org.id)


def _refused(refusal, org):
    return _edit_page(org, request.form, refusal.status, refusal.errors,
                      None if refusal.errors else refusal.message, refusal.zawgyi)


SAVE = Write("profiles.save", _save, texts=TEXTS, refused=_refused, flash=_l("Profile saved."))


@bp.route("/profiles/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id):
    org = services.editable_producer(current_user, org_id)
    if request.method == "POST":
        return submit(SAVE, org)
    return _edit_page(org, _values(services.profile_of(org)))


# --- a cluster's profile ----------------------------------------------------------------------

def _cluster_values(profile) -> MultiDict:
    values = MultiDict({name: getattr(profile, name) for name in
                        ("description", "description_en", "contact_name", "contact_phone")})
    for code in profile.languages:
        values.add("contact_languages", code)
    for code in profile.markets:
        values.add("export_markets", code)
    return values


def _cluster_page(cluster, values, status=200, errors=None, message=None, zawgyi=None):
    return render_template("profiles/cluster_edit.html", cluster=cluster, values=values,
                           errors=errors or {}, form=ProfileForm(formdata=None), message=message,
                           zawgyi=zawgyi or {}, **_labels()), status


def _save_cluster(posted, cluster):
    form = MultiDict(posted.lists)
    data = {**{name: form.get(name) for name in ("description", "description_en", "contact_name",
                                                  "contact_phone")},
            "contact_languages": form.getlist("contact_languages"),
            "export_markets": form.getlist("export_markets"),
            **{k: posted.data.get(k) for k in TEXTS}}
    services.save_cluster_profile(current_user, cluster, data)
    return 200, {"cluster_id": cluster.id}, url_for("profiles.directory", cluster=cluster.id)


def _cluster_refused(refusal, cluster):
    return _cluster_page(cluster, request.form, refusal.status, refusal.errors,
                         None if refusal.errors else refusal.message, refusal.zawgyi)


SAVE_CLUSTER = Write("profiles.cluster_save", _save_cluster, texts=TEXTS, refused=_cluster_refused,
                     flash=_l("Profile saved."))


@bp.route("/clusters/<int:cluster_id>/profile/edit", methods=["GET", "POST"])
@login_required
def cluster_edit(cluster_id):
    """A cluster's own profile, edited by its coordinators and admins."""
    cluster = services.editable_cluster(current_user, cluster_id)
    if request.method == "POST":
        return submit(SAVE_CLUSTER, cluster)
    return _cluster_page(cluster, _cluster_values(services.cluster_profile_of(cluster)))


# --- the directory --------------------------------------------------------------------------

@bp.get("/directory")
@roles_required("customer", "coordinator", "admin")
def directory():
    error = None
    try:
        filters = services.parse_filters(request.args)
    except ApiError as err:
        error = next(iter(err.fields.values()), err.message)
        filters = services.parse_filters({**request.args.to_dict(), "capacity": ""})
    page = services.directory(current_user, filters, page_number(request.args.get("page")),
                              today=services.today_in(_zone()))
    cluster = db.session.get(Cluster, filters.cluster) if filters.cluster else None
    about = {}
    if cluster is not None:  # the cluster's page: its own profile above its producers
        about = {"cluster_profile": services.cluster_profile_of(cluster),
                 "cluster_private": can_see_private_cluster_profile(current_user, cluster),
                 "cluster_editable": can_edit_cluster_profile(current_user, cluster)}
    return render_template("profiles/directory.html", page=page, error=error, cluster=cluster, **about,
                           unread_enquiries=readmarks.enquiry_count(current_user),
                           provinces=services.provinces(filters.country), COUNTRIES=COUNTRIES,
                           today=services.today_in(_zone()), **_labels()), 422 if error else 200


# --- enquiries ------------------------------------------------------------------------------

def _create(posted, org):
    enquiry = services.create_enquiry(current_user, org, posted.data)
    return 201, {"id": enquiry.id}, url_for("profiles.enquiry", enquiry_id=enquiry.id)


def _create_refused(refusal, org):
    form = EnquiryForm()
    for name, text in refusal.errors.items():
        getattr(form, name if hasattr(form, name) else "body").errors = [text]
    return _profile_page(org, form, refusal.status, None if refusal.errors else refusal.message,
                         refusal.zawgyi)


CREATE = Write("profiles.enquiry", _create, texts=("product", "body"), refused=_create_refused,
               flash=_l("Enquiry sent."))


@bp.post("/profiles/<int:org_id>/enquiries")
@login_required
def new_enquiry(org_id):
    return submit(CREATE, services.get_producer(current_user, org_id))


@bp.get("/enquiries")
@login_required
def enquiries():
    items, total = services.list_enquiries(current_user, limit=100)
    return render_template("profiles/enquiries.html", items=items, total=total,
                           unread=readmarks.unread_ids(current_user, "enquiry", [e.id for e in items]),
                           directory=can_use_directory(current_user))


def _thread_page(enquiry, form=None, status=200, message=None, zawgyi=None, last_seen=None):
    first_new = next((i for i, m in enumerate(enquiry.messages) if last_seen and m.created_at > last_seen
                      and m.author_id != current_user.id), None)
    return render_template("profiles/enquiry.html", enquiry=enquiry, form=form or ReplyForm(formdata=None),
                           message=message, zawgyi=zawgyi or {}, first_new=first_new), status


@bp.get("/enquiries/<int:enquiry_id>")
@login_required
def enquiry(enquiry_id):
    found = services.get_enquiry(current_user, enquiry_id)
    # Opening the thread marks it seen after the page is made (readmarks.visit: never a write
    # inside this GET's read transaction).
    return _thread_page(found, last_seen=readmarks.visit(current_user, "enquiry", found))


def _reply(posted, enquiry):
    message = services.reply(current_user, enquiry, posted.data)
    return 201, {"id": message.id, "enquiry_id": enquiry.id}, url_for("profiles.enquiry", enquiry_id=enquiry.id)


def _reply_refused(refusal, enquiry):
    form = ReplyForm()
    if refusal.errors:
        form.body.errors = [next(iter(refusal.errors.values()))]
    return _thread_page(enquiry, form, refusal.status, None if refusal.errors else refusal.message,
                        refusal.zawgyi)


REPLY = Write("profiles.reply", _reply, texts=("body",), refused=_reply_refused)


@bp.post("/enquiries/<int:enquiry_id>/messages")
@login_required
def reply(enquiry_id):
    return submit(REPLY, services.get_enquiry(current_user, enquiry_id))

"""Where a write goes: parse → check → run_once (caller, key, target) → service → answer.

Every write (a page form, the outbox's post of that form, a tracking link's form, the API)
is described once by a Write and sent through submit(). Only this module calls run_once.
"""
import hashlib
from dataclasses import dataclass, field
from typing import Callable

from flask import flash, jsonify, redirect, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .attachments.services import (
    MAX_PHOTOS,
    MAX_SIGNATURE_BYTES,
    SIGNATURE_FIELD,
    photos_from_request,
    save_signature,
)
from .attachments.voice import voice_from_request
from .errors import ApiError, wants_json
from .extensions import db
from .i18n import ZAWGYI_ANSWERS, ZawgyiQuestion, check_zawgyi, zawgyi_answer
from .idempotency import already_stored, request_key, run_once
from .ids import id_list
from .inputs import json_body
from .models import TrackingLink

VOICE_FIELD = "voice"  # a voice note's file field on every form that takes one
DOCUMENT_FIELD = "document"  # a paper's file field (documents; a delivery's signed note)
PREVIEW_KEYS = "preview_keys"  # the data saver: one per photo file, "" for a full photo
NOT_FIELDS = {"csrf_token", "client_id", "photo_ids", PREVIEW_KEYS}  # the request's own, not the write's
# A plain form shows these next to the form, with what was typed (507: the photo could not
# be stored; the rest can be sent again as it is).
PAGE_REFUSALS = (409, 413, 415, 422, 507)
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Write:
    """One kind of write: what it is, how it runs, and how a page shows its outcome.

    run(posted, *args) calls the domain service and returns (status, body, location), or
    (status, body, location, shown) where shown ({name: value}) is answered this once and
    never stored (a secret). body: "form", "json", "json?" (may be empty) or None (not read).
    refused(refusal, *args) re-renders a plain form refused with PAGE_REFUSALS (None: the
    error page); shown_page(body, *args) is a plain form's page for a fresh write with shown
    values; flash is said after a plain form's redirect; files names the photos' form field.
    outside(posted, *args), when given, prepares a call to an outside service (a text
    message): it checks and reads what it needs, refusing with ApiError, and returns the call.
    submit makes that call with no transaction open, so no database lock waits on the other
    server, and before anything is written; once per new key (a stored answer is replayed
    without it). The call's result is run's last argument.
    """

    scope: str
    run: Callable
    texts: tuple = ()
    body: str | None = "form"
    refused: Callable | None = None
    shown_page: Callable | None = None
    flash: str | None = None
    files: str = "photos"
    outside: Callable | None = None


@dataclass(frozen=True)
class Posted:
    """A write request, read once: fields (raw; a form's first value of each name), photos
    hashed by content, photo ids, its key, and its free texts as they will be stored (settled)
    with the detector's doubts; a form's every value of each name in lists (checkboxes)."""

    fields: dict
    files: list
    digests: list
    photo_ids: list
    key: str | None
    texts: dict = field(default_factory=dict)
    doubts: dict = field(default_factory=dict)
    voice_file: object = None  # the recorded voice note (form field "voice"), if any
    voice_digest: str | None = None
    signature_file: object = None  # a signature drawn on the screen (field "signature"), if any
    signature_digest: str | None = None
    document_file: object = None  # a delivery's paper, the signed delivery note (field "document")
    document_digest: str | None = None
    lists: dict = field(default_factory=dict)  # a form's name -> all its values
    preview_keys: list = field(default_factory=list)  # secgo.attachments.saver

    def getlist(self, name: str) -> list:
        """Every value a form sent under this name (ticked checkboxes, a multiple choice)."""
        return list(self.lists.get(name, ()))

    @property
    def data(self) -> dict:
        """The fields with their settled texts: what a service gets."""
        return {**self.fields, **self.texts}

    @property
    def payload(self) -> dict:
        """What identifies the request for a replay (the same whatever the files are called)."""
        payload = {**self.fields, "photos": self.digests, "photo_ids": self.photo_ids}
        repeated = {name: values for name, values in self.lists.items() if len(values) > 1}
        if repeated:  # other choices ticked are another request
            payload["lists"] = repeated
        if self.voice_digest:
            payload["voice"] = self.voice_digest
        if self.signature_digest:
            payload["signature"] = self.signature_digest
        if self.document_digest:
            payload["document"] = self.document_digest
        if self.preview_keys:
            payload["preview_keys"] = self.preview_keys
        return payload

    @property
    def unanswered(self) -> bool:
        """True when a text may be Zawgyi and no "did you mean ...?" answer came with it."""
        return any(d["answer"] is None for d in self.doubts.values())

    def photos(self, user) -> list:
        """The write's photos: new files cleaned and stored (a preview under its key), plus
        ids uploaded earlier."""
        return photos_from_request(user, self.files, self.photo_ids, self.preview_keys)

    def voice(self, user):
        """The write's voice note, checked, re-encoded and stored; None without one."""
        return voice_from_request(user, self.voice_file)

    def document(self, user):
        """The write's one paper (a delivery's signed delivery note), as uploaded: the service
        that knows its order checks and stores it (secgo.documents); None without one."""
        del user  # who attaches it is the service's actor
        return self.document_file

    def signature(self, user):
        """The write's drawn signature, checked, cleaned and stored; None without one."""
        if self.signature_file is None:
            return None
        return save_signature(user, self.signature_file.read(MAX_SIGNATURE_BYTES + 1))


@dataclass(frozen=True)
class Refusal:
    """A refused plain form, as its page shows it again."""

    status: int
    message: str
    errors: dict
    values: dict
    zawgyi: dict
    client_id: str | None  # kept when the page asks "did you mean ...?": the same write, answered

    def page(self) -> dict:
        """Keyword arguments for a form page's render function."""
        return {"status": self.status, "message": self.message, "errors": self.errors,
                "values": self.values, "zawgyi": self.zawgyi, "client_id": self.client_id}


def caller_key(caller) -> str:
    """Whose request ids these are: a tracking link ("t<id>"), a user ("u<id>"), or a service
    that calls us and is authenticated by its own secret, by name ("telegram")."""
    if isinstance(caller, str):
        return caller
    return f"t{caller.id}" if isinstance(caller, TrackingLink) else f"u{caller.id}"


def _digest(upload) -> str:
    digest = hashlib.sha256(upload.read()).hexdigest()
    upload.seek(0)
    return digest


def _form_photo_ids() -> list:
    try:
        return [int(raw) for raw in request.form.getlist("photo_ids")]
    except ValueError:
        raise ApiError(422, fields={"photo_ids": _l("Unknown photo.")}) from None


def _refuse_bad_answers(body: dict, names) -> None:
    bad = {f"{n}_encoding": _l("Use unicode or typed.") for n in names
           if body.get(f"{n}_encoding") is not None and body[f"{n}_encoding"] not in ZAWGYI_ANSWERS}
    if bad:
        raise ApiError(422, fields=bad)


def parse(write: Write) -> Posted:
    """Read the request once (form or JSON) into a Posted; its input is never changed."""
    files, photo_ids, voice, signature, document, lists, keys = [], [], None, None, None, {}, []
    # The API's JSON writes also take a multipart form: its fields, photos and a voice note.
    multipart = write.body in ("json", "json?") and request.mimetype == "multipart/form-data"
    if write.body == "form" or multipart:
        fields = {k: v for k, v in request.form.items() if k not in NOT_FIELDS}
        lists = {k: v for k, v in request.form.lists() if k not in NOT_FIELDS}
        files = [f for f in request.files.getlist(write.files) if f and f.filename]
        photo_ids = _form_photo_ids()
        keys = request.form.getlist(PREVIEW_KEYS)
        voice = request.files.get(VOICE_FIELD)
        voice = voice if voice and voice.filename else None
        signature = request.files.get(SIGNATURE_FIELD)
        signature = signature if signature and signature.filename else None
        document = request.files.get(DOCUMENT_FIELD)
        document = document if document and document.filename else None
    elif write.body:
        body = json_body(empty_ok=write.body == "json?")
        fields = {k: v for k, v in body.items() if k not in NOT_FIELDS}
        if "photo_ids" in body:
            photo_ids = id_list(body["photo_ids"], "photo_ids", MAX_PHOTOS)
        _refuse_bad_answers(body, write.texts)
    else:
        fields = {}
    texts, doubts = check_zawgyi(fields, write.texts)
    return Posted(fields, files, [_digest(f) for f in files], photo_ids, request_key(),
                  texts, doubts, voice, _digest(voice) if voice else None,
                  signature, _digest(signature) if signature else None,
                  document, _digest(document) if document else None, lists, keys)


def end_reads() -> None:
    """End the session's transaction (it has only read), keeping what it read loaded."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


class _Action:
    """run_once's action: the Write's run, with what it shows once kept out of the stored row."""

    def __init__(self, write, posted, args):
        self.write, self.posted, self.args = write, posted, args
        self.shown = {}

    def __call__(self):
        status, body, location, *shown = self.write.run(self.posted, *self.args)
        self.shown = shown[0] if shown else {}
        return status, {**body, **zawgyi_answer(self.posted.doubts)}, location


def submit(write: Write, *args, caller=None):
    """Run one write exactly once for its caller (a user; current_user by default, or a
    tracking link) and answer it: a redirect, the form again, or JSON."""
    posted = None
    try:
        posted = parse(write)
        if posted.unanswered and not wants_json():  # a plain form asks before saving
            raise ZawgyiQuestion(posted.doubts)
        if write.outside and not already_stored(caller_key(caller or current_user), posted.key):
            call = write.outside(posted, *args)
            end_reads()
            args = (*args, call())
        action = _Action(write, posted, args)
        status, body, location = run_once(
            caller_key(caller or current_user), posted.key, write.scope, posted.payload, action
        )
    except ApiError as err:
        return refuse(write, err, posted, args)
    return answer(write, (status, body, location), action.shown, args)


def refuse(write: Write, err: ApiError, posted: Posted | None, args):
    """The one refusal hook: a plain form sees its page again, anything else the error."""
    if wants_json() or write.refused is None or err.status not in PAGE_REFUSALS:
        raise err
    db.session.rollback()
    asked = isinstance(err, ZawgyiQuestion)
    refusal = Refusal(
        status=err.status, message=err.to_dict()["error"]["message"], errors=err.fields,
        values=posted.fields if posted else {}, zawgyi=posted.doubts if posted else {},
        client_id=posted.key if asked else None,
    )
    page = write.refused(refusal, *args)
    if page is None:  # the form has nowhere to show it
        raise err
    return page


def answer(write: Write, result, shown: dict, args):
    """Success: a redirect (303) for a plain form, JSON for scripts, the API and writes that
    have no page to go to."""
    status, body, location = result
    headers = dict(NO_STORE) if shown else {}
    if location and not wants_json():  # a write with no page to go to (push.js) answers JSON
        if shown and write.shown_page:
            return write.shown_page({**body, **shown}, *args), status, headers
        if write.flash:
            flash(str(write.flash), "success")
        return redirect(location, code=303)
    if status == 204:
        return "", 204
    body = {**body, **shown}
    if location:
        headers["Location"] = location
        if request.blueprint != "api":  # the outbox opens the answer's location
            body = {"location": location, **body}
    return jsonify(body), status, headers


def refuse_form(form, message=None):
    """A form that failed validation: scripts get a 422 JSON error; pages re-render it."""
    if wants_json():
        raise ApiError(
            422, message, fields={name: errs[0] for name, errs in form.errors.items() if errs}
        )

"""What SEC GO! holds about a person, as a download, and erasing it.

Both read the schema rather than a list kept by hand: every table with a column that points
at users.id is part of a person's data, so a table added later is exported (and its rows
looked at on erasure) without anyone remembering to.
"""
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from ..audit.services import record
from ..auth.services import end_all_credentials
from ..errors import ApiError
from ..extensions import db
from ..models import Attachment, User, utcnow
from ..writes import caller_key

# Never exported: secrets (hashes of passwords and tokens, push keys) and the server's own
# bookkeeping of replayed requests.
SECRET_COLUMNS = {"password_hash", "secret_hash", "token_hash", "claim_token", "p256dh", "auth",
                  "request_hash", "response"}
SKIPPED_TABLES = {"idempotency_keys"}
# Rows only about the person's account, deleted on erasure (the rest are trade records and
# stay, pointing at the anonymized account).
ACCOUNT_TABLES = ("user_sessions", "api_tokens", "push_subscriptions", "channel_links", "invites",
                  "notifications", "read_marks", "reminders")


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def _user_columns():
    """(table, column) for every column that points at users.id."""
    users = User.__table__
    for table in db.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES:
            continue
        for column in table.columns:
            if any(fk.column.table is users for fk in column.foreign_keys):
                yield table, column


def personal_data(user: User) -> dict:
    """Everything held about the person: their account and every row that names them."""
    account = {c.name: _plain(getattr(user, c.key)) for c in User.__table__.columns
               if c.name not in SECRET_COLUMNS}
    account["organization"] = user.organization.name if user.organization else None
    account["clusters"] = [c.name for c in user.clusters]
    records = {}
    for table, column in _user_columns():
        rows = db.session.execute(select(table).where(column == user.id).order_by(*table.primary_key.columns))
        shown = [{k: _plain(v) for k, v in row._mapping.items() if k not in SECRET_COLUMNS} for row in rows]
        if shown:
            records[f"{table.name}.{column.name}"] = shown
    return {"exported_at": utcnow().isoformat(timespec="seconds"), "account": account, "records": records}


def export_zip(user: User, photo_path) -> bytes:
    """A zip with my-data.json, the photos (photos/<id>.jpg) and voice notes (voice/<id>.m4a)
    the person uploaded."""
    data = personal_data(user)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("my-data.json", json.dumps(data, ensure_ascii=False, indent=1))
        for photo in db.session.scalars(select(Attachment).where(Attachment.uploaded_by_id == user.id)
                                        .order_by(Attachment.id)):
            path = photo_path(photo)
            if path.is_file():
                name = f"voice/{photo.id}.m4a" if photo.is_voice else f"photos/{photo.id}.jpg"
                archive.write(path, name, compress_type=zipfile.ZIP_STORED)
    record("data_exported", actor=user, subject=user)
    return out.getvalue()


def erase_person(actor: User, user: User) -> None:
    """Remove the person's account data; keep the trade records they made, now by "a former
    member". Admins only; never oneself or the last active admin."""
    if actor.role != "admin":
        raise ApiError(403)
    if user.id == actor.id:
        raise ApiError(409, _l("You cannot erase your own account."))
    if user.erased_at is not None:
        raise ApiError(409, _l("This person's data is already erased."))
    if user.role == "admin":
        admins = db.session.scalar(select(func.count()).select_from(User).where(
            User.role == "admin", User.active.is_(True), User.erased_at.is_(None)))
        if admins <= 1:
            raise ApiError(409, _l("This is the last active admin."))
    end_all_credentials(user)
    tables = {t.name: t for t in db.metadata.sorted_tables}
    for name in ACCOUNT_TABLES:
        table = tables.get(name)
        if table is None:
            continue
        for column in table.columns:
            if any(fk.column.table is User.__table__ for fk in column.foreign_keys):
                if column.nullable and name == "invites" and column.name == "created_by_id":
                    db.session.execute(update(table).where(column == user.id).values({column.name: None}))
                else:
                    db.session.execute(delete(table).where(column == user.id))
    db.session.execute(delete(tables["idempotency_keys"]).where(
        tables["idempotency_keys"].c.user_key == caller_key(user)))
    user.username = f"erased-{user.id}"
    user.display_name = ""
    user.email = user.phone = user.password_hash = None
    user.active = False
    user.clusters = []
    user.last_login_at = None
    user.erased_at = utcnow()
    record("person_erased", actor=actor, subject=user)


"""People, their sign-ins, invite/reset links and API tokens."""
import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow
from .org import Cluster, Organization, cluster_coordinators

ROLES = ("producer", "customer", "coordinator", "admin")


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a secret token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a fresh URL-safe secret."""
    return secrets.token_urlsafe(32)


def _hash_method() -> str:
    from flask import current_app

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


@functools.cache
def _unusable_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(32), method=method)


def password_matches(user: "User | None", password: str) -> bool:
    """True when the user has this password; the same hash work when there is no such user
    or no password, so the time of an answer does not tell which logins exist."""
    if user is None or not user.password_hash:
        check_password_hash(_unusable_hash(_hash_method()), password)
        return False
    return check_password_hash(user.password_hash, password)


def parse_login_id(value) -> tuple[int, str] | None:
    """(sign-in id, hash of its secret) from a Flask-Login id "<id>.<secret>"; None when it
    is not one."""
    sid, dot, secret = str(value or "").partition(".")
    if not (dot and sid.isascii() and sid.isdigit() and len(sid) <= 18 and 20 <= len(secret) <= 100):
        return None
    return int(sid), hash_token(secret)


class User(UserMixin, db.Model):
    """Anyone who logs in: producer or customer staff, coordinator, admin."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('producer', 'customer', 'coordinator', 'admin')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # Shown through display_name (below): "A former member" once the person is erased.
    _display_name: Mapped[str] = mapped_column("display_name", String(80))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(12), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Bangkok")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Photos go first as small previews, the full ones on Wi-Fi (secgo.attachments.saver).
    data_saver: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin erased the person's data (secgo/privacy): the row stays, anonymized,
    # so the trade records they made stay whole and readable.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(back_populates="members")
    clusters: Mapped[list[Cluster]] = relationship(
        secondary=cluster_coordinators, back_populates="coordinators"
    )

    @hybrid_property
    def display_name(self) -> str:
        """The name shown for the person; "A former member", in the reader's language, once
        their data is erased."""
        if self.erased_at is not None:
            from flask_babel import gettext

            return gettext("A former member")
        return self._display_name

    @display_name.inplace.setter
    def _display_name_setter(self, value: str) -> None:
        self._display_name = value

    @display_name.inplace.expression
    @classmethod
    def _display_name_expression(cls):
        return cls._display_name

    @property
    def is_active(self) -> bool:
        return bool(self.active) and self.password_hash is not None

    # The sign-in this object was loaded through or started by ("<id>.<secret>"), set by
    # secgo.authn; Flask-Login keeps it in the session and the remember cookie.
    login_id = None

    def get_id(self) -> str:
        # A user object no sign-in stands behind names no session: nothing loads from "".
        return self.login_id or ""

    def set_password(self, password: str) -> None:
        """Hash and store a password (secgo.auth.services.change_password also ends sign-ins)."""
        self.password_hash = generate_password_hash(password, method=_hash_method())

    def check_password(self, password: str) -> bool:
        """Return True when the password matches."""
        return password_matches(self, password)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Invite(db.Model):
    """A one-time link to set a password: a new account's invite or a reset."""

    __tablename__ = "invites"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class ApiToken(db.Model):
    """A bearer token for integrations, created and revoked in settings."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One sign-in of a user on a device: the session and remember cookies name it, and it
    ends on the server (logout, password change) for every instance at once."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    @classmethod
    def live(cls, idle_limit: timedelta):
        """A WHERE clause for sign-ins still in force: not ended, and used within idle_limit
        (the remember cookie's lifetime: a copied cookie does not live for ever)."""
        return cls.live_since(utcnow() - idle_limit)

    @classmethod
    def live_since(cls, seen_after):
        """live(), with the idle cut-off given: a time, or a bindparam in a statement compiled
        once (secgo.pagecache)."""
        return cls.revoked_at.is_(None) & (cls.last_seen_at > seen_after)

    @classmethod
    def stale(cls, idle_limit: timedelta, keep_ended: timedelta = timedelta(days=30)):
        """A WHERE clause for sign-ins that may be deleted: long ended, or idle past the limit."""
        now = utcnow()
        return (cls.revoked_at < now - keep_ended) | (cls.last_seen_at < now - idle_limit)

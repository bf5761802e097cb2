"""Account rules: log-in lookup, invites and resets, API tokens. Callers commit."""
import re
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from ..audit.services import record
from ..errors import ApiError
from ..extensions import db
from ..i18n import normalize_text
from ..limits import LIMITS
from ..models import (
    ROLES, ApiToken, Invite, Organization, User, UserSession, hash_token, new_token, utcnow,
)
from ..models.user import parse_login_id, password_matches

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalize_phone(value: str | None) -> str | None:
    """Digits with an optional leading +, or None when it is not a phone number."""
    if not value:
        return None
    raw = re.sub(r"[\s().-]", "", value.strip())
    if re.fullmatch(r"\+?\d{6,15}", raw):
        return raw
    return None


def find_login(identifier: str) -> User | None:
    """The user whose username, e-mail or phone number this is."""
    ident = identifier.strip().lower()
    phone = normalize_phone(identifier)
    clauses = [func.lower(User.username) == ident, func.lower(User.email) == ident]
    if phone:
        clauses.append(User.phone == phone)
    return db.session.scalar(select(User).where(or_(*clauses)).limit(1))


def authenticate(identifier: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    A wrong password, an unknown login, an inactive account and one without a password all
    cost the same one password check (password_matches), so timing tells none of them apart.
    """
    user = find_login(identifier)
    matches = password_matches(user, password)
    if not matches or not user.is_active:
        # The caller commits it. What was typed as an unknown login is not stored (people
        # type passwords into the login field).
        reason = "unknown login" if user is None else "inactive" if matches else "password"
        record("login_failed", subject=user, details={"reason": reason})
        return None
    user.last_login_at = utcnow()
    return user


# --- sign-ins: each is a row (UserSession) that its cookies name; ending it ends them -------

def start_login(user: User, user_agent: str = "") -> User:
    """Record a new sign-in of the user on this device; the user's get_id() then names it.

    Call flask_login.login_user(user) after this (and commit).
    """
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        UserSession.stale(current_app.config["REMEMBER_COOKIE_DURATION"])))
    secret = new_token()
    login = UserSession(user=user, secret_hash=hash_token(secret), user_agent=user_agent[:200])
    db.session.add(login)
    db.session.flush()
    user.login_id = f"{login.id}.{secret}"
    record("login", actor=user, subject=user)
    return user


def end_login(user: User) -> None:
    """End the sign-in the user's current session or remember cookie names (logout)."""
    parsed = parse_login_id(user.login_id)
    if parsed is not None:
        db.session.execute(
            update(UserSession).where(UserSession.id == parsed[0], UserSession.user_id == user.id,
                                      UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        record("logout", actor=user, subject=user)
    user.login_id = None


def end_all_credentials(user: User) -> None:
    """End every sign-in and revoke every API token of the user, on every device."""
    now = utcnow()
    db.session.execute(update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)).values(revoked_at=now))
    db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    user.login_id = None


def change_password(user: User, password: str, *, by_link: bool = False) -> User:
    """Set a new password: every credential of the user ends (sessions, remember cookies, API
    tokens). To keep the device that changed it signed in, start_login and login_user."""
    user.set_password(password)
    end_all_credentials(user)
    record("password_set_by_link" if by_link else "password_changed", actor=user, subject=user)
    return user


def validate_new_user(username, email, phone, role, organization) -> dict:
    """Field errors for a new account; empty when it may be created."""
    errors = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = _l("Use 3-64 lowercase letters, digits, dots, dashes or underscores.")
    elif db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        errors["username"] = _l("This username is taken.")
    if email:
        if not EMAIL_RE.match(email):
            errors["email"] = _l("This is not an e-mail address.")
        elif db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
            errors["email"] = _l("This e-mail address is already used.")
    if phone:
        if normalize_phone(phone) is None:
            errors["phone"] = _l("Enter the phone number with digits only, e.g. +85512345678.")
        elif db.session.scalar(select(User.id).where(User.phone == normalize_phone(phone))):
            errors["phone"] = _l("This phone number is already used.")
    if role not in ROLES:
        errors["role"] = _l("Choose a role.")
    elif role in ("producer", "customer"):
        if organization is None or organization.kind != role:
            errors["organization"] = _l("Choose an organization of this kind.")
    return errors


def create_user(*, username, display_name, role, organization: Organization | None = None,
                email=None, phone=None, locale="en", timezone="Asia/Bangkok", password=None,
                clusters=()) -> User:
    """Create an account (without a password it waits for its invite link)."""
    username = (username or "").strip().lower()
    errors = validate_new_user(username, email, phone, role, organization)
    if errors:
        raise ApiError(422, fields=errors)
    user = User(
        username=username,
        display_name=str(normalize_text(display_name))[:80] or username,
        email=email.strip().lower() if email else None,
        phone=normalize_phone(phone),
        role=role,
        organization=organization if role in ("producer", "customer") else None,
        locale=locale,
        timezone=timezone,
        active=True,
    )
    if password:
        user.set_password(password)
    user.clusters = list(clusters) if role == "coordinator" else []
    db.session.add(user)
    db.session.flush()
    record("person_created", subject=user, details={"role": role})
    return user


def issue_link(user: User, purpose: str, created_by: User | None) -> str:
    """Create a one-time invite or reset link for the user; return its secret token.

    Any earlier unused link of the user stops working: only the newest one counts.
    """
    now = utcnow()
    for old in db.session.scalars(
        select(Invite).where(Invite.user_id == user.id, Invite.used_at.is_(None))
    ):
        old.used_at = now
    token = new_token()
    ttl: timedelta = current_app.config["INVITE_TTL"]
    db.session.add(
        Invite(
            token_hash=hash_token(token), purpose=purpose, user=user,
            created_by=created_by, created_at=now, expires_at=now + ttl,
        )
    )
    db.session.flush()
    record("invite_issued" if purpose == "invite" else "reset_issued", actor=created_by, subject=user)
    return token


def find_link(token: str) -> Invite | None:
    """The unused, unexpired link for this token, or None."""
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        return None
    if not invite.user.active:
        return None
    if invite.created_by is not None:
        from ..onboarding.services import can_manage_user

        # Checked again when used: a coordinator's link dies once the person is out of reach
        # (their customer organization began buying from another cluster, say).
        if not can_manage_user(invite.created_by, invite.user):
            return None
    return invite


def redeem_link(invite: Invite, password: str) -> User:
    """Set the password through a link and use the link up; see change_password."""
    invite.used_at = utcnow()
    return change_password(invite.user, password, by_link=True)


def create_api_token(user: User, name: str) -> str:
    """Create a bearer token for integrations; the secret is shown once."""
    token = "sg_" + new_token()
    row = ApiToken(user=user, name=str(normalize_text(name))[:LIMITS["token_name"]], token_hash=hash_token(token), prefix=token[:9])
    db.session.add(row)
    db.session.flush()
    record("api_token_created", actor=user, subject=user, details={"name": row.name, "prefix": row.prefix})
    return token


def revoke_api_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when there is no such token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    record("api_token_revoked", actor=user, subject=user, details={"name": token.name, "prefix": token.prefix})
    return True

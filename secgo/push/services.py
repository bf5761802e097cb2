"""Push subscription rules, shared by the settings page and the API; callers commit."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError
from ..extensions import db
from ..models import PushSubscription
from ..notify import EVENTS, ROLE_EVENTS
from .endpoints import MAX_LENGTH, safe_endpoint
from .vapid import b64url_decode

NOT_ALLOWED = _l("Notifications from this browser's push service are not accepted here.")
BAD_KEYS = _l("The browser sent an unusable subscription. Turn notifications off and on again.")
BAD_EVENTS = _l("Choose at least one kind of notification, or turn notifications off.")


def role_events(user) -> tuple[str, ...]:
    """The events this person can be notified about."""
    return ROLE_EVENTS.get(user.role, tuple(EVENTS))


def _valid_key(value: str, length: int, point: bool = False) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        return False
    try:
        raw = b64url_decode(value)
    except ValueError:
        return False
    if len(raw) != length or (point and raw[0] != 4):
        return False
    if point:
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            return False
    return True


def parse(data) -> dict:
    """Check a subscription as PushSubscription.toJSON() gives it, plus an optional event list."""
    if not isinstance(data, dict):
        raise ApiError(400)
    if isinstance(data.get("subscription"), dict):
        data = {**data["subscription"], "events": data.get("events")}
    fields = {}
    endpoint = data.get("endpoint")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_LENGTH:
        fields["endpoint"] = BAD_KEYS
    elif safe_endpoint(endpoint, current_app.config["PUSH_ALLOWED_HOSTS"]) is None:
        fields["endpoint"] = NOT_ALLOWED
    if not _valid_key(keys.get("p256dh"), 65, point=True):
        fields["p256dh"] = BAD_KEYS
    if not _valid_key(keys.get("auth"), 16):
        fields["auth"] = BAD_KEYS
    events = data.get("events")
    if events is not None:
        if (not isinstance(events, list) or not events or len(events) > len(EVENTS)
                or any(not isinstance(e, str) or e not in EVENTS for e in events)):
            fields["events"] = BAD_EVENTS
    if fields:
        raise ApiError(422, fields=fields)
    return {"endpoint": endpoint, "p256dh": keys["p256dh"], "auth": keys["auth"],
            "events": None if events is None else sorted(set(events))}


def save(user, data, user_agent: str = "") -> tuple[PushSubscription, bool]:
    """Store this device's subscription (or update its keys and events); (row, created)."""
    clean = parse(data)
    events = clean["events"]
    if events is not None and set(role_events(user)) <= set(events):
        events = []  # everything: also future kinds of notification
    sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == clean["endpoint"]))
    if sub is not None and sub.user_id != user.id:
        # The device changed hands (log out, log in as someone else): the old owner's
        # notifications must not reach it any more.
        db.session.delete(sub)
        db.session.flush()
        sub = None
    created = sub is None
    if created:
        sub = PushSubscription(user_id=user.id, endpoint=clean["endpoint"], events=events or [],
                               p256dh=clean["p256dh"], auth=clean["auth"], failures=0)
        try:
            with db.session.begin_nested():
                db.session.add(sub)
        except IntegrityError:  # a double tap's twin stored it a moment ago
            sub = db.session.scalar(
                select(PushSubscription).where(PushSubscription.endpoint == clean["endpoint"])
            )
            if sub is None or sub.user_id != user.id:
                raise ApiError(409) from None
            created = False
    if not created and events is not None:
        sub.events = events
    sub.p256dh, sub.auth = clean["p256dh"], clean["auth"]
    sub.user_agent = (user_agent or "")[:300]
    db.session.flush()
    _forget_oldest(user)
    return sub, created


def _forget_oldest(user) -> None:
    limit = current_app.config["PUSH_MAX_DEVICES"]
    ids = db.session.scalars(
        select(PushSubscription.id).where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.id.desc()).offset(limit)
    ).all()
    if ids:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))


def remove(user, *, endpoint=None, subscription_id=None) -> bool:
    """Forget one of the user's devices, by endpoint or id; False when it is not theirs."""
    query = select(PushSubscription).where(PushSubscription.user_id == user.id)
    if subscription_id is not None:
        query = query.where(PushSubscription.id == subscription_id)
    elif isinstance(endpoint, str) and 0 < len(endpoint) <= MAX_LENGTH:
        query = query.where(PushSubscription.endpoint == endpoint)
    else:
        return False
    sub = db.session.scalar(query)
    if sub is None:
        return False
    db.session.delete(sub)
    db.session.flush()
    return True


def devices(user) -> list[PushSubscription]:
    """The user's subscribed devices, newest first."""
    return db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.id.desc())
    ).all()


def to_dict(sub: PushSubscription, user) -> dict:
    """A subscription as the API and the page script see it (never the keys)."""
    return {
        "id": sub.id,
        "endpoint": sub.endpoint,
        "events": list(sub.events or role_events(user)),
        "user_agent": sub.user_agent,
        "created_at": sub.created_at.isoformat() if sub.created_at else None,
        "last_success_at": sub.last_success_at.isoformat() if sub.last_success_at else None,
    }


def device_name(user_agent: str) -> str:
    """A short, recognisable name for a device from its user agent (product names only)."""
    ua = user_agent or ""
    system = next((name for key, name in (
        ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
        ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"),
    ) if key in ua), "")
    browser = next((name for key, name in (
        ("Edg/", "Edge"), ("SamsungBrowser", "Samsung Internet"), ("OPR/", "Opera"),
        ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
    ) if key in ua), "")
    return " · ".join(part for part in (browser, system) if part) or "?"

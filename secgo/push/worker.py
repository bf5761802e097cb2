"""The push worker: claims due outbox rows, sends one encrypted push per device, retries.

Safe with several workers at once: a row is claimed with a lease (on PostgreSQL through
``FOR UPDATE SKIP LOCKED``, on SQLite by a conditional UPDATE in a write transaction), the
lease is checked before every send, and each device's delivery is recorded at once, so a
retry or another worker never sends the same notification to the same device twice.

A worker killed mid-send (SIGKILL, power loss) cannot know whether the push service took the
push it was sending: HTTP has no exactly-once. So a delivery is written down ("sending")
before the request and settled after it; a device whose delivery is still "sending" when its
lease has run out is *in doubt* and is sent the push again (at least once, never lost), marked
so the phone does not alert twice: the same tag (and Topic, for a status) and renotify off.
At most one push per device is in doubt per crash; `Stats.in_doubt` counts them.
"""
import json
import logging
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, fields
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import jwt
import requests
from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from webpush import WebPush
from webpush.types import WebPushSubscription

from .. import notify
from ..extensions import db
from ..models import ChannelDelivery, Notification, PushDelivery, PushSubscription, utcnow
from ..notify import reminders
from ..security import write_intent
from .endpoints import origin_of, safe_endpoint
from .payload import render, topic_for
from .vapid import load_keys

log = logging.getLogger(__name__)
URGENCIES = ("very-low", "low", "normal", "high")
SENDING = "sending"  # a delivery written before its request; settled as sent or failed after


@dataclass
class Outcome:
    """What the push service said about one device."""

    kind: str  # sent | gone | retry | failed
    status: int | None = None
    retry_after: float | None = None
    error: str | None = None


@dataclass
class Stats:
    """What one pass of the worker did."""

    claimed: int = 0
    pushes: int = 0
    messages: int = 0  # Telegram and SMS messages sent (secgo/channels)
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    gone: int = 0
    unanswered: int = 0
    reminders: int = 0  # reminders written to the outbox by the scan (notify.reminders)
    held: int = 0  # reminders put back until the recipient's morning
    in_doubt: int = 0  # pushes sent again because a worker died while sending them

    def add(self, other: "Stats") -> "Stats":
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def __str__(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


class PushWorker:
    """Sends the notification outbox through Web Push, Telegram and SMS."""

    def __init__(self, app=None):
        app = app or current_app._get_current_object()
        self.app = app
        self.keys = load_keys(app)
        self.ttl = max(60, app.config["PUSH_TTL"])
        self.max_attempts = app.config["PUSH_MAX_ATTEMPTS"]
        self.backoff = float(app.config["PUSH_BACKOFF_SECONDS"])
        self.backoff_max = float(app.config["PUSH_BACKOFF_MAX_SECONDS"])
        self.retry_after_max = float(app.config["PUSH_RETRY_AFTER_MAX_SECONDS"])
        self.lease = timedelta(seconds=app.config["PUSH_LEASE_SECONDS"])
        self.timeout = float(app.config["PUSH_TIMEOUT_SECONDS"])
        self.allowed = app.config["PUSH_ALLOWED_HOSTS"]
        # webpush adds "mailto:" itself: hand it the bare address.
        self.subject = str(app.config["VAPID_SUBJECT"]).removeprefix("mailto:")
        self.webpush = WebPush(
            private_key=self.keys.private_pem, public_key=self.keys.public_pem,
            subscriber=self.subject, ttl=self.ttl,
        )
        self.http = requests.Session()
        self.stopping = threading.Event()
        # Channels (telegram, sms) that did not answer, or answered 5xx, in this pass: not
        # called again until the next pass, so a provider that hangs costs one timeout per
        # pass, not one per notification, and holds up no one else's messages.
        self.down: set[str] = set()

    # --- one pass -------------------------------------------------------------------------

    def run_once(self, now=None, limit: int = 100, check_unanswered: bool = True,
                 check_reminders: bool = False, refresh_figures: bool | None = None) -> Stats:
        """Send every due notification once (what cron and the tests call); with
        check_reminders, first write the reminders due now (notify.reminders.scan); with
        refresh_figures (by default when checking unanswered issues), first bring the
        dashboard's promptness figures up to date (run_forever does that in its own thread)."""
        stats = Stats()
        self.down = set()
        token = write_intent.set(True)  # SQLite: take the write lock at BEGIN, no upgrade races
        try:
            if check_unanswered:
                stats.unanswered = notify.find_unanswered_issues(now)
                db.session.commit()
            if check_reminders:
                try:
                    stats.reminders = reminders.scan(now)
                    db.session.commit()
                except Exception:  # reminders must not hold up what is already queued
                    log.exception("push worker could not scan for reminders")
                    db.session.rollback()
            if refresh_figures is None:
                refresh_figures = check_unanswered
            if refresh_figures:
                self.refresh_figures(now)
            claim, ids = self.claim(limit, now)
            stats.claimed = len(ids)
            for nid in ids:
                if self.stopping.is_set():
                    break
                try:
                    self.process(nid, claim, now, stats)
                except Exception as err:  # one bad row must not hold up the others
                    log.exception("push worker could not send notification %s", nid)
                    db.session.rollback()
                    self._finish(nid, claim, now, [Outcome("retry", error=f"error: {type(err).__name__}")], stats)
            self._release(claim)
        finally:
            db.session.rollback()
            write_intent.reset(token)
        return stats

    def refresh_figures(self, now=None) -> None:
        """The dashboard's monthly promptness figures (one worker at a time, the others skip);
        a failure there is logged and never holds up the pushes."""
        from ..coordinator.promptness import refresh

        try:
            refresh(now)
        except Exception:
            log.exception("push worker could not refresh the promptness figures")
            db.session.rollback()

    def _figures_forever(self, every: float) -> None:
        """Refresh the promptness figures every `every` seconds until the worker stops."""
        while not self.stopping.is_set():
            with self.app.app_context():
                token = write_intent.set(True)
                try:
                    self.refresh_figures()
                finally:
                    db.session.remove()
                    write_intent.reset(token)
            self.stopping.wait(every)

    def drain(self, limit: int = 100) -> Stats:
        """Pass after pass until nothing is due (push-worker --once)."""
        total = Stats()
        check = True
        while True:
            stats = self.run_once(limit=limit, check_unanswered=check, check_reminders=check)
            total.add(stats)
            check = False
            if stats.claimed < limit or self.stopping.is_set():
                return total

    def run_forever(self) -> None:
        """Poll the outbox until SIGTERM/SIGINT; check unanswered issues and reminders now and then."""
        poll = float(self.app.config["PUSH_POLL_SECONDS"])
        every = float(self.app.config["PUSH_UNANSWERED_CHECK_SECONDS"])
        remind_every = float(self.app.config["REMIND_CHECK_SECONDS"])
        last_remind = float("-inf")
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stopping.set())
        last_check = float("-inf")
        # The promptness figures can take minutes to rebuild on a large database: in a thread
        # of their own, so that pushes are never held up behind them.
        figures = threading.Thread(target=self._figures_forever, args=(every,), daemon=True,
                                   name="promptness-figures")
        figures.start()
        while not self.stopping.is_set():
            check = time.monotonic() - last_check >= every
            remind = time.monotonic() - last_remind >= remind_every
            try:
                stats = self.run_once(check_unanswered=check, check_reminders=remind,
                                      refresh_figures=False)
            except Exception:  # the database may be restarting: log, wait, go on
                log.exception("push worker pass failed")
                db.session.rollback()
                self.stopping.wait(poll * 5)
                continue
            if check:
                last_check = time.monotonic()
            if remind:
                last_remind = time.monotonic()
            if stats.claimed:
                log.info("push worker: %s", stats)
            else:
                self.stopping.wait(poll)

    # --- claiming -------------------------------------------------------------------------

    def claim(self, limit: int, now=None) -> tuple[str, list[int]]:
        """Lease up to limit due rows to this pass; returns (claim token, ids)."""
        now = now or utcnow()
        token = uuid.uuid4().hex
        free = or_(Notification.lease_until.is_(None), Notification.lease_until < now)
        due = (
            select(Notification.id)
            .where(Notification.state == "pending", Notification.next_attempt_at <= now, free)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(due), Notification.state == "pending", free)
            .values(claim_token=token, lease_until=now + self.lease)
            .execution_options(synchronize_session=False)
        )
        ids = list(db.session.scalars(
            select(Notification.id).where(Notification.claim_token == token).order_by(Notification.id)
        ))
        db.session.commit()
        return token, ids

    def _release(self, token: str) -> None:
        """Give back rows claimed but not handled (stopping): others may take them at once."""
        db.session.execute(
            update(Notification).where(Notification.claim_token == token)
            .values(claim_token=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def _renew(self, nid: int, token: str, now=None) -> bool:
        """Extend the lease before a send; False when another worker has taken the row."""
        result = db.session.execute(
            update(Notification)
            .where(Notification.id == nid, Notification.claim_token == token,
                   Notification.state == "pending")
            .values(lease_until=(now or utcnow()) + self.lease)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return result.rowcount == 1

    # --- one notification -----------------------------------------------------------------

    def process(self, nid: int, token: str, now, stats: Stats) -> None:
        """Send one claimed notification to each of its recipient's devices not yet served."""
        n = db.session.get(Notification, nid)
        if n is None or n.claim_token != token:
            db.session.rollback()
            return
        recorded = dict(db.session.execute(
            select(PushDelivery.subscription_id, PushDelivery.state).where(PushDelivery.notification_id == nid)
        ).all())
        user = n.user
        verdict = reminders.at_send(n, user, now or utcnow()) if user.active else True
        if verdict is not True:  # a reminder in the recipient's night, or no longer theirs
            self._put_back(n, verdict, stats)
            return
        devices = [] if not user.active else db.session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == n.user_id).order_by(PushSubscription.id)
        ).all()
        plan = [
            (s.id, s.endpoint, s.p256dh, s.auth, recorded.get(s.id) == SENDING)
            for s in devices
            if recorded.get(s.id) in (None, SENDING) and notify.wants(s.events, n.event)
        ]
        # Telegram and SMS (secgo/channels): the same notification, the same words, own deliveries.
        steps = channel_sender.plan(n, user, channel_sender.recorded(nid))
        payloads, topic = {}, None
        if plan:
            body = render(n, user)
            payloads[False] = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            # Sent again after a crash: the phone may have it already; replace it, quietly.
            again = {**body, "renotify": False}
            payloads[True] = json.dumps(again, ensure_ascii=False, separators=(",", ":")).encode()
            topic = topic_for(n, body["reference"])
        urgency = n.urgency if n.urgency in URGENCIES else "normal"
        db.session.commit()  # no transaction stays open while we talk to push services

        outcomes = []
        for sid, endpoint, p256dh, auth, in_doubt in plan:
            if not self._renew(nid, token, now):
                log.warning("push worker lost the lease on notification %s", nid)
                return
            if in_doubt:
                log.warning("push worker sends notification %s to device %s again: a worker "
                            "died while sending it", nid, sid)
                stats.in_doubt += 1
            elif not self._intend(nid, sid, now):
                continue
            outcome = self.send(endpoint, p256dh, auth, payloads[in_doubt], urgency, topic)
            stats.pushes += 1
            self._record(nid, sid, outcome, now)
            outcomes.append(outcome)
            stats.gone += outcome.kind == "gone"
        for step in steps:
            if step["channel"] in self.down:  # tried again at this notification's next attempt
                outcomes.append(Outcome("retry", error=f"{step['channel']}: not tried, it failed "
                                                       "moments ago"))
                continue
            if not self._renew(nid, token, now):
                log.warning("push worker lost the lease on notification %s", nid)
                return
            if step["in_doubt"]:
                log.warning("worker sends notification %s by %s again: a worker died while "
                            "sending it", nid, step["channel"])
                stats.in_doubt += 1
            elif not self._intend_channel(nid, step["channel"], now):
                continue
            outcome = channel_sender.send(self.http, step)
            if outcome.kind == "retry" and (outcome.status is None or outcome.status >= 500):
                self.down.add(step["channel"])
            stats.messages += 1
            channel_sender.settle(nid, step, outcome)
            db.session.commit()
            outcomes.append(outcome)
            stats.gone += outcome.kind == "gone"
        self._finish(nid, token, now, outcomes, stats)

    def _put_back(self, n: Notification, until, stats: Stats) -> None:
        """Hold a reminder until a datetime (the recipient's morning), or drop it (False)."""
        n.claim_token = n.lease_until = None
        if until is False:
            n.state = "skipped"
            stats.skipped += 1
        else:
            n.next_attempt_at = until
            stats.held += 1
        db.session.commit()

    def _intend_channel(self, nid: int, channel: str, now) -> bool:
        """A channel's delivery written down before its request; False when written already."""
        db.session.add(ChannelDelivery(notification_id=nid, channel=channel, state=SENDING,
                                       created_at=now or utcnow()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return False
        return True

    def _intend(self, nid: int, sid: int, now) -> bool:
        """Write the delivery down before its request; False when it is written already."""
        db.session.add(PushDelivery(notification_id=nid, subscription_id=sid, state=SENDING,
                                    created_at=now or utcnow()))
        try:
            db.session.commit()
        except IntegrityError:  # recorded already; never send it again either way
            db.session.rollback()
            return False
        return True

    def _record(self, nid: int, sid: int, outcome: Outcome, now) -> None:
        """Settle the delivery written before the request with what the push service said."""
        now = now or utcnow()
        sub = db.session.get(PushSubscription, sid)
        row = db.session.scalar(select(PushDelivery).where(
            PushDelivery.notification_id == nid, PushDelivery.subscription_id == sid))
        if outcome.kind == "gone":
            db.session.execute(delete(PushDelivery).where(PushDelivery.subscription_id == sid))
            db.session.execute(delete(PushSubscription).where(PushSubscription.id == sid))
        elif sub is not None:
            if outcome.kind == "sent":
                sub.failures, sub.last_success_at = 0, now
            else:
                sub.failures = (sub.failures or 0) + 1
            if outcome.kind in ("sent", "failed") and row is not None:
                row.state, row.status_code, row.created_at = outcome.kind, outcome.status, now
            elif row is not None and outcome.status is not None:
                db.session.delete(row)  # the push service answered "not now": not taken
            # (no answer at all: it may have been taken; stays in doubt, sent again quietly)
        db.session.commit()

    def _finish(self, nid: int, token: str, now, outcomes: list[Outcome], stats: Stats) -> None:
        now = now or utcnow()
        n = db.session.get(Notification, nid)
        if n is None or n.claim_token != token:
            db.session.rollback()
            return
        n.attempts = (n.attempts or 0) + 1
        n.claim_token = n.lease_until = None
        errors = [o.error for o in outcomes if o.error]
        retries = [o for o in outcomes if o.kind == "retry"]
        if retries and n.attempts < self.max_attempts:
            n.next_attempt_at = now + timedelta(seconds=self._delay(n.attempts, retries))
            n.last_error = errors[-1][:500]
            stats.retried += 1
        else:
            counts = {}
            for table in (PushDelivery, ChannelDelivery):
                db.session.execute(  # given up: a delivery still in doubt counts as failed
                    update(table).where(table.notification_id == nid, table.state == SENDING)
                    .values(state="failed").execution_options(synchronize_session=False))
                for state, count in db.session.execute(
                    select(table.state, func.count()).where(table.notification_id == nid)
                    .group_by(table.state)
                ).all():
                    counts[state] = counts.get(state, 0) + count
            if retries or (counts.get("failed") and not counts.get("sent")):
                n.state = "failed"  # kept, with its last error, for whoever looks into it
                stats.failed += 1
            elif counts.get("sent"):
                n.state, n.sent_at = "sent", now
                stats.sent += 1
            else:
                n.state = "skipped"  # no device wants this event, and no channel is on
                stats.skipped += 1
            if errors:
                n.last_error = errors[-1][:500]
        db.session.commit()

    def _delay(self, attempts: int, retries: list[Outcome]) -> float:
        """Exponential back-off with jitter, never sooner than a Retry-After asked for."""
        delay = min(self.backoff_max, self.backoff * 2 ** (attempts - 1))
        delay *= 1 + random.random() * 0.1
        asked = max((o.retry_after or 0) for o in retries)
        return max(delay, min(asked, self.retry_after_max))

    # --- HTTP -----------------------------------------------------------------------------

    def send(self, endpoint: str, p256dh: str, auth: str, payload: bytes, urgency: str,
             topic: str | None = None) -> Outcome:
        """Encrypt (aes128gcm) and POST one push; never to a host off the allow-list."""
        url = safe_endpoint(endpoint, self.allowed)
        if url is None:
            return Outcome("failed", error="endpoint not on the push allow-list")
        try:
            message = self.webpush.get(
                payload, WebPushSubscription(endpoint=url, keys={"p256dh": p256dh, "auth": auth})
            )
        except Exception as err:  # malformed keys: this device can never be served
            return Outcome("failed", error=f"cannot encrypt: {type(err).__name__}")
        headers = {
            "Content-Type": "application/octet-stream",  # webpush sets none
            "Content-Encoding": "aes128gcm",
            "TTL": str(self.ttl),
            "Urgency": urgency,
            "Authorization": self._authorization(message.headers["authorization"], url),
        }
        if topic:
            headers["Topic"] = topic
        try:
            response = self.http.post(
                url, data=message.encrypted, headers=headers, timeout=self.timeout,
                allow_redirects=False, stream=True,  # the answer's body is never read
            )
        except requests.RequestException as err:
            return Outcome("retry", error=f"network: {type(err).__name__}")
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            return Outcome("sent", status)
        if status in (404, 410):
            return Outcome("gone", status, error=f"HTTP {status}: subscription expired")
        if status in (408, 429) or status >= 500:
            return Outcome("retry", status, _retry_after(response.headers.get("Retry-After")),
                           error=f"HTTP {status}")
        return Outcome("failed", status, error=f"HTTP {status}")

    def _authorization(self, header: str, url: str) -> str:
        """The VAPID header from webpush, re-signed where webpush gets a claim wrong.

        webpush 1.0.6 leaves the port out of "aud" and always prefixes "mailto:" to "sub";
        an endpoint with a port, or an https: subject, gets a token signed here instead.
        """
        parts = urlsplit(url)
        https_subject = self.subject.startswith("https:")
        if origin_of(url) == f"{parts.scheme}://{parts.hostname}" and not https_subject:
            return header
        claims = {"aud": origin_of(url), "exp": int(time.time()) + 12 * 3600,
                  "sub": self.subject if https_subject else f"mailto:{self.subject}"}
        token = jwt.encode(claims, self.keys.private_pem, algorithm="ES256")
        return f"vapid t={token}, k={self.keys.application_server_key}"


def _retry_after(value) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds()) if when.tzinfo else None


from ..channels import sender as channel_sender  # noqa: E402  (it imports Outcome from here)

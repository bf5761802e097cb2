"""What a push says: title and body in the recipient's language, the order and the URL."""
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale, format_date, format_decimal, format_percent, ngettext
from flask_babel import gettext as _

from .. import phrases
from ..config import LOCALES
from ..extensions import db
from ..i18n import CONDITION_LABELS, STATE_LABELS, STATUS_LABELS, format_quantity
from ..models import Issue, Order
from ..notify import REMINDERS

MAX_TEXT = 240  # a push payload is at most ~4 kB; Thai and Burmese take 3 bytes a letter


def render(notification, user) -> dict:
    """The JSON payload of a notification for one recipient, in the recipient's language."""
    params = dict(notification.params or {})
    reference = str(params.get("reference") or _order_reference(notification) or "")
    locale = user.locale if user.locale in LOCALES else "en"
    with force_locale(locale):
        # A title the app composed, and quick phrases, in the recipient's language.
        title = (phrases.render(params.get("title_phrase")) or str(params.get("title") or "")
                 or _issue_title(notification) or "")
        heading, body = _texts(notification.event, params, reference, _clip(title))
        said = " · ".join(phrases.render_all(params.get("phrases")
                                             if isinstance(params.get("phrases"), list) else ()))
        plain_update = notification.event == "status_update" and not (
            params.get("correction") or params.get("reopened"))
        if said:  # what was said, rather than "tap to see the update"
            body = said if plain_update or not body else f"{body} · {said}"
    tag = f"order-{reference}" if reference else f"secgo-{notification.event}"
    if notification.event in REMINDERS:  # a reminder never replaces the order's latest news
        tag = f"{notification.event}-{reference}" if reference else f"secgo-{notification.event}"
        if notification.event == "remind_match":  # one per event
            tag = f"remind_match-{_int(params.get('event_id'))}"
    return {
        "title": _clip(heading),
        "body": _clip(body),
        "url": safe_path(notification.url),
        "tag": tag,
        "reference": reference,
        "event": notification.event,
        "id": notification.id,
        "lang": locale,
        "renotify": notification.urgency == "high",
        "timestamp": int(notification.created_at.timestamp() * 1000) if notification.created_at else None,
    }


def _texts(event, params, reference, title):
    label = _label(STATUS_LABELS, params.get("status"))
    if event == "status_update":
        if params.get("status") == "note":
            heading = _("Order %(reference)s: new note", reference=reference)
        else:
            heading = _("Order %(reference)s: %(status)s", reference=reference, status=label)
        if params.get("reopened"):
            return (_("Order %(reference)s: cancellation withdrawn", reference=reference),
                    _("The order goes on: %(status)s. Tap to see why.", status=label))
        if params.get("correction"):
            return heading, _("An earlier update was corrected. Tap to see the timeline.")
        return heading, _("Tap to see the update on the order's timeline.")
    if event == "confirmation":
        count = _int(params.get("count"))
        if count > 1:
            return (
                _("Order %(reference)s: updates confirmed", reference=reference),
                ngettext("The customer confirmed %(num)s update.",
                         "The customer confirmed %(num)s updates.", count),
            )
        return (
            _("Order %(reference)s: update confirmed", reference=reference),
            _("The customer confirmed “%(status)s”.", status=label),
        )
    if event == "delivery":
        heading = _("Order %(reference)s: delivery confirmed", reference=reference)
        received = _quantity(params.get("received"), params.get("unit"))
        if params.get("condition") in (None, "good"):
            return heading, _("Received: %(quantity)s, in good condition.", quantity=received)
        return heading, _(
            "Received: %(quantity)s, %(condition)s. An issue was opened.",
            quantity=received, condition=_label(CONDITION_LABELS, params.get("condition")),
        )
    if event == "issue_opened":
        return _("Order %(reference)s: new issue", reference=reference), title
    if event == "issue_comment":
        return _("Order %(reference)s: new comment on an issue", reference=reference), title
    if event == "issue_transition":
        return (
            _("Order %(reference)s: issue is now “%(state)s”", reference=reference,
              state=_label(STATE_LABELS, params.get("state"))),
            title,
        )
    if event == "issue_unanswered":
        hours = _int(params.get("hours"))
        return (
            _("Order %(reference)s: issue not answered", reference=reference),
            ngettext("No answer for %(num)s hour: %(title)s", "No answer for %(num)s hours: %(title)s",
                     hours, title=title),
        )
    if event == "enquiry":
        return (_("Enquiry from %(buyer)s", buyer=_clip(params.get("buyer"))),
                _("About: %(product)s", product=_clip(params.get("product")))
                if params.get("product") else _("Tap to read it and answer."))
    if event == "enquiry_reply":
        return (_("New answer to an enquiry"),
                _("%(buyer)s and %(producer)s", buyer=_clip(params.get("buyer")),
                  producer=_clip(params.get("producer"))))
    if event in REMINDERS:
        return _reminder_texts(event, params, reference)
    return "SEC GO!", _("Something new happened on your orders.")


def _reminder_texts(event, params, reference):
    if event == "remind_stale":
        days = _int(params.get("days"))
        return (
            ngettext("Order %(reference)s: no update for %(num)s day",
                     "Order %(reference)s: no update for %(num)s days", days, reference=reference),
            _("Your customer is waiting for news. Tap to post the order's status."),
        )
    if event == "remind_due":
        return (
            _("Order %(reference)s: due soon, not dispatched yet", reference=reference),
            _("Due on %(date)s. Post its status, or tell your customer about a delay.",
              date=_day(params.get("due"))),
        )
    if event == "remind_confirm":
        count = _int(params.get("count"))
        return (
            _("Updates waiting for your confirmation"),
            ngettext("%(num)s update has waited more than a day for you to confirm it.",
                     "%(num)s updates have waited more than a day for you to confirm them.", count),
        )
    if event == "remind_match":
        count = _int(params.get("count"))
        return (
            _("Follow up: %(event)s", event=_clip(str(params.get("event") or ""))),
            ngettext("%(num)s match has not reached a repeat order %(months)s months after the event.",
                     "%(num)s matches have not reached a repeat order %(months)s months after the event.",
                     count, months=_int(params.get("months"))),
        )
    # weekly_digest: numbers from reminders.digest_params, worded here
    parts = [
        ngettext("%(num)s open issue", "%(num)s open issues", _int(params.get("open_issues"))),
        ngettext("%(num)s with no answer", "%(num)s with no answer", _int(params.get("unanswered"))),
        ngettext("%(num)s overdue order", "%(num)s overdue orders", _int(params.get("overdue"))),
    ]
    # The past week's promptness (coordinator/promptness.week_summary), where there was any.
    if _int(params.get("updates")):
        parts.append(ngettext("%(num)s update this week", "%(num)s updates this week",
                              _int(params.get("updates"))))
        if params.get("delay_median_hours") is not None:
            parts.append(_("reported %(hours)s h late (median)",
                           hours=format_decimal(params["delay_median_hours"], "#,##0.#")))
        if params.get("confirmed_share") is not None:
            parts.append(_("%(percent)s confirmed", percent=_percent(params["confirmed_share"])))
    if _int(params.get("delivered")) and params.get("on_time_share") is not None:
        parts.append(_("%(percent)s of deliveries on time", percent=_percent(params["on_time_share"])))
    if _int(params.get("shipments")) and params.get("border_median_hours") is not None:
        parts.append(ngettext("%(num)s shipment waited %(hours)s h at the border (median)",
                              "%(num)s shipments waited %(hours)s h at the border (median)",
                              _int(params.get("shipments")),
                              hours=format_decimal(params["border_median_hours"], "#,##0.#")))
    return _("Your week on SEC GO!"), " · ".join(parts)


def _percent(value) -> str:
    """A share in whole percent (50 -> "50%", in the language's own way of writing it)."""
    try:
        return format_percent(float(value) / 100)
    except (TypeError, ValueError):
        return ""


def _day(value) -> str:
    try:
        return format_date(date.fromisoformat(str(value)), "medium")
    except ValueError:
        return ""


def _label(labels, code) -> str:
    label = labels.get(code)
    return str(label) if label is not None else ""


def _quantity(value, unit=None) -> str:
    try:
        return format_quantity(Decimal(str(value)), unit)
    except (InvalidOperation, ValueError):
        return ""


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _clip(text: str) -> str:
    text = str(text or "")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _order_reference(notification):
    if notification.order_id is None:
        return None
    return db.session.scalar(db.select(Order.reference).where(Order.id == notification.order_id))


def _issue_title(notification):
    if notification.issue_id is None:
        return None
    issue = db.session.get(Issue, notification.issue_id)
    return issue.shown_title if issue is not None else None


SAFE_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")


def safe_path(url) -> str:
    """Only same-site paths go in a payload (the service worker opens it on click)."""
    url = str(url or "/")
    return url if SAFE_PATH.match(url) and len(url) <= 300 else "/"


def topic_for(notification, reference: str) -> str | None:
    """RFC 8030 Topic: a newer status of the same order replaces one still waiting."""
    if notification.event != "status_update" or not reference:
        return None
    return re.sub(r"[^A-Za-z0-9_-]", "", f"status-{reference}")[:32] or None

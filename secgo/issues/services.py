"""Issue rules: raising, commenting, the state machine. Pages and API call these; callers commit."""
from dataclasses import dataclass
from functools import cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, bindparam, false, or_, select
from sqlalchemy.orm import aliased, joinedload, load_only, selectinload

from .. import counting, notify, readmarks
from .. import phrases as _phrases
from ..attachments.voice import load_voices
from ..authz import order_audience, order_side, stand_in, stand_in_binds, visible_issues_clause
from ..errors import ApiError
from ..counting import count_statement, total_from
from ..extensions import db
from ..i18n import fold
from ..limits import LIMITS, clean_text
from ..models import (
    BORDER_CROSSINGS,
    CATEGORIES,
    COUNTRIES,
    SEVERITIES,
    STATES,
    Issue,
    IssueComment,
    IssueEvent,
    Order,
    Organization,
    StatusUpdate,
    User,
    utcnow,
)
from ..models.base import UTCDateTime

# Refusals the issue form shows too (secgo.issues.forms), before this service runs.
CHOOSE_CATEGORY = _l("Choose what kind of problem it is.")
CHOOSE_SEVERITY = _l("Choose how serious it is.")


# --- the state machine: one table -----------------------------------------------------------
# Who may act is named by what the actor is to this issue: "reporter" (anyone on the side
# that raised it), "counterpart" (a producer or customer on the other side), "producer",
# "coordinator" (of the producer's cluster) and "admin".


@dataclass(frozen=True)
class Rule:
    action: str
    sources: frozenset
    target: str | None  # None: the state does not change (reassign)
    who: frozenset
    note_required: bool = False


def _rule(action, sources, target, who, note_required=False):
    return Rule(action, frozenset(sources), target, frozenset(who), note_required)


TRANSITIONS = (
    _rule("acknowledge", {"open", "reopened"}, "acknowledged", {"counterpart", "coordinator", "admin"}),
    _rule("resolve", {"open", "acknowledged", "reopened"}, "resolved",
          {"producer", "coordinator", "admin"}, note_required=True),
    _rule("close", {"resolved"}, "closed", {"reporter"}),
    _rule("close", {"open", "acknowledged", "resolved", "reopened"}, "closed", {"coordinator", "admin"}),
    _rule("reopen", {"resolved"}, "reopened", {"reporter"}, note_required=True),
    _rule("reassign", {"open", "acknowledged", "resolved", "reopened"}, None, {"coordinator", "admin"}),
)
ACTIONS = ("acknowledge", "resolve", "close", "reopen", "reassign")
ACTION_LABELS = {
    "acknowledge": _l("Acknowledge"),
    "resolve": _l("Mark resolved"),
    "close": _l("Confirm fixed and close"),
    "reopen": _l("Not fixed: reopen"),
    "reassign": _l("Reassign"),
}
# What the history says for each recorded action.
EVENT_LABELS = {
    "open": _l("Raised the issue"),
    "acknowledge": _l("Acknowledged"),
    "resolve": _l("Marked resolved"),
    "close": _l("Closed"),
    "reopen": _l("Reopened"),
    "reassign": _l("Reassigned"),
}
NOTE_LABELS = {
    "resolve": _l("What was done (resolution note)"),
    "reopen": _l("Why it is not fixed"),
}


def actor_roles(issue: Issue, user) -> set[str]:
    """What the user is to this issue (empty when they may not see it)."""
    side = order_side(user, issue.order)
    if side is None:
        return set()
    roles = {side}
    if side == issue.raised_by_side:
        roles.add("reporter")
    elif side in ("producer", "customer"):
        roles.add("counterpart")
    return roles


def allowed_actions(issue: Issue, user) -> list[str]:
    """The actions this user may take on the issue now, in display order."""
    roles = actor_roles(issue, user)
    found = {r.action for r in TRANSITIONS if roles & r.who and issue.state in r.sources}
    return [a for a in ACTIONS if a in found]


# The step an issue most likely waits for, by state: the page shows it first (the others
# behind "Other actions"); the first of these the viewer may take.
LIKELY_NEXT = {
    "open": ("acknowledge", "resolve"),
    "reopened": ("acknowledge", "resolve"),
    "acknowledged": ("resolve",),
    "resolved": ("close",),
}


def likely_action(issue: Issue, actions: list[str]) -> str | None:
    """Of the viewer's allowed actions, the one the issue most likely waits for (or None)."""
    return next((a for a in LIKELY_NEXT.get(issue.state, ()) if a in actions), None)


def note_required(action: str) -> bool:
    """True when the action needs a note (a resolution or a reason)."""
    return any(r.note_required for r in TRANSITIONS if r.action == action)


def _find_rule(issue: Issue, roles: set[str], action: str) -> Rule:
    if action not in ACTIONS:
        raise ApiError(422, fields={"action": _l("Choose one of the offered actions.")})
    mine = [r for r in TRANSITIONS if r.action == action and roles & r.who]
    if not mine:
        raise ApiError(403, _l("You may not do this to this issue."), code="transition_forbidden")
    for r in mine:
        if issue.state in r.sources:
            return r
    raise ApiError(
        409,
        _l("This issue is %(state)s now, so this cannot be done. Reload to see what changed.",
           state=_state_label(issue.state)),
        code="wrong_state",
    )


def _state_label(state):
    from ..i18n import STATE_LABELS

    return STATE_LABELS.get(state, state)


def _issue_url(issue: Issue) -> str:
    # A plain path: services also run outside requests (CLI, workers, tests).
    return f"/issues/{issue.id}"


def _others(order, actor):
    return [u for u in order_audience(order) if actor is None or u.id != actor.id]


def _mark_response(issue: Issue, roles: set[str], now) -> None:
    """The first answer by someone who is not on the reporter's side starts the clock's end."""
    if issue.first_response_at is None and "reporter" not in roles:
        issue.first_response_at = now


def transition(issue: Issue, actor: User, action: str, *, note: str = "", assignee_id=None,
               client_id=None, now=None) -> IssueEvent:
    """Apply one action of the state machine; refuse 403/409/422 with a clear message."""
    now = now or utcnow()
    roles = actor_roles(issue, actor)
    if not roles:
        raise ApiError(404)
    rule = _find_rule(issue, roles, action)
    fields: dict = {}
    missing = rule.note_required and (_l("Say what was done to fix it.") if action == "resolve"
                                      else _l("Say why it is not fixed."))
    text = clean_text(note, "note", fields, required=missing)
    if fields:
        raise ApiError(422, fields=fields)
    assignee = None
    if action == "reassign":
        assignee = _valid_assignee(issue, assignee_id)
    source = issue.state
    target = rule.target or source
    issue.state = target
    issue.updated_at = now
    if action == "acknowledge":
        issue.acknowledged_at = issue.acknowledged_at or now
    elif action == "resolve":
        issue.resolved_at = now
        issue.resolution_note = str(text)
    elif action == "close":
        issue.closed_at = now
        issue.resolved_at = issue.resolved_at or now
    elif action == "reopen":
        issue.resolved_at = None
        issue.closed_at = None
    elif action == "reassign":
        issue.assignee = assignee
    if action in ("acknowledge", "resolve"):
        _mark_response(issue, roles, now)
    side = next((r for r in ("admin", "coordinator", "producer", "customer") if r in roles), None)
    event = IssueEvent(
        issue=issue, action=action, from_state=source, to_state=target, actor=actor,
        actor_side=side, assignee=assignee, note=str(text), client_id=client_id, created_at=now,
    )
    db.session.add(event)
    issue.order.last_activity_at = now
    db.session.flush()
    notify.enqueue(
        "issue_transition", _others(issue.order, actor) + ([assignee] if assignee else []),
        url=_issue_url(issue), order=issue.order, issue=issue,
        params={**issue_params(issue), "state": target, "action": action},
    )
    return event


def _valid_assignee(issue: Issue, assignee_id) -> User:
    try:
        uid = int(assignee_id)
    except (TypeError, ValueError):
        uid = None
    candidates = {u.id: u for u in order_audience(issue.order)}
    if uid not in candidates:
        raise ApiError(422, fields={"assignee": _l("Choose someone who works on this order.")})
    return candidates[uid]


def assignee_choices(issue: Issue) -> list[User]:
    """People an issue may be assigned to: those on the order's sides and its coordinators."""
    return sorted(order_audience(issue.order), key=lambda u: u.display_name)


def issue_params(issue: Issue) -> dict:
    """What a notification about an issue carries: its order and its title (a composed title
    as its phrase, so each recipient reads it in their own language)."""
    params = {"reference": issue.order.reference, "title": issue.title}
    if issue.title_phrase:
        params["title_phrase"] = issue.title_phrase
    return params


def add_comment(issue: Issue, actor: User, body: str, *, photos=(), client_id=None,
                now=None, data=None, voice=None) -> IssueComment:
    """Add a message to the thread (text, photos, a voice note or quick phrases); the
    counterpart's first word counts as the first response."""
    now = now or utcnow()
    roles = actor_roles(issue, actor)
    if not roles:
        raise ApiError(404)
    said = _phrases.read(data or {}, _phrases.COMMENT, unit=issue.order.unit)
    fields: dict = {}
    text = clean_text(body, "body", fields,
                      required=not photos and not said and voice is None and _l("Write a message."))
    if fields:
        raise ApiError(422, fields=fields)
    comment = IssueComment(
        issue=issue, author=actor, body=str(text), body_original=text.original,
        client_id=client_id, created_at=now, phrases=said or None,
    )
    comment.photos = list(photos)
    comment.voice = voice
    db.session.add(comment)
    _mark_response(issue, roles, now)
    issue.updated_at = now
    issue.order.last_activity_at = now
    db.session.flush()
    notify.enqueue(
        "issue_comment", _others(issue.order, actor), url=_issue_url(issue),
        order=issue.order, issue=issue,
        params={**issue_params(issue), **({"phrases": said} if said else {})},
    )
    return comment


def update_on(order, raw) -> "StatusUpdate | None":
    """The status update an issue is about ("This is wrong"): one of the order's, or a 422."""
    from ..ids import is_id

    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.isdecimal() and len(raw) <= 10:
        raw = int(raw)
    update = db.session.get(StatusUpdate, raw) if is_id(raw) else None
    if update is None or update.order_id != order.id:
        raise ApiError(422, fields={"update_id": _l("Unknown update.")})
    return update


def raise_issue(order, actor, *, category, severity, title, description="", photos=(),
                client_id=None, actor_label=None, delivery=None, now=None, phrases=(),
                title_phrase=None, update=None, voice=None) -> Issue:
    """Open an issue on an order (producer, customer, coordinator, admin or a tracking link).

    phrases: quick phrases, checked (secgo.phrases.read). With no typed title, the title is a
    phrase (title_phrase, else the first quick phrase, else "not right: <the update>"), shown
    in each reader's language; `title` then keeps it in English.
    """
    side = order_side(actor, order) if actor is not None else "customer"
    if side is None:
        raise ApiError(404)
    fields = {}
    if category not in CATEGORIES:
        fields["category"] = CHOOSE_CATEGORY
    if severity not in SEVERITIES:
        fields["severity"] = CHOOSE_SEVERITY
    said = list(phrases or ())
    if not title and title_phrase is None:
        if said:
            title_phrase = said[0]
        elif update is not None:
            title_phrase = _phrases.compose("update_wrong", status=update.status)
    title_text = clean_text(title, "title", fields, required=title_phrase is None and _l(
        "Give the problem a short title."))
    body = clean_text(description, "description", fields)
    if fields:
        raise ApiError(422, fields=fields)
    if title_phrase is not None and not title_text:
        with force_locale("en"):
            title_text = _phrases.render(title_phrase)[:LIMITS["title"]]
    else:
        title_phrase = None
    now = now or utcnow()
    issue = Issue(
        order=order, category=category, severity=severity, title=str(title_text),
        title_original=getattr(title_text, "original", None), title_phrase=title_phrase,
        phrases=said or None, update_id=update.id if update is not None else None,
        description=str(body), description_original=body.original, state="open",
        raised_by=actor, raised_by_label=actor_label, raised_by_side=side,
        client_id=client_id, created_at=now, updated_at=now,
    )
    issue.photos = list(photos)
    issue.voice = voice
    db.session.add(issue)
    db.session.flush()
    db.session.add(IssueEvent(
        issue=issue, action="open", from_state=None, to_state="open", actor=actor,
        actor_side=side, created_at=now,
    ))
    order.last_activity_at = now
    searched = said + ([title_phrase] if title_phrase else [])
    if searched:
        order.search_text = (order.search_text or "") + " \n" + fold(_phrases.search_words(searched))
    notify.enqueue(
        "issue_opened", _others(order, actor), url=_issue_url(issue),
        order=order, issue=issue,
        params={**issue_params(issue), **({"phrases": said} if said else {})},
    )
    return issue


# --- finding issues ---------------------------------------------------------------------------

TABS = ("waiting", "mine", "all")
# The list filters, and what each value is (for statements built once with binds in their place).
FILTER_TYPES = {"state": String, "category": String, "severity": String, "cluster": Integer,
                "country": String, "border": String}
FILTERS = tuple(FILTER_TYPES)


def parse_filters(args) -> dict:
    """Read list filters from query arguments, dropping values that are not ours."""
    out = {}
    allowed = {"state": STATES, "category": CATEGORIES, "severity": SEVERITIES,
               "country": COUNTRIES, "border": BORDER_CROSSINGS}
    for name, values in allowed.items():
        value = args.get(name)
        if value in values:
            out[name] = value
    cluster = args.get("cluster", "")
    if cluster.isdecimal() and len(cluster) < 10:
        out["cluster"] = int(cluster)
    return out


def filter_stand_ins(keys, prefix: str) -> dict:
    """Filters whose values are binds (prefix_state, ...; their values: filter_binds), for a
    statement built once for these filters and run with anyone's values."""
    return {key: bindparam(f"{prefix}_{key}", type_=FILTER_TYPES[key]()) for key in keys}


def filter_binds(filters: dict, prefix: str) -> dict:
    """The values of filter_stand_ins(filters, prefix)'s binds."""
    return {f"{prefix}_{key}": value for key, value in filters.items()}


def filter_clauses(filters: dict, producer=Organization) -> list:
    """WHERE clauses on Issue and its producer organization for the parsed filters (an issue
    carries its order's organizations and border crossing: no join to orders)."""
    clauses = []
    if "state" in filters:
        clauses.append(Issue.state == filters["state"])
    if "category" in filters:
        clauses.append(Issue.category == filters["category"])
    if "severity" in filters:
        clauses.append(Issue.severity == filters["severity"])
    clauses.extend(_place_clauses(filters, producer, Issue.border_crossing, Issue.customer_org_id))
    return clauses


def order_filter_clauses(filters: dict, producer=Organization) -> list:
    """WHERE clauses on Order and its producer organization (cluster, country, border)."""
    return _place_clauses(filters, producer, Order.border_crossing, Order.customer_org_id)


def _place_clauses(filters: dict, producer, border_crossing, customer_org_id) -> list:
    """The cluster, border and country filters, on an order's or an issue's own columns."""
    clauses = []
    if "cluster" in filters:
        clauses.append(producer.cluster_id == filters["cluster"])
    if "border" in filters:
        clauses.append(border_crossing == filters["border"])
    if "country" in filters:
        country = filters["country"]
        other = select(Organization.id).where(Organization.country == country)
        clauses.append(or_(producer.country == country, customer_org_id.in_(other)))
    return clauses


def _sources(action: str) -> set[str]:
    """The states an action can start from (the state table says)."""
    return set().union(*(r.sources for r in TRANSITIONS if r.action == action))


def tab_clause(user, tab: str):
    """WHERE clause for a tab: raised by me, waiting for me, or everything I may see."""
    if tab == "mine":
        return Issue.raised_by_id == user.id
    if tab != "waiting":
        return None
    if user.role in ("coordinator", "admin"):
        return Issue.is_open
    side = user.role
    confirm = and_(Issue.waits_for_close, Issue.raised_by_side == side)
    if side == "producer":
        return or_(Issue.is_open, confirm)
    if side == "customer":  # the producer's issues it has not acknowledged yet, and its own
        # open ones that the other side has answered (Issue.awaits_answer no longer holds)
        unanswered = Issue.state.in_(sorted(_sources("acknowledge")))
        answered = and_(Issue.is_open, Issue.raised_by_side == side, ~Issue.awaits_answer)
        return or_(and_(unanswered, Issue.raised_by_side != side), answered, confirm)
    return false()


def issues_query(user, tab="all", filters=None):
    """A select of the issues the user may see (joined to their producer for its filters)."""
    filters = filters or {}
    producer = aliased(Organization, name="producer_org")
    # Who may see an issue, and what the filters ask of its order, are on the issue itself
    # (visible_issues_clause, filter_clauses): only its producer is joined, for a filter on it.
    stmt = select(Issue).where(visible_issues_clause(user))
    if {"cluster", "country"} & filters.keys():
        stmt = stmt.join(producer, Issue.producer_org_id == producer.id)
    clauses = filter_clauses(filters, producer)
    tab_where = tab_clause(user, tab)
    if tab_where is not None:
        clauses.append(tab_where)
    return stmt.where(*clauses)


# What a list loads with each issue. An API item (secgo.api.issues.issue_json) shows every
# column, the photos, who raised it, and its order's reference, crossing and producer's
# cluster; the list page (templates/issues/index.html) only the columns below, its order's
# reference and crossing, and the names of the order's two organizations.
ITEM = (
    joinedload(Issue.order).options(joinedload(Order.producer_org), joinedload(Order.customer_org)),
    selectinload(Issue.photos), selectinload(Issue.raised_by),
)
LIST_ITEM = (
    load_only(Issue.id, Issue.order_id, Issue.title, Issue.title_phrase, Issue.state, Issue.severity,
              Issue.category, Issue.created_at, Issue.closed_at, Issue.first_response_at),
    joinedload(Issue.order).options(
        load_only(Order.reference, Order.border_crossing, Order.producer_org_id, Order.customer_org_id),
        joinedload(Order.producer_org).load_only(Organization.name),
        joinedload(Order.customer_org).load_only(Organization.name),
    ),
)


@cache
def _list_statements(role: str, tab: str, filter_keys: frozenset, load) -> tuple:
    """(the page's issues, whether each has news for the user and how many issues there are;
    their count alone) for a role, tab and set of filters, built once per process: the user,
    the filters' values, the page's size and start are binds (list_issues gives them).
    Building them anew took longer than running them."""
    who = stand_in(role, "issues")
    ids = issues_query(who, tab, filter_stand_ins(filter_keys, "issues")).with_only_columns(Issue.id)
    newest = (Issue.updated_at.desc(), Issue.id.desc())
    # The page's ids first, then their issues with what is loaded of them: joined before
    # the sort, every issue that matches would be joined to its order.
    page = (ids.order_by(*newest).limit(bindparam("issues_limit", type_=Integer))
            .offset(bindparam("issues_skip", type_=Integer)).subquery())
    counted = count_statement(ids)
    # The count beside the rows: a subquery that refers to no row, run once for the statement.
    rows = (select(Issue, readmarks.unread_expr(who, "issue", low=bindparam("issues_floor", type_=UTCDateTime()))
                   .label("unread"), counted.scalar_subquery().label("total"))
            .join(page, page.c.id == Issue.id).options(*load).order_by(*newest))
    return rows, counted


def list_issues(user, tab="all", filters=None, *, limit=50, offset=0,
                load=ITEM) -> tuple[list[Issue], int, bool, set[int]]:
    """The user's issues for a tab and filters, newest activity first, with the total count
    (up to secgo.counting.COUNT_AHEAD past offset), whether there are more than that and the
    ids of those with news for the user (secgo.readmarks): one statement when the page has
    issues (two past the last); load: what is loaded with each (ITEM, or the list page's
    LIST_ITEM)."""
    if user is None or not user.is_authenticated:
        return [], 0, False, set()
    filters = filters or {}
    rows_stmt, count_stmt = _list_statements(user.role, tab, frozenset(filters), load)
    binds = {**stand_in_binds(user, "issues"), **filter_binds(filters, "issues")}
    ahead = offset + counting.COUNT_AHEAD
    rows = db.session.execute(rows_stmt, {**binds, "issues_limit": limit, "issues_skip": offset,
                                          "issues_floor": readmarks.floor(user), "count_limit": ahead + 1}).all()
    if rows:
        total, more = min(rows[0].total, ahead), rows[0].total > ahead
    else:  # an empty list, or a page past the last: how many there are, for the pager
        total, more = total_from(count_stmt, offset, binds) if offset else (0, False)
    return [r[0] for r in rows], total, more, {r[0].id for r in rows if r.unread}


def get_issue(user, issue_id) -> Issue:
    """The issue if the user may see it; 404 otherwise (never a hint that it exists)."""
    try:
        issue_id = int(issue_id)
    except (TypeError, ValueError):
        raise ApiError(404) from None
    if not 0 < issue_id < 2**31:
        raise ApiError(404)
    issue = db.session.get(Issue, issue_id)
    if issue is None or order_side(user, issue.order) is None:
        raise ApiError(404)
    return issue


@cache  # built once per process
def _conversation_statement():
    return (select(Issue).where(Issue.id == bindparam("conversation_issue", type_=Integer))
            .options(selectinload(Issue.comments).options(joinedload(IssueComment.author),
                                                          selectinload(IssueComment.photos)),
                     selectinload(Issue.events).options(joinedload(IssueEvent.actor),
                                                        joinedload(IssueEvent.assignee)),
                     selectinload(Issue.photos), joinedload(Issue.raised_by), joinedload(Issue.assignee)))


def load_conversation(issue: Issue) -> Issue:
    """Give the issue everything its page and the API show of it — its comments with their
    authors, photos and voice notes, its events with their people, its own photos and voice
    note — in a fixed number of statements however long the conversation is (not one or two
    per comment)."""
    db.session.scalars(_conversation_statement(), {"conversation_issue": issue.id}).one()
    load_voices([issue, *issue.comments])
    return issue


def age(issue: Issue, now=None):
    """How long the issue has been open (until it closed)."""
    end = issue.closed_at or now or utcnow()
    return end - issue.created_at

"""Orders and issues for issue and dashboard tests, made directly (not through order pages)."""
import itertools
from datetime import date, datetime, timezone

from sqlalchemy import select
from decimal import Decimal

from secgo.extensions import db
from secgo.issues import services
from secgo.models import Order, StatusUpdate, User

_refs = itertools.count(1)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)  # a Monday morning, UTC


def make_order(producer_org_id, customer_org_id, *, reference=None, border=None, status="accepted",
               due=None, created_at=T0, product="Organic jasmine rice"):
    """Add an order row between two organizations; flush and return it."""
    order = Order(
        reference=reference or f"SEC-T{next(_refs):05d}", producer_org_id=producer_org_id,
        customer_org_id=customer_org_id, product=product, quantity=Decimal("100"), unit="kg",
        origin="Takeo", destination="Bangkok", border_crossing=border, status=status,
        due_date=due, created_at=created_at, last_activity_at=created_at,
    )
    db.session.add(order)
    db.session.flush()
    return order


def raise_as(username, order, *, category="quantity", severity="high", title="Ten bags short",
             description="", now=T0):
    """Raise an issue on an order as the named user, through the service."""
    user = db.session.scalar(db.select(User).where(User.username == username))
    return services.raise_issue(order, user, category=category, severity=severity, title=title,
                                description=description, now=now)


def add_issue_world(world):
    """Give the shared test world one order (farm -> buyer) with one open issue by the customer."""
    order = make_order(world.orgs["farm"], world.orgs["buyer"], reference="SEC-WRLD01",
                       border="aranyaprathet_poipet", due=date(2026, 1, 1))
    issue = raise_as("customer", order)
    db.session.commit()
    world.issue_order = order.reference
    world.issue = issue.id
    return world


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def person(name):
    return db.session.scalar(select(User).where(User.username == name))


def build_fixture(world):
    """Six issues whose dashboard figures are worked out by hand in tests/test_coordinator.py.

    Issue 1 is the world's (raised 2 Mar 08:00, high, quantity, never answered; its order was
    due 1 Jan and is overdue).
    """
    farm, weaver = world.orgs["farm"], world.orgs["weaver"]
    a = make_order(farm, world.orgs["buyer"], border="bavet_moc_bai", due=date(2026, 4, 1))
    b = make_order(weaver, world.orgs["buyer"], border="hat_lek_cham_yeam", due=date(2026, 3, 1),
                   status="in_transit")
    c = make_order(farm, world.orgs["other_buyer"], due=date(2026, 3, 10), status="delivered")
    producer, customer, coordinator = person("producer"), person("customer"), person("coordinator")
    # 2: answered after 3 h, resolved after 24 h, closed.
    i2 = raise_as("customer", a, category="delay", severity="medium", title="Late", now=at(10, 8))
    services.transition(i2, producer, "acknowledge", now=at(10, 11))
    services.transition(i2, producer, "resolve", note="Sent", now=at(11, 8))
    services.transition(i2, customer, "close", now=at(11, 10))
    # 3: answered by a comment after 5 h, resolved after 48 h.
    i3 = raise_as("customer", a, category="quality", severity="low", title="Mould", now=at(15, 8))
    services.add_comment(i3, producer, "Checking", now=at(15, 13))
    services.transition(i3, producer, "resolve", note="Replaced", now=at(17, 8))
    # 4: the coordinator answers after 4 h; still open.
    i4 = raise_as("other_customer", c, category="documents_customs", severity="high",
                  title="Papers", now=at(18, 12))
    services.transition(i4, coordinator, "acknowledge", now=at(18, 16))
    # 5: 6 h old, no answer yet (not flagged: under 48 h).
    raise_as("producer", c, category="transport", severity="medium", title="Truck", now=at(20, 6))
    # 6: another cluster (silk): only the admin sees it.
    raise_as("other_producer", b, category="payment", severity="high", title="Unpaid", now=at(12, 8))
    # Updates: one unconfirmed for 48 h (flagged), one for 12 h, one confirmed, one note.
    db.session.add_all([
        StatusUpdate(order_id=a.id, status="dispatched", recorded_at=at(18, 12), occurred_at=at(18, 12)),
        StatusUpdate(order_id=a.id, status="at_border", recorded_at=at(20, 0), occurred_at=at(20, 0)),
        StatusUpdate(order_id=a.id, status="accepted", recorded_at=at(10, 0), occurred_at=at(10, 0),
                     confirmed_at=at(10, 5)),
        StatusUpdate(order_id=a.id, status="note", recorded_at=at(1, 0), occurred_at=at(1, 0)),
    ])
    db.session.commit()

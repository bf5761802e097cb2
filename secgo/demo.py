"""Demo data: clusters of the corridor, their producers and buyers, orders with history."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select

from .authz import order_side
from .extensions import db
from .issues import services as issues
from .i18n import fold
from .models import (
    Cluster,
    DeliveryConfirmation,
    Issue,
    Notification,
    Order,
    Organization,
    StatusUpdate,
    User,
    utcnow,
)

PASSWORD = "demo-password"

CLUSTERS = [
    ("Takeo organic rice", "KH", "Takeo", "organic rice"),
    ("Phnom Penh instant noodle", "KH", "Phnom Penh", "instant noodle"),
    ("Siem Reap rattan", "KH", "Siem Reap", "rattan"),
    ("Kampong Speu mango", "KH", "Kampong Speu", "mango"),
    ("Kandal organic vegetables", "KH", "Kandal", "organic vegetables"),
    ("Vientiane silk", "LA", "Vientiane", "silk"),
    ("Vientiane wooden furniture", "LA", "Vientiane", "wooden furniture"),
    ("Luang Prabang handicraft", "LA", "Luang Prabang", "handicraft"),
    ("Champasak organic rice", "LA", "Champasak", "organic rice"),
    ("Vientiane silver and jewellery", "LA", "Vientiane", "silver products and jewellery"),
    ("Mandalay mango", "MM", "Mandalay", "mango"),
    ("Yangon plastic", "MM", "Yangon", "plastic"),
    ("Shan macadamia", "MM", "Shan", "macadamia"),
    ("Bat Trang ceramic", "VN", "Hà Nội", "ceramic"),
    ("Quang Vinh ceramic", "VN", "Đồng Nai", "ceramic"),
    ("Thai Nguyen organic tea", "VN", "Thái Nguyên", "organic tea"),
    ("Van Phuc silk", "VN", "Hà Nội", "silk"),
    ("Dong Ha silk", "VN", "Quảng Trị", "silk"),
    ("Sa Kaeo organic vegetables", "TH", "Sa Kaeo", "organic vegetables"),
]

PRODUCERS = [
    ("Takeo Organic Rice Cooperative", "Takeo organic rice", "KH", "Takeo"),
    ("សហគមន៍ស្រូវសរីរាង្គតាកែវ", "Takeo organic rice", "KH", "Takeo"),
    ("Kampong Speu Mango Growers", "Kampong Speu mango", "KH", "Kampong Speu"),
    ("ສະຫະກອນຜ້າໄໝວຽງຈັນ", "Vientiane silk", "LA", "Vientiane"),
    ("Lao Teak Furniture Co.", "Vientiane wooden furniture", "LA", "Vientiane"),
    ("မန္တလေးသရက်သီး စိုက်ပျိုးသူများ", "Mandalay mango", "MM", "Mandalay"),
    ("Shan Macadamia Farms", "Shan macadamia", "MM", "Shan"),
    ("Gốm Bát Tràng Minh Long", "Bat Trang ceramic", "VN", "Hà Nội"),
    ("Chè hữu cơ Tân Cương", "Thai Nguyen organic tea", "VN", "Thái Nguyên"),
    ("วิสาหกิจผักอินทรีย์สระแก้ว", "Sa Kaeo organic vegetables", "TH", "Sa Kaeo"),
]

CUSTOMERS = [
    ("Bangkok Fresh Trading Co.", "TH", "Bangkok"),
    ("บริษัท สยามเทรด จำกัด", "TH", "Chonburi"),
    ("Saigon Import Export JSC", "VN", "Hồ Chí Minh"),
    ("Phnom Penh Wholesale Market", "KH", "Phnom Penh"),
]

USERS = [
    # username, name, role, org name, locale, time zone
    ("demo-producer", "Sokha Chan", "producer", "Takeo Organic Rice Cooperative", "en", "Asia/Phnom_Penh"),
    ("demo-producer-km", "សុខា ចាន់", "producer", "សហគមន៍ស្រូវសរីរាង្គតាកែវ", "km", "Asia/Phnom_Penh"),
    ("demo-producer-lo", "ບຸນມີ ພົມມະວົງ", "producer", "ສະຫະກອນຜ້າໄໝວຽງຈັນ", "lo", "Asia/Vientiane"),
    ("demo-producer-my", "အောင်ကျော်", "producer", "မန္တလေးသရက်သီး စိုက်ပျိုးသူများ", "my", "Asia/Yangon"),
    ("demo-producer-th", "สมชาย ใจดี", "producer", "วิสาหกิจผักอินทรีย์สระแก้ว", "th", "Asia/Bangkok"),
    ("demo-producer-vi", "Nguyễn Thị Lan", "producer", "Gốm Bát Tràng Minh Long", "vi", "Asia/Ho_Chi_Minh"),
    ("demo-producer-mango", "Chea Sophal", "producer", "Kampong Speu Mango Growers", "km", "Asia/Phnom_Penh"),
    ("demo-producer-tea", "Trần Văn Hùng", "producer", "Chè hữu cơ Tân Cương", "vi", "Asia/Ho_Chi_Minh"),
    ("demo-customer", "Anong Srisuk", "customer", "Bangkok Fresh Trading Co.", "en", "Asia/Bangkok"),
    # Every order is confirmed, and its issues raised, by someone of its own customer.
    ("demo-customer-th", "วิภา ทองดี", "customer", "บริษัท สยามเทรด จำกัด", "th", "Asia/Bangkok"),
    ("demo-customer-vi", "Lê Minh Tuấn", "customer", "Saigon Import Export JSC", "vi", "Asia/Ho_Chi_Minh"),
    ("demo-customer-km", "ស្រីមុំ ហេង", "customer", "Phnom Penh Wholesale Market", "km", "Asia/Phnom_Penh"),
    ("demo-coordinator", "Dara Kim", "coordinator", None, "en", "Asia/Phnom_Penh"),
    ("demo-admin", "SEC GO! Admin", "admin", None, "en", "Asia/Bangkok"),
]

# reference, producer, customer, product, qty, unit, value, currency, origin, destination,
# border, due in days, [(status, note, hours ago, confirmed)], issue or None, delivery
# (received, condition[, receiver's name, proof at handover: "signature" or "code"]).
# An issue: (category, severity, title, description, state it reached, comments), each comment
# (who: producer | coordinator | customer, text, hours after the issue was raised).
ORDERS = [
    ("SEC-7K3F9Q", "Takeo Organic Rice Cooperative", "Bangkok Fresh Trading Co.", "Organic jasmine rice",
     "20000", "kg", "18500", "USD", "Takeo", "Bangkok", "aranyaprathet_poipet", 3,
     [("accepted", "Order received, milling next week.", 240, True),
      ("in_production", "Milling started; 60% packed.", 170, True),
      ("ready", "All 400 bags packed and labelled.", 96, True),
      ("dispatched", "Truck left Takeo 06:00.", 30, True),
      ("at_border", "Queue at Poipet, about 3 hours.", 6, False)],
     None, None),
    ("SEC-4M8R2T", "សហគមន៍ស្រូវសរីរាង្គតាកែវ", "Phnom Penh Wholesale Market", "អង្ករសរីរាង្គ",
     "5000", "kg", "21000000", "KHR", "តាកែវ", "ភ្នំពេញ", None, 5,
     [("accepted", "បានទទួលការបញ្ជាទិញ។", 100, True),
      ("in_production", "កំពុងកិនស្រូវ។", 50, False)],
     None, None),
    ("SEC-9V2L5X", "ສະຫະກອນຜ້າໄໝວຽງຈັນ", "บริษัท สยามเทรด จำกัด", "ຜ້າໄໝມັດໝີ່",
     "300", "m", "4200", "USD", "ວຽງຈັນ", "Chonburi", "nong_khai_vientiane", -2,
     [("accepted", "ໄດ້ຮັບຄຳສັ່ງຊື້ແລ້ວ.", 400, True),
      ("in_production", "ກຳລັງທໍຜ້າ.", 300, True),
      ("dispatched", "ສົ່ງອອກແລ້ວ.", 80, True),
      ("delivered", "ส่งถึงแล้ว", 20, True)],
     ("quality", "high", "Colour differs from sample", "ສີບໍ່ຄືກັບຕົວຢ່າງ — 40 m are lighter than the sample.", "open",
      (("producer", "We are checking this now.", 1),
       ("coordinator", "Please agree on a discount or a replacement today.", 2))),
     ("260", "damaged", "คุณสมชาย ใจดี", "signature")),
    ("SEC-2H6N8P", "မန္တလေးသရက်သီး စိုက်ပျိုးသူများ", "Bangkok Fresh Trading Co.", "သရက်သီး (Sein Ta Lone)",
     "8", "t", "9600", "USD", "Mandalay", "Bangkok", "phu_nam_ron_htee_kee", 1,
     [("accepted", "အော်ဒါလက်ခံပြီးပါပြီ။", 200, True),
      ("ready", "သရက်သီး ထုပ်ပိုးပြီးပါပြီ။", 70, True),
      ("dispatched", "ကားထွက်သွားပါပြီ။", 50, False)],
     ("delay", "medium", "Truck waiting for phytosanitary certificate", "Htee Kee checkpoint asks for a new certificate.", "acknowledged",
      (("producer", "We are checking this now.", 1),)),
     None),
    ("SEC-6B3W7Z", "Gốm Bát Tràng Minh Long", "Saigon Import Export JSC", "Bình gốm men lam Bát Tràng",
     "1200", "pcs", "180000000", "VND", "Bát Tràng, Hà Nội", "TP. Hồ Chí Minh", None, 10,
     [("accepted", "Đã nhận đơn hàng.", 150, True),
      ("in_production", "Đang nung mẻ thứ hai.", 40, True)],
     None, None),
    ("SEC-8D4K2M", "วิสาหกิจผักอินทรีย์สระแก้ว", "Phnom Penh Wholesale Market", "ผักอินทรีย์รวม",
     "2", "t", "90000", "THB", "สระแก้ว", "Phnom Penh", "aranyaprathet_poipet", -1,
     [("accepted", "รับออเดอร์แล้ว", 120, True),
      ("dispatched", "รถออกจากสระแก้วแล้ว", 60, True),
      ("delivered", "", 30, True)],
     ("quantity", "medium", "Short by 150 kg", "Received 1,850 kg of 2,000 kg.", "closed",
      (("producer", "We are checking this now.", 1),)),
     ("1850", "short", "Sophea", "code")),
    ("SEC-3F7J9C", "Kampong Speu Mango Growers", "Bangkok Fresh Trading Co.", "Keo Romeat mango",
     "12", "t", "10800", "USD", "Kampong Speu", "Bangkok", "hat_lek_cham_yeam", 7,
     [("accepted", "Harvest starts Monday.", 30, False)],
     # Raised a day ago and not answered yet: the lists say so, and it is not yet late.
     ("documents_customs", "medium", "Phytosanitary certificate missing",
      "Please attach the phytosanitary certificate before the truck leaves.", "open", ()),
     None),
    ("SEC-5Q9T4H", "Chè hữu cơ Tân Cương", "Bangkok Fresh Trading Co.", "Chè xanh hữu cơ",
     "500", "kg", "7500", "USD", "Thái Nguyên", "Bangkok", None, -5,
     [("accepted", "Đã nhận đơn.", 500, True),
      ("in_production", "Đang sao chè.", 300, True)],
     ("documents_customs", "low", "Organic certificate copy needed", "Please send the certificate before dispatch.", "resolved",
      (("producer", "We are checking this now.", 1),)),
     None),
]


# Past deliveries on six routes, so the dashboard's promptness and border figures and the
# expected arrival of an order in transit have a history: (producer, customer, crossing,
# transit days, hours at the border from..to).
HISTORY = [
    ("Takeo Organic Rice Cooperative", "Bangkok Fresh Trading Co.", "aranyaprathet_poipet", (3, 5), (4, 30)),
    ("Kampong Speu Mango Growers", "Bangkok Fresh Trading Co.", "hat_lek_cham_yeam", (3, 4), (2, 10)),
    ("မန္တလေးသရက်သီး စိုက်ပျိုးသူများ", "Bangkok Fresh Trading Co.", "phu_nam_ron_htee_kee", (4, 7), (18, 60)),
    ("ສະຫະກອນຜ້າໄໝວຽງຈັນ", "บริษัท สยามเทรด จำกัด", "nong_khai_vientiane", (2, 3), (1, 6)),
    ("วิสาหกิจผักอินทรีย์สระแก้ว", "Phnom Penh Wholesale Market", "aranyaprathet_poipet", (1, 2), (3, 20)),
    ("Gốm Bát Tràng Minh Long", "Saigon Import Export JSC", None, (3, 5), None),
]
HISTORY_ORDERS = 12  # per route, one every ten days or so, back from today

# What each crossing asks for (secgo.documents): every shipment's commercial papers, plus the
# plant-health certificate for fruit, rice and vegetables and fumigation for wooden goods.
# A product word is matched in the order's product, as the producers write it ("သရက်" is
# Burmese for mango).
BASIC_PAPERS = ("commercial_invoice", "packing_list", "certificate_of_origin")
CHECKLISTS = {
    crossing: {"": BASIC_PAPERS, **extra} for crossing, extra in {
        "mae_sot_myawaddy": {"mango": ("phytosanitary",), "သရက်": ("phytosanitary",),
                             "rice": ("phytosanitary",), "fruit": ("phytosanitary",)},
        "phu_nam_ron_htee_kee": {"mango": ("phytosanitary",), "သရက်": ("phytosanitary",)},
        "aranyaprathet_poipet": {"rice": ("phytosanitary",), "ผัก": ("phytosanitary",),
                                 "vegetable": ("phytosanitary",)},
        "hat_lek_cham_yeam": {"mango": ("phytosanitary",)},
        "nong_khai_vientiane": {"furniture": ("fumigation",)},
        "bavet_moc_bai": {},
    }.items()
}
# Papers already attached to demo orders: (reference, type, the paper's first lines).
DEMO_PAPERS = [
    ("SEC-2H6N8P", "commercial_invoice", ("COMMERCIAL INVOICE", "No. MDY-2026-118",
                                          "Mango (Sein Ta Lone), 8 t, USD 9,600")),
    ("SEC-2H6N8P", "packing_list", ("PACKING LIST", "800 crates x 10 kg")),
    ("SEC-3F7J9C", "commercial_invoice", ("COMMERCIAL INVOICE", "No. KSP-2026-042",
                                          "Keo Romeat mango, 12 t, USD 10,800")),
    ("SEC-8D4K2M", "commercial_invoice", ("COMMERCIAL INVOICE", "No. SK-2026-311")),
    ("SEC-8D4K2M", "packing_list", ("PACKING LIST", "200 boxes x 10 kg")),
    ("SEC-8D4K2M", "certificate_of_origin", ("FORM D", "ASEAN-Trade in Goods Agreement",
                                             "Certificate of origin")),
    ("SEC-8D4K2M", "phytosanitary", ("PHYTOSANITARY CERTIFICATE", "Organic vegetables")),
]


def _seed_papers(orgs: dict, users: dict) -> int:
    """The crossings' checklists, and a few papers on demo orders (real small PDFs)."""
    from .documents.sample import sample_pdf
    from .documents.services import refresh_crossing, save_document
    from .models import CrossingRequirement, Document

    created = 0
    for crossing, groups in CHECKLISTS.items():
        for product, types in groups.items():
            for doc_type in types:
                created += _get_or_create(CrossingRequirement, {
                    "crossing": crossing, "product": product, "doc_type": doc_type})[1]
    for reference, doc_type, lines in DEMO_PAPERS:
        order = db.session.scalar(select(Order).where(Order.reference == reference))
        if order is None or db.session.scalar(select(Document.id).where(
                Document.order_id == order.id, Document.doc_type == doc_type)):
            continue
        # Attached before the order's latest report: the demo's history stays as it was.
        active = order.last_activity_at
        doc = save_document(_member(users, order.producer_org), order, sample_pdf(lines),
                            doc_type, filename=f"{doc_type}.pdf")
        doc.created_at, order.last_activity_at = active - timedelta(hours=2), active
        created += 1
    db.session.flush()
    for crossing in CHECKLISTS:
        refresh_crossing(crossing)
    return created


def _seed_history(orgs: dict, users: dict, now) -> int:
    """Delivered orders of the last four months on the HISTORY routes (the same every run)."""
    import random

    rng = random.Random(15)
    created = 0
    for r, (producer, buyer, crossing, transit, border) in enumerate(HISTORY):
        producer_org, customer_org = orgs[producer], orgs[buyer]
        author, customer = _member(users, producer_org), _member(users, customer_org)
        for n in range(HISTORY_ORDERS):
            ref = f"SEC-H{r}{n:02d}DL"
            dispatched = now - timedelta(days=8 + n * 10, hours=rng.randint(0, 12))
            days = rng.uniform(*transit)
            delivered = dispatched + timedelta(days=days)
            if db.session.scalar(select(Order.id).where(Order.reference == ref)):
                rng.random()
                continue
            order = Order(
                reference=ref, producer_org=producer_org, customer_org=customer_org,
                product="Demo history", quantity=Decimal(100 + n * 10), unit="kg", origin=producer_org.province,
                destination=customer_org.province, border_crossing=crossing, status="delivered",
                due_date=(dispatched + timedelta(days=transit[1] - (n % 4 == 0))).date(),
                created_by=author, created_at=dispatched - timedelta(days=5), last_activity_at=delivered,
                search_text=fold(f"{ref} {producer} {buyer}"),
            )
            db.session.add(order)
            db.session.flush()
            steps = [("accepted", dispatched - timedelta(days=5)), ("dispatched", dispatched)]
            if crossing:
                arrive = dispatched + timedelta(hours=rng.uniform(6, 20))
                steps += [("at_border", arrive), ("customs_cleared", arrive + timedelta(hours=rng.uniform(*border)))]
            steps.append(("delivered", delivered))
            for status, at in steps:
                offline = rng.random() < 0.15  # now and then the report waited for a signal
                late = timedelta(hours=rng.uniform(8, 40) if offline else rng.uniform(0.05, 2))
                confirmed = rng.random() < 0.8
                db.session.add(StatusUpdate(
                    order=order, status=status, note="", occurred_at=at, recorded_at=at + late, author=author,
                    confirmed_by=customer if confirmed else None,
                    confirmed_at=at + late + timedelta(hours=rng.uniform(0.5, 30)) if confirmed else None,
                ))
            created += 1
    return created


MATCHING_EVENT = ("Mekong Business Matching Forum 2026", "Phnom Penh, Sokha Hotel")
# buyer, producer, products of interest, steps taken by the coordinator (stage, days after
# the event, reason). Orders the pairs placed since move some on by themselves (the history's
# Takeo rice and Kampong Speu mango to Bangkok: repeat orders; the organic tea: a first order).
MATCHES = [
    ("Bangkok Fresh Trading Co.", "Takeo Organic Rice Cooperative", "Organic jasmine rice, Organic brown rice",
     [("contacted", 3, ""), ("sample_sent", 10, "")]),
    ("Bangkok Fresh Trading Co.", "Kampong Speu Mango Growers", "Keo Romeat mango", [("contacted", 2, "")]),
    ("Bangkok Fresh Trading Co.", "Chè hữu cơ Tân Cương", "Organic green tea", [("sample_sent", 20, "")]),
    ("Saigon Import Export JSC", "សហគមន៍ស្រូវសរីរាង្គតាកែវ", "Organic rice", [("contacted", 7, "")]),
    ("บริษัท สยามเทรด จำกัด", "Kampong Speu Mango Growers", "Mango, Dried mango",
     [("contacted", 5, ""), ("sample_sent", 30, "")]),
    ("Bangkok Fresh Trading Co.", "Gốm Bát Tràng Minh Long", "Blue-glazed vases",
     [("contacted", 4, ""), ("dropped", 40, "The buyer's shops found the price too high for their market.")]),
    ("Saigon Import Export JSC", "วิสาหกิจผักอินทรีย์สระแก้ว", "Organic vegetables", []),
]


def _seed_matching(orgs: dict, coordinator: User, now) -> int:
    """One business-matching forum about five months ago, its matches in different stages."""
    from .matching import services as matching
    from .models import MatchingEvent, MatchStep

    name, place = MATCHING_EVENT
    if db.session.scalar(select(MatchingEvent.id).where(MatchingEvent.name == name)):
        return 0
    held_on = (now - timedelta(days=150)).date()
    taking_part = {org for buyer, producer, _p, _s in MATCHES for org in (buyer, producer)}
    event = matching.create_event(coordinator, {
        "name": name, "place": place, "held_on": held_on.isoformat(),
        "organization_ids": sorted(orgs[o].id for o in taking_part)})
    created = 1
    for buyer, producer, products, steps in MATCHES:
        match = matching.add_match(coordinator, event, {
            "buyer_org_id": orgs[buyer].id, "producer_org_id": orgs[producer].id, "products": products})
        created += 1
        for stage, days, reason in steps:
            on = held_on + timedelta(days=days)
            if matching.RANK[stage] > matching.RANK[match.stage] or stage == "dropped":
                matching.move(coordinator, match, {"stage": stage, "reason": reason, "on": on.isoformat()})
            else:  # the orders came after: the step stays in the history
                db.session.add(MatchStep(match_id=match.id, stage=stage, on=on, actor_id=coordinator.id))
    return created


def _get_or_create(model, lookup: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is not None:
        return obj, False
    obj = model(**lookup, **values)
    db.session.add(obj)
    db.session.flush()
    return obj, True


def seed_demo() -> int:
    """Create the demo data that is missing; return how many records were added."""
    created = 0
    clusters = {}
    for name, country, province, product in CLUSTERS:
        clusters[name], new = _get_or_create(
            Cluster, {"name": name}, country=country, province=province, product=product
        )
        created += new
    orgs = {}
    for name, cluster, country, province in PRODUCERS:
        orgs[name], new = _get_or_create(
            Organization, {"name": name}, kind="producer", country=country,
            province=province, cluster=clusters[cluster],
        )
        created += new
    for name, country, province in CUSTOMERS:
        orgs[name], new = _get_or_create(
            Organization, {"name": name}, kind="customer", country=country, province=province
        )
        created += new
    users = {}
    for username, name, role, org, locale, tz in USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username, display_name=name, role=role,
                organization=orgs.get(org) if org else None, locale=locale, timezone=tz,
                active=True,
            )
            user.set_password(PASSWORD)
            if role == "coordinator":
                user.clusters = [c for c in clusters.values() if c.country in ("KH", "LA", "MM", "VN", "TH")]
            db.session.add(user)
            db.session.flush()
            created += 1
        users[username] = user
    coordinator = users["demo-coordinator"]
    before = db.session.scalar(select(func.max(Notification.id))) or 0
    now = utcnow()
    for spec in ORDERS:
        (ref, producer, buyer, product, qty, unit, value, currency, origin, destination,
         border, due_days, history, issue_spec, delivery) = spec
        if db.session.scalar(select(Order.id).where(Order.reference == ref)):
            continue
        producer_org, customer_org = orgs[producer], orgs[buyer]
        author = _member(users, producer_org)
        customer = _member(users, customer_org)
        started = now - timedelta(hours=history[0][2] + 24)
        order = Order(
            reference=ref, producer_org=producer_org, customer_org=customer_org, product=product,
            quantity=Decimal(qty), unit=unit, value=Decimal(value), currency=currency,
            origin=origin, destination=destination, border_crossing=border,
            due_date=date.today() + timedelta(days=due_days), status=history[-1][0],
            created_by=author, created_at=started, last_activity_at=now - timedelta(hours=history[-1][2]),
        )
        order.search_text = fold(" ".join([ref, product, producer, buyer, origin, destination]
                                          + [h[1] for h in history]))
        db.session.add(order)
        db.session.flush()
        created += 1
        # Only what the app lets each person do: the producer side posts, the customer confirms.
        _check_side(author, order, "producer")
        _check_side(customer, order, "customer")
        for status, note, hours, confirmed in history:
            at = now - timedelta(hours=hours)
            db.session.add(StatusUpdate(
                order=order, status=status, note=note, occurred_at=at, recorded_at=at,
                author=author,
                confirmed_by=customer if confirmed else None,
                confirmed_at=at + timedelta(hours=2) if confirmed else None,
            ))
            created += 1
        if delivery:
            receiver, proof = (*delivery[2:], None, None)[:2]  # proof at handover, if any
            db.session.add(DeliveryConfirmation(
                order=order, received_quantity=Decimal(delivery[0]), condition=delivery[1],
                note="", confirmed_by=customer, created_at=now - timedelta(hours=history[-1][2] - 1),
                receiver_name=receiver, proof=proof,
                signature=_demo_signature(customer) if proof == "signature" else None,
            ))
            created += 1
        if issue_spec:
            people = {"producer": author, "customer": customer, "coordinator": coordinator}
            _demo_issue(order, issue_spec, people, now - timedelta(hours=history[-1][2] - 2))
            created += 1
    created += _seed_history(orgs, users, now)
    created += _seed_papers(orgs, users)
    created += _seed_matching(orgs, coordinator, now)
    from .profiles.demo import seed_profiles

    created += seed_profiles()
    # The demo's history is in the past: nobody is to be told about it now.
    db.session.execute(delete(Notification).where(Notification.id > before))
    db.session.commit()
    from .coordinator.promptness import refresh

    refresh()  # the dashboard's monthly figures, at once (the push worker keeps them fresh)
    return created


def _member(users: dict, org: Organization) -> User:
    """The demo person of an organization (every demo organization with orders has one)."""
    return next(u for u in users.values() if u.organization_id == org.id)


def _check_side(user: User, order: Order, side: str) -> None:
    if order_side(user, order) != side:
        raise RuntimeError(f"demo: {user.username} is not on the {side} side of {order.reference}")


# The actions that take an issue from "open" to each state, and who takes them.
STEPS = {
    "open": (),
    "acknowledged": (("acknowledge", "producer"),),
    "resolved": (("acknowledge", "producer"), ("resolve", "producer")),
    "closed": (("acknowledge", "producer"), ("resolve", "producer"), ("close", "customer")),
}


def _demo_issue(order: Order, spec, people: dict, opened) -> Issue:
    """Raise an issue on the order as its customer, then comment and move it on through the
    issue services themselves: the same rules, events and first-response time as in the app."""
    category, severity, title, description, state, comments = spec
    issue = issues.raise_issue(order, people["customer"], category=category, severity=severity,
                               title=title, description=description, now=opened)
    for who, body, hours in comments:
        issues.add_comment(issue, people[who], body, now=opened + timedelta(hours=hours))
    at = opened + timedelta(hours=max([h for _w, _b, h in comments], default=0))
    for action, who in STEPS[state]:
        at += timedelta(hours=3)
        note = "Replacement sent with the next truck." if action == "resolve" else ""
        issues.transition(issue, people[who], action, note=note, now=at)
    return issue


def _demo_signature(uploader):
    """A signature as the signature pad draws one, stored as any signature is."""
    import io
    import math

    from PIL import Image, ImageDraw

    from .attachments.services import save_signature

    img = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    points = [(60 + x * 4, 130 - 45 * math.sin(x / 9) * math.exp(-x / 160)) for x in range(120)]
    ImageDraw.Draw(img).line(points, fill=(17, 17, 17, 255), width=5, joint="curve")
    out = io.BytesIO()
    img.save(out, "PNG")
    return save_signature(uploader, out.getvalue())

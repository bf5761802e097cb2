"""Demo data: clusters of the corridor, their producers and buyers, orders with history."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from .extensions import db
from .i18n import fold
from .models import (
    Cluster,
    DeliveryConfirmation,
    Issue,
    IssueComment,
    IssueEvent,
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
    ("demo-customer", "Anong Srisuk", "customer", "Bangkok Fresh Trading Co.", "en", "Asia/Bangkok"),
    ("demo-coordinator", "Dara Kim", "coordinator", None, "en", "Asia/Phnom_Penh"),
    ("demo-admin", "SEC GO! Admin", "admin", None, "en", "Asia/Bangkok"),
]

# reference, producer, customer, product, qty, unit, value, currency, origin, destination,
# border, due in days, [(status, note, hours ago, confirmed)], issue or None, delivery
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
     ("quality", "high", "Colour differs from sample", "ສີບໍ່ຄືກັບຕົວຢ່າງ — 40 m are lighter than the sample.", "open"),
     ("260", "damaged")),
    ("SEC-2H6N8P", "မန္တလေးသရက်သီး စိုက်ပျိုးသူများ", "Bangkok Fresh Trading Co.", "သရက်သီး (Sein Ta Lone)",
     "8", "t", "9600", "USD", "Mandalay", "Bangkok", "phu_nam_ron_htee_kee", 1,
     [("accepted", "အော်ဒါလက်ခံပြီးပါပြီ။", 200, True),
      ("ready", "သရက်သီး ထုပ်ပိုးပြီးပါပြီ။", 70, True),
      ("dispatched", "ကားထွက်သွားပါပြီ။", 50, False)],
     ("delay", "medium", "Truck waiting for phytosanitary certificate", "Htee Kee checkpoint asks for a new certificate.", "acknowledged"),
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
     ("quantity", "medium", "Short by 150 kg", "Received 1,850 kg of 2,000 kg.", "closed"),
     ("1850", "short")),
    ("SEC-3F7J9C", "Kampong Speu Mango Growers", "Bangkok Fresh Trading Co.", "Keo Romeat mango",
     "12", "t", "10800", "USD", "Kampong Speu", "Bangkok", "hat_lek_cham_yeam", 7,
     [("accepted", "Harvest starts Monday.", 30, False)],
     None, None),
    ("SEC-5Q9T4H", "Chè hữu cơ Tân Cương", "Bangkok Fresh Trading Co.", "Chè xanh hữu cơ",
     "500", "kg", "7500", "USD", "Thái Nguyên", "Bangkok", None, -5,
     [("accepted", "Đã nhận đơn.", 500, True),
      ("in_production", "Đang sao chè.", 300, True)],
     ("documents_customs", "low", "Organic certificate copy needed", "Please send the certificate before dispatch.", "resolved"),
     None),
]


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
    author_of = {u.organization_id: u for u in users.values() if u.role == "producer"}
    customer = users["demo-customer"]
    coordinator = users["demo-coordinator"]
    now = utcnow()
    for spec in ORDERS:
        (ref, producer, buyer, product, qty, unit, value, currency, origin, destination,
         border, due_days, history, issue_spec, delivery) = spec
        if db.session.scalar(select(Order.id).where(Order.reference == ref)):
            continue
        producer_org, customer_org = orgs[producer], orgs[buyer]
        author = author_of.get(producer_org.id) or users["demo-producer"]
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
        for status, note, hours, confirmed in history:
            at = now - timedelta(hours=hours)
            db.session.add(StatusUpdate(
                order=order, status=status, note=note, occurred_at=at, recorded_at=at,
                author=author,
                confirmed_by=customer if confirmed else None,
                confirmed_at=at + timedelta(hours=2) if confirmed else None,
            ))
            created += 1
        delivery_row = None
        if delivery:
            delivery_row = DeliveryConfirmation(
                order=order, received_quantity=Decimal(delivery[0]), condition=delivery[1],
                note="", confirmed_by=customer, created_at=now - timedelta(hours=history[-1][2] - 1),
            )
            db.session.add(delivery_row)
            created += 1
        if issue_spec:
            category, severity, title, description, state = issue_spec
            opened = now - timedelta(hours=history[-1][2] - 2)
            issue = Issue(
                order=order, category=category, severity=severity, title=title,
                description=description, state="open", raised_by=customer,
                raised_by_side="customer", created_at=opened, updated_at=opened,
            )
            db.session.add(issue)
            db.session.flush()
            db.session.add(IssueEvent(issue=issue, from_state=None, to_state="open",
                                      actor=customer, created_at=opened))
            steps = {"open": [], "acknowledged": ["acknowledged"],
                     "resolved": ["acknowledged", "resolved"],
                     "closed": ["acknowledged", "resolved", "closed"]}[state]
            at = opened
            previous = "open"
            for step in steps:
                at = at + timedelta(hours=3)
                actor = customer if step == "closed" else author
                db.session.add(IssueEvent(issue=issue, from_state=previous, to_state=step,
                                          actor=actor, created_at=at))
                previous = step
                setattr(issue, f"{step}_at", at)
                if issue.first_response_at is None:
                    issue.first_response_at = at
            if "resolved" in steps:
                issue.resolution_note = "Replacement sent with the next truck."
            issue.state = state
            issue.updated_at = at
            db.session.add(IssueComment(issue=issue, author=author, body="We are checking this now.",
                                        created_at=opened + timedelta(hours=1)))
            if state == "open":
                db.session.add(IssueComment(issue=issue, author=coordinator,
                                            body="Please answer the customer today.",
                                            created_at=opened + timedelta(hours=2)))
            created += 1
    db.session.commit()
    return created

"""Order search finds exactly the orders whose text contains the words, on both databases:
on SQLite through its trigram index (models.order.ORDERS_SEARCH), kept by triggers."""
import random
from datetime import datetime, timezone

from sqlalchemy import delete, insert, select, update

from secgo.extensions import db
from secgo.i18n import fold
from secgo.models import Order, User
from secgo.orders.services import orders_query

WORDS = ["Gốm Bát Tràng", "ข้าวหอมมะลิ", "អង្ករស្រូវ", "ເຂົ້າໜຽວ", "ဆန်စပါး", "mango", "Mango 100%",
         'say "fresh"', "a_b", "durian", "Mộc Bài", "green mango", "co. ltd", "ស្រូវសរីរាង្គ"]


def _found(admin, q) -> set[str]:
    return set(db.session.scalars(orders_query(admin, q=q).with_only_columns(Order.reference)))


def test_search_finds_exactly_the_orders_containing_the_words_in_any_script(app, world):
    rng = random.Random(7)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with app.app_context():
        texts = {f"SEC-S{n:05d}": " ".join(rng.sample(WORDS, 3)) for n in range(300)}
        db.session.execute(insert(Order), [
            {"reference": ref, "producer_org_id": world.orgs["farm"],
             "customer_org_id": world.orgs["buyer"], "product": "x", "quantity": 1, "unit": "kg",
             "origin": "Takeo", "destination": "Bangkok", "status": "accepted",
             "search_text": fold(text), "created_at": now, "last_activity_at": now}
            for ref, text in texts.items()
        ])
        # A changed text is found by its new words only, and a deleted order not at all.
        db.session.execute(update(Order).where(Order.reference == "SEC-S00000")
                           .values(search_text=fold("rambutan only")))
        texts["SEC-S00000"] = "rambutan only"
        db.session.execute(delete(Order).where(Order.reference == "SEC-S00001"))
        del texts["SEC-S00001"]
        db.session.commit()
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        if db.engine.dialect.name == "sqlite":  # three characters or more go through the index
            assert "MATCH" in str(orders_query(admin, q="mango")) and "MATCH" not in str(
                orders_query(admin, q="ma"))
        needles = ["rambutan", "mango", "ango", "Green Mango", "BAT TRANG", "ข้าวหอม", "ស្រូវ",
                   "ຂົ້າໜ", "ဆန်", '"fresh"', "100%", "a_b", "o. l", "zzz", "ma", "ស"]
        needles += [rng.choice(WORDS)[i:i + k] for i, k in ((0, 3), (1, 4), (2, 5)) * 5]
        for q in needles:
            expected = {ref for ref, text in texts.items() if fold(q).strip() in fold(text)}
            assert {r for r in _found(admin, q) if r.startswith("SEC-S")} == expected, q

"""What Telegram and SMS say: the push words, every event, all six languages; an SMS fits two
UCS-2 segments (≤ 134 units) whatever its parameters, and is never cut inside a letter."""
import unicodedata

import pytest

from secgo import notify
from secgo.channels.text import SMS_LIMIT, clip, fit_sms, short_code, sms_text, telegram_message, ucs2_length
from secgo.config import LOCALES
from secgo.extensions import db
from secgo.models import Notification, User, utcnow

# Long, realistic values: the longest reference, a 140-character title in each script, a long
# product unit, quick phrases with numbers, and a cooperative's own long domain name.
TITLES = {
    "en": "Forty bags of organic jasmine rice arrived wet and mouldy after the truck waited three days at the Poipet border crossing in the rain",
    "km": "អង្ករម្លិះសរីរាង្គសែសិបបាវមកដល់ទាំងសើម និងមានផ្សិត បន្ទាប់ពីឡានរង់ចាំបីថ្ងៃនៅច្រកព្រំដែនប៉ោយប៉ែតក្នុងភ្លៀង ហើយអ្នកទិញមិនទទួលយកទេ",
    "lo": "ເຂົ້າຫອມມະລິອິນຊີສີ່ສິບກະສອບມາຮອດປຽກ ແລະ ມີເຊື້ອລາ ຫຼັງຈາກລົດລໍຖ້າສາມມື້ຢູ່ດ່ານຊາຍແດນທ່າມກາງຝົນ ແລະ ຜູ້ຊື້ບໍ່ຍອມຮັບເອົາ",
    "my": "အော်ဂဲနစ်ဆန်အိတ်လေးဆယ်သည် နယ်စပ်ဂိတ်တွင် ကုန်တင်ကား သုံးရက်စောင့်ရပြီးနောက် မိုးစိုပြီး မှိုတက်၍ ရောက်လာသဖြင့် ဝယ်သူက လက်မခံပါ",
    "th": "ข้าวหอมมะลิอินทรีย์สี่สิบกระสอบมาถึงเปียกและขึ้นรา หลังจากรถบรรทุกรอสามวันที่ด่านชายแดนปอยเปตท่ามกลางฝน ผู้ซื้อไม่ยอมรับสินค้า",
    "vi": "Bốn mươi bao gạo hữu cơ đến nơi bị ướt và mốc sau khi xe tải chờ ba ngày ở cửa khẩu Mộc Bài dưới mưa, bên mua không nhận hàng",
}
PARAMS = {
    "reference": "SEC-7K3F9QXZ", "status": "customs_cleared", "count": 12, "received": "123456.789",
    "unit": "bags", "condition": "wrong_item", "state": "acknowledged", "hours": 168,
    "phrases": [{"code": "delayed_days", "params": {"num": 14}},
                {"code": "short_by", "params": {"quantity": "1250 kg"}},
                {"code": "customs_check", "params": {}}],
}
VARIANTS = [{}, {"correction": True}, {"reopened": True}]
PUBLIC_URL = "https://secgo.takeo-organic-rice-cooperative.org.kh"


@pytest.fixture
def recipient(app, world):
    with app.app_context():
        yield db.session.get(User, world.users["coordinator"])


MANY_ORDERS = ("remind_confirm", "weekly_digest", "remind_match")  # the last: an event's matches
# A buyer's enquiry and its answers are about no order (secgo/profiles).
NO_ORDER = (*MANY_ORDERS, "enquiry", "enquiry_reply")


def notification(event, locale, variant=None, nid=2_000_000_000):
    return Notification(id=nid, user_id=1, event=event, url="/orders/SEC-7K3F9QXZ", urgency="high",
                        params={**PARAMS, "title": TITLES[locale], **(variant or {})},
                        created_at=utcnow())


@pytest.mark.parametrize("locale", LOCALES)
def test_every_event_fits_two_sms_segments_in_every_language(app, recipient, locale):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    recipient.locale = locale
    with app.test_request_context():
        for event in notify.EVENTS:
            for variant in VARIANTS:
                message = sms_text(notification(event, locale, variant), recipient)
                assert ucs2_length(message) <= SMS_LIMIT, (event, variant, ucs2_length(message), message)
                assert message.startswith("SEC GO! "), message
                # Reminders about several orders (the customer's count, the digest) name none.
                assert ("SEC-7K3F9QXZ" in message) == (event not in NO_ORDER), message
                assert message.endswith(f"\n{PUBLIC_URL}/n/{short_code(2_000_000_000)}")


@pytest.mark.parametrize("locale", LOCALES)
def test_telegram_carries_every_event_in_the_recipients_language(app, recipient, locale):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    recipient.locale = locale
    with app.test_request_context():
        for event in notify.EVENTS:
            message = telegram_message(notification(event, locale), recipient)
            assert message["parse_mode"] == "HTML" and message["text"].startswith("<b>")
            assert ("SEC-7K3F9QXZ" in message["text"]) == (event not in NO_ORDER)
            assert len(message["text"]) <= 4096
            button = message["reply_markup"]["inline_keyboard"][0][0]
            assert button["url"] == f"{PUBLIC_URL}/orders/SEC-7K3F9QXZ"
            assert (button["text"] == "Open in SEC GO!") == (locale == "en")


@pytest.mark.parametrize("text", [
    "ព្រំដែនប៉ោយប៉ែត" * 10, "မိုးစိုပြီး မှိုတက်" * 10, "ข้าวหอมมะลิ" * 20, "Cửa khẩu Mộc Bài" * 12,
    "😀 emoji beyond the BMP count twice " * 5, "ເຂົ້າຫອມມະລິ" * 20,
])
def test_a_cut_never_splits_a_letter_from_its_marks(text):
    for units in range(10, 60):
        cut = clip(text, units)
        assert ucs2_length(cut) <= units and cut.endswith("…")
        body = cut[:-1]
        following = text[len(body.rstrip()):][:1]
        assert not following or not unicodedata.category(following).startswith("M"), (units, cut)
        assert body[-1:] not in ("\u17d2", "\u1039")  # no dangling Khmer or Burmese stacker


def test_a_short_sms_is_left_whole_and_a_long_heading_keeps_the_link():
    assert fit_sms("SEC GO! Order SEC-1: Ready", "Tap to see", "https://x.org/n/1") == \
        "SEC GO! Order SEC-1: Ready\nTap to see\nhttps://x.org/n/1"
    long = fit_sms("SEC GO! " + "ก" * 300, "body", "https://x.org/n/1")
    assert ucs2_length(long) <= SMS_LIMIT and long.endswith("…\nhttps://x.org/n/1")

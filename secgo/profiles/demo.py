"""Demo profiles for the demo producers (rice, silk, mango, ceramics, tea, vegetables ...) and
one enquiry thread, saved through the profile services (the same checks as the app)."""
from datetime import date, timedelta

from sqlalchemy import select

from .. import readmarks
from ..extensions import db
from ..models import Cluster, ClusterProfile, Enquiry, Organization, Profile, User
from . import services

_NEXT_YEAR = (date.today() + timedelta(days=300)).isoformat()
_LAST_YEAR = (date.today() - timedelta(days=40)).isoformat()

# organization -> profile (the API's shape); every producer with history opts in to its record.
PROFILES = {
    "Takeo Organic Rice Cooperative": {
        "description": "សហគមន៍កសិករ ១២០ គ្រួសារ ដាំស្រូវផ្កាម្លិះសរីរាង្គនៅខេត្តតាកែវ។",
        "description_en": "120 farming families growing certified organic jasmine rice in Takeo; "
                          "own mill, export-grade packing in 25 and 50 kg bags.",
        "contact_name": "Sokha Chan", "contact_phone": "+85512345678", "contact_languages": ["km", "en"],
        "export_markets": ["TH", "VN", "EU"], "show_track_record": True,
        "products": [
            {"name": "អង្ករផ្កាម្លិះសរីរាង្គ", "name_en": "Organic jasmine rice", "unit": "kg",
             "monthly_capacity": "60000", "season_from": 11, "season_to": 3},
            {"name": "អង្ករក្រហមសរីរាង្គ", "name_en": "Organic red rice", "unit": "kg",
             "monthly_capacity": "8000"},
        ],
        "certifications": [
            {"kind": "organic", "name": "EU organic (Ecocert)", "expires_on": _NEXT_YEAR},
            {"kind": "gi", "name": "Cambodian jasmine rice"},
            {"kind": "fair_trade", "name": "Fairtrade", "expires_on": _LAST_YEAR},
        ],
    },
    "សហគមន៍ស្រូវសរីរាង្គតាកែវ": {
        "description": "ស្រូវសរីរាង្គ និងអង្ករសម្រាប់ផ្សារក្នុងស្រុក។", "description_en": "Organic rice for local markets.",
        "contact_name": "សុខា ចាន់", "contact_languages": ["km"], "export_markets": ["KH"],
        "show_track_record": True,
        "products": [{"name": "អង្ករសរីរាង្គ", "name_en": "Organic rice", "unit": "kg", "monthly_capacity": "15000"}],
        "certifications": [{"kind": "organic", "name": "COrAA", "expires_on": _NEXT_YEAR}],
    },
    "Kampong Speu Mango Growers": {
        "description": "ស្វាយកែវរមៀតពីកំពង់ស្ពឺ។", "description_en": "Keo Romeat mangoes from Kampong Speu, "
                                                              "packed and cooled for export.",
        "contact_name": "Chea Sophal", "contact_languages": ["km", "th"], "export_markets": ["TH", "CN"],
        "show_track_record": True,
        "products": [{"name": "ស្វាយកែវរមៀត", "name_en": "Keo Romeat mango", "unit": "t",
                      "monthly_capacity": "40", "season_from": 3, "season_to": 6}],
        "certifications": [{"kind": "gap", "name": "CambodiaGAP", "expires_on": _NEXT_YEAR}],
    },
    "ສະຫະກອນຜ້າໄໝວຽງຈັນ": {
        "description": "ຜ້າໄໝມັດໝີ່ທໍດ້ວຍມື ຈາກແມ່ຍິງ 45 ຄົນໃນນະຄອນຫຼວງວຽງຈັນ.",
        "description_en": "Hand-woven mat-mi silk by 45 weavers in Vientiane; natural dyes.",
        "contact_name": "ບຸນມີ ພົມມະວົງ", "contact_languages": ["lo", "th", "en"],
        "export_markets": ["TH", "JP"], "show_track_record": True, "capacity_private": True,
        "products": [
            {"name": "ຜ້າໄໝມັດໝີ່", "name_en": "Mat-mi silk cloth", "unit": "m", "monthly_capacity": "400"},
            {"name": "ຜ້າພັນຄໍໄໝ", "name_en": "Silk scarf", "unit": "pcs", "monthly_capacity": "250"},
        ],
        "certifications": [{"kind": "other", "name": "ODOP Laos"}],
    },
    "မန္တလေးသရက်သီး စိုက်ပျိုးသူများ": {
        "description": "မန္တလေးမှ စိန်တလုံး သရက်သီး။", "description_en": "Sein Ta Lone mangoes from Mandalay.",
        "contact_name": "အောင်ကျော်", "contact_languages": ["my", "en"], "export_markets": ["TH", "CN", "SG"],
        "show_track_record": True,
        "products": [{"name": "စိန်တလုံး သရက်သီး", "name_en": "Sein Ta Lone mango", "unit": "t",
                      "monthly_capacity": "25", "season_from": 4, "season_to": 7}],
        "certifications": [{"kind": "gap", "name": "Myanmar GAP", "expires_on": _NEXT_YEAR},
                           {"kind": "halal", "name": "MCI halal", "expires_on": _NEXT_YEAR}],
    },
    "Gốm Bát Tràng Minh Long": {
        "description": "Gốm sứ men lam Bát Tràng làm thủ công, lò gas.",
        "description_en": "Hand-made Bat Trang blue-glaze ceramics, gas kiln.",
        "contact_name": "Nguyễn Thị Lan", "contact_languages": ["vi", "en", "zh"],
        "export_markets": ["JP", "KR", "EU", "US"], "show_track_record": True,
        "products": [
            {"name": "Bình gốm men lam", "name_en": "Blue-glaze vase", "unit": "pcs", "monthly_capacity": "3000"},
            {"name": "Bộ ấm chén", "name_en": "Tea set", "unit": "pcs", "monthly_capacity": "800"},
        ],
        "certifications": [{"kind": "gi", "name": "Bát Tràng"}],
    },
    "Chè hữu cơ Tân Cương": {
        "description": "Chè xanh hữu cơ Tân Cương, Thái Nguyên.", "description_en": "Organic green tea from Tan Cuong.",
        "contact_name": "Trần Văn Hùng", "contact_languages": ["vi"], "export_markets": ["CN", "EU"],
        "products": [{"name": "Chè xanh hữu cơ", "name_en": "Organic green tea", "unit": "kg",
                      "monthly_capacity": "1200", "season_from": 3, "season_to": 11}],
        "certifications": [{"kind": "organic", "name": "VietGAP / USDA Organic", "expires_on": _NEXT_YEAR}],
    },
    "วิสาหกิจผักอินทรีย์สระแก้ว": {
        "description": "ผักอินทรีย์จากสระแก้ว ส่งข้ามแดนทุกสัปดาห์", "description_en": "Organic vegetables from Sa Kaeo, "
                                                                          "across the border every week.",
        "contact_name": "สมชาย ใจดี", "contact_languages": ["th", "km"], "export_markets": ["KH"],
        "show_track_record": True,
        "products": [{"name": "ผักอินทรีย์รวม", "name_en": "Mixed organic vegetables", "unit": "t",
                      "monthly_capacity": "12"}],
        "certifications": [{"kind": "organic", "name": "Organic Thailand", "expires_on": _NEXT_YEAR},
                           {"kind": "gap", "name": "ThaiGAP", "expires_on": _NEXT_YEAR}],
    },
}

# cluster -> its own profile, written by the demo admin (the clusters' coordinators may too).
CLUSTER_PROFILES = {
    "Takeo organic rice": {
        "description": "កសិករស្រូវសរីរាង្គជាង ៤០០ គ្រួសារ នៅខេត្តតាកែវ ដែលលក់ និងនាំចេញរួមគ្នា។",
        "description_en": "Over 400 organic rice farming families in Takeo who mill, pack and export "
                          "together; one contact for samples and forum follow-up.",
        "contact_name": "Dara Kim", "contact_phone": "+85512000111", "contact_languages": ["km", "en"],
        "export_markets": ["TH", "VN", "EU"]},
    "Vientiane silk": {
        "description": "ກຸ່ມຊ່າງຕ່ຳແພ່ໄໝ ນະຄອນຫຼວງວຽງຈັນ, ຍ້ອມສີທຳມະຊາດ.",
        "description_en": "Hand-woven Lao silk, natural dyes; weavers' groups around Vientiane.",
        "contact_name": "Dara Kim", "contact_languages": ["lo", "en"], "export_markets": ["TH", "JP"]},
    "Kampong Speu mango": {
        "description": "ស្វាយកែវរមៀត ពីខេត្តកំពង់ស្ពឺ សម្រាប់នាំចេញស្រស់ និងស្ងួត។",
        "description_en": "Keo Romeat mango from Kampong Speu, fresh and dried, for export.",
        "contact_name": "Dara Kim", "contact_languages": ["km", "en"], "export_markets": ["TH", "VN", "CN", "KR"]},
    "Bat Trang ceramic": {
        "description": "Làng gốm Bát Tràng: gốm men thủ công, nhận đơn theo mẫu.",
        "description_en": "Bat Trang pottery village: hand-glazed ceramics, made to order.",
        "contact_name": "Dara Kim", "contact_languages": ["vi", "en"], "export_markets": ["JP", "EU", "US"]},
}

ENQUIRY = ("demo-customer", "Takeo Organic Rice Cooperative",
           {"product": "Organic jasmine rice", "quantity": "25000", "unit": "kg",
            "body": "We are looking for 25 t of organic jasmine rice a month from January, "
                    "in 25 kg bags, delivered to Bangkok. Can you send a sample?"},
           "Yes: 25 t a month is possible from the new harvest. A 5 kg sample can leave Takeo on Monday.")


def seed_profiles() -> int:
    """Save the missing demo profiles (producers' and clusters') and the demo enquiry; return how
    many were added."""
    created = 0
    for name, data in PROFILES.items():
        org = db.session.scalar(select(Organization).where(Organization.name == name))
        if org is None or db.session.get(Profile, org.id) is not None:
            continue
        editor = db.session.scalar(select(User).where(User.organization_id == org.id).order_by(User.id))
        if editor is None:
            continue
        services.save_profile(editor, org, data)
        created += 1
    admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))
    for name, data in CLUSTER_PROFILES.items():
        cluster = db.session.scalar(select(Cluster).where(Cluster.name == name))
        if admin is None or cluster is None or db.session.get(ClusterProfile, cluster.id) is not None:
            continue
        services.save_cluster_profile(admin, cluster, data)
        created += 1
    username, producer_name, data, answer = ENQUIRY
    buyer = db.session.scalar(select(User).where(User.username == username))
    producer = db.session.scalar(select(Organization).where(Organization.name == producer_name))
    if buyer is not None and producer is not None and not db.session.scalar(
            select(Enquiry.id).where(Enquiry.producer_org_id == producer.id,
                                     Enquiry.customer_org_id == buyer.organization_id)):
        enquiry = services.create_enquiry(buyer, producer, data)
        author = db.session.scalar(select(User).where(User.organization_id == producer.id).order_by(User.id))
        message = services.reply(author, enquiry, {"body": answer})
        # Outside a request one's own answer is not marked seen by itself: the producer has read
        # its thread, the buyer has an answer waiting (readmarks).
        readmarks.mark_seen(author, "enquiry", enquiry.id, at=message.created_at)
        created += 1
    return created

"""At 360 px, long words in scripts without spaces wrap, and stacked marks have room."""
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.once]

# Long runs without a space, as product and organization names are written.
LONG = {
    "th": "ผู้ประสานงานคลัสเตอร์เกษตรอินทรีย์ภาคตะวันออกเฉียงเหนือ",
    "lo": "ສະຫະກອນຜູ້ຜະລິດຜ້າໄໝມັດໝີ່ແຂວງນະຄອນຫຼວງວຽງຈັນ",
    "km": "សហគមន៍កសិកម្មស្រូវសរីរាង្គខេត្តតាកែវ",
    "my": "မန္တလေးသရက်သီးစိုက်ပျိုးထုတ်လုပ်သူများအသင်း",
    "vi": "Hợp tác xã gốm sứ Bát Tràng",
}
# Line height (in em) that keeps stacked marks from touching or clipping.
MIN_LINE = {"km": 1.8, "my": 1.8, "th": 1.6, "lo": 1.6, "vi": 1.5}

MEASURE = """() => [...document.querySelectorAll(
    'input:not([type=checkbox]):not([type=hidden]):not([type=radio]), .btn, textarea, select')]
  .filter(e => e.offsetParent !== null)
  .map(e => { const s = getComputedStyle(e);
    return {what: e.tagName + '.' + e.className, lh: parseFloat(s.lineHeight), fs: parseFloat(s.fontSize),
            inner: e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom),
            font: s.fontFamily}; })"""


@pytest.mark.parametrize("lang", list(LONG))
def test_login_page_wraps_long_words_and_keeps_marks_whole(live_server, page, lang):
    page.set_extra_http_headers({"Accept-Language": lang})
    page.goto(f"{live_server.url}/login")
    assert page.evaluate("document.documentElement.lang") == lang
    page.fill("input[name=login]", LONG[lang])
    page.evaluate(
        """(w) => { for (const sel of ['h1', '.btn.primary', 'label', 'p.muted'])
                      document.querySelector(sel).textContent = w; }""",
        LONG[lang] * 2,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for box in page.evaluate(MEASURE):
        assert box["lh"] >= MIN_LINE[lang] * box["fs"] - 0.5, box
        assert box["inner"] >= box["lh"] - 1, box  # a whole line fits: nothing clipped
        if lang in ("km", "lo", "my", "th"):
            assert box["font"].startswith('"Noto Sans'), box

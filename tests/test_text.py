"""Text people type: NFC, Zawgyi Burmese converted to Unicode, search without diacritics."""
import unicodedata

import pytest
from flask import render_template_string

from secgo.i18n import (
    ZAWGYI_SURE,
    ZAWGYI_UNSURE,
    apply_zawgyi_choice,
    fold,
    normalize_text,
    zawgyi_probability,
)

pytestmark = pytest.mark.once


# Real Zawgyi text and its Unicode form, from Google's myanmar-tools test data (Apache-2.0):
# github.com/google/myanmar-tools, clients/java/src/test/resources/com/google/myanmartools/
# udhr_mya_zawygyi.txt and udhr_mya.txt (the Universal Declaration of Human Rights in Burmese),
# and the probabilities in clients/dart/resources/compatibility.tsv.
ZAWGYI_UNICODE = [
    # title of the declaration
    ("အျပည္ျပည္ဆိုင္ရာ လူ႔အခြင့္အေရး ေၾကညာစာတမ္း", "အပြည်ပြည်ဆိုင်ရာ လူ့အခွင့်အရေး ကြေညာစာတမ်း"),
    # article 3
    (
        "လူတိုင္း၌ အသက္ရွင္ရန္ လြတ္လပ္ခြင့္ႏွင့္ လံုႃခံုစိတ္ခ်ခြင့္ ရိွသည္။",
        "လူတိုင်း၌ အသက်ရှင်ရန် လွတ်လပ်ခွင့်နှင့် လုံခြုံစိတ်ချခွင့် ရှိသည်။",
    ),
    # article 20 (2)
    (
        "မည္သူကိုမ်ွ အဖဲြ႔အစည္းတစ္ခုသို႔ ဝင္ေစရန္ အတင္းအက်ပ္မျပဳရ။",
        "မည်သူကိုမျှ အဖွဲ့အစည်းတစ်ခုသို့ ဝင်စေရန် အတင်းအကျပ်မပြုရ။",
    ),
    # compatibility.tsv: "ခဲ့ေသာေၾကာင့္" p = 1.0
    ("ခဲ့ေသာေၾကာင့္", "ခဲ့သောကြောင့်"),
]
# One word of the same Zawgyi text on which the detector is unsure (p ~ 0.72).
UNSURE_ZAWGYI = ("အေထြေထြညီလာခံ", "အထွေထွေညီလာခံ")


@pytest.mark.parametrize("zawgyi, unicode", ZAWGYI_UNICODE)
def test_sure_zawgyi_is_stored_as_unicode_and_the_typed_text_is_kept(zawgyi, unicode):
    assert zawgyi_probability(zawgyi) >= ZAWGYI_SURE
    text = normalize_text(zawgyi)
    assert text == unicode
    assert text.original == zawgyi
    assert text.zawgyi_suggestion is None


def test_zawgyi_mixed_with_latin_text_is_still_detected():
    # compatibility.tsv: "ascii mixed with ဘဂၤလားေဒရွ္႕ zawgyi" p = 0.99999
    text = normalize_text("Truck 2: ဘဂၤလားေဒရွ္႕")
    assert text.original == "Truck 2: ဘဂၤလားေဒရွ္႕"
    assert text.startswith("Truck 2: ") and text != text.original


def test_unsure_zawgyi_is_kept_as_typed_with_a_suggestion():
    zawgyi, unicode = UNSURE_ZAWGYI
    assert ZAWGYI_UNSURE < zawgyi_probability(zawgyi) < ZAWGYI_SURE
    text = normalize_text(zawgyi)
    assert text == zawgyi and text.original is None
    assert text.zawgyi_suggestion == unicode


def test_the_person_answers_did_you_mean():
    zawgyi, unicode = UNSURE_ZAWGYI
    yes = apply_zawgyi_choice(zawgyi, "unicode")
    assert yes == unicode and yes.original == zawgyi and yes.zawgyi_suggestion is None
    no = apply_zawgyi_choice(zawgyi, "typed")
    assert no == zawgyi and no.original is None and no.zawgyi_suggestion is None
    assert apply_zawgyi_choice(zawgyi, None).zawgyi_suggestion == unicode


@pytest.mark.parametrize(
    "text",
    [
        ZAWGYI_UNICODE[0][1],
        ZAWGYI_UNICODE[1][1],
        "မန္တလေးသရက်သီး စိုက်ပျိုးသူများ",
        "ကားထွက်သွားပါပြီ။",
        "သရက်သီး (Sein Ta Lone) 8 t",
    ],
)
def test_unicode_burmese_is_left_untouched(text):
    assert zawgyi_probability(text) < ZAWGYI_UNSURE
    result = normalize_text(text)
    assert result == text and result.original is None and result.zawgyi_suggestion is None


@pytest.mark.parametrize(
    "text", ["Organic jasmine rice", "អង្ករសរីរាង្គ", "ຜ້າໄໝມັດໝີ່", "ส่งถึงแล้ว", "Bình gốm men lam", ""]
)
def test_other_scripts_are_never_taken_for_zawgyi(text):
    result = normalize_text(text)
    assert result == text and result.original is None and result.zawgyi_suggestion is None


def test_input_is_stored_in_nfc():
    decomposed = unicodedata.normalize("NFD", "Gốm Bát Tràng")
    assert decomposed != "Gốm Bát Tràng"
    assert normalize_text(decomposed) == "Gốm Bát Tràng"
    assert unicodedata.is_normalized("NFC", normalize_text("ກ\u0ec8\u0eb2"))


def test_input_is_trimmed_and_line_ends_unified():
    assert normalize_text("  line one\r\nline two \n") == "line one\nline two"
    assert normalize_text(None) == ""


@pytest.mark.parametrize(
    "query, text",
    [
        ("bat trang", "Gốm Bát Tràng Minh Long"),
        ("BÁT TRÀNG", "gom bat trang"),
        ("dong", "Giá 500.000 Đồng"),
        ("đồng", "gia 500000 dong"),
        ("quang vinh", "Gốm Quảng Vinh"),
        ("van phuc", "Lụa Vạn Phúc"),
    ],
)
def test_vietnamese_search_works_with_or_without_diacritics(query, text):
    assert fold(query) in fold(text)


@pytest.mark.parametrize(
    "query, text",
    [
        ("ข้าว", "ข้าวหอมมะลิอินทรีย์"),
        ("សរីរាង្គ", "អង្ករសរីរាង្គ"),
        ("ໄໝ", "ຜ້າໄໝມັດໝີ່"),
        ("သရက်သီး", "မန္တလေးသရက်သီး စိုက်ပျိုးသူများ"),
    ],
)
def test_search_finds_words_inside_scripts_written_without_spaces(query, text):
    assert fold(query) in fold(text)


def test_fold_keeps_the_marks_that_change_meaning_in_other_scripts():
    assert fold("ข้าว") != fold("ขาว")  # rice / white
    assert fold("ໄໝ") == "ໄໝ"


def test_did_you_mean_macro_offers_both_readings(app):
    zawgyi, unicode = UNSURE_ZAWGYI
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "_i18n.html" import zawgyi_hint %}{{ zawgyi_hint("note", typed, suggestion) }}',
            typed=zawgyi,
            suggestion=normalize_text(zawgyi).zawgyi_suggestion,
        )
        nothing = render_template_string(
            '{% from "_i18n.html" import zawgyi_hint %}{{ zawgyi_hint("note", "x", None) }}'
        )
    assert unicode in html and zawgyi in html
    assert 'name="note_encoding" value="unicode" checked' in html
    assert 'name="note_encoding" value="typed"' in html
    assert nothing.strip() == ""


def test_control_characters_are_removed_from_typed_text():
    from secgo.i18n import normalize_text

    assert normalize_text("late truck\x07\nline two\t!\x1b") == "late truck\nline two\t!"

"""The translator's hand-off: one side-by-side file a native reviewer can work through."""
import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def work():
    spec = importlib.util.spec_from_file_location("i18n_work", ROOT / "scripts" / "i18n_work.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_glossary_terms_a_message_uses_come_with_each_languages_word(work):
    terms = work.glossary_terms()
    assert terms["update"]["km"] == "របាយការណ៍"
    assert terms["border crossing"]["my"] == "နယ်စပ်ဂိတ်"
    used = work.terms_in("Updates waiting for the customer", terms)
    assert "update" in used and "customer" in used
    # the longer term wins over the word inside it
    assert work.terms_in("Report a problem", terms) == ["report a problem"]


@pytest.mark.skipif(
    bool(__import__("os").environ.get("SECGO_TEST_DATABASE_URL")),
    reason="the review file renders the demo on its own SQLite database; once is enough",
)
def test_a_reviewer_gets_every_message_side_by_side_with_terms_and_screenshots(work, tmp_path):
    out = tmp_path / "review.csv"
    work.review(out)
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    catalog = work._load("km")
    assert len(rows) == len([m for m in catalog if m.id])
    by_id = {r["msgid"]: r for r in rows}
    confirm = by_id["Confirm"]
    assert all(confirm[lang] for lang in work.LANGS)
    assert "confirm" in confirm["glossary terms"] and "ยืนยัน" in confirm["glossary terms"]
    # a message on the order page links to that page's screenshot
    assert "order-producer-en.png" in by_id["Report status"]["screenshots"]
    assert "coordinator-en.png" in by_id["Open issues, most urgent first"]["screenshots"]
    plural = by_id["%(n)s photo chosen"]
    assert plural["msgid_plural"] == "%(n)s photos chosen"
    html_out = tmp_path / "review.html"
    work.review(html_out)
    page = html_out.read_text(encoding="utf-8")
    assert '<td lang=my>' in page and "docs/screenshots/" in page

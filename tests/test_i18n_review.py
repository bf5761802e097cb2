"""The translator's hand-off: one side-by-side file a native reviewer can work through."""
import csv
import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.once  # the review file renders the demo on its own SQLite database

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
    # the voice note left on the demo order, and the recorder's words (drawn by voice.js, which
    # only pages with a voice field load) link to the pages that show them
    assert "order-voice-en.png" in by_id["Voice note, %(num)s second"]["screenshots"]
    assert "order-producer-en.png" in by_id["Hold to record"]["screenshots"]
    plural = by_id["%(n)s photo chosen"]
    assert plural["msgid_plural"] == "%(n)s photos chosen"
    html_out = tmp_path / "review.html"
    work.review(html_out)
    page = html_out.read_text(encoding="utf-8")
    assert '<td lang=my>' in page and "docs/screenshots/" in page


def test_the_glossary_records_each_languages_review_honestly():
    """Every language has a review row; a reviewer is named only with the date of a real review."""
    import re

    text = (ROOT / "secgo" / "translations" / "GLOSSARY.md").read_text(encoding="utf-8")
    section = text.split("## Review status", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] in ("km", "lo", "my", "th", "vi"):
            rows[cells[0]] = cells[1:]
    assert sorted(rows) == ["km", "lo", "my", "th", "vi"]
    for lang, (status, reviewer, date) in rows.items():
        assert status, lang
        if reviewer in ("none yet", "—", ""):
            assert "awaiting native review" in status, lang
        else:  # a named reviewer comes with the day they reviewed
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date), lang


def test_a_generated_review_file_is_in_the_repository_for_a_reviewer_to_open():
    page = ROOT / "docs" / "translations" / "review.html"
    text = page.read_text(encoding="utf-8")
    assert "SEC GO! — every message in five languages" in text  # written by i18n_work.py review
    assert all(f"<td lang={lang}>" in text for lang in ("km", "lo", "my", "th", "vi"))
    assert 'href="../screenshots/' in text  # links work from where the file is


def test_each_page_knows_the_templates_and_scripts_it_is_drawn_from(work):
    """A message not on the page's text (an error, a state the demo is not in) is linked to the
    pages drawn from its template; a script's message to the pages that load the script."""
    pages = work.where_shown()
    text, drawn = pages["order-voice"]
    assert "Voice note, 7 seconds" in text  # the demo order's voice note, as screenshots.py leaves it
    assert {"orders/detail.html", "_voice.html", "static/js/voice.js"} <= drawn
    assert "static/js/voice.js" not in pages["orders"][1]  # the list has no recorder

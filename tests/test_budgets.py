"""A phone's first visit stays within the page-weight budgets (measured on a live gunicorn)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.once  # page weight does not depend on the database
def test_first_visit_of_every_page_fits_the_page_weight_budgets():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "budgets.py"), "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    assert "BUDGETS OK" in result.stdout

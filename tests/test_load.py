"""Under load, with double taps, lost answers and late replays, no report is lost or doubled."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_thirty_phones_retrying_and_double_tapping_lose_nothing_and_store_nothing_twice():
    db = "postgresql" if os.environ.get("SECGO_TEST_DATABASE_URL") else "sqlite"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--db", db, "--duration", "8",
         "--phones", "30", "--workers", "3", "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    assert "NO LOSS" in result.stdout

"""Beyond one machine: two gunicorn instances on one PostgreSQL, two push workers, no loss.

The phones of bench/load.py are spread over both instances (a retry may land on the other
one), two `flask push-worker` processes send the notifications to a fake push service on
127.0.0.1, and afterwards: zero 5xx, every accepted write stored exactly once, and every
push received exactly as often as a delivery was recorded (no device pushed twice).

    .venv/bin/python bench/two_instances.py [--duration 120] [--short]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402

if __name__ == "__main__":
    argv = ["--db", "postgresql", "--instances", "2", "--workers", "2", "--push-workers", "2", *sys.argv[1:]]
    sys.exit(load.main(argv, name="two_instances"))

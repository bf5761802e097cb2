"""The suite runs against the lock: exact, hash-checked versions that match setup.cfg's ranges.

A dependency release can change what users see (Babel 2.19 rewrote Thai times), so the
project installs requirements/lock.txt, never "whatever is newest today". These tests fail
when the environment drifted from the lock, or the lock from setup.cfg.
"""
import configparser
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.once


ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"


def locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every pin in the lock."""
    pins, current = {}, None
    for line in LOCK.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==([^ \\]+)", line)
        if pin:
            current = canonicalize_name(pin.group(1))
            pins[current] = (pin.group(2), [])
        elif current and (digest := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current][1].append(digest.group(1))
    return pins


def declared() -> list[Requirement]:
    """Every requirement setup.cfg names: the app's, and each extra's."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines()
    for extra in cfg["options.extras_require"].values():
        lines += extra.splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def test_every_pin_is_exact_and_hash_checked():
    pins = locked()
    assert len(pins) > 40
    unhashed = [name for name, (_version, hashes) in pins.items() if not hashes]
    assert not unhashed, f"pins without a hash: {unhashed}"


def test_the_lock_satisfies_every_range_in_setup_cfg():
    pins = locked()
    problems = []
    for req in declared():
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req} is not in the lock: run `make lock`")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{req} does not allow the locked {pins[name][0]}: run `make lock`")
    assert not problems, "\n".join(problems)


def test_the_installed_packages_are_the_locked_versions():
    drift = []
    for name, (version, _hashes) in locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift.append(f"{name}=={version} is not installed")
            continue
        if installed != version:
            drift.append(f"{name} {installed} is installed, the lock says {version}")
    assert not drift, "reinstall from the lock (`make install`):\n" + "\n".join(drift)

"""The lock files pin every top-level requirement (tools/check_lock.py, run by make install/test)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_lock", ROOT / "tools" / "check_lock.py")
check_lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_lock)


def test_the_committed_locks_match_the_requirements():
    assert check_lock.problems(ROOT / "requirements.txt", ROOT / "requirements.lock") == []
    assert check_lock.problems(ROOT / "requirements-dev.txt", ROOT / "requirements-dev.lock") == []


def test_every_locked_package_carries_hashes():
    text = (ROOT / "requirements.lock").read_text()
    pins = check_lock.pins(ROOT / "requirements.lock")
    assert pins and text.count("--hash=sha256:") >= len(pins)


def test_a_requirement_added_without_relocking_is_caught(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text((ROOT / "requirements.txt").read_text() + "some-new-package>=1.0\nFlask>=99\n")
    problems = check_lock.problems(requirements, ROOT / "requirements.lock")
    assert any("some-new-package" in p and "not in" in p for p in problems)
    assert any(p.startswith("Flask>=99") for p in problems)

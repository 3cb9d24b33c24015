"""Fail loudly when a lock file no longer matches its requirements file.

    python tools/check_lock.py requirements.txt:requirements.lock requirements-dev.txt:requirements-dev.lock

Every top-level requirement (following `-r` includes) must be pinned in the lock at a version its
specifier allows. Run `make lock` to regenerate the locks after changing a requirements file.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a fresh virtualenv: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def top_level(path: Path) -> list[Requirement]:
    found = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            found += top_level(path.parent / line.split(None, 1)[1])
        elif not line.startswith("-"):
            found.append(Requirement(line))
    return found


def pins(lock: Path) -> dict[str, str]:
    return {canonicalize_name(m.group(1)): m.group(2)
            for m in map(PIN.match, lock.read_text().splitlines()) if m}


def problems(requirements: Path, lock: Path) -> list[str]:
    if not lock.exists():
        return [f"{lock} is missing"]
    pinned = pins(lock)
    out = []
    for req in top_level(requirements):
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = pinned.get(canonicalize_name(req.name))
        if version is None:
            out.append(f"{req.name} ({requirements}) is not in {lock}")
        elif req.specifier and not req.specifier.contains(version, prereleases=True):
            out.append(f"{req} ({requirements}) but {lock} pins {version}")
    return out


def main(pairs: list[str]) -> int:
    found = []
    for pair in pairs:
        requirements, lock = pair.split(":", 1)
        found += problems(Path(requirements), Path(lock))
    for problem in found:
        print(f"STALE LOCK: {problem}", file=sys.stderr)
    if found:
        print("Run `make lock` and commit the lock files.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Workload and check of the explore templates over examples/kvserver.

    python3 kvwork.py write PORT ACKED N   PUT N keys; each acknowledged one is appended to ACKED
    python3 kvwork.py check PORT ACKED     every acknowledged key reads back with its value (exit 1 if not)

`write` stops quietly at the first unanswered request (the server died) and skips refused writes:
only what the server acknowledged is promised.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import requests


def write(port: str, acked: Path, count: int) -> int:
    for number in range(count):
        key, value = f"k{uuid.uuid4().hex[:8]}", f"value-{number}-{uuid.uuid4().hex}"
        try:
            response = requests.put(f"http://127.0.0.1:{port}/kv/{key}", data=value, timeout=30)
        except requests.ConnectionError:
            print(f"PUT {key}: no answer, stopping")
            return 0
        print(f"PUT {key}: HTTP {response.status_code}")
        if response.ok:
            with acked.open("a", encoding="utf-8") as out:
                out.write(f"{key}\t{value}\n")
    return 0


def check(port: str, acked: Path) -> int:
    lines = acked.read_text(encoding="utf-8").splitlines() if acked.exists() else []
    lost = []
    for line in lines:
        key, _, value = line.partition("\t")
        response = requests.get(f"http://127.0.0.1:{port}/kv/{key}", timeout=30)
        if response.status_code != 200 or response.text != value:
            lost.append(f"{key}: acknowledged {value!r}, read HTTP {response.status_code} {response.text.strip()!r}")
    print(f"{len(lines) - len(lost)} of {len(lines)} acknowledged writes read back")
    for problem in lost:
        print(problem, file=sys.stderr)
    return 1 if lost else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"] and len(argv) == 4:
        return write(argv[1], Path(argv[2]), int(argv[3]))
    if argv[:1] == ["check"] and len(argv) == 3:
        return check(argv[1], Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

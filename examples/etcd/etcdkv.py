"""Talks to etcd through its HTTP/JSON gateway for the scenarios in this folder; exit 0 or 1.

    etcdkv.py ready PORT [--within 30s] [--read-only]   the member takes a put (--read-only: answers a linearizable read)
    etcdkv.py put PORT KEY VALUE [--at-least 1s] [--at-most 500ms]
    etcdkv.py put-many PORT PREFIX COUNT --record FILE   puts until one fails; acknowledged keys go to FILE
    etcdkv.py check PORT FILE                       every key in FILE reads back with its value
    etcdkv.py make-leader PORT PORT...              moves leadership to the first member
    etcdkv.py role PORT leader|follower             the member says it is that (asked, not assumed)
    etcdkv.py traffic PORT SECONDS [--max-latency 2s]   puts for that long; every one must succeed
    etcdkv.py behind LEADER_PORT FOLLOWER_PORT [--within 3s]   the follower falls behind the leader
    etcdkv.py caught-up LEADER_PORT FOLLOWER_PORT [--within 15s]   the follower reaches the leader's revision
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections import Counter

import requests


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def seconds(text: str) -> float:
    return float(text[:-2]) / 1000 if text.endswith("ms") else float(text.rstrip("s"))


def call(port: str, path: str, body: dict[str, object], timeout: float = 10) -> dict[str, object]:
    response = requests.post(f"http://127.0.0.1:{port}{path}", json=body, timeout=timeout)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def put(port: str, key: str, value: str) -> float:
    began = time.monotonic()
    call(port, "/v3/kv/put", {"key": b64(key), "value": b64(value)})
    return time.monotonic() - began


def get(port: str, key: str, serializable: bool = False) -> str | None:
    answer = call(port, "/v3/kv/range", {"key": b64(key), "serializable": serializable})
    kvs = answer.get("kvs") or []
    return base64.b64decode(kvs[0]["value"]).decode() if kvs else None  # type: ignore[index]


def status(port: str) -> dict[str, object]:
    return call(port, "/v3/maintenance/status", {}, timeout=3)


def cmd_ready(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.within
    while True:
        try:
            if args.read_only:  # a store that traffic will check must stay empty
                call(args.port, "/v3/kv/range", {"key": b64("__ready")})
            else:
                put(args.port, "__ready", "1")
            print(f"member on {args.port} is ready")
            return 0
        except requests.RequestException as error:
            if time.monotonic() > deadline:
                print(f"member on {args.port} not ready: {error}", file=sys.stderr)
                return 1
            time.sleep(0.2)


def cmd_put(args: argparse.Namespace) -> int:
    took = put(args.port, args.key, args.value)
    print(f"put {args.key} took {took * 1000:.0f} ms")
    if args.at_least is not None and took < args.at_least:
        print(f"expected at least {args.at_least * 1000:.0f} ms", file=sys.stderr)
        return 1
    if args.at_most is not None and took > args.at_most:
        print(f"expected at most {args.at_most * 1000:.0f} ms", file=sys.stderr)
        return 1
    return 0


def cmd_put_many(args: argparse.Namespace) -> int:
    with open(args.record, "a", encoding="utf-8") as record:
        for n in range(args.count):
            key, value = f"{args.prefix}{n}", f"value-{n}"
            try:
                put(args.port, key, value)
            except requests.RequestException as error:
                print(f"put {key} failed after {n} acknowledged: {type(error).__name__}")
                return 1
            record.write(f"{key}\t{value}\n")
            record.flush()
    print(f"{args.count} puts acknowledged")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    missing = []
    lines = [line.split("\t") for line in open(args.file, encoding="utf-8").read().splitlines() if line]
    for key, value in lines:
        if get(args.port, key) != value:
            missing.append(key)
    prefixes = Counter(key.rstrip("0123456789") for key, _ in lines)
    detail = ", ".join(f"{n} {prefix}*" for prefix, n in prefixes.items())
    print(f"{len(lines) - len(missing)} of {len(lines)} acknowledged puts are readable ({detail})")
    if missing:
        print(f"lost: {missing}", file=sys.stderr)
    return 1 if missing or not lines else 0


def cmd_make_leader(args: argparse.Namespace) -> int:
    target = args.ports[0]
    target_id = status(target)["header"]["member_id"]  # type: ignore[index]
    for _ in range(50):
        leader_id = status(target)["leader"]
        if leader_id == target_id:
            print(f"member on {target} leads")
            return 0
        leader_port = next(p for p in args.ports if status(p)["header"]["member_id"] == leader_id)  # type: ignore[index]
        try:
            call(leader_port, "/v3/maintenance/transfer-leadership", {"targetID": target_id})
        except requests.RequestException:
            pass
        time.sleep(0.2)
    print("leadership did not move", file=sys.stderr)
    return 1


def cmd_role(args: argparse.Namespace) -> int:
    """Asks the member (/v3/maintenance/status) whether it leads: its own id against the leader's."""
    answer = status(args.port)
    leads = answer["header"]["member_id"] == answer["leader"]  # type: ignore[index]
    print(f"member on {args.port} is the {'leader' if leads else 'follower'} (term {answer.get('raftTerm')})")
    return 0 if leads == (args.role == "leader") else 1


def cmd_traffic(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.seconds
    count, slowest = 0, 0.0
    while time.monotonic() < deadline:
        took = put(args.port, f"traffic{count}", str(count))
        slowest = max(slowest, took)
        count += 1
    print(f"{count} puts in {args.seconds:g} s, slowest {slowest * 1000:.0f} ms")
    if args.max_latency is not None and slowest > args.max_latency:
        print(f"a put took longer than {args.max_latency * 1000:.0f} ms", file=sys.stderr)
        return 1
    return 0 if count else 1


def cmd_behind(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.within
    while True:
        leader = status(args.leader)["header"]["revision"]  # type: ignore[index]
        follower = status(args.follower)["header"]["revision"]  # type: ignore[index]
        if int(follower) < int(leader):
            print(f"follower at revision {follower}, behind the leader's {leader}")
            return 0
        if time.monotonic() > deadline:
            print(f"follower never fell behind (at {follower}, leader at {leader})", file=sys.stderr)
            return 1
        time.sleep(0.05)


def cmd_caught_up(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.within
    while True:
        leader = status(args.leader)["header"]["revision"]  # type: ignore[index]
        follower = status(args.follower)["header"]["revision"]  # type: ignore[index]
        if int(follower) >= int(leader):
            print(f"follower at revision {follower}, leader at {leader}")
            return 0
        if time.monotonic() > deadline:
            print(f"follower at revision {follower} still behind the leader's {leader}", file=sys.stderr)
            return 1
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("ready"); p.add_argument("port"); p.add_argument("--within", type=seconds, default=30.0)
    p.add_argument("--read-only", action="store_true"); p.set_defaults(run=cmd_ready)
    p = commands.add_parser("role"); p.add_argument("port"); p.add_argument("role", choices=["leader", "follower"])
    p.set_defaults(run=cmd_role)
    p = commands.add_parser("put"); p.add_argument("port"); p.add_argument("key"); p.add_argument("value")
    p.add_argument("--at-least", type=seconds); p.add_argument("--at-most", type=seconds); p.set_defaults(run=cmd_put)
    p = commands.add_parser("put-many"); p.add_argument("port"); p.add_argument("prefix"); p.add_argument("count", type=int)
    p.add_argument("--record", required=True); p.set_defaults(run=cmd_put_many)
    p = commands.add_parser("check"); p.add_argument("port"); p.add_argument("file"); p.set_defaults(run=cmd_check)
    p = commands.add_parser("make-leader"); p.add_argument("ports", nargs="+"); p.set_defaults(run=cmd_make_leader)
    p = commands.add_parser("traffic"); p.add_argument("port"); p.add_argument("seconds", type=seconds)
    p.add_argument("--max-latency", type=seconds); p.set_defaults(run=cmd_traffic)
    p = commands.add_parser("behind"); p.add_argument("leader"); p.add_argument("follower")
    p.add_argument("--within", type=seconds, default=3.0); p.set_defaults(run=cmd_behind)
    p = commands.add_parser("caught-up"); p.add_argument("leader"); p.add_argument("follower")
    p.add_argument("--within", type=seconds, default=15.0); p.set_defaults(run=cmd_caught_up)
    args = parser.parse_args()
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

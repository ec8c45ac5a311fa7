"""A tiny client of examples/kvserver for scenario `run` steps: one request, checked, exit 0 or 1.

    python3 kvclient.py put PORT KEY VALUE [--at-least 500ms] [--fails-with TEXT | --no-answer]
    python3 kvclient.py get PORT KEY [--equals VALUE | --missing]
"""

from __future__ import annotations

import argparse
import sys
import time

import requests


def seconds(text: str) -> float:
    return float(text[:-2]) / 1000 if text.endswith("ms") else float(text.rstrip("s"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("method", choices=["put", "get"])
    parser.add_argument("port")
    parser.add_argument("key")
    parser.add_argument("value", nargs="?")
    parser.add_argument("--at-least", type=seconds, help="the request must take at least this long")
    parser.add_argument("--fails-with", help="the write must fail with this text")
    parser.add_argument("--equals", help="the value read must be this")
    parser.add_argument("--missing", action="store_true", help="the key must not exist")
    parser.add_argument("--no-answer", action="store_true", help="the server must close the connection unanswered (it died)")
    args = parser.parse_args()

    url = f"http://127.0.0.1:{args.port}/kv/{args.key}"
    began = time.monotonic()
    try:
        if args.method == "put":
            response = requests.put(url, data=args.value or "", timeout=30)
        else:
            response = requests.get(url, timeout=30)
    except requests.ConnectionError as error:
        # one line, not a traceback: a dying server is what some scenario steps are about
        print(f"{args.method.upper()} /kv/{args.key}: no answer ({type(error).__name__})")
        if args.no_answer:
            return 0
        print("kvclient: expected an answer", file=sys.stderr)
        return 1
    took = time.monotonic() - began
    print(f"{args.method.upper()} /kv/{args.key}: HTTP {response.status_code} in {took * 1000:.0f} ms {response.text.strip()!r}")

    problems = []
    if args.no_answer:
        problems.append("expected no answer (the server dying)")
    elif args.fails_with is not None:
        if response.ok or args.fails_with not in response.text:
            problems.append(f"expected a failure saying {args.fails_with!r}")
    elif args.missing:
        if response.status_code != 404:
            problems.append("expected the key to be missing")
    elif not response.ok:
        problems.append("expected success")
    if args.equals is not None and response.text != args.equals:
        problems.append(f"expected the value {args.equals!r}")
    if args.at_least is not None and took < args.at_least:
        problems.append(f"expected it to take at least {args.at_least * 1000:.0f} ms")
    for problem in problems:
        print(f"kvclient: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

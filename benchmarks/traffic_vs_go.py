"""The traffic client against etcd, side by side with a Go net/http client doing the same gateway
calls at the same concurrency (issue 20's speed goals; a benchmark, nothing passes or fails).

    python3 benchmarks/traffic_vs_go.py --etcd PATH/TO/etcd [--clients 8] [--seconds 10] [--rounds 3]
                                        [--v1] [--v2] [--in-sink] [--check-seconds 60] [--check-clients 10]
                                        [--json out.json]

Each round starts a fresh one-member etcd for each of, in turn:
  go      benchmarks/gatewayclient (built at run time): the same operations (the same mix, keys,
          compare-and-set and multi-key txns) through the gateway, nothing recorded;
  python  gofail-py's traffic (gofail_py.traffic, etcd target), every operation recorded;
  bare    the same traffic with the recording left out (a sink that drops it all);
  v1      (with --v1) the same traffic recorded by the Recorder as it was before its per-thread
          buffers (tests/support/recorder_v1.py): the before of a before/after in one run;
  v2      (with --v2) the same, by the Recorder as it was before its lines were formatted in
          batches at each write (tests/support/recorder_v2.py);
each a process of its own, for its ops/s and its cpu: Go's user+sys from wait4, the traffic's
process_time() from its start to its end (Python's start-up and imports left out). Each round
runs them in another order (rotated by one), so none is always first after a quiet pause. cpu per
operation, python over bare taken pair by pair (the same round), is what recording costs; the
median and the range over the rounds are printed, with the load average before and after. Then
one --check-seconds run of --check-clients clients is recorded and `gofail-py check` timed on its
history (--check-seconds 0 leaves it out).

--in-sink also times, in each traffic process, the CPU its threads spend inside the sink's calls
(call, returned, lost: the recorder's own work, its writes included), per operation: where the
recording cost goes without the rest of the client around it. The timing costs a few us of its
own (the bare row shows how much) and dilutes the ratios above: run it apart from them.

etcd runs with --unsafe-no-fsync (--fsync to keep it): the disk's fsync would otherwise bound
both clients alike and hide what the clients cost. Any etcd v3.6 binary does (no failpoints
needed); examples/etcd/run.sh's first two steps build one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.goprog import free_port, go_env  # noqa: E402


class NullSink:
    """Takes every call and answer and keeps none: the traffic without its recording."""

    def call(self, client: int, op: str, input: Any, meta: Any = None, at: int | None = None) -> object:
        return client

    def returned(self, call: Any, output: Any, at: int | None = None) -> None:
        pass

    def lost(self, call: Any, error: str) -> None:
        pass

    def close(self) -> None:
        pass


class InSink:
    """A sink's calls timed: thread CPU (time.thread_time_ns) spent inside them, each thread its own sum."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.spent: dict[int, int] = {}

    def _add(self, began: int) -> None:
        me = threading.get_ident()
        self.spent[me] = self.spent.get(me, 0) + time.thread_time_ns() - began

    def call(self, client: int, op: str, input: Any, meta: Any = None, at: int | None = None) -> Any:
        began = time.thread_time_ns()
        call = self.sink.call(client, op, input, meta, at=at)
        self._add(began)
        return call

    def returned(self, call: Any, output: Any, at: int | None = None) -> None:
        began = time.thread_time_ns()
        self.sink.returned(call, output, at=at)
        self._add(began)

    def lost(self, call: Any, error: str) -> None:
        began = time.thread_time_ns()
        self.sink.lost(call, error)
        self._add(began)

    def close(self) -> None:
        self.sink.close()


def client_main(argv: list[str]) -> None:
    """`traffic_vs_go.py client ...`: one traffic run in this process, its stats as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--history", required=True)
    parser.add_argument("--sink", choices=("recorder", "bare", "v1", "v2"), default="recorder")
    parser.add_argument("--in-sink", action="store_true")
    args = parser.parse_args(argv)
    from gofail_py.traffic import Etcd, Traffic, TrafficConfig

    config = TrafficConfig(clients=args.clients, duration=args.seconds, op_timeout=5.0)
    sink: Any = None  # the Traffic's own Recorder (trusted: the etcd target builds its outputs)
    if args.sink == "bare":
        sink = NullSink()
    elif args.sink == "v1":
        from tests.support.recorder_v1 import RecorderV1

        sink = RecorderV1(args.history, model="kv", trusted=True)  # as the Traffic makes its own
    elif args.sink == "v2":
        from tests.support.recorder_v2 import RecorderV2

        sink = RecorderV2(args.history, model="kv", trusted=True)
    if args.in_sink:
        if sink is None:
            from gofail_py.history import Recorder

            sink = Recorder(args.history, model="kv", trusted=True)  # as the Traffic makes its own
        sink = InSink(sink)
    traffic = Traffic(Etcd([args.endpoint]), args.history, config, sink=sink)
    began = time.process_time()  # the traffic's own cpu, every thread: start-up and imports left out
    stats = traffic.start().wait()
    timed = {"in_sink_us": sum(sink.spent.values()) / 1e3 / max(stats.operations, 1)} if args.in_sink else {}
    print(json.dumps({**stats.to_json(), "cpu": time.process_time() - began, **timed}))


def start_etcd(binary: str, data: Path, fsync: bool) -> tuple[subprocess.Popen[bytes], str]:
    port, peer = free_port(), free_port()
    argv = [binary, "--name", "b", "--data-dir", str(data), "--listen-client-urls", f"http://127.0.0.1:{port}",
            "--advertise-client-urls", f"http://127.0.0.1:{port}", "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}", "--initial-cluster", f"b=http://127.0.0.1:{peer}",
            "--log-level", "error", *([] if fsync else ["--unsafe-no-fsync"])]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.post(f"http://127.0.0.1:{port}/v3/kv/range", json={"key": "AA=="}, timeout=1).ok:
                return proc, f"127.0.0.1:{port}"
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("etcd did not answer within 30 s")


def timed(argv: list[str]) -> tuple[dict[str, Any], float, float]:
    """Runs a client process: its JSON line, wall seconds, cpu seconds (user+sys)."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    out, err = proc.communicate()
    wall = time.perf_counter() - began
    # communicate() reaped it: its rusage comes from the children total, taken around the run
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]}: exit {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1]), wall, 0.0


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def one(kind: str, args: argparse.Namespace, work: Path, goclient: Path, seconds: float, clients: int
        ) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=work))
    etcd, endpoint = start_etcd(args.etcd, data / "etcd", args.fsync)
    try:
        if kind == "go":
            argv = [str(goclient), "-endpoints", endpoint, "-clients", str(clients), "-duration", f"{seconds}s",
                    "-timeout", "5s"]
        else:
            argv = [sys.executable, __file__, "client", "--endpoint", endpoint, "--clients", str(clients),
                    "--seconds", str(seconds), "--history", str(data / "h.jsonl"),
                    "--sink", {"python": "recorder", "bare": "bare", "v1": "v1", "v2": "v2"}[kind],
                    *(["--in-sink"] if args.in_sink else [])]
        before = children_cpu()
        answer, wall, _ = timed(argv)
        cpu = answer.get("cpu", children_cpu() - before)  # Go: the whole process (its start-up is ~1 ms)
        ops = answer.get("ops", answer.get("operations"))
        rate = answer.get("ops_per_second")
        row = {"kind": kind, "ops": ops, "ops_per_second": rate, "cpu": round(cpu, 3), "wall": round(wall, 3),
               "cpu_per_op_us": round(cpu / max(ops, 1) * 1e6, 1), "history": str(data / "h.jsonl")}
        if kind in ("python", "v1", "v2"):
            row["indeterminate"] = answer["indeterminate"]
        if "in_sink_us" in answer:
            row["in_sink_us"] = round(answer["in_sink_us"], 2)
        return row
    finally:
        etcd.terminate()
        etcd.wait()


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.1f}" for value in load)


def summarize(rows: list[dict[str, Any]], kinds: list[str]) -> dict[str, Any]:
    """Medians over the rounds; the ratios pair by pair (the kinds of one round against each other)."""
    def median(kind: str, field: str) -> float:
        return float(statistics.median(r[field] for r in rows if r["kind"] == kind))

    rounds = sorted({r["round"] for r in rows})
    of = {(r["round"], r["kind"]): r for r in rows}

    def ratios(a: str, b: str, field: str) -> list[float]:
        return [of[n, a][field] / of[n, b][field] for n in rounds if (n, a) in of and (n, b) in of]

    summary: dict[str, Any] = {f"{kind}_{field}": median(kind, field) for kind in kinds
                               for field in ("ops_per_second", "cpu_per_op_us")}
    summary["python_over_go"] = round(statistics.median(ratios("python", "go", "ops_per_second")), 3)
    for kind, name in (("python", "recording"), ("v1", "v1"), ("v2", "v2")):
        if kind in kinds:
            cost = [ratio - 1 for ratio in ratios(kind, "bare", "cpu_per_op_us")]
            summary.update({f"{name}_cpu_overhead": round(statistics.median(cost), 3),
                            f"{name}_cpu_overhead_min": round(min(cost), 3),
                            f"{name}_cpu_overhead_max": round(max(cost), 3)})
    for kind in ("v1", "v2"):
        if kind in kinds:
            summary[f"python_over_{kind}_cpu"] = round(statistics.median(ratios("python", kind, "cpu_per_op_us")), 3)
    return summary


def _save(args: argparse.Namespace, rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(),
                                               "load": os.getloadavg(), "rows": rows, "summary": summary}, indent=2))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--etcd", required=True, help="an etcd v3.6 binary")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check-seconds", type=float, default=60.0)
    parser.add_argument("--check-clients", type=int, default=10)
    parser.add_argument("--v1", action="store_true", help="also the recorder before its per-thread buffers")
    parser.add_argument("--v2", action="store_true", help="also the recorder before its batched formatting (a before/after in one run)")
    parser.add_argument("--in-sink", action="store_true", help="also time the CPU spent inside the sink's calls")
    parser.add_argument("--fsync", action="store_true", help="let etcd fsync (slower: the disk bounds both clients)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gofail-py-traffic-bench-"))
    try:
        goclient = work / "gatewayclient"
        subprocess.run(["go", "build", "-o", str(goclient), "."], cwd=REPO / "benchmarks" / "gatewayclient",
                       env=go_env(), check=True)
        rows: list[dict[str, Any]] = []
        kinds = ["go", "python", "bare", *(["v1"] if args.v1 else []), *(["v2"] if args.v2 else [])]
        load_before = os.getloadavg()
        print(f"== traffic vs Go net/http: {args.clients} clients, {args.seconds:g} s a run, {args.rounds} rounds, "
              f"one-member etcd{' (fsync)' if args.fsync else ' (--unsafe-no-fsync)'}; load {_load(load_before)}")
        for round_ in range(args.rounds):
            shift = round_ % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:
                row = one(kind, args, work, goclient, args.seconds, args.clients)
                row["round"] = round_
                rows.append(row)
                print(f"  round {round_ + 1} {kind:7} {row['ops_per_second']:8.0f} ops/s  cpu {row['cpu_per_op_us']:7.1f} us/op")
        load_after = os.getloadavg()
        summary = summarize(rows, kinds)
        print(f"  median: go {summary['go_ops_per_second']:.0f} ops/s, traffic {summary['python_ops_per_second']:.0f} "
              f"ops/s ({summary['python_over_go']:.2f}x go, pair by pair), without recording "
              f"{summary['bare_ops_per_second']:.0f} ops/s")
        print(f"  cpu per operation (median): go {summary['go_cpu_per_op_us']:.1f} us, traffic recorded "
              f"{summary['python_cpu_per_op_us']:.1f} us, without recording {summary['bare_cpu_per_op_us']:.1f} us")
        print(f"  recording costs {summary['recording_cpu_overhead']:+.1%} cpu per operation (recorded over bare, pair "
              f"by pair; range {summary['recording_cpu_overhead_min']:+.1%} to {summary['recording_cpu_overhead_max']:+.1%})")
        for kind, what in (("v1", "before its per-thread buffers"), ("v2", "before its batched formatting")):
            if kind in kinds:
                print(f"  the recorder {what} ({kind}): {summary[f'{kind}_cpu_per_op_us']:.1f} us per operation, "
                      f"{summary[f'{kind}_cpu_overhead']:+.1%} over bare (range {summary[f'{kind}_cpu_overhead_min']:+.1%} "
                      f"to {summary[f'{kind}_cpu_overhead_max']:+.1%}); now over {kind}: "
                      f"{summary[f'python_over_{kind}_cpu']:.3f}x")
        if args.in_sink:
            inside = {kind: statistics.median(r["in_sink_us"] for r in rows if r["kind"] == kind)
                      for kind in kinds if kind != "go"}
            summary["in_sink_us"] = inside
            print("  inside the sink's calls (thread CPU per operation, median; bare: the timing's own cost): "
                  + ", ".join(f"{kind} {value:.1f} us" for kind, value in inside.items()))
        print(f"  load average (1, 5, 15 min): before {_load(load_before)}, after {_load(load_after)}")
        summary.update({"load_before": load_before, "load_after": load_after})
        if args.check_seconds <= 0:
            _save(args, rows, summary)
            return
        print(f"\n== a {args.check_seconds:g} s run of {args.check_clients} clients, recorded, then checked")
        run = one("python", args, work, goclient, args.check_seconds, args.check_clients)
        began = time.perf_counter()
        checked = subprocess.run([sys.executable, "-m", "gofail_py.cli", "check", "--json", run["history"]],
                                 capture_output=True, text=True, cwd=REPO)
        took = time.perf_counter() - began
        verdict = json.loads(checked.stdout)["verdict"] if checked.stdout.strip() else f"exit {checked.returncode}"
        summary.update({"check_recorded_seconds": args.check_seconds, "check_operations": run["ops"],
                        "check_indeterminate": run["indeterminate"], "check_seconds": round(took, 2),
                        "check_verdict": verdict})
        print(f"  recorded {run['ops']} operations ({run['indeterminate']} without an answer) in {args.check_seconds:g} s; "
              f"gofail-py check: {verdict} in {took:.2f} s ({took / args.check_seconds:.2f}x the recording time)")
        _save(args, rows, summary)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

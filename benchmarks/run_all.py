"""Every row of the speed table (docs/speed.md), each paired with its anchor in the same run.

    python3 benchmarks/run_all.py [--quick] [--only etcd,tree,client,scenario,check] [--json PATH]

1. etcd:     gofail-py enable on etcd's server module (./...), cold (empty cache) and warm (after
             an enable+disable cycle), paired with the import floor, the click floor and the Go
             gofail v0.2.0 given every package dir; enable+disable of the failpoint dirs vs Go.
2. tree:     a synthetic 50k-file tree (1% with failpoints): enable cold vs Go and vs `cat` of every
             file, warm vs Go; both trees checked byte for byte against the Go gofail's.
3. client:   enable+disable round trips against one running binary: the Python API (keep-alive),
             a Go net/http loop, curl once per operation; `gofail-py ls` start-up vs the
             `import click, requests` floor.
4. scenario: a 1,000-step scenario (set/unset/count) against one process: overhead per step; and
             how long a `set ... for 500ms` window really is, seen from the binary's endpoint.
5. check:    `gofail-py check` vs Porcupine v1.3.1 on generated kv histories (check_vs_porcupine.py):
             10k and 50k operations on one hot key, 50k with a late stale read, 50k over 12 keys.
Whole processes, medians of paired runs (A B A B ...), ranges and ratios pair by pair, wall and
cpu (user+sys); figures are printed and written as JSON; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.check_vs_porcupine import add_arguments, bench_check  # noqa: E402
from benchmarks.check_vs_porcupine import markdown as check_markdown  # noqa: E402
from benchmarks.harness import Step, describe, paired  # noqa: E402
from benchmarks.rewriter_rows import GOFAIL_PY, PYTHON, bench_big_tree, bench_etcd, python_env  # noqa: E402
from tests.support.goprog import build_enabled, free_port, go_env, start  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def bench_client(work: Path, count: int, runs: int, rows: dict[str, object]) -> None:
    print(f"\n== 3. client: enable+disable round trips, {count} each, one running kvserver")
    binary = build_enabled(REPO / "examples" / "kvserver", work / "kv", "kvserver")
    goclient = work / "goclient"
    subprocess.run(["go", "build", "-o", str(goclient), "."], cwd=REPO / "benchmarks" / "goclient", env=go_env(), check=True)
    proc, endpoint = start(binary, "--listen", f"127.0.0.1:{free_port()}", "--data", str(work / "kvdata"))
    try:
        from gofail_py.client import Client

        results: dict[str, list[float]] = {}
        with Client(endpoint) as client:
            samples = []
            for _ in range(count):
                began = time.perf_counter()
                client.enable("slowWrite", "sleep(1)")
                client.disable("slowWrite")
                samples.append(time.perf_counter() - began)
            results["gofail-py API"] = samples
        out = subprocess.run([str(goclient), "-endpoint", endpoint, "-n", str(count)], capture_output=True, text=True, check=True)
        results["Go net/http"] = [int(line) / 1e6 for line in out.stdout.split()]
        curl_count = max(count // 10, 20)
        samples = []
        for _ in range(curl_count):
            began = time.perf_counter()
            subprocess.run(["curl", "-sf", "-XPUT", f"http://{endpoint}/slowWrite", "-d", "sleep(1)"], check=True)
            subprocess.run(["curl", "-sf", "-XDELETE", f"http://{endpoint}/slowWrite"], check=True)
            samples.append(time.perf_counter() - began)
        results[f"curl per op ({curl_count})"] = samples
        base = statistics.median(results["Go net/http"])
        for name, values in results.items():
            values.sort()
            p50, p99 = values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]
            print(f"  {name:<20} {1 / statistics.mean(values):>8.0f} round trips/s   p50 {ms(p50)}   p99 {ms(p99)}"
                  f"   p50 vs Go {p50 / base:.2f}x")
            rows[f"client_{name}"] = {"round_trips_per_s": 1 / statistics.mean(values), "p50_s": p50, "p99_s": p99}
        api, go = rows["client_gofail-py API"], rows["client_Go net/http"]
        assert isinstance(api, dict) and isinstance(go, dict)
        rows["client_rate_vs_go"] = api["round_trips_per_s"] / go["round_trips_per_s"]
        print(f"  rate gofail-py API / Go net/http: {rows['client_rate_vs_go']:.2f}x")
        env = python_env(work / "cache")
        ls = Step("gofail-py ls", [*GOFAIL_PY, "ls", "--endpoint", endpoint], work, env)
        floor = Step("import click, requests", [PYTHON, "-c", "import click, requests"], work, env)
        rows["ls_startup_vs_floor"] = paired(ls, floor, runs)
        print(f"- ls_startup_vs_floor\n{describe(rows['ls_startup_vs_floor'])}")
    finally:
        proc.kill()
        proc.wait()


def bench_scenario(work: Path, steps: int, rows: dict[str, object]) -> None:
    print(f"\n== 4. scenario engine: {steps} steps (set/count/unset) against one kvserver")
    from gofail_py.client import Client
    from gofail_py.scenario import Scenario

    binary = next((work / "kv").glob("kvserver")) if (work / "kv").exists() else build_enabled(
        REPO / "examples" / "kvserver", work / "kv", "kvserver")
    scenario = Scenario("bench")
    scenario.process("kv", [str(binary), "--listen", "127.0.0.1:{port}", "--data", "{tmp}/kv"])
    scenario.start("kv")
    for _ in range(steps // 3):
        scenario.set("kv", slowWrite="sleep(1)")
        scenario.expect_count("kv", "slowWrite", "==", 0)
        scenario.unset("kv", "slowWrite")
    result = scenario.run()
    body = [r for r in result.timeline if r.index not in ("1", "cleanup")]
    per_step = [r.end - r.start for r in body]
    total = body[-1].end - body[0].start
    rows["scenario_step_s"] = total / len(body)
    print(f"  {len(body)} steps in {total:.2f} s: {total / len(body) * 1000:.2f} ms per step "
          f"(p50 {statistics.median(per_step) * 1000:.2f} ms inside a step, the rest is bookkeeping)")

    # the window, as the binary's endpoint sees it: first and last moment the failpoint is set
    proc, endpoint = start(binary, "--listen", f"127.0.0.1:{free_port()}", "--data", str(work / "windowdata"))
    try:
        windows = []
        for _ in range(5):
            window = Scenario("window")
            window.endpoint("kv", endpoint)
            window.set("kv", slowWrite="sleep(1)", duration=0.5)
            window.sleep(0.8)
            probe = Client(endpoint)
            seen: list[float] = []
            import threading

            stop = threading.Event()

            def watch() -> None:
                while not stop.is_set():
                    if probe.list().get("slowWrite"):
                        seen.append(time.perf_counter())

            watcher = threading.Thread(target=watch)
            watcher.start()
            window.run()
            stop.set()
            watcher.join()
            if seen:
                windows.append(seen[-1] - seen[0])
        rows["scenario_window_500ms_seen_s"] = windows
        print(f"  `set ... for 500ms` windows seen at the endpoint: "
              + ", ".join(f"{w * 1000:.0f} ms" for w in windows)
              + f" (median error {abs(statistics.median(windows) - 0.5) * 1000:.1f} ms)")
    finally:
        proc.kill()
        proc.wait()


# (row, what it measures, goal from issue 14 as (figure, limit)); ratios are A/B medians of pairs
GOALS = [
    ("etcd_whole_enable_cold_vs_import_floor", "enable etcd ./..., cold / import floor", 2.0),
    ("etcd_whole_enable_warm_vs_click_floor", "enable etcd ./..., warm / click floor", 1.5),
    ("etcd_whole_enable_cold_vs_go", "enable etcd ./..., cold / Go gofail", None),
    ("etcd_whole_enable_warm_vs_go", "enable etcd ./..., warm / Go gofail", None),
    ("tree_enable_cold_vs_go", "enable 50k tree, cold / Go gofail", 0.8),
    ("tree_enable_cold_vs_cat", "enable 50k tree, cold / cat of every file", 1.5),
    ("tree_enable_warm_vs_go", "enable 50k tree, warm / Go gofail", 0.3),
    ("ls_startup_vs_floor", "`gofail-py ls` / import click, requests", 1.15),
]


def markdown(rows: dict[str, object]) -> str:
    """The table for docs/speed.md: medians (ranges) of both, the ratio, the goal."""
    lines = ["| work | gofail-py | anchor | ratio wall | ratio cpu | goal |", "|---|---|---|---|---|---|"]
    for key, what, goal in GOALS + [(k, k.replace("_", " "), None) for k in rows if "failpoint_dirs_cycle" in k]:
        row = rows.get(key)
        if not isinstance(row, dict):
            continue
        fa, fb, rw, rc = row["a_figures"], row["b_figures"], row["ratio_wall"], row["ratio_cpu"]
        lines.append(
            f"| {what} | {fa['wall_median'] * 1000:.0f} ms ({fa['wall_min'] * 1000:.0f}–{fa['wall_max'] * 1000:.0f}), cpu {fa['cpu_median'] * 1000:.0f} ms"
            f" | {row['b']}: {fb['wall_median'] * 1000:.0f} ms ({fb['wall_min'] * 1000:.0f}–{fb['wall_max'] * 1000:.0f}), cpu {fb['cpu_median'] * 1000:.0f} ms"
            f" | {rw['median']:.2f}x ({rw['min']:.2f}–{rw['max']:.2f}) | {rc['median']:.2f}x ({rc['min']:.2f}–{rc['max']:.2f})"
            f" | {'≤ ' + format(goal, '.2f') + 'x' if goal else ''} |"
        )
    for key in ("client_rate_vs_go", "scenario_step_s"):
        if key in rows:
            lines.append(f"| {key.replace('_', ' ')} | {rows[key]:.3g} | | | | |")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "system": platform.platform(), "python": platform.python_version(),
            "loadavg": os.getloadavg(), "time": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and a 10k-file tree")
    parser.add_argument("--only", default="etcd,tree,client,scenario,check")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results.json"), help="where to write the figures")
    add_arguments(parser)
    args = parser.parse_args()
    only = set(args.only.split(","))
    same_verdicts = True
    runs = 3 if args.quick else 7
    os.environ.setdefault("GOTOOLCHAIN", "local")
    rows: dict[str, object] = {"machine_before": machine()}
    print("machine:", rows["machine_before"])
    with tempfile.TemporaryDirectory(prefix="gofail-py-bench-") as tmp:
        work = Path(tmp)
        if "etcd" in only:
            bench_etcd(work / "etcd", runs, rows)
        if "tree" in only:
            bench_big_tree(work / "tree", 10000 if args.quick else 50000, 3, rows)
        if "client" in only:
            bench_client(work / "client", 300 if args.quick else 2000, runs, rows)
        if "scenario" in only:
            bench_scenario(work / "client", 300 if args.quick else 1000, rows)
        if "check" in only:
            same_verdicts = bench_check(work / "check", args.quick, rows, args)
    rows["machine_after"] = machine()
    Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    print("\n" + markdown(rows))
    if "check" in only:
        print("\n" + check_markdown(rows))
    print(f"\nload average after: {rows['machine_after']['loadavg']}; figures written to {args.json}")  # type: ignore[index]
    if not same_verdicts:
        sys.exit("gofail-py check and Porcupine gave different verdicts: see the check rows")


if __name__ == "__main__":
    main()

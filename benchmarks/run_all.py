"""Every benchmark of gofail-py, measured side by side with the real alternatives in one run.

    python benchmarks/run_all.py [--quick] [--only rewrite,scaling,client,scenario]

1. rewrite:  `enable` then `disable`, whole processes, on etcd's server module (a) the failpoint
             packages, (b) every package: gofail-py against the Go gofail v0.2.0 binary (given
             every package directory, since it does not walk). Medians of repeated runs.
2. scaling:  synthetic trees of 1k, 10k and 50k Go files (1% with failpoints): gofail-py enable
             against reading every file once (`cat`), the floor for any tool.
3. client:   enable+disable round trips against one running binary: the Python API (keep-alive),
             a Go net/http loop, and curl once per operation.
4. scenario: a 1,000-step scenario (set/unset/count) against one process: overhead per step; and
             how long a `set ... for 500ms` window really is, seen from the binary's endpoint.
Figures are printed; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.gen_tree import generate_tree  # noqa: E402
from tests.support.goprog import build_enabled, free_port, go_env, start  # noqa: E402
from tests.support.gotools import (  # noqa: E402
    ETCD_SERVER,
    ETCD_VERSION,
    dirs_with_markers,
    gofail_binary,
    module_dir,
    writable_copy,
)

GOFAIL_PY = shutil.which("gofail-py") or "gofail-py"


def timed(command: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def median_of(runs: int, once: Callable[[], float]) -> float:
    return statistics.median(once() for _ in range(runs))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def bench_rewrite(work: Path, runs: int) -> None:
    print("\n== 1. enable + disable on etcd's server module", ETCD_VERSION)
    original = module_dir(ETCD_SERVER, ETCD_VERSION)
    ours = writable_copy(original, work / "ours")
    theirs = writable_copy(original, work / "theirs")
    failpoint_dirs = dirs_with_markers(theirs)
    all_dirs = sorted({"./" + str(p.parent.relative_to(theirs)) for p in theirs.rglob("*.go")})
    gofail = str(gofail_binary())
    for label, ours_args, go_dirs in (
        (f"(a) the {len(failpoint_dirs)} failpoint packages", [d for d in failpoint_dirs], failpoint_dirs),
        (f"(b) the whole module, {len(all_dirs)} packages", ["./..."], all_dirs),
    ):
        results = {}
        for tool, tree, enable, disable in (
            ("gofail-py", ours, [GOFAIL_PY, "enable", *ours_args], [GOFAIL_PY, "disable", *ours_args]),
            ("gofail (Go)", theirs, [gofail, "enable", *go_dirs], [gofail, "disable", *go_dirs]),
        ):
            enables, disables = [], []
            for _ in range(runs):
                enables.append(timed(enable, tree))
                disables.append(timed(disable, tree))
            results[tool] = (statistics.median(enables), statistics.median(disables))
        print(f"  {label}")
        for tool, (enable_s, disable_s) in results.items():
            print(f"    {tool:<12} enable {ms(enable_s)}   disable {ms(disable_s)}")
        py, go = results["gofail-py"], results["gofail (Go)"]
        print(f"    ratio gofail-py / Go: enable {py[0] / go[0]:.2f}x, disable {py[1] / go[1]:.2f}x")
    startup = median_of(runs, lambda: timed([sys.executable, "-c", "pass"], work))
    version = median_of(runs, lambda: timed([GOFAIL_PY, "--version"], work))
    print(f"  floor: python start-up {ms(startup)}, `gofail-py --version` {ms(version)}")


def bench_scaling(work: Path, sizes: list[int], runs: int) -> None:
    print("\n== 2. scaling on synthetic trees (1% of files with failpoints)")
    print(f"  {'files':>7} {'cat':>11} {'enable':>11} {'disable':>11} {'enable/cat':>11} {'per file':>10}")
    for size in sizes:
        tree = work / f"tree{size}"
        generate_tree(tree, size, failpoint_ratio=0.01)
        files = [str(p) for p in tree.rglob("*.go")]
        listing = work / f"files{size}.txt"
        listing.write_text("\n".join(files))
        cat = median_of(runs, lambda: timed(["sh", "-c", f"xargs cat < {listing} > /dev/null"], tree))
        enables, disables = [], []
        for _ in range(runs):
            enables.append(timed([GOFAIL_PY, "enable", "./..."], tree))
            disables.append(timed([GOFAIL_PY, "disable", "./..."], tree))
        enable, disable = statistics.median(enables), statistics.median(disables)
        print(f"  {size:>7} {ms(cat)} {ms(enable)} {ms(disable)} {enable / cat:>10.2f}x {enable / size * 1e6:>7.0f} µs")
        shutil.rmtree(tree)


def bench_client(work: Path, count: int) -> None:
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
    finally:
        proc.kill()
        proc.wait()


def bench_scenario(work: Path, steps: int) -> None:
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
        print(f"  `set ... for 500ms` windows seen at the endpoint: "
              + ", ".join(f"{w * 1000:.0f} ms" for w in windows)
              + f" (median error {abs(statistics.median(windows) - 0.5) * 1000:.1f} ms)")
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller trees")
    parser.add_argument("--only", default="rewrite,scaling,client,scenario")
    args = parser.parse_args()
    only = set(args.only.split(","))
    runs = 3 if args.quick else 7
    os.environ.setdefault("GOTOOLCHAIN", "local")
    with tempfile.TemporaryDirectory(prefix="gofail-py-bench-") as tmp:
        work = Path(tmp)
        if "rewrite" in only:
            bench_rewrite(work / "rewrite", runs)
        if "scaling" in only:
            bench_scaling(work / "scaling", [1000, 10000] if args.quick else [1000, 10000, 50000], 3)
        if "client" in only:
            bench_client(work / "client", 300 if args.quick else 2000)
        if "scenario" in only:
            bench_scenario(work / "client", 300 if args.quick else 1000)


if __name__ == "__main__":
    main()

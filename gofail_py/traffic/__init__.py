"""Traffic: concurrent clients that drive a system while failpoints fire, every operation recorded
in a history that `gofail-py check` (gofail_py.check) decides against a model.

Offers: ``Traffic`` (start/stop in the background) and ``run_traffic`` (for its whole duration),
``TrafficConfig`` (clients, duration, operation mix, keys, rate, per-operation deadline), the
targets ``Kvserver`` (examples/kvserver's JSON API), ``Etcd`` (etcd's HTTP/JSON gateway over the
members of a cluster) and ``Custom`` (one function of your own per operation, any model), and
``TrafficStats``. docs/traffic.md describes them.

It talks to the system under test over HTTP as the client does (its transport: one deadline per
call) and writes what it did to a history (gofail_py.history); the scenario runner, explore and
the CLI drive it, never the other way.

Must not import: gofail_py.scenario, gofail_py.explore, gofail_py.pytest, gofail_py.cli,
    gofail_py.report, gofail_py.processes
"""

from __future__ import annotations

from gofail_py.traffic.config import KV_MIX, REGISTER_MIX, TrafficConfig, parse_mix
from gofail_py.traffic.custom import Custom
from gofail_py.traffic.etcd import Etcd
from gofail_py.traffic.runner import Traffic, TrafficStats, run_traffic
from gofail_py.traffic.targets import Connection, Kvserver, NoAnswer, Target
from gofail_py.traffic.workload import ClientWorkload

__all__ = ["KV_MIX", "REGISTER_MIX", "ClientWorkload", "Connection", "Custom", "Etcd", "Kvserver", "NoAnswer",
           "Target", "Traffic", "TrafficConfig", "TrafficStats", "parse_mix", "run_traffic"]

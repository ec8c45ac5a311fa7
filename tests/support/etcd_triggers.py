"""examples/etcd/triggers.gofail, generated from examples/etcd/failpoints.tsv: every row with a
trigger, its failpoint armed on the member its row names, the trigger run, and `reach` waiting
until the failpoint fired. m1 is made the leader first (and again before each group: a restart
or a snapshot may move leadership), m2 plays `follower`, m3 `any`."""

from __future__ import annotations

from gofail_py.etcd.table import Row

FLAGS = "--snapshot-count 100 --snapshot-catchup-entries 100"
ROLE = {"leader": "m1", "follower": "m2", "any": "m3"}
HEADER = """\
# Generated from failpoints.tsv by tests/support/etcd_triggers.py (tests/test_failpoints_table.py
# checks it is up to date): every failpoint a trigger reaches, armed on the member its row names,
# the trigger run, and `reach` waiting until the failpoint fired. Three members; m1 is made the
# leader (again before each trigger), m2 is the follower of the rows, m3 the `any`.
#   gofail-py run examples/etcd/triggers.gofail --var etcd=ETCD
"""


def _member(index: int) -> str:
    cluster = ",".join(f"m{i}=http://127.0.0.1:{{m{i}.port2}}" for i in (1, 2, 3))
    return (f"process m{index}: {{etcd}} --name m{index} --data-dir {{tmp}}/m{index} --listen-client-urls "
            "http://127.0.0.1:{port} --advertise-client-urls http://127.0.0.1:{port} --listen-peer-urls "
            "http://127.0.0.1:{port2} --initial-advertise-peer-urls http://127.0.0.1:{port2} --initial-cluster "
            f"{cluster} --initial-cluster-token gofail-py --log-level error {FLAGS}")


def groups(rows: list[Row]) -> list[list[Row]]:
    """Rows sharing a trigger and target run as one trigger; a row whose terms make the trigger's
    call fail every time (`return(...)`, no count) alone, under `trigger?`."""
    found: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        if row.trigger:
            found.setdefault((row.trigger, row.target, row.failpoint if _fails(row) else ""), []).append(row)
    return list(found.values())


def _fails(row: Row) -> bool:
    return row.terms.startswith("return(")


def scenario(rows: list[Row]) -> str:
    lines = [HEADER.rstrip("\n"), *(_member(i) for i in (1, 2, 3)), "", "parallel:",
             *(f"  start m{i}" for i in (1, 2, 3)), "run python3 {dir}/etcdkv.py ready {m1.port} --read-only"]
    for group in groups(rows):
        first = group[0]
        target = ROLE[first.target]
        armed: dict[str, list[Row]] = {}
        for row in group:
            armed.setdefault(target if row.member in ("target", "any") else ROLE[row.member], []).append(row)
        lines += ["", f"# {first.trigger} on the {first.target}: {', '.join(row.failpoint for row in group)}",
                  "run python3 {dir}/etcdkv.py make-leader {m1.port} {m2.port} {m3.port}"]
        for member, armed_rows in armed.items():
            lines.append(f"set {member} " + " ".join(f"{row.failpoint}={row.terms or 'sleep(1ms)'}" for row in armed_rows))
        # a string failpoint's `return` makes the call fail: the trigger may say so, the failpoint still fired
        verb = "trigger?" if _fails(first) else "trigger"
        lines.append(f"{verb} {target} {first.trigger} within 120s")
        for member, armed_rows in armed.items():
            lines += [f"reach {member} {row.failpoint} within 30s" for row in armed_rows]
            lines.append(f"unset {member} " + " ".join(row.failpoint for row in armed_rows))
    lines += ["", "expect m1 running", "expect m2 running", "expect m3 running"]
    return "\n".join(lines) + "\n"

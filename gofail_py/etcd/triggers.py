"""The triggers: what makes a running etcd member reach a failpoint that puts never touch, each
CHECKING it did what it claims (``TriggerFailed`` with what was seen when not).

``trigger(action, member, args, timeout=..., control=...)`` runs one; ``check_arguments`` checks
an action and its words before anything runs (a scenario's validation). A trigger that stops,
starts, pauses or spawns a process (restart, snapshot, member-promote) does so through the
``Control`` it is given: the scenario runner's, or one's own in a script. Whatever a trigger
starts or pauses is stopped or resumed before it returns, whatever way it returns."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gofail_py.errors import EtcdError, EtcdUnreachable, GatewayError, TriggerFailed, TriggerUsageError
from gofail_py.etcd import membership
from gofail_py.etcd.common import PREFIX, Control, Member, armed_failpoints, key, need, puts, wait_ready
from gofail_py.etcd.gateway import WRITES, Gateway, WriteLog, logged_write, settle_write, b64, integer, left, prefix_end

DEFAULT_TIMEOUT = 60.0
LEASE_TTL = 60
MAX_COUNT = 100_000


@dataclass(frozen=True)
class Action:
    name: str
    usage: str  # the words after the action, as docs write them
    counts: tuple[str, ...]  # names of the optional whole-number arguments, in order
    run: Callable[[Gateway, Member, tuple[int, ...], float, Control | None], dict[str, Any]]
    does: str  # for the docs table
    checks: str


def check_arguments(action: str, args: Sequence[str]) -> tuple[int, ...]:
    """The action's arguments as numbers; TriggerUsageError (exit 2) for an unknown action or words."""
    if action not in ACTIONS:
        raise TriggerUsageError(f"unknown trigger {action!r}: expected one of {', '.join(ACTIONS)}")
    spec = ACTIONS[action]
    if len(args) > len(spec.counts):
        usage = f"`{action} {spec.usage}`".replace(" `", "`") if spec.usage else f"`{action}` (no arguments)"
        raise TriggerUsageError(f"trigger {action} takes {usage}, not {' '.join(args)!r}")
    numbers = []
    for name, word in zip(spec.counts, args):
        if not (word.isascii() and word.isdigit()) or not 1 <= int(word) <= MAX_COUNT:
            raise TriggerUsageError(f"trigger {action}'s {name} must be a whole number from 1 to {MAX_COUNT}, "
                                    f"not {word!r}")
        numbers.append(int(word))
    return tuple(numbers)


def trigger(action: str, member: Member, args: Sequence[str] = (), *, timeout: float = DEFAULT_TIMEOUT,
            control: Control | None = None, writes: tuple[WriteLog, int] | None = None) -> dict[str, Any]:
    """Runs one trigger against ``member`` within ``timeout`` seconds; what it saw (for a journal).

    ``writes`` (a history and a client number of its own): every write the trigger makes (puts, the
    delete a lease revoke makes) is recorded there, so that a check of a traffic's history running
    meanwhile sees the whole store and not only the traffic's writes.

    TriggerUsageError for bad arguments, NotEtcd when the member does not answer as etcd,
    TriggerFailed when it did not do what it claims or ran out of time."""
    numbers = check_arguments(action, args)
    if not timeout > 0:
        raise TriggerUsageError(f"a trigger's timeout must be above 0 s, not {timeout!r}")
    deadline = time.monotonic() + timeout
    recording = WRITES.set(writes)
    try:
        return _run(action, member, numbers, timeout, deadline, control)
    finally:
        WRITES.reset(recording)


def _run(action: str, member: Member, numbers: tuple[int, ...], timeout: float, deadline: float,
         control: Control | None) -> dict[str, Any]:
    with Gateway(member.address) as gateway:
        try:
            _first_status(gateway, deadline)  # etcd at all, before doing anything to it
            return ACTIONS[action].run(gateway, member, numbers, deadline, control)
        except (TriggerFailed, TriggerUsageError):
            raise
        except EtcdError as error:
            if left(deadline) <= 0:
                raise TriggerFailed(f"trigger {action} on {member.name} did not finish within {timeout:g} s: "
                                    f"{error}") from None
            raise TriggerFailed(f"trigger {action} on {member.name} failed: {error}") from None


def _first_status(gateway: Gateway, deadline: float) -> None:
    """The member's status; a member just started may open its client port after its gofail
    endpoint: nothing answering is asked again until the deadline, anything else is final."""
    while True:
        try:
            gateway.status(deadline)
            return
        except EtcdUnreachable:
            if left(deadline) <= 0.2:
                raise
        time.sleep(0.1)


def _put(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
         ) -> dict[str, Any]:
    count = numbers[0] if numbers else 10
    return {"puts": count, "revision": puts(gateway, count, "put", deadline)}


def _compact(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
             ) -> dict[str, Any]:
    # puts first: the revision to compact to is above 1, and enough revisions for the batches
    revision = puts(gateway, numbers[0] if numbers else 2, "compact", deadline)
    gateway.call("/v3/kv/compaction", {"revision": str(revision), "physical": True}, deadline)
    try:
        gateway.range(PREFIX, deadline, revision=revision - 1, prefix=True, count_only=True)
    except GatewayError as error:
        if "compacted" in error.text:
            return {"compacted": revision}
        raise
    raise TriggerFailed(f"compaction to revision {revision} on {member.name} answered ok, but revision "
                        f"{revision - 1} can still be read")


def _defrag(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
            ) -> dict[str, Any]:
    gateway.call("/v3/maintenance/defragment", {}, deadline)
    size = integer(gateway.status(deadline), "dbSize", f"etcd at {gateway.address} (status)")
    if size <= 0:
        raise TriggerFailed(f"defragment on {member.name} answered ok, but its status reports no database size")
    return {"db_size": size}


def _grant(gateway: Gateway, deadline: float) -> int:
    answer = gateway.call("/v3/lease/grant", {"TTL": str(LEASE_TTL)}, deadline)
    lease, ttl = integer(answer, "ID", "lease grant"), integer(answer, "TTL", "lease grant")
    if lease <= 0 or ttl <= 0:
        raise TriggerFailed(f"lease grant on etcd at {gateway.address} answered lease {lease} with TTL {ttl}")
    return lease


def _ttl(gateway: Gateway, lease: int, deadline: float) -> int:
    return integer(gateway.call("/v3/lease/timetolive", {"ID": str(lease)}, deadline), "TTL", "lease time-to-live")


def _revoke(gateway: Gateway, lease: int, deadline: float) -> None:
    try:
        gateway.call("/v3/lease/revoke", {"ID": str(lease)}, deadline)
    except GatewayError as error:
        if "not found" not in error.text:
            raise


def _lease(kind: str) -> Callable[[Gateway, Member, tuple[int, ...], float, Control | None], dict[str, Any]]:
    def run(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
            ) -> dict[str, Any]:
        lease = _grant(gateway, deadline)
        try:
            if kind == "grant":
                return {"lease": lease, "ttl": _ttl(gateway, lease, deadline)}
            if kind == "keepalive":
                answers = list(gateway.stream("/v3/lease/keepalive", {"ID": str(lease)}, deadline))
                ttl = max((integer(a, "TTL", "lease keep-alive") for a in answers), default=0)
                if ttl <= 0:
                    raise TriggerFailed(f"lease keep-alive of lease {lease} on {member.name} answered no TTL "
                                        f"({len(answers)} answers)")
                return {"lease": lease, "ttl": ttl}
            if kind == "ttl":
                ttl = _ttl(gateway, lease, deadline)
                if ttl <= 0:
                    raise TriggerFailed(f"lease time-to-live of lease {lease} on {member.name} answered TTL {ttl}")
                return {"lease": lease, "ttl": ttl}
            leased = key("lease", 0)
            gateway.put(leased, leased, deadline, lease=lease)
            # the revoke deletes the key: a write of its own in a recorded history, when and whether it
            # took effect known only from the reads after it
            gone = logged_write("delete", {"key": leased.decode()})
            try:
                _revoke(gateway, lease, deadline)
            finally:
                settle_write(gone, None, "the key's lease was revoked")
            ttl = _ttl(gateway, lease, deadline)
            if ttl != -1:
                raise TriggerFailed(f"lease {lease} revoked on {member.name}, yet its time-to-live answers TTL {ttl}")
            return {"lease": lease, "revoked": True}
        finally:
            if kind != "revoke" and left(deadline) > 0:
                try:
                    _revoke(gateway, lease, deadline)
                except EtcdError:
                    pass  # the lease expires on its own in LEASE_TTL s; the trigger's own outcome stands
    return run


def _watch(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
           ) -> dict[str, Any]:
    count = numbers[0] if numbers else 10
    prefix = key("watch", 0) + b"/"
    start = gateway.revision(gateway.status(deadline)) + 1
    for number in range(count):
        gateway.put(prefix + str(number).encode(), prefix + str(number).encode(), deadline)  # values unique, as the traffic's
    request = {"create_request": {"key": b64(prefix), "range_end": b64(prefix_end(prefix)), "start_revision": str(start)}}
    events = 0
    created = False
    for result in gateway.stream("/v3/watch", request, deadline):
        created = created or bool(result.get("created"))
        if result.get("canceled"):
            raise TriggerFailed(f"the watch on {member.name} was canceled: {str(result.get('cancel_reason', ''))[:200]}")
        found = result.get("events", [])
        events += len(found) if isinstance(found, list) else 0
        if events >= count:
            return {"events": events}
    raise TriggerFailed(f"the watch on {member.name} ended after {events} of {count} events")


def _restart(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
             ) -> dict[str, Any]:
    control = need(control, "restart")
    armed = armed_failpoints(member)
    control.stop(member.name)
    control.start(member.name, {"GOFAIL_FAILPOINTS": ";".join(f"{n}={t}" for n, t in armed.items())} if armed else {})
    answer = wait_ready(gateway, member, deadline)
    return {"revision": gateway.revision(answer), "armed_again": sorted(armed)}


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("put", "[N]", ("N",), _put, "N puts (10 by default)", "each acknowledged with a new revision"),
    Action("compact", "[N]", ("N",), _compact, "N puts (2 by default), then a physical compaction to the last "
           "one's revision", "a read at the revision before answers `compacted`"),
    Action("defrag", "", (), _defrag, "defragments that member's database", "answered ok and its status reports "
           "a database size"),
    Action("lease-grant", "", (), _lease("grant"), "grants a lease (revoked after)", "an ID and a TTL above 0"),
    Action("lease-keepalive", "", (), _lease("keepalive"), "grants a lease, keeps it alive once through that "
           "member (a follower forwards it to the leader)", "the keep-alive answers a TTL above 0"),
    Action("lease-ttl", "", (), _lease("ttl"), "grants a lease, asks its time-to-live through that member (a "
           "follower forwards it)", "a TTL above 0"),
    Action("lease-revoke", "", (), _lease("revoke"), "grants a lease, puts a key on it, revokes it",
           "its time-to-live then answers -1 (not found)"),
    Action("watch", "[N]", ("N",), _watch, "N puts on a prefix (10 by default), then a watch from before them",
           "N events received"),
    Action("restart", "", (), _restart, "stops the member and starts it again with the failpoints it had armed",
           "it answers a read again"),
    Action("snapshot", "[N]", ("N",), membership.snapshot, "stops the member, writes N entries (300 by default) "
           "through another member, starts it again with the failpoints it had armed (again, until a snapshot comes)", "the member received a snapshot (its "
           "etcd_network_snapshot_receive_success grew)"),
    Action("member-add", "", (), membership.member_add, "adds a learner and starts an etcd process for it, then removes "
           "it and stops that process", "the member list shows the started learner"),
    Action("member-promote", "", (), membership.member_promote, "adds a learner, starts an etcd process for it, "
           "promotes it once in sync, then removes it and stops that process", "the member list shows it voting"),
    Action("member-remove", "", (), membership.member_remove, "adds a learner and starts an etcd process for it, then removes "
           "it and stops that process", "the member list no longer shows it"),
)}

"""The triggers that change who is in the cluster or who is behind: a snapshot sent to a member
that fell behind, and a learner added, promoted and removed.

Each leaves the cluster as it found it: a paused member is resumed, an added learner removed, a
started learner process stopped and its data directory deleted, whatever way the trigger ends
(cleanup gets CLEANUP_GRACE seconds past the trigger's deadline, no more)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from gofail_py.errors import EtcdError, GatewayError, NotEtcd, TriggerFailed
from gofail_py.etcd.gateway import Gateway, integer, left
from gofail_py.etcd.common import Control, Member, armed_failpoints, need, puts

RECEIVED = "etcd_network_snapshot_receive_success"
SNAPSHOT_ENTRIES = 300
CLEANUP_GRACE = 10.0


def _id(answer: dict[str, Any], what: str) -> int:
    return integer(answer, "ID", what)


def _voters_elsewhere(gateway: Gateway, deadline: float) -> list[str]:
    """The client addresses (HOST:PORT) of the cluster's other voting members."""
    mine = gateway.member_id(gateway.status(deadline))
    addresses = []
    for listed in gateway.members(deadline):
        urls = listed.get("clientURLs") or []
        if _id(listed, "member list") == mine or listed.get("isLearner") or not isinstance(urls, list) or not urls:
            continue
        url = str(urls[0])
        addresses.append(url.split("://", 1)[-1].rstrip("/"))
    return addresses


def _write_through(addresses: list[str], count: int, deadline: float) -> int:
    """``count`` acknowledged puts through the first member that takes them (an election may be
    under way: a put that fails is sent again, to the next member, until the deadline)."""
    done, last, turn = 0, 0, 0
    problem: EtcdError | None = None
    while done < count:
        if left(deadline) <= 0:
            raise TriggerFailed(f"only {done} of {count} puts were acknowledged before the deadline: {problem}")
        with Gateway(addresses[turn % len(addresses)]) as other:
            try:
                while done < count:
                    last = puts(other, 1, "snapshot", deadline)
                    done += 1
            except EtcdError as error:
                problem = error
                turn += 1
                time.sleep(min(0.2, max(0.0, left(deadline))))
    return last


def snapshot(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float, control: Control | None
             ) -> dict[str, Any]:
    control = need(control, "snapshot")
    count = numbers[0] if numbers else SNAPSHOT_ENTRIES
    others = _voters_elsewhere(gateway, deadline)
    if not others:
        raise TriggerFailed(f"snapshot needs a cluster of two members or more: {member.name} has no other voting "
                            "member to write through")
    if control.pid(member.name) is None:
        raise TriggerFailed(f"{member.name} is not running")
    # stopped, not paused: a paused member's peer connections stay open and the leader queues
    # every entry for it, so it catches up without a snapshot. Its armed failpoints are armed
    # again from its start (GOFAIL_FAILPOINTS), for the snapshot it is about to receive.
    armed = armed_failpoints(member)
    control.stop(member.name)
    try:
        revision = _write_through(others, count, deadline)
    finally:
        control.start(member.name, {"GOFAIL_FAILPOINTS": ";".join(f"{n}={t}" for n, t in armed.items())} if armed else {})
    before = 0.0  # a started member counts from 0
    seen = before
    while left(deadline) > 0:
        try:
            seen = gateway.metric(RECEIVED, min(deadline, time.monotonic() + 2.0))
        except EtcdError:
            pass  # just resumed: its gateway may take a moment
        if seen > before:
            return {"entries": count, "revision": revision, "snapshots_received": seen - before}
        time.sleep(min(0.1, max(0.0, left(deadline))))
    raise TriggerFailed(f"{member.name} received no snapshot ({RECEIVED} stayed at {before:g}) after {count} entries "
                        "were written while it was stopped: start the cluster with --snapshot-count and "
                        f"--snapshot-catchup-entries adding up to less than {count} (e.g. 100 and 100)")


def _add_learner(gateway: Gateway, deadline: float) -> tuple[int, str, dict[str, Any]]:
    from gofail_py.processes.supervisor import free_port

    peer = f"http://127.0.0.1:{free_port()}"
    answer = gateway.call("/v3/cluster/member/add", {"peerURLs": [peer], "isLearner": True}, deadline)
    added = answer.get("member")
    if not isinstance(added, dict):
        raise NotEtcd(f"etcd at {gateway.address}: member add answered no member")
    return _id(added, "member add"), peer, answer


def _listed(gateway: Gateway, member_id: int, deadline: float) -> dict[str, Any] | None:
    return next((m for m in gateway.members(deadline) if _id(m, "member list") == member_id), None)


def _remove(gateway: Gateway, member_id: int, deadline: float) -> None:
    try:
        gateway.call("/v3/cluster/member/remove", {"ID": str(member_id)}, deadline)
    except GatewayError as error:
        if "not found" not in error.text:
            raise


def _cleanup(gateway: Gateway, member_id: int, deadline: float, failing: bool) -> None:
    """Removes the learner again; a failure to is the trigger's failure unless it already failed."""
    try:
        _remove(gateway, member_id, max(deadline, time.monotonic() + CLEANUP_GRACE) if failing else deadline)
    except EtcdError as error:
        if not failing:
            raise TriggerFailed(f"the learner {member_id:x} could not be removed again: {error}") from None


def member_add(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float,
               control: Control | None) -> dict[str, Any]:
    learner, peer, _ = _add_learner(gateway, deadline)
    failing = True
    try:
        listed = _listed(gateway, learner, deadline)
        if listed is None or not listed.get("isLearner"):
            raise TriggerFailed(f"member add on {member.name} answered ok, but the member list shows "
                                f"{'no member' if listed is None else 'a voting member'} {learner:x}")
        failing = False
    finally:
        _cleanup(gateway, learner, deadline, failing)
    return {"learner": f"{learner:x}", "peer_url": peer}


def member_remove(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float,
                  control: Control | None) -> dict[str, Any]:
    learner, peer, _ = _add_learner(gateway, deadline)
    try:
        _remove(gateway, learner, deadline)
    except EtcdError:
        _cleanup(gateway, learner, deadline, True)
        raise
    if _listed(gateway, learner, deadline) is not None:
        raise TriggerFailed(f"member remove of {learner:x} on {member.name} answered ok, but the member list still "
                            "shows it")
    return {"removed": f"{learner:x}", "peer_url": peer}


def _learner_argv(executable: str, name: str, peer: str, answer: dict[str, Any], data: str) -> list[str]:
    from gofail_py.processes.supervisor import free_port

    cluster = []
    for listed in answer.get("members", []):
        urls = listed.get("peerURLs") if isinstance(listed, dict) else None
        if not isinstance(urls, list) or not urls:
            continue
        label = name if str(urls[0]) == peer else str(listed.get("name") or "")
        if label:
            cluster.append(f"{label}={urls[0]}")
    client = f"http://127.0.0.1:{free_port()}"
    return [executable, "--name", name, "--data-dir", data, "--listen-client-urls", client,
            "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", ",".join(cluster), "--initial-cluster-state", "existing", "--log-level", "error"]


def member_promote(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float,
                   control: Control | None) -> dict[str, Any]:
    control = need(control, "member-promote")
    pid = control.pid(member.name)
    if pid is None:
        raise TriggerFailed(f"{member.name} is not running")
    try:
        executable = os.readlink(f"/proc/{pid}/exe")  # the learner runs the member's own binary
    except OSError as error:
        raise TriggerFailed(f"cannot tell which binary {member.name} runs: {error.strerror}") from None
    learner, peer, answer = _add_learner(gateway, deadline)
    name = f"learner-{learner:x}"
    data = tempfile.mkdtemp(prefix="gofail-py-learner-")
    stop: Callable[[], None] | None = None
    failing = True
    try:
        stop = control.spawn(name, _learner_argv(executable, name, peer, answer, data))
        problem: EtcdError | None = None
        while True:
            if left(deadline) <= 0:
                raise TriggerFailed(f"the learner {name} was not promoted before the deadline: {problem}")
            try:
                gateway.call("/v3/cluster/member/promote", {"ID": str(learner)}, deadline)
                break
            except GatewayError as error:  # not started or not in sync yet: asked again
                if "learner" not in error.text and "not started" not in error.text:
                    raise
                problem = error
            time.sleep(min(0.2, max(0.0, left(deadline))))
        listed = _listed(gateway, learner, deadline)
        if listed is None or listed.get("isLearner"):
            raise TriggerFailed(f"promote of {name} on {member.name} answered ok, but the member list shows it "
                                f"{'missing' if listed is None else 'still a learner'}")
        failing = False
    finally:
        try:
            _cleanup(gateway, learner, deadline, failing)
        finally:
            if stop is not None:
                stop()
            shutil.rmtree(data, ignore_errors=True)
    return {"promoted": f"{learner:x}", "peer_url": peer}

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


def _change(gateway: Gateway, path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
    """A membership change, asked again while etcd refuses it as unsafe for now (a member started
    moments ago: `unhealthy cluster` until every member has been connected for a few seconds)."""
    while True:
        try:
            return gateway.call(path, body, deadline)
        except GatewayError as error:
            if "unhealthy cluster" not in error.text or left(deadline) <= 0.5:
                raise
        time.sleep(0.5)


def _add_learner(gateway: Gateway, deadline: float) -> tuple[int, str, dict[str, Any]]:
    from gofail_py.processes.supervisor import free_port

    peer = f"http://127.0.0.1:{free_port()}"
    answer = _change(gateway, "/v3/cluster/member/add", {"peerURLs": [peer], "isLearner": True}, deadline)
    added = answer.get("member")
    if not isinstance(added, dict):
        raise NotEtcd(f"etcd at {gateway.address}: member add answered no member")
    return _id(added, "member add"), peer, answer


def _listed(gateway: Gateway, member_id: int, deadline: float) -> dict[str, Any] | None:
    return next((m for m in gateway.members(deadline) if _id(m, "member list") == member_id), None)


def _remove(gateway: Gateway, member_id: int, deadline: float) -> None:
    try:
        _change(gateway, "/v3/cluster/member/remove", {"ID": str(member_id)}, deadline)
    except GatewayError as error:
        if "not found" not in error.text:
            raise


class _Learner:
    """A learner added to the cluster and started as an etcd process of the member's own binary,
    caught up (a learner never started would leave the leader with a snapshot in flight to it
    forever, and etcd compacts no raft log while one is: no snapshot would be sent after);
    ``close`` removes it if still a member, stops the process and deletes its data."""

    def __init__(self, gateway: Gateway, member: Member, control: Control | None, action: str, deadline: float) -> None:
        control = need(control, action)
        pid = control.pid(member.name)
        if pid is None:
            raise TriggerFailed(f"{member.name} is not running")
        try:
            executable = os.readlink(f"/proc/{pid}/exe")  # the learner runs the member's own binary
        except OSError as error:
            raise TriggerFailed(f"cannot tell which binary {member.name} runs: {error.strerror}") from None
        self.gateway, self.deadline = gateway, deadline
        revision = gateway.revision(gateway.status(deadline))
        self.id, self.peer, answer = _add_learner(gateway, deadline)
        self.name = f"learner-{self.id:x}"
        self.data = tempfile.mkdtemp(prefix="gofail-py-learner-")
        self.stop: Callable[[], None] | None = None
        self.removed = False
        try:
            argv, client = _learner_argv(executable, self.name, self.peer, answer, self.data)
            self.stop = control.spawn(self.name, argv)
            self._caught_up(client, revision)
        except BaseException:
            self.close(failing=True)
            raise

    def _caught_up(self, client: str, revision: int) -> None:
        problem: EtcdError | None = None
        with Gateway(client) as learner:
            while left(self.deadline) > 0:
                try:
                    if learner.revision(learner.status(min(self.deadline, time.monotonic() + 2.0))) >= revision:
                        return
                except EtcdError as error:
                    problem = error
                time.sleep(min(0.2, max(0.0, left(self.deadline))))
        raise TriggerFailed(f"the learner {self.name} did not catch up (revision {revision}) before the deadline: "
                            f"{problem}")

    def remove(self) -> None:
        _remove(self.gateway, self.id, self.deadline)
        self.removed = True

    def close(self, failing: bool) -> None:
        try:
            if not self.removed:
                try:
                    _remove(self.gateway, self.id,
                            max(self.deadline, time.monotonic() + CLEANUP_GRACE) if failing else self.deadline)
                except EtcdError as error:
                    if not failing:
                        raise TriggerFailed(f"the learner {self.id:x} could not be removed again: {error}") from None
        finally:
            if self.stop is not None:
                self.stop()
            shutil.rmtree(self.data, ignore_errors=True)


def _with_learner(gateway: Gateway, member: Member, control: Control | None, action: str, deadline: float,
                  then: Callable[[_Learner], dict[str, Any]]) -> dict[str, Any]:
    learner = _Learner(gateway, member, control, action, deadline)
    failing = True
    try:
        result = then(learner)
        failing = False
    finally:
        learner.close(failing)
    return {**result, "peer_url": learner.peer}


def member_add(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float,
               control: Control | None) -> dict[str, Any]:
    def check(learner: _Learner) -> dict[str, Any]:
        listed = _listed(gateway, learner.id, deadline)
        if listed is None or not listed.get("isLearner") or not listed.get("name"):
            raise TriggerFailed(f"member add on {member.name} answered ok, but the member list shows "
                                f"{'no member' if listed is None else 'a voting or unstarted member'} {learner.id:x}")
        return {"learner": f"{learner.id:x}"}
    return _with_learner(gateway, member, control, "member-add", deadline, check)


def member_remove(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float,
                  control: Control | None) -> dict[str, Any]:
    def check(learner: _Learner) -> dict[str, Any]:
        learner.remove()
        if _listed(gateway, learner.id, deadline) is not None:
            raise TriggerFailed(f"member remove of {learner.id:x} on {member.name} answered ok, but the member list "
                                "still shows it")
        return {"removed": f"{learner.id:x}"}
    return _with_learner(gateway, member, control, "member-remove", deadline, check)


def member_promote(gateway: Gateway, member: Member, numbers: tuple[int, ...], deadline: float,
                   control: Control | None) -> dict[str, Any]:
    def check(learner: _Learner) -> dict[str, Any]:
        problem: EtcdError | None = None
        while True:
            if left(deadline) <= 0:
                raise TriggerFailed(f"the learner {learner.name} was not promoted before the deadline: {problem}")
            try:
                _change(gateway, "/v3/cluster/member/promote", {"ID": str(learner.id)}, deadline)
                break
            except GatewayError as error:  # not in sync yet: asked again
                if "learner" not in error.text and "not started" not in error.text:
                    raise
                problem = error
            time.sleep(min(0.2, max(0.0, left(deadline))))
        listed = _listed(gateway, learner.id, deadline)
        if listed is None or listed.get("isLearner"):
            raise TriggerFailed(f"promote of {learner.name} on {member.name} answered ok, but the member list shows "
                                f"it {'missing' if listed is None else 'still a learner'}")
        return {"promoted": f"{learner.id:x}"}
    return _with_learner(gateway, member, control, "member-promote", deadline, check)


def _learner_argv(executable: str, name: str, peer: str, answer: dict[str, Any], data: str) -> tuple[list[str], str]:
    from gofail_py.processes.supervisor import free_port

    cluster = []
    for listed in answer.get("members", []):
        urls = listed.get("peerURLs") if isinstance(listed, dict) else None
        if not isinstance(urls, list) or not urls:
            continue
        label = name if str(urls[0]) == peer else str(listed.get("name") or "")
        if label:
            cluster.append(f"{label}={urls[0]}")
    client = f"127.0.0.1:{free_port()}"
    return [executable, "--name", name, "--data-dir", data, "--listen-client-urls", f"http://{client}",
            "--advertise-client-urls", f"http://{client}", "--listen-peer-urls", peer, "--initial-advertise-peer-urls",
            peer, "--initial-cluster", ",".join(cluster), "--initial-cluster-state", "existing", "--log-level",
            "error"], client

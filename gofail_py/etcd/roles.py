"""Which member of an etcd cluster holds a role, asked of the members when it is needed.

A member is the leader when the leader id it reports is its own member id. The leader is taken
only when every member that answers names the same one and that one runs: during an election, or
right after the leader died, the members disagree or name a dead one, and the question is asked
again until the deadline. `follower` is the first non-leader in the cluster's order (runs are
replayable), `followers` every non-leader, `any` the first member that answers, `all` every member
(nobody is asked).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

import requests

from gofail_py.errors import EtcdError, NoLeader, NotEtcd
from gofail_py.etcd.status import MemberStatus, member_status

ROLES = ("leader", "follower", "followers", "any", "all")
SINGLE = ("leader", "follower", "any")  # one member: what `pick` takes
MULTI = ("followers", "all")  # a step acts on each in turn
WITHIN = 15.0  # seconds a role is asked for at most: an election after a leader's death takes a few
POLL = 0.1  # seconds between two rounds of questions
ASK_TIMEOUT = 2.0  # seconds one member has to answer one question


@dataclass
class Answers:
    """One round of questions: each member's status, or why there is none."""

    statuses: dict[str, MemberStatus] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def describe(self, names: Collection[str]) -> str:
        parts = []
        for name in names:
            if name in self.statuses:
                parts.append(f"{name}: {self.statuses[name].brief()}")
            else:
                parts.append(f"{name}: {self.problems.get(name, 'not asked')}")
        return "; ".join(parts)


RoundDecision = Callable[[Answers], tuple[str, ...]]  # a round's answers -> the members chosen, () to ask again


def agreed_leader(statuses: Mapping[str, MemberStatus], ids: Mapping[str, int], members: Iterable[str],
                  running: Collection[str] | None = None) -> str | None:
    """The running member every answering member names as leader, or None (no answer, an
    election: leader 0, a disagreement, or a leader that is not a running member). ``ids``: the
    member ids known by name, so a leader that did not answer this time is still recognised."""
    named = {status.leader for status in statuses.values()}
    if len(named) != 1 or 0 in named:
        return None
    leader_id = named.pop()
    return next((name for name in members if ids.get(name) == leader_id and (running is None or name in running)), None)


class EtcdCluster:
    """The members of one etcd cluster by name, each at its client address (HOST:PORT).

        cluster = EtcdCluster({"m1": "127.0.0.1:2379", "m2": "127.0.0.1:22379", "m3": "127.0.0.1:32379"})
        cluster.leader()        # "m2": asked of the members
        cluster.followers()     # ("m1", "m3")
        cluster.resolve("follower", running={"m1", "m3"})

    ``running`` (every member when not given) names the members that may be asked; the others
    are taken as stopped. Every call asks again: leadership moves.
    """

    def __init__(self, members: Mapping[str, str], name: str = "cluster", *, ask_timeout: float = ASK_TIMEOUT) -> None:
        if not members:
            raise ValueError("a cluster needs at least one member")
        self.name = name
        self.members = dict(members)
        self.ask_timeout = ask_timeout
        self._ids: dict[str, int] = {}  # member ids seen: a member that is slow to answer is still known
        self._lock = threading.Lock()

    def address(self, member: str) -> str:
        return self.members[member]

    def ask(self, running: Collection[str] | None = None, deadline: float | None = None) -> Answers:
        """Every running member's status, asked at once (a member stuck in a failpoint costs one
        ask_timeout, not one per member). NotEtcd when a member answers, but not as etcd does."""
        names = [name for name in self.members if running is None or name in running]
        answers = Answers()
        results: dict[str, MemberStatus | BaseException] = {}

        def one(name: str) -> None:
            left = self.ask_timeout if deadline is None else max(0.05, min(self.ask_timeout, deadline - time.monotonic()))
            try:
                with requests.Session() as session:
                    results[name] = member_status(self.members[name], left, session)
            except EtcdError as error:
                results[name] = error

        threads = [threading.Thread(target=one, args=(name,), daemon=True, name=f"status {name}") for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.ask_timeout + 1.0)
        for name in self.members:
            if name not in names:
                answers.problems[name] = "not running"
                continue
            result = results.get(name)
            if isinstance(result, NotEtcd):
                raise NotEtcd(f"cluster {self.name}: member {name} is not an etcd member: {result}") from result
            if isinstance(result, MemberStatus):
                answers.statuses[name] = result
                with self._lock:
                    self._ids[name] = result.member_id
            else:
                answers.problems[name] = str(result) if result is not None else "no answer"
        return answers

    def _until(self, decide: RoundDecision, what: str, running: Collection[str] | None, within: float,
               cancel: threading.Event | None) -> tuple[str, ...]:
        deadline = time.monotonic() + within
        last = Answers()
        while True:
            last = self.ask(running, deadline)
            chosen = decide(last)
            if chosen:
                return chosen
            if time.monotonic() + POLL > deadline:
                raise NoLeader(f"cluster {self.name}: no {what} within {within:g} s; the members answered: "
                               f"{last.describe(self.members)}")
            if cancel is not None:
                if cancel.wait(POLL):
                    raise EtcdError(f"cluster {self.name}: interrupted while asking for the {what}")
            else:
                time.sleep(POLL)

    def resolve(self, role: str, running: Collection[str] | None = None, within: float = WITHIN,
                cancel: threading.Event | None = None) -> tuple[str, ...]:
        """The members holding ``role`` (one of ROLES), in the cluster's order, asked now."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "all":
            return tuple(self.members)
        if running is not None and not any(name in running for name in self.members):
            raise NoLeader(f"cluster {self.name}: no member runs, so none is the {role}")

        def decide(answers: Answers) -> tuple[str, ...]:
            if role == "any":
                return tuple(name for name in self.members if name in answers.statuses)[:1]
            with self._lock:
                ids = dict(self._ids)
            leader = agreed_leader(answers.statuses, ids, self.members, running)
            if leader is None:
                return ()
            if role == "leader":
                return (leader,)
            with self._lock:
                known = set(self._ids)
            followers = tuple(name for name in self.members
                              if name != leader and name in known and (running is None or name in running)
                              and not (name in answers.statuses and answers.statuses[name].is_learner))
            if not followers:
                raise NoLeader(f"cluster {self.name}: {leader} leads and no other member runs: no {role}; "
                               f"the members answered: {answers.describe(self.members)}")
            return followers[:1] if role == "follower" else followers

        what = {"leader": "agreed leader", "any": "member answering"}.get(role, "agreed leader (to tell its followers)")
        return self._until(decide, what, running, within, cancel)

    def leader(self, running: Collection[str] | None = None, within: float = WITHIN) -> str:
        return self.resolve("leader", running, within)[0]

    def follower(self, running: Collection[str] | None = None, within: float = WITHIN) -> str:
        return self.resolve("follower", running, within)[0]

    def followers(self, running: Collection[str] | None = None, within: float = WITHIN) -> tuple[str, ...]:
        return self.resolve("followers", running, within)


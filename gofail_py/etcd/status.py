"""Ask one etcd member its status (`POST /v3/maintenance/status`): who it is, whom it follows.

``read_status`` is the pure half (a JSON answer in, a MemberStatus out); ``member_status`` sends
the request with one deadline for the whole call.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from gofail_py.errors import EtcdError, NotEtcd

STATUS_PATH = "/v3/maintenance/status"
MAX_ANSWER = 1 << 20  # bytes of a status answer read at most: a hostile endpoint cannot fill memory
_UINT64 = 2**64


@dataclass(frozen=True)
class MemberStatus:
    """What a member says of itself: its id, the leader it knows (0: none), its raft term and index."""

    address: str
    member_id: int
    leader: int
    raft_term: int
    raft_index: int
    revision: int
    is_learner: bool = False
    version: str = ""

    @property
    def leads(self) -> bool:
        return self.leader != 0 and self.leader == self.member_id

    def brief(self) -> str:
        """How a message shows the answer: `member 1a2b, leader 3c4d (term 5)`."""
        leader = f"{self.leader:x}" if self.leader else "none"
        return f"member {self.member_id:x}, leader {leader} (term {self.raft_term})"


def _id(data: dict[str, Any], key: str, where: str, required: bool = True) -> int:
    """A uint64 the gateway writes as a decimal string (an omitted one is 0: zero values are left out)."""
    value = data.get(key)
    if value is None and not required:
        return 0
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).isascii() or not str(value).isdigit():
        raise NotEtcd(f"{where}: {key} is {str(value)[:40]!r}, not a number as etcd writes it")
    number = int(value) if len(str(value)) <= 20 else _UINT64
    if number >= _UINT64:
        raise NotEtcd(f"{where}: {key} is out of range for a uint64")
    return number


def read_status(address: str, data: object) -> MemberStatus:
    """A status answer read into a MemberStatus; NotEtcd when it is not shaped as etcd's."""
    where = f"{address} {STATUS_PATH}"
    if not isinstance(data, dict) or not isinstance(data.get("header"), dict):
        raise NotEtcd(f"{where}: the answer has no header: not an etcd member")
    header: dict[str, Any] = data["header"]
    learner = data.get("isLearner", False)
    version = data.get("version", "")
    return MemberStatus(
        address=address,
        member_id=_id(header, "member_id", where),
        leader=_id(data, "leader", where, required=False),
        raft_term=_id(data, "raftTerm", where, required=False),
        raft_index=_id(data, "raftIndex", where, required=False),
        revision=_id(header, "revision", where, required=False),
        is_learner=learner is True,
        version=version if isinstance(version, str) else "",
    )


def member_status(address: str, timeout: float = 2.0, session: requests.Session | None = None) -> MemberStatus:
    """Asks the member at HOST:PORT its status, within ``timeout`` seconds for the whole call.

    EtcdError when it does not answer in time or refuses the connection, NotEtcd when what answers
    is not an etcd member (another HTTP server, a garbled body, an error status)."""
    deadline = time.monotonic() + timeout
    url = f"http://{address}{STATUS_PATH}"
    sender = session or requests
    try:
        with sender.post(url, json={}, timeout=(timeout, timeout), stream=True, allow_redirects=False) as response:
            body = b""
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > MAX_ANSWER:
                    raise NotEtcd(f"{address} {STATUS_PATH}: an answer of more than {MAX_ANSWER} bytes: not an etcd member")
                if time.monotonic() > deadline:
                    raise EtcdError(f"{address} {STATUS_PATH}: no whole answer within {timeout:g} s")
            status = response.status_code
    except requests.Timeout as error:
        raise EtcdError(f"{address} {STATUS_PATH}: no answer within {timeout:g} s") from error
    except requests.RequestException as error:
        raise EtcdError(f"{address} {STATUS_PATH}: {type(error).__name__}: {_reason(error)}") from error
    if status != 200:
        raise NotEtcd(f"{address} {STATUS_PATH}: HTTP {status}: {body[:200].decode('utf-8', 'replace')!r}")
    try:
        data = json.loads(body)
    except ValueError as error:
        raise NotEtcd(f"{address} {STATUS_PATH}: the answer is not JSON: not an etcd member") from error
    return read_status(address, data)


def _reason(error: requests.RequestException) -> str:
    """The innermost reason of a connection error (`Connection refused`), not urllib3's whole chain."""
    text = str(error)
    for mark in ("Connection refused", "Connection reset", "Name or service not known", "Remote end closed"):
        if mark in text:
            return mark.lower()
    return text[:200]

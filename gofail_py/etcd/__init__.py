"""etcd: what gofail-py asks of and does to a running etcd through its HTTP/JSON gateway.

Offers: what a member says of itself (``member_status``, ``MemberStatus``), which member holds a
role, asked of the members and not assumed (``EtcdCluster``: the leader, a follower...; scenario/
resolves its role words `c.leader` through it), ``Gateway`` (one member's gateway with requests:
one session, one deadline for the whole call, an answer that is not etcd's a clear ``NotEtcd``),
and the triggers (``trigger``, ``ACTIONS``): calls that make a running member do what reaches a
failpoint (compact, defragment, lease calls, a watch, a restart, a snapshot sent to a member that
fell behind, membership changes), each checking it did what it claims and raising
``TriggerFailed`` when not. docs/etcd.md describes them. ``read_table`` reads examples/etcd/failpoints.tsv, which says which
trigger reaches which failpoint (``Row``; ``compare`` against a source's inventory).

Below the scenario language, which drives it through a ``Control`` (start, stop, spawn) it hands in.

Must not import: gofail_py.scenario, gofail_py.cli, gofail_py.explore, gofail_py.report, gofail_py.pytest
"""

from __future__ import annotations

from gofail_py.etcd.common import Control, Member
from gofail_py.etcd.gateway import Gateway
from gofail_py.etcd.roles import MULTI, ROLES, SINGLE, EtcdCluster, agreed_leader
from gofail_py.etcd.status import MemberStatus, member_status, read_status
from gofail_py.etcd.table import Row, compare, read_table
from gofail_py.etcd.triggers import ACTIONS, check_arguments, trigger

__all__ = ["ACTIONS", "MULTI", "ROLES", "SINGLE", "Control", "EtcdCluster", "Gateway", "Member", "MemberStatus", "Row",
           "agreed_leader", "check_arguments", "compare", "member_status", "read_status", "read_table", "trigger"]

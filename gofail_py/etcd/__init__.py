"""etcd through its HTTP/JSON gateway: what a member says of itself (status), which member holds
a role (the leader, a follower: asked, not assumed), and the operations that make a running etcd
reach its failpoints. It offers EtcdCluster and member_status for scenarios and Python scripts;
scenario/ resolves its role words (`c.leader`) through it, and it knows nothing of scenarios.

Must not import: gofail_py.scenario, gofail_py.cli, gofail_py.explore, gofail_py.report, gofail_py.pytest
"""

from __future__ import annotations

from gofail_py.etcd.roles import MULTI, ROLES, SINGLE, EtcdCluster, agreed_leader
from gofail_py.etcd.status import MemberStatus, member_status, read_status

__all__ = ["MULTI", "ROLES", "SINGLE", "EtcdCluster", "agreed_leader", "MemberStatus", "member_status", "read_status"]

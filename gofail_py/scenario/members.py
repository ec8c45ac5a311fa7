"""Names a statement may give its target: a declared process or endpoint, a role word of a
declared cluster (`c.leader`, `c.follower`, `c.followers`, `c.any`, `c.all`), or an alias bound
by `pick`. The check here is the one the parser and the builder share (text in, a message out);
the runtime resolves the names when a step runs."""

from __future__ import annotations

import re

from gofail_py.etcd.roles import ROLES, SINGLE
from gofail_py.scenario.model import Plan

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def role_of(word: str) -> tuple[str, str] | None:
    """(cluster, role) of a word written `C.ROLE`; None for a plain name."""
    cluster, dot, role = word.partition(".")
    return (cluster, role) if dot else None


def role_problem(plan: Plan, word: str, single: bool = False) -> str | None:
    """What is wrong with a role word, or None (``single``: one member, as `pick` needs)."""
    cluster, role = role_of(word) or ("", "")
    if cluster not in plan.clusters:
        if cluster in plan.processes or cluster in plan.endpoints or cluster in plan.aliases:
            return f"{cluster!r} is not a cluster: a role ({word!r}) names a member of a declared `cluster`"
        return f"no cluster {cluster!r} declared (for {word!r}; declare it with `cluster {cluster}: MEMBER...`)"
    if role not in ROLES:
        return f"unknown role {role!r} of cluster {cluster}: expected {', '.join(ROLES)}"
    if single and role not in SINGLE:
        return (f"{word!r} is {'every member' if role == 'all' else 'several members'}: pick takes one "
                f"({', '.join(f'{cluster}.{r}' for r in SINGLE)})")
    return None


def target_problem(plan: Plan, word: str, endpoints: bool = True) -> str | None:
    """What is wrong with a step's target name, or None. Members of a cluster are processes, so
    role words and aliases stand wherever a process may."""
    if word in plan.processes or word in plan.aliases or (endpoints and word in plan.endpoints):
        return None
    if role_of(word) is not None:
        return role_problem(plan, word)
    if word in plan.clusters:
        return f"{word!r} is a cluster: name a member or a role ({word}.leader, {word}.follower, {word}.all...)"
    if not endpoints:
        hint = " (an endpoint can only be set, unset, waited on and counted)" if word in plan.endpoints else ""
        return f"no process {word!r} declared{hint}"
    return f"no process or endpoint {word!r} declared"

"""pick ALIAS C.ROLE: binds a name to the member that holds a role now (the cluster declaration,
`cluster c: m1 m2 m3`, is the parser's, beside `process`; role words in every statement come from
scenario.members and are resolved by the runner before a statement's handler runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.scenario.model import Step
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime

USAGE = "pick ALIAS CLUSTER.ROLE"


@dataclass(frozen=True)
class Pick(Step):
    alias: str
    role: str  # `c.follower` as written; the runner hands the handler the member it resolved to


def _parse(cursor: Cursor, tokens: Sequence[Token]) -> Pick:
    cursor.arity(tokens, 3, USAGE)
    role = cursor.role(tokens[2], single=True)
    return Pick(cursor.alias(tokens[1], role), role, where=cursor.where(tokens[1]))


def _run(rt: Runtime, step: Pick, record: StepRecord, index: str) -> None:
    # the runner resolved the role word into the member's name before this ran (and wrote it
    # in the record's `members`): bind the alias to that process
    rt.bind(step.alias, step.role)
    record.answer = {"alias": step.alias, "member": step.role}


register(Spec(
    Pick, ("pick",), "pick victim c.follower",
    "asks the members which one holds the role now (`leader`, `follower`: the first non-leader in the cluster's "
    "order, `any`) and names it `victim` from then on: `expect victim exit panic`, `start victim`, `{victim.port}` "
    "act on that process even after leadership has moved",
    parse=_parse, describe=lambda step: f"pick {step.alias} {step.role}", run=_run,
    subjects=lambda step: (step.role,),
))

"""Every rule of the kv model, by hand: a history that breaks it is not linearizable (and the
explanation names the operation that breaks it), and its repaired twin is linearizable. Each is
checked by the revision-driven check and by the general search, and by the brute force."""

from __future__ import annotations

from typing import Any

import pytest

from gofail_py.check import check
from gofail_py.models.operation import Operation
from tests.support.histories import kv_brute_force

_ids = iter(range(1, 1 << 30))


def kv(key: str, value: str, create: int, mod: int, version: int) -> dict[str, Any]:
    return {"key": key, "value": value, "create_revision": create, "mod_revision": mod, "version": version}


def put(key: str, value: str, call: int, ret: int | None, revision: int | None, client: int = 0) -> Operation:
    return Operation(next(_ids), client, "put", {"key": key, "value": value}, call, ret,
                     None if ret is None else {"revision": revision})


def get(key: str, call: int, ret: int, revision: int, kvs: list[dict[str, Any]], prefix: bool = False,
        client: int = 1) -> Operation:
    input: dict[str, Any] = {"key": key, "prefix": True} if prefix else {"key": key}
    return Operation(next(_ids), client, "get", input, call, ret, {"revision": revision, "kvs": kvs})


def delete(key: str, call: int, ret: int, revision: int, deleted: int, client: int = 2) -> Operation:
    return Operation(next(_ids), client, "delete", {"key": key}, call, ret, {"revision": revision, "deleted": deleted})


def txn(compare: list[dict[str, Any]], success: list[dict[str, Any]], failure: list[dict[str, Any]], call: int,
        ret: int | None, output: dict[str, Any] | None, client: int = 3) -> Operation:
    return Operation(next(_ids), client, "txn", {"compare": compare, "success": success, "failure": failure}, call, ret,
                     output)


A2 = kv("k", "a", 2, 2, 1)  # k = a, put at revision 2
B3 = kv("k", "b", 2, 3, 2)  # then k = b at revision 3


def cases() -> dict[str, tuple[list[Operation], list[Operation], int]]:
    """name -> (broken history, its repaired twin, index in the broken one of the operation at fault)."""
    made: dict[str, tuple[list[Operation], list[Operation], int]] = {}

    def case(name: str, broken: list[Operation], fixed: list[Operation], fault: int) -> None:
        made[name] = (broken, fixed, fault)

    base = lambda: [put("k", "a", 0, 10, 2), put("k", "b", 20, 30, 3)]  # noqa: E731
    case("stale read: the old value after the new one's write returned",
         [*base(), get("k", 40, 50, 2, [A2])], [*base(), get("k", 25, 50, 2, [A2])], 2)
    case("lost write: an answered put that a later read does not show",
         [*base(), get("k", 40, 50, 3, [A2])], [*base(), get("k", 40, 50, 3, [B3])], 2)
    case("revision going back: a later read sees an older revision",
         [*base(), get("k", 40, 50, 3, [B3]), get("k", 60, 70, 2, [A2])],
         [*base(), get("k", 40, 50, 3, [B3]), get("k", 60, 70, 3, [B3])], 3)
    # the stale read held back the writes after its revision: the write or read it made late is not at fault
    C4 = kv("k", "c", 2, 4, 3)
    case("stale read behind a slow write: a put that returned before the read was called is not at fault",
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 200, 3), put("k", "c", 30, 40, 4), get("k", 50, 60, 2, [A2])],
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 200, 3), put("k", "c", 30, 40, 4), get("k", 15, 60, 2, [A2])], 3)
    case("stale read behind a slow write: a read that returned before the stale one was called is not at fault",
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 200, 3), get("k", 30, 45, 3, [B3]), get("k", 50, 60, 2, [A2])],
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 200, 3), get("k", 30, 45, 3, [B3]), get("k", 15, 60, 2, [A2])], 3)
    case("stale reads two revisions back, behind two slow writes",
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 200, 3), put("k", "c", 25, 210, 4), get("k", 30, 45, 4, [C4]),
          get("k", 50, 60, 2, [A2]), get("k", 55, 65, 3, [B3])],
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 200, 3), put("k", "c", 25, 210, 4), get("k", 30, 45, 4, [C4]),
          get("k", 15, 60, 2, [A2]), get("k", 22, 65, 3, [B3])], 4)
    case("revision going back: a write answers a lower revision than one that returned before its call",
         [put("k", "b", 0, 10, 3), put("k", "a", 20, 30, 2)], [put("k", "b", 0, 10, 3), put("k", "a", 5, 30, 2)], 0)
    case("a read sees a write that had not been called yet",
         [get("k", 0, 10, 2, [A2]), put("k", "a", 20, 30, 2)], [get("k", 0, 10, 2, [A2]), put("k", "a", 5, 30, 2)], 0)
    case("a read sees an unanswered write that had not been called yet",
         [get("k", 0, 10, 2, [A2]), put("k", "a", 20, None, None)],
         [get("k", 0, 10, 2, [A2]), put("k", "a", 5, None, None)], 0)
    case("a read sees a value nobody wrote",
         [put("k", "a", 0, None, None), get("k", 20, 30, 2, [kv("k", "z", 2, 2, 1)])],
         [put("k", "a", 0, None, None), get("k", 20, 30, 2, [A2])], 1)
    fails = lambda revision: {"revision": revision, "succeeded": False, "results": []}  # noqa: E731
    never = [{"key": "k", "target": "value", "value": "never"}]
    case("a failed txn that still wrote (a read shows its success branch's put)",
         [put("k", "a", 0, 10, 2), txn(never, [{"op": "put", "key": "k", "value": "t"}], [], 20, 30, fails(2)),
          get("k", 40, 50, 3, [kv("k", "t", 2, 3, 2)])],
         [put("k", "a", 0, 10, 2), txn(never, [{"op": "put", "key": "k", "value": "t"}], [], 20, 30, fails(2)),
          get("k", 40, 50, 2, [A2])], 2)
    case("a failed txn that raised the revision",
         [put("k", "a", 0, 10, 2), txn(never, [{"op": "put", "key": "k", "value": "t"}], [], 20, 30, fails(3))],
         [put("k", "a", 0, 10, 2), txn(never, [{"op": "put", "key": "k", "value": "t"}], [], 20, 30, fails(2))], 1)
    case("a delete that did not raise the revision",
         [put("k", "a", 0, 10, 2), delete("k", 20, 30, 2, 1)], [put("k", "a", 0, 10, 2), delete("k", 20, 30, 3, 1)], 1)
    case("a delete of a missing key that deleted something",
         [delete("k", 0, 10, 2, 1)], [delete("k", 0, 10, 1, 0)], 0)
    case("a deleted key still read",
         [put("k", "a", 0, 10, 2), delete("k", 20, 30, 3, 1), get("k", 40, 50, 3, [A2])],
         [put("k", "a", 0, 10, 2), delete("k", 20, 30, 3, 1), get("k", 40, 50, 3, [])], 2)
    case("create_revision wrong", [*base(), get("k", 40, 50, 3, [kv("k", "b", 3, 3, 2)])],
         [*base(), get("k", 40, 50, 3, [B3])], 2)
    case("mod_revision wrong", [*base(), get("k", 40, 50, 3, [kv("k", "b", 2, 2, 2)])],
         [*base(), get("k", 40, 50, 3, [B3])], 2)
    case("version wrong", [*base(), get("k", 40, 50, 3, [kv("k", "b", 2, 3, 1)])],
         [*base(), get("k", 40, 50, 3, [B3])], 2)
    case("version and create_revision restart after a delete",
         [put("k", "a", 0, 10, 2), delete("k", 20, 30, 3, 1), put("k", "c", 40, 50, 4),
          get("k", 60, 70, 4, [kv("k", "c", 2, 4, 2)])],
         [put("k", "a", 0, 10, 2), delete("k", 20, 30, 3, 1), put("k", "c", 40, 50, 4),
          get("k", 60, 70, 4, [kv("k", "c", 4, 4, 1)])], 3)
    two = lambda: [put("a", "1", 0, 10, 2), put("ab", "2", 20, 30, 3), put("b", "3", 40, 50, 4)]  # noqa: E731
    both = [kv("a", "1", 2, 2, 1), kv("ab", "2", 3, 3, 1)]
    case("prefix get missing a key", [*two(), get("a", 60, 70, 4, both[:1], prefix=True)],
         [*two(), get("a", 60, 70, 4, both, prefix=True)], 3)
    case("prefix get with a key outside the prefix", [*two(), get("a", 60, 70, 4, [*both, kv("b", "3", 4, 4, 1)], prefix=True)],
         [*two(), get("", 60, 70, 4, [*both, kv("b", "3", 4, 4, 1)], prefix=True)], 3)
    case("prefix get out of key order", [*two(), get("a", 60, 70, 4, both[::-1], prefix=True)],
         [*two(), get("a", 60, 70, 4, both, prefix=True)], 3)
    case("two answered writes with one revision", [put("k", "a", 0, 10, 2), put("k", "b", 20, 30, 2)],
         [put("k", "a", 0, 10, 2), put("k", "b", 20, 30, 3)], 1)
    case("a write answering revision 1 (the empty store's)", [put("k", "a", 0, 10, 1)], [put("k", "a", 0, 10, 2)], 0)
    mod2 = [{"key": "k", "target": "mod_revision", "value": 2}]
    set_t = [{"op": "put", "key": "k", "value": "t"}]
    case("txn compare on mod_revision succeeded against a newer key",
         [*base(), txn(mod2, set_t, [], 40, 50, {"revision": 4, "succeeded": True, "results": [{}]})],
         [*base(), txn(mod2, set_t, [], 40, 50, {"revision": 3, "succeeded": False, "results": []})], 2)
    for target, value in (("version", 1), ("create_revision", 3)):
        condition = [{"key": "k", "target": target, "value": value}]
        case(f"txn compare on {target} wrong",
             [*base(), txn(condition, set_t, [], 40, 50, {"revision": 4, "succeeded": True, "results": [{}]})],
             [*base(), txn(condition, set_t, [], 40, 50, {"revision": 3, "succeeded": False, "results": []})], 2)
    missing_value = [{"key": "m", "target": "value", "value": ""}]
    case("txn compare of a missing key's value succeeded",
         [txn(missing_value, set_t, [], 0, 10, {"revision": 2, "succeeded": True, "results": [{}]})],
         [txn(missing_value, set_t, [], 0, 10, {"revision": 1, "succeeded": False, "results": []})], 0)
    pair = [{"op": "put", "key": "k", "value": "t"}, {"op": "put", "key": "m", "value": "u"}, {"op": "get", "key": "k"}]
    seen = {"kvs": [kv("k", "t", 2, 2, 1)]}
    case("txn puts share one revision, and its get sees its own put",
         [txn([], pair, [], 0, 10, {"revision": 3, "succeeded": True, "results": [{}, {}, seen]})],
         [txn([], pair, [], 0, 10, {"revision": 2, "succeeded": True, "results": [{}, {}, seen]})], 0)
    case("txn's get does not see its own put",
         [txn([], pair, [], 0, 10, {"revision": 2, "succeeded": True, "results": [{}, {}, {"kvs": []}]})],
         [txn([], pair, [], 0, 10, {"revision": 2, "succeeded": True, "results": [{}, {}, seen]})], 0)
    case("an unanswered write needed twice",
         [put("k", "a", 0, None, None), get("k", 20, 30, 2, [A2]), put("k", "b", 40, 50, 3),
          get("k", 60, 70, 4, [kv("k", "a", 2, 4, 3)])],
         [put("k", "a", 0, None, None), get("k", 20, 30, 2, [A2]), put("k", "b", 40, 50, 3),
          get("k", 60, 70, 3, [B3])], 3)
    return made


CASES = cases()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("method", ["revisions", "search"])
def test_a_broken_rule_is_not_linearizable_and_its_twin_is(name: str, method: str) -> None:
    broken, fixed, fault = CASES[name]
    assert not kv_brute_force(broken) and kv_brute_force(fixed), "the case itself is wrong"
    result = check(broken, "kv", method=method)
    assert result.verdict == "not linearizable"
    assert result.violation is not None
    if method == "revisions":  # it names the operation at fault
        assert broken[fault] in [item.op for item in result.violation.unplaced], result.violation.to_json()
    assert check(fixed, "kv", method=method).verdict == "linearizable"

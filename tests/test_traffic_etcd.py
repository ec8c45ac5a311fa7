"""The etcd gateway's JSON to the kv model's and back (gofail_py/traffic/etcd.py): base64 keys and
values, int64 as strings, zero fields left out, and answers that do not make sense refused as
"no answer" (never recorded as an answer). Real etcd runs these in the etcd suite."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gofail_py.traffic.etcd import kvs_of, range_end, range_request, revision_of, txn_output, txn_request
from gofail_py.traffic.targets import NoAnswer


def b(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_prefix_becomes_a_range_and_every_key_is_nul_to_nul() -> None:
    assert range_request({"key": "key"}) == {"key": b("key")}
    assert range_request({"key": "key", "prefix": True}) == {"key": b("key"), "range_end": b("kez")}
    assert range_request({"key": "", "prefix": True}) == {"key": b("\0"), "range_end": b("\0")}
    # the last byte below 0xff is raised; 0xff bytes after it are dropped (é is c3 a9)
    assert base64.b64decode(range_end("a\u00e9")) == b"a\xc3\xaa"
    assert base64.b64decode(range_end("\U0010ffff")) == b"\xf4\x8f\xbf\xc0"


def test_omitted_fields_are_zero_and_strings_are_numbers() -> None:
    answer = {"header": {"revision": "7", "raft_term": "2"},
              "kvs": [{"key": b("k2"), "value": b("v"), "create_revision": "3", "mod_revision": "7", "version": "2"},
                      {"key": b("k1"), "create_revision": "4", "mod_revision": "4", "version": "1"}], "count": "2"}
    assert revision_of(answer) == 7
    assert kvs_of(answer) == [  # sorted by key; a value left out is the empty string
        {"key": "k1", "value": "", "create_revision": 4, "mod_revision": 4, "version": 1},
        {"key": "k2", "value": "v", "create_revision": 3, "mod_revision": 7, "version": 2}]
    assert kvs_of({"header": {"revision": "1"}}) == []  # no kvs: none


def test_a_txn_both_ways() -> None:
    input = {"compare": [{"key": "k", "target": "mod_revision", "value": 0},
                         {"key": "k", "target": "value", "value": "x"}],
             "success": [{"op": "put", "key": "k", "value": "c1.1"}, {"op": "get", "key": "k", "prefix": True}],
             "failure": [{"op": "delete", "key": "k"}]}
    assert txn_request(input) == {
        "compare": [{"key": b("k"), "result": "EQUAL", "target": "MOD", "mod_revision": "0"},
                    {"key": b("k"), "result": "EQUAL", "target": "VALUE", "value": b("x")}],
        "success": [{"request_put": {"key": b("k"), "value": b("c1.1")}},
                    {"request_range": {"key": b("k"), "range_end": b("l")}}],
        "failure": [{"request_delete_range": {"key": b("k")}}]}
    # no "succeeded": false; the failure branch's delete of a missing key: no "deleted"
    failed = {"header": {"revision": "5"}, "responses": [{"response_delete_range": {"header": {"revision": "5"}}}]}
    assert txn_output(input, failed) == {"revision": 5, "succeeded": False, "results": [{"deleted": 0}]}
    done = {"header": {"revision": "6"}, "succeeded": True, "responses": [
        {"response_put": {"header": {"revision": "6"}}},
        {"response_range": {"header": {"revision": "6"}, "kvs": [
            {"key": b("k"), "value": b("c1.1"), "create_revision": "6", "mod_revision": "6", "version": "1"}],
            "count": "1"}}]}
    assert txn_output(input, done) == {"revision": 6, "succeeded": True, "results": [
        {}, {"kvs": [{"key": "k", "value": "c1.1", "create_revision": 6, "mod_revision": 6, "version": 1}]}]}


@pytest.mark.parametrize("answer", [
    {},  # no header
    {"header": {}},  # revision 0
    {"header": {"revision": "-3"}},
    {"header": {"revision": "1e3"}},
    {"header": {"revision": True}},
    {"header": {"revision": "2"}, "kvs": "nope"},
    {"header": {"revision": "2"}, "kvs": [{"key": "%%%"}]},  # not base64
    {"header": {"revision": "2"}, "kvs": [{"key": b("k"), "version": "x"}]},
    {"header": {"revision": "2"}, "kvs": [{"key": base64.b64encode(b"\xff").decode()}]},  # not UTF-8
    {"header": {"revision": "2"}, "kvs": [7]},
])
def test_answers_that_make_no_sense_are_no_answer(answer: Any) -> None:
    with pytest.raises(NoAnswer):
        revision_of(answer)
        kvs_of(answer)


def test_a_txn_answer_that_does_not_fit_its_branch_is_no_answer() -> None:
    input = {"compare": [], "success": [{"op": "get", "key": "k"}], "failure": []}
    for answer in ({"header": {"revision": "2"}, "succeeded": True, "responses": []},
                   {"header": {"revision": "2"}, "succeeded": "yes", "responses": [{}]},
                   {"header": {"revision": "2"}, "succeeded": True, "responses": [[]]}):
        with pytest.raises(NoAnswer):
            txn_output(input, answer)

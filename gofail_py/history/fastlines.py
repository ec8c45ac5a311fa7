"""The fast path of reading a `kv` history: the exact line shapes our Recorder writes for put, get,
delete and etcd's compare-and-put txn (docs/check.md), recognised by regular expressions instead of the JSON parser.

A line is taken here only when it is, byte for byte, one of those shapes: fields in the
Recorder's order, no spaces, strings without escapes or control characters (so a string's text
is its value), integers of at most 18 digits with no sign, fraction or exponent (so ``int()`` of
the text is the value JSON gives), and it passes every check the general reader makes (a return
not before its call, a revision >= 1). Anything else (other txns, a meta field, ...) goes to the general reader
(reader.py) unchanged, which words the error of a bad line; tests/test_read_fast.py holds the
two to the same operations or the same error on random and hostile lines.

The kvs of gets are most of a history's bytes, and a key's entry recurs in many reads: each
distinct kvs text, and each distinct entry, is made once and shared between the operations
that answered it, and so is each recurring part of an input (inputs and outputs are read, never changed,
by the check and the picture)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_N = r"(0|[1-9][0-9]{0,17})"
_S = r'"([^"\\\x00-\x1f]*)"'
# an entry of a get's kvs without its braces: the kvs text is split at "},{" and each piece must be this
_ENTRY_BODY = re.compile(r'"key":' + _S + r',"value":' + _S + r',"create_revision":' + _N + r',"mod_revision":' + _N
                         + r',"version":' + _N)
# the kvs, the last field of an answer: taken whole here (one scan to the line's end), checked by kvs_of
_KVS = r"(\[.*\])"
_HEAD = re.compile(r'\{"id":' + _N + r',"client":' + _N + r',"op":"(put|get|delete|txn)","input":')
# after the input: the call, then either no answer (return and output null, an error) or an answer
_LOST = r'null,"output":null,"error":' + _S + r"\}"
_TAILS = {
    "put": re.compile(r'\{"key":' + _S + r',"value":' + _S + r'\},"call":' + _N + r',"return":(?:' + _LOST + "|"
                      + _N + r',"output":\{"revision":' + _N + r"\}\})"),
    "get": re.compile(r'\{"key":' + _S + r'(?:,"prefix":(true|false))?\},"call":' + _N + r',"return":(?:' + _LOST
                      + "|" + _N + r',"output":\{"revision":' + _N + r',"kvs":' + _KVS + r"\}\})"),
    "delete": re.compile(r'\{"key":' + _S + r'\},"call":' + _N + r',"return":(?:' + _LOST + "|" + _N
                         + r',"output":\{"revision":' + _N + r',"deleted":' + _N + r"\}\})"),
    # etcd's robustness traffic's txn: if the key's mod revision (or create revision, or version) is
    # still n, put, else get it; its answer: [{}] on success, the get's kvs on failure
    "txn": re.compile(r'\{"compare":\[\{"key":' + _S + r',"target":"(mod_revision|create_revision|version)","value":' + _N
                      + r'\}\],"success":\[\{"op":"put","key":' + _S + r',"value":' + _S
                      + r'\}\],"failure":\[\{"op":"get","key":' + _S + r'\}\]\},"call":' + _N + r',"return":(?:' + _LOST
                      + "|" + _N + r',"output":\{"revision":' + _N + r',"succeeded":(?:true,"results":\[(\{)\}\]|false,'
                      + r'"results":\[\{"kvs":' + _KVS + r"\}\])\}\})"),
}

# what a line gives: id, client, op, input, call, return, output, error (the Operation's fields)
Line = tuple[int, int, str, dict[str, Any], int, "int | None", "dict[str, Any] | None", "str | None"]


def line_parser() -> Callable[[str], Line | None]:
    """A parser of one line's text (its caches of kvs live as long as it does): the operation's
    fields, or None when the line is not one of the fast shapes (the general reader takes it)."""
    arrays: dict[str, list[dict[str, Any]]] = {}
    entries: dict[str, dict[str, Any]] = {}
    # the parts of inputs that recur, made once each: a get's or delete's input, a txn's compare and failure branch
    reads: dict[tuple[str, str | None], dict[str, Any]] = {}
    deletes: dict[str, dict[str, Any]] = {}
    compares: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    failures: dict[str, list[dict[str, Any]]] = {}
    succeeded: list[dict[str, Any]] = [{}]  # a compare-and-put txn's results on success: the same in every one
    entry_body = _ENTRY_BODY.fullmatch
    head_match, tails = _HEAD.match, {op: tail.fullmatch for op, tail in _TAILS.items()}

    def kvs_of(text: str) -> list[dict[str, Any]] | None:
        """The kvs of a text taken whole from the line, or None when it is not exactly the
        Recorder's shape: "[]" or "[{" entries joined by "},{" "}]", each entry matching
        _ENTRY_BODY (a string cut at a "},{" inside it leaves a piece that does not)."""
        kvs = arrays.get(text)
        if kvs is not None:
            return kvs
        kvs = []
        if text != "[]":
            if not (text.startswith("[{") and text.endswith("}]")):
                return None
            for piece in text[2:-2].split("},{"):
                entry = entries.get(piece)
                if entry is None:
                    fields = entry_body(piece)
                    if fields is None:
                        return None
                    key, value, create, mod, version = fields.groups()
                    entry = entries[piece] = {"key": key, "value": value, "create_revision": int(create),
                                              "mod_revision": int(mod), "version": int(version)}
                kvs.append(entry)
        arrays[text] = kvs
        return kvs

    def parse(text: str) -> Line | None:
        head = head_match(text)
        if head is None:
            return None
        id_text, client_text, op = head.groups()
        tail = tails[op](text, head.end())
        if tail is None:
            return None
        groups = tail.groups()
        input: dict[str, Any]
        if op == "put":
            key, value, call_text, error, ret_text, revision_text = groups
            input = {"key": key, "value": value}
        elif op == "get":
            key, prefix, call_text, error, ret_text, revision_text, kvs_text = groups
            shared = reads.get((key, prefix))
            if shared is None:
                shared = reads[key, prefix] = {"key": key} if prefix is None else {"key": key, "prefix": prefix == "true"}
            input = shared
        elif op == "delete":
            key, call_text, error, ret_text, revision_text, deleted_text = groups
            shared = deletes.get(key)
            if shared is None:
                shared = deletes[key] = {"key": key}
            input = shared
        else:
            key, target, expect, put_key, value, get_key, call_text, error, ret_text, revision_text, put, kvs_text = groups
            compare = compares.get((key, target, expect))
            if compare is None:
                compare = compares[key, target, expect] = [{"key": key, "target": target, "value": int(expect)}]
            failure = failures.get(get_key)
            if failure is None:
                failure = failures[get_key] = [{"op": "get", "key": get_key}]
            input = {"compare": compare, "success": [{"op": "put", "key": put_key, "value": value}], "failure": failure}
        call = int(call_text)
        if ret_text is None:  # no answer: return and output null, an error
            return int(id_text), int(client_text), op, input, call, None, None, error
        ret, revision = int(ret_text), int(revision_text)
        if ret < call or revision < 1:
            return None  # the general reader says what is wrong
        output: dict[str, Any]
        if op == "put":
            output = {"revision": revision}
        elif op == "get":
            kvs = kvs_of(kvs_text)
            if kvs is None:
                return None
            output = {"revision": revision, "kvs": kvs}
        elif op == "delete":
            output = {"revision": revision, "deleted": int(deleted_text)}
        elif put is not None:  # the success branch: its put
            output = {"revision": revision, "succeeded": True, "results": succeeded}
        else:
            kvs = kvs_of(kvs_text)
            if kvs is None:
                return None
            output = {"revision": revision, "succeeded": False, "results": [{"kvs": kvs}]}
        return int(id_text), int(client_text), op, input, call, ret, output, None

    return parse

"""The JSON text of a history line's parts, made for speed: the recorder writes one line per
operation while the clients run, and its cost is what recording adds to theirs.

``json_text`` is compact JSON (UTF-8 as is, no ASCII escapes) through the C encoder made once,
not per call as ``json.dumps`` and ``JSONEncoder.encode`` do (that set-up is half of their cost
for a small object). ``kv_input_text`` and ``kv_output_text`` format the `kv` model's shapes
field by field with f-strings: strings through the C string escaper, whole numbers with ``:d``
(which refuses anything but an int, so no text can reach the line unescaped); a dict with other
keys, or a value of another type, goes through ``json_text``. Either way the text parses back to
an equal value (a dict's key order aside), with one exception the model's shapes never meet: a
bool where a whole number goes is written 1 or 0."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

_str: Callable[[str], str] = encode_basestring  # the C escaper of ensure_ascii=False: '"' + escaped + '"'


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _c_encoder() -> Callable[[Any], str] | None:
    """json's C encoder with compact separators, made once; None when this Python has none (or one
    whose private signature differs: checked on a sample against json.dumps)."""
    try:
        c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
        if c_make_encoder is None:
            return None
        encode = c_make_encoder(None, _refuse, encode_basestring, None, ":", ",", False, False, True)

        def text(value: Any) -> str:
            return "".join(encode(value, 0))

        sample: dict[str, Any] = {"k\"é\n": [1, -2, 1.5, True, None, "\\\x00\u2028\U0001f600", {}]}
        if text(sample) != json.dumps(sample, ensure_ascii=False, separators=(",", ":")):
            return None
        return text
    except Exception:  # noqa: BLE001 - any surprise of a private API: the public encoder instead
        return None


json_text: Callable[[Any], str] = _c_encoder() or json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _kvs(kvs: Any) -> str:
    """A list of kvs: each must have the five keys (fewer: KeyError) and no more (max of the sizes)."""
    if type(kvs) is not list or (kvs and max(map(len, kvs)) != 5):
        raise TypeError("not a list of kvs")
    return ",".join([f'{{"key":{_str(kv["key"])},"value":{_str(kv["value"])},"create_revision":'
                     f'{kv["create_revision"]:d},"mod_revision":{kv["mod_revision"]:d},"version":{kv["version"]:d}}}'
                     for kv in kvs])


def _result(result: Any) -> str:
    if type(result) is not dict:
        raise TypeError("not a txn result")
    size = len(result)
    if not size:
        return "{}"
    if size == 1 and "kvs" in result:
        return f'{{"kvs":[{_kvs(result["kvs"])}]}}'
    if size == 1:
        return f'{{"deleted":{result["deleted"]:d}}}'
    raise KeyError("not a txn result")


def kv_output_text(op: str, output: Any) -> str:
    """The JSON of a `kv` operation's output (any other value: its plain JSON)."""
    try:
        size = len(output) if type(output) is dict else -1
        if op == "put" and size == 1:
            return f'{{"revision":{output["revision"]:d}}}'
        if op == "get" and size == 2:
            return f'{{"revision":{output["revision"]:d},"kvs":[{_kvs(output["kvs"])}]}}'
        if op == "delete" and size == 2:
            return f'{{"revision":{output["revision"]:d},"deleted":{output["deleted"]:d}}}'
        if op == "txn" and size == 3:
            succeeded, results = output["succeeded"], output["results"]
            if type(succeeded) is bool and type(results) is list:
                return (f'{{"revision":{output["revision"]:d},"succeeded":{"true" if succeeded else "false"},'
                        f'"results":[{",".join([_result(result) for result in results])}]}}')
    except (KeyError, TypeError, ValueError):
        pass
    return json_text(output)


def _sub(sub: dict[str, Any]) -> str:
    if type(sub) is not dict:
        raise TypeError("not a txn operation")
    kind, size = sub["op"], len(sub)
    if kind == "put" and size == 3:
        return f'{{"op":"put","key":{_str(sub["key"])},"value":{_str(sub["value"])}}}'
    if (kind == "get" or kind == "delete") and size == 2:
        return f'{{"op":"{kind}","key":{_str(sub["key"])}}}'
    return json_text(sub)


def _compare(compare: dict[str, Any]) -> str:
    if type(compare) is not dict or len(compare) != 3:
        raise KeyError("not a compare")
    target, value = compare["target"], compare["value"]
    if target == "value":
        return f'{{"key":{_str(compare["key"])},"target":"value","value":{_str(value)}}}'
    if target in ("mod_revision", "create_revision", "version"):
        return f'{{"key":{_str(compare["key"])},"target":"{target}","value":{value:d}}}'
    raise KeyError("not a compare")


def kv_input_text(op: str, input: Any) -> str:
    """The JSON of a `kv` operation's input (any other value: its plain JSON)."""
    try:
        size = len(input) if type(input) is dict else -1
        if op == "put" and size == 2:
            return f'{{"key":{_str(input["key"])},"value":{_str(input["value"])}}}'
        if (op == "get" or op == "delete") and size == 1:
            return f'{{"key":{_str(input["key"])}}}'
        if op == "txn" and size == 3:
            compare, success, failure = input["compare"], input["success"], input["failure"]
            if type(compare) is list and type(success) is list and type(failure) is list:
                return (f'{{"compare":[{",".join([_compare(c) for c in compare])}],'
                        f'"success":[{",".join([_sub(s) for s in success])}],'
                        f'"failure":[{",".join([_sub(s) for s in failure])}]}}')
    except (KeyError, TypeError, ValueError):
        pass
    return json_text(input)

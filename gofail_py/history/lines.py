"""The JSON text of history lines, made for speed: the recorder writes one line per operation
while the clients run, and its cost is what recording adds to theirs.

``history_lines`` makes the lines of a batch of ended operations at a write: in one loop, over
records whose values were not touched when the operations ended (a trusted recorder's). ``json_text``
is compact JSON (UTF-8 as is, no ASCII escapes) through the C encoder made once, not per call as
``json.dumps`` and ``JSONEncoder.encode`` do (that set-up is half of their cost for a small
object). ``kv_input_text`` and ``kv_output_text`` format the `kv` model's shapes field by field
with f-strings: strings through the C string escaper, whole numbers as ``:d`` writes them (which
refuses anything but an int, so no text can reach the line unescaped); a dict with other keys, or
a value of another type, goes through ``json_text``. Either way the text parses back to an equal
value (a dict's key order aside), with one exception the model's shapes never meet: a bool where a
whole number goes is written 1 or 0."""

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


# An integer field is written as f"{n:d}" would write it (a bool as 1 or 0, a float refused: the
# caller falls back to plain JSON), but an exact int skips the format-spec parse, a third of its cost:
# f"{n if type(n) is int else format(n, 'd')}" is that, spelled out.


def _kvs(kvs: Any) -> str:
    """A list of kvs: each must have the five keys (fewer: KeyError) and no more."""
    if type(kvs) is not list:
        raise TypeError("not a list of kvs")
    texts = []
    for kv in kvs:  # a loop, not a comprehension: its locals are not cells (a fifth faster)
        if len(kv) != 5:
            raise TypeError("not a kv")
        c, m, v = kv["create_revision"], kv["mod_revision"], kv["version"]
        texts.append(f'{{"key":{_str(kv["key"])},"value":{_str(kv["value"])},"create_revision":'
                     f'{c if type(c) is int else format(c, "d")},"mod_revision":{m if type(m) is int else format(m, "d")},'
                     f'"version":{v if type(v) is int else format(v, "d")}}}')
    return ",".join(texts)


def _results(results: list[Any]) -> str:
    """A txn's results, each {}, {"kvs": [...]} or {"deleted": n}."""
    texts = []
    for result in results:
        if type(result) is not dict:
            raise TypeError("not a txn result")
        size = len(result)
        if not size:
            texts.append("{}")
        elif size == 1 and "kvs" in result:
            texts.append(f'{{"kvs":[{_kvs(result["kvs"])}]}}')
        elif size == 1:
            deleted = result["deleted"]
            texts.append(f'{{"deleted":{deleted if type(deleted) is int else format(deleted, "d")}}}')
        else:
            raise KeyError("not a txn result")
    return ",".join(texts)


def kv_output_text(op: str, output: Any) -> str:
    """The JSON of a `kv` operation's output (any other value: its plain JSON)."""
    try:
        size = len(output) if type(output) is dict else -1
        if size < 1:
            return json_text(output)
        r = output["revision"]
        revision = r if type(r) is int else format(r, "d")
        if op == "put" and size == 1:
            return f'{{"revision":{revision}}}'
        if op == "get" and size == 2:
            return f'{{"revision":{revision},"kvs":[{_kvs(output["kvs"])}]}}'
        if op == "delete" and size == 2:
            deleted = output["deleted"]
            return f'{{"revision":{revision},"deleted":{deleted if type(deleted) is int else format(deleted, "d")}}}'
        if op == "txn" and size == 3:
            succeeded, results = output["succeeded"], output["results"]
            if type(succeeded) is bool and type(results) is list:
                return (f'{{"revision":{revision},"succeeded":{"true" if succeeded else "false"},'
                        f'"results":[{_results(results)}]}}')
    except (KeyError, TypeError, ValueError):
        pass
    return json_text(output)


def _subs(subs: list[Any]) -> str:
    """A txn branch's operations: put, get or delete of a key (any other: its plain JSON)."""
    texts = []
    for sub in subs:
        if type(sub) is not dict:
            raise TypeError("not a txn operation")
        kind, size = sub["op"], len(sub)
        if kind == "put" and size == 3:
            texts.append(f'{{"op":"put","key":{_str(sub["key"])},"value":{_str(sub["value"])}}}')
        elif (kind == "get" or kind == "delete") and size == 2:
            texts.append(f'{{"op":"{kind}","key":{_str(sub["key"])}}}')
        else:
            texts.append(json_text(sub))
    return ",".join(texts)


def _compares(compares: list[Any]) -> str:
    texts = []
    for compare in compares:
        if type(compare) is not dict or len(compare) != 3:
            raise KeyError("not a compare")
        target, value = compare["target"], compare["value"]
        if target == "value":
            texts.append(f'{{"key":{_str(compare["key"])},"target":"value","value":{_str(value)}}}')
        elif target in ("mod_revision", "create_revision", "version"):
            texts.append(f'{{"key":{_str(compare["key"])},"target":"{target}",'
                         f'"value":{value if type(value) is int else format(value, "d")}}}')
        else:
            raise KeyError("not a compare")
    return ",".join(texts)


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
                return f'{{"compare":[{_compares(compare)}],"success":[{_subs(success)}],"failure":[{_subs(failure)}]}}'
    except (KeyError, TypeError, ValueError):
        pass
    return json_text(input)


def _plain(op: str, value: Any) -> str:
    return json_text(value)


# what the Recorder hands a write: (id, call, clock, value). call None: value is the line itself,
# made and checked when its operation ended. Else call is (id, client, op, input, call time, meta,
# input text or None) and the line is made here: clock None, value is why no answer came (the
# error); else clock is the time the answer came (its return: not before its call) and value the
# output.
Record = tuple[int, "tuple[Any, ...] | None", "int | None", Any]


def history_lines(records: list[Record], kv: bool) -> list[str]:
    """Each record's line, in the order given. An input or output that JSON cannot write (a trusted
    caller's broken promise) makes that operation's line one without an answer (unwritable())."""
    input_text = kv_input_text if kv else _plain
    output_text = kv_output_text if kv else _plain
    lines: list[str] = []
    append = lines.append
    for _, call, now, value in records:
        if call is None:
            append(value)
            continue
        id, client, op, input, at, meta, text = call
        try:
            head = (f'{{"id":{id},"client":{client},"op":{_str(op) if type(op) is str else json_text(op)},'
                    f'"input":{input_text(op, input) if text is None else text},"call":{at},"return":')
            if now is None:
                line = f'{head}null,"output":null,"error":{json_text(value)}'
            else:
                line = f'{head}{now if now > at else at},"output":{output_text(op, value)}'
            if meta is not None:
                line += f',"meta":{json_text(meta)}'
        except Exception as error:  # noqa: BLE001 - whatever the encoder raised (TypeError, RecursionError, ...)
            append(unwritable(call, error))
            continue
        append(line + "}\n")
    return lines


def unwritable(call: tuple[Any, ...], error: BaseException) -> str:
    """The line of an operation whose input, output or meta JSON cannot write: no answer (it may
    or may not have taken effect), and why. A value JSON cannot write is written whole as the text
    of its repr(), which the reader then refuses as an input: the promise was broken, the check says so."""
    id, client, op, input, at, meta, _ = call
    line = (f'{{"id":{id},"client":{client},"op":{_json_or_repr(op)},"input":{_json_or_repr(input)},"call":{at},'
            f'"return":null,"output":null,'
            f'"error":{json_text(f"its answer could not be written: {type(error).__name__}: {error}")}')
    if meta is not None:
        line += f',"meta":{_json_or_repr(meta)}'
    return line + "}\n"


def _json_or_repr(value: Any) -> str:
    try:
        return json_text(value)
    except Exception:  # noqa: BLE001 - TypeError, RecursionError, ...
        return json_text(repr(value))

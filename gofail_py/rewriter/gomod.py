"""go.mod/go.sum for `enable --go-get` and `disable`: the saved state, `go get`, and undoing only what enable did."""

from __future__ import annotations

from typing import NamedTuple

import re
from pathlib import Path

from gofail_py.errors import GoModUndoError, WorkspaceError
from gofail_py.rewriter.fileio import write_atomic as _write_atomic
from gofail_py.names import GO_MOD_STATE as GO_MOD_STATE  # re-exported: in names.py so a warm enable
from gofail_py.names import RUNTIME_MODULE as RUNTIME_MODULE  # imports this module only where a
from gofail_py.names import RUNTIME_VERSION as RUNTIME_VERSION  # go.mod has to be read

# patterns, compiled by re (and cached) on first use: not at import, which every disable pays
_REQUIRE_LINE = r"^(?P<lead>\s*(?:require\s+)?)(?P<path>[^\s()/][^\s()]*)\s+(?P<version>v\S+)(?P<rest>.*)$"
_DIRECTIVE = r"^(go|toolchain)\s+(\S+)\s*$"


def write_atomic(path: Path, data: bytes, owner_of: Path | None = None) -> None:
    """fileio.write_atomic with a message instead of an OSError (a full disk, a read-only go.mod)."""
    try:
        _write_atomic(path, data, owner_of)
    except OSError as error:
        raise WorkspaceError(f"{path}: cannot write: {error.strerror}") from error


def module_root(directory: Path) -> Path | None:
    """The nearest directory at or above this one holding a go.mod."""
    for candidate in [directory.resolve(), *directory.resolve().parents]:
        if (candidate / "go.mod").is_file():
            return candidate
    return None


def _hard_links(root: Path) -> str | None:
    """Why go.mod/go.sum cannot be replaced by rename, if one of them has other names: go get
    writes them in place, the undo by rename would leave the other names as enable left them."""
    for name in ("go.mod", "go.sum"):
        try:
            links = (root / name).lstat().st_nlink
        except FileNotFoundError:
            continue
        if links > 1:
            return (f"{root / name}: has {links} hard links; undoing --go-get replaces it by rename, which would "
                    "split it from its other names: make it a single file first")
    return None


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# --- reading go.mod as text ---------------------------------------------------------------------


def requirements(go_mod: str) -> dict[str, tuple[int, str, bool]]:
    """Each required module: (line index, version, indirect), from `require` lines and blocks."""
    found: dict[str, tuple[int, str, bool]] = {}
    in_block = False
    for index, line in enumerate(go_mod.split("\n")):
        code = line.split("//")[0].strip()
        if in_block:
            if code == ")":
                in_block = False
                continue
        elif re.fullmatch(r"require\s*\(", code):
            in_block = True
            continue
        elif not code.startswith("require"):
            continue
        match = re.match(_REQUIRE_LINE, line)
        if match:
            found[match["path"]] = (index, match["version"], "// indirect" in match["rest"])
    return found


def requires_runtime(go_mod: bytes) -> bool:
    return RUNTIME_MODULE in requirements(go_mod.decode("utf-8", "replace"))


def _directives(go_mod: str) -> dict[str, str]:
    return {m[1]: m[2] for line in go_mod.split("\n") if (m := re.match(_DIRECTIVE, line.strip()))}


def _drop_lines(go_mod: str, indexes: set[int]) -> str:
    """go.mod without those requirement lines; a require block left empty goes too, with the
    blank line before it that go get had added."""
    lines = go_mod.split("\n")
    kept = [line for i, line in enumerate(lines) if i not in indexes]
    out: list[str] = []
    i = 0
    while i < len(kept):
        if re.fullmatch(r"\s*require\s*\(\s*", kept[i]) and i + 1 < len(kept) and kept[i + 1].strip() == ")":
            i += 2
            continue
        out.append(kept[i])
        i += 1
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return text.rstrip("\n") + "\n" if go_mod.endswith("\n") else text


def drop_runtime(go_mod: bytes) -> bytes:
    """go.mod without its go.etcd.io/gofail requirement (unchanged if it has none)."""
    text = go_mod.decode("utf-8")
    found = requirements(text)
    if RUNTIME_MODULE not in found:
        return go_mod
    return _drop_lines(text, {found[RUNTIME_MODULE][0]}).encode("utf-8")


# --- the saved state --------------------------------------------------------------------------


class Saved(NamedTuple):  # internal: cheaper to create than a frozen dataclass (~0.5 ms a start)
    go_mod: bytes
    go_sum: bytes | None
    after_mod: bytes | None  # None: an older state file that did not record them
    after_sum: bytes | None


class DamagedState(Exception):
    pass


def _load(state: Path) -> Saved:
    try:
        import json  # only where a state file is: not imported by most runs

        raw = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DamagedState("not valid JSON" if isinstance(error, ValueError) else str(error)) from error
    if not isinstance(raw, dict) or not isinstance(raw.get("go.mod"), str):
        raise DamagedState('expected an object with the text of "go.mod"')
    for key in ("go.sum", "after go.mod", "after go.sum"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise DamagedState(f'"{key}" is neither text nor null')

    def data(key: str) -> bytes | None:
        value = raw.get(key)
        return None if value is None else str(value).encode("utf-8")

    after_known = "after go.mod" in raw
    return Saved(raw["go.mod"].encode("utf-8"), data("go.sum"), data("after go.mod") if after_known else None, data("after go.sum"))


def _save(state: Path, before: tuple[bytes, bytes | None], after: tuple[bytes, bytes | None] | None) -> None:
    saved: dict[str, str | None] = {"go.mod": before[0].decode("utf-8"), "go.sum": None if before[1] is None else before[1].decode("utf-8")}
    if after is not None:
        saved["after go.mod"] = after[0].decode("utf-8")
        saved["after go.sum"] = None if after[1] is None else after[1].decode("utf-8")
    import json

    write_atomic(state, json.dumps(saved).encode("utf-8"), state.parent / "go.mod")


# --- enable --go-get ------------------------------------------------------------------------------


def require_runtime(root: Path) -> bool:
    """Runs `go get` of the runtime in a module, saving go.mod/go.sum first; True if this run saved
    them (an earlier `enable --go-get` whose state is still there keeps its own).

    The saved state stays until go.mod and go.sum are back as they were (by disable, or right
    here when go get fails or the run is stopped)."""
    from gofail_py.rewriter import goproc  # subprocess and signals only for --go-get

    if (why := _hard_links(root)) is not None:
        raise WorkspaceError(f"{why}; nothing was changed")
    go = goproc.find_go()
    state = root / GO_MOD_STATE
    go_mod, go_sum = root / "go.mod", root / "go.sum"
    before = (go_mod.read_bytes(), _read_optional(go_sum))
    first = not state.exists()
    if first:
        _save(state, before, None)
    try:
        goproc.run_go([go, "get", f"{RUNTIME_MODULE}@{RUNTIME_VERSION}"], root)
    except BaseException:
        if first:
            _put_back(root, before[0], before[1])
            state.unlink(missing_ok=True)
        raise
    after = (go_mod.read_bytes(), _read_optional(go_sum))
    if first:
        _save(state, before, after)
    return first


def _put_back(root: Path, go_mod: bytes, go_sum: bytes | None) -> None:
    if (root / "go.mod").read_bytes() != go_mod:
        write_atomic(root / "go.mod", go_mod)
    if go_sum is None:
        (root / "go.sum").unlink(missing_ok=True)
    elif _read_optional(root / "go.sum") != go_sum:
        write_atomic(root / "go.sum", go_sum)


def preview(root: Path) -> str:
    """The go.mod/go.sum diff `enable --go-get` would make, worked out on copies in a temp dir."""
    import difflib
    import shutil
    import tempfile

    from gofail_py.rewriter import goproc

    go = goproc.find_go()
    with tempfile.TemporaryDirectory(prefix="gofail-py-preview-") as temp:
        copy = Path(temp)
        for name in ("go.mod", "go.sum"):
            if (root / name).exists():
                shutil.copyfile(root / name, copy / name)
        goproc.run_go([go, "get", f"{RUNTIME_MODULE}@{RUNTIME_VERSION}"], copy)
        chunks = []
        for name in ("go.mod", "go.sum"):
            old, new = _read_optional(root / name), _read_optional(copy / name)
            chunks.append("".join(difflib.unified_diff(
                (old or b"").decode("utf-8", "replace").splitlines(keepends=True),
                (new or b"").decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"a/{root / name}" if old is not None else "/dev/null", tofile=f"b/{root / name}",
            )))
        return "".join(chunks)


# --- disable ---------------------------------------------------------------------------------------


def restore(root: Path) -> str | None:
    """Undoes `enable --go-get` in one module; what it did, or None when there was nothing to undo.

    go.mod and go.sum unchanged since enable: both as they were, byte for byte. Changed since:
    only enable's own change is undone and the rest kept. Raises GoModUndoError (go.mod left
    as it is) when that cannot be done safely."""
    state = root / GO_MOD_STATE
    if not state.exists():
        return None
    go_mod, go_sum = root / "go.mod", root / "go.sum"
    if (why := _hard_links(root)) is not None:
        raise GoModUndoError(f"{why}; go.mod and go.sum were left as they are, and what enable saved stays for the next disable")
    current = (go_mod.read_bytes(), _read_optional(go_sum))
    try:
        saved = _load(state)
    except DamagedState as error:
        return _damaged(root, state, str(error))
    if current == (saved.go_mod, saved.go_sum) or (saved.after_mod is not None and current == (saved.after_mod, saved.after_sum)):
        _put_back(root, saved.go_mod, saved.go_sum)
        state.unlink()
        return f"restored {go_mod} and go.sum as they were before --go-get"
    new_mod, dropped, notes = _undo_go_mod(saved, current[0].decode("utf-8"))
    new_sum = _undo_go_sum(saved, current[1], dropped, in_doubt=_user_added(saved, current[0]))
    if new_mod.encode("utf-8") != current[0]:
        write_atomic(go_mod, new_mod.encode("utf-8"))
    if new_sum != current[1]:
        if new_sum is None:
            go_sum.unlink(missing_ok=True)
        else:
            write_atomic(go_sum, new_sum)
    state.unlink()
    notes.insert(0, f"{go_mod} changed since enable --go-get: undid only enable's change and kept the rest")
    return "; ".join(notes)


def _damaged(root: Path, state: Path, why: str) -> str:
    go_mod = root / "go.mod"
    current = go_mod.read_bytes()
    dropped = drop_runtime(current)
    if dropped != current:
        write_atomic(go_mod, dropped)
    state.unlink()
    did = f"dropped {RUNTIME_MODULE} from {go_mod}" if dropped != current else f"{go_mod} does not require {RUNTIME_MODULE}"
    raise GoModUndoError(
        f"{state}: damaged ({why}), so go.mod and go.sum could not be restored as saved; "
        f"{did}; check go.mod and go.sum by hand (e.g. `git diff go.mod go.sum`, `go mod tidy`); "
        "the damaged file was deleted"
    )


def _user_added(saved: Saved, current_mod: bytes) -> bool:
    """True when go.mod now requires modules that it did not right after enable."""
    reference = (saved.after_mod or saved.go_mod).decode("utf-8")
    return bool(set(requirements(current_mod.decode("utf-8"))) - set(requirements(reference)) - {RUNTIME_MODULE})


def _undo_go_mod(saved: Saved, current: str) -> tuple[str, set[str], list[str]]:
    """go.mod without what enable added; the modules dropped; notes for the user."""
    before = requirements(saved.go_mod.decode("utf-8"))
    after = requirements(saved.after_mod.decode("utf-8")) if saved.after_mod is not None else {}
    now = requirements(current)
    notes: list[str] = []
    drop: set[int] = set()
    dropped: set[str] = set()
    if RUNTIME_MODULE in now:
        if RUNTIME_MODULE not in before:
            drop.add(now[RUNTIME_MODULE][0])
            dropped.add(RUNTIME_MODULE)
            notes.append(f"dropped {RUNTIME_MODULE} {now[RUNTIME_MODULE][1]}")
        elif now[RUNTIME_MODULE][1] != before[RUNTIME_MODULE][1]:
            raise GoModUndoError(
                f"go.mod required {RUNTIME_MODULE} {before[RUNTIME_MODULE][1]} before enable and "
                f"{now[RUNTIME_MODULE][1]} now; putting the old version back could break what changed since: "
                "set it by hand (`go get`), then delete " + GO_MOD_STATE + "; go.mod was left as it is"
            )
    for path, (_, version, _) in after.items():
        if path == RUNTIME_MODULE or path not in now:
            continue
        if path not in before and now[path][1] == version and now[path][2]:
            drop.add(now[path][0])  # pulled in by enable, still only indirect
            dropped.add(path)
            notes.append(f"dropped {path} {version} (pulled in by enable)")
        elif path in before and before[path][1] != version and now[path][1] == version:
            raise GoModUndoError(
                f"enable raised {path} from {before[path][1]} to {version} and go.mod changed since; whether "
                "your changes need the newer version cannot be told from here: set it by hand, then delete "
                f"{GO_MOD_STATE}; go.mod was left as it is"
            )
    if saved.after_mod is not None:
        current = _undo_directives(saved, current, drop, notes)
    return (_drop_lines(current, drop) if drop else current), dropped, notes


def _undo_directives(saved: Saved, current: str, drop: set[int], notes: list[str]) -> str:
    """Puts back a `go`/`toolchain` line enable changed, unless go.mod gained requirements since
    (they may need the newer one): then it is kept and the notes say so."""
    old, new, cur = (_directives(t) for t in (saved.go_mod.decode("utf-8"), saved.after_mod.decode("utf-8") if saved.after_mod else "", current))
    lines = current.split("\n")
    for key in ("go", "toolchain"):
        if old.get(key) == new.get(key) or cur.get(key) != new.get(key):
            continue
        if _user_added(saved, current.encode("utf-8")):
            notes.append(f"kept `{key} {new[key]}` (enable changed it from {old.get(key, 'none')}; the requirements added since may need it)")
            continue
        index = next(i for i, line in enumerate(lines) if (m := re.match(_DIRECTIVE, line.strip())) and m[1] == key)
        if key in old:
            lines[index] = lines[index].replace(new[key], old[key], 1)
        else:
            drop.add(index)
        notes.append(f"put back `{key} {old[key]}`" if key in old else f"dropped the `{key}` line enable added")
    return "\n".join(lines)


def _undo_go_sum(saved: Saved, current: bytes | None, dropped: set[str], in_doubt: bool) -> bytes | None:
    """go.sum without the lines enable added for the modules dropped from go.mod. When in doubt
    (go.mod gained other requirements, which may need them) every line is kept."""
    if current is None or saved.after_sum is None or in_doubt or not dropped:
        return current
    before = set((saved.go_sum or b"").splitlines())
    names = {name.encode() for name in dropped}
    added = {line for line in saved.after_sum.splitlines() if line not in before and line.split(b" ")[0] in names}
    kept = [line for line in current.splitlines(keepends=True) if line.rstrip(b"\r\n") not in added]
    if not kept and saved.go_sum is None:
        return None
    return b"".join(kept)

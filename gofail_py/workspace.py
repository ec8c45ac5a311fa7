"""The rewriter's only contact with disk: paths and patterns, validate-all-then-write, atomic writes, bindings, go.mod."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gofail_py import cache as result_cache
from gofail_py import rewrite
from gofail_py.errors import GofailError, GoToolError, MarkerError, MarkerErrors, WorkspaceError
from gofail_py.markers import Failpoint, FileMarkers, may_hold_markers

PathArg = str | os.PathLike[str]

RUNTIME_MODULE = "go.etcd.io/gofail"
RUNTIME_VERSION = "v0.2.0"
GO_MOD_STATE = ".gofail-py-gomod.json"  # go.mod/go.sum as they were before `enable --go-get`
_TEMP_INFIX = ".gofail-py-"
_STALE_TEMP = re.compile(r"^\..+\.gofail-py-[A-Za-z0-9_]+\.tmp$")
_SKIPPED_DIRS = ("vendor", "testdata")
_PACKAGE_CLAUSE = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?[ \t]*package[ \t]+\w")


@dataclass(frozen=True)
class FileChange:
    """One file's bytes before and after; None means the file does not exist on that side."""

    path: Path
    old: bytes | None
    new: bytes | None

    @property
    def kind(self) -> str:
        return "create" if self.old is None else "delete" if self.new is None else "rewrite"


@dataclass(frozen=True)
class LocatedFailpoint:
    """A failpoint with the file and package it is in."""

    path: Path
    package: str
    failpoint: Failpoint

    def as_dict(self) -> dict[str, object]:
        fp = self.failpoint
        return {
            "name": fp.name,
            "type": fp.type,
            "file": str(self.path),
            "line": fp.line,
            "package": self.package,
            "enabled": fp.enabled,
            "body": list(fp.body),
        }


@dataclass
class Plan:
    """What a run would change, worked out without touching anything."""

    changes: list[FileChange] = field(default_factory=list)
    failpoints: list[LocatedFailpoint] = field(default_factory=list)
    files_scanned: int = 0
    stale_temp_files: list[Path] = field(default_factory=list)
    module_roots: list[Path] = field(default_factory=list)

    def diff(self) -> str:
        """The plan as a unified diff."""
        import difflib

        chunks = []
        for change in self.changes:
            old = (change.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
            new = (change.new or b"").decode("utf-8", "replace").splitlines(keepends=True)
            chunks.append(
                "".join(
                    difflib.unified_diff(
                        old,
                        new,
                        fromfile="/dev/null" if change.old is None else f"a/{change.path}",
                        tofile="/dev/null" if change.new is None else f"b/{change.path}",
                    )
                )
            )
        return "".join(chunks)


# --- finding files -----------------------------------------------------------------------------


@dataclass
class _Found:
    # Files are path strings, written as pathlib would (`a/b.go`, not `./a/b.go`): on big trees a
    # Path per file costs more than reading it.
    files: list[str] = field(default_factory=list)
    links: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)
    entries: dict[str, os.DirEntry[str]] = field(default_factory=dict)  # files met in a scan, for their stat
    names: set[str] = field(default_factory=set)  # every .go path met in a scan, links included
    dirs: set[str] = field(default_factory=set)  # the directories scanned
    binding_dirs: set[str] = field(default_factory=set)  # ... that hold a file named like a binding


def _scan_dir(directory: str, found: _Found) -> list[str]:
    """Adds a directory's Go files; returns its subdirectories that `...` would enter."""
    subdirs = []
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as error:
        raise WorkspaceError(f"{directory}: cannot read directory: {error.strerror}") from error
    found.dirs.add(directory)
    prefix = "" if directory == "." else directory if directory.endswith("/") else directory + "/"
    for entry in entries:
        name = entry.name
        path = prefix + name
        if entry.is_dir(follow_symlinks=False):
            if not name.startswith((".", "_")) and name not in _SKIPPED_DIRS:
                subdirs.append(path)
        elif name.startswith((".", "_")):  # the go tool ignores such files
            if _STALE_TEMP.match(name):
                found.stale.append(Path(path))
        elif name.endswith(".go"):
            found.names.add(path)
            if name.endswith((".fail.go", ".fail_test.go")):
                found.binding_dirs.add(directory)
            if entry.is_symlink():
                found.links.append(Path(path))
            else:
                found.files.append(path)
                found.entries[path] = entry
    return subdirs


def find_go_files(paths: Sequence[PathArg]) -> _Found:
    """The Go files named by files, package directories and `DIR/...` patterns (as `go` reads them)."""
    found = _Found()
    for arg in paths or ["."]:
        text = os.fspath(arg)
        recursive = text == "..." or text.endswith("/...")
        path = Path(text[: -len("...")] or ".") if recursive else Path(text)
        if not path.exists() and not path.is_symlink():
            raise WorkspaceError(f"{text}: no such file or directory")
        if path.is_dir():
            pending = [str(path)]
            while pending:
                subdirs = _scan_dir(pending.pop(), found)
                if recursive:
                    pending.extend(reversed(subdirs))
        elif path.suffix != ".go":
            raise WorkspaceError(f"{text}: not a Go file (expected a .go file, a directory or DIR/...)")
        elif path.is_symlink():
            found.links.append(path)
        else:
            found.files.append(str(path))
    found.files = list(dict.fromkeys(found.files))
    return found


# --- reading and checking ----------------------------------------------------------------------


def _read_whole(path: PathArg, size: int | None = None) -> bytes:
    """A file's bytes: one open, one read of its size if known (else 64 KiB), no file object."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        first = 1 << 16 if size is None else size + 1
        data = os.read(fd, first)
        if len(data) == first:
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


def _read_source(path: PathArg, size: int | None = None) -> bytes:
    try:
        data = _read_whole(path, size)
    except OSError as error:
        raise WorkspaceError(f"{path}: cannot read: {error.strerror}") from error
    if b"\0" in data:
        raise WorkspaceError(f"{path}: binary data in a .go file; not Go source")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise MarkerError(str(path), line, column, "invalid UTF-8; Go source must be UTF-8") from error
    if data.strip() and not _PACKAGE_CLAUSE.search(data):
        raise WorkspaceError(f"{path}: no package clause; not a Go source file")
    return data


def _check_links(found: _Found) -> None:
    """A link to a file elsewhere is never written through: refuse it when it holds markers."""
    if not found.links:
        return
    real_files = {Path(f).resolve() for f in found.files}
    for link in found.links:
        target = link.resolve()
        if target in real_files or not target.exists():
            continue
        if may_hold_markers(target.read_bytes()):
            raise WorkspaceError(
                f"{link}: symbolic link to {target}, which holds gofail markers; gofail-py does not "
                "write through links: give the target's own directory instead"
            )


def _may_have_binding(found: _Found, path: str) -> bool:
    """Whether a binding file of this file may exist; the scan of its directory tells, if any."""
    directory, _, name = path.rpartition("/")
    directory = directory or "."
    if directory not in found.binding_dirs:
        return directory not in found.dirs
    prefix = "" if directory == "." else directory + "/"
    return any(prefix + candidate in found.names for candidate in (rewrite.binding_file_name(name), name.split(".go")[0] + ".fail.go"))


def _collect(
    paths: Sequence[PathArg], transform: Callable[[bytes, str], rewrite.RewriteResult], use_cache: bool = True
) -> tuple[Plan, list[tuple[Path, bytes, rewrite.RewriteResult]]]:
    found = find_go_files(paths)
    _check_links(found)
    plan = Plan(files_scanned=len(found.files), stale_temp_files=found.stale)
    results = []
    errors: list[MarkerError] = []
    problems: list[GofailError] = []
    store = result_cache.Store() if use_cache else None
    known_plain: dict[str, result_cache.Signature] = {}
    if store is not None:
        index, known_plain, trusted_before = store.plain_files("\0".join([os.getcwd(), *[str(os.fspath(p)) for p in paths or ["."]]]))
    plain: dict[str, result_cache.Signature] = {}
    racy = False
    for path in found.files:
        signature = None
        entry = found.entries.get(path)
        if store is not None and entry is not None:
            # stat before read: a file changed in between gets a signature that no longer matches
            try:  # the signature (result_cache.Signature), built inline: this loop runs per file
                stat = entry.stat(follow_symlinks=False)
                signature = (stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            except OSError:
                pass
            if signature is not None and known_plain.get(path) == signature and not (found.binding_dirs and _may_have_binding(found, path)):
                # git's racy-timestamp rule: trusted only if older than the recording run's start
                if signature[3] < trusted_before and signature[4] < trusted_before:
                    plain[path] = signature  # unchanged since a read found no gofail text in it
                    continue
                racy = True  # read it; recorded again by this run, it will be trusted next time
        try:
            source = _read_source(path, None if signature is None else signature[2])
            if not may_hold_markers(source):
                if signature is not None:
                    plain[path] = signature
                if not (found.binding_dirs or entry is None) or not _may_have_binding(found, path):
                    continue  # nothing to rewrite and no binding to look at
                result = transform(source, path)
            elif rewrite.is_binding_file(source):
                continue
            elif store is not None:
                result = store.rewrite(transform.__name__, transform, source, path)
            else:
                result = transform(source, path)
        except MarkerErrors as error:
            errors.extend(error.errors)
            continue
        except MarkerError as error:
            errors.append(error)
            continue
        except WorkspaceError as error:
            problems.append(error)
            continue
        located = Path(path)
        results.append((located, source, result))
        for fp in result.markers.failpoints:
            plan.failpoints.append(LocatedFailpoint(located, result.markers.package or "", fp))
    if store is not None and (racy or plain != known_plain):
        store.save_plain_files(index, plain)
    if errors and not problems:
        raise MarkerErrors(errors)
    if problems:
        if len(problems) == 1 and not errors:
            raise problems[0]
        raise WorkspaceError("\n".join([str(e) for e in errors] + [str(p) for p in problems]))
    return plan, results


def _check_unique_names(failpoints: Iterable[LocatedFailpoint]) -> None:
    """The runtime registers names binary-wide and panics at start-up on a duplicate."""
    first: dict[str, LocatedFailpoint] = {}
    errors = []
    for located in failpoints:
        fp = located.failpoint
        if fp.name in first:
            other = first[fp.name]
            errors.append(
                MarkerError(
                    str(located.path),
                    fp.line,
                    fp.column,
                    f"failpoint name {fp.name!r} is used twice (also at {other.path}:{other.failpoint.line}:"
                    f"{other.failpoint.column}); the gofail runtime panics at start-up on a duplicate name",
                )
            )
        else:
            first[fp.name] = located
    if errors:
        raise MarkerErrors(errors)


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def plan_enable(paths: Sequence[PathArg], cache: bool = True) -> Plan:
    """Every change enabling the failpoints under the paths; raises before anything is written."""
    plan, results = _collect(paths, rewrite.enable_source, cache)
    _check_unique_names(plan.failpoints)
    bindings, sources = [], []
    for path, source, result in results:
        binding = result.binding
        if binding is not None:
            binding_path = path.with_name(rewrite.binding_file_name(path.name))
            existing = _read_optional(binding_path)
            if existing is not None and not rewrite.is_binding_file(existing):
                raise WorkspaceError(
                    f"{binding_path}: exists and was not generated by gofail; enable would overwrite it"
                )
            if existing != binding:
                bindings.append(FileChange(binding_path, existing, binding))
        if result.changed:
            sources.append(FileChange(path, source, result.source))
    # Bindings first: a binding alone still compiles, enabled code without its binding does not.
    plan.changes = bindings + sources
    return plan


def plan_disable(paths: Sequence[PathArg], cache: bool = True) -> Plan:
    """Every change turning enabled failpoints back into comments and removing their bindings."""
    plan, results = _collect(paths, rewrite.disable_source, cache)
    sources, removals = [], []
    for path, source, result in results:
        if result.changed:
            sources.append(FileChange(path, source, result.source))
        # A test file enabled by the Go gofail has its binding at `F_test.fail.go`, ours at `F.fail_test.go`.
        names = dict.fromkeys([rewrite.binding_file_name(path.name), path.name.split(".go")[0] + ".fail.go"])
        for name in names:
            binding_path = path.with_name(name)
            existing = _read_optional(binding_path)
            if existing is not None and rewrite.is_binding_file(existing) and not binding_path.is_symlink():
                removals.append(FileChange(binding_path, existing, None))
    plan.changes = sources + removals
    return plan


# --- writing -------------------------------------------------------------------------------------


def _stage(path: Path, data: bytes, sync: bool) -> Path:
    """Writes data to a temp file beside path, with path's mode; the caller renames it."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    temp = path.parent / f".{path.name}{_TEMP_INFIX}{os.urandom(6).hex()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        os.chmod(temp, mode)
    except BaseException:
        _unlink_quietly(temp)
        raise
    return temp


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_atomic(path: Path, data: bytes) -> None:
    """Writes through a temp file in the same directory and a rename, keeping the file's mode."""
    temp = _stage(path, data, sync=True)
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise


def _check_writable(plan: Plan) -> None:
    """Tries what the writes will need, since permission bits do not tell (root, immutable files,
    read-only mounts): a temp file in each directory, and opening each file it replaces."""
    for directory in sorted({change.path.parent for change in plan.changes}):
        probe = directory / f".gofail-py-probe{_TEMP_INFIX}{os.urandom(6).hex()}.tmp"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
        except OSError as error:
            raise WorkspaceError(f"{directory}: cannot write in this directory ({error.strerror}); nothing was changed") from error
    for change in plan.changes:
        if change.old is None:
            continue
        try:
            os.close(os.open(change.path, os.O_WRONLY))
        except OSError as error:
            raise WorkspaceError(f"{change.path}: cannot write this file ({error.strerror}); nothing was changed") from error


def apply(plan: Plan) -> None:
    """Carries out a plan: stale temp files of an interrupted run go first, then each change."""
    _check_writable(plan)
    for stale in plan.stale_temp_files:
        stale.unlink(missing_ok=True)
    # Every new file is written whole to a temp file before any is renamed: SIGKILL leaves each
    # file old or new, a full disk leaves all old. No fsync, as the Go gofail: per file or per
    # directory it cost more than the rest of a run on big trees (figures in docs/speed.md).
    staged: dict[Path, Path] = {}
    try:
        for change in plan.changes:
            if change.new is not None:
                staged[change.path] = _stage(change.path, change.new, sync=False)
        for change in plan.changes:
            if change.new is None:
                change.path.unlink(missing_ok=True)
            else:
                os.replace(staged.pop(change.path), change.path)
    except BaseException:
        for temp in staged.values():
            _unlink_quietly(temp)
        raise


# --- go.mod ----------------------------------------------------------------------------------


def module_root(directory: Path) -> Path | None:
    """The nearest directory at or above this one holding a go.mod."""
    for candidate in [directory.resolve(), *directory.resolve().parents]:
        if (candidate / "go.mod").is_file():
            return candidate
    return None


def _module_roots(paths: Sequence[PathArg]) -> list[Path]:
    roots = []
    for arg in paths or ["."]:
        text = os.fspath(arg)
        base = Path(text[: -len("...")] or ".") if text == "..." or text.endswith("/...") else Path(text)
        root = module_root(base if base.is_dir() else base.parent)
        if root is not None and root not in roots:
            roots.append(root)
    return roots


def require_runtime(root: Path, go: str = "go") -> bool:
    """Runs `go get` of the runtime in a module, saving go.mod/go.sum first; True if it changed them."""
    import json
    import subprocess

    state = root / GO_MOD_STATE
    go_mod, go_sum = root / "go.mod", root / "go.sum"
    before = (go_mod.read_bytes(), _read_optional(go_sum))
    if not state.exists():
        saved = {"go.mod": before[0].decode("utf-8"), "go.sum": None if before[1] is None else before[1].decode("utf-8")}
        write_atomic(state, json.dumps(saved).encode("utf-8"))
    env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN=os.environ.get("GOTOOLCHAIN", "local"))
    try:
        subprocess.run(
            [go, "get", f"{RUNTIME_MODULE}@{RUNTIME_VERSION}"], cwd=root, env=env, check=True, capture_output=True, text=True
        )
    except FileNotFoundError as error:
        raise GoToolError(f"--go-get needs the go command, which is not on PATH ({go})") from error
    except subprocess.CalledProcessError as error:
        restore_go_mod(root)
        raise GoToolError(f"{root}: go get {RUNTIME_MODULE}@{RUNTIME_VERSION} failed:\n{error.stderr.strip()}") from error
    return (go_mod.read_bytes(), _read_optional(go_sum)) != before


def restore_go_mod(root: Path) -> bool:
    """Puts back go.mod/go.sum as `enable --go-get` found them; True if there was anything to restore."""
    import json

    state = root / GO_MOD_STATE
    if not state.exists():
        return False
    saved = json.loads(state.read_text(encoding="utf-8"))
    write_atomic(root / "go.mod", saved["go.mod"].encode("utf-8"))
    if saved["go.sum"] is None:
        (root / "go.sum").unlink(missing_ok=True)
    else:
        write_atomic(root / "go.sum", saved["go.sum"].encode("utf-8"))
    state.unlink()
    return True


# --- the operations the CLI offers -----------------------------------------------------------------


def enable(paths: Sequence[PathArg], *, dry_run: bool = False, go_get: bool = False, cache: bool = True) -> Plan:
    """Enables every failpoint under the paths; validates everything before writing anything."""
    plan = plan_enable(paths, cache)
    if dry_run:
        return plan
    if go_get:
        plan.module_roots = _module_roots(paths)
        if not plan.module_roots:
            raise WorkspaceError("--go-get: no go.mod found at or above the given paths")
        for root in plan.module_roots:
            require_runtime(root)
    apply(plan)
    return plan


def disable(paths: Sequence[PathArg], *, dry_run: bool = False, cache: bool = True) -> Plan:
    """Disables every failpoint under the paths and restores go.mod/go.sum saved by --go-get."""
    plan = plan_disable(paths, cache)
    if dry_run:
        return plan
    apply(plan)
    plan.module_roots = [root for root in _module_roots(paths) if restore_go_mod(root)]
    return plan


def list_failpoints(paths: Sequence[PathArg], cache: bool = True) -> list[LocatedFailpoint]:
    """Every failpoint under the paths, enabled or not, in file and line order."""
    plan, _ = _collect(paths, _markers_only, cache)
    return plan.failpoints


def enabled_files(paths: Sequence[PathArg], cache: bool = True) -> list[Path]:
    """Files under the paths that hold enabled failpoint code, or are binding files."""
    found = find_go_files(paths)
    store = result_cache.Store() if cache else None
    enabled = []
    for path in found.files:
        source = _read_source(path)
        if rewrite.is_binding_file(source):
            enabled.append(Path(path))
        elif may_hold_markers(source):
            result = store.rewrite("_markers_only", _markers_only, source, path) if store else _markers_only(source, path)
            if result.markers.is_enabled:
                enabled.append(Path(path))
    return enabled


def _markers_only(source: bytes, path: str) -> rewrite.RewriteResult:
    from gofail_py.markers import find_markers

    return rewrite.RewriteResult(source, find_markers(source, path), changed=False)


__all__ = [
    "FileChange",
    "FileMarkers",
    "LocatedFailpoint",
    "Plan",
    "apply",
    "disable",
    "enable",
    "enabled_files",
    "find_go_files",
    "list_failpoints",
    "plan_disable",
    "plan_enable",
    "restore_go_mod",
    "write_atomic",
]

"""The rewriter's runs on disk: plan every change (validate all), then write all or nothing, one run per module."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from gofail_py.rewriter import cache as result_cache
from gofail_py.rewriter import modules, rewrite, runlock
from gofail_py.rewriter.collect import LocatedFailpoint, collect, scan
from gofail_py.errors import GoModUndoError, MarkerError, MarkerErrors, WorkspaceError
from gofail_py.rewriter.fileio import FileChange, apply_changes, discard, is_regular, stage_changes, write_atomic
from gofail_py.rewriter.gofiles import Found, PathArg, find_go_files, read_source
from gofail_py.rewriter.markers import FileMarkers, may_hold_markers
from gofail_py.names import GO_MOD_STATE, RUNTIME_MODULE, RUNTIME_VERSION


class Plan:
    """What a run would change, worked out without touching anything."""

    # a plain class: a dataclass costs ~0.4 ms of every run to make
    def __init__(self, changes: list[FileChange] | None = None, failpoints: list[LocatedFailpoint] | None = None,
                 files_scanned: int = 0, stale_temp_files: list[Path] | None = None,
                 module_roots: list[Path] | None = None, go_mod_notes: list[str] | None = None,
                 go_mod_diff: str = "") -> None:
        self.changes: list[FileChange] = [] if changes is None else changes
        self.failpoints: list[LocatedFailpoint] = [] if failpoints is None else failpoints
        self.files_scanned = files_scanned
        self.stale_temp_files: list[Path] = [] if stale_temp_files is None else stale_temp_files
        self.module_roots: list[Path] = [] if module_roots is None else module_roots
        self.go_mod_notes: list[str] = [] if go_mod_notes is None else go_mod_notes  # what was done to go.mod/go.sum
        self.go_mod_diff = go_mod_diff  # for --dry-run --go-get

    def __repr__(self) -> str:
        return (f"Plan({len(self.changes)} changes, {len(self.failpoints)} failpoints, "
                f"{self.files_scanned} files scanned)")

    @property
    def files_with_failpoints(self) -> int:
        return len({located.path for located in self.failpoints})

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


def _collect(
    paths: Sequence[PathArg], transform: Callable[[bytes, str], rewrite.RewriteResult], use_cache: bool = True,
    found: Found | None = None,
) -> tuple[Plan, list[tuple[Path, bytes, rewrite.RewriteResult]]]:
    found, results, failpoints = collect(paths, transform, use_cache, found)
    return Plan(failpoints=failpoints, files_scanned=len(found.files), stale_temp_files=found.stale), results


def _check_unique_names(failpoints: Iterable[LocatedFailpoint], sources: dict[Path, bytes] | None = None) -> None:
    """The runtime registers names binary-wide and panics at start-up on a duplicate; one name
    may stand in two files that never build together (`//go:build linux` and `!linux`): their
    bindings carry those constraints (sources: the files' bytes, to read them from)."""
    seen: dict[str, list[LocatedFailpoint]] = {}
    errors = []
    for located in failpoints:
        fp = located.failpoint
        others = seen.setdefault(fp.name, [])
        clash = next((other for other in others if not _apart(other.path, located.path, sources)), None)
        others.append(located)
        if clash is not None:
            errors.append(
                MarkerError(
                    str(located.path),
                    fp.line,
                    fp.column,
                    f"failpoint name {fp.name!r} is used twice (also at {clash.path}:{clash.failpoint.line}:"
                    f"{clash.failpoint.column}); the gofail runtime panics at start-up on a duplicate name",
                )
            )
    if errors:
        raise MarkerErrors(errors)


def _apart(first: Path, second: Path, sources: dict[Path, bytes] | None) -> bool:
    """Whether two files' build constraints never hold together (never for one file with itself)."""
    if first == second or sources is None or first not in sources or second not in sources:
        return False
    from gofail_py.rewriter.buildtags import apart, file_constraint

    return apart(file_constraint(sources[first], first.name), file_constraint(sources[second], second.name))


def _read_optional(path: Path) -> bytes | None:
    """A binding file's bytes, None when there is none; never opens a FIFO or device."""
    if not path.exists() and not path.is_symlink():
        return None
    if not is_regular(path):
        raise WorkspaceError(f"{path}: exists and is not a regular file; gofail-py will not touch it")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def plan_enable(paths: Sequence[PathArg], cache: bool = True, found: Found | None = None) -> Plan:
    """Every change enabling the failpoints under the paths; raises before anything is written."""
    plan, results = _collect(paths, rewrite.enable_source, cache, found)
    _check_unique_names(plan.failpoints, {path: source for path, source, _ in results})
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
                bindings.append(FileChange(binding_path, existing, binding, owner_of=path))
        if result.changed:
            sources.append(FileChange(path, source, result.source))
    # Bindings first: a binding alone still compiles, enabled code without its binding does not.
    plan.changes = bindings + sources
    return plan


def plan_disable(paths: Sequence[PathArg], cache: bool = True, found: Found | None = None) -> Plan:
    """Every change turning enabled failpoints back into comments and removing their bindings."""
    plan, results = _collect(paths, rewrite.disable_source, cache, found)
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


# --- the operations the CLI offers -----------------------------------------------------------------


def _modules_of(plan: Plan) -> list[Path]:
    """The modules the failpoints' files belong to (a go.work's modules below are found each by
    its own go.mod); a file in no module is an error for --go-get."""
    roots: list[Path] = []
    orphans: list[str] = []
    module_root = modules.shared_roots()
    for path in dict.fromkeys(located.path for located in plan.failpoints):
        root = module_root(path.parent)
        if root is None:
            orphans.append(str(path))
        elif root not in roots:
            roots.append(root)
    if orphans:
        raise WorkspaceError("--go-get: no go.mod at or above " + ", ".join(orphans[:5])
                             + (f" and {len(orphans) - 5} more" if len(orphans) > 5 else "") + "; nothing was changed")
    return roots


def _apply(plan: Plan, staged: dict[Path, str] | None = None) -> None:
    """Stages every change (all checks), removes stale temp files, then renames all into place."""
    if staged is None:
        staged = stage_changes(plan.changes)
    try:
        for stale in plan.stale_temp_files:
            stale.unlink(missing_ok=True)
    except BaseException:
        discard(staged)
        raise
    apply_changes(plan.changes, staged)


def apply(plan: Plan) -> None:
    """Carries out a plan, all or nothing: stale temp files of an interrupted run go first."""
    _apply(plan)


def enable(paths: Sequence[PathArg], *, dry_run: bool = False, go_get: bool = False, cache: bool = True) -> Plan:
    """Enables every failpoint under the paths; validates everything before writing anything. A
    file edited while it runs stops it with nothing changed and the edit kept (ConcurrentEdit)."""
    found = scan(paths, cache)
    with runlock.hold(modules.lock_keys(paths, found)):
        plan = plan_enable(paths, cache, found)
        roots = _modules_of(plan) if go_get else []
        if roots:  # --go-get: go.mod editing
            from gofail_py.rewriter import gomod
        if dry_run:
            plan.go_mod_diff = "".join(gomod.preview(root) for root in roots)
            return plan
        staged = stage_changes(plan.changes)  # every check, before go.mod is touched
        plan.module_roots = roots
        saved: list[Path] = []  # modules whose go.mod this run changed first: a failure puts them back
        try:
            for root in roots:
                if _go_mod_step(gomod.require_runtime, root):
                    saved.append(root)
            _apply(plan, staged)
        except BaseException:
            discard(staged)
            for root in saved:
                _go_mod_step(gomod.restore, root)
            raise
        return plan


def disable(paths: Sequence[PathArg], *, dry_run: bool = False, cache: bool = True) -> Plan:
    """Disables every failpoint under the paths and undoes what --go-get did to go.mod/go.sum
    (a file edited while it runs: ConcurrentEdit, as for enable)."""
    from gofail_py.rewriter import gomod  # every disable undoes what --go-get did, where it did

    found = scan(paths, cache)
    with runlock.hold(modules.lock_keys(paths, found)):
        plan = plan_disable(paths, cache, found)
        if dry_run:
            return plan
        _apply(plan)
        problems: list[str] = []
        for root in _go_mod_roots(paths, plan):
            try:
                note = _go_mod_step(gomod.restore, root)
            except GoModUndoError as error:
                problems.append(str(error))
                continue
            if note is not None:
                plan.module_roots.append(root)
                plan.go_mod_notes.append(note)
        if problems:
            done = f"disabled {len(plan.failpoints)} failpoints" + "".join(f"; {note}" for note in plan.go_mod_notes)
            raise GoModUndoError("\n".join([f"{done}; but:", *problems]))
        return plan


T = TypeVar("T")


def _go_mod_step(step: Callable[[Path], T], root: Path) -> T:
    """A go.mod step with a message instead of a traceback for a file that cannot be read."""
    try:
        return step(root)
    except OSError as error:
        raise WorkspaceError(f"{error.filename or root}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise WorkspaceError(f"{root}: go.mod or go.sum is not UTF-8 text") from error


def _go_mod_roots(paths: Sequence[PathArg], plan: Plan) -> list[Path]:
    """Modules whose go.mod a run may have to put back: above each path, and of each file touched."""
    roots = []
    module_root = modules.shared_roots()
    for key in modules.arg_keys(paths):
        root = module_root(key)
        if root is not None:
            roots.append(root)
    for change in plan.changes:
        root = module_root(change.path.parent)
        if root is not None:
            roots.append(root)
    return list(dict.fromkeys(roots))


def unrequired_modules(plan: Plan) -> list[Path]:
    """Modules holding enabled failpoints whose go.mod does not require the gofail runtime."""
    from gofail_py.rewriter import gomod

    missing = []
    module_root = modules.shared_roots()
    for root in dict.fromkeys(module_root(path.parent) for path in dict.fromkeys(located.path for located in plan.failpoints)):
        if root is not None and not gomod.requires_runtime((root / "go.mod").read_bytes()):
            missing.append(root)
    return missing


def restore_go_mod(root: Path) -> bool:
    """Undoes `enable --go-get` in one module; True if there was anything to undo."""
    from gofail_py.rewriter import gomod

    return gomod.restore(root) is not None


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
        source = read_source(path)
        if rewrite.is_binding_file(source):
            enabled.append(Path(path))
        elif may_hold_markers(source):
            result = store.rewrite("_markers_only", _markers_only, source, path) if store else _markers_only(source, path)
            if result.markers.is_enabled:
                enabled.append(Path(path))
    return enabled


def _markers_only(source: bytes, path: str) -> rewrite.RewriteResult:
    from gofail_py.rewriter.markers import find_markers

    return rewrite.RewriteResult(source, find_markers(source, path), changed=False)


__all__ = [
    "FileChange",
    "GO_MOD_STATE",
    "RUNTIME_MODULE",
    "RUNTIME_VERSION",
    "FileMarkers",
    "LocatedFailpoint",
    "PathArg",
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

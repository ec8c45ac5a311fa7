"""The rewriter's read loop: every Go file read once (or skipped by the stat index), transformed
where it may hold gofail text or own a binding, results reused from the cache."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gofail_py import cache as result_cache
from gofail_py import rewrite
from gofail_py.errors import GofailError, MarkerError, MarkerErrors, WorkspaceError
from gofail_py.fileio import dir_prefix
from gofail_py.cache import NO_SIGNATURE, SIGNATURE
from gofail_py.gofiles import PACKAGE_CLAUSE, READ_FLAGS, PathArg, Found, check_links, find_go_files, is_utf8, may_have_binding, read_source
from gofail_py.markers import MARKER_TEXT, RUNTIME_TEXT, Failpoint

if TYPE_CHECKING:
    from gofail_py.worker import Worker

# files read in a run from which a worker transforms those with gofail text (gofail_py/worker.py)
FILES_FOR_A_WORKER = 5000


class LocatedFailpoint(NamedTuple):  # not a dataclass: ~0.5 ms less of every run
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


def scan(paths: Sequence[PathArg], use_cache: bool = True) -> Found:
    """The scan of the paths, with the stat index of this command line unless use_cache is off."""
    from gofail_py import argcheck

    argcheck.many(paths, "paths", "['./pkg', './...']", paths=True)  # before the key is made of them
    try:
        cwd = os.getcwd()
    except OSError:  # deleted under the shell (a checkout, `rm -rf` elsewhere): relative paths name nothing
        if any(not os.path.isabs(os.fspath(p)) for p in paths or ["."]):
            raise WorkspaceError("the current directory no longer exists (deleted or moved since the shell "
                                 "entered it): cd into the tree again, or give absolute paths") from None
        cwd = ""
    index = None
    if use_cache:
        key = "\0".join([cwd, *[str(os.fspath(p)) for p in paths or ["."]]])
        index = result_cache.Store().load_index(key)
    return find_go_files(paths, index)


def collect(
    paths: Sequence[PathArg], transform: Callable[[bytes, str], rewrite.RewriteResult], use_cache: bool = True,
    found: Found | None = None,
) -> tuple[Found, list[tuple[Path, bytes, rewrite.RewriteResult]], list[LocatedFailpoint]]:
    """Reads every Go file under the paths (found: their scan, if done) and transforms those that
    may need it; raises every marker error at once. The cache skips files a recent run found plain
    and reuses results. A file gone since the scan (a binding another run deleted) is skipped."""
    if found is None:
        found = scan(paths, use_cache)
    check_links(found)
    failpoints: list[LocatedFailpoint] = []
    results = []
    errors: list[MarkerError] = []
    problems: list[GofailError] = []
    index = found.index if use_cache else None
    store = result_cache.Store() if use_cache else None
    plain: dict[str, bytes] = {}  # files found to hold no gofail text, by their signatures to record
    changed: dict[str, list[str]] = {}  # directories taken from the index: their files that changed
    files = _unchanged_left_out(found, changed) if index is not None and found.reused else found.files
    reading = _Reading(found, transform, store, index, len(files) >= FILES_FOR_A_WORKER and _may_fork())
    try:
        done = reading.read(files, plain, problems)
        answers = reading.worker.outcomes() if reading.worker is not None else []
    finally:
        if reading.worker is not None:
            reading.worker.stop()
    for entry in done:  # in file order: results, failpoints and errors as without a worker
        if isinstance(entry, list):
            errors.extend(entry)
            continue
        path, source, outcome = entry
        if isinstance(outcome, int):
            from gofail_py.worker import answer_of

            answer = answer_of(answers[outcome], source)
            if isinstance(answer, list):
                errors.extend(answer)
                continue
            try:  # None: the worker could not say; done here, as without it
                outcome = answer if answer is not None else transform(source, path)
            except MarkerErrors as error:
                errors.extend(error.errors)
                continue
            except MarkerError as error:
                errors.append(error)
                continue
        located = Path(path)
        results.append((located, source, outcome))
        for fp in outcome.markers.failpoints:
            failpoints.append(LocatedFailpoint(located, outcome.markers.package or "", fp))
    if store is not None and index is not None:
        _save_index(store, index, found, plain, changed)
    if errors and not problems:
        raise MarkerErrors(errors)
    if problems:
        if len(problems) == 1 and not errors:
            raise problems[0]
        raise WorkspaceError("\n".join([str(e) for e in errors] + [str(p) for p in problems]))
    return found, results, failpoints


def _may_fork() -> bool:
    """A fork copies only the calling thread: with other threads running (a library caller's),
    a lock one of them holds would stay held in the worker forever. The kernel's count of this
    process's threads also sees those the threading module does not know (started with _thread,
    or by a C extension: grpc's, say)."""
    threading = sys.modules.get("threading")
    if not hasattr(os, "fork") or (threading is not None and threading.active_count() != 1):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: what the threading module knows
        return True


class _Reading:
    """The read loop's state: one run's lookups, hoisted (the loop runs once per file), and the
    worker that transforms files with gofail text on big cold runs (gofail_py/worker.py)."""

    def __init__(self, found: Found, transform: Callable[[bytes, str], rewrite.RewriteResult],
                 store: result_cache.Store | None, index: result_cache.Index | None, worker_wanted: bool) -> None:
        self.found, self.transform, self.store, self.index = found, transform, store, index
        self.worker_wanted = worker_wanted
        self.worker: Worker | None = None

    def read(self, files: list[str], plain: dict[str, bytes], problems: list[GofailError]) -> list[Any]:
        """Per file read, in order: (path, source, result or the worker's slot), or its marker errors."""
        found, transform, store, index, worker_wanted = self.found, self.transform, self.store, self.index, self.worker_wanted
        known, direct, binding_dirs = found.known, found.direct, found.binding_dirs
        cutoff = index.cutoff if index is not None else 0
        pack, lstat, open_, fstat, read, close = SIGNATURE.pack, os.lstat, os.open, os.fstat, os.read, os.close
        package_clause, marker_text, runtime_text = PACKAGE_CLAUSE.search, MARKER_TEXT, RUNTIME_TEXT
        op = transform.__name__
        done: list[Any] = []
        for path in files:  # runs once per file: lookups hoisted, the read and its checks inline
            size = signature = stat = None
            record = index is not None and not (direct and path in direct)
            if record:
                recorded = known.get(path)
                if recorded is not None:
                    # stat before read: a file changed in between gets a signature that no longer matches
                    try:
                        stat = lstat(path)
                        size = stat.st_size
                        signature = pack(stat.st_ino, stat.st_dev, size, stat.st_mtime_ns, stat.st_ctime_ns)
                    except OSError:
                        pass
                    if signature == recorded and not (binding_dirs and may_have_binding(found, path)):
                        plain[path] = recorded  # unchanged since a read found no gofail text in it
                        continue
            source = None
            try:  # gofiles.read_source, inline; anything unusual is left to it (it reads again and says why)
                fd = open_(path, READ_FLAGS)
                try:
                    if size is None:  # the signature from the open file: cheaper than a stat of the path
                        stat = fstat(fd)
                        size = stat.st_size
                        if record:
                            signature = pack(stat.st_ino, stat.st_dev, size, stat.st_mtime_ns, stat.st_ctime_ns)
                    data = read(fd, size + 1)
                finally:
                    close(fd)
                if len(data) <= size and b"\0" not in data and (data.isascii() or is_utf8(data)) and (package_clause(data) or not data.strip()):
                    source = data
            except OSError:
                pass
            try:
                if source is None:
                    source = read_source(path, size)
                if marker_text not in source and runtime_text not in source:  # markers.may_hold_markers
                    if signature is not None and stat is not None and stat.st_mtime_ns < cutoff and stat.st_ctime_ns < cutoff:
                        plain[path] = signature  # not racy: trusted as it is by the next run
                    if not (binding_dirs or direct) or not may_have_binding(found, path):
                        continue  # nothing to rewrite and no binding to look at
                    result = transform(source, path)
                elif rewrite.is_binding_file(source):
                    continue
                elif worker_wanted:  # a big run: what the cache does not hold goes to the worker
                    hit = store.cached(op, source) if store is not None else None
                    if hit is None and self.worker is None:
                        self.worker = self._start_worker(op)
                        worker_wanted = self.worker is not None
                    if hit is None and self.worker is not None:
                        done.append((path, source, self.worker.submit(path, source)))
                        continue
                    if hit is None:  # no worker after all: done here, as on a small run
                        hit = store.rewrite(op, transform, source, path) if store is not None else transform(source, path)
                    result = hit
                elif store is not None:
                    result = store.rewrite(op, transform, source, path)
                else:
                    result = transform(source, path)
            except MarkerErrors as error:
                done.append(error.errors)
                continue
            except MarkerError as error:
                done.append([error])
                continue
            except WorkspaceError as error:
                if isinstance(error.__cause__, FileNotFoundError):
                    continue  # gone since the scan
                problems.append(error)
                continue
            done.append((path, source, result))
        return done

    def _start_worker(self, op: str) -> Worker | None:
        from gofail_py.worker import Worker

        try:
            return Worker(op, self.transform, self.store)
        except OSError:  # no descriptors or processes left (ulimit -n, a pids limit): no worker
            return None


def _unchanged_left_out(found: Found, changed: dict[str, list[str]]) -> list[str]:
    """found.files without the files of directories taken from the index whose signature is
    unchanged: one lstat and one compare each, in one tight loop (this runs once per file of a big
    tree). changed gets, per such directory, its files that did change (read as any other)."""
    files, left = found.files, []
    pack, lstat, size, end = SIGNATURE.pack, os.lstat, SIGNATURE.size, 0
    for directory, (start, stop, packed) in found.reused.items():
        left += files[end:start]
        end, offset, moved = stop, 0, []
        for path in files[start:stop]:
            try:
                stat = lstat(path)
                if pack(stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns) != packed[offset:offset + size]:
                    moved.append(path)
            except OSError:
                moved.append(path)  # gone: the read says so
            offset += size
        if moved:
            changed[directory] = moved
            left += moved
    left += files[end:]
    return left


def _save_index(store: result_cache.Store, index: result_cache.Index, found: Found, plain: dict[str, bytes],
                changed: dict[str, list[str]]) -> None:
    """Records this run's listings and plain files, unless they are what the index holds: a
    directory taken from the index with no file changed is recorded as it was."""
    old, listings, same = index.listings, {}, True
    for directory, (signature, subdirs, names, flags) in found.listings.items():
        reused = found.reused.get(directory)
        if reused is not None and directory not in changed:
            listings[directory] = old[directory]
            continue
        prefix = dir_prefix(directory)
        if reused is not None:  # its unchanged files keep their signatures
            moved, size = set(changed[directory]), SIGNATURE.size
            packed = b"".join([plain.get(prefix + name, NO_SIGNATURE) if prefix + name in moved else reused[2][k * size:(k + 1) * size]
                               for k, name in enumerate(names)])
        else:
            packed = b"".join([plain.get(prefix + name, NO_SIGNATURE) for name in names])
        listings[directory] = (signature, subdirs, names, flags, packed)
        same = same and listings[directory] == old.get(directory)
    if not same or listings.keys() != old.keys():
        store.save_index(index, listings)

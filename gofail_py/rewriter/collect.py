"""The rewriter's read loop: every Go file read once (or skipped by the stat index), transformed
where it may hold gofail text or own a binding, results reused from the cache."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gofail_py.rewriter import cache as result_cache
from gofail_py.rewriter import rewrite
from gofail_py.errors import GofailError, MarkerError, MarkerErrors, WorkspaceError
from gofail_py.rewriter.cache import SIGNATURE
from gofail_py.rewriter.gofiles import (PACKAGE_CLAUSE, READ_FLAGS, PathArg, Found, check_links, find_go_files, held_in_joined,
                                        is_plain, is_text, may_have_binding, read_source)
from gofail_py.rewriter.markers import MARKER_TEXT, RUNTIME_TEXT, Failpoint

if TYPE_CHECKING:
    from gofail_py.rewriter.worker import Worker

# files read in a run from which a worker transforms those with gofail text (gofail_py/rewriter/worker.py)
FILES_FOR_A_WORKER = 5000
# files checked against the stat index from which a forked helper checks half (gofail_py/children.py)
FILES_TO_SPLIT = 5000
# files read before their content checks and search for gofail text run once over them all
_CHUNK = 256
_first = itemgetter(0)
_JOIN_BELOW = 4096  # bytes a file on average: chunks of bigger files are checked file by file
# a file read: its position in the chunk, path, bytes (None: not read), size, signature, stat
_Read = tuple[int, str, bytes | None, int | None, bytes | None, os.stat_result | None]


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
    results: list[tuple[Path, bytes, rewrite.RewriteResult]] = []
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
        _merge(done, answers, transform, results, failpoints, errors)
        if store is not None and index is not None:
            result_cache.save_run(store, index, found.listings, found.reused, plain, changed)
        if reading.worker is not None:
            reading.worker.finish()  # it writes its cache entries after its answers: meanwhile
    finally:
        if reading.worker is not None:
            reading.worker.stop()
    if errors and not problems:
        raise MarkerErrors(errors)
    if problems:
        if len(problems) == 1 and not errors:
            raise problems[0]
        raise WorkspaceError("\n".join([str(e) for e in errors] + [str(p) for p in problems]))
    return found, results, failpoints


def _merge(done: list[Any], answers: list[Any], transform: Callable[[bytes, str], rewrite.RewriteResult],
           results: list[tuple[Path, bytes, rewrite.RewriteResult]], failpoints: list[LocatedFailpoint],
           errors: list[MarkerError]) -> None:
    """The read loop's entries in file order, each file's slot filled with the worker's answer:
    results, failpoints and marker errors come out as without a worker."""
    for entry in done:
        if isinstance(entry, list):
            errors.extend(entry)
            continue
        path, source, outcome = entry
        if isinstance(outcome, int):
            from gofail_py.rewriter.worker import answer_of

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
    worker that transforms files with gofail text on big cold runs (gofail_py/rewriter/worker.py)."""

    def __init__(self, found: Found, transform: Callable[[bytes, str], rewrite.RewriteResult],
                 store: result_cache.Store | None, index: result_cache.Index | None, worker_wanted: bool) -> None:
        self.found, self.transform, self.store, self.index = found, transform, store, index
        self.worker_wanted = worker_wanted
        self.worker: Worker | None = None

    def read(self, files: list[str], plain: dict[str, bytes], problems: list[GofailError]) -> list[Any]:
        """Per file read, in order: (path, source, result or the worker's slot), or its marker errors."""
        done: list[Any] = []
        for start in range(0, len(files), _CHUNK):
            self._read_chunk(files[start:start + _CHUNK], plain, problems, done)
        return done

    def _read_chunk(self, chunk: list[str], plain: dict[str, bytes], problems: list[GofailError], done: list[Any]) -> None:
        """Reads a chunk of files; the content checks and the search for gofail text run once over
        the chunk's bytes joined (a few searches instead of five per file: on a big tree most files
        hold none). A file that fails a check, holds gofail text or may own a binding goes on to
        `_read_one`, in file order."""
        found, index = self.found, self.index
        known, direct, binding_dirs = found.known, found.direct, found.binding_dirs
        bindings_to_check = bool(binding_dirs or direct)
        cutoff = index.cutoff if index is not None else 0
        pack, lstat, open_, fstat, read, close = SIGNATURE.pack, os.lstat, os.open, os.fstat, os.read, os.close
        package_clause = PACKAGE_CLAUSE.search
        slow: list[_Read] = []  # files for _read_one, by their position in chunk
        fast: list[_Read] = []  # files whose bytes the joined checks settle, with:
        datas: list[bytes] = []
        for at, path in enumerate(chunk):  # runs once per file: lookups hoisted, the read inline
            size = signature = stat = None
            record = index is not None and not (direct and path in direct)
            if record and known:
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
            except OSError:
                slow.append((at, path, None, size, signature, stat))
                continue
            if len(data) > size or stat is None or not (package_clause(data) or not data.strip()) or (
                    bindings_to_check and may_have_binding(found, path)):
                slow.append((at, path, data, size, signature, stat))
                continue
            if signature is not None and stat.st_mtime_ns < cutoff and stat.st_ctime_ns < cutoff:
                plain[path] = signature  # not racy: trusted as it is by the next run (unless undone below)
            fast.append((at, path, data, size, signature, stat))
            datas.append(data)
        if datas:
            _check_joined(datas, fast, slow, plain)
        if len(slow) > 1:
            slow.sort(key=_first)
        for _, path, read_data, size, signature, stat in slow:
            self._read_one(path, read_data, size, signature, stat, plain, problems, done)

    def _read_one(self, path: str, data: bytes | None, size: int | None, signature: bytes | None,
                  stat: os.stat_result | None, plain: dict[str, bytes], problems: list[GofailError], done: list[Any]) -> None:
        """One file the joined checks did not settle: its checks (gofiles.read_source reads it
        again and says what is wrong), then its transform, here, from the cache or by the worker."""
        found, transform, store, index = self.found, self.transform, self.store, self.index
        cutoff = index.cutoff if index is not None else 0
        source = None
        if data is not None and size is not None and len(data) <= size and is_text(data) and (
                PACKAGE_CLAUSE.search(data) or not data.strip()):
            source = data
        try:
            if source is None:
                source = read_source(path, size)
            if MARKER_TEXT not in source and RUNTIME_TEXT not in source:  # markers.may_hold_markers
                if signature is not None and stat is not None and stat.st_mtime_ns < cutoff and stat.st_ctime_ns < cutoff:
                    plain[path] = signature  # not racy: trusted as it is by the next run
                if not (found.binding_dirs or found.direct) or not may_have_binding(found, path):
                    return  # nothing to rewrite and no binding to look at
                result = transform(source, path)
            elif rewrite.is_binding_file(source):
                return
            elif self.worker_wanted:  # a big run: what the cache does not hold goes to the worker
                op = transform.__name__
                hit = store.cached(op, source) if store is not None else None
                if hit is None and self.worker is None:
                    self.worker = self._start_worker(op)
                    self.worker_wanted = self.worker is not None
                if hit is None and self.worker is not None:
                    done.append((path, source, self.worker.submit(path, source)))
                    return
                if hit is None:  # no worker after all: done here, as on a small run
                    hit = store.rewrite(op, transform, source, path) if store is not None else transform(source, path)
                result = hit
            elif store is not None:
                result = store.rewrite(transform.__name__, transform, source, path)
            else:
                result = transform(source, path)
        except MarkerErrors as error:
            done.append(error.errors)
            return
        except MarkerError as error:
            done.append([error])
            return
        except WorkspaceError as error:
            if not isinstance(error.__cause__, FileNotFoundError):  # else gone since the scan
                problems.append(error)
            return
        done.append((path, source, result))

    def _start_worker(self, op: str) -> Worker | None:
        from gofail_py.rewriter.worker import Worker

        try:
            return Worker(op, self.transform, self.store)
        except OSError:  # no descriptors or processes left (ulimit -n, a pids limit): no worker
            return None


def _check_joined(datas: list[bytes], fast: list[_Read], slow: list[_Read], plain: dict[str, bytes]) -> None:
    """The checks of gofiles.read_source and the search for gofail text, over the files' bytes
    joined by newlines (no match can span two files, and the whole is UTF-8 if and only if each
    file is). The files that fail or hold gofail text go to `slow`, and out of `plain` (the read
    loop put every file that passed its own checks there). Files of 4 KB and more on average are
    checked one by one instead: copying them costs more than the calls the join saves."""
    if sum(map(len, datas)) > _JOIN_BELOW * len(datas):
        held: Iterable[int] = [k for k, data in enumerate(datas) if not is_plain(data)]
    else:
        held = held_in_joined(datas)
    for k in sorted(held):
        entry = fast[k]
        plain.pop(entry[1], None)
        slow.append(entry)


def _unchanged_left_out(found: Found, changed: dict[str, list[str]]) -> list[str]:
    """found.files without the files of directories taken from the index whose signature is
    unchanged. changed gets, per such directory, its files that did change (read as any other).
    On a big tree a forked helper checks the second half of the directories meanwhile."""
    files, reused = found.files, list(found.reused.items())
    helper, half = None, len(reused)
    if sum(stop - start for _, (start, stop, _) in reused) >= FILES_TO_SPLIT and _may_fork():  # files to check
        from gofail_py.children import Forked

        half = _half_by_files(reused)
        try:
            helper = Forked(_changed_files, files, reused[half:])
        except OSError:  # no process or descriptor left: all done here
            half = len(reused)
    try:
        changed.update(_changed_files(files, reused[:half]))
        theirs = helper.result() if helper is not None else {}
    finally:
        if helper is not None:
            helper.stop()
    if not isinstance(theirs, dict):  # the helper failed: its half done here, as without it
        theirs = _changed_files(files, reused[half:])
    changed.update(theirs)
    left, end = [], 0
    for directory, (start, stop, _) in reused:
        left += files[end:start]
        end = stop
        moved = changed.get(directory)
        if moved:
            left += moved
    left += files[end:]
    return left


def _half_by_files(reused: list[tuple[str, tuple[int, int, bytes]]]) -> int:
    """Where to cut the directories so each side holds about half their files."""
    total = sum(stop - start for _, (start, stop, _) in reused)
    count = 0
    for position, (_, (start, stop, _)) in enumerate(reused):
        count += stop - start
        if 2 * count >= total:
            return position + 1
    return len(reused)


def _changed_files(files: list[str], reused: list[tuple[str, tuple[int, int, bytes]]]) -> dict[str, list[str]]:
    """Per directory taken from the index, its files whose signature moved (or that are gone):
    one lstat and one compare each, in one tight loop (this runs once per file of a big tree)."""
    pack, lstat, size = SIGNATURE.pack, os.lstat, SIGNATURE.size
    changed = {}
    for directory, (start, stop, packed) in reused:
        offset, moved = 0, []
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
    return changed

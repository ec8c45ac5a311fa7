"""The rewriter's read loop: every Go file read once (or skipped by the stat index), transformed
where it may hold gofail text or own a binding, results reused from the cache."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from gofail_py import cache as result_cache
from gofail_py import rewrite
from gofail_py.errors import GofailError, MarkerError, MarkerErrors, WorkspaceError
from gofail_py.gofiles import PathArg, Found, check_links, find_go_files, may_have_binding, read_source
from gofail_py.markers import Failpoint, may_hold_markers


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


def collect(
    paths: Sequence[PathArg], transform: Callable[[bytes, str], rewrite.RewriteResult], use_cache: bool = True,
    found: Found | None = None,
) -> tuple[Found, list[tuple[Path, bytes, rewrite.RewriteResult]], list[LocatedFailpoint]]:
    """Reads every Go file under the paths (found: their scan, if done) and transforms those that
    may need it; raises every marker error at once. The cache skips files a recent run found plain
    and reuses results. A file gone since the scan (a binding another run deleted) is skipped."""
    if found is None:
        found = find_go_files(paths)
    check_links(found)
    failpoints: list[LocatedFailpoint] = []
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
        stat_out: list[os.stat_result] | None = None
        entry = found.entries.get(path)
        if store is not None and entry is not None and path not in known_plain:
            stat_out = []  # nothing to compare: the signature comes from the open file (fstat)
        elif store is not None and entry is not None:
            # stat before read: a file changed in between gets a signature that no longer matches
            try:  # the signature (result_cache.Signature), built inline: this loop runs per file
                stat = entry.stat(follow_symlinks=False)
                signature = (stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            except OSError:
                pass
            if signature is not None and known_plain.get(path) == signature and not (found.binding_dirs and may_have_binding(found, path)):
                # git's racy-timestamp rule: trusted only if older than the recording run's start
                if signature[3] < trusted_before and signature[4] < trusted_before:
                    plain[path] = signature  # unchanged since a read found no gofail text in it
                    continue
                racy = True  # read it; recorded again by this run, it will be trusted next time
        try:
            source = read_source(path, None if signature is None else signature[2], stat_out)
            if stat_out:
                stat = stat_out[0]
                signature = (stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            if not may_hold_markers(source):
                if signature is not None:
                    plain[path] = signature
                if not (found.binding_dirs or entry is None) or not may_have_binding(found, path):
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
            if isinstance(error.__cause__, FileNotFoundError):
                continue  # gone since the scan
            problems.append(error)
            continue
        located = Path(path)
        results.append((located, source, result))
        for fp in result.markers.failpoints:
            failpoints.append(LocatedFailpoint(located, result.markers.package or "", fp))
    if store is not None and (racy or plain != known_plain):
        store.save_plain_files(index, plain)
    if errors and not problems:
        raise MarkerErrors(errors)
    if problems:
        if len(problems) == 1 and not errors:
            raise problems[0]
        raise WorkspaceError("\n".join([str(e) for e in errors] + [str(p) for p in problems]))
    return found, results, failpoints

"""The rewriter's read loop: every Go file read once (or skipped by the stat index), transformed
where it may hold gofail text or own a binding, results reused from the cache."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gofail_py import cache as result_cache
from gofail_py import rewrite
from gofail_py.errors import GofailError, MarkerError, MarkerErrors, WorkspaceError
from gofail_py.cache import NO_SIGNATURE, SIGNATURE
from gofail_py.gofiles import PathArg, Found, check_links, find_go_files, may_have_binding, read_source
from gofail_py.markers import Failpoint, may_hold_markers


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


def scan(paths: Sequence[PathArg], use_cache: bool = True) -> Found:
    """The scan of the paths, with the stat index of this command line unless use_cache is off."""
    index = None
    if use_cache:
        from gofail_py import argcheck

        argcheck.many(paths, "paths", "['./pkg', './...']", paths=True)  # before the key is made of them
        key = "\0".join([os.getcwd(), *[str(os.fspath(p)) for p in paths or ["."]]])
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
    known, direct, binding_dirs = found.known, found.direct, found.binding_dirs
    trusted_before = index.trusted_before if index is not None else 0
    pack, lstat = SIGNATURE.pack, os.lstat
    plain: dict[str, bytes] = {}
    racy = False
    for path in found.files:  # runs once per file: lookups hoisted, the signature packed inline
        size = signature = None
        stat_out: list[os.stat_result] | None = None
        if index is not None and not (direct and path in direct):
            recorded = known.get(path)
            if recorded is None:
                stat_out = []  # nothing to compare: the signature comes from the open file (fstat)
            else:
                # stat before read: a file changed in between gets a signature that no longer matches
                try:
                    stat = lstat(path)
                    size = stat.st_size
                    signature = pack(stat.st_ino, stat.st_dev, size, stat.st_mtime_ns, stat.st_ctime_ns)
                except OSError:
                    pass
                if signature == recorded and not (binding_dirs and may_have_binding(found, path)):
                    # git's racy-timestamp rule: trusted only if older than the recording run's start
                    if stat.st_mtime_ns < trusted_before and stat.st_ctime_ns < trusted_before:
                        plain[path] = recorded  # unchanged since a read found no gofail text in it
                        continue
                    racy = True  # read it; recorded again by this run, it will be trusted next time
        try:
            source = read_source(path, size, stat_out)
            if stat_out:
                stat = stat_out[0]
                signature = pack(stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            if not may_hold_markers(source):
                if signature is not None:
                    plain[path] = signature
                if not (binding_dirs or direct) or not may_have_binding(found, path):
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
    if store is not None and index is not None:
        _save_index(store, index, found, plain, racy)
    if errors and not problems:
        raise MarkerErrors(errors)
    if problems:
        if len(problems) == 1 and not errors:
            raise problems[0]
        raise WorkspaceError("\n".join([str(e) for e in errors] + [str(p) for p in problems]))
    return found, results, failpoints


def _save_index(store: result_cache.Store, index: result_cache.Index, found: Found, plain: dict[str, bytes], racy: bool) -> None:
    """Records this run's listings and plain files, unless they are what the index holds."""
    if not (racy or found.racy) and plain == found.known and found.listings.keys() == index.listings.keys() and all(
        listing == index.listings[directory][:4] for directory, listing in found.listings.items()
    ):
        return
    listings = {}
    for directory, (signature, subdirs, names, flags) in found.listings.items():
        prefix = "" if directory == "." else directory if directory.endswith("/") else directory + "/"
        packed = b"".join([plain.get(prefix + name, NO_SIGNATURE) for name in names])
        listings[directory] = (signature, subdirs, names, flags, packed)
    store.save_index(index, listings)

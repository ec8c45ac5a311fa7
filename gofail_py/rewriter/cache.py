"""The rewriter's cache: what a rewrite found and wrote, by the exact bytes it read.

Where: ``$XDG_CACHE_HOME/gofail-py`` (``~/.cache/gofail-py`` when unset), one folder per
fingerprint of the code that produces results (the rewriter's modules, the scan's and read loop's,
its queries and templates, the installed tree-sitter parser): editing any of them, even in an editable install, starts an
empty folder. Inside:

* ``r/KEY``: one rewrite result (markers, new bytes, binding), KEY a hash of the operation and of
  every byte of the file read. A changed byte is a different key, so an entry cannot be stale.
* ``s/KEY``: for one command line (cwd and paths), the listing of every directory scanned, with
  the directory's own signature, and the stat signatures of the files whose last read found no
  gofail text. A directory whose signature (inode, device, mtime and ctime in ns) is unchanged
  is not listed again (any name added, removed or replaced in it moves its mtime and ctime); a
  file is not read again while its signature (plus size) is unchanged. As git's index does, a
  signature taken too close to the moment it was recorded ("racy") is not trusted.

Every entry is sealed with a key only this user can read (gofail_py.rewriter.cachedir keeps it, and uses
the folder only while it is the user's alone): a corrupt or truncated entry, or one another user
wrote, is ignored, and nothing but what this user's runs sealed is ever unmarshalled. A cache that
cannot be read or written (read-only, full, missing) is no cache, never an error. This module imports
neither tree-sitter nor Jinja2: a warm run needs neither.
"""

from __future__ import annotations

import marshal
import os
import struct
import time
from collections.abc import Callable
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gofail_py.rewriter import cachedir
from gofail_py.rewriter.fileio import dir_prefix
from gofail_py.rewriter.markers import Failpoint, FileMarkers, Label

try:  # hashlib's own blake2b, without hashlib loading OpenSSL (a few ms of every run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b
from _operator import _compare_digest  # hmac's, without hmac importing hashlib
from gofail_py.resources import resource_dir

if TYPE_CHECKING:
    from gofail_py.rewriter.rewrite import RewriteResult

_MAGIC = b"gofail-py cache 2\n"
_MAC = 32
# A signature newer than this before the run that takes it is "racy": the file may change again
# within the file system's timestamp granularity (2 s on FAT) without its mtime moving.
RACY_NS = 2_000_000_000
# ... and the scan and read loop, which decide what the stat index records and how it is used (an
# index is as much their result as a rewrite is the rewriter's)
_CODE = ("rewriter/cache.py", "rewriter/markers.py", "rewriter/render.py", "rewriter/rewrite.py", "rewriter/syntax.py",
         "resources.py", "rewriter/toplevel.py", "rewriter/gofiles.py", "rewriter/collect.py", "rewriter/buildtags.py")

_INDEX_FORMAT = 3
# A file's stat signature, packed (one bytes object per directory unmarshals far faster than a
# tuple per file): st_ino, st_dev, st_size, st_mtime_ns, st_ctime_ns; all zero: none recorded.
SIGNATURE = struct.Struct("<QQqqq")
NO_SIGNATURE = bytes(SIGNATURE.size)
RACY = (0, 0, 0, 0)  # the signature of a directory listing recorded as racy: never matches, listed again
# flags of a listing
HAS_BINDING_NAMES, HAS_GO_MOD, RESCAN = 1, 2, 4
# One directory's listing: its own signature (st_ino, st_dev, st_mtime_ns, st_ctime_ns; zeros: racy), the names
# of the subdirectories `...` enters and of its regular Go files (sorted), flags (RESCAN: it holds
# something whose state its signature does not cover: a link, a stale temp file, a go.mod link),
# and the packed signatures of its Go files that held no gofail text, in the names' order.
Listing = tuple[tuple[int, int, int, int], tuple[str, ...], tuple[str, ...], int, bytes]


class Index:
    """The stat index of one command line: its directories' listings. Only signatures that are not
    "racy" are recorded (git's rule): mtime and ctime older than cutoff, RACY_NS before the start
    of the run that takes them, as a change within the file system's timestamp granularity may not
    move them. So a recorded signature is trusted as it is; a racy one is taken again next run."""

    __slots__ = ("entry", "listings", "cutoff")

    def __init__(self, entry: str, listings: dict[str, Listing], cutoff: int) -> None:
        self.entry, self.listings, self.cutoff = entry, listings, cutoff

    def signatures(self) -> dict[str, tuple[int, int, int, int, int]]:
        """Every file's recorded signature, unpacked (for tests and inspection)."""
        found = {}
        for directory, (_, _, names, _, packed) in self.listings.items():
            prefix = dir_prefix(directory)
            for position, name in enumerate(names):
                blob = packed[position * SIGNATURE.size:(position + 1) * SIGNATURE.size]
                if blob != NO_SIGNATURE:
                    found[prefix + name] = SIGNATURE.unpack(blob)
        return found


def cache_dir() -> Path:
    """The user's cache directory for gofail-py (XDG base directory rules)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # the spec says a relative value is to be ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gofail-py"


def _hash(*parts: bytes) -> str:
    digest = blake2b(digest_size=20)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


@cache
def fingerprint() -> str:
    """A hash of everything that decides a result: our code, queries, templates and the parser."""
    from importlib.machinery import PathFinder  # finds without importing, and is loaded already

    package = Path(__file__).parent.parent  # gofail_py/: _CODE names files below it
    parts = [(package / name).read_bytes() for name in _CODE]
    for folder in ("grammars", "templates"):
        directory = resource_dir(folder)
        for name in sorted(os.listdir(directory)):
            if name.endswith((".scm", ".j2")):  # the rewriter's own (not the report's folder)
                parts += [name.encode(), (directory / name).read_bytes()]
    for module in ("tree_sitter", "tree_sitter_go"):
        spec = PathFinder.find_spec(module)  # located, not imported; its binary is identified by its stat
        origin = spec.origin if spec is not None and spec.origin else ""
        folder = os.path.dirname(origin)
        for name in sorted(os.listdir(folder)) if folder else []:
            if name.endswith((".so", ".pyd", ".py")):
                stat = os.stat(os.path.join(folder, name))
                parts.append(f"{module}/{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return _hash(*parts)[:24]


def _mac(key: bytes, where: str, payload: bytes) -> bytes:
    """The entry's seal: a BLAKE2b keyed with the user's secret key (BLAKE2's own MAC mode), over
    its place (``r/KEY``: a result cannot be moved to another source's key) and its payload."""
    digest = blake2b(key=key, digest_size=_MAC)
    digest.update(where.encode() + b"\0")
    digest.update(payload)
    return digest.digest()


def _seal(data: Any, key: bytes, where: str) -> bytes:
    payload = marshal.dumps(data)
    return _MAGIC + _mac(key, where, payload) + payload


def _unseal(blob: bytes, key: bytes, where: str) -> Any:
    """The data of an entry, or None when it is not one this user wrote whole, there."""
    head = len(_MAGIC)
    if not blob.startswith(_MAGIC) or len(blob) < head + _MAC:
        return None
    payload = blob[head + _MAC:]
    if not _compare_digest(_mac(key, where, payload), blob[head:head + _MAC]):
        return None
    try:
        return marshal.loads(payload)  # only what the key sealed: marshal is not safe on anything else
    except (ValueError, EOFError, TypeError):
        return None


def _markers_data(markers: FileMarkers) -> tuple[object, ...]:
    return (
        markers.package,
        tuple((fp.name, fp.type, fp.line, fp.column, fp.end_line, fp.enabled, fp.indent, fp.body_comments) for fp in markers.failpoints),
        tuple((label.name, label.line, label.column, label.enabled) for label in markers.labels),
    )


def result_data(result: RewriteResult) -> tuple[object, ...]:
    """A result as plain data (for marshal): what a cache entry holds."""
    return (result.changed, result.source if result.changed else None, _markers_data(result.markers), result.binding)


def _markers_from(data: Any) -> FileMarkers:
    package, failpoints, labels = data
    return FileMarkers(package, tuple(Failpoint(*fp) for fp in failpoints), tuple(Label(*label) for label in labels))


class Store:
    """One run's view of the cache; every failure to read or write it is swallowed, and a cache
    that is not the user's alone is not used (gofail_py.rewriter.cachedir)."""

    def __init__(self, root: Path | None = None) -> None:
        self.folder = cachedir.folder(os.fspath(root or cache_dir()), fingerprint())
        self.started_ns = time.time_ns()
        self.writable = True

    # --- results by content ------------------------------------------------------------------

    def rewrite(self, op: str, transform: Callable[[bytes, str], RewriteResult], source: bytes, path: str) -> RewriteResult:
        """transform(source, path), from the cache when these exact bytes were seen before."""
        found = self.cached(op, source)
        if found is not None:
            return found
        result = transform(source, path)
        self.remember(op, source, result)
        return result

    def cached(self, op: str, source: bytes) -> RewriteResult | None:
        """The result of op on these exact bytes, if a run saved it."""
        found = self._load("r", _hash(op.encode(), source))
        if found is not None:
            try:
                return self.result_from(found, source)
            except (TypeError, ValueError):
                pass  # an entry of the wrong shape: computed again
        return None

    def remember(self, op: str, source: bytes, result: RewriteResult) -> None:
        self._save("r", _hash(op.encode(), source), result_data(result))

    @staticmethod
    def result_from(data: Any, source: bytes) -> RewriteResult:
        """A result from what result_data made of it (raises TypeError or ValueError if it is not one)."""
        from gofail_py.rewriter.rewrite import RewriteResult

        changed, new, markers, binding = data
        if not isinstance(changed, bool) or not isinstance(new, (bytes, type(None))) or not isinstance(binding, (bytes, type(None))):
            raise TypeError("not a rewrite result")
        return RewriteResult(new if changed and new is not None else source, _markers_from(markers), changed, binding)

    # --- the stat index: directory listings and files known to hold no gofail text ------------

    def load_index(self, key: str) -> Index:
        """The index for a command line (empty when there is none or it is not ours)."""
        entry = _hash(key.encode())
        data = self._load("s", entry)
        cutoff = self.started_ns - RACY_NS
        if not isinstance(data, tuple) or len(data) != 2 or data[0] != _INDEX_FORMAT or not isinstance(data[1], dict):
            return Index(entry, {}, cutoff)
        return Index(entry, data[1], cutoff)

    def save_index(self, index: Index, listings: dict[str, Listing]) -> None:
        self._save("s", index.entry, (_INDEX_FORMAT, listings), replace=True)

    # --- disk ----------------------------------------------------------------------------------

    def _load(self, sub: str, name: str) -> Any:
        blob = self.folder.read(sub, name)
        if blob is None:
            return None
        key = self.folder.secret(create=False)
        data = None if key is None else _unseal(blob, key, f"{sub}/{name}")
        if data is None:  # damaged (a run killed while writing it), or not sealed with this key: made again
            self.folder.remove(sub, name)
        return data

    def _save(self, sub: str, name: str, data: Any, replace: bool = False) -> None:
        """Writes an entry (an index replaces the one before; a result is created once)."""
        if not self.writable:
            return
        key = self.folder.secret(create=True)
        if key is None or not self.folder.write(sub, name, _seal(data, key, f"{sub}/{name}"), replace):
            self.writable = False  # not ours, read-only or full: no cache for the rest of this run


def save_run(store: Store, index: Index,
             scanned: dict[str, tuple[tuple[int, int, int, int], tuple[str, ...], tuple[str, ...], int]],
             taken: dict[str, tuple[int, int, bytes]], plain: dict[str, bytes], changed: dict[str, list[str]]) -> None:
    """Records a run's listings and plain files, unless they are what the index holds: a
    directory taken from the index with no file changed is recorded as it was. ``scanned`` and
    ``taken``: the scan's listings and the directories it took from the index (gofiles.Found's)."""
    old, listings, same = index.listings, {}, True
    for directory, (signature, subdirs, names, flags) in scanned.items():
        reused = taken.get(directory)
        if reused is not None and directory not in changed:
            listings[directory] = old[directory]
            continue
        prefix = dir_prefix(directory)
        if reused is not None:  # its unchanged files keep their signatures
            moved, size = set(changed[directory]), SIGNATURE.size
            packed = b"".join([plain.get(prefix + name, NO_SIGNATURE) if prefix + name in moved else reused[2][k * size:(k + 1) * size]
                               for k, name in enumerate(names)])
        else:
            packed = b"".join(map(plain.get, map(prefix.__add__, names), repeat(NO_SIGNATURE)))  # no Python frame per file
        listings[directory] = (signature, subdirs, names, flags, packed)
        same = same and _adds_nothing(listings[directory], old.get(directory))
    if not same or listings.keys() != old.keys():
        store.save_index(index, listings)


def _adds_nothing(new: Listing, old: Listing | None) -> bool:
    """Whether the next run does the same with the old listing as with the new, so the index need
    not be written again (back-to-back runs: each lists again what the one before changed). It
    does when the new one only forgets: a racy directory (zeros) is listed again, as one whose
    recorded signature no longer holds is; a file without a signature is read, as one whose
    recorded signature no longer matches it is (ctime only moves on: a stale one never matches)."""
    if new == old:
        return True
    if old is None or new[0] != old[0] and new[0] != RACY:
        return False
    if new[0] == old[0] and new[1:4] != old[1:4]:
        return False
    size, packed, recorded = SIGNATURE.size, new[4], old[4]
    position = {name: k * size for k, name in enumerate(old[2])}
    for k, name in enumerate(new[2]):
        signature = packed[k * size:(k + 1) * size]
        if signature != NO_SIGNATURE:
            at = position.get(name, -1)
            if at < 0 or recorded[at:at + size] != signature:
                return False
    return True

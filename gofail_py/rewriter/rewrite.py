"""Enable and disable of one Go file: bytes in, bytes and markers out, no I/O."""

from __future__ import annotations

from typing import NamedTuple


from gofail_py.rewriter import render
from gofail_py.errors import MarkerError, MarkerErrors
from gofail_py.rewriter.markers import FileMarkers, Failpoint, Lines, char_column, find_markers_and_lines

NO_VALUE_TYPE = "struct{}"


class RewriteResult(NamedTuple):  # internal: cheaper to create than a frozen dataclass (~0.5 ms a start)
    """A file's new bytes and its markers (as found in the input)."""

    source: bytes
    markers: FileMarkers
    changed: bool
    binding: bytes | None = None  # enable only: the binding file its failpoints need


def enabled_lines(fp: Failpoint) -> list[bytes]:
    """The lines (without endings) that stand for a plain failpoint once enabled."""
    value_var = fp.name if fp.body_comments and fp.type != NO_VALUE_TYPE else "_"
    opening = render.failpoint_open(fp.indent, fp.name, fp.type, value_var)
    closing = render.failpoint_close(fp.name, fp.type)
    if not fp.body_comments:
        return [opening + closing]
    # gofail turns each body line's first `//` into a tab, which keeps columns of the code.
    body = [comment.replace(b"//", b"\t", 1) for comment in fp.body_comments]
    body[-1] += closing
    return [opening, *body]


def _check_enabled_code(fp: Failpoint, lines: list[bytes], path: str) -> None:
    """Parses the enabled failpoint alone, inside a function, so an error is its own."""
    from gofail_py.rewriter import syntax

    snippet = b"package p\nfunc _() {\n" + b"\n".join(lines) + b"\n}\n"
    error = syntax.first_error(syntax.parse(snippet).root_node)
    if error is None:
        return
    offset = min(max(error.start_point.row - 2, 0), len(lines) - 1)
    what = "its type" if offset == 0 else "its body"
    original = fp.body_comments[offset - 1] if offset else fp.indent
    # Columns of body code shift by one between `//` and the tab that replaces it.
    column = error.start_point.column + (1 if offset and error.start_point.column > len(fp.indent) else 0)
    raise MarkerError(
        path,
        fp.line + offset,
        char_column(original, min(column, len(original))) if offset else fp.column,
        f"failpoint {fp.name}: {what} is not valid Go once enabled",
    )


def _all_enabled_code_valid(snippets: list[list[bytes]]) -> bool:
    """One parse for a file's enabled failpoints: True when each parses as its own function, as
    _check_enabled_code would find; else (any error) each is checked alone for its message."""
    from gofail_py.rewriter import syntax

    if len(snippets) < 2:
        return False
    parts, starts, offset = [b"package p\n"], [], len(b"package p\n")
    for lines in snippets:
        text = b"func _() {\n" + b"\n".join(lines) + b"\n}\n"
        parts.append(text)
        starts.append(offset)
        offset += len(text)
    root = syntax.parse(b"".join(parts)).root_node
    if root.has_error:
        return False
    functions = [child.start_byte for child in root.children if child.type == "function_declaration"]
    # each function starts where its snippet does, so each spans exactly its snippet's text
    return functions == starts


def enable_source(source: bytes, path: str = "<source>", *, partial: bool = True) -> RewriteResult:
    """Turns every `// gofail:` comment into failpoint code, the bytes gofail v0.2.0 writes.
    `partial=False` parses the whole file (tests compare the two ways: the same result, but where a
    declaration without gofail text has a syntax error, which the partial parse does not see)."""
    markers, split = find_markers_and_lines(source, path, partial=partial)
    plain = [fp for fp in markers.failpoints if not fp.enabled]
    plain_labels = [label for label in markers.labels if not label.enabled]
    # like gofail, labels are only rewritten in files that hold failpoints
    if not plain and not (plain_labels and markers.failpoints):
        return RewriteResult(source, markers, changed=False, binding=binding_source(markers, source))
    lines = split if split is not None else Lines(source)
    errors: list[MarkerError] = []
    enabled = [enabled_lines(fp) for fp in plain]
    checked = _all_enabled_code_valid(enabled)
    for fp, new in zip(plain, enabled):
        try:
            if not checked:
                _check_enabled_code(fp, new, path)
        except MarkerError as error:
            errors.append(error)
            continue
        for offset, content in enumerate(new):
            row = fp.line - 1 + offset
            lines.set_content(row, content)
    if errors:
        raise MarkerErrors(errors)
    prefix, label_code = render.marker_prefix(), render.label_enabled()
    for label in plain_labels:
        row = label.line - 1
        lines.set_content(row, lines.content(row).replace(prefix, label_code, 1))
    return RewriteResult(lines.join(), markers, changed=True, binding=binding_source(markers, source))


def disable_source(source: bytes, path: str = "<source>", *, partial: bool = True) -> RewriteResult:
    """Turns enabled failpoint code (ours or gofail's) back into the `// gofail:` comments.
    `partial=False` as for enable_source."""
    markers, split = find_markers_and_lines(source, path, partial=partial)
    enabled = [fp for fp in markers.failpoints if fp.enabled]
    enabled_labels = [label for label in markers.labels if label.enabled]
    if not enabled and not enabled_labels:
        return RewriteResult(source, markers, changed=False)
    lines = split if split is not None else Lines(source)
    for fp in enabled:
        comments = [render.failpoint_comment(fp.indent, fp.name, fp.type), *fp.body_comments]
        for offset, content in enumerate(comments):
            row = fp.line - 1 + offset
            lines.set_content(row, content)
    prefix, label_code = render.marker_prefix(), render.label_enabled()
    for label in enabled_labels:
        row = label.line - 1
        lines.set_content(row, lines.content(row).replace(label_code, prefix, 1))
    return RewriteResult(lines.join(), markers, changed=True)


def binding_file_name(go_file_name: str) -> str:
    """`F.go` -> `F.fail.go`, as gofail names it; test files get a `_test.go` binding.

    gofail would write `F_test.fail.go`, which Go compiles into the package itself: for an
    external `_test` package that breaks the build, so a test file's binding is itself a test file.
    """
    if go_file_name.endswith("_test.go"):
        return go_file_name[: -len("_test.go")] + ".fail_test.go"
    return go_file_name.split(".go")[0] + ".fail.go"


def binding_source(markers: FileMarkers, source: bytes = b"") -> bytes | None:
    """The binding file for a file's failpoints (all of them, in source order), or None. It gets
    the source's build constraints: it then builds exactly when its source may (a binding of a
    `//go:build ignore` file of `package main` broke `go build ./...` of its directory)."""
    if not markers.failpoints:
        return None
    constraints: tuple[str, ...] = ()
    if b"build" in source:  # no `//go:build` or `// +build` line: the header is not read
        from gofail_py.rewriter.buildtags import constraint_lines

        constraints = constraint_lines(source)
    return render.binding(markers.package or "main", [fp.name for fp in markers.failpoints], constraints)


def is_binding_file(source: bytes) -> bool:
    return source.startswith(render.BINDING_HEADER)

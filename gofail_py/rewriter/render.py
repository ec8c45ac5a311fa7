"""Renders every piece of Go the rewriter writes from the Jinja2 templates in templates/."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from gofail_py.resources import resource_dir

if TYPE_CHECKING:
    import jinja2

# Names in the enabled code that the templates write and the marker finder looks for: one place,
# read by both (the templates get them as globals), so the two cannot drift apart.
RUNTIME_PREFIX = "__fp_"  # the runtime variable of failpoint NAME is __fp_NAME
VALUE_PREFIX = "v"  # the value it yields is vNAME
ERROR_VAR = "__fpErr"
ACQUIRE = "Acquire"
GO_NAMES = {"RUNTIME_PREFIX": RUNTIME_PREFIX, "VALUE_PREFIX": VALUE_PREFIX, "ERROR_VAR": ERROR_VAR, "ACQUIRE": ACQUIRE}
_PLACEHOLDER = "GOFAILPYNAME"


def go_quote(text: str) -> str:
    """Go's %q of a string (names are identifiers, so escapes are rare but kept correct)."""
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


# The templates compiled ahead to Python modules (Jinja2's ModuleLoader), so a run imports them
# instead of compiling all of them (~10 ms); made by `python -m gofail_py.rewriter.render`, checked by a test.
COMPILED_DIR = Path(__file__).parent / "compiled_templates"
_MANIFEST = "manifest.txt"


def _manifest(jinja_version: str) -> str:
    """What compiled modules were made from: the Jinja2 version and a hash of every template."""
    try:  # hashlib's own blake2b, without hashlib loading OpenSSL
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover
        from hashlib import blake2b
    digest = blake2b(digest_size=16)
    directory = resource_dir("templates")
    for folder, subdirs, names in os.walk(directory):  # report/ too: compile_ahead compiles it
        subdirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"jinja2 {jinja_version}\ntemplates {digest.hexdigest()}\n"


def _new_environment() -> jinja2.Environment:
    import jinja2  # imported on first use: commands that render nothing start faster

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["go_quote"] = go_quote
    env.globals.update(GO_NAMES)
    return env


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = _new_environment()
    try:
        current = (COMPILED_DIR / _MANIFEST).read_text(encoding="utf-8") == _manifest(jinja2.__version__)
    except OSError:
        current = False
    if current:  # else (templates edited, another Jinja2) they are compiled here, as before
        env.loader = jinja2.ModuleLoader(str(COMPILED_DIR))
    return env


def compile_ahead(target: Path = COMPILED_DIR) -> None:
    """Writes the compiled templates and their manifest (run after editing templates/)."""
    import shutil

    import jinja2

    shutil.rmtree(target, ignore_errors=True)
    _new_environment().compile_templates(str(target), zip=None)
    (target / _MANIFEST).write_text(_manifest(jinja2.__version__), encoding="utf-8")


@cache
def _template(name: str) -> tuple[jinja2.Template, dict[str, object]]:
    """A template and its globals, copied once: Template.render copies them (a ChainMap) into
    every context, most of its ~10 µs a call, and a run renders twice per failpoint."""
    template = _environment().get_template(name)
    return template, dict(template.globals)


def _render(name: str, /, **values: object) -> bytes:
    """What Template.render returns, with the context made from the copied globals."""
    template, globals_ = _template(name)
    context = template.new_context({**globals_, **values}, shared=True)
    return template.environment.concat(template.root_render_func(context)).encode("utf-8")


def failpoint_open(indent: bytes, name: str, type_: str, value_var: str) -> bytes:
    """The header line of an enabled failpoint, without footer or newline."""
    return _render("failpoint_open.go.j2", indent=indent.decode(), name=name, type=type_, value_var=value_var)


def failpoint_close(name: str, type_: str) -> bytes:
    """The footer appended to a failpoint's last line."""
    return _render("failpoint_close.go.j2", name=name, type=type_)


def failpoint_comment(indent: bytes, name: str, type_: str) -> bytes:
    """The `// gofail: var NAME TYPE` header line that disable writes back."""
    return _render("failpoint_comment.go.j2", indent=indent.decode(), name=name, type=type_)


@cache
def _footer_around_name() -> tuple[bytes, bytes]:
    """The footer up to the failpoint's name and the byte after it, from the template rendered
    once with a placeholder name."""
    head, _, tail = failpoint_close(_PLACEHOLDER, "T").partition(_PLACEHOLDER.encode())
    return head, tail[:1]


def footer_needle(name: str) -> bytes:
    """What marks the end of an enabled failpoint's body in its last line (`; goto __nomockNAME;`)."""
    head, after = _footer_around_name()
    return head + name.encode() + after


@cache
def marker_prefix() -> bytes:
    """`// gofail:`, the prefix of every marker comment."""
    return _render("marker_prefix.go.j2")


@cache
def label_enabled() -> bytes:
    """The block comment that stands for `// gofail:` in an enabled label."""
    return _render("label_enabled.go.j2")


def binding(package: str, names: list[str]) -> bytes:
    """The `F.fail.go` file registering a source file's failpoints with the runtime."""
    return _render("binding.go.j2", package=package, names=names)


BINDING_HEADER = b"// GENERATED BY GOFAIL. DO NOT EDIT."


if __name__ == "__main__":
    compile_ahead()

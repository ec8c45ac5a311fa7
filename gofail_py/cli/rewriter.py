"""CLI commands of the rewriter: enable, disable, list."""

from __future__ import annotations

import sys

import click

from gofail_py.rewriter import workspace

PATHS = click.argument("paths", nargs=-1, metavar="[PATH]...")
NO_CACHE = click.option("--no-cache", is_flag=True, help="Neither read nor write the cache (~/.cache/gofail-py, see docs/speed.md).")


class _FlagsCommand(click.Command):
    """A command whose options are all flags. click tries a short option such as `-q` as a long
    one first, and the error it raises and catches for that imports difflib and computes close
    matches (~1 ms of a warm run): here a short flag before `--` can only mean its option, so it
    gets the option's long name before click parses the arguments."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        longs = {short: long for param in self.params if isinstance(param, click.Option) and param.is_flag
                 for long in [name for name in param.opts if name.startswith("--")][:1]  # none: left as it is
                 for short in param.opts if len(short) == 2}
        end = args.index("--") if "--" in args else len(args)
        return super().parse_args(ctx, [longs.get(arg, arg) if at < end else arg for at, arg in enumerate(args)])


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _summary(verb: str, plan: workspace.Plan) -> str:
    sources = [c for c in plan.changes if c.kind == "rewrite"]
    bindings = [c for c in plan.changes if c.kind != "rewrite"]
    found = f"{_count(len(plan.failpoints), 'failpoint')} in {_count(plan.files_with_failpoints, 'file')}"
    scanned = f"{_count(plan.files_scanned, 'file')} scanned"
    if not plan.changes:
        state = "enabled" if verb == "enable" else "disabled"
        return f"nothing to {verb}: {found} ({scanned}) already {state}"
    binding_verb = "written" if verb == "enable" else "removed"
    return (
        f"{verb}d {found}: {_count(len(sources), 'file')} rewritten, "
        f"{_count(len(bindings), 'binding file')} {binding_verb} ({scanned})"
    )


def visible(text: str) -> str:
    """Paths, names and bodies of a repository: shown, never obeyed. Everything gofail_py.terminal
    escapes is unprintable to str.isprintable, so printable text is shown as it is without
    loading it (a warm run loads nothing it does not use: tests/test_warm_imports.py)."""
    if text.isprintable():
        return text
    from gofail_py.terminal import visible as escaped

    return escaped(text)


def _report(verb: str, plan: workspace.Plan, dry_run: bool, quiet: bool, go_mod_notes: list[str]) -> None:
    if dry_run:
        click.echo(plan.diff() + plan.go_mod_diff, nl=False)
    elif not quiet:
        click.echo(_summary(verb, plan))
        for note in go_mod_notes:
            click.echo(visible(note))


EXAMPLES_ENABLE = """\b
Examples:
  gofail-py enable ./...              every package below the current directory
  gofail-py enable --go-get ./...     also `go get go.etcd.io/gofail@v0.2.0` in each module
  gofail-py enable --dry-run server/  show the diff, write nothing
  gofail-py enable --check ./...      CI guard: exit 1 if enabled code is present

PATH is a .go file, a package directory or DIR/... (recursive, like the go tool); default `.`.
Details, go.mod handling and exit codes: docs/rewriter.md.
"""

EXAMPLES_DISABLE = """\b
Examples:
  gofail-py disable ./...             put every `// gofail:` comment back, delete bindings
  gofail-py disable --dry-run ./...   show the diff, write nothing

PATH is a .go file, a package directory or DIR/... (recursive, like the go tool); default `.`.
After `enable --go-get`, disable also undoes the go.mod/go.sum change (see docs/rewriter.md).
"""

EXAMPLES_LIST = """\b
Examples:
  gofail-py list ./...                name, type, file:line, package, state
  gofail-py list --json server/       the same as a JSON array

PATH is a .go file, a package directory or DIR/... (recursive, like the go tool); default `.`.
See docs/rewriter.md.
"""


@click.command(cls=_FlagsCommand, epilog=EXAMPLES_ENABLE)
@PATHS
@click.option("--dry-run", is_flag=True, help="Print a unified diff of what would change (with --go-get, go.mod/go.sum too); write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file under the paths is enabled.")
@click.option("--go-get", is_flag=True, help="Also require go.etcd.io/gofail v0.2.0 in go.mod (disable undoes it).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@NO_CACHE
def enable(paths: tuple[str, ...], dry_run: bool, check: bool, go_get: bool, quiet: bool, no_cache: bool) -> None:
    """Turn `// gofail:` comments into failpoint code, byte-identical to gofail v0.2.0."""
    if check:
        enabled = workspace.enabled_files(paths, cache=not no_cache)
        for path in enabled:
            click.echo(visible(f"{path}: enabled"))
        where = " ".join(paths) or "."
        if enabled:
            click.echo(visible(f"gofail-py: {len(enabled)} file(s) under {where} hold enabled failpoint code or are binding "
                       "files: `gofail-py disable` turns them back"), err=True)
        elif not quiet:
            click.echo(visible(f"clean: no enabled failpoint code and no binding file under {where}"))
        sys.exit(1 if enabled else 0)
    plan = workspace.enable(paths, dry_run=dry_run, go_get=go_get, cache=not no_cache)
    notes = [f"required go.etcd.io/gofail {workspace.RUNTIME_VERSION} in {root / 'go.mod'}" for root in plan.module_roots]
    _report("enable", plan, dry_run, quiet, notes)
    if not go_get and not quiet:
        for root in workspace.unrequired_modules(plan):
            click.echo(visible(
                f"note: {root / 'go.mod'} does not require go.etcd.io/gofail: the build will need it; run "
                f"`go get go.etcd.io/gofail@{workspace.RUNTIME_VERSION}` in {root}, or enable with --go-get "
                "(which disable undoes)"),
                err=True,
            )


@click.command(cls=_FlagsCommand, epilog=EXAMPLES_DISABLE)
@PATHS
@click.option("--dry-run", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@NO_CACHE
def disable(paths: tuple[str, ...], dry_run: bool, quiet: bool, no_cache: bool) -> None:
    """Turn failpoint code back into `// gofail:` comments and delete the binding files."""
    plan = workspace.disable(paths, dry_run=dry_run, cache=not no_cache)
    _report("disable", plan, dry_run, quiet, plan.go_mod_notes)


@click.command(name="list", epilog=EXAMPLES_LIST)
@PATHS
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@NO_CACHE
def list_(paths: tuple[str, ...], as_json: bool, no_cache: bool) -> None:
    """List every failpoint: name, type, file:line, package, enabled or not, body."""
    failpoints = workspace.list_failpoints(paths, cache=not no_cache)
    if as_json:
        import json

        click.echo(json.dumps([fp.as_dict() for fp in failpoints], indent=2))
        return
    for located in failpoints:
        fp = located.failpoint
        state = "enabled" if fp.enabled else "disabled"
        fields = (fp.name, fp.type, f"{located.path}:{fp.line}", located.package, state)
        click.echo("\t".join(visible(field).replace("\t", "\\t") for field in fields))  # a tab in a path would shift columns
        for line in fp.body:
            click.echo(f"\t| {visible(line)}")


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    for command in (enable, disable, list_):
        group.add_command(command)

"""CLI commands of the rewriter: enable, disable, list."""

from __future__ import annotations

import json
import sys

import click

from gofail_py import workspace

PATHS = click.argument("paths", nargs=-1, metavar="[PATH]...")
PATHS_HELP = "PATH is a .go file, a package directory or DIR/... (recursive, like the go tool); default `.`."
NO_CACHE = click.option("--no-cache", is_flag=True, help="Neither read nor write the cache (~/.cache/gofail-py, see docs/speed.md).")


def _summary(verb: str, plan: workspace.Plan) -> str:
    sources = [c for c in plan.changes if c.kind == "rewrite"]
    bindings = [c for c in plan.changes if c.kind != "rewrite"]
    total = len(plan.failpoints)
    if not plan.changes:
        state = "enabled" if verb == "enable" else "disabled"
        return f"nothing to {verb}: {total} failpoint(s) in {plan.files_scanned} file(s) already {state}"
    binding_verb = "written" if verb == "enable" else "removed"
    return (
        f"{verb}d {total} failpoint(s): {len(sources)} file(s) rewritten, "
        f"{len(bindings)} binding file(s) {binding_verb}, {plan.files_scanned} file(s) scanned"
    )


def _report(verb: str, plan: workspace.Plan, dry_run: bool, quiet: bool, go_mod_line: str) -> None:
    if dry_run:
        click.echo(plan.diff(), nl=False)
    elif not quiet:
        click.echo(_summary(verb, plan))
        for root in plan.module_roots:
            click.echo(go_mod_line.format(root / "go.mod"))


@click.command(epilog=PATHS_HELP)
@PATHS
@click.option("--dry-run", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file under the paths is enabled.")
@click.option("--go-get", is_flag=True, help="Also require go.etcd.io/gofail v0.2.0 in go.mod (disable restores it).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@NO_CACHE
def enable(paths: tuple[str, ...], dry_run: bool, check: bool, go_get: bool, quiet: bool, no_cache: bool) -> None:
    """Turn `// gofail:` comments into failpoint code, byte-identical to gofail v0.2.0."""
    if check:
        enabled = workspace.enabled_files(paths, cache=not no_cache)
        for path in enabled:
            click.echo(f"{path}: enabled")
        sys.exit(1 if enabled else 0)
    plan = workspace.enable(paths, dry_run=dry_run, go_get=go_get, cache=not no_cache)
    _report("enable", plan, dry_run, quiet, f"required go.etcd.io/gofail {workspace.RUNTIME_VERSION} in {{}}")


@click.command(epilog=PATHS_HELP)
@PATHS
@click.option("--dry-run", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@NO_CACHE
def disable(paths: tuple[str, ...], dry_run: bool, quiet: bool, no_cache: bool) -> None:
    """Turn failpoint code back into `// gofail:` comments and delete the binding files."""
    plan = workspace.disable(paths, dry_run=dry_run, cache=not no_cache)
    _report("disable", plan, dry_run, quiet, "restored {} and go.sum as they were before --go-get")


@click.command(name="list", epilog=PATHS_HELP)
@PATHS
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@NO_CACHE
def list_(paths: tuple[str, ...], as_json: bool, no_cache: bool) -> None:
    """List every failpoint: name, type, file:line, package, enabled or not, body."""
    failpoints = workspace.list_failpoints(paths, cache=not no_cache)
    if as_json:
        click.echo(json.dumps([fp.as_dict() for fp in failpoints], indent=2))
        return
    for located in failpoints:
        fp = located.failpoint
        state = "enabled" if fp.enabled else "disabled"
        click.echo(f"{fp.name}\t{fp.type}\t{located.path}:{fp.line}\t{located.package}\t{state}")
        for line in fp.body:
            click.echo(f"\t| {line}")


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    for command in (enable, disable, list_):
        group.add_command(command)

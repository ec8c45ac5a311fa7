"""CLI commands that drive running binaries: set, unset, get, count, ls, ps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def endpoint_option(command: F) -> F:
    return click.option(
        "--endpoint",
        "-e",
        envvar="GOFAIL_HTTP",
        help="HOST:PORT of the binary's gofail endpoint [default: $GOFAIL_HTTP].",
    )(command)


def json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def _client(endpoint: str | None) -> Any:
    from gofail_py.client import Client  # imported here so the rewriter commands start fast

    return Client(endpoint)


def _split_assignment(text: str) -> tuple[str, str]:
    name, sep, terms = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: expected NAME=TERMS, e.g. raftAfterSave=sleep(1s)")
    return name, terms


@click.command(name="set")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=TERMS...")
@endpoint_option
def set_(assignments: tuple[str, ...], endpoint: str | None) -> None:
    """Set failpoints' terms, e.g. `raftAfterSave=sleep(1s)` (several go in one request)."""
    failpoints = dict(_split_assignment(a) for a in assignments)
    client = _client(endpoint)
    if len(failpoints) == 1:
        client.enable(*next(iter(failpoints.items())))
    else:
        client.enable_many(failpoints)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Disable every active failpoint.")
@endpoint_option
@json_option
def unset(names: tuple[str, ...], all_: bool, endpoint: str | None, as_json: bool) -> None:
    """Disable failpoints (or `--all` of them)."""
    if not names and not all_:
        raise click.UsageError("name the failpoints to disable, or pass --all")
    client = _client(endpoint)
    if all_:
        disabled = client.disable_all()
    else:
        for name in names:
            client.disable(name)
        disabled = list(names)
    if as_json:
        click.echo(json.dumps(disabled))
    elif all_:
        click.echo(f"disabled {len(disabled)} failpoint(s){': ' + ', '.join(disabled) if disabled else ''}")


@click.command()
@click.argument("name")
@endpoint_option
@json_option
def get(name: str, endpoint: str | None, as_json: bool) -> None:
    """Print a failpoint's terms."""
    terms = _client(endpoint).get(name)
    click.echo(json.dumps({"name": name, "terms": terms}) if as_json else terms)


@click.command()
@click.argument("name")
@endpoint_option
@json_option
def count(name: str, endpoint: str | None, as_json: bool) -> None:
    """Print how often a failpoint's terms fired since they were set."""
    value = _client(endpoint).count(name)
    click.echo(json.dumps({"name": name, "count": value}) if as_json else value)


@click.command()
@endpoint_option
@json_option
def ls(endpoint: str | None, as_json: bool) -> None:
    """List the running binary's failpoints; active ones are marked `*` with their terms."""
    failpoints = _client(endpoint).list()
    if as_json:
        click.echo(json.dumps([{"name": n, "terms": t, "active": bool(t)} for n, t in failpoints.items()], indent=2))
        return
    for name, terms in failpoints.items():
        click.echo(f"* {name}={terms}" if terms else f"  {name}")


@click.command()
@json_option
def ps(as_json: bool) -> None:
    """List local processes started with GOFAIL_HTTP: pid, endpoint, active failpoints, command."""
    from gofail_py.procfind import gofail_processes

    processes = gofail_processes()
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in processes], indent=2))
        return
    click.echo(f"{'PID':>7}  {'ENDPOINT':<21}  {'ACTIVE':>6}  COMMAND")
    for p in processes:
        active = "?" if p.active is None else str(p.active)
        click.echo(f"{p.pid:>7}  {p.endpoint:<21}  {active:>6}  {p.command}")


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    for command in (set_, unset, get, count, ls, ps):
        group.add_command(command)

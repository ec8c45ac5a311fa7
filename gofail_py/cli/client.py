"""CLI commands that drive running binaries: set, unset, get, count, ls, ps.

Every command reads the same shared options (--endpoint, --timeout, --json); the grammar of terms
and the exit codes are in docs/client.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gofail_py.cli.options import Seconds
from gofail_py.terminal import visible  # names, terms and messages from outside: shown, never obeyed

F = TypeVar("F", bound=Callable[..., Any])
DOC = "Terms grammar, options and exit codes: docs/client.md."


def endpoint_options(command: F) -> F:
    """--endpoint, --timeout and --json, read the same by every client command."""
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(command)
    command = click.option(
        "--timeout", type=Seconds(), default=5.0, show_default=True, metavar="SECONDS",
        help="Deadline for each request to the endpoint, as a whole (connect, send, read).",
    )(command)
    return click.option(
        "--endpoint", "-e", envvar="GOFAIL_HTTP", metavar="HOST:PORT",
        help="The binary's gofail endpoint [default: $GOFAIL_HTTP].",
    )(command)


def _client(endpoint: str | None, timeout: float) -> Any:
    from gofail_py.client.client import Client  # imported here so the rewriter commands start fast

    return Client(endpoint, timeout=timeout)


def _past_registration(client: Any, timeout: float) -> None:
    """Before GET / (ls, unset --all): a local binary younger than STARTING_FOR s may still register
    its failpoints, and the runtime walks its map unlocked for GET / (fatal then). Waits until it is
    older, within ``timeout``, or says so (exit 3) without asking it."""
    import time

    from gofail_py.errors import EndpointTimeout
    from gofail_py.processes.procfind import STARTING_FOR, listener_age

    found = listener_age(client.endpoint)
    if found is None or found[1] >= STARTING_FOR:
        return
    pid, age = found
    if STARTING_FOR - age > timeout:
        raise EndpointTimeout(
            f"{client.endpoint}: its process (pid {pid}) started {age:.1f} s ago and may still be registering "
            f"failpoints (asking for the list then can kill it); nothing was sent. Try again in "
            f"{STARTING_FOR - age:.1f} s, or give --timeout {STARTING_FOR:g} to wait")
    click.echo(f"gofail-py: {client.endpoint}: its process (pid {pid}) started {age:.1f} s ago and may still be "
               f"registering failpoints (asking for the list then can kill it): waiting {STARTING_FOR - age:.1f} s", err=True)
    time.sleep(STARTING_FOR - age)


def _split_assignment(text: str) -> tuple[str, str]:
    name, sep, terms = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: expected NAME=TERMS, e.g. 'raftAfterSave=sleep(1s)'")
    return name, terms


def _warn(message: str) -> None:
    click.echo(visible(f"gofail-py: warning: {message}"), err=True)


@click.command(name="set", epilog=DOC)
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=TERMS...")
@click.option("--raw", is_flag=True, help="Send the terms unchanged and unchecked (the runtime's own reading).")
@click.option("--wait-registered", type=Seconds(zero_ok=True), default=0.0, metavar="SECONDS",
              help="Ask again for up to SECONDS while a name is not registered yet (a binary just started).")
@endpoint_options
def set_(assignments: tuple[str, ...], raw: bool, wait_registered: float, endpoint: str | None, timeout: float,
         as_json: bool) -> None:
    """Set failpoints' terms (several go in one request).

    \b
    Examples:
      gofail-py set 'raftAfterSave=sleep(1s)'
      gofail-py set 'a=panic' 'b=2*return("x")->off' --wait-registered 10
    """
    from gofail_py.terms import normalize_terms

    failpoints: dict[str, str] = {}
    for name, terms in map(_split_assignment, assignments):
        if name in failpoints:
            _warn(f"{name} is given twice; the last terms ({terms}) are set")
        failpoints[name] = terms
    client = _client(endpoint, timeout)
    if len(failpoints) == 1:
        client.enable(*next(iter(failpoints.items())), raw=raw, wait_registered=wait_registered)
    else:
        client.enable_many(failpoints, raw=raw, wait_registered=wait_registered)
    sent = {name: normalize_terms(terms, raw=raw) for name, terms in failpoints.items()}
    if as_json:
        click.echo(json.dumps([{"name": n, "terms": t} for n, t in sent.items()]))
        return
    for name, terms in sent.items():
        click.echo(visible(f"set {name}={terms}"))


@click.command(epilog=DOC)
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Disable every active failpoint.")
@endpoint_options
def unset(names: tuple[str, ...], all_: bool, endpoint: str | None, timeout: float, as_json: bool) -> None:
    """Disable failpoints (or --all of them); one already off is no error.

    \b
    Examples:
      gofail-py unset raftAfterSave
      gofail-py unset --all
    """
    if not names and not all_:
        raise click.UsageError("name the failpoints to disable, or pass --all")
    client = _client(endpoint, timeout)
    if all_:
        _past_registration(client, timeout)
        disabled, already_off = client.disable_all(), []
    else:
        done = {name: client.disable(name) for name in dict.fromkeys(names)}
        disabled = [name for name, was_on in done.items() if was_on]
        already_off = [name for name, was_on in done.items() if not was_on]
    if as_json:
        click.echo(json.dumps({"disabled": disabled, "already_off": already_off}))
    elif all_:
        click.echo(visible(f"disabled {len(disabled)} failpoint(s){': ' + ', '.join(disabled) if disabled else ''}"))
    else:
        for name in disabled:
            click.echo(visible(f"disabled {name}"))
        for name in already_off:
            click.echo(visible(f"{name} was already off"))


@click.command(epilog=DOC)
@click.argument("name")
@endpoint_options
def get(name: str, endpoint: str | None, timeout: float, as_json: bool) -> None:
    """Print a failpoint's terms; an empty line (exit 0) when it is off.

    \b
    Example:
      gofail-py get raftAfterSave
    """
    terms: str | None = _client(endpoint, timeout).get(name) or None
    if terms is None and not as_json:
        click.echo(visible(f"gofail-py: {name} is off (no terms set)"), err=True)
    if as_json:
        click.echo(json.dumps({"name": name, "terms": terms, "active": terms is not None}))
    else:
        click.echo(visible(terms or ""))


@click.command(epilog=DOC)
@click.argument("name")
@endpoint_options
def count(name: str, endpoint: str | None, timeout: float, as_json: bool) -> None:
    """Print how often a failpoint's terms fired since they were set (exit 1 when it is off).

    \b
    Example:
      gofail-py count raftAfterSave
    """
    value = _client(endpoint, timeout).count(name)
    click.echo(json.dumps({"name": name, "count": value}) if as_json else value)


@click.command(epilog=DOC)
@endpoint_options
def ls(endpoint: str | None, timeout: float, as_json: bool) -> None:
    """List the binary's failpoints; active ones are marked * with their terms.

    \b
    Example:
      GOFAIL_HTTP=127.0.0.1:22381 gofail-py ls
    """
    client = _client(endpoint, timeout)
    _past_registration(client, timeout)
    failpoints = client.list()
    if as_json:
        click.echo(json.dumps([{"name": n, "terms": t, "active": bool(t)} for n, t in failpoints.items()], indent=2))
        return
    for name, terms in failpoints.items():
        click.echo(visible(f"* {name}={terms}" if terms else f"  {name}"))


@click.command(epilog=DOC)
@click.option("--timeout", type=Seconds(), default=1.0, show_default=True,
              metavar="SECONDS", help="Deadline for asking each process's endpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.option("--stale", is_flag=True, help="List processes left behind by scenario runs or fixtures that no longer exist (as `gofail-py sweep`).")
@click.option("--stop", is_flag=True, help="With --stale: stop them (SIGTERM, SIGKILL after 3 s) and remove dead runs' temp dirs.")
@click.option("--run", "run", metavar="TOKEN", help="With --stale: only what this dead run left (its token, or its PID).")
def ps(timeout: float, as_json: bool, stale: bool, stop: bool, run: str | None) -> None:
    """List local gofail binaries: those listening on their own GOFAIL_HTTP endpoint.

    A process started less than a few seconds ago shows as "starting" (it is not asked for its
    failpoints while it may still be registering them).

    --stale lists instead every process carrying the token of a gofail-py run that is gone
    (endpoint or not); --stale --stop stops them.

    \b
    Example:
      gofail-py ps --json
      gofail-py ps --stale --stop
    """
    if (stop or run is not None) and not stale:
        raise click.UsageError("--stop and --run go with --stale: `gofail-py ps --stale --stop`")
    if stale:
        from gofail_py.cli.scenario import show_stale

        show_stale(stop, as_json, run)
        return
    from gofail_py.processes.procfind import gofail_processes

    processes = gofail_processes(timeout=timeout)
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in processes], indent=2))
        return
    click.echo(f"{'PID':>7}  {'ENDPOINT':<21}  {'STATE':<8}  {'BINARY':<24}  ACTIVE")
    for p in processes:
        active = ", ".join(f"{n}={t}" for n, t in p.active.items()) if p.active else "-"
        click.echo(visible(f"{p.pid:>7}  {p.endpoint:<21}  {p.state:<8}  {p.binary:<24}  {active}"))


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    for command in (set_, unset, get, count, ls, ps):
        group.add_command(command)

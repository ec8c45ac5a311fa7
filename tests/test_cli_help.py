"""The top-level command explains itself, loads only what a command needs, and its table is true."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import gofail_py
import gofail_py.cli
from gofail_py.cli import COMMANDS, main
from tests.support.goprog import REPO, free_port

HEAVY = ("requests", "tree_sitter", "tree_sitter_go", "jinja2")


def gofail_py_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).parent / "gofail-py"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, cwd=REPO)


def loaded_after(*args: str) -> tuple[int, set[str]]:
    """Runs the CLI in a fresh interpreter; its exit code and which heavy packages it imported."""
    probe = (
        "import sys, json\nfrom gofail_py.cli import main\ncode = 0\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60, cwd=REPO)
    code, heavy = json.loads(done.stdout.splitlines()[-1])
    return code, set(heavy)


def first_paragraph(command: click.Command) -> str:
    text = command.short_help or (command.help or "").split("\n\n")[0]
    return " ".join(text.split())


def test_no_arguments_prints_the_whole_help_and_exits_0() -> None:
    done = gofail_py_cli()
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    for name, row in COMMANDS.items():
        assert f" {name} " in flat
        assert row.summary in flat, f"{name}'s summary is cut in the top-level help"
    assert "fired since they were set (exit 1 when it is off)." in flat  # click would cut it at "(exit"
    assert done.stdout == gofail_py_cli("--help").stdout == gofail_py_cli("-h").stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_dash_h_works_for_every_command(name: str) -> None:
    done = gofail_py_cli(name, "-h")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: gofail-py {name} ")
    assert "-h, --help" in done.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_shows_an_example_command_line(name: str) -> None:
    lines = gofail_py_cli(name, "-h").stdout.splitlines()
    examples = [line.strip() for line in lines if line.strip().startswith(("gofail-py ", "GOFAIL_HTTP="))]
    assert any(f"gofail-py {name}" in line for line in examples), f"`gofail-py {name} -h` shows no example"


def registered_by(module_name: str) -> dict[str, click.Command]:
    """The commands a command module's register(group) adds, in a group of their own."""
    group = click.Group()
    importlib.import_module(module_name).register(group)
    return dict(group.commands)


def test_the_table_agrees_with_what_the_modules_register() -> None:
    modules = {row.module for row in COMMANDS.values()}
    modules |= {f"gofail_py.cli.{m.name}" for m in pkgutil.iter_modules(gofail_py.cli.__path__)
                if not m.name.startswith("_") and hasattr(importlib.import_module(f"gofail_py.cli.{m.name}"), "register")}
    registered = {name: (module, command) for module in sorted(modules)
                  for name, command in registered_by(module).items()}
    assert set(registered) == set(COMMANDS), "a command module registers a command the table in cli/__init__.py lacks"
    for name, row in COMMANDS.items():
        module, command = registered[name]
        assert row.module == module, f"COMMANDS[{name!r}]: registered by {module}"
        assert row.summary == first_paragraph(command), f"update COMMANDS[{name!r}] in gofail_py/cli/__init__.py"


def test_the_group_serves_the_registered_commands() -> None:
    context = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None and command.name == name
    assert main.get_command(context, "nope") is None


def test_help_imports_neither_requests_nor_tree_sitter() -> None:
    assert loaded_after("--help") == (0, set())
    assert loaded_after() == (0, set())
    assert loaded_after("set", "--help") == (0, set())


def test_client_commands_never_import_tree_sitter() -> None:
    unreachable = f"127.0.0.1:{free_port()}"
    for args in (["ls"], ["get", "someFailpoint"], ["set", "someFailpoint=off"]):
        code, heavy = loaded_after(*args, "--endpoint", unreachable)
        assert code == 3
        assert heavy == {"requests"}, args


def test_run_never_imports_tree_sitter() -> None:
    code, heavy = loaded_after("run", str(REPO / "examples" / "missing.gofail"))
    assert code == 2
    assert not heavy & {"tree_sitter", "tree_sitter_go", "jinja2"}


def test_dir_shows_the_public_names() -> None:
    names = dir(gofail_py)
    assert set(gofail_py.__all__) <= set(names)
    assert "Client" in names and "_EXPORTS" not in names


def test_docs_cli_md_has_a_row_for_every_command() -> None:
    table = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"| `{name}" in table, f"docs/cli.md: add {name}'s exit codes"

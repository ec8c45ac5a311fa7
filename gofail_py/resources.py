"""Finds the tree-sitter queries and Jinja2 templates, in a wheel or in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """``grammars`` or ``templates``: inside the installed package, else at the repo's top."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"gofail-py is installed without its {name}/ folder")


def read_query(name: str) -> str:
    return (resource_dir("grammars") / f"{name}.scm").read_text(encoding="utf-8")

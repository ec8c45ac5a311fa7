"""`python -m gofail_py.cli`, the same as the `gofail-py` command."""

from gofail_py.cli import main

main()

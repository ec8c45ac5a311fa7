"""gofail_py.terminal.visible: what it escapes, and the shortcut callers take (str.isprintable)."""

from __future__ import annotations

import sys

from gofail_py.terminal import visible


def test_escapes_what_drives_a_terminal_and_keeps_the_rest() -> None:
    assert visible("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert visible("\u202eexe.txt \x9b2J \x7f \x00") == "\\u202eexe.txt \\x9b2J \\x7f \\x00"
    assert visible("line\nnext\r\tcol") == "line\\nnext\\r\tcol"
    assert visible("line\nnext", lines=True) == "line\nnext"
    assert visible("caf\u00e9 \u4e2d \U0001f600 \\x1b") == "caf\u00e9 \u4e2d \U0001f600 \\x1b"  # printable text is kept
    assert visible(b"bad\xff".decode("utf-8", "surrogateescape")) == "bad\\udcff"


def test_everything_escaped_is_unprintable_so_printable_text_can_skip_it() -> None:
    # cli/rewriter.py prints text that str.isprintable() accepts without loading this module
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if visible(char) != char:
            assert not char.isprintable(), hex(code)
    assert visible("\t") == "\t" == visible("\t", lines=True)  # a tab only moves to the next column stop

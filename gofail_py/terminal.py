"""Text from outside (an endpoint, a repository, a journal), made safe to print on a terminal.

A terminal obeys the control characters it is sent: ESC starts sequences that move the cursor,
clear the screen, set the window title or write the clipboard (OSC 52); C1 codes (U+0080-U+009F)
do the same on some terminals; bidirectional overrides (U+202E...) make text read differently
from what it is. ``visible`` shows every one of them as an escape (``\\x1b``, ``\\u202e``) and
leaves the rest alone, tabs included (a tab only moves to the next column stop), and newlines
only where the caller keeps them (a message of several lines of our own).
"""

from __future__ import annotations

import re

# C0 but tab and newline (those two: see ``keep``), DEL, C1, the bidi controls (embeddings,
# overrides, isolates, marks), line and paragraph separators, lone surrogates (an undecodable
# file name, as os.fsdecode gives it) and the BOM / zero-width no-break space
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_UNSAFE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with every character that could drive a terminal shown as an escape.

    One line by default: a newline is escaped too (a name or terms holding one would forge a row
    of a listing). ``lines=True`` keeps newlines, for messages of several lines.
    """
    return (_UNSAFE if lines else _UNSAFE_LINE).sub(_escape, text)


__all__ = ["visible"]

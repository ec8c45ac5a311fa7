"""Hypothesis strategies that write Go files with failpoints at statement positions."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

TYPES = ("struct{}", "int", "string", "bool")
DECOYS = (
    "_ = `\n// gofail: var rawDecoy{n} int\n`",  # a raw string spanning lines
    "/* // gofail: var blockDecoy{n} int */",
    '_ = "// gofail: var stringDecoy{n} int"',
    "_ = 'x' // gofail: var trailingDecoy{n} int",  # not at the start of its line
)


@dataclass
class _Writer:
    indent_unit: str
    lines: list[str] = field(default_factory=list)
    counter: int = 0

    def emit(self, depth: int, text: str) -> None:
        for line in text.split("\n"):
            self.lines.append(self.indent_unit * depth + line if line else line)

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


@st.composite
def statements(draw: st.DrawFn, writer: _Writer, depth: int, loop_label: str | None, budget: int) -> None:
    """A list of statements at one depth; failpoints among them; nested blocks while budget lasts."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["plain", "failpoint", "failpoint", "decoy", "block"] if budget > 0 else
                                    ["plain", "failpoint", "decoy"]))
        if kind == "plain":
            writer.emit(depth, draw(st.sampled_from(['_ = "text"', "_ = 1 + 2", "{\n}", "_ = []int{1, 2}"])))
        elif kind == "decoy":
            writer.emit(depth, draw(st.sampled_from(DECOYS)).format(n=writer.name("")))
        elif kind == "failpoint":
            name = writer.name("fp")
            type_ = draw(st.sampled_from(TYPES))
            writer.emit(depth, f"// gofail: var {name} {type_}")
            body_style = draw(st.sampled_from(["none", "space", "tab", "tab_space"]))
            uses = f"_ = {name}" if type_ != "struct{}" else "_ = 0"
            if body_style == "space":
                writer.emit(depth, f"// {uses}")
            elif body_style == "tab":
                writer.emit(depth, f"// if true {{\n//\t{uses}\n// }}")
            elif body_style == "tab_space":  # real code: `//\t return ...` at the header's indentation
                writer.emit(depth, f"//\t {uses}")
            if loop_label and draw(st.booleans()):
                writer.emit(depth, f"// gofail: var {writer.name('jump')} struct{{}}\n// continue {loop_label}")
            writer.emit(depth, '_ = "after"')  # a statement ends the body, as code does
        else:
            block = draw(st.sampled_from(["if", "for", "switch", "select", "closure", "labeled"]))
            if block == "if":
                writer.emit(depth, "if true {")
                draw(statements(writer, depth + 1, loop_label, budget - 1))
                writer.emit(depth, "}")
            elif block in ("for", "labeled"):
                label = writer.name("L") if block == "labeled" else None
                if label:
                    writer.emit(depth, f"// gofail: {label}:")
                writer.emit(depth, "for i := 0; i < 2; i++ {")
                draw(statements(writer, depth + 1, label or loop_label, budget - 1))
                if label:  # a label nobody jumps to does not compile once enabled
                    writer.emit(depth + 1, f"// gofail: var {writer.name('jump')} struct{{}}\n// continue {label}")
                writer.emit(depth + 1, "_ = i")
                writer.emit(depth, "}")
            elif block == "switch":
                writer.emit(depth, "switch n := 1; n {\ncase 1:")
                draw(statements(writer, depth + 1, loop_label, budget - 1))
                writer.emit(depth, "default:")
                draw(statements(writer, depth + 1, loop_label, budget - 1))
                writer.emit(depth, "}")
            elif block == "select":
                writer.emit(depth, "select {\ndefault:")
                draw(statements(writer, depth + 1, loop_label, budget - 1))
                writer.emit(depth, "}")
            else:
                writer.emit(depth, "func() {")
                draw(statements(writer, depth + 1, None, budget - 1))
                writer.emit(depth, "}()")


@st.composite
def go_files(draw: st.DrawFn) -> bytes:
    """A whole Go file: LF or CRLF, tabs or spaces, functions full of failpoints and decoys."""
    writer = _Writer(indent_unit=draw(st.sampled_from(["\t", "    "])))
    writer.emit(0, "package generated\n")
    for _ in range(draw(st.integers(1, 3))):
        writer.emit(0, f"func {writer.name('F')}() {{")
        draw(statements(writer, 1, None, budget=2))
        writer.emit(0, "}\n")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(writer.lines).encode() + newline.encode()


# Top-level declarations around the functions, for the partial parse (only declarations with
# gofail text are parsed): decoys whose keyword lines or markers sit inside literals or comments,
# declarations that hold failpoints outside a func declaration, and code a lexer could misread.
TOP_LEVEL = (
    "func plainN() int {\n\treturn 1\n}",
    "var rawN = `\nfunc hiddenN() {\n\t// gofail: var rawHiddenN int\n}\n`",
    "/*\nfunc commentedN() {\n// gofail: var blockHiddenN int\n}\n*/",
    "var literalN = func() {\n\t// gofail: var inLiteralN struct{}\n}",
    "type TN struct {\n\tA int // }\n}",
    'const (\n\tcN = "}{"\n\tdN = \'}\'\n)',
    'var stringN = "// gofail: var stringDecoyN int"',
    "var continuedN =\nfunc() int { return 1 }()",
    "func unformattedN() {\nvar y = 1\n\t_ = y\n}",
    "var quoteN = '\"'\nvar tickN = \"`\"",
    "// gofail: var outsideN int",  # an error: every message must be the whole parse's
    "func brokenN() {\n\tx := := 1\n}",  # invalid Go where no gofail text is: not parsed
    "var = 1 +",
    "type TN strct { ) (",
    "func halfN() {\n\tif true {\n}",
    "var semiN = 1;",
)


@st.composite
def files_with_declarations(draw: st.DrawFn) -> bytes:
    """A Go file whose functions with failpoints stand among other top-level declarations."""
    writer = _Writer(indent_unit=draw(st.sampled_from(["\t", "    "])))
    writer.emit(0, draw(st.sampled_from(["package generated\n", "// Package doc.\npackage generated\n",
                                          "/*\nfunc license() {}\n*/\npackage generated\n"])))
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            writer.emit(0, f"func {writer.name('F')}() {{")
            draw(statements(writer, 1, None, budget=1))
            writer.emit(0, "}\n")
        else:
            writer.emit(0, draw(st.sampled_from(TOP_LEVEL)).replace("N", writer.name("n")) + "\n")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(writer.lines).encode() + newline.encode()

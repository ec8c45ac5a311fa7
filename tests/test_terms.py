"""The terms parser agrees with the real runtime v0.2.0 on every line of the corpus."""

from __future__ import annotations

import subprocess

import pytest

from gofail_py.errors import TermSyntaxError
from gofail_py.terms import NO_VALUE, Terms, normalize_terms, parse_terms
from tests.support.gobuild import built
from tests.support.goprog import TESTDATA

CORPUS = (TESTDATA / "terms" / "corpus.txt").read_text(encoding="utf-8").split("\n")[:-1]


def _accepts(text: str) -> bool:
    try:
        parse_terms(text, runtime_exact=True)
        return True
    except TermSyntaxError:
        return False


@pytest.fixture(scope="module")
def runtime_verdicts() -> list[bool]:
    """What the real runtime's Enable says of each corpus line (via testdata/termcheck)."""
    done = subprocess.run(
        [str(built("termcheck", TESTDATA / "termcheck"))], input="\n".join(CORPUS) + "\n",
        capture_output=True, text=True, check=True,
    )
    verdicts = [line.split("\t")[1] == "accept" for line in done.stdout.splitlines() if line.startswith("VERDICT\t")]
    assert len(verdicts) == len(CORPUS)
    return verdicts


def test_corpus_is_large_and_mixed(runtime_verdicts: list[bool]) -> None:
    assert len(CORPUS) >= 200
    assert 50 < sum(runtime_verdicts) < len(CORPUS) - 50


def test_parser_agrees_with_the_runtime_on_every_line(runtime_verdicts: list[bool]) -> None:
    disagreements = [(line, go) for line, go in zip(CORPUS, runtime_verdicts) if _accepts(line) != go]
    assert disagreements == []


def test_parsed_structure() -> None:
    parsed = parse_terms('50.0%3*return("x")->sleep(10)->panic')
    first, second, third = parsed.terms
    assert (first.percent, first.count, first.action, first.value) == (50.0, 3, "return", "x")
    assert (second.action, second.value) == ("sleep", 10)
    assert (third.action, third.value) == ("panic", NO_VALUE)


@pytest.mark.parametrize(
    ("friendly", "sent"),
    [("sleep(1s)", 'sleep("1s")'), ("sleep(500ms)", 'sleep("500ms")'), ("2*sleep(1m30s)->off", '2*sleep("1m30s")->off'),
     ("sleep(100)", "sleep(100)"), ('return("1s")', 'return("1s")')],
)
def test_friendly_durations_are_quoted(friendly: str, sent: str) -> None:
    assert normalize_terms(friendly) == sent


def test_error_points_at_the_problem() -> None:
    with pytest.raises(TermSyntaxError) as caught:
        normalize_terms("sleep(1s -> off")
    assert caught.value.column == 9
    assert "`sleep(` is not closed" in caught.value.message
    assert str(caught.value).endswith("\n  sleep(1s -> off\n" + " " * 10 + "^")
    with pytest.raises(TermSyntaxError, match=r"write a percentage as a decimal, 10\.0%"):
        normalize_terms("10%panic")


def test_builder_renders_what_the_parser_reads() -> None:
    cases = {
        Terms.sleep("1s"): 'sleep("1s")',
        Terms.panic(): "panic",
        Terms.return_("x").times(2).then(Terms.off()): '2*return("x")->off',
        Terms.sleep(100).percent(10): "10.0%sleep(100)",
        Terms.return_('say "hi"'): 'return(`say "hi"`)',
        Terms.return_(True): "return(true)",
        Terms.return_(None): "return()",
    }
    for built, text in cases.items():
        assert str(built) == text
        parse_terms(str(built))


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("sleep(1s", 9, "`sleep(` is not closed: write sleep(1s)"),  # the runtime sleeps 1 ms
        ("sleep(1x)", 8, "unknown duration unit 'x'"),
        ("return(5x", 9, "expected `)` after the value, found 'x'"),  # the runtime returns 5
        ("return(1", 9, "`(` is not closed"),  # the runtime's handler panics on it
        ('return("x"y', 11, "expected `)`"),
        ("return(tXYZ)", 8, "write the boolean as true"),  # the runtime reads true
    ],
)
def test_what_the_runtime_misreads_is_refused(text: str, column: int, message: str) -> None:
    with pytest.raises(TermSyntaxError) as caught:
        normalize_terms(text)
    assert (caught.value.column, message in caught.value.message) == (column, True), caught.value


def test_runtime_exact_and_raw_keep_the_runtime_reading() -> None:
    parsed = parse_terms("sleep(1s", runtime_exact=True)
    assert parsed.terms[0].value == 1
    assert normalize_terms("sleep(1s", raw=True) == "sleep(1s"


def test_the_runtime_misreads_unclosed_terms(runtime_verdicts: list[bool]) -> None:
    """Why strict parsing exists: the runtime itself accepts these lines of the corpus."""
    misread = [line for line, go in zip(CORPUS, runtime_verdicts) if go and not _strict_accepts(line)]
    assert {"sleep(1s", "return(5x", "return(tXYZ)"} <= set(misread)


def _strict_accepts(text: str) -> bool:
    try:
        parse_terms(text)
        return True
    except TermSyntaxError:
        return False

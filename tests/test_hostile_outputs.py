"""Journal and report paths under another local user (issue 21, item 3): `--journal F` and
`--report F` (run), `report -o`, `explore -o/--journal`, the pytest options and the library's
journal= never follow another user's link, in a shared sticky folder or anywhere, and never
replace a file that is not a journal (or a report), such as `--journal main.go`.

Runs use a scenario of one `run true` step: no Go process is needed to write a journal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.otheruser import OTHER, needs_root, shared_tmp, sticky_dir

pytestmark = pytest.mark.hostile
__all__ = ["shared_tmp"]

GO = b"package main\n\nfunc main() {}\n"
PRECIOUS = b"root's own file: must never change\n"
JOURNAL = b'{"event": "run", "run": "earlier", "name": "x", "started": 1.0}\n'


def _cli(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "gofail_py.cli", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _scenario(folder: Path) -> Path:
    scenario = folder / "s.gofail"
    scenario.write_text("run true\n")
    return scenario


def _journal(folder: Path) -> Path:
    journal = folder / "old.jsonl"
    assert _cli(folder, "run", str(_scenario(folder)), "--journal", str(journal)).returncode == 0
    return journal


def _refused(result: subprocess.CompletedProcess[str], *untouched: tuple[Path, bytes]) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "ok     1" not in result.stdout, "the scenario ran before the path was refused"
    for path, data in untouched:
        assert path.read_bytes() == data, f"{path} was changed"


def _their_link(link: Path, target: Path) -> None:
    link.symlink_to(target)
    os.lchown(link, OTHER, OTHER)


@pytest.mark.parametrize("option", ["--journal", "--report"])
def test_run_refuses_to_replace_a_go_file(tmp_path: Path, option: str) -> None:
    """`--journal main.go` truncated the source and wrote the timeline in its place."""
    main = tmp_path / "main.go"
    main.write_bytes(GO)
    result = _cli(tmp_path, "run", str(_scenario(tmp_path)), option, "main.go")
    _refused(result, (main, GO))
    assert "main.go" in result.stderr and ("not a journal" in result.stderr or "not a report" in result.stderr)


def test_report_refuses_to_replace_a_go_file(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    main = tmp_path / "main.go"
    main.write_bytes(GO)
    result = _cli(tmp_path, "report", str(journal), "-o", "main.go")
    assert result.returncode == 2 and "not a report" in result.stderr, result.stderr
    assert main.read_bytes() == GO


@needs_root
@pytest.mark.parametrize("option", ["--journal", "--report"])
def test_another_user_s_link_in_a_sticky_folder_is_not_followed(shared_tmp: Path, option: str) -> None:
    """In /tmp (sticky, writable by all) another user made `j.jsonl` a link to a file of root's:
    root's run truncated that file and wrote its timeline (or report) into it."""
    folder = sticky_dir(shared_tmp)
    victim = shared_tmp / "victim"
    victim.write_bytes(PRECIOUS)
    _their_link(folder / "out", victim)
    result = _cli(shared_tmp, "run", str(_scenario(shared_tmp)), option, str(folder / "out"))
    _refused(result, (victim, PRECIOUS))
    assert "link" in result.stderr and "another user" in result.stderr, result.stderr
    assert (folder / "out").is_symlink()


@needs_root
def test_report_o_does_not_follow_another_user_s_link(shared_tmp: Path) -> None:
    folder = sticky_dir(shared_tmp)
    journal = _journal(shared_tmp)
    victim = shared_tmp / "victim"
    victim.write_bytes(PRECIOUS)
    _their_link(folder / "r.html", victim)
    result = _cli(shared_tmp, "report", str(journal), "-o", str(folder / "r.html"))
    assert result.returncode == 2 and "another user" in result.stderr, result.stderr
    assert victim.read_bytes() == PRECIOUS


# --- more (issue 21's second hostile pass) ------------------------------------------------------

def test_existing_journals_and_reports_are_still_replaced(tmp_path: Path) -> None:
    """What the checks must let through: a journal over a journal, a report over a report, an
    empty file (made by mktemp), and the user's own link (written through, the link stays)."""
    journal = _journal(tmp_path)
    assert _cli(tmp_path, "run", str(_scenario(tmp_path)), "--journal", str(journal)).returncode == 0
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "r.html").write_bytes(b"")
    (tmp_path / "r.html").symlink_to(tmp_path / "site" / "r.html")
    for _ in range(2):
        result = _cli(tmp_path, "run", str(_scenario(tmp_path)), "--journal", "empty.jsonl", "--report", "r.html")
        assert result.returncode == 0, result.stderr
        assert _cli(tmp_path, "report", str(journal), "-o", "r.html").returncode == 0
    assert (tmp_path / "r.html").is_symlink() and b"<title>gofail-py" in (tmp_path / "site" / "r.html").read_bytes()


def test_a_report_over_a_journal_and_a_journal_over_a_report_are_refused(tmp_path: Path) -> None:
    """A slip of the finger (`--report old.jsonl`, `--journal coverage.html`): each kind replaces
    only its own."""
    journal = _journal(tmp_path)
    before = journal.read_bytes()
    assert _cli(tmp_path, "report", str(journal), "-o", "r.html").returncode == 0
    report = (tmp_path / "r.html").read_bytes()
    _refused(_cli(tmp_path, "run", str(_scenario(tmp_path)), "--report", str(journal)), (journal, before))
    _refused(_cli(tmp_path, "run", str(_scenario(tmp_path)), "--journal", "r.html"), (tmp_path / "r.html", report))


def test_the_library_s_journal_refuses_a_go_file(tmp_path: Path) -> None:
    """`Client(endpoint, journal="main.go")`, and a recorder of the pytest plugin: appending to a
    file that is not a journal is refused too (JournalError, exit code 2)."""
    from gofail_py import Client
    from gofail_py.errors import JournalError
    from gofail_py.recording import Recorder

    main = tmp_path / "main.go"
    main.write_bytes(GO)
    with pytest.raises(JournalError, match="not a journal"):
        Client("127.0.0.1:1", journal=main)
    with pytest.raises(JournalError, match="not a journal"):
        Recorder(main, name="t")
    assert main.read_bytes() == GO


def test_pytest_refuses_a_gofail_report_that_is_not_a_report(tmp_path: Path) -> None:
    main = tmp_path / "main.go"
    main.write_bytes(GO)
    (tmp_path / "test_one.py").write_text("def test_ok():\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py",
                             "--gofail-report=main.go"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "not a report" in result.stdout + result.stderr and "passed" not in result.stdout
    assert main.read_bytes() == GO


def test_explore_refuses_its_outputs_before_any_run(tmp_path: Path) -> None:
    """explore -o main.go (found out after an hour of runs, the source gone) and --journal naming
    a file: refused before anything runs."""
    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (tmp_path / "a.go").write_text("package m\n\nfunc F() {\n\t// gofail: var fp struct{}\n}\n")
    template = tmp_path / "t.gofail"
    template.write_text("run true\n")
    main = tmp_path / "main.go"
    main.write_bytes(GO)
    result = _cli(tmp_path, "explore", str(template), "--source", ".", "-o", "main.go")
    assert result.returncode == 2 and "not a report" in result.stderr, result.stderr
    assert main.read_bytes() == GO and "passed" not in result.stdout


@needs_root
def test_explore_journal_folder_that_is_another_user_s_link_is_refused(shared_tmp: Path) -> None:
    folder = sticky_dir(shared_tmp)
    (shared_tmp / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (shared_tmp / "a.go").write_text("package m\n\nfunc F() {\n\t// gofail: var fp struct{}\n}\n")
    template = shared_tmp / "t.gofail"
    template.write_text("run true\n")
    theirs = shared_tmp / "theirs"
    theirs.mkdir()
    _their_link(folder / "journals", theirs)
    result = _cli(shared_tmp, "explore", str(template), "--source", ".", "--journal", str(folder / "journals"))
    assert result.returncode == 2 and "another user" in result.stderr, result.stderr
    assert list(theirs.iterdir()) == []


@needs_root
def test_a_journal_another_user_planted_in_a_sticky_folder_is_refused(shared_tmp: Path) -> None:
    """Their file, made to look like a journal: appending our events to it (or truncating it)
    would hand them our timeline, and let them read it as it is written."""
    folder = sticky_dir(shared_tmp)
    planted = folder / "j.jsonl"
    planted.write_bytes(JOURNAL)
    os.chown(planted, OTHER, OTHER)
    planted.chmod(0o666)
    _refused(_cli(shared_tmp, "run", str(_scenario(shared_tmp)), "--journal", str(planted)), (planted, JOURNAL))


@needs_root
def test_a_fifo_another_user_planted_as_the_report_is_refused(shared_tmp: Path) -> None:
    """Their FIFO as `r.html` in /tmp: the report would go to them (or block forever with no
    reader). A FIFO of ours is still written into (`-o /dev/stdout`, tested elsewhere)."""
    folder = sticky_dir(shared_tmp)
    journal = _journal(shared_tmp)
    fifo = folder / "r.html"
    os.mkfifo(fifo, 0o666)
    os.chown(fifo, OTHER, OTHER)
    result = _cli(shared_tmp, "report", str(journal), "-o", str(fifo), timeout=30)
    assert result.returncode == 2 and "another user" in result.stderr, result.stderr


@needs_root
@pytest.mark.parametrize("sticky", [True, False])
def test_a_folder_on_the_way_that_is_another_user_s_link_is_refused(shared_tmp: Path, sticky: bool) -> None:
    """--journal SHARED/out/j.jsonl where `out` is another user's link to a folder of root's: the
    journal would be made where they chose (sticky or not: the link is theirs)."""
    folder = sticky_dir(shared_tmp) if sticky else shared_tmp / "plain"
    folder.mkdir(exist_ok=True)
    roots = shared_tmp / "roots-folder"
    roots.mkdir()
    _their_link(folder / "out", roots)
    _refused(_cli(shared_tmp, "run", str(_scenario(shared_tmp)), "--journal", str(folder / "out" / "j.jsonl")))
    assert list(roots.iterdir()) == []


@needs_root
def test_our_link_to_another_user_s_link_is_refused(shared_tmp: Path) -> None:
    """A chain: our own link, then theirs: the last hop decides where it goes, so it is refused."""
    folder = sticky_dir(shared_tmp)
    victim = shared_tmp / "victim"
    victim.write_bytes(PRECIOUS)
    _their_link(folder / "theirs", victim)
    (shared_tmp / "mine.jsonl").symlink_to(folder / "theirs")
    _refused(_cli(shared_tmp, "run", str(_scenario(shared_tmp)), "--journal", "mine.jsonl"), (victim, PRECIOUS))


@needs_root
def test_a_folder_made_a_link_between_the_check_and_the_open_is_refused(shared_tmp: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """--journal /tmp/new/j.jsonl, `new` missing: another user makes it a link to a folder of root's
    the moment after gofail-py made it (played here at that moment, from inside makedirs): the
    open itself (O_NOFOLLOW sees only the last step) would land in root's folder."""
    from gofail_py.recording import outputs
    from gofail_py.errors import JournalError

    folder = sticky_dir(shared_tmp)
    roots = shared_tmp / "roots-folder"
    roots.mkdir()
    made = os.makedirs

    def race(name: str, *args: object, **kwargs: object) -> None:
        made(name, *args, **kwargs)  # type: ignore[arg-type]
        os.rmdir(name)
        _their_link(Path(name), roots)

    monkeypatch.setattr(os, "makedirs", race)
    with pytest.raises(JournalError, match="replaced while it was being opened"):
        outputs.open_journal(folder / "new" / "j.jsonl")
    assert [p.stat().st_size for p in roots.iterdir()] in ([], [0]), "something was written into root's folder"

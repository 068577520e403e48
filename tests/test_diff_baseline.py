"""`--diff BASE` (only changed lines) and baselines (only new findings), on real git checkouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import check_json, git, run_orm_lint

LOOP = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]
"""
MORE = """

def publishers():
    return [b.publisher.name for b in Book.objects.all()]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "app").mkdir()
    (folder / "app" / "services.py").write_text(LOOP, encoding="utf-8")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "base")
    return folder


def _places(data: dict[str, object]) -> list[tuple[str, int]]:
    return [(f["path"], f["line"]) for f in data["findings"]]  # type: ignore[index, union-attr]


def test_diff_reports_only_changed_lines(repo: Path) -> None:
    services = repo / "app" / "services.py"
    services.write_text(LOOP + MORE, encoding="utf-8")
    assert _places(check_json(".", cwd=repo)) == [("app/services.py", 5), ("app/services.py", 9)]
    assert _places(check_json(".", "--diff", "main", cwd=repo)) == [("app/services.py", 9)]
    git(repo, "commit", "-qam", "more")  # committed changes count too
    assert _places(check_json(".", "--diff", "HEAD~1", cwd=repo)) == [("app/services.py", 9)]
    assert _places(check_json(".", "--diff", "HEAD", cwd=repo)) == []
    # a rewritten line counts; from a subfolder, paths stay relative to the working folder
    services.write_text(LOOP.replace("b.author.name", "b.author.email") + MORE, encoding="utf-8")
    assert _places(check_json("..", "--diff", "HEAD", cwd=repo / "app")) == [("services.py", 5)]


def test_untracked_and_oddly_named_files_are_new(repo: Path) -> None:
    (repo / "new module.py").write_text(LOOP, encoding="utf-8")
    odd = repo / 'we"ird\tcafé.py'
    odd.write_text(LOOP, encoding="utf-8")
    git(repo, "add", odd.name)
    git(repo, "commit", "-qm", "odd")
    odd.write_text(LOOP + MORE, encoding="utf-8")
    data = check_json(".", "--diff", "HEAD", cwd=repo)
    assert _places(data) == [("new module.py", 5), ('we"ird\tcafé.py', 9)]
    assert data["files"] == 2, "only changed files are analysed"


def test_diff_errors(repo: Path, tmp_path: Path) -> None:
    unknown = run_orm_lint("check", "--no-mypy", "--diff", "no-such-branch", ".", cwd=repo)
    assert unknown.returncode == 2 and "unknown git revision 'no-such-branch'" in unknown.stderr
    option = run_orm_lint("check", "--no-mypy", "--diff=--output=x", ".", cwd=repo)
    assert option.returncode == 2 and "needs a git revision" in option.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "m.py").write_text(LOOP, encoding="utf-8")
    proc = run_orm_lint("report", "--no-mypy", "--diff", "main", ".", cwd=outside)
    assert proc.returncode == 2 and "needs a git checkout" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(outside.glob("database-review-*")), "nothing written on an error"


def test_report_with_diff_names_the_branch_and_base(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app" / "services.py").write_text(LOOP + MORE, encoding="utf-8")
    proc = run_orm_lint("report", "--no-mypy", "--diff", "main", "--output", "out", ".", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    [summary] = (repo / "out").glob("database-review-*.md")
    text = summary.read_text(encoding="utf-8")
    assert "- Branch: `feature`, reviewing the lines changed since `main`" in text
    assert "| | total | 1 |" in text and "Counted in the changed lines" in text


BASELINED = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]


def same_again():
    return [b.author.name for b in Book.objects.all()]
"""


def test_baseline_survives_inserted_lines_and_reports_new_findings(tmp_path: Path, write_module) -> None:
    module = write_module(BASELINED, "app/services.py")
    proc = run_orm_lint("baseline", "--no-mypy", "--output", "ci/baseline.json", ".", cwd=tmp_path)
    assert proc.returncode == 0 and "2 findings recorded" in proc.stdout, proc.stderr
    baseline = json.loads((tmp_path / "ci" / "baseline.json").read_text(encoding="utf-8"))
    [entry] = baseline["findings"]  # two identical lines share one fingerprint, counted twice
    assert entry["count"] == 2 and entry["code"] == "ORM102" and "line" not in entry
    assert check_json(".", "--baseline", "ci/baseline.json", cwd=tmp_path)["findings"] == []
    # lines inserted above and the finding's line re-indented: still known
    shifted = '"""Services."""\n\nimport logging\n\n' + BASELINED.replace("    return [b", "    return  [b")
    module.write_text(shifted, encoding="utf-8")
    assert len(check_json(".", cwd=tmp_path)["findings"]) == 2
    assert check_json(".", "--baseline", "ci/baseline.json", cwd=tmp_path)["findings"] == []
    text = run_orm_lint("check", "--no-mypy", "--baseline", "ci/baseline.json", ".", cwd=tmp_path)
    assert text.returncode == 0 and "2 known findings hidden by the baseline" in text.stderr
    # a third copy of the same line and a new problem are reported
    module.write_text(shifted + MORE + "\n\ndef third():\n    return [b.author.name for b in Book.objects.all()]\n")
    new = check_json(".", "--baseline", "ci/baseline.json", cwd=tmp_path)["findings"]
    assert [(f["line"], f["message"].split()[0]) for f in new] == [(17, "b.publisher"), (21, "b.author")]


def test_bad_baseline_files_exit_2(tmp_path: Path, write_module) -> None:
    write_module(LOOP, "app.py")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"version": 7, "findings": []}', encoding="utf-8")
    for name, message in [
        ("missing.json", "cannot read the baseline"),
        ("broken.json", "not a baseline written by `orm-lint baseline`"),
        ("other.json", "not a baseline written by `orm-lint baseline`"),
    ]:
        proc = run_orm_lint("check", "--no-mypy", "--baseline", name, ".", cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, name

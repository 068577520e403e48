"""The syntax engine's results cache: never a stale finding, never a broken run, whatever state it is in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orm_lint import cache as cache_module
from orm_lint import engines
from orm_lint.cache import ResultCache, results_key
from orm_lint.config import Settings, load_settings

QUERY_IN_LOOP = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]
"""
RANDOM_ORDER = """\
from library.models import Book


def shuffled():
    return Book.objects.order_by("?")
"""


def check(tmp_path: Path, *args: str, cwd: Path | None = None) -> tuple[dict[str, object], str]:
    """`orm-lint check --no-mypy --format json` with the cache under tmp_path/xdg; (JSON, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "--format", "json", *args],
        capture_output=True,
        text=True,
        cwd=cwd or tmp_path / "project",
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")},
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout), proc.stderr


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    """The files, last changed a minute ago (so their stamps are trusted from the first run)."""
    folder = tmp_path / "project"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        backdate(path, 60)
    return folder


def backdate(path: Path, seconds: float) -> int:
    when = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(when, when))
    return when


def manifests(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "xdg" / "orm-lint" / "results").glob("*/*.json"))


def codes(data: dict[str, object]) -> list[tuple[str, str]]:
    return [(f["path"], f["code"]) for f in data["findings"]]  # type: ignore[index, union-attr]


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the syntax engine really analyses in this process (cache hits are not)."""
    seen: list[str] = []
    original = engines.check_file

    def spy(path: Path, *args: object) -> object:
        seen.append(path.name)
        return original(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engines, "check_file", spy)
    return seen


def run_in_process(folder: Path, settings: Settings = Settings()) -> tuple[list[object], list[object]]:
    files = engines.discover([str(folder)], [])
    return engines.run_syntax_engine(files, settings, jobs=1, cache=ResultCache.open(settings))


def test_warm_run_reads_back_the_same_findings_and_problems(tmp_path: Path) -> None:
    project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER, "broken.py": "import django\ndef f(:\n"})
    cold, cold_err = check(tmp_path, ".")
    [manifest] = manifests(tmp_path)
    written = manifest.stat().st_mtime_ns
    warm, warm_err = check(tmp_path, ".")
    assert warm == cold and warm_err == cold_err
    assert codes(warm) == [("a.py", "ORM102"), ("b.py", "ORM108")]
    assert [e["path"] for e in warm["errors"]] == ["broken.py"]  # type: ignore[index, union-attr]
    assert manifest.stat().st_mtime_ns == written, "an unchanged tree rewrites nothing"
    root = manifest.parent.parent
    assert (root / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_only_changed_files_are_analysed_again(tmp_path: Path, analysed: list[str], monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER})
    monkeypatch.chdir(folder)
    run_in_process(Path("."))
    assert sorted(analysed) == ["a.py", "b.py"]
    analysed.clear()
    run_in_process(Path("."))
    assert analysed == []
    (folder / "b.py").write_text(RANDOM_ORDER.replace('"?"', '"title"'), encoding="utf-8")
    analysed.clear()
    findings, _ = run_in_process(Path("."))
    assert analysed == ["b.py"]
    assert [f.code for f in findings] == ["ORM102"]  # type: ignore[attr-defined]


def test_a_same_size_edit_in_the_same_clock_tick_is_seen(tmp_path: Path) -> None:
    folder = project(tmp_path, {"a.py": RANDOM_ORDER})
    target = folder / "a.py"
    changed = backdate(target, -3600)  # "just now" for a clock that runs behind: never trusted
    assert codes(check(tmp_path, ".")[0]) == [("a.py", "ORM108")]
    target.write_text(RANDOM_ORDER.replace('"?"', '"x"'), encoding="utf-8")  # same size
    os.utime(target, ns=(changed, changed))  # and the same mtime
    assert codes(check(tmp_path, ".")[0]) == []


def test_touched_files_are_hashed_not_analysed(tmp_path: Path, analysed: list[str], monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = project(tmp_path, {"a.py": QUERY_IN_LOOP})
    monkeypatch.chdir(folder)
    old = (folder / "a.py").stat().st_mtime_ns
    run_in_process(Path("."))
    os.utime(folder / "a.py", ns=(old + 10**9, old + 10**9))  # `touch`, `git checkout`: same bytes
    analysed.clear()
    findings, _ = run_in_process(Path("."))
    assert analysed == [] and len(findings) == 1
    [manifest] = manifests(tmp_path)
    [entry] = json.loads(manifest.read_text())["files"].values()
    assert entry[:3] == [len(QUERY_IN_LOOP), old + 10**9, True], "the new stamp is remembered"


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\x00\xff garbage",
        b'{"format": 1, "files": {"a.py": [1, 2',
        b'{"format": 1, "files": []}',
        b'{"format": 1, "files": {"a.py": "nonsense", "b.py": [1, 2, true, "x", [["b.py"]], []]}}',
        b"[" * 100_000,
    ],
    ids=["empty", "binary", "truncated", "wrong-shape", "wrong-entries", "deeply-nested"],
)
def test_a_damaged_manifest_is_ignored(tmp_path: Path, damage: bytes) -> None:
    project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER})
    cold, _ = check(tmp_path, ".")
    [manifest] = manifests(tmp_path)
    manifest.write_bytes(damage)
    again, stderr = check(tmp_path, ".")
    assert again == cold and stderr == ""
    assert json.loads(manifest.read_text())["format"] == cache_module.FORMAT, "rewritten whole"


def test_damaged_entries_are_analysed_again(tmp_path: Path) -> None:
    project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER})
    cold, _ = check(tmp_path, ".")
    [manifest] = manifests(tmp_path)
    document = json.loads(manifest.read_text())
    document["files"]["a.py"][4] = [["a.py", 1, 1, 1, 1, "ORM999", "made up", None]]  # a code that does not exist
    document["files"]["b.py"][4] = [["b.py", "one", 1, 1, 1, "ORM108", "x", None]]
    manifest.write_text(json.dumps(document))
    assert check(tmp_path, ".")[0] == cold


def test_rows_without_details_or_with_foreign_ones_are_analysed_again(tmp_path: Path) -> None:
    """A finding row of format 1 (no details), or with details no finding has, is rejected, never half read."""
    project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER})
    cold, _ = check(tmp_path, ".")
    assert [f["framework"] for f in cold["findings"] if f["path"] == "a.py"] == ["django"]  # type: ignore[index]
    [manifest] = manifests(tmp_path)
    document = json.loads(manifest.read_text())
    document["files"]["a.py"][4] = [row[:9] for row in document["files"]["a.py"][4]]
    document["files"]["b.py"][4] = [[*row[:9], {"colour": "red"}] for row in document["files"]["b.py"][4]]
    manifest.write_text(json.dumps(document))
    assert check(tmp_path, ".")[0] == cold


def test_concurrent_runs_share_one_cache_safely(tmp_path: Path) -> None:
    project(tmp_path, {f"m{n:02}.py": QUERY_IN_LOOP if n % 2 else RANDOM_ORDER for n in range(50)})
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    command = [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "--format", "json", "--jobs", "1", "."]
    runs = [
        subprocess.Popen(command, cwd=tmp_path / "project", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert all(run.returncode == 1 for run in runs), [err for _, err in outputs]
    assert len({json.dumps(json.loads(out)["findings"]) for out, _ in outputs}) == 1
    [manifest] = manifests(tmp_path)
    assert len(json.loads(manifest.read_text())["files"]) == 50
    assert not [p for p in manifest.parent.iterdir() if p.name.startswith(".tmp-")], "no temporary file left"


def test_settings_that_change_findings_change_the_key(tmp_path: Path) -> None:
    folder = project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER})
    assert len(codes(check(tmp_path, ".")[0])) == 2
    (folder / "pyproject.toml").write_text('[tool.orm-lint]\nper-path-ignores = { "a.py" = ["ORM102"] }\n')
    assert codes(check(tmp_path, ".")[0]) == [("b.py", "ORM108")]
    assert len(manifests(tmp_path)) == 2
    base = load_settings(folder)
    assert results_key(base, "/x") == results_key(Settings(**{**base.__dict__, "jobs": 3}), "/x")
    assert results_key(base, "/x") != results_key(base, "/y"), "paths are shown relative to the working folder"
    assert results_key(base, "/x") != results_key(Settings(backend="mysql"), "/x")


def test_an_edited_orm_lint_does_not_reuse_results(monkeypatch: pytest.MonkeyPatch) -> None:
    before = results_key(Settings(), "/x")
    monkeypatch.setattr(cache_module, "source_fingerprint", lambda: "edited")
    assert results_key(Settings(), "/x") != before


def test_no_cache_option_and_cache_dir_setting(tmp_path: Path) -> None:
    folder = project(tmp_path, {"a.py": QUERY_IN_LOOP})
    check(tmp_path, ".", "--no-cache")
    assert not (tmp_path / "xdg").exists()
    (folder / "pyproject.toml").write_text('[tool.orm-lint]\ncache-dir = ".cache/orm-lint"\n')
    (folder / "sub").mkdir()
    data, _ = check(tmp_path, "..", cwd=folder / "sub")
    assert codes(data) == [("../a.py", "ORM102")]
    root = folder / ".cache" / "orm-lint"
    assert (root / ".gitignore").read_text().splitlines()[-1] == "*"
    assert len(list(root.glob("*/*.json"))) == 1
    assert not (tmp_path / "xdg").exists()


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    folder = project(tmp_path, {"a.py": QUERY_IN_LOOP})
    (tmp_path / "blocked").write_text("a file where the cache folder would go")
    (folder / "pyproject.toml").write_text(f'[tool.orm-lint]\ncache-dir = "{(tmp_path / "blocked").as_posix()}"\n')
    data, stderr = check(tmp_path, ".")
    assert codes(data) == [("a.py", "ORM102")] and stderr == ""


def test_deleted_files_leave_the_manifest(tmp_path: Path) -> None:
    folder = project(tmp_path, {"a.py": QUERY_IN_LOOP, "b.py": RANDOM_ORDER})
    check(tmp_path, ".")
    (folder / "b.py").unlink()
    (folder / "c.py").write_text(RANDOM_ORDER)
    check(tmp_path, ".")
    [manifest] = manifests(tmp_path)
    assert sorted(json.loads(manifest.read_text())["files"]) == ["a.py", "c.py"]

"""Files as users expect: discovery follows `.gitignore` and `exclude`, and every file is decoded as flake8 does.

Real projects on disk, the real `orm-lint` command and the real flake8.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import check_json, git, run_flake8

# One ORM201 finding on line 6 (request data formatted into SQL).
INJECTION = """\
from django.db import connection


def find(request):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM book WHERE title = '{request.GET['t']}'")
"""


def _write(root: Path, relative: str, data: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def _paths(data: dict[str, object]) -> list[str]:
    return sorted({f["path"] for f in data["findings"]})  # type: ignore[index, union-attr]


def test_folders_are_not_skipped_for_their_name_but_environments_are(tmp_path: Path) -> None:
    for folder in ("env", "build", "dist", "venv", "app"):
        _write(tmp_path, f"{folder}/views.py", INJECTION)
    for environment, marker in ((".venv", "pyvenv.cfg"), ("py311", "pyvenv.cfg"), ("conda", "conda-meta/history")):
        _write(tmp_path, f"{environment}/{marker}", "home = /usr/bin\n")
        _write(tmp_path, f"{environment}/lib/views.py", INJECTION)
    for other in ("lib/site-packages", ".git", "node_modules", ".tox/py311", "pkg.egg-info"):
        _write(tmp_path, f"{other}/views.py", INJECTION)
    assert _paths(check_json(".", "--no-cache", cwd=tmp_path)) == [
        "app/views.py",
        "build/views.py",
        "dist/views.py",
        "env/views.py",
        "venv/views.py",
    ]


def test_gitignore_and_exclude_decide_what_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    _write(root, ".gitignore", "generated/\n*_gen.py\n!keep_gen.py\n/local.py\n")
    _write(root, "app/.gitignore", "scratch.py\n")
    _write(root, ".git/info/exclude", "mine/\n")
    for relative in (
        "app/views.py",
        "app/scratch.py",  # app/.gitignore
        "app/local.py",  # `/local.py` is anchored at the top: not this one
        "local.py",
        "generated/views.py",
        "app/generated/views.py",  # `generated/` matches at any depth
        "app/orders_gen.py",
        "app/keep_gen.py",  # re-included
        "mine/views.py",
        "vendor/views.py",  # the `exclude` setting
        "build/views.py",  # not ignored here: checked
    ):
        _write(root, relative, INJECTION)
    _write(root, "pyproject.toml", '[tool.orm-lint]\nexclude = ["vendor"]\n')
    expected = ["app/keep_gen.py", "app/local.py", "app/views.py", "build/views.py"]
    assert _paths(check_json(".", "--no-cache", cwd=root)) == expected
    # A folder checked on its own still follows the ignore files above it.
    assert _paths(check_json("app", "--no-cache", cwd=root)) == ["app/keep_gen.py", "app/local.py", "app/views.py"]
    # Named explicitly, an ignored file or folder is checked: the user asked for it.
    assert _paths(check_json("generated/views.py", "app/scratch.py", "--no-cache", cwd=root)) == [
        "app/scratch.py",
        "generated/views.py",
    ]
    assert _paths(check_json("generated", "--no-cache", cwd=root)) == ["generated/views.py"]


# Files whose bytes are decoded in unusual ways; each has the finding on the line given.
ODD_FILES: dict[str, tuple[bytes, int]] = {
    "bom.py": (b"\xef\xbb\xbf" + INJECTION.encode(), 6),
    "crlf.py": (INJECTION.replace("\n", "\r\n").encode(), 6),
    "cr_only.py": (INJECTION.replace("\n", "\r").encode(), 6),
    # Not UTF-8 and no cookie: flake8 reads it as latin-1 and checks it.
    "latin1_no_cookie.py": (("# Café\n" + INJECTION).encode("latin-1"), 7),
    "latin1_cookie.py": (("# -*- coding: latin-1 -*-\n# Café\n" + INJECTION).encode("latin-1"), 8),
    # A cookie naming an unknown codec: latin-1 again.
    "unknown_codec.py": (("# -*- coding: klingon -*-\n" + INJECTION).encode(), 7),
    # A BOM that contradicts the cookie: flake8 falls back to latin-1 and drops the BOM.
    "bom_and_latin1_cookie.py": (b"\xef\xbb\xbf# coding: latin-1\n" + INJECTION.encode(), 7),
    # Form feeds count as no line: the finding stays on its line and its `# noqa` is honoured.
    "form_feed.py": (("\x0c\n" + INJECTION).replace("\n\n\ndef", "\n\x0c\n\ndef").encode(), 7),
}


def test_both_entry_points_read_every_odd_file_alike(tmp_path: Path) -> None:
    for name, (data, _) in ODD_FILES.items():
        _write(tmp_path, name, data)
    names = sorted(ODD_FILES)
    flake8 = sorted((str(f["path"]), f["line"], f["col"], str(f["code"])) for f in run_flake8(*names, cwd=tmp_path))
    data = check_json(*names, "--no-cache", cwd=tmp_path)
    # Python itself cannot decode three of them: checked all the same, and named (mypy skips them).
    assert {e["path"] for e in data["errors"]} == {  # type: ignore[index, union-attr]
        "latin1_no_cookie.py",
        "unknown_codec.py",
        "bom_and_latin1_cookie.py",
    }
    assert all("checked as flake8 reads it (latin-1)" in e["message"] for e in data["errors"])  # type: ignore
    check = sorted((f["path"], f["line"], f["column"], f["code"]) for f in data["findings"])  # type: ignore
    assert check == flake8
    assert check == sorted((name, line, 9, "ORM201") for name, (_, line) in ODD_FILES.items())


@pytest.mark.parametrize("name", ["form_feed.py", "cr_only.py", "latin1_no_cookie.py"])
def test_noqa_is_found_on_the_line_flake8_numbers(tmp_path: Path, name: str) -> None:
    data, line = ODD_FILES[name]
    text = data.decode("latin-1")
    marker = "'\")"
    separator = "\r" if name == "cr_only.py" else "\n"
    lines = text.split(separator)
    assert lines[line - 1].endswith(marker)
    lines[line - 1] += "  # noqa: ORM201"
    _write(tmp_path, name, separator.join(lines).encode("latin-1"))
    assert run_flake8(name, cwd=tmp_path) == []
    assert check_json(name, "--no-cache", cwd=tmp_path)["findings"] == []

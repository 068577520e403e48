"""Jupyter notebooks: code cells checked, magics skipped, findings located by cell and line."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import check_json, run_orm_lint
from test_diff_baseline import git
from test_sarif import _valid

IMPORTS = ["%load_ext sql\n", "!pip install django\n", "from library.models import Book\n"]
N_PLUS_ONE = ["files = !ls\n", "Book?\n", "titles = [b.author.name for b in Book.objects.all()]\n"]
PER_ITEM = ["%%time\n", "for isbn in isbns:\n", "    %time x = 1\n", "    Book.objects.get(isbn=isbn)\n"]


def cell(source: list[str] | str, kind: str = "code") -> dict[str, object]:
    extra = {"execution_count": None, "outputs": []} if kind == "code" else {}
    return {"cell_type": kind, "metadata": {}, "source": source, **extra}


def notebook(*cells: dict[str, object], language: str = "python") -> str:
    metadata = {"kernelspec": {"language": language, "name": language}, "language_info": {"name": language}}
    return json.dumps({"cells": list(cells), "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}, indent=1)


STANDARD = notebook(
    cell(["# Books\n"], "markdown"),
    cell(IMPORTS),
    cell(["%%sql\n", "SELECT * FROM book WHERE x = '%s' % y\n"]),
    cell(N_PLUS_ONE),
    cell("".join(PER_ITEM)),  # source as one string, as some tools write it
)


def test_findings_are_located_by_cell_and_line(tmp_path: Path, write_module) -> None:
    write_module(STANDARD, "analysis.ipynb")
    data = check_json(".", cwd=tmp_path)
    assert data["files"] == 1 and data["errors"] == []
    assert [(f["path"], f["cell"], f["line"], f["column"], f["code"]) for f in data["findings"]] == [
        ("analysis.ipynb", 4, 3, 11, "ORM102"),
        ("analysis.ipynb", 5, 4, 5, "ORM101"),
    ]
    text = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path).stdout.splitlines()
    assert text[0].startswith("analysis.ipynb:cell 4:3:11: ORM102 b.author loads a related object")
    assert text[1].startswith("analysis.ipynb:cell 5:4:5: ORM101 Book.objects.get(...)")


def test_percent_and_bang_inside_statements_are_python(tmp_path: Path, write_module) -> None:
    continued = ['label = ("%s books"\n', "         % 3)\n", 'note = """\n', "!not a shell line\n", '"""\n']
    write_module(notebook(cell(IMPORTS), cell(continued + N_PLUS_ONE)), "n.ipynb")
    data = check_json(".", cwd=tmp_path)
    assert data["errors"] == []
    assert [(f["cell"], f["line"]) for f in data["findings"]] == [(2, 8)]


def test_python_findings_have_no_cell(tmp_path: Path, write_module) -> None:
    write_module("".join(IMPORTS[2:] + N_PLUS_ONE[2:]), "plain.py")
    [finding] = check_json(".", cwd=tmp_path)["findings"]
    assert "cell" not in finding


def test_noqa_inside_a_cell(tmp_path: Path, write_module) -> None:
    silenced = [line.replace("\n", "  # noqa: ORM102\n") if "b.author" in line else line for line in N_PLUS_ONE]
    write_module(notebook(cell(IMPORTS), cell(silenced)), "n.ipynb")
    assert check_json(".", cwd=tmp_path)["findings"] == []


def test_broken_notebooks_get_one_clear_diagnostic(tmp_path: Path, write_module) -> None:
    write_module('{"cells": [ {"cell_type": "code", }', "broken.ipynb")
    write_module('{"nbformat": 4}', "nocells.ipynb")
    write_module(notebook(cell(IMPORTS), cell(["def f(:\n", "    pass\n"])), "syntax.ipynb")
    write_module(STANDARD, "good.ipynb")
    proc = run_orm_lint("check", "--format", "json", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    errors = {e["path"]: e["message"] for e in data["errors"]}
    assert errors == {
        "broken.ipynb": "cannot read the notebook: not valid JSON (line 1, column 35): "
        "Expecting property name enclosed in double quotes; it was not checked",
        "nocells.ipynb": "cannot read the notebook: not a Jupyter notebook: no `cells` list; it was not checked",
        "syntax.ipynb": errors["syntax.ipynb"],
    }
    assert errors["syntax.ipynb"].startswith("cannot parse the file (cell 2, line 1): ")
    assert {f["path"] for f in data["findings"]} == {"good.ipynb"}


def test_other_languages_are_skipped(tmp_path: Path, write_module) -> None:
    write_module(notebook(cell(["library(DBI)\n", "for (x in y) dbGetQuery(con, x)\n"]), language="R"), "r.ipynb")
    data = check_json(".", cwd=tmp_path)
    assert data["findings"] == [] and data["errors"] == []


def test_notebooks_with_mypy_on(tmp_path: Path, write_module) -> None:
    write_module(STANDARD, "analysis.ipynb")
    write_module("x: int = 1\n", "module.py")
    for target in ("analysis.ipynb", "."):
        proc = run_orm_lint("check", "--format", "json", target, cwd=tmp_path)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        data = json.loads(proc.stdout)
        assert data["errors"] == [] and len(data["findings"]) == 2


def test_diff_compares_cells(tmp_path: Path, write_module) -> None:
    path = write_module(STANDARD, "analysis.ipynb")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    assert check_json(".", "--diff", "HEAD", cwd=tmp_path)["findings"] == []
    changed = PER_ITEM[:-1] + ["    Book.objects.get(isbn=isbn.strip())\n"]
    path.write_text(notebook(cell(IMPORTS), cell(["# a new first cell\n"]), cell(N_PLUS_ONE), cell(changed)))
    [finding] = check_json(".", "--diff", "HEAD", cwd=tmp_path)["findings"]
    assert (finding["cell"], finding["line"], finding["code"]) == (4, 4, "ORM101")


def test_report_and_sarif_for_a_notebook(tmp_path: Path, write_module) -> None:
    write_module(STANDARD, "analysis.ipynb")
    assert run_orm_lint("report", "--no-mypy", "--output", "out", ".", cwd=tmp_path).returncode == 0
    [page] = (tmp_path / "out").glob("database-review-*/finding-*-relation-loaded-per-item-analysis.md")
    text = page.read_text(encoding="utf-8")
    assert "| location | `analysis.ipynb:cell 4:3` (column 11) |" in text
    assert "\n> 3 | titles = [b.author.name for b in Book.objects.all()]\n" in text
    assert "\n  1 | files = !ls\n" in text, "the current code is the cell's own text, magics included"
    proc = run_orm_lint("check", "--no-mypy", "--format", "sarif", ".", cwd=tmp_path)
    result = _valid(json.loads(proc.stdout))["runs"][0]["results"][0]  # type: ignore[index]
    assert result["message"]["text"].startswith("cell 4, line 3: b.author loads")
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    properties = result["properties"]
    assert {k: properties[k] for k in ("cell", "cellLine", "cellColumn")} == {
        "cell": 4,
        "cellLine": 3,
        "cellColumn": 11,
    }
    assert properties["framework"] == "django" and properties["fix"] == 'add select_related("author") to the query'
    assert "function" not in properties, "module-level notebook code has no enclosing function"
    github = run_orm_lint("check", "--no-mypy", "--format", "github", ".", cwd=tmp_path).stdout.splitlines()
    assert github[0].startswith("::error file=analysis.ipynb,title=ORM102 relation-loaded-per-item::cell 4, line 3: ")

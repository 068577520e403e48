"""The wheel and sdist build, and the wheel installs and runs in a fresh virtualenv."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

from conftest import ROOT, run_orm_lint
from orm_lint import __version__
from orm_lint.versions import FRAMEWORKS, installed_version

N_PLUS_ONE = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]
"""
PACKAGES = (
    "catalogue",
    "flake8_plugin",
    "flake8_plugin/checks",
    "frameworks",
    "mypy_plugin",
    "mypy_plugin/checks",
    "report",
)


def _run(*args: str | Path, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def _build(tmp_path: Path) -> tuple[Path, Path]:
    """`python -m build` on a copy of the project (the checkout stays free of build/ and egg-info)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    dist = tmp_path / "dist"
    # --no-isolation: the build backend comes from the test environment (the `test` extra),
    # so the build needs no network; `build` still makes the wheel from the unpacked sdist.
    proc = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    return wheel, sdist


def _install(wheel: Path, env: Path) -> tuple[Path, str]:
    """Install the wheel with its dependencies into a fresh virtualenv.

    Dependencies come from the machine's ordinary pip configuration (PyPI or a local
    mirror). When neither answers (an offline machine), the wheel is installed without
    dependencies and this test environment's packages are put after it on the path:
    orm-lint itself still comes from the wheel, which is what the test is about.
    """
    proc = _run(sys.executable, "-m", "venv", env)
    assert proc.returncode == 0, proc.stderr
    python = env / "bin" / "python"
    proc = _run(python, "-m", "pip", "install", "--retries", "1", "--timeout", "30", wheel, timeout=600)
    if proc.returncode == 0:
        return python, "with dependencies"
    proc = _run(python, "-m", "pip", "install", "--no-deps", wheel)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    Path(purelib, "orm_lint_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, "offline: dependencies from the test environment"


def test_version_comes_from_one_place() -> None:
    assert installed_version("orm-lint") == __version__
    assert 'version = { attr = "orm_lint.__version__" }' in (ROOT / "pyproject.toml").read_text()


def test_version_lists_tools_and_frameworks() -> None:
    proc = run_orm_lint("--version")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"orm-lint {__version__} (Python ")
    listed = dict(line.split(None, 1) for line in lines[1:])
    assert list(listed) == ["flake8", "mypy", *FRAMEWORKS]
    assert listed["flake8"] == installed_version("flake8")
    for name in FRAMEWORKS:
        assert listed[name] == (installed_version(name) or "not installed")


def test_wheel_and_sdist_build_and_install_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    wheel, sdist = _build(tmp_path)
    assert wheel.name == f"orm_lint-{__version__}-py3-none-any.whl"
    assert sdist.name == f"orm_lint-{__version__}.tar.gz"

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"orm_lint-{__version__}.dist-info/entry_points.txt").decode()
    assert "orm_lint/py.typed" in names
    assert {f"orm_lint/{package}/__init__.py" for package in PACKAGES} <= names
    assert not any(name.startswith(("tests/", "examples/", "bench/")) for name in names)
    assert re.search(r"^ORM = orm_lint\.flake8_plugin:Plugin$", entry_points, re.MULTILINE)
    assert re.search(r"^orm-lint = orm_lint\.cli:main$", entry_points, re.MULTILINE)
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "PKG-INFO", "src/orm_lint/py.typed"} <= members

    python, how = _install(wheel, tmp_path / "env")
    where = _run(python, "-c", "import orm_lint; print(orm_lint.__file__)").stdout.strip()
    assert where.startswith(str(tmp_path / "env")), f"orm_lint imported from {where} ({how})"
    version = _run(tmp_path / "env" / "bin" / "orm-lint", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"orm-lint {__version__} "), how
    assert re.search(r"^  flake8 +\d", version.stdout, re.MULTILINE), version.stdout
    if how == "with dependencies":  # a fresh environment has no ORM framework
        assert re.search(r"^  django +not installed$", version.stdout, re.MULTILINE), version.stdout
    assert f"orm-lint: {__version__}" in _run(python, "-m", "flake8", "--version").stdout, how

    project = tmp_path / "project"
    project.mkdir()
    (project / "services.py").write_text(N_PLUS_ONE)
    check = _run(tmp_path / "env" / "bin" / "orm-lint", "check", "--no-mypy", ".", cwd=project)
    assert check.returncode == 1 and "services.py:5:13: ORM102 " in check.stdout, check.stdout + check.stderr
    flake8 = _run(python, "-m", "flake8", "--isolated", "--select", "ORM", ".", cwd=project)
    assert "./services.py:5:13: ORM102 " in flake8.stdout, flake8.stdout + flake8.stderr

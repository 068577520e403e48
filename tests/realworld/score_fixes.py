#!/usr/bin/env python3
"""Score orm-lint on real fix commits from open-source projects (issue 10, "How it is measured").

Every row of fix_commits.tsv names a fix commit and its parent, the line at the parent that does the problem
(it must be reported with one of the row's codes) and the fixed line at the commit (it must not be).
The projects' code is never stored here: the scorer extracts the Python files of both commits from local
git mirrors (``/work/.mirror/<owner>+<name>/repo`` by default) into a cache folder, runs
``orm-lint check <tree> --no-mypy --no-cache --format json`` once per tree and compares.

Standard library only; no network once the mirrors are present.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "fix_commits.tsv"
DEFAULT_MIRRORS = Path(os.environ.get("ORM_LINT_MIRRORS", "/work/.mirror"))
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "orm-lint-realworld"
DEFAULT_ORM_LINT = ROOT / ".venv" / "bin" / "orm-lint"
KINDS = ("n_plus_one", "query_in_loop", "unbounded_query", "raw_sql", "fk_no_index")
FIELDS = (
    "project",
    "repo",
    "fix_commit",
    "parent_commit",
    "framework",
    "kind",
    "path_parent",
    "line_parent",
    "codes",
    "path_fix",
    "line_fix",
    "text_parent",
    "text_fix",
    "note",
)


def load_corpus(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        if tuple(header) != FIELDS:
            sys.exit(f"{path}: unexpected header {header}")
        for number, line in enumerate(handle, start=2):
            if not line.strip() or line.startswith("#"):
                continue
            values = line.rstrip("\n").split("\t")
            if len(values) != len(FIELDS):
                sys.exit(f"{path}:{number}: {len(values)} fields, expected {len(FIELDS)}")
            row = dict(zip(FIELDS, values))
            row["line_parent"] = int(row["line_parent"])
            row["line_fix"] = int(row["line_fix"])
            row["codes"] = tuple(code.strip() for code in row["codes"].split(",") if code.strip())
            rows.append(row)
    return rows


def git_dir(mirrors: Path, repo: str) -> Path:
    return mirrors / repo.replace("/", "+") / "repo"


def extract(gd: Path, commit: str, cache: Path) -> Path:
    """The Python files of ``commit`` under ``cache/<repo>/<commit>`` (extracted once, then reused)."""
    dest = cache / gd.parent.name / commit
    if (dest / ".complete").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        proc = subprocess.run(
            ["git", "--git-dir", str(gd), "archive", "--format=tar", commit, "--", ":(glob)**/*.py"],
            stdout=archive,
            stderr=subprocess.PIPE,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"git archive {commit} failed: {proc.stderr.decode(errors='replace').strip()}")
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
            for member in members:
                target = (dest / member.name).resolve()
                if not str(target).startswith(str(dest.resolve())):
                    raise RuntimeError(f"unsafe path in archive: {member.name}")
            if sys.version_info >= (3, 12):
                tar.extractall(dest, members=members, filter="data")
            else:
                tar.extractall(dest, members=members)
    (dest / ".complete").write_text(commit + "\n")
    return dest


def run_orm_lint(orm_lint: Path, tree: Path, verbose: bool) -> dict[str, list[dict]]:
    """Findings of one tree, by path relative to the tree."""
    proc = subprocess.run(
        [str(orm_lint), "check", ".", "--no-mypy", "--no-cache", "--format", "json"],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):
        print(f"  orm-lint exited {proc.returncode} on {tree}: {proc.stderr.strip()[:500]}", file=sys.stderr)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(f"  orm-lint gave no JSON on {tree}", file=sys.stderr)
        return {}
    if verbose and data.get("errors"):
        print(f"  {len(data['errors'])} file(s) orm-lint could not analyse in {tree.name[:10]}", file=sys.stderr)
    findings: dict[str, list[dict]] = defaultdict(list)
    for finding in data.get("findings", []):
        path = finding["path"]
        if path.startswith("./"):
            path = path[2:]
        findings[path].append(finding)
    return findings


def locate(tree: Path, path: str, line: int, text: str) -> int | None:
    """The line number holding ``text`` (stripped): ``line`` itself when it matches, else the nearest match."""
    try:
        lines = (tree / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if 0 < line <= len(lines) and lines[line - 1].strip() == text:
        return line
    matches = [number for number, content in enumerate(lines, start=1) if content.strip() == text]
    if not matches:
        return None
    return min(matches, key=lambda number: abs(number - line))


def reported(findings: dict[str, list[dict]], path: str, line: int, codes: tuple[str, ...]) -> list[str]:
    """The expected codes reported on ``line`` (or on a finding whose span covers it)."""
    hits = []
    for finding in findings.get(path, []):
        start = finding["line"]
        end = finding.get("end_line") or start
        if start == line or (start <= line <= end and end - start < 10):
            if finding["code"] in codes:
                hits.append(finding["code"])
    return sorted(set(hits))


def percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "    – "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
    parser.add_argument("--project", action="append", help="only this project (name or owner/name; repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every row, and the hits as well")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS, help="folder of <owner>+<name>/repo git dirs")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where extracted trees are kept")
    parser.add_argument("--orm-lint", type=Path, default=DEFAULT_ORM_LINT)
    args = parser.parse_args(argv)

    rows = load_corpus(args.corpus)
    if args.kind:
        rows = [row for row in rows if row["kind"] in args.kind]
    if args.project:
        wanted = {name.lower() for name in args.project}
        rows = [row for row in rows if row["project"].lower() in wanted or row["repo"].lower() in wanted]
    if not rows:
        print("no rows selected")
        return 2

    missing = sorted({row["repo"] for row in rows if not git_dir(args.mirrors, row["repo"]).is_dir()})
    if missing:
        print(
            "missing mirrors (fetch them first, e.g. with the library's `fetch github:<owner>/<name>`,", file=sys.stderr
        )
        print(f"or `git clone --mirror https://github.com/<owner>/<name> {args.mirrors}/<owner>+<name>/repo`):")
        for repo in missing:
            print(f"  {repo}  ->  {git_dir(args.mirrors, repo)}", file=sys.stderr)
        rows = [row for row in rows if row["repo"] not in missing]
        if not rows:
            return 2

    trees: dict[tuple[str, str], dict[str, list[dict]]] = {}
    tree_dirs: dict[tuple[str, str], Path] = {}
    needed = sorted({(row["repo"], row[side]) for row in rows for side in ("parent_commit", "fix_commit")})
    for index, (repo, commit) in enumerate(needed, start=1):
        print(f"[{index}/{len(needed)}] {repo} {commit[:10]}", file=sys.stderr)
        tree = extract(git_dir(args.mirrors, repo), commit, args.cache)
        tree_dirs[(repo, commit)] = tree
        trees[(repo, commit)] = run_orm_lint(args.orm_lint, tree, args.verbose)

    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # rows, positives found, fixed flagged
    misses, flagged, unlocated = [], [], []
    for row in rows:
        key = row["kind"]
        stats[key][0] += 1
        parent_tree = tree_dirs[(row["repo"], row["parent_commit"])]
        fix_tree = tree_dirs[(row["repo"], row["fix_commit"])]
        pline = locate(parent_tree, row["path_parent"], row["line_parent"], row["text_parent"])
        fline = locate(fix_tree, row["path_fix"], row["line_fix"], row["text_fix"])
        if pline is None or fline is None:
            unlocated.append(row)
        hit = reported(trees[(row["repo"], row["parent_commit"])], row["path_parent"], pline or -1, row["codes"])
        fixed_hit = reported(trees[(row["repo"], row["fix_commit"])], row["path_fix"], fline or -1, row["codes"])
        if hit:
            stats[key][1] += 1
        else:
            misses.append(row)
        if fixed_hit:
            stats[key][2] += 1
            flagged.append(row)
        if args.verbose:
            mark = "HIT " if hit else "miss"
            extra = f"  FIXED LINE FLAGGED {','.join(fixed_hit)}" if fixed_hit else ""
            print(
                f"{mark} {row['project']:<12} {row['fix_commit'][:10]} {row['kind']:<14} "
                f"{row['path_parent']}:{pline}  {row['text_parent'][:70]}{extra}"
            )

    print()
    print(f"{'kind':<16}{'positives':>10}{'recall':>16}{'fixed flagged':>20}")
    total = [0, 0, 0]
    for kind in KINDS:
        if kind not in stats:
            continue
        n, found, fixed = stats[kind]
        total = [total[0] + n, total[1] + found, total[2] + fixed]
        print(f"{kind:<16}{n:>10}{found:>6}/{n:<3}{percent(found, n):>7}{fixed:>10}/{n:<3}{percent(fixed, n):>7}")
    n, found, fixed = total
    print(f"{'overall':<16}{n:>10}{found:>6}/{n:<3}{percent(found, n):>7}{fixed:>10}/{n:<3}{percent(fixed, n):>7}")
    projects = sorted({row["project"] for row in rows})
    print(f"\n{len(rows)} positives from {len(projects)} projects, {len(needed)} trees")

    if misses:
        print(f"\nmisses ({len(misses)}):")
        for row in misses:
            where = f"{row['path_parent']}:{row['line_parent']}"
            print(f"  {row['kind']:<14} {row['project']}@{row['parent_commit'][:10]} {where}")
            print(f"      {row['text_parent'][:100]}")
            print(f"      expected {','.join(row['codes'])}; {row['note']}")
    if flagged:
        print(f"\nfixed lines still flagged ({len(flagged)}):")
        for row in flagged:
            print(f"  {row['kind']:<14} {row['project']}@{row['fix_commit'][:10]} {row['path_fix']}:{row['line_fix']}")
            print(f"      {row['text_fix'][:100]}")
    if unlocated:
        print(f"\nrows whose line text was not found ({len(unlocated)}):")
        for row in unlocated:
            print(f"  {row['project']} {row['fix_commit'][:10]} {row['path_parent']}:{row['line_parent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

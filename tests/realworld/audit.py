"""Real-world precision audit of orm-lint (issue 11, "How it is measured").

Runs ``orm-lint check <folder> --no-mypy --no-cache --format json`` with the default
configuration on the projects listed in ``audit_projects.tsv``, joins the findings with
the hand-made verdicts in ``audit.tsv`` and prints the precision per code.

A verdict is keyed by (project, path, code, hash of the finding line's stripped text), not
by the line number, so it survives unrelated edits above the line. Identical lines in one
file with the same code are told apart by their order (``<hash>#2``, ``#3``...). A verdict
whose recorded severity differs from today's is reported as to re-audit: whether the
severity is honest is part of the verdict.

Stdlib only. Run from anywhere:

    python tests/realworld/audit.py                       # table, precision, un-audited findings
    python tests/realworld/audit.py --sample 10 --seed 1  # up to 10 un-audited findings per code to audit next
    python tests/realworld/audit.py --project lemur --show-unaudited
    python tests/realworld/audit.py --orm-lint /tmp/audit-snap/orm-lint   # another orm-lint (a snapshot)

Projects are extracted from local git mirrors (``--mirrors``, default /work/.mirror, one
``<owner>+<name>/repo`` git directory each) at the pinned commit into the cache folder
(``--cache``, default /tmp/realworld); when no mirror exists the repository is cloned
from GitHub. Their code is never part of this repository.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
PROJECTS_TSV = HERE / "audit_projects.tsv"
AUDIT_TSV = HERE / "audit.tsv"
AUDIT_COLUMNS = ["project", "path", "line", "code", "severity", "text_sha", "verdict", "reason"]
VERDICTS = ("right", "wrong", "unsure")


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a tab-separated file with a header line; lines starting with # are comments."""
    rows = []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("#")]
    if not lines:
        return rows
    header = lines[0].split("\t")
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            sys.exit(f"{path.name}:{number}: expected {len(header)} columns, found {len(cells)}")
        rows.append(dict(zip(header, cells)))
    return rows


def line_sha(text: str) -> str:
    """Hash of a source line with its whitespace normalised."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def extract(project: dict[str, str], cache: Path, mirrors: Path) -> Path:
    """The project at its pinned commit, as a git checkout of the checked folder alone (sparse), made in the cache
    if missing. A checkout, as users run orm-lint: the migration rules ask git which release brought a table."""
    target = cache / project["name"]
    marker = target / ".git" / "orm-lint-audit-commit"
    if marker.is_file() and marker.read_text().strip() == project["commit"]:
        return target
    if target.exists():
        shutil.rmtree(target)
    owner, name = project["repo"].split("/")
    git_dir = mirrors / f"{owner}+{name}" / "repo"
    if not git_dir.is_dir():
        clone = cache / f".clone-{project['name']}"
        if not clone.is_dir():
            url = f"https://github.com/{project['repo']}.git"
            subprocess.run(["git", "clone", "--bare", url, str(clone)], check=True)  # whole: shared below
        git_dir = clone

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(target), *args], check=True, stdout=subprocess.DEVNULL)

    # only the checked folder: snapshots may lack large files elsewhere (images, data)
    subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(git_dir), str(target)], check=True)
    git("sparse-checkout", "set", "--no-cone", f"/{project['folder']}/")
    git("checkout", "--quiet", "--detach", project["commit"])
    if not any((target / project["folder"]).rglob("*.py")):  # git may leave objects it cannot read unchecked out
        sys.exit(f"{project['name']}: the checkout of {project['folder']} at {project['commit']} is empty")
    marker.write_text(project["commit"] + "\n")
    return target


def orm_lint_command() -> str:
    local = REPO_ROOT / ".venv" / "bin" / "orm-lint"
    if local.is_file():
        return str(local)
    found = shutil.which("orm-lint")
    if not found:
        sys.exit("orm-lint not found: run python3 dev.py test (it sets up .venv) or pip install orm-lint")
    return found


def run_orm_lint(tree: Path, folder: str, command: str) -> dict:
    """orm-lint's JSON for one project, paths relative to the project's root."""
    result = subprocess.run(
        # every migration: in a checkout of the default branch, the default reviews only the new ones (none)
        [command, "check", folder, "--no-mypy", "--no-cache", "--migrations", "all", "--format", "json"],
        cwd=tree,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if result.returncode not in (0, 1):
        sys.exit(f"orm-lint failed on {tree} (exit {result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout)


def keyed_findings(project: str, tree: Path, report: dict) -> list[dict]:
    """The findings with their source line text and audit key, in path and line order."""
    findings = []
    lines_of: dict[str, list[str]] = {}
    for finding in report["findings"]:
        path = finding["path"]
        if os.path.isabs(path):
            path = os.path.relpath(path, tree)
        if path not in lines_of:
            try:
                lines_of[path] = (tree / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines_of[path] = []
        source = lines_of[path]
        line = finding["line"]
        text = source[line - 1].strip() if 0 < line <= len(source) and "cell" not in finding else ""
        findings.append(dict(finding, project=project, path=path, text=text, sha=line_sha(text)))
    findings.sort(key=lambda f: (f["path"], f["line"], f["column"], f["code"]))
    seen: collections.Counter = collections.Counter()
    for finding in findings:
        base = (finding["project"], finding["path"], finding["code"], finding["sha"])
        seen[base] += 1
        finding["text_sha"] = finding["sha"] if seen[base] == 1 else f"{finding['sha']}#{seen[base]}"
        finding["key"] = base[:3] + (finding["text_sha"],)
    return findings


def precision(right: int, wrong: int) -> str:
    return f"{100 * right / (right + wrong):5.1f} %" if right + wrong else "    -  "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("ORM_LINT_AUDIT_CACHE", "/tmp/realworld")))
    parser.add_argument("--mirrors", type=Path, default=Path(os.environ.get("ORM_LINT_AUDIT_MIRRORS", "/work/.mirror")))
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument("--sample", type=int, metavar="N", help="print up to N un-audited findings per code to audit")
    parser.add_argument("--seed", type=int, default=0, help="random seed of --sample")
    parser.add_argument("--show-unaudited", action="store_true", help="list every un-audited finding, not only counts")
    parser.add_argument(
        "--orm-lint",
        metavar="CMD",
        help="the orm-lint command to run (default .venv/bin/orm-lint, else orm-lint on PATH),"
        " e.g. a wrapper running a snapshot of the committed sources",
    )
    args = parser.parse_args(argv)

    projects = read_tsv(PROJECTS_TSV)
    if args.project:
        unknown = set(args.project) - {p["name"] for p in projects}
        if unknown:
            sys.exit(f"unknown project(s): {', '.join(sorted(unknown))}")
        projects = [p for p in projects if p["name"] in args.project]
    audit = read_tsv(AUDIT_TSV) if AUDIT_TSV.is_file() else []
    verdicts = {}
    for row in audit:
        if row["verdict"] not in VERDICTS:
            sys.exit(f"audit.tsv: verdict {row['verdict']!r} is not one of {', '.join(VERDICTS)}")
        key = (row["project"], row["path"], row["code"], row["text_sha"])
        if key in verdicts:
            sys.exit(f"audit.tsv: two verdicts for {key}")
        verdicts[key] = row

    command = str(Path(args.orm_lint).resolve()) if args.orm_lint else orm_lint_command()
    findings: list[dict] = []
    print("per project")
    print(f"  {'project':<16} {'files':>6} {'findings':>8}  by code")
    for project in projects:  # one at a time: the machine is shared
        tree = extract(project, args.cache, args.mirrors)
        report = run_orm_lint(tree, project["folder"], command)
        keyed = keyed_findings(project["name"], tree, report)
        findings.extend(keyed)
        by_code = collections.Counter(f["code"] for f in keyed)
        codes = " ".join(f"{code}:{count}" for code, count in sorted(by_code.items()))
        print(f"  {project['name']:<16} {report['files']:>6} {len(keyed):>8}  {codes}")
        for error in report.get("errors", []):
            print(f"    error: {error}")

    tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    unaudited, reaudit, matched = [], [], set()
    for finding in findings:
        row = verdicts.get(finding["key"])
        tally[finding["code"]]["findings"] += 1
        if row is None:
            unaudited.append(finding)
        elif row["severity"] != finding["severity"]:
            matched.add(finding["key"])
            reaudit.append((finding, row))
            unaudited.append(finding)
        else:
            matched.add(finding["key"])
            tally[finding["code"]][row["verdict"]] += 1

    print("\nper code (precision = right / (right + wrong); strict counts unsure as not right)")
    header = ("code", "findings", "audited", "right", "wrong", "unsure", "precision", "strict")
    print("  {:<8} {:>8} {:>7} {:>5} {:>5} {:>6} {:>9} {:>8}".format(*header))
    total: collections.Counter = collections.Counter()
    for code in sorted(tally):
        t = tally[code]
        total.update(t)
        audited = t["right"] + t["wrong"] + t["unsure"]
        strict = precision(t["right"], t["wrong"] + t["unsure"])
        print(
            f"  {code:<8} {t['findings']:>8} {audited:>7} {t['right']:>5} {t['wrong']:>5} {t['unsure']:>6}"
            f" {precision(t['right'], t['wrong']):>9} {strict:>8}"
        )
    audited = total["right"] + total["wrong"] + total["unsure"]
    print(
        f"  {'overall':<8} {total['findings']:>8} {audited:>7} {total['right']:>5} {total['wrong']:>5}"
        f" {total['unsure']:>6} {precision(total['right'], total['wrong']):>9}"
        f" {precision(total['right'], total['wrong'] + total['unsure']):>8}"
    )

    checked = {p["name"] for p in projects}
    gone = [row for key, row in verdicts.items() if key[0] in checked and key not in matched]
    if gone:
        print(f"\naudited findings no longer reported ({len(gone)}; a wrong one gone is a fix)")
        for row in gone:
            print(f"  {row['verdict']:<6} {row['project']} {row['path']}:{row['line']} {row['code']}  {row['reason']}")
    if reaudit:
        print(f"\nseverity changed since the audit, to re-audit ({len(reaudit)})")
        for finding, row in reaudit:
            print(
                f"  {finding['project']} {finding['path']}:{finding['line']} {finding['code']}"
                f" {row['severity']} -> {finding['severity']} (was {row['verdict']})"
            )

    by_code = collections.Counter(f["code"] for f in unaudited)
    print(f"\nnot yet audited: {len(unaudited)} ({' '.join(f'{c}:{n}' for c, n in sorted(by_code.items()))})")
    if args.show_unaudited:
        for f in unaudited:
            print(f"  {f['project']} {f['path']}:{f['line']} {f['code']} {f['severity']}  {f['text'][:100]}")

    if args.sample:
        rng = random.Random(args.seed)
        per_code: dict[str, list[dict]] = collections.defaultdict(list)
        for f in unaudited:
            per_code[f["code"]].append(f)
        print(f"\nsample to audit next (up to {args.sample} per code, seed {args.seed}); fill verdict and reason:")
        print("\t".join(AUDIT_COLUMNS))
        for code in sorted(per_code):
            pool = per_code[code]
            for f in sorted(rng.sample(pool, min(args.sample, len(pool))), key=lambda f: (f["project"], f["path"])):
                cells = [f["project"], f["path"], str(f["line"]), code, f["severity"], f["text_sha"], "?", ""]
                print(f"# {f['text'][:100]}  --  {f['message'][:140]}")
                print("\t".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())

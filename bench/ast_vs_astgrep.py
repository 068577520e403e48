"""Finding candidate sites for two simple orm-lint rules: Python's `ast` versus ast-grep-py.

Usage:
    python bench/ast_vs_astgrep.py TREE [--reps 5] [--name NAME]
    python bench/ast_vs_astgrep.py --synthetic 500 [--reps 5]

Rules (candidate sites only, not orm-lint's full logic):
  A  random ordering: a call `X.order_by(...)` with a positional argument that is the str
     literal "?" (ast: Constant "?"; ast-grep: a `string` child of the argument list whose
     whole text is "?" in any quoting, u/r prefixes allowed, b prefix not).
  B  f-string SQL: a call `X.execute(...)`, `X.raw(...)`, `X.text(...)` or `text(...)` whose
     first positional argument is an f-string (ast: JoinedStr; tree-sitter: a `string` whose
     `string_start` has an f/F prefix - this equals JoinedStr, including f-strings without
     placeholders - or a `concatenated_string` holding one, optionally in one pair of
     parentheses; comments in the argument list are skipped when counting the first argument).
ast-grep runs each rule as one YAML-style rule object through `SgNode.find_all(config)`, so
the matching is done natively; `ast` runs one `ast.walk` per rule (and one walk doing both,
as orm-lint's shared index does).

Every file is read and decoded once up front (outside all timings); both engines get the
same `str`. Per file and per engine, inside one loop:
    t0  parse (ast.parse(src) / SgRoot(src, "python"))  t1  find A, find B  t2
so (i) parse-only = sum(t1 - t0), (iii) find-only on an already parsed tree = sum(t2 - t1),
(ii) parse + find = sum(t2 - t0). Freeing the trees happens outside the timed spans for
both engines. Each repetition runs the engines in alternating order; medians over reps.
The figure that matters for the flake8 plugin is (iii) for ast (flake8 hands the plugin a
parsed tree) against (ii) for ast-grep (it must parse the file again itself).

Sites are compared as (file, start line, start column, end line, end column), columns in
characters; mismatch counts per rule are reported (and the first few listed in the JSON).
Files that `ast.parse` rejects (syntax of a newer Python, say) are left out for both.
Results go to bench/results/ast_vs_astgrep-<name>.json.
"""

from __future__ import annotations

import argparse
import ast
import gc
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ast_grep_py import SgRoot  # noqa: E402

from _common import (  # noqa: E402
    discover,
    environment,
    fmt_s,
    fmt_x,
    make_synthetic_tree,
    ratio,
    read_text,
    summary,
    tree_stats,
    write_results,
)

# ------------------------------------------------------------------------------------ rules
_QUESTION = r"""^[uUrR]?("\?"|'\?'|"{3}\?"{3}|'{3}\?'{3})$"""
RULE_A = {
    "rule": {
        "kind": "call",
        "all": [
            {"has": {"field": "function", "kind": "attribute", "has": {"field": "attribute", "regex": "^order_by$"}}},
            {"has": {"field": "arguments", "kind": "argument_list", "has": {"kind": "string", "regex": _QUESTION}}},
        ],
    }
}
_FSTRING = {"kind": "string", "has": {"kind": "string_start", "regex": "[fF]"}}
_FSTRING_EXPR = {"any": [_FSTRING, {"kind": "concatenated_string", "has": _FSTRING}]}
RULE_B = {
    "rule": {
        "kind": "call",
        "all": [
            {
                "has": {
                    "field": "function",
                    "any": [
                        {"kind": "attribute", "has": {"field": "attribute", "regex": "^(execute|raw|text)$"}},
                        {"kind": "identifier", "regex": "^text$"},
                    ],
                }
            },
            {
                "has": {
                    "field": "arguments",
                    "kind": "argument_list",
                    "has": {
                        "nthChild": {"position": 1, "ofRule": {"not": {"kind": "comment"}}},
                        "any": [_FSTRING_EXPR, {"kind": "parenthesized_expression", "has": _FSTRING_EXPR}],
                    },
                }
            },
        ],
    }
}
_B_METHODS = frozenset({"execute", "raw", "text"})


def ast_is_a(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "order_by"
        and any(isinstance(a, ast.Constant) and a.value == "?" for a in node.args)
    )


def ast_is_b(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.JoinedStr):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in _B_METHODS) or (
        isinstance(func, ast.Name) and func.id == "text"
    )


def ast_find_a(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if ast_is_a(n)]


def ast_find_b(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if ast_is_b(n)]


def ast_find_both(tree: ast.AST) -> tuple[list[ast.Call], list[ast.Call]]:
    found_a, found_b = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if ast_is_a(node):
                found_a.append(node)
            if ast_is_b(node):
                found_b.append(node)
    return found_a, found_b


# ------------------------------------------------------------------------------------ sites
def _char_col(lines: list[str], lineno: int, byte_col: int) -> int:
    return len(lines[lineno - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def ast_sites(name: str, lines: list[str], nodes: list[ast.Call]) -> set[tuple]:
    return {
        (
            name,
            n.lineno,
            _char_col(lines, n.lineno, n.col_offset),
            n.end_lineno,
            _char_col(lines, n.end_lineno, n.end_col_offset),
        )
        for n in nodes
    }


def sg_sites(name: str, nodes: list) -> set[tuple]:
    out = set()
    for n in nodes:
        r = n.range()
        out.add((name, r.start.line + 1, r.start.column, r.end.line + 1, r.end.column))
    return out


# ------------------------------------------------------------------------------------ timing
def run_ast(sources: list[tuple[str, str]], collect: bool) -> dict[str, object]:
    parse = find = find_a = find_b = find_both = parse_cpu = find_cpu = 0.0
    sites_a: set[tuple] = set()
    sites_b: set[tuple] = set()
    for name, src in sources:
        c0, t0 = time.process_time(), time.perf_counter()
        tree = ast.parse(src, filename=name)
        t1, c1 = time.perf_counter(), time.process_time()
        a = ast_find_a(tree)
        tm = time.perf_counter()
        b = ast_find_b(tree)
        t2, c2 = time.perf_counter(), time.process_time()
        both = ast_find_both(tree)
        t3 = time.perf_counter()
        parse += t1 - t0
        find += t2 - t1
        find_a += tm - t1
        find_b += t2 - tm
        parse_cpu += c1 - c0
        find_cpu += c2 - c1
        find_both += t3 - t2
        if collect:
            assert (both[0], both[1]) == (a, b)
            lines = src.splitlines()
            sites_a |= ast_sites(name, lines, a)
            sites_b |= ast_sites(name, lines, b)
        del tree, a, b, both
    return {
        "parse": parse,
        "find": find,
        "find_a": find_a,
        "find_b": find_b,
        "find_both_one_walk": find_both,
        "parse_cpu": parse_cpu,
        "find_cpu": find_cpu,
        "sites_a": sites_a,
        "sites_b": sites_b,
    }


def run_astgrep(sources: list[tuple[str, str]], collect: bool) -> dict[str, object]:
    parse = find = find_a = find_b = parse_cpu = find_cpu = 0.0
    sites_a: set[tuple] = set()
    sites_b: set[tuple] = set()
    for name, src in sources:
        c0, t0 = time.process_time(), time.perf_counter()
        root = SgRoot(src, "python").root()
        t1, c1 = time.perf_counter(), time.process_time()
        a = root.find_all(RULE_A)
        tm = time.perf_counter()
        b = root.find_all(RULE_B)
        t2, c2 = time.perf_counter(), time.process_time()
        parse += t1 - t0
        find += t2 - t1
        find_a += tm - t1
        find_b += t2 - tm
        parse_cpu += c1 - c0
        find_cpu += c2 - c1
        if collect:
            sites_a |= sg_sites(name, a)
            sites_b |= sg_sites(name, b)
        del root, a, b
    return {
        "parse": parse,
        "find": find,
        "find_a": find_a,
        "find_b": find_b,
        "parse_cpu": parse_cpu,
        "find_cpu": find_cpu,
        "sites_a": sites_a,
        "sites_b": sites_b,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="folder of Python files")
    parser.add_argument("--synthetic", type=int, metavar="N", help="generate N files in a scratch folder instead")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument("--name", help="results name (default: the tree's folder name)")
    args = parser.parse_args()
    if (args.tree is None) == (args.synthetic is None):
        parser.error("give a TREE or --synthetic N (not both)")

    scratch = Path(tempfile.mkdtemp(prefix="orm-lint-bench-"))
    try:
        if args.synthetic is not None:
            tree = make_synthetic_tree(args.synthetic, scratch / "synthetic")
            name = args.name or f"synthetic{args.synthetic}"
        else:
            tree = args.tree.resolve()
            name = args.name or tree.name
        files = discover(tree)
        stats = tree_stats(files)
        sources: list[tuple[str, str]] = []
        unparsable: list[str] = []
        warnings.simplefilter("ignore")
        for path in files:
            src = read_text(path)
            try:
                ast.parse(src, filename=str(path))
            except (SyntaxError, ValueError):
                unparsable.append(str(path))
                continue
            sources.append((str(path), src))
        used_lines = sum(src.count("\n") for _, src in sources)
        print(
            f"tree {tree}: {stats['files']} files, {stats['lines']} lines; measured {len(sources)} files"
            f" ({len(unparsable)} rejected by ast.parse on Python {sys.version.split()[0]})",
            flush=True,
        )

        started = time.perf_counter()
        # untimed pass: warm both engines up and collect the sites
        ref_ast = run_ast(sources, collect=True)
        ref_sg = run_astgrep(sources, collect=True)
        samples: dict[str, dict[str, list[float]]] = {"ast": {}, "ast_grep": {}}
        for rep in range(args.reps):
            order = ("ast", "ast_grep") if rep % 2 == 0 else ("ast_grep", "ast")
            for engine in order:
                gc.collect()
                result = run_ast(sources, False) if engine == "ast" else run_astgrep(sources, False)
                for key, value in result.items():
                    if not key.startswith("sites"):
                        samples[engine].setdefault(key, []).append(value)
            print(
                f"  rep {rep + 1}/{args.reps}: ast parse {samples['ast']['parse'][-1]:.2f} s"
                f" find {samples['ast']['find'][-1]:.3f} s;"
                f" ast-grep parse {samples['ast_grep']['parse'][-1]:.2f} s"
                f" find {samples['ast_grep']['find'][-1]:.3f} s",
                flush=True,
            )
        wall = time.perf_counter() - started
        load = os.getloadavg()

        med = {e: {k: summary(v) for k, v in s.items()} for e, s in samples.items()}
        for engine in med:
            plus = [p + f for p, f in zip(samples[engine]["parse"], samples[engine]["find"])]
            med[engine]["parse_plus_find"] = summary(plus)
            plus_cpu = [p + f for p, f in zip(samples[engine]["parse_cpu"], samples[engine]["find_cpu"])]
            med[engine]["parse_plus_find_cpu"] = summary(plus_cpu)

        def m(engine: str, key: str) -> float:
            return med[engine][key]["median"]

        mismatches = {}
        for rule in ("a", "b"):
            only_ast = sorted(ref_ast[f"sites_{rule}"] - ref_sg[f"sites_{rule}"])
            only_sg = sorted(ref_sg[f"sites_{rule}"] - ref_ast[f"sites_{rule}"])
            mismatches[rule.upper()] = {
                "ast_sites": len(ref_ast[f"sites_{rule}"]),
                "ast_grep_sites": len(ref_sg[f"sites_{rule}"]),
                "only_ast": len(only_ast),
                "only_ast_grep": len(only_sg),
                "only_ast_examples": only_ast[:20],
                "only_ast_grep_examples": only_sg[:20],
            }
        ratios = {
            "parse_astgrep_over_ast": ratio(m("ast_grep", "parse"), m("ast", "parse")),
            "parse_plus_find_astgrep_over_ast": ratio(m("ast_grep", "parse_plus_find"), m("ast", "parse_plus_find")),
            "find_only_astgrep_over_ast": ratio(m("ast_grep", "find"), m("ast", "find")),
            "plugin_view_astgrep_parse_find_over_ast_find": ratio(m("ast_grep", "parse_plus_find"), m("ast", "find")),
            "plugin_view_astgrep_parse_find_over_ast_one_walk": ratio(
                m("ast_grep", "parse_plus_find"), m("ast", "find_both_one_walk")
            ),
            "cpu_parse_plus_find_astgrep_over_ast": ratio(
                m("ast_grep", "parse_plus_find_cpu"), m("ast", "parse_plus_find_cpu")
            ),
            "cpu_plugin_view_astgrep_parse_find_over_ast_find": ratio(
                m("ast_grep", "parse_plus_find_cpu"), m("ast", "find_cpu")
            ),
        }
        results = {
            "benchmark": "ast_vs_astgrep",
            "name": name,
            "tree": str(tree),
            "synthetic": args.synthetic,
            "tree_stats": stats,
            "measured_files": len(sources),
            "measured_lines": used_lines,
            "unparsable": unparsable,
            "reps": args.reps,
            "environment": environment(),
            "rules": {"A": RULE_A, "B": RULE_B},
            "timings": med,
            "ratios": ratios,
            "mismatches": mismatches,
            "wall_seconds": wall,
            "load_average_at_end": load,
        }
        out_path = write_results(f"ast_vs_astgrep-{name}", results)

        print()
        print(
            f"== ast_vs_astgrep: {name} ({len(sources)} files, {used_lines} lines;"
            f" medians of {args.reps} reps; load avg at end {load[0]:.2f})"
        )
        print(f"  {'':34} {'ast':>11} {'ast-grep':>11} {'ast-grep/ast':>13}")
        rows = [
            ("(i)   parse only", "parse", "parse"),
            ("(ii)  parse + find A,B", "parse_plus_find", "parse_plus_find"),
            ("(iii) find A,B on parsed tree", "find", "find"),
            ("(i)   parse only, cpu", "parse_cpu", "parse_cpu"),
            ("(ii)  parse + find A,B, cpu", "parse_plus_find_cpu", "parse_plus_find_cpu"),
            ("(iii) find A,B on parsed tree, cpu", "find_cpu", "find_cpu"),
            ("      find A only", "find_a", "find_a"),
            ("      find B only", "find_b", "find_b"),
        ]
        for label, ka, kg in rows:
            print(
                f"  {label:34} {fmt_s(m('ast', ka))} {fmt_s(m('ast_grep', kg))}"
                f" {fmt_x(ratio(m('ast_grep', kg), m('ast', ka))):>13}"
            )
        print(f"  {'      ast: A+B in one walk':34} {fmt_s(m('ast', 'find_both_one_walk'))}")
        print(
            f"  plugin view: ast-grep parse+find / ast find on flake8's tree = "
            f"{fmt_x(ratios['plugin_view_astgrep_parse_find_over_ast_find'])} (two walks), "
            f"{fmt_x(ratios['plugin_view_astgrep_parse_find_over_ast_one_walk'])} (one walk); "
            f"cpu {fmt_x(ratios['cpu_plugin_view_astgrep_parse_find_over_ast_find'])} (two walks)"
        )
        for rule, mm in mismatches.items():
            print(
                f"  rule {rule}: ast {mm['ast_sites']} sites, ast-grep {mm['ast_grep_sites']} sites;"
                f" only-ast {mm['only_ast']}, only-ast-grep {mm['only_ast_grep']}"
            )
            for site in mm["only_ast_examples"][:5]:
                print(f"    only ast:      {site}")
            for site in mm["only_ast_grep_examples"][:5]:
                print(f"    only ast-grep: {site}")
        print(f"  wall time {wall:.0f} s; results: {out_path}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

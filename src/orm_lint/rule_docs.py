"""Markdown pages generated from the catalogue: `docs/rules/ORM###.md` and `docs/rules.md`."""

from __future__ import annotations

from pathlib import Path

from .catalogue import RULES, Category, Engine, Rule
from .config_docs import configuration_page

_HEADER = "<!-- Generated from the rule catalogue by `orm-lint docs`; edit src/orm_lint/catalogue instead. -->\n"


def rule_page(rule: Rule) -> str:
    docs = rule.docs
    frameworks = ", ".join(f.value for f in rule.frameworks)
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(rule.docs.fix_steps, 1))
    references = "\n".join(f"- <{ref}>" for ref in docs.references) or "- (none)"
    return f"""{_HEADER}
# {rule.code} `{rule.name}`

{rule.summary}

| | |
|---|---|
| problem | `{rule.problem}` |
| category | {rule.category.value} |
| severity | {rule.severity.value} ({rule.severity.priority}) |
| frameworks | {frameworks} |
| engine | {rule.engine.value} |
| message | `{rule.code} {rule.message}` |

## What it does
{docs.what_it_does}

## Why is this bad?
{docs.why_bad}

## Example
```python
{rule.bad_example.rstrip()}
```

## Use instead
```python
{rule.good_example.rstrip()}
```

## How to fix it
{steps}

## How to test the fix
{docs.how_to_test}

## Silencing it
{_silencing(rule)}

## References
{references}
"""


def _silencing(rule: Rule) -> str:
    """How to silence the rule where its engine reports it."""
    project = f'For a whole project: `ignore = ["{rule.code}"]` in `[tool.orm-lint]`'
    if rule.engine is Engine.MYPY:
        return (
            f"On one line: `# noqa: {rule.code}` in `orm-lint check`, `# type: ignore[orm-{rule.name}]` under plain "
            f"mypy. {project}, or `disable_error_code = orm-{rule.name}` for mypy."
        )
    return f"On one line: `# noqa: {rule.code}`. {project}, or `extend-ignore = {rule.code}` for flake8."


def rules_index() -> str:
    rows = []
    for category in Category:
        members = [r for r in RULES if r.category is category]
        if not members:
            continue
        rows.append(f"\n## {category.value.capitalize()}\n")
        rows.append("| code | name | problem | severity | engine | summary |")
        rows.append("|---|---|---|---|---|---|")
        for rule in members:
            rows.append(
                f"| [{rule.code}](rules/{rule.code}.md) | `{rule.name}` | `{rule.problem}` | "
                f"{rule.severity.value} | {rule.engine.value} | {rule.summary} |"
            )
    return _HEADER + "\n# orm-lint rules\n" + "\n".join(rows) + "\n"


def generated_files() -> dict[str, str]:
    """Relative path under docs/ -> content."""
    files = {"rules.md": rules_index(), "configuration.md": configuration_page()}
    for rule in RULES:
        files[f"rules/{rule.code}.md"] = rule_page(rule)
    return files


class DocsError(Exception):
    """`orm-lint docs` would overwrite a file it did not write."""


def _generated_by_us(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith("<!-- Generated") and "`orm-lint docs`" in first


def write_docs(folder: Path) -> list[Path]:
    """Rewrite the generated pages; refuse, before writing anything, when one would replace someone's file."""
    files = generated_files()
    foreign = [folder / name for name in files if (folder / name).exists() and not _generated_by_us(folder / name)]
    if foreign:
        names = ", ".join(str(path) for path in foreign[:3]) + (" …" if len(foreign) > 3 else "")
        raise DocsError(f"not overwriting files `orm-lint docs` did not write: {names} (choose another --output)")
    written = []
    for relative, content in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.write_text(content, encoding="utf-8")
            written.append(target)
    return written


def stale_docs(folder: Path) -> list[str]:
    """Generated pages that are missing or differ from the catalogue."""
    return [
        relative
        for relative, content in generated_files().items()
        if not (folder / relative).is_file() or (folder / relative).read_text(encoding="utf-8") != content
    ]

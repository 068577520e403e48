"""No input breaks either engine: each file gets silence or one clear diagnostic, never a traceback.

Bounded so CI stays well under a minute of it; `ORM_LINT_ROBUSTNESS=full` runs the large versions (~10 min)
(many more generated programs, and the standard library through the real `orm-lint check` too).
The syntax engine is run with its database-code gate off (`assume_database_code`) wherever it is
called directly, so every check sees code it would normally skip.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import warnings
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import MYPY_ALONE, run_orm_lint
from orm_lint.catalogue import RULES, Engine
from orm_lint.flake8_plugin.analysis import analyze

FULL = os.environ.get("ORM_LINT_ROBUSTNESS") == "full"
GENERATED_EXAMPLES = 3000 if FULL else 150
# Generated code such as `1()` or "\d" makes the compiler warn.
pytestmark = [
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
STDLIB_CHUNKS = 4


def analyse_everything(source: str | bytes, filename: str = "generated.py") -> None:
    """Parse (skipping what Python itself rejects) and run every syntax check, gate or not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    analyze(tree, filename, assume_database_code=True)


# -- the standard library --------------------------------------------------------------------
def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in {"site-packages", "dist-packages", "__pycache__"})
        found.extend(Path(folder) / name for name in sorted(filenames) if name.endswith(".py"))
    return found


STDLIB = _stdlib_files()


@pytest.mark.parametrize("chunk", range(STDLIB_CHUNKS))
def test_every_standard_library_module(chunk: int) -> None:
    files = STDLIB[chunk::STDLIB_CHUNKS]
    assert len(STDLIB) > 500, "the standard library was not found"
    failures = {}
    for path in files:
        try:
            analyse_everything(path.read_bytes(), str(path))
        except Exception as error:  # collected, so one run names every failing module
            failures[str(path)] = repr(error)
    assert failures == {}


@pytest.mark.skipif(not FULL, reason="ORM_LINT_ROBUSTNESS=full: the standard library through the real CLI")
def test_standard_library_through_the_cli() -> None:
    proc = run_orm_lint("check", "--no-mypy", "--no-cache", "--format", "json", sysconfig.get_paths()["stdlib"])
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    errors = json.loads(proc.stdout)["errors"]
    assert not [e for e in errors if "internal error" in e["message"]]


# -- generated programs ----------------------------------------------------------------------
# ORM-shaped contexts and statements, with hypothesmith's expressions spliced in, so that the
# checks' own code paths (receivers, loop bodies, SQL arguments) meet arbitrary sub-expressions.
# Holes: @E@ an expression, @B@ the statements (one level in), @BB@ the statements (two levels in);
# `@` twice in a row never occurs in Python, so a generated expression cannot contain a hole.
CONTEXTS = [
    "@B@",
    "for item in Book.objects.filter(x=@E@):\n@B@",
    "def view(request):\n    for row in session.scalars(select(Order)):\n@BB@",
    "async def handler(session):\n    async for row in await session.stream(@E@):\n@BB@",
    "while @E@:\n@B@",
    "result = [@E@ for book in Book.objects.all() if @E@]",
    "class Thing(models.Model):\n@B@",
    "with connection.cursor() as cursor:\n@B@",
    "try:\n@B@\nexcept Exception:\n    pass",
    "match @E@:\n    case Book(author=a, title='x') | [1, *_]:\n@BB@\n    case {'k': v, **rest}:\n@BB@",
    "handler = lambda: @E@",
]
STATEMENTS = [
    "value = @E@",
    "Book.objects.filter(@E@).exclude(pk=@E@)",
    "cursor.execute(@E@)",
    "cursor.execute(f'SELECT {@E@}')",
    "session.execute(text(@E@ + 'x'))",
    "Book.objects.raw('SELECT ' + @E@)",
    "Book.objects.order_by(@E@)",
    "len(Book.objects.filter(x=@E@))",
    "if Book.objects.filter(@E@):\n    pass",
    "item.author.name, item.tags.all()[@E@]",
    "list(Book.objects.all())[@E@]",
    "select(Order).where(@E@ is None, @E@ in [1])",
    "item.save(); item.delete()",
    "@E@.objects.create(name=@E@)",
    "migrations.AddField('book', 'x', models.IntegerField(null=@E@))",
]
# Expressions the checks look inside, mixed with arbitrary ones from the grammar.
TRICKY = [
    "x", "...", "None", "'?'", "\"-created\"", "b'?'", "'a' 'b'", "f'{x!r:>{width}}'", "'%s' % x", "'{}'.format(x)",
    "x + 'y'", "-1", "not x", "x if y else z", "lambda: (yield)", "(await x)", "(x := 1)", "[*a, *b]", "{**a}",
    "a[1:2, ::3]", "f()()", "Book.objects", "Book.objects.all()", "qs.filter(pk=1)[0]", "self.tags", "cls.objects",
    "Q(a=1) | ~Q(b=2)", "F('x') + 1", "RawSQL('x', [])", "text('x')", "(yield x)", "[x for x in y]",
]
GRAMMAR_EXPRESSIONS = hypothesmith.from_grammar(start="eval_input").map(lambda s: f"({s.strip()})")
# One expression in four from the grammar: generating those is what takes the time.
expressions = st.integers(0, 3).flatmap(lambda n: GRAMMAR_EXPRESSIONS if n == 0 else st.sampled_from(TRICKY))


@st.composite
def orm_programs(draw: st.DrawFn) -> str:
    def fill(text: str) -> str:
        while "@E@" in text:
            text = text.replace("@E@", draw(expressions), 1)
        return text

    parts = ["from django.db import connection, migrations, models", "from sqlalchemy import select, text"]
    for _ in range(draw(st.integers(1, 4))):
        body = "\n".join(fill(draw(st.sampled_from(STATEMENTS))) for _ in range(draw(st.integers(1, 3))))
        context = draw(st.sampled_from(CONTEXTS))
        if context == "@B@":
            parts.append(body)
            continue
        context = context.replace("@BB@", textwrap.indent(body, " " * 8)).replace("@B@", textwrap.indent(body, " " * 4))
        parts.append(fill(context))
    return "\n".join(parts) + "\n"


GENERATED = settings(
    max_examples=GENERATED_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@GENERATED
@given(source=hypothesmith.from_grammar())
def test_programs_generated_from_the_grammar(source: str) -> None:
    analyse_everything(source)


@GENERATED
@given(source=orm_programs())
def test_orm_shaped_generated_programs(source: str) -> None:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        assume(False)
    analyse_everything(source)


def test_catalogue_examples_in_odd_places() -> None:
    """Every rule's examples, also inside functions, coroutines, classes, loops and `if` blocks."""
    wrappers = [
        "{code}",
        "def outer():\n{indented}",
        "async def outer():\n{indented}",
        "class Outer:\n{indented}",
        "for _ in range(3):\n{indented}",
        "if __name__ == '__main__':\n{indented}",
    ]
    for rule in RULES:
        if rule.engine is not Engine.FLAKE8:
            continue
        for example in (rule.bad_example, rule.good_example):
            for wrapper in wrappers:
                code = textwrap.dedent(example)
                analyse_everything(wrapper.format(code=code, indented=textwrap.indent(code, "    ")))


# -- hostile files through the real CLI and the real flake8 ----------------------------------
DEPTH = 1000
NOTEBOOK_CELL = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
# file name -> content; the comment says what each one must produce
HOSTILE: dict[str, bytes] = {
    "empty.py": b"",
    "blank.py": b"\n\n   \n\t\n",
    "bom_only.py": "\ufeff".encode(),
    "bom.py": "\ufeffimport django\nfrom library.models import Book\nBook.objects.order_by('?')\n".encode(),
    "crlf.py": b"import django\r\nfrom library.models import Book\r\nBook.objects.order_by('?')\r\n",
    "cr_only.py": b"import django\rx = 1\r",
    "form_feed.py": b"import django\n\x0c\nx = 1\n",
    "latin1_cookie.py": "# -*- coding: latin-1 -*-\nimport django\nname = 'été'\n".encode("latin-1"),
    "latin1_no_cookie.py": "import django\nname = 'été'\n".encode("latin-1"),  # error: not UTF-8 (checked as latin-1)
    "unknown_cookie.py": b"# coding: klingon\nimport django\n",  # error: unknown codec (checked as latin-1)
    "bom_and_cookie.py": "\ufeff# coding: latin-1\nimport django\n".encode(),  # error: conflict (checked as latin-1)
    "utf16.py": "import django\n".encode("utf-16"),  # error: read as latin-1, it holds null bytes
    "null_bytes.py": b"import django\x00\n",  # error: null bytes
    "syntax_error.py": b"import django\ndef broken(:\n    pass\n",  # error
    "tabs.py": b"import django\nif True:\n\tx = 1\n        y = 2\n",  # error: inconsistent tabs
    "unterminated.py": b'import django\nx = """never closed\n',  # error
    "lone_surrogate.py": b"import django\nx = '\xed\xa0\x80'\n",  # error: not UTF-8 (checked as latin-1)
    "big.py": (
        "import django\nfrom library.models import Book\n\n\ndef f():\n"
        + "".join(f"    x{i} = Book.objects.filter(pk={i})\n" for i in range(100_000 - 6))
        + "    return x1\n"
    ).encode(),
    "deep_parentheses.py": b"import django\nx = " + b"(" * DEPTH + b"1" + b")" * DEPTH + b"\n",  # error
    # error: too many levels of indentation (Python stops at 100; flake8 needs seconds per 100 more)
    "deep_blocks.py": b"import django\n" + b"".join(b" " * i + b"if x:\n" for i in range(200)) + b" " * 200 + b"pass\n",
    "deep_not.py": b"import django\nx = " + b"not " * DEPTH + b"y\n",  # error: too deep
    "deep_attributes.py": b"import django\nx = a" + b".b" * DEPTH + b"\n",  # error: too deep
    "deep_calls.py": b"import django\nx = Book.objects" + b".filter()" * DEPTH + b"\n",  # error: too deep
    "deep_lambdas.py": b"import django\nf = " + b"lambda: " * DEPTH + b"1\n",  # error: too deep
    "long_sum.py": b"import django\nx = " + b" + ".join([b"a"] * 100_000) + b"\n",  # error: too deep to parse
    "broken.ipynb": b'{"cells": [',  # error: not JSON
    "not_a_dict.ipynb": b"[1, 2, 3]",  # error: no cells
    "no_cells.ipynb": b'{"worksheets": []}',  # error: no cells
    "empty.ipynb": b"",  # error: not JSON
    "binary.ipynb": b"\xff\xfe\x00garbage",  # error: not UTF-8
    "odd_cells.ipynb": json.dumps(  # error: its cell 4 reads `1Nonex = 1`
        {"cells": [1, None, {"cell_type": "code", "source": 5}, {**NOTEBOOK_CELL, "source": [1, None, "x = 1\n"]}]}
    ).encode(),
    "bad_code_cell.ipynb": json.dumps({"cells": [{**NOTEBOOK_CELL, "source": "def broken(:\n"}]}).encode(),  # error
    "magic.ipynb": json.dumps(
        {"cells": [{**NOTEBOOK_CELL, "source": ["%%sql\n", "SELECT 1\n"]}, {**NOTEBOOK_CELL, "source": "!ls\n%time x"}]}
    ).encode(),
}
EXPECTED_ERRORS = {
    "latin1_no_cookie.py",
    "unknown_cookie.py",
    "bom_and_cookie.py",
    "utf16.py",
    "null_bytes.py",
    "syntax_error.py",
    "tabs.py",
    "unterminated.py",
    "lone_surrogate.py",
    "deep_parentheses.py",
    "deep_blocks.py",
    "deep_not.py",
    "deep_attributes.py",
    "deep_calls.py",
    "deep_lambdas.py",
    "long_sum.py",
    "broken.ipynb",
    "not_a_dict.ipynb",
    "no_cells.ipynb",
    "empty.ipynb",
    "binary.ipynb",
    "bad_code_cell.ipynb",
    "odd_cells.ipynb",
}
DEEP = {name for name in HOSTILE if name.startswith("deep_") and name not in {"deep_parentheses.py", "deep_blocks.py"}}
# flake8 itself (not the plugin) cannot compile this one: its RecursionError stops the whole run.
BREAKS_FLAKE8 = {"long_sum.py"}
# flake8's own token and line processing of 100k lines takes ~10 s; the CLI test covers the file.
SLOW_IN_FLAKE8 = set() if FULL else {"big.py"}


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, content in HOSTILE.items():
        (folder / name).write_bytes(content)
    (folder / "dangling.py").symlink_to(folder / "does-not-exist.py")
    return folder


def test_hostile_files_through_the_cli(hostile_folder: Path) -> None:
    proc = run_orm_lint("check", "--no-mypy", "--no-cache", "--format", "json", ".", cwd=hostile_folder)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    errors = [e["path"] for e in data["errors"]]
    assert sorted(errors) == sorted(EXPECTED_ERRORS | {"dangling.py"}), "one diagnostic per unusable file"
    messages = {e["path"]: e["message"] for e in data["errors"]}
    assert not [m for m in messages.values() if "internal error" in m]
    for name in DEEP:
        assert "nested too deeply" in messages[name], messages[name]
    assert "nested too deeply to parse" in messages["long_sum.py"]
    found = {(f["path"], f["code"]) for f in data["findings"]}
    assert {("bom.py", "ORM108"), ("crlf.py", "ORM108")} <= found
    assert {path for path, _ in found} <= {"bom.py", "crlf.py", "big.py"}
    text = run_orm_lint("check", "--no-mypy", "--no-cache", ".", cwd=hostile_folder)
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert len(text.stderr.splitlines()) == len(errors), "one line on stderr per unusable file"


ONLY_OUR_PLUGIN = r"""
import sys
from flake8.plugins import finder
_find_plugins = finder.find_plugins
def find_plugins(cfg, opts):
    plugins = _find_plugins(cfg, opts)
    return [p for p in plugins if p.entry_point.group == "flake8.report" or p.entry_point.value.startswith("orm_lint")]
finder.find_plugins = find_plugins
from flake8.main.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_hostile_files_through_flake8(hostile_folder: Path) -> None:
    """Real flake8, with only orm-lint's plugin loaded: pyflakes gives up on the deep files itself."""
    names = sorted(n for n in HOSTILE if n.endswith(".py") and n not in BREAKS_FLAKE8 | SLOW_IN_FLAKE8)
    proc = subprocess.run(
        [sys.executable, "-c", ONLY_OUR_PLUGIN, "--isolated", "--select", "ORM,E902,E999", *names],
        capture_output=True,
        text=True,
        cwd=hostile_folder,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert sorted(proc.stderr.splitlines()) == sorted(
        f"orm-lint: {name} is nested too deeply to analyse; orm-lint skipped it" for name in DEEP
    )
    reported = {line.split(":")[0] for line in proc.stdout.splitlines()}
    assert {"bom.py", "crlf.py", "syntax_error.py", "null_bytes.py"} <= reported


# -- the mypy plugin on odd but valid programs -----------------------------------------------
SQLALCHEMY_ODDITIES = '''\
from __future__ import annotations

from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Column, ForeignKey, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declarative_base, mapped_column, relationship
from sqlalchemy.orm import selectinload

db = SQLAlchemy()
Legacy = declarative_base()


class Base(DeclarativeBase):
    pass


class Abstract(Base):
    __abstract__ = True


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    orders: Mapped[list[Order]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")


class Bare(Abstract): ...


class Old(Legacy):
    __tablename__ = "old"
    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer, ForeignKey("old.id"))
    parent = relationship("Old")


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    posts = db.relationship("Post", backref="author", lazy="dynamic")


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    title = db.Column(String(80))


class NoBody(db.Model): ...


def assignments(session: Session) -> None:
    a = b = session.scalars(select(Order)).all()
    first, *rest = a
    (x, y), z = (1, 2), 3
    first.customer, second = Customer(), b
    for order in a:
        order.customer = first.customer
        n: int
        n = order.customer_id
        order.customer_id += n
    d: dict[str, Any] = {}
    d["k"], d["j"] = rest, [o.customer for o in rest]
    del d["k"]
    [*d["all"]] = a
    print(x, y, z, second)


def comprehensions(session: Session) -> list[Any]:
    orders = session.scalars(select(Order)).all()
    return [
        {c.name: [o.id for o in c.orders if o.customer is c] for c in {o.customer for o in orders}}
        for _ in range(2)
        if (total := len(orders)) > 0
    ] + [list(g) for g in ((o.customer.name for o in orders) for _ in "ab")] + [total]


async def asynchronous(session: AsyncSession) -> list[str]:
    result = await session.stream_scalars(select(Order))
    ids = [o.customer_id async for o in result]
    async with session.begin():
        orders = (await session.scalars(select(Order).options(selectinload(Order.customer)))).all()
    return [o.customer.name for o in orders] + [str(i) for i in ids] + [
        (await session.get(Customer, 1) or Customer()).name for _ in range(2)
    ]


def walrus(session: Session) -> None:
    while (order := session.get(Order, 1)) is not None:
        print(order.customer.name)
        break
    if customers := session.scalars(select(Customer)).all():
        print([c.orders for c in customers], [(o := c).orders for c in customers], o)


def matching(session: Session, thing: object) -> str:
    for item in session.scalars(select(Order)):
        match item:
            case Order(customer=Customer(name=name)):
                return name
            case Order(id=0) | Order(id=1):
                return "low"
            case _:
                pass
    match thing:
        case {"customer": Customer() as c, **rest}:
            return c.name + str(rest)
        case [Order() as o, *_]:
            return o.customer.name
    return ""


def untyped(session):
    for user in User.query.all():
        for post in user.posts:
            print(post.author.posts.count(), post.title)
    page = Post.query.paginate(page=1)
    print([p.author for p in page.items], [o.parent for o in session.query(Old)])
    return [u.posts for u in db.session.execute(db.select(User)).scalars()]


def nested(session: Session) -> None:
    for order in session.scalars(select(Order)):
NESTED_BODY
'''
DJANGO_ODDITIES = {
    "oddapp/__init__.py": "",
    "oddapp/settings.py": 'SECRET_KEY = "x"\nINSTALLED_APPS = ["oddapp"]\n',
    "oddapp/models.py": """\
from django.db import models


class Stamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Author(Stamped):
    name = models.CharField(max_length=100)


class Book(Stamped):
    title = models.CharField(max_length=100)
    author = models.ForeignKey("oddapp.Author", on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField("Tag")


class Tag(models.Model):
    pass


class Empty(models.Model): ...


class Proxy(Book):
    class Meta:
        proxy = True
""",
    "oddapp/services.py": """\
from typing import Any

from django.db.models import Prefetch

from oddapp.models import Author, Book, Proxy


def assignments() -> None:
    a = b = list(Book.objects.all())
    first, *rest = a
    first.author, second = Author(), b
    for book in a:
        book.author = first.author
        book.author_id += 1
    d: dict[str, Any] = {}
    d["k"], d["j"] = rest, [x.author for x in rest]
    print(second)


def comprehensions() -> Any:
    books = Book.objects.select_related("author")
    return {
        a.name: [t.pk for b in a.books.all() for t in b.tags.all() if (n := b.title)]
        for a in {b.author for b in books}
    }, [[p.author for p in Proxy.objects.all()] for _ in "ab"]


async def asynchronous() -> list[str]:
    names = [b.author.name async for b in Book.objects.all()]
    book = await Book.objects.aget(pk=1)
    return names + [book.title] + [a.name async for a in Author.objects.prefetch_related(Prefetch("books"))]


def walrus() -> None:
    while (book := Book.objects.first()) is not None:
        print(book.author.name)
        break


def matching(thing: object) -> str:
    for book in Book.objects.all():
        match book:
            case Book(author=Author(name=name)):
                return name
            case Book(title="x") | Book(title="y"):
                return "x"
    match thing:
        case {"book": Book() as b, **rest}:
            return b.author.name + str(rest)
    return ""


def untyped():
    return [b.author for b in Book.objects.filter(title__in=[t.pk for t in Book.tags.through.objects.all()])]


def nested() -> None:
    for book in Book.objects.all():
NESTED_BODY
""",
}


def _nested_body(depth: int, receiver: str) -> str:
    """`depth` nested blocks (for/if/with/try alternating) under a loop, the relation read at the bottom."""
    lines = []
    for level in range(depth):
        pad = "    " * (level + 2)
        lines.append(pad + ["if True:", "for _ in range(1):", "with open('x'):", "while True:"][level % 4])
    lines.append("    " * (depth + 2) + f"print({receiver}" + ".pk" * 50 + ")")
    return "\n".join(lines)


def run_mypy(folder: Path, config: str, *targets: str) -> subprocess.CompletedProcess[str]:
    (folder / "mypy.ini").write_text(config, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", ".cache", "--no-error-summary",
         "--show-traceback", *targets],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
    )


def assert_no_plugin_trouble(proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), output
    assert "Traceback" not in output and "INTERNAL ERROR" not in output, output
    assert "[orm-internal]" not in output, output


def test_mypy_plugin_on_odd_sqlalchemy_and_flask_programs(tmp_path: Path) -> None:
    source = SQLALCHEMY_ODDITIES.replace("NESTED_BODY", _nested_body(90, "order.customer"))
    (tmp_path / "odd.py").write_text(source, encoding="utf-8")
    config = "[mypy]\nplugins = orm_lint.mypy_plugin\ncheck_untyped_defs = True\n"
    assert_no_plugin_trouble(run_mypy(tmp_path, config, "odd.py"))  # the syntax checks run inside mypy too
    proc = run_mypy(tmp_path, config + MYPY_ALONE, "odd.py")
    assert_no_plugin_trouble(proc)
    assert "[orm-" in proc.stdout, "the plugin ran and reported something"


def test_mypy_plugin_on_odd_django_programs(tmp_path: Path) -> None:
    for name, text in DJANGO_ODDITIES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("NESTED_BODY", _nested_body(90, "book.author")), encoding="utf-8")
    config = (
        "[mypy]\nplugins = orm_lint.mypy_plugin, mypy_django_plugin.main\ncheck_untyped_defs = True\n"
        "[mypy.plugins.django-stubs]\ndjango_settings_module = oddapp.settings\n"
    )
    assert_no_plugin_trouble(run_mypy(tmp_path, config, "oddapp"))  # the syntax checks run inside mypy too
    proc = run_mypy(tmp_path, config + MYPY_ALONE, "oddapp")
    assert_no_plugin_trouble(proc)
    assert "[orm-" in proc.stdout, "the plugin ran and reported something"

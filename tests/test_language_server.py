"""Editors: orm-lint's findings reach an editor through a real language server.

python-lsp-server runs flake8 (our plugin) and, through pylsp-mypy, mypy with our mypy
plugin. The test speaks the Language Server Protocol to it over stdio, as an editor does.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

APP = """\
from sqlalchemy import ForeignKey, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, load_only, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer: Mapped[Customer] = relationship()


def order_emails(session: Session) -> list[str]:
    return [order.customer.email for order in session.scalars(select(Order))]


def orders_with_status(session: Session, status: str) -> list[int]:
    rows = session.execute(text("SELECT id FROM orders WHERE status = '" + status + "'"))
    return [row.id for row in rows]


def order_statuses(session: Session) -> list[str]:
    return [order.status for order in session.scalars(select(Order).options(load_only(Order.id)))]
"""
LINES = APP.splitlines()
N_PLUS_ONE_LINE = 23  # 0-based, as the protocol counts
RAW_SQL_LINE = 27
STARTUP_SECONDS = 30
DIAGNOSTICS_SECONDS = 180


def _settings(extend_ignore: list[str] | None) -> dict[str, Any]:
    """What an editor sends: pylsp's flake8 support and pylsp-mypy on, the other linters off."""
    return {
        "pylsp": {
            "plugins": {
                "flake8": {"enabled": True, "extendIgnore": extend_ignore},
                "pycodestyle": {"enabled": False},
                "pyflakes": {"enabled": False},
                "mccabe": {"enabled": False},
                "pylsp_mypy": {"enabled": True, "live_mode": True},
            }
        }
    }


class LanguageServerClient:
    """A minimal LSP client: Content-Length framed JSON-RPC over the server's stdin and stdout."""

    def __init__(self, command: list[str], cwd: Path, log: Path) -> None:
        self._log = log.open("wb")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, cwd=cwd, env=env
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        self._next_id += 1
        self._send({"id": self._next_id, "method": method, "params": params})
        reply = self.wait_for(lambda m: m.get("id") == self._next_id and "method" not in m, timeout)
        assert "error" not in reply, reply
        return reply.get("result")

    def wait_for(self, wanted: Any, timeout: float) -> dict[str, Any]:
        """The first message `wanted` accepts; requests from the server get an empty reply."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no awaited message within {timeout} s")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise ConnectionError("the language server closed its output")
            if "method" in message and "id" in message:
                self._send({"id": message["id"], "result": None})
            elif wanted(message):
                return message

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.request("shutdown", {}, timeout=10)
                self.notify("exit", {})
                self.process.wait(timeout=10)
        except (OSError, TimeoutError, ConnectionError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log.close()


@pytest.fixture
def server(tmp_path: Path):
    pytest.importorskip("pylsp", reason="python-lsp-server is not installed (the `test` extra has it)")
    pytest.importorskip("pylsp_mypy", reason="pylsp-mypy is not installed (the `test` extra has it)")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    client = LanguageServerClient([sys.executable, "-m", "pylsp"], workspace, tmp_path / "pylsp.log")
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": workspace.as_uri(),
                "capabilities": {"textDocument": {"publishDiagnostics": {}}},
            },
            timeout=STARTUP_SECONDS,
        )
    except (TimeoutError, ConnectionError, OSError) as error:
        client.close()
        log = (tmp_path / "pylsp.log").read_text(errors="replace")[-2000:]
        pytest.skip(f"python-lsp-server did not start ({error}): {log}")
    client.notify("initialized", {})
    yield client, workspace
    client.close()


def _diagnostics(client: LanguageServerClient, uri: str, wanted: set[str]) -> list[dict[str, Any]]:
    """The first diagnostics published for `uri` from every source in `wanted` (flake8, mypy)."""

    def complete(message: dict[str, Any]) -> bool:
        if message.get("method") != "textDocument/publishDiagnostics" or message["params"]["uri"] != uri:
            return False
        return wanted <= {d.get("source") for d in message["params"]["diagnostics"]}

    return client.wait_for(complete, DIAGNOSTICS_SECONDS)["params"]["diagnostics"]


def _ours(diagnostics: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Our diagnostics by (source, code); mypy's carry the error code, flake8's the ORM code."""
    return {
        (d["source"], str(d.get("code"))): d
        for d in diagnostics
        if str(d.get("code", "")).startswith(("ORM", "orm-"))
    }


def _range(line: int, start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}


def test_diagnostics_from_flake8_and_mypy_reach_the_editor(server) -> None:
    client, workspace = server
    (workspace / "mypy.ini").write_text("[mypy]\nplugins = orm_lint.mypy_plugin\n")
    path = workspace / "app.py"
    path.write_text(APP)
    uri = path.as_uri()
    client.notify("workspace/didChangeConfiguration", {"settings": _settings(extend_ignore=[])})
    document = {"uri": uri, "languageId": "python", "version": 1, "text": APP}
    client.notify("textDocument/didOpen", {"textDocument": document})

    found = _ours(_diagnostics(client, uri, {"flake8", "mypy"}))
    # One diagnostic per place: the relation load is flake8's, mypy adds what only types show (a deferred column).
    assert set(found) == {("flake8", "ORM102"), ("flake8", "ORM201"), ("mypy", "orm-deferred-column-per-item")}

    n_plus_one = found["flake8", "ORM102"]
    assert n_plus_one["message"] == (
        "ORM102 order.customer loads a related object once per item of session.scalars(...) whose target is not "
        "in the session yet (repeated targets come from the identity map); add .options(joinedload(Order.customer)) "
        "to the query"
    )
    # flake8 reports a start only; pylsp extends the range to the end of the line.
    start = LINES[N_PLUS_ONE_LINE].index("order.customer")
    assert n_plus_one["range"] == _range(N_PLUS_ONE_LINE, start, len(LINES[N_PLUS_ONE_LINE]) + 1)

    raw_sql = found["flake8", "ORM201"]
    assert raw_sql["message"] == (
        "ORM201 SQL passed to text() is built with concatenation from status (a value the caller passes in); "
        "pass it as a bound parameter"
    )
    sql_start = LINES[RAW_SQL_LINE].index("text(")
    assert raw_sql["range"] == _range(RAW_SQL_LINE, sql_start, len(LINES[RAW_SQL_LINE]) + 1)

    # docs/mypy.md: ORM102 left out in the project's flake8 configuration, which mypy's plugin sees too
    # (an editor setting `extendIgnore` would override the file, and mypy could not see it).
    (workspace / "setup.cfg").write_text("[flake8]\nextend-ignore = ORM102\n")
    client.notify("workspace/didChangeConfiguration", {"settings": _settings(extend_ignore=None)})
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": APP + "\n"}]},
    )
    found = _ours(_diagnostics(client, uri, {"flake8", "mypy"}))
    assert set(found) == {
        ("flake8", "ORM201"),
        ("mypy", "orm-lazy-load-per-item"),
        ("mypy", "orm-deferred-column-per-item"),
    }
    # mypy knows where the expression ends: the range covers exactly `order.customer`.
    lazy_load = found["mypy", "orm-lazy-load-per-item"]
    assert lazy_load["message"].startswith("order.customer is lazily loaded once per item of this loop")
    assert lazy_load["range"] == _range(N_PLUS_ONE_LINE, start, start + len("order.customer"))
    assert lazy_load["severity"] == 1  # error

"""The progress display of long runs: one line on stderr, redrawn in place, on a terminal only.

It shows the phase, files done / total where they are counted, and the time elapsed; a clock
keeps it moving while mypy runs. Piped or redirected stderr, or `--quiet`, shows nothing, so
logs and editors never see it. The line is cleared before anything else is printed.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

_REDRAW_SECONDS = 0.5
_CLEAR_LINE = "\r\033[K"


class Progress:
    """`progress("counting good patterns")` names a phase; `files(total)` and `advance(n)` count files."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._phase = ""
        self._done = 0
        self._total: int | None = None
        self._lock = threading.Lock()
        self._clock: threading.Thread | None = None
        self._stopped = threading.Event()

    @classmethod
    def on_terminal(cls, quiet: bool = False) -> Progress:
        """Shown on stderr when it is a terminal and the user did not ask for quiet."""
        return cls(None if quiet or not sys.stderr.isatty() else sys.stderr)

    def __call__(self, phase: str, total: int | None = None) -> None:
        with self._lock:
            self._phase, self._done, self._total = phase, 0, total
            self._draw()
        if self._stream is not None and self._clock is None:
            self._clock = threading.Thread(target=self._tick, daemon=True)
            self._clock.start()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self._done += count
            self._draw()

    def finish(self) -> None:
        """Stop the clock and clear the line, before the results are printed."""
        self._stopped.set()
        if self._clock is not None:
            self._clock.join()
            self._clock = None
        if self._stream is not None:
            self._stream.write(_CLEAR_LINE)
            self._stream.flush()

    def _tick(self) -> None:
        while not self._stopped.wait(_REDRAW_SECONDS):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        if self._stream is None or self._stopped.is_set():
            return
        count = f" {self._done}/{self._total} files" if self._total is not None else ""
        elapsed = int(time.monotonic() - self._started)
        self._stream.write(f"{_CLEAR_LINE}orm-lint: {self._phase}{count}, {elapsed} s")
        self._stream.flush()

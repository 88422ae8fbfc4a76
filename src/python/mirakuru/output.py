"""OutputExecutor: ready once a line of output matches a banner."""

import os
import re
import select
import time
from typing import Any, TypeVar

from mirakuru import _mirakuru
from mirakuru.base import SimpleExecutor

OutputExecutorType = TypeVar("OutputExecutorType", bound="OutputExecutor")


class OutputExecutor(SimpleExecutor):
    """Starts a process and waits until a line it prints matches BANNER
    (a Python regular expression, searched in each line)."""

    def __init__(
        self,
        command: str | list[str] | tuple[str, ...],
        banner: str,
        **kwargs: Any,
    ) -> None:
        """TypeError when neither stdout nor stderr is captured."""
        super().__init__(command, **kwargs)
        self._banner = re.compile(banner)
        try:
            self._banner_bytes = re.compile(self._banner.pattern.encode("utf-8"))
        except Exception:
            self._banner_bytes = re.compile(str(banner).encode("utf-8"))
        if not any((self._stdout, self._stderr)):
            raise TypeError("At least one of stdout or stderr has to be initialized")
        self._mk_banner_stream = 0

    def _mk_watched_streams(self) -> int:
        streams = 0
        if self._stdout:
            streams |= _mirakuru.STREAM_STDOUT
        if self._stderr:
            streams |= _mirakuru.STREAM_STDERR
        return streams

    def _mk_probes(self, service: Any) -> None:
        # Every line is matched with Python's re by a line handler, in the
        # library's loop; a probe passes once one matched. The handler also
        # drains the caller's pipes (output()), as Python mirakuru read
        # them up to the banner, so output printed before the banner never
        # holds the service back however much it is.
        self._mk_banner_stream = 0
        self._mk_pending: dict[int, bytes] = {}
        self._mk_found_in_pipe: Any = None
        for reader in self._mk_pipe_readers():
            os.set_blocking(reader.fileno(), False)

        def on_line(stream: int, line: str) -> bool:
            self._mk_drain_pipes()
            if self._banner.search(line):
                self._mk_banner_stream = stream
                return True
            return False

        r = service.add_line_probe(on_line, self._mk_watched_streams())
        if r < 0:
            raise OSError(-r, service.error() or "cannot add the output probe")

    def _mk_pipe_readers(self) -> list[Any]:
        readers: dict[int, Any] = {}
        for reader in getattr(self, "_mk_readers", {}).values():
            readers[id(reader)] = reader
        return list(readers.values())

    def _mk_scan(self, reader: Any, data: bytes) -> None:
        """Drops the complete lines of DATA up to the banner's; once found,
        the rest is kept for the caller's stream."""
        key = id(reader)
        pending = self._mk_pending.get(key, b"") + data
        while self._mk_found_in_pipe is None and b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            if self._banner.search(line.decode("utf-8", "replace")):
                self._mk_found_in_pipe = reader
        self._mk_pending[key] = pending

    def _mk_drain_pipes(self) -> None:
        for reader in self._mk_pipe_readers():
            if self._mk_found_in_pipe is not None:
                return
            while True:
                try:
                    chunk = os.read(reader.fileno(), 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                self._mk_scan(reader, chunk)
                if self._mk_found_in_pipe is not None:
                    break

    def start(self: OutputExecutorType) -> OutputExecutorType:
        """Starts the process and returns once a line of its output matched
        the banner; the output() stream then begins after that line, as
        with Python mirakuru."""
        started = self.process is None
        try:
            super().start()
        finally:
            for reader in self._mk_pipe_readers() if started else ():
                if not reader.closed:
                    os.set_blocking(reader.fileno(), True)
        if started and self.process is not None:
            if self._mk_banner_stream:
                self._mk_consume_banner()
            else:
                # The process exited before its banner: as Python mirakuru,
                # wait (and time out).
                self.wait_for(lambda: False)
        return self

    def _mk_consume_banner(self) -> None:
        """Reads the caller's pipes up to and including the first line
        matching the banner (the library saw it; its copy reaches the pipe
        within moments), and leaves the rest unread."""
        readers = self._mk_pipe_readers()
        if not readers:
            return
        deadline = time.monotonic() + 5.0
        while self._mk_found_in_pipe is None and time.monotonic() < deadline:
            ready, _, _ = select.select([r.fileno() for r in readers], [], [], deadline - time.monotonic())
            for reader in readers:
                if reader.fileno() in ready and self._mk_found_in_pipe is None:
                    chunk = os.read(reader.fileno(), 1 << 16)
                    if chunk:
                        self._mk_scan(reader, chunk)
                    else:
                        readers = [r for r in readers if r is not reader]
            if not readers:
                break
        for reader in self._mk_pipe_readers():
            reader.unread(self._mk_pending.pop(id(reader), b""))

"""The `process` of an executor: what users touch of subprocess.Popen
(pid, poll(), wait(), returncode, stdin/stdout/stderr, send_signal(),
terminate(), kill(), communicate(), args), over one run of a libmirakuru
service."""

import errno
import io
import os
import subprocess
import threading
import time
from typing import Any, Optional

WAIT_SLICE = 0.05  # seconds: how often wait() looks for a launcher's hand-over


class PipeReader(io.RawIOBase):
    """The read end of a pipe the service's output is copied to, with bytes
    set aside before (an output banner's search) served first."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._prefix = b""

    def unread(self, data: bytes) -> None:
        self._prefix = data + self._prefix

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        try:
            return os.readv(self._fd, [view])
        except BlockingIOError:
            return None  # type: ignore[return-value]

    def close(self) -> None:
        if not self.closed:
            fd, self._fd = self._fd, -1
            super().close()
            if fd >= 0:
                os.close(fd)


def text_reader(fd: int, encoding: Optional[str], errors: Optional[str]) -> tuple[io.TextIOWrapper, PipeReader]:
    raw = PipeReader(fd)
    return io.TextIOWrapper(io.BufferedReader(raw), encoding=encoding, errors=errors), raw


def text_writer(fd: int, encoding: Optional[str], errors: Optional[str]) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.open(fd, "wb", -1), encoding=encoding, errors=errors, write_through=True)


class Process:
    """One run of a service, as subprocess.Popen shows a child."""

    def __init__(self, service: Any, run: int, args: Any, stdin: Any, stdout: Any, stderr: Any) -> None:
        self._service = service
        self._run = run  # the service's run this object describes
        self.args = args
        self.pid: int = service.native.pid()
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: Optional[int] = None

    def _current(self) -> bool:
        return self._service.run == self._run

    def poll(self) -> Optional[int]:
        """The exit code, -N for death by signal N, None while it runs."""
        if self.returncode is None and self._current():
            svc = self._service.native
            if svc.launcher_exited():
                # The command exited 0 and left the service running (a
                # daemonizing launcher): Popen saw its child exit 0.
                self.returncode = 0
            elif not svc.is_running():
                self.returncode = svc.returncode()
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits for the main process to exit; subprocess.TimeoutExpired after TIMEOUT."""
        if self.poll() is not None or not self._current():
            return self.returncode  # type: ignore[return-value]
        # In slices: the command may hand the service over (a daemonizing
        # launcher), which is its exit here but does not end the service.
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None and self._current():
            left = WAIT_SLICE if deadline is None else min(WAIT_SLICE, deadline - time.monotonic())
            if left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
            r = self._service.call(self._service.native.wait, left)
            if r not in (0, -errno.ETIMEDOUT):
                break
        return self.poll()  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        """Signals the main process (only it, as Popen does)."""
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        import signal

        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)

    def communicate(self, input: Any = None, timeout: Optional[float] = None) -> tuple[Any, Any]:
        """Writes INPUT, reads stdout and stderr to their end, waits."""
        if self.stdin is not None:
            if input:
                try:
                    self.stdin.write(input)
                except BrokenPipeError:
                    pass
            try:
                self.stdin.close()
            except BrokenPipeError:
                pass
        results: dict[str, Any] = {}

        def read(name: str, stream: Any) -> None:
            results[name] = stream.read()

        threads = [
            threading.Thread(target=read, args=(name, stream), daemon=True)
            for name, stream in (("out", self.stdout), ("err", self.stderr))
            if stream is not None
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
        self.wait(timeout)
        return results.get("out"), results.get("err")

    def close_streams(self) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close_streams()
        self.wait()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: returncode: {self.returncode} args: {self.args!r}>"

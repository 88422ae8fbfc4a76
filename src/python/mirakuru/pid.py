"""PidExecutor: ready once a file (a pid file) exists."""

import os.path
from typing import Any

from mirakuru.base import Executor


class PidExecutor(Executor):
    """Starts a process and waits until FILENAME exists."""

    def __init__(
        self,
        command: str | list[str] | tuple[str, ...],
        filename: str,
        **kwargs: Any,
    ) -> None:
        """ValueError for an empty FILENAME."""
        super().__init__(command, **kwargs)
        if not filename:
            raise ValueError("filename must be defined")
        self.filename = filename
        """the name of the file which the process is to create."""

    def pre_start_check(self) -> bool:
        """True when the file exists."""
        return os.path.isfile(self.filename)

    def after_start_check(self) -> bool:
        """True when the file exists."""
        return self.pre_start_check()

    def _mk_probes(self, service: Any) -> None:
        # libmirakuru's pid file probe: inotify on the directory.
        if self._mk_native(PidExecutor):
            r = service.add_pid_file_probe(os.path.abspath(self.filename))
            if r < 0:
                raise OSError(-r, service.error() or "cannot add the pid file probe")

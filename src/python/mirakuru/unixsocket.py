"""UnixSocketExecutor: ready once the process accepts on a Unix socket."""

import logging
import os
import socket
from typing import Any, List, Tuple, Union

from mirakuru.base import Executor

LOG = logging.getLogger(__name__)


class UnixSocketExecutor(Executor):
    """Starts a process and waits until SOCKET_NAME accepts a stream connection."""

    def __init__(
        self,
        command: Union[str, List[str], Tuple[str, ...]],
        socket_name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(command, **kwargs)
        self.socket = socket_name

    def pre_start_check(self) -> bool:
        """True when the socket accepts a connection."""
        exec_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            exec_sock.connect(self.socket)
            return True
        except socket.error as msg:
            LOG.debug("Can not connect to socket: %s", msg)
            return False
        finally:
            exec_sock.close()

    def after_start_check(self) -> bool:
        """True when the socket accepts a connection."""
        return self.pre_start_check()

    def _mk_probes(self, service: Any) -> None:
        # libmirakuru's Unix probe: inotify on the directory, then connect.
        if self._mk_native(UnixSocketExecutor):
            r = service.add_unix_probe(os.path.abspath(self.socket))
            if r < 0:
                raise OSError(-r, service.error() or "cannot add the Unix socket probe")

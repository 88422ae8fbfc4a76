"""TCPExecutor: ready once the process accepts TCP connections."""

import socket
from typing import Any

from mirakuru.base import Executor


class TCPExecutor(Executor):
    """Starts a process and waits until HOST:PORT accepts a connection."""

    def __init__(
        self,
        command: str | list[str] | tuple[str, ...],
        host: str,
        port: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(command, **kwargs)
        self.host = host
        """Host name, process is listening on."""
        self.port = port
        """Port number, process is listening on."""

    def pre_start_check(self) -> bool:
        """True when HOST:PORT accepts a connection."""
        sock = socket.socket()
        try:
            sock.connect((self.host, self.port))
            return True
        except (socket.error, socket.timeout):
            return False
        finally:
            sock.close()

    def after_start_check(self) -> bool:
        """True when HOST:PORT accepts a connection."""
        return self.pre_start_check()

    def _mk_probes(self, service: Any) -> None:
        # libmirakuru's TCP probe: a non-blocking connect retried from 1 ms.
        if self._mk_native(TCPExecutor):
            r = service.add_tcp_probe(str(self.host), int(self.port))
            if r < 0:
                raise OSError(-r, service.error() or "cannot add the TCP probe")

"""The executor's handle on libmirakuru: one native Service, which run it is
on, and the blocking calls, so that a teardown asked for from inside a
callback (a check that raises ProcessExitedWithError clears the process)
happens once the call returns."""

import errno
from typing import Any, Callable

from mirakuru import _mirakuru

IDLE = _mirakuru.STATE_IDLE


class Service:
    def __init__(self) -> None:
        self.native = _mirakuru.Service()
        self.run = 0  # incremented by every start
        self._depth = 0
        self._teardown_signal: int | None = None

    def call(self, method: Callable[..., int], *args: Any) -> int:
        """A blocking call of the native service (the GIL is released in it)."""
        self._depth += 1
        try:
            return method(*args)
        finally:
            self._depth -= 1
            if self._depth == 0 and self._teardown_signal is not None:
                sig, self._teardown_signal = self._teardown_signal, None
                self.teardown(sig)

    def teardown(self, stop_signal: int) -> None:
        """Stops whatever is left of the run (stop signal, then the kill
        signal after the stop timeout); returns once every process is gone.
        From inside a callback, once the blocking call returns."""
        if self._depth > 0:
            self._teardown_signal = stop_signal
            return
        if self.native.state() != IDLE:
            r = self.call(self.native.stop, stop_signal)
            if r == -errno.EBUSY:  # pragma: no cover - never from a callback here
                self.native.kill(0, False)

    def idle(self) -> bool:
        return self.native.state() == IDLE

"""Exceptions raised by executors: the same classes, arguments, attributes
and messages as Python mirakuru's."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from mirakuru.base import SimpleExecutor


class ExecutorError(Exception):
    """Base class of every executor failure."""

    def __init__(self, executor: "SimpleExecutor") -> None:
        super().__init__(self)
        self.executor = executor


class TimeoutExpired(ExecutorError):
    """The executor's timeout passed while it waited (start or stop)."""

    def __init__(self, executor: "SimpleExecutor", timeout: int | float) -> None:
        super().__init__(executor)
        self.timeout = timeout

    def __str__(self) -> str:
        return f"Executor {self.executor} timed out after {self.timeout} seconds"


class AlreadyRunning(ExecutorError):
    """Something already answers where the executor's check looks."""

    def __str__(self) -> str:
        port = getattr(self.executor, "port")
        message = (
            f"Executor {self.executor} seems to be already running. "
            f"It looks like the previous executor process hasn't been "
            f"terminated or killed."
        )
        if port is not None:
            message += (
                f" Also there might be some completely "
                f"different service listening on {port} port."
            )
        return message


class ProcessExitedWithError(ExecutorError):
    """The main process exited with a non-zero code while starting.

    Exit code 0 is allowed: a daemonizing launcher exits 0 once its
    daemon runs.
    """

    def __init__(self, executor: "SimpleExecutor", exit_code: int) -> None:
        super().__init__(executor)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return (
            f"The process invoked by the {self.executor} executor has "
            f"exited with a non-zero code: {self.exit_code}."
        )


class ProcessFinishedWithError(ProcessExitedWithError):
    """The main process exited with an unexpected code when stopped."""

"""mirakuru: start the processes your tests need, wait until they are
really ready, and leave nothing behind. The API of Python mirakuru 3.0.2,
with libmirakuru underneath (see docs/python.md)."""

import logging

from mirakuru.base import Executor, SimpleExecutor
from mirakuru.exceptions import (
    AlreadyRunning,
    ExecutorError,
    ProcessExitedWithError,
    TimeoutExpired,
)
from mirakuru.http import HTTPExecutor
from mirakuru.output import OutputExecutor
from mirakuru.pid import PidExecutor
from mirakuru.tcp import TCPExecutor

__version__ = "3.0.2"

__all__ = (
    "Executor",
    "SimpleExecutor",
    "OutputExecutor",
    "TCPExecutor",
    "HTTPExecutor",
    "PidExecutor",
    "ExecutorError",
    "TimeoutExpired",
    "AlreadyRunning",
    "ProcessExitedWithError",
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

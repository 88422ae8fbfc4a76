"""Shared helpers of the Python package's tests: real processes, real
sockets; the package under test is the one on PYTHONPATH (the build tree,
see tests/python/meson.build)."""

import os
import socket
import sys
import time

import pytest

HELPER = os.path.join(os.path.dirname(__file__), "helpers", "service.py")


def service(*args: object) -> list[str]:
    """The command line of the test service (helpers/service.py)."""
    return [sys.executable, HELPER, *[str(a) for a in args]]


def service_str(*args: object) -> str:
    return " ".join(service(*args))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_gone(pids, timeout: float = 10.0) -> list[int]:
    """The pids of PIDS still alive after TIMEOUT (empty: all gone)."""
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def wait_file(path: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="ascii") as f:
                data = f.read()
            if data.endswith("\n"):
                return data
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise AssertionError(f"{path} did not appear")


def accepts(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture
def port() -> int:
    return free_port()

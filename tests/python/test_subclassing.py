"""Subclasses the way pytest-postgresql's PostgreSQLExecutor(TCPExecutor)
and pytest-redis's RedisExecutor(TCPExecutor) are written: overridden
start/stop/running/pre_start_check/after_start_check go through self, and
the overrides are called; a daemonizing launcher (pg_ctl style) leaves
nothing behind."""

import os
import platform
import subprocess
import sys
import time

import pytest

from conftest import HELPER, accepts, free_port, pid_alive, service, wait_file, wait_gone
from mirakuru import TCPExecutor
from mirakuru.exceptions import ProcessFinishedWithError

# A pg_ctl-like control program: `start` daemonizes a server and returns
# once it is up, `status` exits 0 while it runs, `stop` stops it.
CTL = f"""
import os, signal, subprocess, sys, time
cmd, pidfile, port = sys.argv[1], sys.argv[2], sys.argv[3]
def running():
    try:
        pid = int(open(pidfile).read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return 0
if cmd == "start":
    subprocess.Popen([sys.executable, {HELPER!r}, "daemon", pidfile, "--port", port])
    for _ in range(500):
        if running():
            sys.exit(0)
        time.sleep(0.01)
    sys.exit(1)
if cmd == "status":
    sys.exit(0 if running() else 3)
if cmd == "stop":
    pid = running()
    if pid:
        os.kill(pid, signal.SIGKILL)
        os.unlink(pidfile)
    sys.exit(0)
"""


class PostgreSQLLikeExecutor(TCPExecutor):
    """Written as pytest-postgresql's PostgreSQLExecutor is."""

    def __init__(self, ctl, pidfile, host, port, timeout=60):
        self.ctl = ctl
        self.pidfile = pidfile
        self.calls = []
        command = f"{sys.executable} {ctl} start {pidfile} {port}"
        super().__init__(command, host=host, port=port, timeout=timeout, shell=True)

    def start(self):
        self.calls.append("start")
        if self.pre_start_check():
            from mirakuru.exceptions import AlreadyRunning

            raise AlreadyRunning(self)
        return super().start()

    def pre_start_check(self):
        self.calls.append("pre_start_check")
        return subprocess.call([sys.executable, self.ctl, "status", self.pidfile, "0"]) == 0

    def running(self):
        self.calls.append("running")
        return subprocess.call([sys.executable, self.ctl, "status", self.pidfile, "0"]) == 0

    def stop(self, sig=None, exp_sig=None):
        self.calls.append("stop")
        subprocess.check_output([sys.executable, self.ctl, "stop", self.pidfile, "0"])
        try:
            if platform.system() == "FreeBSD":  # as upstream
                pass
            super().stop(sig, exp_sig)
        except ProcessFinishedWithError:
            pass
        return self


class RedisLikeExecutor(TCPExecutor):
    """Written as pytest-redis's RedisExecutor is: its own checks, a version
    check in start(), an after_start_check() that asks the server."""

    def __init__(self, port, **kwargs):
        self.checks = 0
        super().__init__(service("tcp", port, "--delay", "0.3"), host="127.0.0.1", port=port, **kwargs)

    def start(self):
        self._check_version()
        return super().start()

    def _check_version(self):
        self.version = "7.0"

    def after_start_check(self):
        self.checks += 1
        return accepts(self.port)


def test_postgresql_like_subclass(tmp_path):
    ctl = tmp_path / "ctl.py"
    ctl.write_text(CTL)
    pidfile = str(tmp_path / "pg.pid")
    port = free_port()
    e = PostgreSQLLikeExecutor(str(ctl), pidfile, "127.0.0.1", port, timeout=20)
    e.start()
    assert e.calls[:2] == ["start", "pre_start_check"]
    assert accepts(port) and e.running()
    daemon = int(wait_file(pidfile))
    e.stop()
    assert "stop" in e.calls
    assert wait_gone([daemon]) == [] and not accepts(port)


def test_postgresql_like_subclass_daemon_left_by_a_failing_ctl_stop(tmp_path):
    # The control program's stop fails to stop the server (a broken pg_ctl):
    # the executor's stop still leaves nothing.
    ctl = tmp_path / "ctl.py"
    ctl.write_text(CTL.replace("os.kill(pid, signal.SIGKILL)", "pass"))
    pidfile = str(tmp_path / "pg.pid")
    port = free_port()
    e = PostgreSQLLikeExecutor(str(ctl), pidfile, "127.0.0.1", port, timeout=2)
    e.start()
    daemon = int(wait_file(pidfile))
    e.stop()
    assert wait_gone([daemon]) == [] and not accepts(port)


def test_redis_like_subclass_uses_its_own_check(port):
    e = RedisLikeExecutor(port, timeout=20, sleep=0.05)
    e.start()
    assert e.version == "7.0" and e.checks >= 1 and accepts(port)
    e.stop()
    assert not accepts(port)


def test_overridden_check_runs_through_self_until_true(port):
    calls = []

    class Counting(TCPExecutor):
        def after_start_check(self):
            calls.append(time.monotonic())
            return len(calls) >= 3 and super().after_start_check()

    e = Counting(service("tcp", port), host="127.0.0.1", port=port, timeout=20, sleep=0.02)
    e.start()
    assert len(calls) >= 3
    e.stop()


def test_overridden_check_subprocess(port):
    seen = []

    class Checked(TCPExecutor):
        def check_subprocess(self):
            seen.append(True)
            return super().check_subprocess()

    with Checked(service("tcp", port), host="127.0.0.1", port=port, timeout=20):
        assert seen


def test_overridden_pre_start_check(port):
    class Never(TCPExecutor):
        def pre_start_check(self):
            return True

    from mirakuru import AlreadyRunning

    with pytest.raises(AlreadyRunning):
        Never(service("tcp", port), host="127.0.0.1", port=port, timeout=5).start()


def test_overridden_running_and_stop_are_used(port):
    class Mine(TCPExecutor):
        stopped_with = None

        def running(self):
            return True

        def stop(self, stop_signal=None, expected_returncode=None):
            self.stopped_with = stop_signal
            return super().stop(stop_signal, expected_returncode)

    e = Mine(service("tcp", port), host="127.0.0.1", port=port, timeout=20)
    e.start()
    pid = e.pid
    import signal

    with e.stopped():  # uses running() and stop() of the subclass
        assert not accepts(port)
    assert e.stopped_with is None and accepts(port)
    e.stop(signal.SIGINT, expected_returncode=-signal.SIGINT)
    assert e.stopped_with == signal.SIGINT
    assert wait_gone([pid]) == []

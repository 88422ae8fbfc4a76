"""SimpleExecutor and Executor: the orchestration of Python mirakuru, in
Python and through `self` (subclasses override it as before), with
libmirakuru underneath: every run in a cgroup of its own, readiness from
events where a check is not overridden, a stop that returns once every
process is gone."""

import atexit
import errno
import fcntl
import logging
import os
import platform
import shlex
import signal
import subprocess
import time
import uuid
import weakref
from contextlib import contextmanager
from types import TracebackType
from typing import IO, Any, Callable, Iterator, Type, TypeVar

from mirakuru import _mirakuru
from mirakuru._process import Process, text_reader, text_writer
from mirakuru._service import Service
from mirakuru.base_env import processes_with_env  # noqa: F401  (kept for importers)
from mirakuru.compat import SIGKILL
from mirakuru.exceptions import (
    AlreadyRunning,
    ProcessExitedWithError,
    ProcessFinishedWithError,
    TimeoutExpired,
)

LOG = logging.getLogger(__name__)

ENV_UUID = "mirakuru_uuid"
"""Marks the environment of every process an executor starts (as Python
mirakuru does); containment does not rely on it."""

IGNORED_ERROR_CODES = [errno.ESRCH]

SimpleExecutorType = TypeVar("SimpleExecutorType", bound="SimpleExecutor")
ExecutorType = TypeVar("ExecutorType", bound="Executor")

# How big a pipe to the caller's stdout/stderr stream may grow, so that a
# service is held back only after this much unread output.
PIPE_SIZE = 1 << 20

# The longest pause between two connection attempts of the TCP and Unix
# socket probes (a refused connect to a local port costs microseconds:
# 500 a second while a service starts are nothing, and readiness is seen
# within 2 ms of the listen(), where Python mirakuru sleeps 0.1 s).
PROBE_RETRY_MAX = 0.002

# How long stop() gives the processes a main process leaves behind (a
# daemon) between the stop signal and the kill signal.
LEFTOVER_GRACE = 10.0

_LIVE: "weakref.WeakSet[SimpleExecutor]" = weakref.WeakSet()


@atexit.register
def cleanup_subprocesses() -> None:
    """At exit, stop every executor's processes (a SIGKILL of the
    interpreter is libmirakuru's guard's business)."""
    for executor in list(_LIVE):
        service = executor.__dict__.get("_service")
        if service is not None:
            try:
                service.teardown(executor._kill_signal)
            except Exception:  # pragma: no cover
                pass


def _overridden(obj: object, base: type, *names: str) -> bool:
    """True when type(OBJ) replaces any of NAMES as BASE defines them."""
    cls = type(obj)
    return any(getattr(cls, name, None) is not getattr(base, name, None) for name in names)


def _usable_fd(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _fd_of(target: Any) -> int:
    """The fd behind a stdin/stdout/stderr argument that is neither PIPE,
    DEVNULL, STDOUT nor None."""
    if isinstance(target, int):
        return target
    return target.fileno()


def _pipe() -> tuple[int, int]:
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass
    return r, w


class SimpleExecutor:  # pylint:disable=too-many-instance-attributes
    """Starts a process and stops or kills it with everything it started."""

    def __init__(  # pylint:disable=too-many-arguments
        self,
        command: str | list[str] | tuple[str, ...],
        cwd: str | None = None,
        shell: bool = False,
        timeout: int | float = 3600,
        sleep: float = 0.1,
        stop_signal: int = signal.SIGTERM,
        kill_signal: int = SIGKILL,
        expected_returncode: int | None = None,
        envvars: dict[str, str] | None = None,
        stdin: None | int | IO[Any] = subprocess.PIPE,
        stdout: None | int | IO[Any] = subprocess.PIPE,
        stderr: None | int | IO[Any] = None,
        popen_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """See Python mirakuru: the same parameters, the same defaults.

        timeout bounds a start (and a stop: the stop signal, then the kill
        signal once it passed); sleep is the interval of checks that a
        subclass overrides (the library's probes do not poll).
        """
        if isinstance(command, (list, tuple)):
            self.command = " ".join(shlex.quote(c) for c in command)
            """Command that the executor runs."""
            self.command_parts = command
        else:
            self.command = command
            self.command_parts = shlex.split(command)

        self._cwd = cwd
        self._shell = True
        if platform.system() != "Windows":
            self._shell = shell

        self._timeout = timeout
        self._sleep = sleep
        self._stop_signal = stop_signal
        self._kill_signal = kill_signal
        self._expected_returncode = expected_returncode
        self._envvars = envvars or {}

        self._stdin = stdin
        self._stdout = stdout
        self._stderr = stderr

        self._endtime: float | None = None
        self._additional_popen_kwargs = popen_kwargs or {}
        self.process: Process | None = None
        """The running process, like a subprocess.Popen, once started."""

        self._uuid = f"{os.getpid()}:{uuid.uuid4()}"
        self._service: Service | None = None

    # ---- context manager, state ----

    def __enter__(self: SimpleExecutorType) -> SimpleExecutorType:
        return self.start()

    def __exit__(
        self,
        exc_type: Type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def running(self) -> bool:
        """True while the main process runs."""
        if self.process is None:
            LOG.debug("There is no process running!")
            return False
        return self.process.poll() is None

    @property
    def pid(self) -> int | None:
        """The main process's pid while there is a process, else None."""
        if "_pid" in self.__dict__:
            return self.__dict__["_pid"]
        return self.process.pid if self.process is not None else None

    @pid.setter
    def pid(self, value: int | None) -> None:
        self.__dict__["_pid"] = value

    @property
    def envvars(self) -> dict[str, str]:
        """os.environ, the envvars given, and mirakuru_uuid."""
        envs = os.environ.copy()
        envs.update(self._envvars)
        envs[ENV_UUID] = self._uuid
        return envs

    @property
    def _popen_kwargs(self) -> dict[str, Any]:
        """What subprocess.Popen would have been given; the start reads the
        parts libmirakuru honours from it (docs/python.md)."""
        kwargs: dict[str, Any] = {}
        kwargs.update(self._additional_popen_kwargs)

        if self._stdin:
            kwargs["stdin"] = self._stdin
        if self._stdout:
            kwargs["stdout"] = self._stdout
        if self._stderr:
            kwargs["stderr"] = self._stderr
        kwargs["universal_newlines"] = True

        kwargs["shell"] = self._shell
        kwargs["env"] = self.envvars
        kwargs["cwd"] = self._cwd
        kwargs["preexec_fn"] = os.setsid
        return kwargs

    # ---- start ----

    def start(self: SimpleExecutorType) -> SimpleExecutorType:
        """Starts the process (once; a running executor is left as it is).
        Returns self."""
        if self.process is None:
            kwargs = self._popen_kwargs
            command: str | list[str] | tuple[str, ...] = self.command
            if not kwargs.get("shell", self._shell):
                command = self.command_parts
            LOG.debug("Starting process: %s", command)
            self._mk_spawn(command, kwargs)
        self._set_timeout()
        return self

    def _mk_probes(self, service: Any) -> None:
        """Adds libmirakuru's probes for the checks this class does not
        leave to Python (none here: a SimpleExecutor waits for nothing)."""

    def _mk_service(self) -> Service:
        if self._service is None:
            self._service = Service()
            _LIVE.add(self)
        return self._service

    def _mk_spawn(self, command: Any, kwargs: dict[str, Any]) -> None:
        service = self._mk_service()
        native = service.native
        if not service.idle():
            # kill(wait=False) left it signalled: collect it first.
            service.teardown(self._kill_signal)

        def check(r: int, what: str) -> None:
            if r < 0:
                raise OSError(-r, f"{what}: {os.strerror(-r)}: {native.error() or ''}".rstrip(": "))

        check(native.clear_probes(), "probes")
        if isinstance(command, str):
            check(native.set_shell(command), "command")
        else:
            parts = [str(p) for p in command]
            executable = kwargs.get("executable")
            if executable:
                parts[0] = str(executable)
            check(native.set_argv(parts), "command")
        cwd = kwargs.get("cwd")
        check(native.set_cwd(os.fspath(cwd) if cwd is not None else None), "cwd")
        env = kwargs.get("env")
        env = dict(os.environ if env is None else env)
        check(native.set_environment({str(k): str(v) for k, v in env.items()}), "environment")
        timeout = self._timeout if self._timeout else None
        # The stop: the main process gets the whole timeout (stop() waits
        # for it, as Python mirakuru does); what it leaves behind gets at
        # most LEFTOVER_GRACE before the kill signal.
        grace = min(timeout, LEFTOVER_GRACE) if timeout else LEFTOVER_GRACE
        check(native.set_timeouts(timeout, grace), "timeout")
        check(native.set_signals(int(self._stop_signal), int(self._kill_signal)), "signals")
        # A refused connection is retried after 1 ms, doubling up to
        # PROBE_RETRY_MAX: readiness within milliseconds of the listen(),
        # where Python mirakuru sleeps `sleep` (0.1 s) between attempts.
        check(native.set_probe_retry(0.001, PROBE_RETRY_MAX), "probe retry")

        encoding = kwargs.get("encoding")
        errors = kwargs.get("errors")
        close_after: list[int] = []
        stdin = stdout = stderr = None
        try:
            stdin = self._mk_stdin(native, kwargs.get("stdin"), encoding, errors, close_after)
            stdout, stderr = self._mk_outputs(native, kwargs.get("stdout"), kwargs.get("stderr"),
                                              encoding, errors, close_after)
            self._mk_probes(native)
            service.run += 1
            r = service.call(native.start)
        except BaseException:
            for stream in (stdin, stdout, stderr):
                if stream is not None:
                    stream.close()
            raise
        finally:
            for fd in close_after:
                os.close(fd)

        if r < 0 and r not in (-errno.ECHILD, -errno.ETIMEDOUT, -errno.ECANCELED):
            for stream in (stdin, stdout, stderr):
                if stream is not None:
                    stream.close()
            program = command if isinstance(command, str) else command[0]
            message = native.error() or os.strerror(-r)
            raise OSError(-r, message, program)

        self.process = Process(service, service.run, command, stdin, stdout, stderr)
        if r == -errno.ETIMEDOUT:
            # As Python mirakuru's wait_for: kill, then TimeoutExpired.
            self.kill()
            raise TimeoutExpired(self, timeout=self._timeout)
        # -ECHILD: the main process exited before it was ready; the
        # executor's check (check_subprocess) finds its exit code.

    def _mk_stdin(self, native: Any, target: Any, encoding: Any, errors: Any, close_after: list[int]) -> Any:
        if target == subprocess.PIPE:
            r, w = os.pipe2(os.O_CLOEXEC)
            close_after.append(r)
            native.set_stdin_fd(r)
            return text_writer(w, encoding, errors)
        if target is None:
            native.set_stdin_fd(0 if _usable_fd(0) else -1)
        elif target == subprocess.DEVNULL:
            native.set_stdin_fd(-1)
        else:
            native.set_stdin_fd(_fd_of(target))
        return None

    def _mk_outputs(self, native: Any, out: Any, err: Any, encoding: Any, errors: Any,
                    close_after: list[int]) -> tuple[Any, Any]:
        native.set_output_fd(_mirakuru.STREAM_BOTH, -1)
        streams: dict[int, Any] = {}
        self._mk_readers: dict[int, Any] = {}
        for stream, target, inherited in ((_mirakuru.STREAM_STDOUT, out, 1), (_mirakuru.STREAM_STDERR, err, 2)):
            mask = stream
            if stream == _mirakuru.STREAM_STDERR and target == subprocess.STDOUT:
                continue  # with stdout, below
            if stream == _mirakuru.STREAM_STDOUT and err == subprocess.STDOUT:
                mask = _mirakuru.STREAM_BOTH
            if target == subprocess.PIPE:
                r, w = _pipe()
                close_after.append(w)
                native.hand_output_fd(mask, w)  # this run's: EOF when the stream ends
                streams[stream], self._mk_readers[stream] = text_reader(r, encoding, errors)
                if mask == _mirakuru.STREAM_BOTH:
                    self._mk_readers[_mirakuru.STREAM_STDERR] = self._mk_readers[stream]
            elif target is None:
                if _usable_fd(inherited):
                    native.set_output_fd(mask, inherited)
            elif target == subprocess.DEVNULL:
                pass
            else:
                native.set_output_fd(mask, _fd_of(target))
        return streams.get(_mirakuru.STREAM_STDOUT), streams.get(_mirakuru.STREAM_STDERR)

    def _set_timeout(self) -> None:
        """Set timeout for possible wait."""
        self._endtime = time.time() + self._timeout

    # ---- stop, kill ----

    def _clear_process(self) -> None:
        """Forgets the process: what is left of its run is stopped (every
        process of the cgroup), its streams closed."""
        service = self._service
        if service is not None:
            service.teardown(self._stop_signal)
        if self.process:
            self.process.poll()
            self.process.close_streams()
            self.process = None
        self._endtime = None

    def _kill_all_kids(self, sig: int) -> set[int]:
        """Sends SIG to every process of the executor's run (its cgroup);
        returns their pids."""
        service = self._service
        if service is None or service.idle():
            return set()
        pids: set[int] = set()
        cgroup = service.native.cgroup()
        if cgroup:
            try:
                with open(os.path.join(cgroup, "cgroup.procs"), encoding="ascii") as procs:
                    pids = {int(line) for line in procs if line.strip()}
            except OSError:
                pass
        elif self.process is not None and self.process.poll() is None:
            pids = {self.process.pid}
        service.native.kill(int(sig), False)
        for pid in pids:
            LOG.debug("Killed process %d.", pid)
        return pids

    def stop(
        self: SimpleExecutorType,
        stop_signal: int | None = None,
        expected_returncode: int | None = None,
    ) -> SimpleExecutorType:
        """Stops the process and everything it started: STOP_SIGNAL to all,
        the kill signal after the timeout; returns once all are gone.
        ProcessFinishedWithError when the main process's exit code is
        neither 0 nor the expected one (default -STOP_SIGNAL)."""
        if self.process is None:
            return self
        if stop_signal is None:
            stop_signal = self._stop_signal
        self._set_timeout()
        service = self._service
        assert service is not None
        native = service.native
        # The stop signal to every process of the run; the main process
        # gets the timeout to exit, then the kill signal (as with Python
        # mirakuru); then the rest is collected: its leftovers get the stop
        # signal and LEFTOVER_GRACE, then the kill signal.
        native.kill(int(stop_signal), False)
        if self.process.poll() is None:
            timeout = self._timeout if self._timeout else None
            if service.call(native.wait, timeout) == -errno.ETIMEDOUT:
                service.call(native.kill, int(self._kill_signal), True)
                self._clear_process()
                return self
        r = service.call(native.stop, int(stop_signal))
        exit_code = self.process.poll()
        self._clear_process()
        if r == 1:
            # The stop timeout passed: killed, as Python mirakuru's wait_for did.
            return self

        if expected_returncode is None:
            expected_returncode = self._expected_returncode
        if expected_returncode is None:
            expected_returncode = -stop_signal

        if exit_code and exit_code != expected_returncode:
            raise ProcessFinishedWithError(self, exit_code)
        return self

    @contextmanager
    def stopped(self: SimpleExecutorType) -> Iterator[SimpleExecutorType]:
        """Stops the process for the block and starts it again after."""
        if self.running():
            self.stop()
            yield self
            self.start()

    def restart(self: SimpleExecutorType) -> SimpleExecutorType:
        """stop() then start(); returns self."""
        self.stop()
        return self.start()

    def kill(self: SimpleExecutorType, wait: bool = True, sig: int | None = None) -> SimpleExecutorType:
        """Sends SIG (default the kill signal) to every process of the run;
        with WAIT, returns once all are gone."""
        if sig is None:
            sig = self._kill_signal
        service = self._service
        if self.process and self.running() and service is not None:
            service.call(service.native.kill, int(sig), bool(wait))
            if wait:
                self.process.wait()
        self._kill_all_kids(sig)
        self._clear_process()
        return self

    # ---- output ----

    def output(self) -> IO[Any] | None:
        """The process's stdout as a text stream (stdout=PIPE)."""
        if self.process is not None:
            return self.process.stdout
        return None  # pragma: no cover

    def err_output(self) -> IO[Any] | None:
        """The process's stderr as a text stream (stderr=PIPE)."""
        if self.process is not None:
            return self.process.stderr
        return None  # pragma: no cover

    # ---- waiting ----

    def wait_for(self: SimpleExecutorType, wait_for: Callable[[], bool]) -> SimpleExecutorType:
        """Waits until WAIT_FOR() is true: called at once, every `sleep`
        seconds and whenever the process prints a line. TimeoutExpired (and
        the process killed) when the timeout passes first."""
        service = self._service
        if service is not None and self.process is not None and not service.idle():

            def check() -> Any:
                if not self.check_timeout():
                    return -errno.ETIMEDOUT
                return bool(wait_for())

            r = service.call(service.native.wait_for, check, max(float(self._sleep), 0.001))
            if r == 0:
                return self
            # -ETIMEDOUT: below; -ECHILD: the main process exited
            # uncleanly, which only the check may judge; as Python
            # mirakuru, go on until it says so or the time is up.
        while self.check_timeout():
            if wait_for():
                return self
            time.sleep(self._sleep)

        self.kill()
        raise TimeoutExpired(self, timeout=self._timeout)

    def check_timeout(self) -> bool:
        """True while there is no timeout set or it has not passed."""
        return self._endtime is None or time.time() <= self._endtime

    # ---- life ----

    def __del__(self) -> None:
        """Stops what is left of the executor's processes."""
        try:
            if self.__dict__.get("process"):
                self.kill()
        except Exception:  # pragma: no cover
            print("*" * 80)
            print("Exception while deleting Executor. It is strongly suggested that you use")
            print("it as a context manager instead.")
            print("*" * 80)
            raise

    def __repr__(self) -> str:
        command = self.command
        if len(command) > 10:
            command = command[:10] + "..."
        module = self.__class__.__module__
        executor = self.__class__.__name__
        return f'<{module}.{executor}: "{command}" {hex(id(self))}>'

    def __str__(self) -> str:
        module = self.__class__.__module__
        executor = self.__class__.__name__
        return f'<{module}.{executor}: "{self.command}" {hex(id(self))}>'


class Executor(SimpleExecutor):
    """An executor with checks before and after the start."""

    def pre_start_check(self) -> bool:
        """True when something already runs in the executor's place."""
        raise NotImplementedError

    def start(self: ExecutorType) -> ExecutorType:
        """AlreadyRunning when pre_start_check() says so; then starts the
        process and waits until check_subprocess() is true."""
        if self.pre_start_check():
            raise AlreadyRunning(self)

        super().start()

        self.wait_for(self.check_subprocess)
        return self

    def check_subprocess(self) -> bool:
        """ProcessExitedWithError when the main process exited non-zero,
        else after_start_check()."""
        if self.process is None:  # pragma: no cover
            return False
        exit_code = self.process.poll()
        if exit_code is not None and exit_code != 0:
            self._kill_all_kids(self._kill_signal)
            self._clear_process()
            raise ProcessExitedWithError(self, exit_code)

        return self.after_start_check()

    def after_start_check(self) -> bool:
        """True once the process can be treated as started."""
        raise NotImplementedError

    def _mk_native(self, base: type) -> bool:
        """True when the readiness checks are BASE's own (not overridden),
        so libmirakuru's event-driven probe may stand in for them."""
        return not _overridden(self, base, "pre_start_check", "after_start_check") and not _overridden(
            self, Executor, "check_subprocess"
        )

"""The names, signatures, defaults, attributes and exceptions of Python
mirakuru 3.0.2 (the contract: ../shared/reference), checked on our package."""

import importlib
import inspect
import signal
import subprocess

import pytest

import mirakuru
from mirakuru import (
    AlreadyRunning,
    Executor,
    ExecutorError,
    HTTPExecutor,
    OutputExecutor,
    PidExecutor,
    ProcessExitedWithError,
    SimpleExecutor,
    TCPExecutor,
    TimeoutExpired,
)
from mirakuru.exceptions import ProcessFinishedWithError
from mirakuru.unixsocket import UnixSocketExecutor


def test_modules_and_names():
    assert mirakuru.__version__ == "3.0.2"
    assert set(mirakuru.__all__) == {
        "Executor", "SimpleExecutor", "OutputExecutor", "TCPExecutor", "HTTPExecutor",
        "PidExecutor", "ExecutorError", "TimeoutExpired", "AlreadyRunning", "ProcessExitedWithError",
    }
    for name in mirakuru.__all__:
        assert hasattr(mirakuru, name)
    names = {
        "mirakuru.base": ["SimpleExecutor", "Executor", "ENV_UUID", "IGNORED_ERROR_CODES", "cleanup_subprocesses",
                          "processes_with_env", "LOG"],
        "mirakuru.output": ["OutputExecutor"],
        "mirakuru.tcp": ["TCPExecutor"],
        "mirakuru.http": ["HTTPExecutor"],
        "mirakuru.unixsocket": ["UnixSocketExecutor"],
        "mirakuru.pid": ["PidExecutor"],
        "mirakuru.exceptions": ["ExecutorError", "TimeoutExpired", "AlreadyRunning", "ProcessExitedWithError",
                                "ProcessFinishedWithError"],
        "mirakuru.base_env": ["processes_with_env", "processes_with_env_ps", "processes_with_env_psutil",
                              "PS_XE_PID_MATCH"],
        "mirakuru.compat": ["SIGKILL"],
    }
    for module, attrs in names.items():
        m = importlib.import_module(module)
        for attr in attrs:
            assert hasattr(m, attr), f"{module}.{attr}"
    assert mirakuru.compat.SIGKILL == signal.SIGKILL
    assert mirakuru.base.ENV_UUID == "mirakuru_uuid"


def params(cls):
    return {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}


E = inspect.Parameter.empty


def test_constructor_signatures():
    assert params(SimpleExecutor) == {
        "command": E, "cwd": None, "shell": False, "timeout": 3600, "sleep": 0.1,
        "stop_signal": signal.SIGTERM, "kill_signal": signal.SIGKILL, "expected_returncode": None,
        "envvars": None, "stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": None,
        "popen_kwargs": None,
    }
    assert params(OutputExecutor) == {"command": E, "banner": E, "kwargs": E}
    assert params(TCPExecutor) == {"command": E, "host": E, "port": E, "kwargs": E}
    assert params(HTTPExecutor) == {"command": E, "url": E, "status": r"^2\d\d$", "method": "HEAD",
                                    "payload": None, "headers": None, "kwargs": E}
    assert params(UnixSocketExecutor) == {"command": E, "socket_name": E, "kwargs": E}
    assert params(PidExecutor) == {"command": E, "filename": E, "kwargs": E}
    assert HTTPExecutor.DEFAULT_PORT == 80


def test_method_signatures():
    sig = inspect.signature
    assert list(sig(SimpleExecutor.stop).parameters) == ["self", "stop_signal", "expected_returncode"]
    assert sig(SimpleExecutor.stop).parameters["stop_signal"].default is None
    assert list(sig(SimpleExecutor.kill).parameters) == ["self", "wait", "sig"]
    assert sig(SimpleExecutor.kill).parameters["wait"].default is True
    assert list(sig(SimpleExecutor.wait_for).parameters) == ["self", "wait_for"]
    for name in ("start", "running", "stopped", "check_timeout", "output", "err_output", "_set_timeout",
                 "_clear_process", "_kill_all_kids", "__enter__", "__exit__", "__del__"):
        assert callable(getattr(SimpleExecutor, name)), name
    for name in ("pre_start_check", "after_start_check", "check_subprocess"):
        assert callable(getattr(Executor, name)), name


def test_hierarchy():
    assert issubclass(Executor, SimpleExecutor)
    assert issubclass(OutputExecutor, SimpleExecutor) and not issubclass(OutputExecutor, Executor)
    assert issubclass(TCPExecutor, Executor)
    assert issubclass(HTTPExecutor, TCPExecutor)
    assert issubclass(UnixSocketExecutor, Executor)
    assert issubclass(PidExecutor, Executor)
    assert issubclass(ExecutorError, Exception)
    for exc in (TimeoutExpired, AlreadyRunning, ProcessExitedWithError):
        assert issubclass(exc, ExecutorError)
    assert issubclass(ProcessFinishedWithError, ProcessExitedWithError)


def test_attributes():
    e = SimpleExecutor(["sleep", "1 2"], cwd="/tmp", timeout=7, sleep=0.5, envvars={"A": "b"},
                       popen_kwargs={"encoding": "utf-8"})
    assert e.command == "sleep '1 2'"
    assert e.command_parts == ["sleep", "1 2"]
    assert e.process is None
    assert e._timeout == 7 and e._sleep == 0.5 and e._cwd == "/tmp"
    assert e._stop_signal == signal.SIGTERM and e._kill_signal == signal.SIGKILL
    assert e._envvars == {"A": "b"}
    assert e.envvars["A"] == "b" and e.envvars["mirakuru_uuid"] == e._uuid
    assert e.envvars["PATH"]
    kw = e._popen_kwargs
    assert kw["encoding"] == "utf-8" and kw["stdin"] == subprocess.PIPE and kw["cwd"] == "/tmp"
    assert kw["universal_newlines"] is True and kw["shell"] is False and kw["env"]["A"] == "b"
    s = SimpleExecutor("echo 'a b' c")
    assert s.command == "echo 'a b' c" and s.command_parts == ["echo", "a b", "c"]
    assert s._endtime is None and s.check_timeout()
    s._set_timeout()
    assert s._endtime is not None and s.check_timeout()
    t = TCPExecutor("x", host="localhost", port=1234)
    assert (t.host, t.port) == ("localhost", 1234)
    h = HTTPExecutor("x", url="http://127.0.0.1:8080/a/b?c=d", status=404, method="GET",
                     payload={"k": "v"}, headers={"H": "v"})
    assert h.url.path == "/a/b" and h.host == "127.0.0.1" and h.port == 8080
    assert h.status == "404" and h.status_re.pattern == "404" and h.method == "GET"
    assert h.payload == {"k": "v"} and h.headers == {"H": "v"}
    assert HTTPExecutor("x", url="http://example.invalid/").port == 80
    assert PidExecutor("x", filename="/tmp/f").filename == "/tmp/f"
    assert UnixSocketExecutor("x", socket_name="/tmp/s").socket == "/tmp/s"
    o = OutputExecutor("x", banner=r"\d+")
    assert o._banner.pattern == r"\d+"


def test_constructor_errors():
    with pytest.raises(ValueError, match="hostname"):
        HTTPExecutor("x", url="no-host")
    with pytest.raises(ValueError, match="filename must be defined"):
        PidExecutor("x", filename="")
    with pytest.raises(TypeError, match="At least one of stdout or stderr"):
        OutputExecutor("x", banner="b", stdout=None, stderr=None)


def test_repr_and_str():
    e = SimpleExecutor("a-long-command --with args")
    assert repr(e) == f'<mirakuru.base.SimpleExecutor: "a-long-com..." {hex(id(e))}>'
    assert str(e) == f'<mirakuru.base.SimpleExecutor: "a-long-command --with args" {hex(id(e))}>'
    t = TCPExecutor("short", host="h", port=1)
    assert repr(t) == f'<mirakuru.tcp.TCPExecutor: "short" {hex(id(t))}>'


def test_exception_arguments_and_messages():
    e = TCPExecutor("cmd", host="localhost", port=4321)
    x = ExecutorError(e)
    assert x.executor is e and x.args == (x,)
    t = TimeoutExpired(e, timeout=5)
    assert t.timeout == 5 and str(t) == f"Executor {e} timed out after 5 seconds"
    a = AlreadyRunning(e)
    assert str(a) == (
        f"Executor {e} seems to be already running. It looks like the previous executor process "
        f"hasn't been terminated or killed. Also there might be some completely different service "
        f"listening on 4321 port."
    )
    p = ProcessExitedWithError(e, 3)
    assert p.exit_code == 3
    assert str(p) == f"The process invoked by the {e} executor has exited with a non-zero code: 3."
    f = ProcessFinishedWithError(e, -9)
    assert f.exit_code == -9 and isinstance(f, ProcessExitedWithError)
    e.port = None
    assert str(AlreadyRunning(e)).endswith("hasn't been terminated or killed.")
    with pytest.raises(AttributeError):
        str(AlreadyRunning(SimpleExecutor("x")))  # as the original: getattr without a default

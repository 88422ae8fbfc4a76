"""Each executor against real processes: start, readiness, stop, kill, the
Popen-like process, output streams, popen_kwargs, and every exception."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import accepts, free_port, pid_alive, service, service_str, wait_file, wait_gone
from mirakuru import (
    AlreadyRunning,
    Executor,
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


def test_simple_executor_start_stop_chaining():
    e = SimpleExecutor(service("sleep"), timeout=10)
    assert e.start() is e
    assert e.running() and e.pid == e.process.pid and pid_alive(e.pid)
    pid = e.pid
    assert e.stop() is e
    assert not e.running() and e.process is None and e.pid is None
    assert wait_gone([pid], 0) == []
    assert e.stop() is e  # stopping a stopped executor is fine


def test_start_twice_keeps_the_process():
    with SimpleExecutor(service("sleep"), timeout=10) as e:
        pid = e.pid
        e.start()
        assert e.pid == pid


def test_command_as_string_and_shell(tmp_path):
    out = tmp_path / "out"
    e = SimpleExecutor(f"echo $((40 + 2)) > {out}", shell=True, timeout=10)
    e.start()
    assert e.process.wait() == 0
    assert out.read_text() == "42\n"
    e.stop()
    e = SimpleExecutor(f"sh -c 'echo \"a b\" > {out}'", timeout=10)
    e.start().process.wait()
    assert out.read_text() == "a b\n"
    e.stop()


def test_context_manager():
    with TCPExecutor(service("tcp", port := free_port()), host="127.0.0.1", port=port, timeout=10) as e:
        assert e.running() and accepts(port)
        pid = e.pid
    assert e.process is None and not accepts(port)
    assert wait_gone([pid], 0) == []


def test_tcp_executor_waits(port):
    e = TCPExecutor(service("tcp", port, "--delay", "0.3"), host="127.0.0.1", port=port, timeout=10)
    e.start()
    assert accepts(port)
    e.stop()


def test_tcp_localhost_name(port):
    with TCPExecutor(service("tcp", port), host="localhost", port=port, timeout=10):
        assert accepts(port)


def test_already_running(port):
    with TCPExecutor(service("tcp", port), host="127.0.0.1", port=port, timeout=10):
        second = TCPExecutor(service("tcp", port), host="127.0.0.1", port=port, timeout=10)
        with pytest.raises(AlreadyRunning) as info:
            second.start()
        assert info.value.executor is second
        assert f"listening on {port} port" in str(info.value)
        assert second.process is None


def test_process_exited_with_error(port):
    e = TCPExecutor([sys.executable, "-c", "import sys; sys.exit(7)"], host="127.0.0.1", port=port, timeout=10)
    with pytest.raises(ProcessExitedWithError) as info:
        e.start()
    assert info.value.exit_code == 7 and info.value.executor is e
    assert e.process is None


def test_process_killed_by_signal_before_ready(port):
    e = TCPExecutor([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGUSR1)"],
                    host="127.0.0.1", port=port, timeout=10)
    with pytest.raises(ProcessExitedWithError) as info:
        e.start()
    assert info.value.exit_code == -signal.SIGUSR1


def test_timeout_expired(port):
    e = TCPExecutor(service("sleep"), host="127.0.0.1", port=port, timeout=0.5)
    t = time.monotonic()
    with pytest.raises(TimeoutExpired) as info:
        e.start()
    assert time.monotonic() - t < 5
    assert info.value.timeout == 0.5 and info.value.executor is e
    assert str(info.value) == f"Executor {e} timed out after 0.5 seconds"
    assert e.process is None


def test_command_not_found():
    with pytest.raises(FileNotFoundError):
        SimpleExecutor(["/nonexistent/program"], timeout=5).start()


def test_http_executor(tmp_path, port):
    log = tmp_path / "log"
    e = HTTPExecutor(service("http", port, "--log", log, "--delay", "0.2"), url=f"http://127.0.0.1:{port}/status?x=1",
                     timeout=10)
    e.start()
    request = json.loads(log.read_text().splitlines()[0])
    assert request["method"] == "HEAD" and request["path"] == "/status"
    e.stop()


def test_http_method_payload_headers(tmp_path, port):
    log = tmp_path / "log"
    e = HTTPExecutor(service("http", port, "--log", log), url=f"http://127.0.0.1:{port}/p", method="POST",
                     payload={"k": "v w"}, headers={"X-Test": "yes"}, timeout=10)
    with e:
        requests = [json.loads(line) for line in log.read_text().splitlines()]
        assert requests[-1]["method"] == "POST" and requests[-1]["body"] == "k=v+w"
        assert requests[-1]["headers"]["X-Test"] == "yes"


@pytest.mark.parametrize("status,code,ready", [
    (404, 404, True), ("(200|404)", 404, True), (r"4\d\d", 418, True), (r"^2\d\d$", 500, False),
    ("5", 503, True),  # re.match: a prefix is enough, as in Python mirakuru
    ("^(2|4)00$", 400, True), (r"\d{3}", 302, True),
])
def test_http_status_python_regex(port, status, code, ready):
    e = HTTPExecutor(service("http", port, "--status", code), url=f"http://127.0.0.1:{port}/", status=status,
                     timeout=1.5)
    if ready:
        with e:
            assert e.running()
    else:
        with pytest.raises(TimeoutExpired):
            e.start()


def test_http_status_regex_translation():
    import re

    from mirakuru.http import status_codes_regex

    for status in [r"^2\d\d$", "200", "(200|404)", r"4\d\d", "5", r"\d{3}", "20[0-4]", "x"]:
        posix = re.compile(status_codes_regex(status, re.compile(status)))
        for code in range(100, 1000):
            s = str(code)
            assert bool(posix.search(s)) == bool(s == status or re.match(status, s)), (status, code)


def test_unix_socket_executor(tmp_path):
    path = str(tmp_path / "sock")
    with UnixSocketExecutor(service("unix", path, "--delay", "0.2"), socket_name=path, timeout=10) as e:
        assert e.running() and os.path.exists(path)


def test_pid_executor(tmp_path):
    pidfile = str(tmp_path / "d.pid")
    e = PidExecutor(service("daemon", pidfile), filename=pidfile, timeout=10)
    e.start()
    daemon = int(wait_file(pidfile))
    assert pid_alive(daemon)
    e.stop()
    assert wait_gone([daemon]) == []


def test_pid_executor_already_running(tmp_path):
    pidfile = tmp_path / "exists.pid"
    pidfile.write_text("1\n")
    with pytest.raises(AlreadyRunning):
        PidExecutor(service("sleep"), filename=str(pidfile), timeout=5).start()


def test_output_executor_banner_python_regex():
    e = OutputExecutor(service("banner", "server ready on port 1234", "--noise", "5", "--delay", "0.2"),
                       banner=r"ready on port \d+", timeout=10)
    e.start()
    assert e.output().readline() == "after the banner\n"  # the stream begins after the banner line
    e.stop()


def test_output_executor_banner_after_a_flood():
    # 120 000 lines before the banner (over 8 MB): nothing may block.
    e = OutputExecutor(service("banner", "READY", "--noise", "120000"), banner="^READY$", timeout=60)
    e.start()
    assert e.running()
    e.stop()


def test_output_executor_banner_on_stderr():
    e = OutputExecutor(service("banner", "on stderr", "--stderr"), banner="on stderr",
                       stdout=None, stderr=subprocess.PIPE, timeout=10)
    with e:
        assert e.err_output().readline() == "after the banner\n"


def test_output_executor_timeout():
    e = OutputExecutor(service("banner", "something else"), banner="never", timeout=0.5)
    with pytest.raises(TimeoutExpired):
        e.start()
    assert e.process is None


def test_stop_signal_and_expected_returncode():
    e = SimpleExecutor(service("sleep", "--exit-on-term", "3"), timeout=10)
    e.start()
    assert e.output().readline() == "sleeping\n"  # its handler is set
    with pytest.raises(ProcessFinishedWithError) as info:
        e.stop()
    assert info.value.exit_code == 3
    e = SimpleExecutor(service("sleep", "--exit-on-term", "3"), expected_returncode=3, timeout=10)
    e.start()
    e.output().readline()
    e.stop()
    e = SimpleExecutor(service("sleep", "--exit-on-term", "3"), timeout=10)
    e.start()
    e.output().readline()
    e.stop(expected_returncode=3)
    e = SimpleExecutor(["sleep", "30"], stop_signal=signal.SIGINT, timeout=10)
    e.start()
    e.stop()  # killed by SIGINT: -2 is expected
    e = SimpleExecutor(["sleep", "30"], timeout=10)
    e.start()
    e.stop(stop_signal=signal.SIGUSR1)


def test_stop_kills_after_timeout():
    e = SimpleExecutor(service("sleep", "--ignore-term"), timeout=0.5)
    e.start()
    wait_output = e.output().readline()
    assert wait_output == "sleeping\n"
    pid = e.pid
    t = time.monotonic()
    e.stop()  # SIGTERM ignored: the kill signal after the timeout
    assert 0.4 < time.monotonic() - t < 5
    assert wait_gone([pid], 0) == []


def test_kill():
    e = SimpleExecutor(service("sleep", "--ignore-term"), timeout=10)
    e.start()
    pid = e.pid
    assert e.kill() is e
    assert e.process is None and wait_gone([pid], 0) == []
    e.start()
    pid = e.pid
    e.kill(wait=False, sig=signal.SIGKILL)
    assert e.process is None and wait_gone([pid]) == []
    assert e.start() is e and e.running()  # and it starts again
    e.stop()


def test_stopped_context_and_restart(port):
    e = TCPExecutor(service("tcp", port), host="127.0.0.1", port=port, timeout=10)
    e.start()
    with e.stopped() as same:
        assert same is e and not e.running() and not accepts(port)
    assert e.running() and accepts(port)
    pid = e.pid
    assert e.restart() is e
    assert e.pid != pid and accepts(port)
    e.stop()
    with pytest.raises(RuntimeError, match="didn't yield"):  # as Python mirakuru: only when running
        with e.stopped():
            pytest.fail("stopped() of a stopped executor does not run the block")


def test_wait_for_and_check_timeout(tmp_path):
    flag = tmp_path / "flag"
    e = SimpleExecutor(service("sleep"), timeout=10, sleep=0.01)
    e.start()
    threading.Timer(0.2, flag.touch).start()
    assert e.wait_for(flag.exists) is e
    e._endtime = time.time() - 1
    assert not e.check_timeout()
    with pytest.raises(TimeoutExpired):
        e.wait_for(lambda: False)
    assert e.process is None  # killed, as Python mirakuru does
    fresh = SimpleExecutor("true", timeout=0.2, sleep=0.01)
    assert fresh.wait_for(lambda: True) is fresh  # no process: a plain loop
    with pytest.raises(TimeoutExpired):
        fresh._set_timeout()
        fresh.wait_for(lambda: False)


def test_wait_for_exception_propagates():
    e = SimpleExecutor(service("sleep"), timeout=10)
    e.start()

    def boom():
        raise KeyError("from the check")

    with pytest.raises(KeyError):
        e.wait_for(boom)
    assert e.running()
    e.stop()


def test_process_is_popen_like(tmp_path):
    e = SimpleExecutor([sys.executable, "-c", "import sys; print(sys.stdin.readline().upper(), end=''); sys.exit(5)"],
                       timeout=10)
    e.start()
    p = e.process
    assert isinstance(p.pid, int) and p.returncode is None
    p.stdin.write("hello\n")
    p.stdin.flush()
    assert p.stdout.readline() == "HELLO\n"
    assert p.wait() == 5 and p.returncode == 5 and p.poll() == 5
    with pytest.raises(ProcessFinishedWithError):
        e.stop()
    e = SimpleExecutor(["sleep", "30"], timeout=10)
    e.start()
    assert e.process.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        e.process.wait(timeout=0.1)
    e.process.send_signal(signal.SIGKILL)
    assert e.process.wait(timeout=5) == -signal.SIGKILL
    assert not e.running()
    e.stop(expected_returncode=-signal.SIGKILL)
    e = SimpleExecutor([sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"], timeout=10)
    e.start()
    out, err = e.process.communicate("abc")
    assert out == "cba\n" and err is None
    e.stop()


def test_stdio_arguments(tmp_path):
    target = tmp_path / "out.txt"
    with open(target, "w") as f:
        e = SimpleExecutor([sys.executable, "-c", "import sys; print('to out'); print('to err', file=sys.stderr)"],
                           stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=10)
        e.start()
        e.process.wait()
        e.stop()
    assert sorted(target.read_text().splitlines()) == ["to err", "to out"]
    e = SimpleExecutor([sys.executable, "-c", "import sys; print('o'); print('e', file=sys.stderr)"],
                       stderr=subprocess.PIPE, timeout=10)
    e.start()
    assert e.output().read() == "o\n" and e.err_output().read() == "e\n"
    e.stop()
    e = SimpleExecutor(["cat"], stdin=subprocess.DEVNULL, timeout=10)
    e.start()
    assert e.output().read() == "" and e.process.wait() == 0
    e.stop()


def test_cwd_envvars_popen_kwargs(tmp_path):
    code = "import os; print(os.getcwd()); print(os.environ['MY_VAR']); print(os.environ['mirakuru_uuid'])"
    e = SimpleExecutor([sys.executable, "-c", code], cwd=str(tmp_path), envvars={"MY_VAR": "zażółć"},
                       popen_kwargs={"encoding": "utf-8", "errors": "strict"}, timeout=10)
    e.start()
    lines = e.output().read().splitlines()
    assert lines == [str(tmp_path), "zażółć", e._uuid]
    e.stop()


def test_kill_all_kids_and_clear_process(tmp_path):
    pidfile = str(tmp_path / "kid.pid")
    e = SimpleExecutor(["sh", "-c", f"{service_str('daemon', pidfile)}; sleep 30"], timeout=10)
    e.start()
    kid = int(wait_file(pidfile))
    pids = e._kill_all_kids(signal.SIGKILL)
    assert kid in pids and e.process.pid in pids
    assert wait_gone([kid]) == []
    e._clear_process()
    assert e.process is None and e._endtime is None


def test_del_kills(port):
    e = TCPExecutor(service("tcp", port), host="127.0.0.1", port=port, timeout=10)
    e.start()
    pid = e.pid
    del e
    import gc

    gc.collect()
    assert wait_gone([pid]) == []


def test_gil_released_while_starting(tmp_path, port):
    # The service listens only once the test's main thread creates a file:
    # with the GIL held during start() this would deadlock.
    trigger = tmp_path / "go"
    e = TCPExecutor(service("tcp", port, "--wait-file", trigger), host="127.0.0.1", port=port, timeout=20)
    errors = []

    def start():
        try:
            e.start()
        except Exception as ex:  # pragma: no cover
            errors.append(ex)

    thread = threading.Thread(target=start)
    thread.start()
    time.sleep(0.2)
    trigger.touch()
    thread.join(30)
    assert not thread.is_alive() and not errors
    assert accepts(port)
    e.stop()


def test_several_executors_from_threads():
    ports = [free_port() for _ in range(4)]
    executors = [TCPExecutor(service("tcp", p, "--delay", "0.3"), host="127.0.0.1", port=p, timeout=20)
                 for p in ports]
    threads = [threading.Thread(target=e.start) for e in executors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(accepts(p) for p in ports)
    for e in executors:
        e.stop()
    assert not any(accepts(p) for p in ports)


def test_executor_base_is_abstract():
    e = Executor("true")
    with pytest.raises(NotImplementedError):
        e.start()

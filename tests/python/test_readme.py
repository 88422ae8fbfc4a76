"""The examples of Python mirakuru's README (../shared/reference/
mirakuru-README.rst), with a real service in place of my_special_process."""

import sys
from http.client import OK, HTTPConnection

from conftest import HELPER, accepts, free_port, service, wait_file
from mirakuru import HTTPExecutor, OutputExecutor, PidExecutor, SimpleExecutor, TCPExecutor


def test_simple_executor_example():
    process = SimpleExecutor(service("sleep"))
    process.start()
    assert process.running()
    process.stop()


def test_output_executor_example():
    process = OutputExecutor(service("banner", "processed!"), banner="processed!")
    process.start()
    process.stop()


def test_tcp_executor_example():
    port = free_port()
    process = TCPExecutor(service("tcp", port), host="localhost", port=port)
    process.start()
    assert accepts(port)
    process.stop()


def test_http_executor_examples():
    port = free_port()
    process = HTTPExecutor(service("http", port), url=f"http://localhost:{port}/status")
    process.start()
    process.stop()
    process = HTTPExecutor(service("http", port, "--status", 404), url=f"http://localhost:{port}/status",
                           status="(200|404)")
    process.start()
    process.stop()
    process = HTTPExecutor(service("http", port, "--status", 404), url=f"http://localhost:{port}/status",
                           status="(200|404)", method="GET")
    process.start()
    process.stop()


def test_pid_executor_example(tmp_path):
    pidfile = str(tmp_path / "my_special_process.pid")
    process = PidExecutor(service("daemon", pidfile), filename=pidfile)
    process.start()
    wait_file(pidfile)
    process.stop()


def test_it_works():
    port = free_port()
    executor = HTTPExecutor(service("http", port), url=f"http://127.0.0.1:{port}/")
    executor.start()
    conn = HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/")
    assert conn.getresponse().status == OK  # the README says `is`: an int is not HTTPStatus.OK
    executor.stop()


def test_command_as_string_or_list():
    port = free_port()
    for command in (f"{sys.executable} {HELPER} tcp {port}", [sys.executable, HELPER, "tcp", str(port)]):
        with TCPExecutor(command, host="localhost", port=port) as e:
            assert e.running()


def test_context_manager_and_stopped():
    port = free_port()
    with HTTPExecutor(service("http", port), url=f"http://localhost:{port}/status") as process:
        assert accepts(port)
        with process.stopped():
            assert not process.running() and not accepts(port)
        assert process.running() and accepts(port)
    assert not accepts(port)


def test_chaining():
    port = free_port()
    executor = TCPExecutor(service("tcp", port), host="localhost", port=port).start()
    assert executor.running()
    executor.stop().start().stop()

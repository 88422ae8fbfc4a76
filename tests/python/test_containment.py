"""Nothing survives: a double-forked setsid daemon with a cleared
environment (which Python mirakuru's environment-variable search cannot
find), a daemonizing nginx under PidExecutor, and the Python process
SIGKILLed while a service runs (libmirakuru's guard)."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import accepts, pid_alive, service, wait_file, wait_gone
from mirakuru import PidExecutor, SimpleExecutor, TCPExecutor


def environ_of(pid: int) -> bytes:
    with open(f"/proc/{pid}/environ", "rb") as f:
        return f.read()


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, IndexError):
                pass
    return kids


@pytest.mark.parametrize("how", ["stop", "kill", "context"])
def test_double_forked_setsid_daemon_with_cleared_env(tmp_path, port, how):
    pidfile = str(tmp_path / "daemon.pid")
    e = TCPExecutor(service("daemon", pidfile, "--port", port, "--clear-env", "--stubborn"), host="127.0.0.1", port=port,
                    timeout=2)
    e.start()
    daemon = int(wait_file(pidfile))
    assert pid_alive(daemon) and accepts(port)
    assert b"mirakuru_uuid" not in environ_of(daemon)  # out of reach of Python mirakuru's search
    assert os.getsid(daemon) != os.getsid(0)
    assert e.process.poll() == 0  # the launcher exited 0: daemonized
    if how == "stop":
        e.stop()  # the daemon ignores SIGTERM: killed after the timeout
    elif how == "kill":
        e.kill()
    else:
        e.__exit__(None, None, None)  # the end of a with block
    assert wait_gone([daemon], 0) == []
    assert not accepts(port)


def test_simple_executor_daemon_and_check_subprocess_cleanup(tmp_path):
    pidfile = str(tmp_path / "d.pid")
    e = SimpleExecutor(service("daemon", pidfile, "--clear-env", "--stubborn"), timeout=2)
    e.start()
    daemon = int(wait_file(pidfile))
    e.kill(wait=False)
    assert wait_gone([daemon]) == []


NGINX_CONF = """
daemon on;
master_process on;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx") or None


@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (tools/install-deps installs it)")
def test_daemonizing_nginx_under_pid_executor(tmp_path, port):
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=tmp_path, port=port))
    pidfile = tmp_path / "nginx.pid"
    e = PidExecutor([nginx_binary(), "-c", str(conf), "-p", str(tmp_path)], filename=str(pidfile), timeout=10)
    e.start()
    master = int(wait_file(str(pidfile)))
    deadline = time.monotonic() + 5
    while not accepts(port) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert accepts(port)
    workers = children_of(master)
    while len(workers) < 2 and time.monotonic() < deadline + 5:  # the pid file comes before the workers
        time.sleep(0.01)
        workers = children_of(master)
    try:
        assert len(workers) >= 2
    finally:
        e.stop()
    assert wait_gone([master, *workers], 0) == []
    assert not accepts(port)


CHILD = textwrap.dedent("""
    import sys, time
    from mirakuru import TCPExecutor
    helper, pidfile, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    e = TCPExecutor([sys.executable, helper, "daemon", pidfile, "--port", str(port), "--clear-env", "--stubborn"],
                    host="127.0.0.1", port=port, timeout=10)
    e.start()
    print("ready", flush=True)
    time.sleep(300)
""")


def test_python_sigkilled_while_a_service_runs(tmp_path, port):
    from conftest import HELPER

    pidfile = str(tmp_path / "daemon.pid")
    child = subprocess.Popen([sys.executable, "-c", CHILD, HELPER, pidfile, str(port)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        daemon = int(wait_file(pidfile))
        assert pid_alive(daemon) and accepts(port)
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
        assert wait_gone([daemon], 10) == []
        assert not accepts(port)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

"""A test service with the behaviours the Python tests need.

    service.py tcp PORT [--delay S] [--wait-file F]      listen on 127.0.0.1:PORT
    service.py http PORT [--status N] [--log F]          answer N to every request, log it
    service.py unix PATH                                 listen on a Unix socket
    service.py banner TEXT [--stderr] [--noise N]        print N lines, then TEXT, then more
    service.py daemon PIDFILE [--port P] [--clear-env] [--stubborn]  double fork + setsid, launcher exits 0
    service.py sleep [--ignore-term] [--exit-on-term N]  wait for signals
"""

import argparse
import http.server
import json
import os
import signal
import socket
import sys
import time


def serve_forever(sock: socket.socket) -> None:
    sock.listen(16)
    while True:
        conn, _ = sock.accept()
        conn.close()


def tcp(args: argparse.Namespace) -> None:
    if args.wait_file:
        while not os.path.exists(args.wait_file):
            time.sleep(0.01)
    time.sleep(args.delay)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"listening on {args.port}", flush=True)
    serve_forever(sock)


def http_server(args: argparse.Namespace) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            if args.log:
                with open(args.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"method": self.command, "path": self.path, "body": body,
                                          "headers": dict(self.headers)}) + "\n")
            self.send_response(args.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_POST = do_PUT = answer

        def log_message(self, *a: object) -> None:
            pass

    time.sleep(args.delay)
    server = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
    server.serve_forever()


def unix(args: argparse.Namespace) -> None:
    time.sleep(args.delay)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(args.path)
    serve_forever(sock)


def banner(args: argparse.Namespace) -> None:
    out = sys.stderr if args.stderr else sys.stdout
    for i in range(args.noise):
        print(f"noise line {i} " + "x" * 60, file=out)
    out.flush()
    time.sleep(args.delay)
    print(args.text, file=out, flush=True)
    print("after the banner", file=out, flush=True)
    signal.pause()


def daemon(args: argparse.Namespace) -> None:
    if os.fork() > 0:
        os._exit(0)  # the launcher: exits 0 once the daemon is on its way
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    if args.clear_env:
        os.execve(sys.executable, [sys.executable, __file__, "daemon-body", args.pidfile, str(args.port),
                                   "stubborn" if args.stubborn else "-"], {})
    daemon_body(args.pidfile, args.port, args.stubborn)


def daemon_body(pidfile: str, port: int, stubborn: bool) -> None:
    for fd in (0, 1, 2):
        os.dup2(os.open(os.devnull, os.O_RDWR), fd)
    sock = None
    if port:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    with open(pidfile + ".tmp", "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(pidfile + ".tmp", pidfile)
    if stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL ends it
    if sock:
        serve_forever(sock)
    while True:
        signal.pause()


def sleeper(args: argparse.Namespace) -> None:
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.exit_on_term is not None:
        signal.signal(signal.SIGTERM, lambda *a: os._exit(args.exit_on_term))
    print("sleeping", flush=True)
    while True:
        signal.pause()


def main() -> None:
    if sys.argv[1] == "daemon-body":
        daemon_body(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "stubborn")
        return
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("tcp")
    t.add_argument("port", type=int)
    t.add_argument("--delay", type=float, default=0)
    t.add_argument("--wait-file")
    h = sub.add_parser("http")
    h.add_argument("port", type=int)
    h.add_argument("--status", type=int, default=200)
    h.add_argument("--log")
    h.add_argument("--delay", type=float, default=0)
    u = sub.add_parser("unix")
    u.add_argument("path")
    u.add_argument("--delay", type=float, default=0)
    b = sub.add_parser("banner")
    b.add_argument("text")
    b.add_argument("--stderr", action="store_true")
    b.add_argument("--noise", type=int, default=0)
    b.add_argument("--delay", type=float, default=0)
    d = sub.add_parser("daemon")
    d.add_argument("pidfile")
    d.add_argument("--port", type=int, default=0)
    d.add_argument("--clear-env", action="store_true")
    d.add_argument("--stubborn", action="store_true", help="ignore SIGTERM")
    s = sub.add_parser("sleep")
    s.add_argument("--ignore-term", action="store_true")
    s.add_argument("--exit-on-term", type=int)
    args = p.parse_args()
    {"tcp": tcp, "http": http_server, "unix": unix, "banner": banner, "daemon": daemon, "sleep": sleeper}[args.mode](args)


if __name__ == "__main__":
    main()

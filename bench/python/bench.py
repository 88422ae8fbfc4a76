#!/usr/bin/env python3
"""Our mirakuru package against Python mirakuru 3.0.2, same services, same run.

    bench/python/bench.py BUILD_DIR REFERENCE_DIR [CYCLES]

BUILD_DIR/src/python holds our package; REFERENCE_DIR holds the original
(../shared/reference/mirakuru-3.0.2). Each package runs in a child
interpreter of its own (both are named mirakuru), alternating, against the
same services (tests/python/helpers/service.py):
  start+stop   a TCPExecutor cycle of a service that listens at once
               (BUILD_DIR/bench/bench-service tcp PORT, a C program)
  readiness    how long after the service starts listening start() returns
               (the service writes the moment just before listen(), CLOCK_MONOTONIC)
Prints the medians and the ratios (targets: >= 20x).
"""

import os
import statistics
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = textwrap.dedent("""
    import json, os, socket, sys, tempfile, time
    from mirakuru import TCPExecutor
    fast, cycles = sys.argv[1], int(sys.argv[2])
    def port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
    cycle, ready = [], []
    for i in range(cycles):
        p = port()
        e = TCPExecutor([fast, "tcp", str(p)], host="127.0.0.1", port=p, timeout=30)
        t = time.monotonic(); e.start(); e.stop(); cycle.append(time.monotonic() - t)
        p = port()
        stamp = tempfile.mktemp()
        code = ("import socket, sys, time\\n"
                "time.sleep(0.2)\\n"
                "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))\\n"
                "f = open(sys.argv[2], 'w'); f.write(repr(time.monotonic())); f.close(); s.listen()\\n"
                "time.sleep(60)\\n")
        e = TCPExecutor([sys.executable, "-c", code, str(p), stamp], host="127.0.0.1", port=p, timeout=30)
        e.start(); t = time.monotonic()
        ready.append(t - float(open(stamp).read())); os.unlink(stamp)
        e.stop()
    print(json.dumps({"cycle": cycle, "ready": ready}))
""")


FAST = ""


def run(path: str, cycles: int) -> dict:
    env = dict(os.environ, PYTHONPATH=path)
    out = subprocess.run([sys.executable, "-c", CHILD, FAST, str(cycles)], env=env, check=True,
                         capture_output=True, text=True).stdout
    import json

    return json.loads(out.splitlines()[-1])


def main() -> None:
    global FAST
    build, reference = sys.argv[1], sys.argv[2]
    FAST = os.path.join(build, "bench", "bench-service")
    cycles = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    ours = {"cycle": [], "ready": []}
    theirs = {"cycle": [], "ready": []}
    for _ in range(2):  # alternate, so that the machine's noise hits both
        for acc, path in ((ours, os.path.join(build, "src", "python")), (theirs, reference)):
            r = run(path, cycles // 2)
            acc["cycle"] += r["cycle"]
            acc["ready"] += r["ready"]
    for key, name in (("cycle", "start+stop"), ("ready", "readiness")):
        a, b = statistics.median(ours[key]), statistics.median(theirs[key])
        print(f"{name:11s} ours {a * 1e3:8.2f} ms   original {b * 1e3:8.2f} ms   ratio {b / a:6.1f}x")


if __name__ == "__main__":
    main()

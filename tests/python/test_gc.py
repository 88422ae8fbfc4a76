"""Executors dropped while their services run and print: the garbage
collector frees them (with their output pipes) while the library's output
thread is copying to those pipes. Nothing may crash (the ASan run of this
suite checks the extension and the library) and no process may survive."""

import gc
import sys

from conftest import wait_gone

from mirakuru import OutputExecutor, SimpleExecutor

CHATTY = [sys.executable, "-u", "-c",
          "import sys, time\n"
          "print('ready', flush=True)\n"
          "while True:\n"
          "    sys.stdout.write('x' * 200 + '\\n'); sys.stderr.write('e' * 100 + '\\n'); time.sleep(0.0005)\n"]


def start_many(n: int, cycle: bool) -> list[int]:
    pids = []
    for i in range(n):
        if i % 2:
            e = OutputExecutor(CHATTY, banner=r"^ready$", timeout=30)
        else:
            e = SimpleExecutor(CHATTY, timeout=30)
        e.start()
        if i % 3 == 0:
            e.output().readline()  # a reader that took some, then went away
        pids.append(e.pid)
        if cycle:
            e._self = e  # only the collector frees it
        del e
    return pids


def test_dropped_while_running_collected():
    gc.disable()
    try:
        pids = start_many(12, cycle=True)
        gc.collect()
    finally:
        gc.enable()
    assert wait_gone(pids) == []


def test_dropped_while_running_refcount():
    pids = start_many(12, cycle=False)
    gc.collect()
    assert wait_gone(pids) == []


def test_dropped_in_bulk_then_collected():
    kept = []
    pids = []
    for i in range(16):
        e = SimpleExecutor(CHATTY, timeout=30) if i % 2 else OutputExecutor(CHATTY, banner="ready", timeout=30)
        kept.append(e.start())
        pids.append(e.pid)
    del e
    kept.append(kept)  # a cycle through the list
    del kept
    gc.collect()
    assert wait_gone(pids) == []

"""Finding processes by an environment variable (as Python mirakuru's
base_env). The executors do not need it: their processes live in a cgroup
of their own (libmirakuru). Kept for code that calls it."""

import errno
import logging
import os
import re
import subprocess

LOG = logging.getLogger(__name__)

PS_XE_PID_MATCH = re.compile(r"^.*?(\d+).+$")
"""Matches the pid in a line of `ps xe -o pid,cmd`."""


def processes_with_env_proc(env_name: str, env_value: str) -> set[int]:
    """Pids of processes whose ENV_NAME contains ENV_VALUE, from /proc."""
    pids: set[int] = set()
    prefix = env_name.encode() + b"="
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                data = environ.read()
        except OSError:
            continue
        for item in data.split(b"\0"):
            if item.startswith(prefix) and env_value.encode() in item[len(prefix):]:
                pids.add(int(entry))
                break
    return pids


def processes_with_env_psutil(env_name: str, env_value: str) -> set[int]:
    """As Python mirakuru's; reads /proc (psutil is not needed)."""
    return processes_with_env_proc(env_name, env_value)


def processes_with_env_ps(env_name: str, env_value: str) -> set[int]:
    """Pids of processes whose environment holds ENV_NAME=ENV_VALUE, by `ps xe`."""
    pids: set[int] = set()
    lines: list[bytes] = []
    try:
        lines = subprocess.check_output(("ps", "xe", "-o", "pid,cmd")).splitlines()
    except OSError as err:
        if err.errno == errno.ENOENT:
            LOG.error("`$ ps xe -o pid,cmd` is not available")
            return pids
    except subprocess.CalledProcessError:
        LOG.error("`$ ps xe -o pid,cmd` command exited with non-zero code.")
    env = f"{env_name}={env_value}"
    for line in lines:
        text = str(line)
        if env in text:
            match = PS_XE_PID_MATCH.match(text)
            if match:
                pids.add(int(match.group(1)))
    return pids


processes_with_env = processes_with_env_proc

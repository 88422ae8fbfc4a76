# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the real-server tests (tests/integration/real/): Debian's own
# servers, run directly (never through init scripts or systemctl), bound to
# 127.0.0.1 or Unix sockets under a temporary directory, each run checked
# to leave no process of the server behind.
#
# Each test is `bash TEST.sh`; it exits 0 (passed), 77 (skipped: its
# server's package is not installed, said on stderr) or 1.
set -euo pipefail

# The CLI, or its valgrind wrapper in the valgrind setup.
RUN=${MIRAKURU_RUN_WRAPPED:-${MIRAKURU_RUN:?run through meson test}}
T=$(mktemp -d "${TMPDIR:-/tmp}/mirakuru-real.XXXXXX")
chmod 755 "$T"
PIDS=$T/service.pids

cleanup() {
        local rc=$?
        # Nothing of ours may survive a failed test either: what the
        # recorded pids still name (our own servers) is killed.
        if [ -s "$PIDS" ]; then
                while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done < "$PIDS"
        fi
        rm -rf "$T"
        exit $rc
}
trap cleanup EXIT

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

# need PROGRAM PACKAGE: skips the test (with the reason) without PROGRAM.
need() {
        command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] ||
                skip "$1 not found: the Debian package $2 is not installed (tools/install-deps installs it)"
}

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The cgroup v2 mount point.
cgroup_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts; }

# For the --then command: appends the pids of every process in the cgroup of
# $MIRAKURU_PID (the service's main process) to $PIDS, and fails if the
# service has no main process or no cgroup.
record_service() {
        cat <<EOS
record() {
        [ -n "\${MIRAKURU_PID:-}" ] || { echo 'no MIRAKURU_PID' >&2; return 1; }
        cg=\$(sed -n 's/^0:://p' /proc/\$MIRAKURU_PID/cgroup)
        [ -n "\$cg" ] || { echo "no cgroup for \$MIRAKURU_PID" >&2; return 1; }
        cat "$(cgroup_root)\$cg/cgroup.procs" >> '$PIDS'
        echo "\$cg" > '$T/service.cgroup'
}
EOS
}

# After mirakuru-run returned: no recorded process is alive, and the
# service's cgroup is gone.
check_nothing_left() {
        local what=$1 n=0
        [ -s "$PIDS" ] || fail "$what: no process of the service was recorded"
        while read -r pid; do
                n=$((n + 1))
                # A zombie is gone (its reaper, not us, has yet to collect it).
                if kill -0 "$pid" 2>/dev/null && [ "$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)" != Z ]; then
                        fail "$what: pid $pid ($(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)) survived"
                fi
        done < "$PIDS"
        if [ -s "$T/service.cgroup" ] && [ -d "$(cgroup_root)$(cat "$T/service.cgroup")" ]; then
                fail "$what: the cgroup $(cat "$T/service.cgroup") is still there"
        fi
        say "$what: ok ($n processes recorded, none left)"
        : > "$PIDS"
        rm -f "$T/service.cgroup"
}

# run_ok WHAT ARGS...: mirakuru-run ARGS must exit 0; its stderr is kept in
# $T/err and shown on failure.
run_ok() {
        local what=$1 rc=0
        shift
        "$RUN" "$@" > "$T/out" 2> "$T/err" < /dev/null || rc=$?
        if [ "$rc" != 0 ]; then
                cat "$T/out" "$T/err" >&2
                fail "$what: mirakuru-run exited with $rc"
        fi
}

# Runs COMMAND as an unprivileged user when we are root (servers such as
# postgres refuse root).
as_user() {
        if [ "$(id -u)" = 0 ]; then
                setpriv --reuid="$1" --regid="$1" --init-groups -- "${@:2}"
        else
                "${@:2}"
        fi
}

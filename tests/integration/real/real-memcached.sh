# SPDX-License-Identifier: LGPL-2.1-or-later
# memcached 1.6: in the foreground and daemonizing (-d -P pidfile), with TCP
# and pid file probes; the --then command asks it for its stats.
. "$(dirname "$0")/real-lib.sh"
need memcached memcached
REC=$(record_service)
user=()
run=$T/run
mkdir -p "$run"
# As root, memcached runs as nobody, which writes the pid file.
if [ "$(id -u)" = 0 ]; then user=(-u nobody); chown nobody "$run"; fi
# The stats of the memcached on port $1, from bash's /dev/tcp.
stats() {
        echo "bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 && printf \"stats\\r\\nquit\\r\\n\" >&3 && cat <&3' | grep -q '^STAT pid '"
}

P=$(free_port)
run_ok "memcached" --tcp "127.0.0.1:$P" --then "$REC; record && $(stats "$P")" \
        -- memcached -l 127.0.0.1 -p "$P" -U 0 "${user[@]}"
check_nothing_left "memcached"

P=$(free_port)
run_ok "memcached -d" --tcp "127.0.0.1:$P" --pid-file "$run/memcached.pid" \
        --then "$REC; record && [ \"\$MIRAKURU_PID\" = \"\$(cat $run/memcached.pid)\" ] && $(stats "$P")" \
        -- memcached -d -P "$run/memcached.pid" -l 127.0.0.1 -p "$P" -U 0 "${user[@]}"
check_nothing_left "memcached -d"
grep -q 'while the --then command was running' "$T/err" && fail "the launcher's exit was reported"
exit 0

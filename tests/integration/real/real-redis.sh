# SPDX-License-Identifier: LGPL-2.1-or-later
# redis 7: --supervised systemd with --notify (the socket stays open: no
# "sd_notify" complaint at shutdown), TCP and Unix probes, and the
# daemonizing mode (--daemonize yes) with --pid-file.
. "$(dirname "$0")/real-lib.sh"
need redis-server redis-server
need redis-cli redis-tools

P=$(free_port)
REC=$(record_service)

# 1. Foreground, sd_notify, every probe that fits.
run_ok "redis --supervised systemd" --verbose --notify --tcp "127.0.0.1:$P" --unix "$T/redis.sock" \
        --then "$REC; record && redis-cli -p $P ping | grep -qx PONG && redis-cli -s $T/redis.sock ping | grep -qx PONG" \
        -- redis-server --port "$P" --bind 127.0.0.1 --unixsocket "$T/redis.sock" --save '' --appendonly no \
        --dir "$T" --supervised systemd --daemonize no --logfile "$T/redis.log"
check_nothing_left "redis --supervised systemd"
grep -q 'STATUS=Ready to accept connections' "$T/err" || fail "STATUS= not shown with --verbose"
if grep -q 'sd_notify' "$T/redis.log"; then
        cat "$T/redis.log" >&2
        fail "redis could not notify (the notify socket was closed)"
fi

# 2. Daemonizing: the launcher exits 0, the daemon named by the pid file
# is the service, and $MIRAKURU_PID.
P=$(free_port)
run_ok "redis --daemonize yes" --pid-file "$T/redis.pid" --tcp "127.0.0.1:$P" \
        --then "$REC; record && [ \"\$MIRAKURU_PID\" = \"\$(cat $T/redis.pid)\" ] && redis-cli -p $P ping | grep -qx PONG" \
        -- redis-server --port "$P" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" \
        --daemonize yes --pidfile "$T/redis.pid" --logfile "$T/redis2.log"
check_nothing_left "redis --daemonize yes"
grep -q 'while the --then command was running' "$T/err" && fail "the launcher's exit was reported"
exit 0

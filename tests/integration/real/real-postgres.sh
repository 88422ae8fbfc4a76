# SPDX-License-Identifier: LGPL-2.1-or-later
# postgresql 15: postgres run directly with every probe that fits (TCP,
# its Unix socket, postmaster.pid, its log line) and --kill-mode mixed (the
# postmaster stops its backends itself: no "canceling statement due to user
# request"); then pg_ctl start, which daemonizes.
. "$(dirname "$0")/real-lib.sh"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || skip "no /usr/lib/postgresql/*/bin: the Debian package postgresql is not installed"
need "$PGBIN/postgres" postgresql
need psql postgresql-client
need pg_isready postgresql-client
USER_=postgres
[ "$(id -u)" = 0 ] || USER_=$(id -un)
[ "$(id -u)" != 0 ] || chown "$USER_" "$T"

as_user "$USER_" "$PGBIN/initdb" -D "$T/data" -U postgres --auth=trust --no-sync > "$T/initdb.log" 2>&1 ||
        { cat "$T/initdb.log" >&2; fail "initdb failed"; }
REC=$(record_service)
run_as=""
[ "$(id -u)" != 0 ] || run_as="setpriv --reuid=$USER_ --regid=$USER_ --init-groups --"

# 1. postgres in the foreground.
P=$(free_port)
run_ok "postgres" --verbose --kill-mode mixed --tcp "127.0.0.1:$P" --unix "$T/.s.PGSQL.$P" \
        --pid-file "$T/data/postmaster.pid" --output 'database system is ready to accept connections' \
        --then "$REC; record && [ \"\$MIRAKURU_PID\" = \"\$(head -1 $T/data/postmaster.pid)\" ] &&
                psql -h 127.0.0.1 -p $P -U postgres -Atc 'select 1' | grep -qx 1 &&
                psql -h $T -p $P -U postgres -Atc 'select 2' | grep -qx 2" \
        -- $run_as "$PGBIN/postgres" -D "$T/data" -k "$T" -p "$P" -c listen_addresses=127.0.0.1 -c fsync=off
check_nothing_left "postgres"
grep -q 'canceling statement due to user request' "$T/out" "$T/err" && fail "postgres saw the stop signal in its backends"
grep -q 'received smart shutdown request\|received fast shutdown request' "$T/err" "$T/out" ||
        fail "postgres did not shut down by itself"

# 2. pg_ctl start: it starts the postmaster, waits until it is ready and
# exits 0; the postmaster (postmaster.pid) is the service from then on.
P=$(free_port)
# postgres listens before it is ready, and pg_ctl logs to its own file: a
# query says when it is (pg_isready), not the port.
run_ok "pg_ctl start" --kill-mode mixed --timeout 120 --pid-file "$T/data/postmaster.pid" --tcp "127.0.0.1:$P" \
        --exec-probe "pg_isready -q -h 127.0.0.1 -p $P" \
        --then "$REC; record && [ \"\$MIRAKURU_PID\" = \"\$(head -1 $T/data/postmaster.pid)\" ] &&
                psql -h 127.0.0.1 -p $P -U postgres -Atc 'select 1' | grep -qx 1" \
        -- $run_as "$PGBIN/pg_ctl" -D "$T/data" -l "$T/pg_ctl.log" -w \
           -o "-k $T -p $P -c listen_addresses=127.0.0.1 -c fsync=off" start
check_nothing_left "pg_ctl start"
grep -q 'while the --then command was running' "$T/err" && fail "pg_ctl's exit was reported"
grep -q 'canceling statement due to user request' "$T/pg_ctl.log" && fail "postgres saw the stop signal in its backends"
exit 0

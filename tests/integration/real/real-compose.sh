# SPDX-License-Identifier: LGPL-2.1-or-later
# A compose file with postgres and redis and an app that depends on both
# being healthy (it uses both before it serves HTTP); the --then command
# uses all three. Nothing of any of them may survive.
. "$(dirname "$0")/real-lib.sh"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || skip "no /usr/lib/postgresql/*/bin: the Debian package postgresql is not installed"
need "$PGBIN/postgres" postgresql
need psql postgresql-client
need redis-server redis-server
need redis-cli redis-tools
need curl curl
USER_=postgres
run_as=""
if [ "$(id -u)" = 0 ]; then
        chown "$USER_" "$T"
        run_as="setpriv --reuid=$USER_ --regid=$USER_ --init-groups --"
else
        USER_=$(id -un)
fi
as_user "$USER_" "$PGBIN/initdb" -D "$T/data" -U postgres --auth=trust --no-sync > "$T/initdb.log" 2>&1 ||
        { cat "$T/initdb.log" >&2; fail "initdb failed"; }

PG=$(free_port) RD=$(free_port) APP=$(free_port)
cat > "$T/services.yaml" <<EOC
processes:
  db:
    command: exec $run_as $PGBIN/postgres -D $T/data -k $T -p $PG -c listen_addresses=127.0.0.1 -c fsync=off
    tcp: 127.0.0.1:$PG
    # postgres listens before it is ready ("the database system is starting
    # up"): the tcp probe alone let the app's psql in too early.
    output: database system is ready to accept connections
    pid_file: $T/data/postmaster.pid
    kill_mode: mixed
    start_timeout: 120
  cache:
    command: exec redis-server --port $RD --bind 127.0.0.1 --save '' --appendonly no --dir $T --supervised systemd
    notify: true
    tcp: 127.0.0.1:$RD
  app:
    command: >-
      psql -h 127.0.0.1 -p $PG -U postgres -Atc 'create table hits (n int)' &&
      redis-cli -p $RD set greeting hello &&
      exec python3 -m http.server --bind 127.0.0.1 --directory $T $APP
    depends_on:
      db:
        condition: process_healthy
      cache:
        condition: process_healthy
    readiness_probe:
      http_get:
        host: 127.0.0.1
        port: $APP
        path: /services.yaml
EOC
cgroups() { # the cgroup of each service's main process, its processes recorded
        cat <<EOS
rec() { cg=\$(sed -n 's/^0:://p' /proc/\$1/cgroup) && cat "$(cgroup_root)\$cg/cgroup.procs" >> $PIDS && echo "\$cg" >> $T/cgroups; }
rec \$(head -1 $T/data/postmaster.pid) && rec \$(redis-cli -p $RD info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p') &&
rec \$(ss -Htlnp "sport = :$APP" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
EOS
}
run_ok "compose" -f "$T/services.yaml" --then "$(cgroups) &&
        psql -h 127.0.0.1 -p $PG -U postgres -Atc 'select count(*) from hits' | grep -qx 0 &&
        redis-cli -p $RD get greeting | grep -qx hello &&
        curl -fsS http://127.0.0.1:$APP/services.yaml | grep -q processes"
[ "$(wc -l < "$T/cgroups")" = 3 ] || fail "compose: not every service's cgroup was recorded"
while read -r cg; do
        [ -d "$(cgroup_root)$cg" ] && fail "compose: the cgroup $cg is still there"
done < "$T/cgroups"
check_nothing_left "compose (postgres, redis, app)"
exit 0

# SPDX-License-Identifier: LGPL-2.1-or-later
# nginx 1.22: in the foreground (daemon off) and in its default daemonizing
# mode, where the launcher forks the master and exits 0: the master (its pid
# file) is the service, supervised in the foreground until a signal and
# with --then alike; HTTP, TCP and pid file probes; --kill-mode mixed.
. "$(dirname "$0")/real-lib.sh"
need nginx nginx

conf() { # conf FILE PORT DAEMON
        mkdir -p "$T/tmp"
        cat > "$1" <<EOC
daemon $3;
worker_processes 2;
pid $T/nginx.pid;
error_log $T/error.log;
events { worker_connections 64; }
http {
        access_log off;
        client_body_temp_path $T/tmp/body;
        proxy_temp_path $T/tmp/proxy;
        fastcgi_temp_path $T/tmp/fastcgi;
        uwsgi_temp_path $T/tmp/uwsgi;
        scgi_temp_path $T/tmp/scgi;
        server {
                listen 127.0.0.1:$2;
                location / { return 200 "ok\n"; }
        }
}
EOC
}
REC=$(record_service)

# 1. daemon off.
P=$(free_port)
conf "$T/fg.conf" "$P" off
run_ok "nginx daemon off" --http "http://127.0.0.1:$P/" --tcp "127.0.0.1:$P" --pid-file "$T/nginx.pid" \
        --then "$REC; record && curl -fsS http://127.0.0.1:$P/ | grep -qx ok" \
        -- nginx -p "$T" -e "$T/error.log" -c "$T/fg.conf"
check_nothing_left "nginx daemon off"

# 2. daemon on, with --then: the master from the pid file is MIRAKURU_PID.
P=$(free_port)
conf "$T/d.conf" "$P" on
run_ok "nginx daemon on" --kill-mode mixed --http "http://127.0.0.1:$P/" --pid-file "$T/nginx.pid" \
        --then "$REC; record && [ \"\$MIRAKURU_PID\" = \"\$(cat $T/nginx.pid)\" ] && sleep 0.3 &&
                curl -fsS http://127.0.0.1:$P/ | grep -qx ok" \
        -- nginx -p "$T" -e "$T/error.log" -c "$T/d.conf"
check_nothing_left "nginx daemon on"
grep -q 'while the --then command was running' "$T/err" && fail "the launcher's exit was reported"

# 3. daemon on, in the foreground: still supervised 2 s later, whichever
# probe (the launcher exits 0 after ready), until SIGINT; then all gone.
for probe in --pid-file --http --tcp; do
        P=$(free_port)
        conf "$T/d.conf" "$P" on
        case $probe in
        --pid-file) arg=$T/nginx.pid ;;
        --http) arg=http://127.0.0.1:$P/ ;;
        --tcp) arg=127.0.0.1:$P ;;
        esac
        rm -f "$T/nginx.pid"
        "$RUN" "$probe" "$arg" -- nginx -p "$T" -e "$T/error.log" -c "$T/d.conf" > "$T/out" 2> "$T/err" < /dev/null &
        run=$!
        i=0
        while ! [ -s "$T/nginx.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        sleep 2
        kill -0 $run 2>/dev/null || { cat "$T/err" >&2; fail "nginx daemon on ($probe): mirakuru-run ended by itself"; }
        master=$(cat "$T/nginx.pid")
        cg=$(sed -n 's/^0:://p' "/proc/$master/cgroup")
        cat "$(cgroup_root)$cg/cgroup.procs" >> "$PIDS"
        echo "$cg" > "$T/service.cgroup"
        kill -INT $run
        rc=0
        wait $run || rc=$?
        [ "$rc" = 0 ] || { cat "$T/err" >&2; fail "nginx daemon on ($probe): exit $rc after SIGINT"; }
        check_nothing_left "nginx daemon on, foreground ($probe)"
done
exit 0

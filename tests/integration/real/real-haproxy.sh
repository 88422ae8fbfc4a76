# SPDX-License-Identifier: LGPL-2.1-or-later
# haproxy 2.6 in master-worker mode with sd_notify (-Ws, --notify): HTTP
# and TCP probes, the --then command talks HTTP to it. Stopped with
# --kill-mode mixed and its soft-stop signal, SIGUSR1, which only the master
# may get (it passes it on to its workers, which finish and exit 0: no
# "exited with code 143"); then with SIGTERM, control-group.
. "$(dirname "$0")/real-lib.sh"
need haproxy haproxy
need curl curl
REC=$(record_service)

P=$(free_port)
cat > "$T/haproxy.cfg" <<EOC
global
        pidfile $T/haproxy.pid
defaults
        mode http
        timeout connect 5s
        timeout client 5s
        timeout server 5s
frontend web
        bind 127.0.0.1:$P
        http-request return status 200 content-type text/plain string ok
EOC
run_ok "haproxy -Ws, soft stop" --verbose --notify --kill-mode mixed --stop-signal USR1 --http "http://127.0.0.1:$P/" --tcp "127.0.0.1:$P" \
        --then "$REC; record && curl -fsS http://127.0.0.1:$P/ | grep -qx ok" \
        -- haproxy -Ws -f "$T/haproxy.cfg"
check_nothing_left "haproxy -Ws, soft stop"
grep -q 'STOPPING=1' "$T/err" || fail "haproxy's STOPPING=1 was not seen"
if grep -q 'exited with code 143' "$T/out" "$T/err"; then
        cat "$T/err" >&2
        fail "a haproxy worker was killed by the stop signal"
fi
grep -q 'had to be killed' "$T/err" && fail "haproxy did not stop by itself"

run_ok "haproxy -Ws, SIGTERM" --notify --http "http://127.0.0.1:$P/" \
        --then "$REC; record && curl -fsS http://127.0.0.1:$P/ | grep -qx ok" \
        -- haproxy -Ws -f "$T/haproxy.cfg"
check_nothing_left "haproxy -Ws, SIGTERM"
exit 0

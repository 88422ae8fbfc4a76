/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --then: the command runs once the service is ready, with MIRAKURU_* in
 * its environment; its status is ours; the service is gone afterwards;
 * a service dying meanwhile and teardown trouble are reported. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-test.h"

static void test_then_status(void **state) {
        char *pid_file = cli_path_in_dir("service.pid"), *child_file = cli_path_in_dir("child.pid");
        CliRun r;
        char *then;

        /* The child writes its pid file from its own process: wait for it
         * (bounded), or the teardown could come first. */
        assert_true(asprintf(&then, "i=0; while [ ! -s '%s' ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done; exit 7",
                             child_file) > 0);
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--output", "^ready$", "--then", then, "--", cli_helper, "pidfile", pid_file,
                                      "child", child_file, "out", "ready", "pause")),
                         7);
        free(then);
        /* Both processes were up (ready after the line), and are gone. */
        pid_t service = cli_pid_from(pid_file), child = cli_pid_from(child_file);
        assert_false(test_pid_alive(service));
        assert_false(test_pid_alive(child));
        assert_string_equal(r.err, "");
        cli_run_done(&r);
        free(pid_file);
        free(child_file);
}

static void test_then_killed_by_signal(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--then", "kill -TERM $$", "--", cli_helper, "pause")),
                         128 + SIGTERM);
        cli_run_done(&r);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--then", "true", "--", cli_helper, "pause")), 0);
        cli_run_done(&r);
}

static void test_then_environment(void **state) {
        char *pid_file = cli_path_in_dir("service.pid"), *env_file = cli_path_in_dir("then.env"), *cmd, *expect, *got;
        CliRun r;

        assert_true(asprintf(&cmd,
                             "echo \"pid=$MIRAKURU_PID name=$MIRAKURU_NAME port=${MIRAKURU_LISTEN_PORT-unset}\" > %s",
                             env_file) > 0);
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--name", "web", "--output", "^ready$", "--then", cmd, "--", cli_helper,
                                      "pidfile", pid_file, "out", "ready", "pause")),
                         0);
        assert_true(asprintf(&expect, "pid=%d name=web port=unset\n", (int) cli_pid_from(pid_file)) > 0);
        got = test_read_file(env_file);
        assert_non_null(got);
        assert_string_equal(got, expect);
        cli_run_done(&r);
        free(got);
        free(expect);
        free(cmd);
        free(pid_file);
        free(env_file);
}

static void test_then_listen(void **state) {
        char *cmd, *sock = cli_path_in_dir("activated.sock"), *cmd2;
        CliRun r;

        /* Port 0: the command learns the chosen port and can connect there. */
        assert_true(asprintf(&cmd, "[ \"${MIRAKURU_LISTEN_PORT:-0}\" != 0 ] && "
                                   "[ \"$MIRAKURU_LISTEN_PORTS\" = \"$MIRAKURU_LISTEN_PORT\" ] && "
                                   "%s connect \"$MIRAKURU_LISTEN_PORT\"",
                             cli_helper) > 0);
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--listen", "127.0.0.1:0", "--output", "^LISTEN_FDS", "--then", cmd, "--",
                                      cli_helper, "listen-fds", "pause")),
                         0);
        assert_non_null(strstr(r.out, "LISTEN_FDS=1 LISTEN_PID=ours\n"));
        cli_run_done(&r);

        assert_true(asprintf(&cmd2, "test -S %s", sock) > 0);
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--listen-unix", sock, "--output", "^LISTEN_FDS", "--then", cmd2, "--",
                                      cli_helper, "listen-fds", "pause")),
                         0);
        assert_non_null(strstr(r.out, "LISTEN_FDS=1 LISTEN_PID=ours\n"));
        cli_run_done(&r);
        free(cmd);
        free(cmd2);
        free(sock);
}

static void test_then_service_dies(void **state) {
        CliRun r;

        /* The command kills the service, then waits for our message: it must
         * come while the command still runs. Our stderr is the command's
         * parent's fd 2. */
        const char *cmd = "kill -KILL $MIRAKURU_PID; i=0; "
                          "while ! grep -q 'while the --then command was running' /proc/$PPID/fd/2; do "
                          "  i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.05; done; exit 5";
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--then", cmd, "--", cli_helper, "pause")), 5);
        assert_non_null(strstr(r.err, "cli-service was killed by SIGKILL while the --then command was running"));
        cli_run_done(&r);
}

static void test_then_teardown_trouble(void **state) {
        char *pid_file = cli_path_in_dir("stubborn.pid");
        CliRun r;

        /* A service that ignores SIGTERM has to be killed: said on stderr,
         * the status stays the command's. */
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--stop-timeout", "0.2", "--output", "^armed$", "--then", "exit 0", "--",
                                      cli_helper, "ignore", "15", "pidfile", pid_file, "out", "armed", "pause")),
                         0);
        assert_non_null(strstr(r.err, "had to be killed"));
        /* Leak forensics: the process that needed the kill signal, by pid and command line. */
        char killed[64];
        snprintf(killed, sizeof killed, "killed: %d ", (int) cli_pid_from(pid_file));
        assert_non_null(strstr(r.err, killed));
        assert_int_equal(cli_count_lines(r.err), 2);
        assert_false(test_pid_alive(cli_pid_from(pid_file)));
        cli_run_done(&r);

        /* --quiet: no warnings. */
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--quiet", "--stop-timeout", "0.2", "--output", "^armed$", "--then", "exit 3",
                                      "--", cli_helper, "ignore", "15", "out", "armed", "pause")),
                         3);
        assert_string_equal(r.err, "");
        cli_run_done(&r);
        free(pid_file);
}

static void test_then_signal_forwarded(void **state) {
        char *pid_file = cli_path_in_dir("then.pid"), *service_pid = cli_path_in_dir("svc.pid"), *cmd;
        CliRun r;

        /* SIGTERM to us while the command runs: passed on to the command,
         * whose status (143) is ours; the service is torn down. */
        assert_true(asprintf(&cmd, "echo $$ > %s.tmp && mv %s.tmp %s; exec %s pause", pid_file, pid_file,
                             pid_file, cli_helper) > 0);
        cli_spawn(&r, test_dir, NULL,
                  ARGS("--output", "^ready$", "--then", cmd, "--", cli_helper, "pidfile", service_pid, "out", "ready",
                       "pause"));
        cli_pid_from(pid_file);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGTERM);
        assert_false(test_pid_alive(cli_pid_from(service_pid)));
        cli_run_done(&r);
        free(cmd);
        free(pid_file);
        free(service_pid);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_then_status),
                cmocka_unit_test(test_then_killed_by_signal),
                cmocka_unit_test(test_then_environment),
                cmocka_unit_test(test_then_listen),
                cmocka_unit_test(test_then_service_dies),
                cmocka_unit_test(test_then_teardown_trouble),
                cmocka_unit_test(test_then_signal_forwarded),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

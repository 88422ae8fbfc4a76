/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Issue 13, item 8: --kill-mode. control-group (the default) sends the
 * stop signal to every process; mixed only to the main process, and the
 * kill signal to what is left after the stop timeout. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-test.h"

static void run_mode(const char *mode, bool expect_term_in_worker) {
        char *log = cli_path_in_dir("worker.log"), *pid_path;
        CliRun r;

        assert_true(asprintf(&pid_path, "%s.pid", log) > 0);
        /* Not the pid file of a worker of an earlier run. */
        (void) unlink(pid_path);
        /* The worker writes its pid file from its own process: wait for it. */
        char *then;
        assert_true(asprintf(&then, "while [ ! -s %s ]; do sleep 0.01; done", pid_path) > 0);
        const char *const with_mode[] = { "--kill-mode", mode, "--stop-timeout", "1", "--then", then, "--",
                                          cli_helper, "child-log", log, "term-exit", "0", "pause", NULL };
        const char *const *args = mode ? with_mode : with_mode + 2;
        int st = cli_run(&r, test_dir, NULL, args);
        fprintf(stderr, "# --kill-mode %s: mirakuru-run's stderr:\n%s", mode ?: "(default)", r.err);
        assert_int_equal(st, 0);
        pid_t worker = cli_pid_from(pid_path);
        assert_false(test_pid_alive(worker));
        char *seen = test_read_file(log);
        if (expect_term_in_worker) {
                assert_non_null(seen);
                assert_string_equal(seen, "TERM\n");
        } else {
                /* Only the main process saw SIGTERM; the worker got SIGKILL
                 * after the stop timeout, and we said so. */
                assert_null(seen);
                assert_non_null(strstr(r.err, "had to be killed"));
                char killed[64];
                snprintf(killed, sizeof killed, "killed: %d ", (int) worker);
                assert_non_null(strstr(r.err, killed));
        }
        free(seen);
        cli_run_done(&r);
        free(then);
        free(pid_path);
        free(log);
}

static void test_default_is_control_group(void **state) {
        run_mode(NULL, true);
}

static void test_control_group(void **state) {
        run_mode("control-group", true);
}

static void test_mixed(void **state) {
        run_mode("mixed", false);
}

/* The same in a compose file: kill_mode. */
static void test_compose_kill_mode(void **state) {
        char *log = cli_path_in_dir("c-worker.log"), *file = cli_path_in_dir("km.yaml"), *pid_path;
        FILE *f = fopen(file, "w");
        CliRun r;

        assert_true(asprintf(&pid_path, "%s.pid", log) > 0);
        /* Not the pid file of a worker of an earlier run. */
        (void) unlink(pid_path);
        assert_non_null(f);
        fprintf(f, "processes:\n  svc:\n    command: exec %s child-log %s term-exit 0 out armed pause\n"
                   "    output: '^armed$'\n    kill_mode: mixed\n    shutdown:\n      timeout_seconds: 1\n",
                cli_helper, log);
        fclose(f);
        char *then;
        assert_true(asprintf(&then, "while [ ! -s %s ]; do sleep 0.01; done", pid_path) > 0);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", then)), 0);
        free(then);
        assert_false(test_pid_alive(cli_pid_from(pid_path)));
        char *seen = test_read_file(log);
        assert_null(seen);
        cli_run_done(&r);

        f = fopen(file, "w");
        assert_non_null(f);
        fprintf(f, "processes:\n  svc:\n    command: exec true\n    kill_mode: process\n");
        fclose(f);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("-f", file)), 2);
        assert_non_null(strstr(r.err, "kill_mode: want control-group or mixed"));
        cli_run_done(&r);
        free(pid_path);
        free(file);
        free(log);
}

/* A compose command runs with /bin/sh -c, and Debian's sh (dash) forks for
 * it: without an exec of the user's, the main process was the shell, so
 * kill_mode: mixed sent the stop signal to the shell (which died of it)
 * and the server itself got only the kill signal, after the stop timeout
 * (postgres: an unclean shutdown 20 s later). A simple command is exec'd,
 * as bash -c (process-compose) does. */
static void test_compose_mixed_plain_command(void **state) {
        char *file = cli_path_in_dir("km-plain.yaml"), *marker = cli_path_in_dir("km-plain.pid");
        FILE *f = fopen(file, "w");
        CliRun r;

        (void) unlink(marker);
        assert_non_null(f);
        /* No exec: the server is the command itself. It exits 0 on SIGTERM. */
        fprintf(f, "processes:\n  svc:\n    command: %s pidfile %s term-exit 0 out armed pause\n"
                   "    output: '^armed$'\n    kill_mode: mixed\n    shutdown:\n      timeout_seconds: 5\n",
                cli_helper, marker);
        fclose(f);
        uint64_t t0 = test_now_usec();
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true")), 0);
        uint64_t took = test_now_usec() - t0;
        fprintf(stderr, "# mirakuru-run's stderr (%.0f ms):\n%s", took / 1000.0, r.err);
        /* The server saw the stop signal and exited; nothing waited for the kill signal. */
        assert_null(strstr(r.err, "had to be killed"));
        assert_true(took < 4 * 1000 * 1000);
        assert_false(test_pid_alive(cli_pid_from(marker)));
        cli_run_done(&r);

        /* A script stays a script: the same with a second command before it. */
        f = fopen(file, "w");
        assert_non_null(f);
        fprintf(f, "processes:\n  svc:\n    command: echo first; exec %s term-exit 0 out armed pause\n"
                   "    output: '^armed$'\n    kill_mode: mixed\n    shutdown:\n      timeout_seconds: 5\n",
                cli_helper);
        fclose(f);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true")), 0);
        assert_non_null(strstr(r.out, "first"));
        assert_null(strstr(r.err, "had to be killed"));
        cli_run_done(&r);
        free(marker);
        free(file);
}

/* With mixed, a launcher that still runs beside the pid file's main
 * process (pg_ctl start, waiting for its server) gets the stop signal too,
 * as systemd's control process does. It got nothing: once its daemon was
 * gone it exited 1 ("could not start server"), and that exit, caused by
 * our stop, was the service's unclean end: exit status 1 in the
 * foreground, "(it had exited uncleanly)" with --then. */
static void test_mixed_launcher_still_running(void **state) {
        char *pid_file = cli_path_in_dir("ml.pid"), *script;
        CliRun r;

        (void) unlink(pid_file);
        assert_true(asprintf(&script,
                             "sh -c 'echo $$ > %s; trap \"exit 0\" TERM; while :; do sleep 0.05; done' & "
                             "wait; echo 'launcher: my server is gone' >&2; exit 1", pid_file) > 0);
        cli_spawn(&r, test_dir, NULL,
                  ARGS("--verbose", "--kill-mode", "mixed", "--pid-file", pid_file, "--stop-timeout", "5", "--shell",
                       "--", script));
        pid_t daemon = cli_pid_from(pid_file);
        usleep(300 * 1000);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        int st = cli_wait(&r);
        fprintf(stderr, "# mirakuru-run's stderr:\n%s", r.err);
        /* Stopped cleanly, by the stop signal: 0, and not waited for the kill signal. */
        assert_int_equal(st, 0);
        assert_null(strstr(r.err, "uncleanly"));
        assert_null(strstr(r.err, "had to be killed"));
        assert_false(test_pid_alive(daemon));
        cli_run_done(&r);
        free(script);
        free(pid_file);
}

static void test_bad_mode(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--kill-mode", "process", "--", cli_helper)), 2);
        assert_non_null(strstr(r.err, "invalid --kill-mode 'process': want control-group or mixed"));
        cli_run_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_is_control_group),
                cmocka_unit_test(test_control_group),
                cmocka_unit_test(test_mixed),
                cmocka_unit_test(test_compose_kill_mode),
                cmocka_unit_test(test_compose_mixed_plain_command),
                cmocka_unit_test(test_mixed_launcher_still_running),
                cmocka_unit_test(test_bad_mode),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

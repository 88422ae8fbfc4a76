/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Foreground supervision: SIGINT/SIGTERM/SIGHUP tear down and exit 0 for
 * a clean stop; a service that exits gives its status; the stop options;
 * output forwarding and --log; the options shaping the service. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-test.h"

/* Waits until mirakuru-run (run with --verbose) said the service is ready. */
static void wait_ready(CliRun *r) {
        if (!cli_wait_text(r->err_path, "is ready (pid", CLI_TIMEOUT_USEC))
                fail_msg("mirakuru-run did not report readiness");
}

static void test_stop_by_signal(void **state) {
        static const int signals[] = { SIGINT, SIGTERM, SIGHUP };

        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
                char *pid_file = cli_path_in_dir("service.pid"), *child_file = cli_path_in_dir("child.pid");
                CliRun r;

                cli_spawn(&r, test_dir, NULL,
                          ARGS("--verbose", "--", cli_helper, "pidfile", pid_file, "child", child_file, "pause"));
                wait_ready(&r);
                pid_t service = cli_pid_from(pid_file), child = cli_pid_from(child_file);
                assert_int_equal(kill(r.pid, signals[i]), 0);
                assert_int_equal(cli_wait(&r), 0);
                assert_false(test_pid_alive(service));
                assert_false(test_pid_alive(child));
                assert_null(strstr(r.err, "had to be killed"));
                cli_run_done(&r);
                free(pid_file);
                free(child_file);
        }
}

static void test_second_signal_kills(void **state) {
        char *pid_file = cli_path_in_dir("stubborn.pid");
        CliRun r;

        /* Ignores SIGTERM and we would wait forever (infinity): a second
         * signal kills at once. */
        cli_spawn(&r, test_dir, NULL,
                  ARGS("--verbose", "--stop-timeout", "infinity", "--output", "^armed$", "--", cli_helper, "ignore",
                       "15", "pidfile", pid_file, "out", "armed", "pause"));
        wait_ready(&r);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        assert_true(cli_wait_text(r.err_path, "stopping cli-service", CLI_TIMEOUT_USEC));
        assert_int_equal(kill(r.pid, SIGINT), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGKILL);
        assert_non_null(strstr(r.err, "killing cli-service now"));
        assert_false(test_pid_alive(cli_pid_from(pid_file)));
        cli_run_done(&r);
        free(pid_file);
}

static void test_killed_supervisor(void **state) {
        char *pid_file = cli_path_in_dir("orphan.pid"), *child_file = cli_path_in_dir("orphan-child.pid");
        CliRun r;

        /* mirakuru-run itself gets SIGKILL: the service tree still goes
         * (the containment's dead man's switch). The bound is generous. */
        cli_spawn(&r, test_dir, NULL,
                  ARGS("--verbose", "--", cli_helper, "pidfile", pid_file, "child", child_file, "pause"));
        wait_ready(&r);
        pid_t service = cli_pid_from(pid_file), child = cli_pid_from(child_file);
        assert_int_equal(kill(r.pid, SIGKILL), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGKILL);
        if (!test_wait_pid_gone(service, 10 * UINT64_C(1000000)) ||
            !test_wait_pid_gone(child, 10 * UINT64_C(1000000))) {
                kill(service, SIGKILL);
                kill(child, SIGKILL);
                fail_msg("the service outlived a killed mirakuru-run; %s", r.err);
        }
        cli_run_done(&r);
        free(pid_file);
        free(child_file);
}

static void test_service_exit_status(void **state) {
        char *pid_file = cli_path_in_dir("service.pid");
        CliRun r;

        assert_int_equal(
                cli_run(&r, test_dir, NULL,
                        ARGS("--output", "^ready$", "--", cli_helper, "out", "ready", "sleep-ms", "200", "exit", "5")),
                5);
        cli_run_done(&r);
        assert_int_equal(
                cli_run(&r, test_dir, NULL,
                        ARGS("--output", "^ready$", "--", cli_helper, "out", "ready", "sleep-ms", "200", "exit", "0")),
                0);
        cli_run_done(&r);

        /* Killed by a signal: 128+N. */
        cli_spawn(&r, test_dir, NULL, ARGS("--verbose", "--", cli_helper, "pidfile", pid_file, "pause"));
        wait_ready(&r);
        assert_int_equal(kill(cli_pid_from(pid_file), SIGKILL), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGKILL);
        cli_run_done(&r);
        free(pid_file);
}

static void test_signal_during_start(void **state) {
        char *pid_file = cli_path_in_dir("service.pid");
        CliRun r;

        cli_spawn(&r, test_dir, NULL, ARGS("--output", "never", "--", cli_helper, "pidfile", pid_file, "pause"));
        pid_t service = cli_pid_from(pid_file);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGTERM);
        assert_false(test_pid_alive(service));
        cli_run_done(&r);
        free(pid_file);
}

static void stop_and_expect(const char *const *args, int expect_status, bool expect_killed) {
        CliRun r;

        cli_spawn(&r, test_dir, NULL, args);
        wait_ready(&r);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        if (cli_wait(&r) != expect_status)
                fail_msg("want exit %d, got %d; stderr: %s", expect_status, r.status, r.err);
        if (expect_killed != (strstr(r.err, "had to be killed") != NULL))
                fail_msg("'had to be killed' %s expected; stderr: %s", expect_killed ? "was" : "was not", r.err);
        cli_run_done(&r);
}

static void test_expect_exit(void **state) {
        /* Exits 143 on SIGTERM, like a JVM: unclean unless expected. */
        stop_and_expect(
                ARGS("--verbose", "--output", "^armed$", "--", cli_helper, "term-exit", "143", "out", "armed", "pause"),
                143, false);
        stop_and_expect(ARGS("--verbose", "--output", "^armed$", "--expect-exit", "143", "--", cli_helper, "term-exit",
                             "143", "out", "armed", "pause"),
                        0, false);
}

static void test_stop_and_kill_signals(void **state) {
        /* Ready once it said it ignores SIGTERM (else our signal could come first). */
        /* Ignores SIGTERM: --stop-signal INT (in every spelling) stops it cleanly. */
        static const char *const spellings[] = { "INT", "SIGINT", "int", "2" };
        for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
                stop_and_expect(ARGS("--verbose", "--stop-signal", spellings[i], "--stop-timeout", "60",
                                     "--output", "^armed$", "--", cli_helper, "ignore", "15", "out", "armed", "pause"),
                                0, false);
        /* With the default stop signal it has to be killed (SIGKILL: 137)... */
        stop_and_expect(ARGS("--verbose", "--stop-timeout", "0.2", "--output", "^armed$", "--", cli_helper, "ignore",
                             "15", "out", "armed", "pause"),
                        128 + SIGKILL, true);
        /* ... or with --kill-signal INT: 130. */
        stop_and_expect(ARGS("--verbose", "--stop-timeout", "0.2", "--kill-signal", "SIGINT", "--output", "^armed$",
                             "--", cli_helper, "ignore", "15", "out", "armed", "pause"),
                        128 + SIGINT, true);
}

static void test_output_forwarding_and_log(void **state) {
        char *log = cli_path_in_dir("service.log"), *content;
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--output", "^second$", "--then", "true", "--", cli_helper, "out", "first", "err",
                                      "second", "pause")),
                         0);
        assert_string_equal(r.out, "first\n");
        assert_string_equal(r.err, "second\n");
        cli_run_done(&r);

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--log", log, "--output", "^second$", "--then", "true", "--", cli_helper, "out",
                                      "first", "err", "second", "pause")),
                         0);
        assert_string_equal(r.out, "");
        assert_string_equal(r.err, "");
        content = test_read_file(log);
        assert_non_null(content);
        assert_non_null(strstr(content, "first\n"));
        assert_non_null(strstr(content, "second\n"));
        cli_run_done(&r);
        free(content);
        free(log);
}

static void test_verbose_and_quiet(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--verbose", "--env", "SECRET_TOKEN=hunter2", "--name", "svc", "--then", "true",
                                      "--", cli_helper, "pause")),
                         0);
        assert_non_null(strstr(r.err, "containment: "));
        assert_non_null(strstr(r.err, "svc is ready (pid"));
        assert_non_null(strstr(r.err, "SECRET_TOKEN"));
        assert_null(strstr(r.err, "hunter2"));
        cli_run_done(&r);

        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--quiet", "--then", "true", "--", cli_helper, "pause")), 0);
        assert_string_equal(r.err, "");
        cli_run_done(&r);

        /* --quiet still says why a start failed. */
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--quiet", "--", "/nonexistent/command")), 127);
        assert_int_equal(cli_count_lines(r.err), 1);
        cli_run_done(&r);
}

static void test_service_options(void **state) {
        char *expect;
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, (const char *const[]) { "MK_TEST_DROP=1", "MK_TEST_KEEP=2", NULL },
                                 ARGS("--cwd", test_dir, "--env", "MK_TEST_SET=a=b", "--unset-env", "MK_TEST_DROP",
                                      "--output", "^cwd: ", "--then", "true", "--", cli_helper, "env", "MK_TEST_SET",
                                      "env", "MK_TEST_DROP", "env", "MK_TEST_KEEP", "cwd", "pause")),
                         0);
        assert_true(asprintf(&expect, "MK_TEST_SET=a=b\nMK_TEST_DROP unset\nMK_TEST_KEEP=2\ncwd: %s\n", test_dir) > 0);
        assert_string_equal(r.out, expect);
        cli_run_done(&r);
        free(expect);

        /* --shell: one string for /bin/sh -c. */
        assert_true(asprintf(&expect, "echo sum=$((1+2)); exec %s pause", cli_helper) > 0);
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--shell", "--output", "^sum=3$", "--then", "true", "--", expect)),
                         0);
        assert_string_equal(r.out, "sum=3\n");
        cli_run_done(&r);
        free(expect);

        /* --containment: the backend asked for is the one used. */
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--verbose", "--containment", "process-group", "--then", "true", "--", cli_helper,
                                      "pause")),
                         0);
        assert_non_null(strstr(r.err, "containment: process-group"));
        cli_run_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stop_by_signal),
                cmocka_unit_test(test_second_signal_kills),
                cmocka_unit_test(test_killed_supervisor),
                cmocka_unit_test(test_service_exit_status),
                cmocka_unit_test(test_signal_during_start),
                cmocka_unit_test(test_expect_exit),
                cmocka_unit_test(test_stop_and_kill_signals),
                cmocka_unit_test(test_output_forwarding_and_log),
                cmocka_unit_test(test_verbose_and_quiet),
                cmocka_unit_test(test_service_options),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

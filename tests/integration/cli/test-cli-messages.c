/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Issue 13, item 9: messages name the URL of an HTTP probe that timed out,
 * say what a Ctrl-C before ready did, quote arguments shell-style and
 * escape control characters wherever a service-controlled string reaches
 * the terminal (--verbose, killed: lines, prefixed compose logs). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-test.h"

static void test_http_timeout_names_url(void **state) {
        char port[8], url[64];
        CliRun r;

        snprintf(port, sizeof port, "%u", cli_free_port());
        snprintf(url, sizeof url, "http://127.0.0.1:%s/health", port);
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--timeout", "1", "--http", url, "--", cli_helper, "http", port, "404")),
                         124);
        char expect[128];
        snprintf(expect, sizeof expect, "waiting for http (%s answered HTTP 404)", url);
        assert_non_null(strstr(r.err, expect));
        cli_run_done(&r);
}

static void test_interrupted_before_ready(void **state) {
        char *pid_file = cli_path_in_dir("slow.pid");
        CliRun r;

        cli_spawn(&r, test_dir, NULL,
                  ARGS("--output", "never", "--", cli_helper, "pidfile", pid_file, "pause"));
        pid_t svc = cli_pid_from(pid_file);
        assert_int_equal(kill(r.pid, SIGINT), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGINT);
        assert_non_null(strstr(r.err, "received SIGINT before cli-service was ready: stopped it"));
        assert_false(test_pid_alive(svc));
        cli_run_done(&r);
        free(pid_file);
}

static void test_verbose_quotes_and_escapes(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--verbose", "--", cli_helper, "out", "", "out", "a b", "out",
                                      "x\nmirakuru-run: forged", "out", "\033[2J", "out", "it's")),
                         0);
        assert_non_null(strstr(r.err, "out '' out 'a b' out $'x\\nmirakuru-run: forged' out $'\\x1b[2J' out 'it'\\''s'\n"));
        /* No line of ours was forged, no ESC reached the terminal. */
        assert_null(strstr(r.err, "\nmirakuru-run: forged"));
        assert_null(strchr(r.err, '\033'));
        cli_run_done(&r);
}

static void test_killed_lines_escaped(void **state) {
        char *pid_file = cli_path_in_dir("esc.pid");
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--stop-timeout", "0.2", "--output", "^armed$", "--then", "true", "--",
                                      cli_helper, "ignore", "15", "pidfile", pid_file, "out", "armed", "err",
                                      "\033]0;title\007", "pause")),
                         0);
        assert_non_null(strstr(r.err, "killed: "));
        assert_non_null(strstr(r.err, "\\x1b]0;title\\x07"));
        /* The service's own stderr is passed through as it is; ours is escaped. */
        for (const char *l = r.err; l; l = strchr(l, '\n')) {
                l += *l == '\n';
                if (strncmp(l, "mirakuru-run:", 13) == 0)
                        assert_null(memchr(l, '\033', strcspn(l, "\n")));
        }
        cli_run_done(&r);
        free(pid_file);
}

static void test_compose_prefixed_lines_escaped(void **state) {
        char *file = cli_path_in_dir("esc.yaml");
        FILE *f = fopen(file, "w");
        CliRun r;

        assert_non_null(f);
        fprintf(f, "processes:\n  svc:\n    command: \"printf 'a\\\\033[2Jb\\\\rc\\\\n'; sleep 60\"\n"
                   "    output: 'c$'\n");
        fclose(f);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true")), 0);
        assert_non_null(strstr(r.out, "svc | a\\x1b[2Jb\\rc\n"));
        assert_null(strchr(r.out, '\033'));
        cli_run_done(&r);
        free(file);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_http_timeout_names_url),
                cmocka_unit_test(test_interrupted_before_ready),
                cmocka_unit_test(test_verbose_quotes_and_escapes),
                cmocka_unit_test(test_killed_lines_escaped),
                cmocka_unit_test(test_compose_prefixed_lines_escaped),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

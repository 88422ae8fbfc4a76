/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run's interface: --help and --version, and bad input: exit 2,
 * exactly one line on stderr, and nothing started. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-test.h"

static void test_help(void **state) {
        CliRun r;
        /* Every name of the contract in issue 5. */
        static const char *const names[] = {
                "--output ", "--output-stream ", "--tcp ", "--unix ", "--http ", "--http-status ",
                "--http-method ", "--http-header ", "--http-data ", "--pid-file ", "--notify",
                "--listen ", "--listen-unix ", "--exec-probe ", "--timeout ", "--stop-signal ",
                "--kill-signal ", "--stop-timeout ", "--expect-exit ", "--env ", "--unset-env ",
                "--cwd ", "--shell", "--no-pre-check", "--containment ", "--name ", "--verbose",
                "--quiet", "--log ", "--help", "--version", "--then ", "MIRAKURU_PID",
                "MIRAKURU_LISTEN_PORT",
        };
        static const char *const statuses[] = { "  2 ", "  3 ", "  4 ", "  124 ", "  125 ", "  126 ", "  127 " };

        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--help")), 0);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (!strstr(r.out, names[i]))
                        fail_msg("--help does not mention '%s'", names[i]);
        for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
                if (!strstr(r.out, statuses[i]))
                        fail_msg("--help does not document exit status '%s'", statuses[i]);
        assert_string_equal(r.err, "");
        cli_run_done(&r);
}

static void test_version(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--version")), 0);
        assert_true(strncmp(r.out, "mirakuru-run ", 13) == 0);
        assert_int_equal(cli_count_lines(r.out), 1);
        cli_run_done(&r);
}

/* Runs mirakuru-run with ARGS; it must exit 2 with one line on stderr that
 * contains EXPECT, without starting the service (which would write a file). */
static void expect_usage_error(const char *const *args, const char *expect) {
        const char *argv[64];
        char *marker;
        size_t n = 0;
        CliRun r;

        assert_true(asprintf(&marker, "%s/started", test_dir) > 0);
        unlink(marker);
        for (; args[n]; n++)
                argv[n] = args[n];
        argv[n] = NULL;
        /* A service for the argument lists that end in "--". */
        if (n > 0 && strcmp(argv[n - 1], "--") == 0) {
                argv[n++] = cli_helper;
                argv[n++] = "pidfile";
                argv[n++] = marker;
                argv[n++] = "pause";
                argv[n] = NULL;
        }

        cli_run(&r, test_dir, NULL, argv);
        if (r.status != 2 || cli_count_lines(r.err) != 1 || !strstr(r.err, expect))
                fail_msg("%s ...: want exit 2 and one line with '%s', got %d and '%s'", args[0],
                         expect, r.status, r.err);
        assert_true(strncmp(r.err, "mirakuru-run: ", 14) == 0);
        assert_int_equal(access(marker, F_OK), -1);
        cli_run_done(&r);
        free(marker);
}

static void test_bad_regex(void **state) {
        expect_usage_error(ARGS("--output", "(unclosed", "--"), "--output");
        expect_usage_error(ARGS("--output", "x", "--output", "a{1", "--"), "a{1");
        expect_usage_error(ARGS("--http", "http://127.0.0.1:1/", "--http-status", "[2", "--"), "--http-status");
        /* Bounded (util/regex-util.h): without the bound, glibc's regcomp()
         * takes ~1 GB and seconds for this one; now refused at once. */
        expect_usage_error(ARGS("--output", "x+++++++++++++++++++++++", "--"),
                           "invalid --output regular expression 'x+++++++++++++++++++++++': quantifiers nest too "
                           "deeply: the pattern would expand to more than 2048 states at offset 11");
        expect_usage_error(ARGS("--output", "(a{1,255}){1,255}", "--"), "quantifiers nest too deeply");
        /* Found by fuzz-regex in CI: seconds in regcomp() before (each
         * "(()|())" more doubles it), refused at once now. */
        expect_usage_error(ARGS("--output",
                                "((()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|())"
                                "(()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|())(()|()))*",
                                "--"),
                           "the pattern can match the empty string in more than 32 ways in a row at offset 43");
        expect_usage_error(ARGS("--http", "http://127.0.0.1:1/", "--http-status", "(2)\\1", "--"),
                           "back-reference \\1 at offset 3: not supported");
}

static void test_bad_url(void **state) {
        expect_usage_error(ARGS("--http", "localhost:8080/health", "--"), "no scheme");
        expect_usage_error(ARGS("--http", "http://", "--"), "no host");
        expect_usage_error(ARGS("--http", "http:///path", "--"), "no host");
        expect_usage_error(ARGS("--http", "ftp://example.org/", "--"), "scheme");
        expect_usage_error(ARGS("--http", "http://exa mple/", "--"), "--http");
}

static void test_bad_port(void **state) {
        expect_usage_error(ARGS("--tcp", "0", "--"), "1 to 65535");
        expect_usage_error(ARGS("--tcp", "65536", "--"), "1 to 65535");
        expect_usage_error(ARGS("--tcp", "localhost:-1", "--"), "--tcp");
        expect_usage_error(ARGS("--tcp", "localhost:", "--"), "--tcp");
        expect_usage_error(ARGS("--tcp", "http", "--"), "--tcp");
        expect_usage_error(ARGS("--tcp", "::1:80", "--"), "brackets");
        expect_usage_error(ARGS("--tcp", "[::1]", "--"), "--tcp");
        expect_usage_error(ARGS("--listen", "65536", "--"), "0 to 65535");
        expect_usage_error(ARGS("--listen", "127.0.0.1:x", "--"), "--listen");
}

static void test_bad_timeout(void **state) {
        expect_usage_error(ARGS("--timeout", "-1", "--"), "--timeout");
        expect_usage_error(ARGS("--timeout", "abc", "--"), "--timeout");
        expect_usage_error(ARGS("--timeout", "", "--"), "--timeout");
        expect_usage_error(ARGS("--timeout", "inf", "--"), "--timeout");
        expect_usage_error(ARGS("--timeout", "1e3", "--"), "--timeout");
        expect_usage_error(ARGS("--stop-timeout", "-0.5", "--"), "--stop-timeout");
        expect_usage_error(ARGS("--stop-timeout", "ten", "--"), "--stop-timeout");
}

static void test_bad_signal(void **state) {
        expect_usage_error(ARGS("--stop-signal", "FOO", "--"), "--stop-signal");
        expect_usage_error(ARGS("--stop-signal", "SIGFOO", "--"), "SIGFOO");
        expect_usage_error(ARGS("--stop-signal", "0", "--"), "--stop-signal");
        expect_usage_error(ARGS("--stop-signal", "99", "--"), "--stop-signal");
        expect_usage_error(ARGS("--kill-signal", "SIG", "--"), "--kill-signal");
}

static void test_bad_env(void **state) {
        expect_usage_error(ARGS("--env", "NOEQUALS", "--"), "NAME=VALUE");
        expect_usage_error(ARGS("--env", "=value", "--"), "NAME=VALUE");
        expect_usage_error(ARGS("--unset-env", "A=B", "--"), "--unset-env");
}

static void test_missing_argument(void **state) {
        expect_usage_error(ARGS("--timeout"), "--timeout needs an argument");
        expect_usage_error(ARGS("--then"), "--then needs an argument");
}

static void test_no_command(void **state) {
        expect_usage_error(ARGS("--tcp", "8080"), "no COMMAND");
        expect_usage_error(ARGS("--verbose"), "no COMMAND");
}

static void test_other_bad_input(void **state) {
        expect_usage_error(ARGS("--bogus", "--"), "unknown option --bogus");
        expect_usage_error(ARGS("-x", "--"), "unknown option -x");
        expect_usage_error(ARGS("--containment", "jail", "--"), "--containment");
        expect_usage_error(ARGS("--output", "x", "--output-stream", "sideways", "--"), "--output-stream");
        expect_usage_error(ARGS("--output-stream", "stdout", "--"), "needs --output");
        expect_usage_error(ARGS("--http-status", "200", "--"), "need --http");
        expect_usage_error(ARGS("--expect-exit", "256", "--"), "--expect-exit");
        expect_usage_error(ARGS("--expect-exit", "-1", "--"), "--expect-exit");
        expect_usage_error(ARGS("--cwd", "/nonexistent/dir", "--"), "--cwd");
        expect_usage_error(ARGS("--cwd", "/dev/null", "--"), "not a directory");
        expect_usage_error(ARGS("--http", "http://127.0.0.1:1/", "--http-header", "NoColon", "--"), "--http-header");
        expect_usage_error(ARGS("--verbose", "--quiet", "--"), "exclude");
        expect_usage_error(ARGS("--shell", "echo", "two"), "one string");
        expect_usage_error(ARGS("--name", "a/b", "--"), "--name");
        expect_usage_error(ARGS("--log", "/nonexistent/dir/log", "--"), "--log");
        expect_usage_error(ARGS(""), "COMMAND");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_help),
                cmocka_unit_test(test_version),
                cmocka_unit_test(test_bad_regex),
                cmocka_unit_test(test_bad_url),
                cmocka_unit_test(test_bad_port),
                cmocka_unit_test(test_bad_timeout),
                cmocka_unit_test(test_bad_signal),
                cmocka_unit_test(test_bad_env),
                cmocka_unit_test(test_missing_argument),
                cmocka_unit_test(test_no_command),
                cmocka_unit_test(test_other_bad_input),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

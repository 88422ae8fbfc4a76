/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every readiness option of mirakuru-run against a real service: the
 * --then command runs only once the probe passed (it checks the thing the
 * probe waited for), and a probe that cannot pass ends in 124. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-test.h"

static void expect_status(const char *const *args, int status) {
        CliRun r;

        if (cli_run(&r, test_dir, NULL, args) != status)
                fail_msg("want exit %d, got %d; stderr: %s", status, r.status, r.err);
        cli_run_done(&r);
}

static void test_output(void **state) {
        /* The line comes late; --then only runs after it. */
        expect_status(ARGS("--output", "^listening on [0-9]+$", "--then", "true", "--", cli_helper, "sleep-ms", "100",
                           "out", "listening on 80", "pause"),
                      0);
        /* --output-stream: stdout only, so a stderr line does not count... */
        expect_status(ARGS("--timeout", "0.5", "--output", "ready", "--output-stream", "stdout", "--", cli_helper,
                           "err", "ready", "pause"),
                      124);
        /* ... and stderr only. */
        expect_status(ARGS("--output", "ready", "--output-stream", "stderr", "--then", "true", "--", cli_helper, "err",
                           "ready", "pause"),
                      0);
        expect_status(ARGS("--output", "ready", "--output-stream", "both", "--then", "true", "--", cli_helper, "err",
                           "ready", "pause"),
                      0);
}

static void test_tcp(void **state) {
        char port[16], address[32], *check;
        snprintf(port, sizeof port, "%u", cli_free_port());
        snprintf(address, sizeof address, "127.0.0.1:%s", port);
        assert_true(asprintf(&check, "%s connect %s", cli_helper, port) > 0);

        expect_status(
                ARGS("--tcp", address, "--then", check, "--", cli_helper, "sleep-ms", "100", "tcp", port, "pause"), 0);
        /* Without HOST: localhost, every address tried (the service is on 127.0.0.1 only). */
        expect_status(ARGS("--tcp", port, "--then", check, "--", cli_helper, "sleep-ms", "100", "tcp", port, "pause"),
                      0);
        expect_status(ARGS("--timeout", "0.5", "--tcp", address, "--", cli_helper, "pause"), 124);
        free(check);
}

static void test_unix(void **state) {
        char *sock = cli_path_in_dir("service.sock"), *check;
        assert_true(asprintf(&check, "test -S %s", sock) > 0);

        expect_status(ARGS("--unix", sock, "--then", check, "--", cli_helper, "sleep-ms", "100", "unix", sock, "pause"),
                      0);
        free(check);
        free(sock);
}

static void test_http(void **state) {
        char port[16], url[64];
        snprintf(port, sizeof port, "%u", cli_free_port());
        snprintf(url, sizeof url, "http://127.0.0.1:%s/health", port);

        expect_status(ARGS("--http", url, "--then", "true", "--", cli_helper, "sleep-ms", "100", "http", port, "200"),
                      0);
        expect_status(ARGS("--http", url, "--http-method", "GET", "--http-header", "X-Test: yes", "--http-header",
                           "Accept: */*", "--http-data", "ping", "--then", "true", "--", cli_helper, "http", port,
                           "204"),
                      0);
        /* A status that does not count, then one that does through --http-status. */
        expect_status(ARGS("--timeout", "1", "--http", url, "--", cli_helper, "http", port, "503"), 124);
        expect_status(
                ARGS("--http", url, "--http-status", "^503$", "--then", "true", "--", cli_helper, "http", port, "503"),
                0);
}

/* libcurl is loaded only when an HTTP probe is used: without --http,
 * mirakuru-run never maps it (its footprint); with --http it does. The
 * --then command looks at its parent's (mirakuru-run's) memory map. */
static void test_curl_loaded_only_for_http(void **state) {
        char port[16], url[64];
        const char *no_curl = "! grep -q libcurl /proc/$PPID/maps";
        const char *curl = "grep -q libcurl /proc/$PPID/maps";

        snprintf(port, sizeof port, "%u", cli_free_port());
        snprintf(url, sizeof url, "http://127.0.0.1:%s/health", port);
        expect_status(ARGS("--then", no_curl, "--", cli_helper, "pause"), 0);
        expect_status(ARGS("--tcp", port, "--then", no_curl, "--", cli_helper, "tcp", port, "pause"), 0);
        expect_status(ARGS("--http", url, "--then", curl, "--", cli_helper, "http", port, "200"), 0);
}

static void test_pid_file(void **state) {
        char *pid_file = cli_path_in_dir("service.pid"), *check;
        assert_true(asprintf(&check, "test -s %s", pid_file) > 0);

        expect_status(ARGS("--pid-file", pid_file, "--then", check, "--", cli_helper, "sleep-ms", "100", "pidfile",
                           pid_file, "pause"),
                      0);
        free(check);
        free(pid_file);
}

static void test_notify(void **state) {
        char *marker = cli_path_in_dir("after-notify"), *check;
        assert_true(asprintf(&check, "test -e %s", marker) > 0);

        /* The service writes the marker before it sends READY=1. */
        expect_status(ARGS("--notify", "--then", check, "--", cli_helper, "sleep-ms", "100", "pidfile", marker,
                           "notify", "READY=1", "pause"),
                      0);
        expect_status(ARGS("--timeout", "0.5", "--notify", "--", cli_helper, "notify", "STATUS=almost", "pause"), 124);
        free(check);
        free(marker);
}

static void test_exec_probe(void **state) {
        char *marker = cli_path_in_dir("exec-marker"), *probe;
        assert_true(asprintf(&probe, "test -e %s", marker) > 0);

        expect_status(ARGS("--exec-probe", probe, "--then", probe, "--", cli_helper, "sleep-ms", "100", "pidfile",
                           marker, "pause"),
                      0);
        expect_status(ARGS("--timeout", "0.5", "--exec-probe", "false", "--", cli_helper, "pause"), 124);
        free(probe);
        free(marker);
}

static void test_all_of(void **state) {
        char port[16], *pid_file = cli_path_in_dir("both.pid"), *check;
        snprintf(port, sizeof port, "%u", cli_free_port());
        assert_true(asprintf(&check, "test -s %s && %s connect %s", pid_file, cli_helper, port) > 0);

        /* Every probe given must pass. */
        expect_status(ARGS("--tcp", port, "--pid-file", pid_file, "--output", "go", "--then", check, "--", cli_helper,
                           "out", "go", "sleep-ms", "100", "tcp", port, "sleep-ms", "100", "pidfile", pid_file,
                           "pause"),
                      0);
        free(check);
        free(pid_file);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output),
                cmocka_unit_test(test_tcp),
                cmocka_unit_test(test_unix),
                cmocka_unit_test(test_http),
                cmocka_unit_test(test_curl_loaded_only_for_http),
                cmocka_unit_test(test_pid_file),
                cmocka_unit_test(test_notify),
                cmocka_unit_test(test_exec_probe),
                cmocka_unit_test(test_all_of),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

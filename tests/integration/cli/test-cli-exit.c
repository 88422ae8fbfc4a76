/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exit statuses of a failed start: 3 exited before ready, 4 something
 * already answers (pre-check), 124 deadline, 126 not executable, 127 not
 * found; each with a message, and no process left behind. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-test.h"

static void test_exited_before_ready(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--output", "never", "--", cli_helper, "out", "some last words", "exit", "1")),
                         3);
        assert_non_null(strstr(r.err, "before it was ready"));
        assert_non_null(strstr(r.err, "some last words"));
        cli_run_done(&r);
}

static void test_pre_check(void **state) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof sa;
        char *marker = cli_path_in_dir("started"), address[64];
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CliRun r;

        /* Something of ours already listens where the probe looks. */
        assert_true(fd >= 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        snprintf(address, sizeof address, "127.0.0.1:%u", ntohs(sa.sin_port));

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--tcp", address, "--", cli_helper, "pidfile", marker, "pause")),
                         4);
        assert_non_null(strstr(r.err, "already answers"));
        assert_int_equal(access(marker, F_OK), -1);
        cli_run_done(&r);

        /* --no-pre-check: started, and ready at once. */
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--no-pre-check", "--tcp", address, "--output", "^started$", "--then", "true",
                                      "--", cli_helper, "pidfile", marker, "out", "started", "pause")),
                         0);
        assert_int_equal(access(marker, F_OK), 0);
        cli_run_done(&r);
        close(fd);
        free(marker);
}

static void test_deadline(void **state) {
        char *pid_file = cli_path_in_dir("service.pid"), *child_file = cli_path_in_dir("child.pid");
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--timeout", "0.5", "--output", "never", "--", cli_helper, "pidfile", pid_file,
                                      "child", child_file, "pause")),
                         124);
        assert_non_null(strstr(r.err, "timed out"));
        assert_false(test_pid_alive(cli_pid_from(pid_file)));
        assert_false(test_pid_alive(cli_pid_from(child_file)));
        cli_run_done(&r);
        free(pid_file);
        free(child_file);
}

static void test_not_executable(void **state) {
        char *file = cli_path_in_dir("not-executable");
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        CliRun r;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
        close(fd);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--", file)), 126);
        assert_int_equal(cli_count_lines(r.err), 1);
        cli_run_done(&r);
        /* A directory is not executable either. */
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--", test_dir)), 126);
        cli_run_done(&r);
        free(file);
}

static void test_not_found(void **state) {
        CliRun r;

        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("--", "/nonexistent/command")), 127);
        assert_non_null(strstr(r.err, "/nonexistent/command"));
        assert_int_equal(cli_count_lines(r.err), 1);
        cli_run_done(&r);
        assert_int_equal(cli_run(&r, test_dir, NULL, ARGS("mirakuru-no-such-command-here")), 127);
        cli_run_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exited_before_ready),
                cmocka_unit_test(test_pre_check),
                cmocka_unit_test(test_deadline),
                cmocka_unit_test(test_not_executable),
                cmocka_unit_test(test_not_found),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

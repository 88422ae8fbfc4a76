/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd notify bridge: under a NOTIFY_SOCKET of the test's own,
 * mirakuru-run sends READY=1 with STATUS= once the service is ready and
 * STOPPING=1 when tearing down; the service never sees our NOTIFY_SOCKET. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli-test.h"

static int notify_fd = -1;
static char *notify_env;

static int setup(void **state) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        cli_setup(state);
        if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify.sock", test_dir) >= (int) sizeof sa.sun_path)
                test_skip_all("temporary directory path too long for a Unix socket");
        notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (notify_fd < 0 || bind(notify_fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -1;
        if (asprintf(&notify_env, "NOTIFY_SOCKET=%s", sa.sun_path) < 0)
                return -1;
        return 0;
}

static int teardown(void **state) {
        close(notify_fd);
        free(notify_env);
        cli_teardown(state);
        return 0;
}

/* Everything that arrived, datagrams separated by "|". */
static char *drain(void) {
        char *all = strdup(""), buf[4096];
        ssize_t n;

        while ((n = recv(notify_fd, buf, sizeof buf - 1, 0)) >= 0) {
                char *joined;
                buf[n] = '\0';
                assert_true(asprintf(&joined, "%s%s|", all, buf) > 0);
                free(all);
                all = joined;
        }
        assert_int_equal(errno, EAGAIN);
        return all;
}

static void test_bridge_then(void **state) {
        const char *const env[] = { notify_env, NULL };
        char *got;
        CliRun r;

        free(drain());
        assert_int_equal(cli_run(&r, test_dir, env,
                                 ARGS("--name", "db", "--output", "NOTIFY_SOCKET", "--then", "true", "--", cli_helper,
                                      "env", "NOTIFY_SOCKET", "pause")),
                         0);
        got = drain();
        /* READY=1 with a STATUS= in one datagram, then STOPPING=1. */
        char *ready = strstr(got, "READY=1\nSTATUS=db is ready (pid ");
        char *stopping = strstr(got, "STOPPING=1");
        if (!ready || !stopping || stopping < ready)
                fail_msg("unexpected notifications: %s", got);
        assert_null(strstr(stopping, "READY=1"));
        /* The service did not see our socket. */
        assert_string_equal(r.out, "NOTIFY_SOCKET unset\n");
        cli_run_done(&r);
        free(got);
}

static void test_bridge_foreground(void **state) {
        const char *const env[] = { notify_env, NULL };
        char *got;
        CliRun r;

        free(drain());
        /* systemd stops a unit with SIGTERM. */
        cli_spawn(&r, test_dir, env, ARGS("--verbose", "--", cli_helper, "pause"));
        assert_true(cli_wait_text(r.err_path, "is ready (pid", CLI_TIMEOUT_USEC));
        got = drain();
        assert_non_null(strstr(got, "READY=1"));
        assert_null(strstr(got, "STOPPING=1"));
        free(got);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        assert_int_equal(cli_wait(&r), 0);
        got = drain();
        assert_non_null(strstr(got, "STOPPING=1"));
        cli_run_done(&r);
        free(got);
}

static void test_bridge_with_notify_probe(void **state) {
        const char *const env[] = { notify_env, NULL };
        char *got;
        CliRun r;

        free(drain());
        /* --notify: the service gets a NOTIFY_SOCKET, but its own, not ours;
         * its READY=1 reaches us only through mirakuru-run's. */
        assert_int_equal(cli_run(&r, test_dir, env,
                                 ARGS("--notify", "--then", "true", "--", cli_helper, "notify",
                                      "READY=1\nSTATUS=svc-own", "pause")),
                         0);
        got = drain();
        assert_null(strstr(got, "svc-own"));
        assert_non_null(strstr(got, "READY=1\nSTATUS="));
        cli_run_done(&r);
        free(got);
}

static void test_bridge_failed_start(void **state) {
        const char *const env[] = { notify_env, NULL };
        char *got;
        CliRun r;

        free(drain());
        assert_int_equal(cli_run(&r, test_dir, env, ARGS("--output", "never", "--", cli_helper, "exit", "1")), 3);
        got = drain();
        assert_null(strstr(got, "READY=1"));
        assert_non_null(strstr(got, "STATUS="));
        cli_run_done(&r);
        free(got);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bridge_then),
                cmocka_unit_test(test_bridge_foreground),
                cmocka_unit_test(test_bridge_with_notify_probe),
                cmocka_unit_test(test_bridge_failed_start),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

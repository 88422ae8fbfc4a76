/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unix probe: a socket appearing in a watched directory, and the pre-check. */
#include "probe-test.h"

static void test_unix_delayed(void **state) {
        char *path = test_path_in(test_dir, "delayed.sock");
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "150", "--unix", path, NULL);

        assert_int_equal(mk_executor_add_unix_probe(e, path), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(path);
}

/* The socket file appears at bind(), 300 us before listen(): the connect
 * tried on its inotify event is refused, and is retried within about a
 * millisecond, not after the back-off (here a minute: only the short retries
 * can find it). Before, the first retry waited for the back-off's first
 * delay (1 ms by default: unix readiness 1.00 ms in bench/). Where the
 * service's own gap between bind() and listen() was longer than the short
 * retries (a loaded machine), the start may time out: then it says nothing. */
static void test_unix_listen_just_after_bind(void **state) {
        char *path = test_path_in(test_dir, "gap.sock"), *gap_file = test_path_in(test_dir, "gap");
        MkExecutor *e = server(2 * MK_USEC_PER_SEC, "--listen-gap-us", "300", "--gap-file", gap_file, "--unix", path, NULL);

        assert_int_equal(mk_executor_set_probe_retry(e, 60 * MK_USEC_PER_SEC, 60 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_add_unix_probe(e, path), 0);
        int r = mk_executor_start(e);
        assert_true(test_wait_file(gap_file, 5 * MK_USEC_PER_SEC));
        char *gap = test_read_file(gap_file);
        assert_non_null(gap);
        fprintf(stderr, "# start %d; the service listened %ld us after bind()\n", r, atol(gap));
        if (atol(gap) < 800)
                assert_int_equal(r, 0);
        if (r == 0)
                assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(gap);
        free(gap_file);
        free(path);
}

/* A stale socket file nobody listens on: refused and retried (with back-off)
 * until the deadline, which then says "connection refused". */
/* The socket's directory appears only with the service. */
static void test_unix_directory_later(void **state) {
        char *sub = test_path_in(test_dir, "later"), *path = test_path_in(sub, "s.sock"), *cmd;
        const char *helper = test_helper("probe-server");

        assert_true(asprintf(&cmd, "sleep 0.1; mkdir '%s' && exec '%s' --unix '%s'", sub, helper, path) > 0);
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, cmd), 0);
        assert_int_equal(mk_executor_set_timeout(e, PASS_TIMEOUT_USEC), 0);
        assert_int_equal(mk_executor_add_unix_probe(e, path), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(path);
        rmdir(sub);
        free(sub);
        free(path);
        free(cmd);
        free((char *) helper);
}

static void test_unix_stale_times_out(void **state) {
        char *path = test_path_in(test_dir, "stale.sock");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        close(fd); /* bound, never listened: the file stays, connects are refused */

        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_add_unix_probe(e, path), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "unix (");
        assert_contains(mk_executor_get_error(e), "connection refused");
        mk_executor_unref(e);
        free(path);
}

static void test_unix_missing_times_out(void **state) {
        char *path = test_path_in(test_dir, "never.sock");
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_unix_probe(e, path), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "does not exist yet");
        mk_executor_unref(e);
        free(path);
}

static void test_unix_pre_check(void **state) {
        char *path = test_path_in(test_dir, "taken.sock"), want[64];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 4), 0);

        MkExecutor *e = server(PASS_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_add_unix_probe(e, path), 0);
        assert_start(e, -EADDRINUSE);
        assert_int_equal(mk_executor_get_pid(e), 0);
        snprintf(want, sizeof want, "held by pid %d (", (int) getpid());
        assert_contains(mk_executor_get_error(e), want);
        assert_int_equal(mk_executor_set_pre_check(e, false), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        close(fd);
        free(path);
}

static void test_unix_bad_arguments(void **state) {
        char longpath[200];
        MkExecutor *e = server(PASS_TIMEOUT_USEC, NULL);

        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = '\0';
        assert_int_equal(mk_executor_add_unix_probe(e, longpath), -EINVAL);
        assert_contains(mk_executor_get_error(e), "longer than a socket address allows");
        assert_int_equal(mk_executor_add_unix_probe(e, ""), -EINVAL);
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unix_delayed),
                cmocka_unit_test(test_unix_listen_just_after_bind),
                cmocka_unit_test(test_unix_directory_later),
                cmocka_unit_test(test_unix_stale_times_out),
                cmocka_unit_test(test_unix_missing_times_out),
                cmocka_unit_test(test_unix_pre_check),
                cmocka_unit_test(test_unix_bad_arguments),
        };
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation: we bind before spawning and pass the sockets with
 * LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES. */
#include "probe2-test.h"

/* Port 0: the kernel picks a port, we report it, and the service accepts
 * on the fd we passed, seeing its own pid in LISTEN_PID. */
static void test_listen_tcp_port_0(void **state) {
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);
        uint16_t port = 0;

        assert_int_equal(mk_executor_add_listen_tcp(e, "127.0.0.1", 0, "web"), 0);
        assert_int_equal(mk_executor_get_listen_port(e, 0, &port), -ENODATA);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_port(e, 0, &port), 0);
        assert_true(port > 0);
        assert_int_equal(mk_executor_get_listen_port(e, 1, &port), -ENXIO);
        assert_string_equal(read_from_tcp(port), "fd=3 name=web pid=ok fds=1 names=web listening=yes\n");
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* A TCP and a Unix socket: fds 3 and 4 in the order added, names joined. */
static void test_listen_tcp_and_unix(void **state) {
        char *path = test_path_in(test_dir, "api.sock");
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);
        uint16_t port = 0;

        assert_int_equal(mk_executor_add_listen_tcp(e, NULL, 0, "web"), 0);
        assert_int_equal(mk_executor_add_listen_unix(e, path, "api"), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_port(e, 0, &port), 0);
        assert_string_equal(read_from_tcp(port), "fd=3 name=web pid=ok fds=2 names=web:api listening=yes\n");
        assert_string_equal(read_from_unix(path), "fd=4 name=api pid=ok fds=2 names=web:api listening=yes\n");

        /* Again after a restart: the socket file is replaced, a new port picked. */
        assert_int_equal(mk_executor_restart(e), 0);
        assert_int_equal(mk_executor_get_listen_port(e, 0, &port), 0);
        assert_string_equal(read_from_unix(path), "fd=4 name=api pid=ok fds=2 names=web:api listening=yes\n");
        assert_string_equal(read_from_tcp(port), "fd=3 name=web pid=ok fds=2 names=web:api listening=yes\n");
        assert_int_equal(mk_executor_stop(e), 0);

        /* The socket file we created goes with the executor. */
        mk_executor_unref(e);
        assert_int_equal(access(path, F_OK), -1);
        free(path);
}

/* Without a name systemd's "unknown" is passed. No fd of ours stays open. */
static void test_listen_unix_unnamed_no_leak(void **state) {
        char *path = test_path_in(test_dir, "plain.sock");
        int fds_before = test_count_fds();
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_listen_unix(e, path, NULL), 0);
        assert_start(e, 0);
        assert_string_equal(read_from_unix(path), "fd=3 name=unknown pid=ok fds=1 names=unknown listening=yes\n");
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        assert_int_equal(test_count_fds(), fds_before);
        free(path);
}

/* The port is taken: start fails before spawning and says why. */
static void test_listen_port_in_use(void **state) {
        uint16_t port = 0;
        int fd = listen_any(AF_INET, &port);
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);

        assert_true(fd >= 0);
        assert_int_equal(mk_executor_add_listen_tcp(e, "localhost", port, NULL), 0);
        assert_start(e, -EADDRINUSE);
        assert_contains(mk_executor_get_error(e), "cannot bind 127.0.0.1:");
        assert_int_equal(mk_executor_get_pid(e), 0);
        mk_executor_unref(e);
        close(fd);
}

/* A live Unix socket at the path is not replaced. */
static void test_listen_unix_in_use(void **state) {
        char *path = test_path_in(test_dir, "live.sock");
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);

        strncpy(un.sun_path, path, sizeof un.sun_path - 1);
        assert_int_equal(bind(fd, (struct sockaddr *) &un, sizeof un), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(mk_executor_add_listen_unix(e, path, "x"), 0);
        assert_start(e, -EADDRINUSE);
        assert_contains(mk_executor_get_error(e), "something already accepts connections on");
        mk_executor_unref(e);
        close(fd);
        assert_int_equal(access(path, F_OK), 0); /* not ours to remove */
        unlink(path);
        free(path);
}

/* The s6 notification fd cannot take a listen fd's number. */
static void test_listen_fd_conflict(void **state) {
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_listen_tcp(e, NULL, 0, NULL), 0);
        assert_int_equal(mk_executor_add_notify_fd_probe(e, 3), 0);
        assert_start(e, -EBUSY);
        assert_contains(mk_executor_get_error(e), "fd 3 is wanted by another probe");
        mk_executor_unref(e);
}

static void test_listen_bad_arguments(void **state) {
        MkExecutor *e = helper_executor("probe2-listen", PASS_TIMEOUT_USEC, NULL);
        uint16_t port;

        assert_int_equal(mk_executor_add_listen_tcp(e, NULL, 0, "a:b"), -EINVAL);
        assert_contains(mk_executor_get_error(e), "invalid name");
        assert_int_equal(mk_executor_add_listen_tcp(e, "no-such-host.invalid", 0, NULL), -EINVAL);
        assert_int_equal(mk_executor_add_listen_unix(e, "", NULL), -EINVAL);
        assert_int_equal(mk_executor_add_listen_unix(e, NULL, NULL), -EINVAL);
        assert_int_equal(mk_executor_get_listen_port(e, 0, &port), -ENXIO);
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_listen_tcp_port_0),
                cmocka_unit_test(test_listen_tcp_and_unix),
                cmocka_unit_test(test_listen_unix_unnamed_no_leak),
                cmocka_unit_test(test_listen_port_in_use),
                cmocka_unit_test(test_listen_unix_in_use),
                cmocka_unit_test(test_listen_fd_conflict),
                cmocka_unit_test(test_listen_bad_arguments),
        };
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Several probes at once: ready only when every one passed; a timeout
 * names only those still unmet. */
#include <sys/stat.h>

#include "probe-test.h"

/* Banner, TCP, Unix socket at once; the pid file 300 ms later. Ready must
 * wait for the pid file: when start returns, it exists. */
static void test_all_of(void **state) {
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port);
        char *sock = test_path_in(test_dir, "multi.sock"), *pid = test_path_in(test_dir, "multi.pid");
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "50", "--banner", "up", "--tcp", spec,
                               "--unix", sock, "--late-ms", "300", "--pid-file", pid, "--rename", NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "^up$", 0), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "localhost", port), 0);
        assert_int_equal(mk_executor_add_unix_probe(e, sock), 0);
        assert_int_equal(mk_executor_add_pid_file_probe(e, pid, true), 0);
        assert_start(e, 0);
        assert_int_equal(test_read_pid_file(pid), mk_executor_get_pid(e));
        assert_int_equal(mk_executor_stop(e), 0);

        /* Probes stay for the next start, and pass again. */
        unlink(pid);
        unlink(sock);
        assert_start(e, 0);
        assert_int_equal(test_read_pid_file(pid), mk_executor_get_pid(e));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(pid);
        unlink(sock);
        free(spec);
        free(sock);
        free(pid);
}

/* Everything but the pid file: the timeout names the pid file probe only. */
static void test_one_unmet(void **state) {
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port);
        char *pid = test_path_in(test_dir, "absent.pid");
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, "--banner", "up", "--tcp", spec, NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "^up$", 0), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_int_equal(mk_executor_add_pid_file_probe(e, pid, false), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "waiting for pid file (");
        assert_not_contains(mk_executor_get_error(e), "tcp (");
        assert_not_contains(mk_executor_get_error(e), "output (");
        mk_executor_unref(e);
        free(spec);
        free(pid);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_of),
                cmocka_unit_test(test_one_unmet),
        };
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}

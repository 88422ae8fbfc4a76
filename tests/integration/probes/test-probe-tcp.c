/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tcp probe against real listeners, and the pre-check. */
#include "probe-test.h"

/* A listener on 127.0.0.1 after a delay. */
static void test_tcp_delayed(void **state) {
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "150", "--tcp", spec, NULL);

        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
}

/* IPv6-only listener on ::1: "localhost" (NULL) must still pass, because
 * every address is tried, not only the first. */
static void test_tcp_ipv6_only_localhost(void **state) {
        if (!have_ipv6_loopback())
                skip();
        uint16_t port = free_port(AF_INET6);
        char *spec = host_port("::1", port);
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "100", "--tcp", spec, NULL);

        assert_int_equal(mk_executor_add_tcp_probe(e, NULL, port), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
}

/* The same for an IPv4-only listener. */
static void test_tcp_ipv4_only_localhost(void **state) {
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "100", "--tcp", spec, NULL);

        assert_int_equal(mk_executor_add_tcp_probe(e, "localhost", port), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
}

/* Nobody listens: a timeout naming the probe and "connection refused". */
static void test_tcp_timeout(void **state) {
        uint16_t port = free_port(AF_INET);
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_set_probe_retry(e, 1000, 20 * 1000), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "start timed out waiting for tcp (127.0.0.1:");
        assert_contains(mk_executor_get_error(e), "connection refused");
        assert_false(mk_executor_is_running(e));
        mk_executor_unref(e);
}

/* Something (this test) already listens: -EADDRINUSE, nothing started,
 * and the message names us as the holder. */
static void test_tcp_pre_check(void **state) {
        uint16_t port = 0;
        int fd = listen_any(AF_INET, &port);
        char *spec, want[64];

        assert_true(fd >= 0);
        spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--tcp", spec, NULL);
        assert_int_equal(mk_executor_add_tcp_probe(e, "localhost", port), 0);
        assert_start(e, -EADDRINUSE);
        assert_int_equal(mk_executor_get_pid(e), 0);
        assert_false(mk_executor_is_running(e));
        snprintf(want, sizeof want, "held by pid %d (", (int) getpid());
        assert_contains(mk_executor_get_error(e), "already answers where the tcp probe looks");
        assert_contains(mk_executor_get_error(e), want);
        mk_executor_unref(e);

        /* Switched off: the service starts, and the probe is satisfied by our socket. */
        e = server(PASS_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_int_equal(mk_executor_set_pre_check(e, false), 0);
        assert_start(e, 0);
        assert_true(mk_executor_get_pid(e) > 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        close(fd);
        free(spec);
}

/* The same on ::1, found through /proc/net/tcp6. */
static void test_tcp_pre_check_ipv6(void **state) {
        uint16_t port = 0;
        int fd;
        char want[64];

        if (!have_ipv6_loopback())
                skip();
        fd = listen_any(AF_INET6, &port);
        assert_true(fd >= 0);
        MkExecutor *e = server(PASS_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_add_tcp_probe(e, "::1", port), 0);
        assert_start(e, -EADDRINUSE);
        snprintf(want, sizeof want, "[::1]:%u accepts connections, held by pid %d (", port, (int) getpid());
        assert_contains(mk_executor_get_error(e), want);
        mk_executor_unref(e);
        close(fd);
}

/* The service exits while the probe retries: -ECHILD at once. */
static void test_tcp_exit_during_probe(void **state) {
        uint16_t port = free_port(AF_INET);
        MkExecutor *e = server(60 * MK_USEC_PER_SEC, "--delay-ms", "100", "--exit", "4", NULL);
        uint64_t t0 = test_now_usec();

        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_start(e, -ECHILD);
        assert_true(test_now_usec() - t0 < 30 * MK_USEC_PER_SEC); /* far below the deadline */
        assert_contains(mk_executor_get_error(e), "exited with status 4");
        assert_contains(mk_executor_get_error(e), "exiting with 4 as asked");
        mk_executor_unref(e);
}

static void test_tcp_bad_arguments(void **state) {
        MkExecutor *e = server(PASS_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_tcp_probe(e, "localhost", 0), -EINVAL);
        assert_contains(mk_executor_get_error(e), "port 0");
        assert_int_equal(mk_executor_add_tcp_probe(e, "", 80), -EINVAL);
        assert_int_equal(mk_executor_set_probe_retry(e, 0, 10), -EINVAL);
        assert_int_equal(mk_executor_set_probe_retry(e, 100, 10), -EINVAL);
        assert_int_equal(mk_executor_set_probe_retry(e, 100, 100), 0);
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tcp_delayed),
                cmocka_unit_test(test_tcp_ipv6_only_localhost),
                cmocka_unit_test(test_tcp_ipv4_only_localhost),
                cmocka_unit_test(test_tcp_timeout),
                cmocka_unit_test(test_tcp_pre_check),
                cmocka_unit_test(test_tcp_pre_check_ipv6),
                cmocka_unit_test(test_tcp_exit_during_probe),
                cmocka_unit_test(test_tcp_bad_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

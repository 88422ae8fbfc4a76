/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tcp and http probes notice a local listener without waiting for
 * their back-off (probe/listen-watch.c): services that listen after a
 * delay, with a retry delay of a minute, must still be found ready within
 * the start timeout. Without the watch the first connect (refused) would be
 * followed by the next one only after RETRY_USEC, and the start would time
 * out. Timing itself belongs to bench/, not here.
 *
 * Wildcard listeners (0.0.0.0, ::) are only created inside a network
 * namespace of our own (root only), where they reach nothing but its
 * loopback. */
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "probe2-test.h"

#define RETRY_USEC (60 * MK_USEC_PER_SEC)
#define WATCH_TIMEOUT_USEC (10 * MK_USEC_PER_SEC)
#define DELAY "300"

/* A probe-server listening at SPEC (HOST:PORT) after DELAY ms, probed by
 * a tcp probe at HOST:PORT that retries once a minute. */
static void assert_tcp_ready(const char *listen_host, const char *probe_host, int family, bool dual_stack) {
        uint16_t port = free_port(family);
        char *spec = host_port(listen_host, port);
        MkExecutor *e = server(WATCH_TIMEOUT_USEC, "--delay-ms", DELAY, "--tcp", spec,
                               dual_stack ? "--dual-stack" : NULL, NULL);

        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, probe_host, port), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
}

static void test_watch_tcp_v4(void **state) {
        assert_tcp_ready("127.0.0.1", "127.0.0.1", AF_INET, false);
}

static void test_watch_tcp_v6(void **state) {
        if (!have_ipv6_loopback())
                skip();
        assert_tcp_ready("::1", "::1", AF_INET6, false);
}

/* "localhost" means both loopbacks: a v4-only and a v6-only listener. */
static void test_watch_tcp_localhost(void **state) {
        assert_tcp_ready("127.0.0.1", "localhost", AF_INET, false);
        if (have_ipv6_loopback())
                assert_tcp_ready("::1", "localhost", AF_INET6, false);
}

/* A v4-mapped IPv6 probe address is the IPv4 listener's. */
static void test_watch_tcp_v4_mapped(void **state) {
        if (!have_ipv6_loopback())
                skip();
        assert_tcp_ready("127.0.0.1", "::ffff:127.0.0.1", AF_INET, false);
}

/* The probe waits on a port that a listener of another process holds on
 * another address (::1 when we probe 127.0.0.1): that listener does not
 * count, and the service's own one, later, does. */
static void test_watch_tcp_other_address(void **state) {
        if (!have_ipv6_loopback())
                skip();
        uint16_t port = 0;
        int fd = listen_any(AF_INET6, &port);
        char *spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(WATCH_TIMEOUT_USEC, "--delay-ms", DELAY, "--tcp", spec, NULL);

        assert_true(fd >= 0);
        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        close(fd);
        free(spec);
}

/* Into a network namespace of our own with its loopback up; false if we
 * may not (not root). The rest of this test process stays there. */
static bool enter_private_netns(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        int fd;

        if (unshare(CLONE_NEWNET) < 0)
                return false;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
        ifr.ifr_flags |= IFF_UP;
        assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
        close(fd);
        return true;
}

/* Wildcard binds, each reached through a loopback address: 0.0.0.0 from
 * 127.0.0.1, a dual-stack :: from 127.0.0.1 and from ::1, a v6-only ::
 * from ::1; and a probe of the wildcard address itself. */
static void test_watch_tcp_wildcard(void **state) {
        if (!enter_private_netns())
                skip();
        assert_tcp_ready("0.0.0.0", "127.0.0.1", AF_INET, false);
        assert_tcp_ready("0.0.0.0", "localhost", AF_INET, false);
        assert_tcp_ready("127.0.0.1", "0.0.0.0", AF_INET, false);
        if (!have_ipv6_loopback())
                return;
        assert_tcp_ready("::", "127.0.0.1", AF_INET, true);
        assert_tcp_ready("::", "::1", AF_INET6, true);
        assert_tcp_ready("::", "::1", AF_INET6, false);
}

static int add_http(MkExecutor *e, const char *url) {
        MkHttpProbe p = { .url = url };
        return mk_executor_add_http_probe(e, &p);
}

/* An HTTP server that listens after a delay, on HOST, probed at URL_HOST. */
static void assert_http_ready(const char *host, const char *url_host, int family, const char *ok_after) {
        uint16_t port = free_port(family);
        char *spec = host_port(host, port), *url;
        MkExecutor *e = helper_executor("probe2-http-server", WATCH_TIMEOUT_USEC, "--tcp", spec, "--delay-ms",
                                        DELAY, "--ok-after", ok_after, NULL);

        assert_true(asprintf(&url, "http://%s:%u/health", url_host, port) > 0);
        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(add_http(e, url), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
        free(url);
}

static void test_watch_http(void **state) {
        assert_http_ready("127.0.0.1", "127.0.0.1", AF_INET, "0");
        assert_http_ready("127.0.0.1", "localhost", AF_INET, "0");
        if (have_ipv6_loopback())
                assert_http_ready("::1", "[::1]", AF_INET6, "0");
}

/* The back-off still governs a wrong status once the service listens:
 * with a minute between retries, a 503 first means a timeout. */
static void test_watch_http_status_backs_off(void **state) {
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port), *url;
        MkExecutor *e = helper_executor("probe2-http-server", FAIL_TIMEOUT_USEC, "--tcp", spec, "--delay-ms",
                                        DELAY, "--ok-after", "1", NULL);

        assert_true(asprintf(&url, "http://127.0.0.1:%u/health", port) > 0);
        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(add_http(e, url), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "HTTP 503");
        mk_executor_unref(e);
        free(spec);
        free(url);
}

/* Without a listener the probe still times out, saying what it saw. */
static void test_watch_tcp_nobody(void **state) {
        uint16_t port = free_port(AF_INET);
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "connection refused");
        mk_executor_unref(e);
}

/* With the watch off (mk_executor_set_listen_poll(e, 0)), the backing-off
 * connects alone find the service, as for a remote host; with a minute
 * between them, they do not within the timeout: the watch is what made the
 * tests above pass. */
static void test_watch_off_falls_back_to_connects(void **state) {
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(WATCH_TIMEOUT_USEC, "--delay-ms", DELAY, "--tcp", spec, NULL);

        assert_int_equal(mk_executor_set_listen_poll(e, 50), -EINVAL);
        assert_int_equal(mk_executor_set_listen_poll(e, 0), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);

        assert_int_equal(mk_executor_set_timeout(e, FAIL_TIMEOUT_USEC), 0);
        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "connection refused");

        /* And on again, at another interval. */
        assert_int_equal(mk_executor_set_listen_poll(e, 2000), 0);
        assert_int_equal(mk_executor_set_timeout(e, WATCH_TIMEOUT_USEC), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_watch_tcp_v4),
                cmocka_unit_test(test_watch_tcp_v6),
                cmocka_unit_test(test_watch_tcp_localhost),
                cmocka_unit_test(test_watch_tcp_v4_mapped),
                cmocka_unit_test(test_watch_tcp_other_address),
                cmocka_unit_test(test_watch_http),
                cmocka_unit_test(test_watch_http_status_backs_off),
                cmocka_unit_test(test_watch_tcp_nobody),
                cmocka_unit_test(test_watch_off_falls_back_to_connects),
                /* Last: it leaves the test process in its own network namespace. */
                cmocka_unit_test(test_watch_tcp_wildcard),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The notify probes: sd_notify on a private socket (who may send, what is
 * understood) and the s6 notification fd. */
#include <sys/socket.h>

#include "probe2-test.h"

static const MkContainment kinds[] = {
        MK_CONTAINMENT_PROCESS_GROUP,
        MK_CONTAINMENT_CGROUP,
        MK_CONTAINMENT_SYSTEMD,
};

/* Starts E with containment KIND expecting WANT; false (and a note) when
 * this machine cannot offer KIND. */
static bool start_with(MkExecutor *e, MkContainment kind, int want) {
        int r;

        assert_int_equal(mk_executor_set_containment(e, kind), 0);
        r = mk_executor_start(e);
        if (r != want && mk_executor_get_error(e) &&
            strstr(mk_executor_get_error(e), "no containment backend")) {
                fprintf(stderr, "note: %s containment not available here: %s\n",
                        mk_containment_to_string(kind), mk_executor_get_error(e));
                return false;
        }
        if (r != want)
                fprintf(stderr, "start (%s): %d (%s), wanted %d; error: %s\n",
                        mk_containment_to_string(kind), r, strerror(-r), want,
                        mk_executor_get_error(e) ?: "-");
        assert_int_equal(r, want);
        return true;
}

/* READY=1 from the main process; STATUS= and MAINPID= are kept. */
static void test_notify_ready(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, "ready", NULL);

        assert_int_equal(mk_executor_add_notify_probe(e), 0);
        assert_null(mk_executor_get_notify_status(e));
        assert_start(e, 0);
        assert_string_equal(mk_executor_get_notify_status(e), "serving");
        assert_int_equal(mk_executor_get_notify_main_pid(e), mk_executor_get_pid(e));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* A grandchild of the service belongs to it: accepted, on every backend
 * this machine has. */
static void test_notify_grandchild(void **state) {
        unsigned ran = 0;

        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
                MkExecutor *e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, "grandchild", NULL);
                assert_int_equal(mk_executor_add_notify_probe(e), 0);
                if (start_with(e, kinds[i], 0)) {
                        assert_string_equal(mk_executor_get_notify_status(e), "hello from a grandchild");
                        assert_int_equal(mk_executor_stop(e), 0);
                        ran++;
                }
                mk_executor_unref(e);
        }
        assert_true(ran > 0);
}

/* The test process is no part of the service: its READY=1 is ignored,
 * counted, and the start times out showing the service's STATUS=. */
static void send_ready_from_outside(MkExecutor *e, MkStream stream, const char *line, size_t length,
                                    void *userdata) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *prefix = "NOTIFY_SOCKET=";
        size_t n;
        int fd;

        if (length <= strlen(prefix) || strncmp(line, prefix, strlen(prefix)) != 0)
                return;
        n = length - strlen(prefix);
        assert_true(n < sizeof sa.sun_path);
        memcpy(sa.sun_path, line + strlen(prefix), n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_true(sendto(fd, "READY=1", 7, 0, (struct sockaddr *) &sa,
                           (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) == 7);
        close(fd);
        (*(int *) userdata)++;
}

static void test_notify_outsider_rejected(void **state) {
        unsigned ran = 0;

        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
                MkExecutor *e = helper_executor("probe2-notify", 3 * MK_USEC_PER_SEC, "status",
                                                "waiting for godot", NULL);
                int sent = 0;
                assert_int_equal(mk_executor_add_notify_probe(e), 0);
                assert_int_equal(mk_executor_set_line_handler(e, send_ready_from_outside, &sent), 0);
                if (start_with(e, kinds[i], -ETIMEDOUT)) {
                        assert_int_equal(sent, 1);
                        assert_contains(mk_executor_get_error(e), "notify (STATUS=waiting for godot");
                        assert_contains(mk_executor_get_error(e), "ignored 1 datagram from processes outside the service");
                        ran++;
                }
                mk_executor_unref(e);
        }
        assert_true(ran > 0);
}

/* EXTEND_TIMEOUT_USEC= moves the deadline: a 1 s start timeout, extended to
 * 30 s, and READY=1 only after 2 s. */
static void test_notify_extend_timeout(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", MK_USEC_PER_SEC, "extend", "30000000", "2000", NULL);

        assert_int_equal(mk_executor_add_notify_probe(e), 0);
        assert_start(e, 0);
        assert_string_equal(mk_executor_get_notify_status(e), "extended");
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* Oversized datagrams, NUL bytes, junk lines and bad numbers are ignored. */
static void test_notify_junk(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, "junk", NULL);

        assert_int_equal(mk_executor_add_notify_probe(e), 0);
        assert_start(e, 0);
        assert_string_equal(mk_executor_get_notify_status(e), "after junk");
        assert_int_equal(mk_executor_get_notify_main_pid(e), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* s6: a newline on fd 3; on fd 5 (3 and 4 are then /dev/null). */
static void test_notify_fd(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, "fd", "3", NULL);

        assert_int_equal(mk_executor_add_notify_fd_probe(e, 3), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);

        e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, "fd", "5", NULL);
        assert_int_equal(mk_executor_add_notify_fd_probe(e, 5), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* The fd closed without a newline: nobody can signal any more; fail fast. */
static void test_notify_fd_closed(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, "fd-close", "4", NULL);

        assert_int_equal(mk_executor_add_notify_fd_probe(e, 4), 0);
        assert_start(e, -EPIPE);
        assert_contains(mk_executor_get_error(e), "without a newline");
        mk_executor_unref(e);
}

/* Never ready: the timeout names the probe and the fd. */
static void test_notify_fd_times_out(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", FAIL_TIMEOUT_USEC, "status", "x", NULL);

        assert_int_equal(mk_executor_add_notify_fd_probe(e, 3), 0);
        assert_int_equal(mk_executor_set_env(e, "NOTIFY_SOCKET", "@mirakuru-test-nowhere"), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "notify-fd (no newline on fd 3 yet)");
        mk_executor_unref(e);
}

static void test_notify_bad_arguments(void **state) {
        MkExecutor *e = helper_executor("probe2-notify", PASS_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_notify_fd_probe(e, 2), -EINVAL);
        assert_int_equal(mk_executor_add_notify_fd_probe(e, -1), -EINVAL);
        assert_int_equal(mk_executor_add_notify_probe(e), 0);
        assert_int_equal(mk_executor_add_notify_probe(e), -EEXIST);
        assert_int_equal(mk_executor_get_notify_main_pid(e), 0);
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_notify_ready),
                cmocka_unit_test(test_notify_grandchild),
                cmocka_unit_test(test_notify_outsider_rejected),
                cmocka_unit_test(test_notify_extend_timeout),
                cmocka_unit_test(test_notify_junk),
                cmocka_unit_test(test_notify_fd),
                cmocka_unit_test(test_notify_fd_closed),
                cmocka_unit_test(test_notify_fd_times_out),
                cmocka_unit_test(test_notify_bad_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

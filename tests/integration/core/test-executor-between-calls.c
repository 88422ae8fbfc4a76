/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a test suite meets between library calls (issue 12): a test body
 * that makes no call, with the executor on the library's own loop and on
 * a loop the caller attached but does not run. Output is drained, the
 * capture is complete at readiness, the state is current when asked, the
 * start deadline and stop timeout fire on time, and an output fd that is
 * not read never holds up the supervisor. */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "core-test.h"

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000), .tv_nsec = (long) (usec % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static MkExecutor *shell(const char *script) {
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, script), 0);
        return e;
}

/* The service writes 64 MB after it is ready; the test sleeps 3 s with no
 * library call. Every write must complete (nothing blocks on a full pipe)
 * and the capture holds the newest bytes. OWN_LOOP: a loop of the caller's
 * that it never runs after the start. */
static void drain_while_sleeping(bool own_loop) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *done = test_path_in(dir, "done");
        _cleanup_free_ char *script = NULL;
        sd_event *loop = NULL;

        /* valgrind copies a hundred times slower: 8 MB there (still 128 pipefuls). */
        assert_true(asprintf(&script, "echo ready; head -c %d /dev/zero | tr '\\0' x; : > '%s'; exec sleep 1000",
                             test_under_valgrind() ? 8 << 20 : 64 << 20, done) > 0);
        MkExecutor *e = shell(script);
        if (own_loop) {
                assert_int_equal(sd_event_new(&loop), 0);
                assert_int_equal(mk_executor_attach_event(e, loop, 0), 0);
        }
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_capture_size(e, 4096), 0);
        assert_int_equal(mk_executor_start(e), 0);

        /* The test body: no library call at all. */
        sleep_usec(3 * MK_USEC_PER_SEC);
        struct stat st;
        assert_int_equal(stat(done, &st), 0); /* all 64 MB were written */

        _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
        assert_int_equal(strlen(out), 4096);
        for (size_t i = 0; i < 4096; i++)
                if (out[i] != 'x')
                        fail_msg("byte %zu of the capture is %d, not 'x'", i, out[i]);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        sd_event_unref(loop);
        test_rm_rf(dir);
}

static void test_drain_between_calls_default_loop(void **state) {
        drain_while_sleeping(false);
}

static void test_drain_between_calls_loop_not_run(void **state) {
        drain_while_sleeping(true);
}

/* Every byte written before the event that made the service ready is in
 * the capture when start() returns, on both streams. */
static void test_capture_complete_at_ready(void **state) {
        for (int run = 0; run < 20; run++) {
                _cleanup_(mk_executor_unrefp) MkExecutor *e =
                        shell("echo oops >&2; printf 'partial '; echo ready; exec sleep 1000");
                assert_int_equal(mk_executor_add_output_probe(e, "ready", MK_STREAM_STDOUT), 0);
                assert_int_equal(mk_executor_start(e), 0);
                _cleanup_free_ char *err = output_of(e, MK_STREAM_STDERR);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(err, "oops\n");
                assert_string_equal(out, "partial ready\n");
                assert_int_equal(mk_executor_stop(e), 0);
        }
}

/* Waits (in the test, without the library) until PID is a zombie: the
 * service has exited and nobody reaped it yet. */
static void wait_zombie(pid_t pid) {
        char path[64], buf[512];
        uint64_t until = test_now_usec() + WAIT_USEC;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        for (;;) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
                if (fd >= 0)
                        close(fd);
                if (n > 0) {
                        buf[n] = '\0';
                        const char *p = strrchr(buf, ')');
                        if (p && p[1] == ' ' && p[2] == 'Z')
                                return;
                }
                assert_true(test_now_usec() < until);
                sleep_usec(200);
        }
}

/* The state is current the moment the service has exited, without the
 * caller making any other call first. */
static void state_after_exit(bool own_loop) {
        sd_event *loop = NULL;

        for (int run = 0; run < 10; run++) {
                MkExecutor *e = shell("echo up; sleep 0.05; exit 5");
                MkExit x;
                if (own_loop) {
                        assert_int_equal(sd_event_new(&loop), 0);
                        assert_int_equal(mk_executor_attach_event(e, loop, 0), 0);
                }
                assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
                assert_int_equal(mk_executor_start(e), 0);
                pid_t pid = mk_executor_get_pid(e);
                assert_true(pid > 0);
                wait_zombie(pid);
                /* No call in between: the first calls already see the exit. */
                assert_false(mk_executor_is_running(e));
                assert_int_equal(mk_executor_get_state(e), MK_STATE_EXITED);
                assert_int_equal(mk_executor_get_exit(e, &x), 0);
                assert_int_equal(x.code, CLD_EXITED);
                assert_int_equal(x.status, 5);
                assert_int_equal(mk_executor_stop(e), -ECHILD);
                mk_executor_unref(e);
                loop = sd_event_unref(loop);
        }
}

static void test_state_current_default_loop(void **state) {
        state_after_exit(false);
}

static void test_state_current_loop_not_run(void **state) {
        state_after_exit(true);
}

/* The exit handler still runs, from the loop, for an exit a getter found. */
static void on_exit_count(MkExecutor *e, const MkExit *x, void *userdata) {
        (*(unsigned *) userdata)++;
}

static void test_exit_handler_after_refresh(void **state) {
        unsigned calls = 0;
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("echo up; sleep 0.05; exit 0");

        assert_int_equal(mk_executor_set_exit_handler(e, on_exit_count, &calls), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        wait_zombie(mk_executor_get_pid(e));
        assert_false(mk_executor_is_running(e));
        assert_int_equal(calls, 0); /* never from inside a getter */
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        while (sd_event_run(mk_executor_get_event(e), 0) > 0)
                ;
        assert_int_equal(calls, 1);
        assert_int_equal(mk_executor_stop(e), 0);
        assert_int_equal(calls, 1);
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

#define RUNS 20
#define DEADLINE_USEC (300 * MK_USEC_PER_MSEC)

/* Checks RUNS durations against WANT: never early, the median within 5 ms
 * (sd-event's default timer accuracy let them slip by up to 250 ms), and
 * none far off (a noisy, shared machine may delay a run by a scheduling
 * hiccup, not by a timer's slack). */
static void check_durations(uint64_t *d, uint64_t want, const char *what) {
        qsort(d, RUNS, sizeof *d, compare_u64);
        fprintf(stderr, "# %s: min %.2f ms, median %.2f ms, max %.2f ms (want %.0f ms)\n", what,
                d[0] / 1e3, d[RUNS / 2] / 1e3, d[RUNS - 1] / 1e3, want / 1e3);
        /* valgrind runs everything (the teardown too) tens of times slower */
        uint64_t slack = test_under_valgrind() ? 20 : 1;
        assert_true(d[0] >= want);
        assert_true(d[RUNS / 2] <= want + slack * 5 * MK_USEC_PER_MSEC);
        assert_true(d[RUNS - 1] <= want + slack * 200 * MK_USEC_PER_MSEC);
}

static void test_start_deadline_on_time(void **state) {
        uint64_t d[RUNS];

        for (int run = 0; run < RUNS; run++) {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("exec sleep 1000");
                assert_int_equal(mk_executor_add_output_probe(e, "never", MK_STREAM_BOTH), 0);
                assert_int_equal(mk_executor_set_timeout(e, DEADLINE_USEC), 0);
                uint64_t t0 = test_now_usec();
                assert_int_equal(mk_executor_start(e), -ETIMEDOUT);
                d[run] = test_now_usec() - t0;
        }
        check_durations(d, DEADLINE_USEC, "start deadline");
}

static void test_stop_timeout_on_time(void **state) {
        uint64_t d[RUNS];

        for (int run = 0; run < RUNS; run++) {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("trap '' TERM; echo up; exec sleep 1000");
                assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
                assert_int_equal(mk_executor_set_stop_timeout(e, DEADLINE_USEC), 0);
                assert_int_equal(mk_executor_start(e), 0);
                uint64_t t0 = test_now_usec();
                assert_int_equal(mk_executor_stop(e), 1); /* killed after the timeout */
                d[run] = test_now_usec() - t0;
        }
        check_durations(d, DEADLINE_USEC, "stop timeout");
}

/* An output fd that nobody reads holds up neither the start deadline nor
 * the draining into the capture; a reader that goes away ends the copy,
 * not the draining. */
static void test_unread_output_fd_does_not_block(void **state) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("exec yes");
        assert_int_equal(mk_executor_set_output_fd(e, MK_STREAM_STDOUT, p[1]), 0);
        close(p[1]);
        assert_int_equal(mk_executor_add_output_probe(e, "never", MK_STREAM_BOTH), 0);
        assert_int_equal(mk_executor_set_timeout(e, DEADLINE_USEC), 0);
        uint64_t t0 = test_now_usec();
        assert_int_equal(mk_executor_start(e), -ETIMEDOUT);
        /* (before, it never returned; valgrind matches lines slowly) */
        assert_true(test_now_usec() - t0 < DEADLINE_USEC + (test_under_valgrind() ? 60 : 2) * MK_USEC_PER_SEC);
        close(p[0]);
}

static void test_output_fd_reader_gone(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *done = test_path_in(dir, "done");
        _cleanup_free_ char *script = NULL;
        int p[2];

        assert_true(asprintf(&script, "echo ready; head -c 4194304 /dev/zero; : > '%s'; exec sleep 1000", done) > 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell(script);
        assert_int_equal(mk_executor_set_output_fd(e, MK_STREAM_STDOUT, p[1]), 0);
        close(p[1]);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        char buf[6];
        assert_int_equal(read(p[0], buf, sizeof buf), 6); /* the copy works: "ready\n" */
        assert_memory_equal(buf, "ready\n", 6);
        close(p[0]); /* the reader goes away (EPIPE) */
        assert_true(test_wait_file(done, WAIT_USEC));
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_stop(e), 0);
        test_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_drain_between_calls_default_loop),
                cmocka_unit_test(test_drain_between_calls_loop_not_run),
                cmocka_unit_test(test_capture_complete_at_ready),
                cmocka_unit_test(test_state_current_default_loop),
                cmocka_unit_test(test_state_current_loop_not_run),
                cmocka_unit_test(test_exit_handler_after_refresh),
                cmocka_unit_test(test_start_deadline_on_time),
                cmocka_unit_test(test_stop_timeout_on_time),
                cmocka_unit_test(test_unread_output_fd_does_not_block),
                cmocka_unit_test(test_output_fd_reader_gone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test fixture pattern of docs/libmirakuru.3.md, as a test suite holds
 * an executor: started in setup, used by the test body, stopped and freed
 * in teardown, also when the test fails and cmocka unwinds its stack with
 * longjmp. No callback of the caller's may run once a stop, kill or the
 * last unref has begun: their userdata may be gone (issue 12, item 6). */
#include <fcntl.h>
#include <setjmp.h>

#include "core-test.h"

/* A service that prints all the time, and more when it is told to stop. */
#define CHATTY "trap 'echo stopping; echo bye >&2; exit 0' TERM; echo up; while :; do echo tick; sleep 0.005; done"

static bool callbacks_forbidden;
static unsigned forbidden_calls;

typedef struct Frame {
        unsigned magic;
        unsigned lines;
} Frame;

static void on_line(MkExecutor *e, MkStream stream, const char *line, size_t length, void *userdata) {
        if (callbacks_forbidden) {
                forbidden_calls++;
                return; /* userdata points into a frame that is gone */
        }
        ((Frame *) userdata)->lines++;
}

static void on_exit_(MkExecutor *e, const MkExit *x, void *userdata) {
        if (callbacks_forbidden)
                forbidden_calls++;
}

static MkExecutor *chatty(void) {
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, CHATTY), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
        return e;
}

/* Sets the handlers with userdata on this frame, starts, and returns with
 * the frame gone. */
static MkExecutor *start_with_frame(void) {
        Frame frame = { .magic = 0x600d };
        callbacks_forbidden = false;
        MkExecutor *e = chatty();
        assert_int_equal(mk_executor_set_line_handler(e, on_line, &frame), 0);
        assert_int_equal(mk_executor_set_exit_handler(e, on_exit_, &frame), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, 50 * MK_USEC_PER_MSEC), -ETIMEDOUT); /* some ticks */
        assert_true(frame.lines > 0);
        return e;
}

static void test_no_callback_during_stop(void **state) {
        MkExecutor *e = start_with_frame();
        callbacks_forbidden = true;
        forbidden_calls = 0;
        assert_int_equal(mk_executor_stop(e), 0);
        assert_int_equal(forbidden_calls, 0);
        /* what it printed while stopping is captured all the same */
        _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
        _cleanup_free_ char *err = output_of(e, MK_STREAM_STDERR);
        assert_contains(out, "stopping\n");
        assert_contains(err, "bye\n");
        mk_executor_unref(e);
        assert_int_equal(forbidden_calls, 0);
        callbacks_forbidden = false;
}

static void test_no_callback_during_unref(void **state) {
        MkExecutor *e = start_with_frame();
        callbacks_forbidden = true;
        forbidden_calls = 0;
        pid_t pid = mk_executor_get_pid(e);
        mk_executor_unref(e); /* stops it */
        assert_false(test_pid_alive(pid));
        assert_int_equal(forbidden_calls, 0);
        callbacks_forbidden = false;
}

static void test_no_callback_during_kill(void **state) {
        MkExecutor *e = start_with_frame();
        callbacks_forbidden = true;
        forbidden_calls = 0;
        assert_int_equal(mk_executor_kill(e, SIGTERM, true), 0);
        assert_int_equal(forbidden_calls, 0);
        mk_executor_unref(e);
        callbacks_forbidden = false;
}

/* A caller whose userdata outlives the executor (a log forwarder) may ask
 * for the lines printed while the service stops; never in the last unref. */
static void test_callbacks_during_stop_on_request(void **state) {
        Frame frame = { .magic = 0x600d };
        MkExecutor *e = chatty();

        callbacks_forbidden = false;
        assert_int_equal(mk_executor_set_callbacks_during_stop(e, true), 0);
        assert_int_equal(mk_executor_set_line_handler(e, on_line, &frame), 0);
        assert_int_equal(mk_executor_start(e), 0);
        unsigned before = frame.lines;
        assert_int_equal(mk_executor_stop(e), 0);
        assert_true(frame.lines > before); /* "stopping", "bye" at least */

        assert_int_equal(mk_executor_start(e), 0);
        callbacks_forbidden = true;
        forbidden_calls = 0;
        mk_executor_unref(e);
        assert_int_equal(forbidden_calls, 0);
        callbacks_forbidden = false;
}

/* The real thing: a cmocka group in a child process whose test fails (a
 * longjmp out of the test body, its frame gone) and whose teardown stops
 * and frees the executor. The child must end with cmocka's "1 failed",
 * not a crash, and no callback may have run after the failure. */
static MkExecutor *fixture_e;
static int report_fd = -1;

static int fixture_setup(void **state) {
        fixture_e = chatty();
        return 0;
}

static void failing_body(void **state) {
        Frame frame = { .magic = 0x600d };
        assert_int_equal(mk_executor_set_line_handler(fixture_e, on_line, &frame), 0);
        assert_int_equal(mk_executor_set_exit_handler(fixture_e, on_exit_, &frame), 0);
        if (mk_executor_start(fixture_e) != 0)
                fail_msg("start: %s", mk_executor_get_error(fixture_e));
        callbacks_forbidden = true; /* from the failure on */
        fail_msg("a test that fails while the service runs (expected)");
}

static int fixture_teardown(void **state) {
        (void) mk_executor_stop(fixture_e);
        fixture_e = mk_executor_unref(fixture_e);
        (void) !write(report_fd, &forbidden_calls, sizeof forbidden_calls);
        return 0;
}

static void test_longjmp_fixture(void **state) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                const struct CMUnitTest inner[] = {
                        cmocka_unit_test_setup_teardown(failing_body, fixture_setup, fixture_teardown),
                };
                close(p[0]);
                report_fd = p[1];
                /* cmocka's report of the expected failure is not this suite's */
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                callbacks_forbidden = false;
                forbidden_calls = 0;
                _exit(cmocka_run_group_tests_name("inner fixture", inner, NULL, NULL));
        }
        close(p[1]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        unsigned calls = 99;
        assert_int_equal(read(p[0], &calls, sizeof calls), (ssize_t) sizeof calls);
        close(p[0]);
        assert_true(WIFEXITED(status)); /* not a crash */
        assert_int_equal(WEXITSTATUS(status), 1); /* one failed test */
        assert_int_equal(calls, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                /* First: the child it forks must not inherit this process's loop
                 * (sd-event refuses a loop from the parent in a forked child). */
                cmocka_unit_test(test_longjmp_fixture),
                cmocka_unit_test(test_no_callback_during_stop),
                cmocka_unit_test(test_no_callback_during_unref),
                cmocka_unit_test(test_no_callback_during_kill),
                cmocka_unit_test(test_callbacks_during_stop_on_request),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Output capture through the public API: what was captured per stream, the
 * last lines, the line handler, tees to an fd and a file, the ring keeping
 * only the newest bytes, and a 100 MB flood that must not stall anything. */
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include "core-test.h"

typedef struct Lines {
        unsigned n[4];
        char *last[4];
        unsigned long long bytes;
        bool saw_marker;
        const char *marker;
} Lines;

static void on_line(MkExecutor *e, MkStream stream, const char *line, size_t length, void *userdata) {
        Lines *l = userdata;

        assert_true(stream == MK_STREAM_STDOUT || stream == MK_STREAM_STDERR);
        assert_null(memchr(line, '\n', length));
        l->n[stream]++;
        l->bytes += length + 1;
        if (l->marker && length == strlen(l->marker) && memcmp(line, l->marker, length) == 0)
                l->saw_marker = true;
        if (!l->marker) {
                free(l->last[stream]);
                l->last[stream] = strndup(line, length);
        }
}

static void lines_done(Lines *l) {
        for (int i = 0; i < 4; i++)
                free(l->last[i]);
}

/* A copy handed to a run ends with the stream: once the service's end of
 * the pipe is closed and everything is copied, the reader sees EOF (without
 * a stop: the Python package's output() stream is such a copy). */
static void test_output_fd_eof(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("out", "hello", "exit", "0", NULL);
        int p[2];
        char buf[64];
        size_t got = 0;
        bool eof = false;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(mk_executor_hand_output_fd(e, MK_STREAM_STDOUT, -1), -EBADF);
        assert_int_equal(mk_executor_hand_output_fd(e, MK_STREAM_STDOUT, p[1]), 0);
        close(p[1]);
        assert_int_equal(mk_executor_start(e), 0);
        while (!eof) {
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                assert_int_equal(poll(&pfd, 1, 10000), 1);
                ssize_t n = read(p[0], buf + got, sizeof buf - 1 - got);
                assert_true(n >= 0);
                if (n == 0)
                        eof = true;
                got += (size_t) n;
        }
        buf[got] = 0;
        assert_string_equal(buf, "hello\n");
        close(p[0]);
        assert_int_equal(mk_executor_stop(e), 0);
}

static void test_output_per_stream(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                service("out", "o1", "err", "e1", "out", "o2", "raw", "partial", "exit", "0", NULL);
        char *s;
        size_t size = 0;

        /* nothing captured yet */
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_string_equal(s, "");
        assert_int_equal(size, 0);
        free(s);
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_BOTH, &s, NULL), -EINVAL);

        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_int_equal(mk_executor_stop(e), 0);

        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_string_equal(s, "o1\no2\npartial");
        assert_int_equal(size, strlen("o1\no2\npartial"));
        free(s);
        _cleanup_free_ char *err = output_of(e, MK_STREAM_STDERR);
        assert_string_equal(err, "e1\n");

        /* Last lines of both streams, oldest first; the unfinished last line
         * counts once the stream ends. Stream interleaving is not ordered, so
         * only check what is there. */
        _cleanup_free_ char *all = NULL;
        assert_int_equal(mk_executor_get_last_lines(e, 0, &all), 0);
        assert_contains(all, "o1\n");
        assert_contains(all, "o2\n");
        assert_contains(all, "partial");
        assert_contains(all, "e1");
        _cleanup_free_ char *two = NULL;
        assert_int_equal(mk_executor_get_last_lines(e, 1, &two), 0);
        assert_null(strchr(two, '\n'));

        /* A new start forgets the old output. */
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        _cleanup_free_ char *again = output_of(e, MK_STREAM_STDOUT);
        assert_string_equal(again, "o1\no2\npartial");
}

static void test_last_lines_limit(void **state) {
        const char *argv[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 30 ]; do echo line$i; i=$((i+1)); done", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;

        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        _cleanup_free_ char *all = NULL, *three = NULL;
        assert_int_equal(mk_executor_get_last_lines(e, 0, &all), 0);
        /* at most 20 kept: line10 ... line29 */
        assert_true(strncmp(all, "line10\n", 7) == 0);
        assert_true(strlen(all) > 7 && strcmp(all + strlen(all) - 7, "\nline29") == 0);
        assert_int_equal(mk_executor_get_last_lines(e, 3, &three), 0);
        assert_string_equal(three, "line27\nline28\nline29");
}

static void test_line_handler(void **state) {
        Lines l = {};
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                service("raw", "a\\r\\nb", "raw", "c\\n", "err", "E", "out", "", "exit", "0", NULL);

        assert_int_equal(mk_executor_set_line_handler(e, on_line, &l), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        /* "a\r\n" -> "a" (CR dropped), "b" + "c\n" -> "bc", "" */
        assert_int_equal(l.n[MK_STREAM_STDOUT], 3);
        assert_string_equal(l.last[MK_STREAM_STDOUT], "");
        assert_int_equal(l.n[MK_STREAM_STDERR], 1);
        assert_string_equal(l.last[MK_STREAM_STDERR], "E");
        _cleanup_free_ char *last = NULL;
        assert_int_equal(mk_executor_get_last_lines(e, 0, &last), 0);
        assert_contains(last, "a\nbc\n");
        lines_done(&l);
}

static void test_tee(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *file = NULL;
        int p[2];

        assert_true(asprintf(&file, "%s/tee", dir) > 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e =
                        service("out", "to-stdout", "err", "to-stderr", "exit", "0", NULL);
                assert_int_equal(mk_executor_set_output_fd(e, MK_STREAM_STDOUT, p[1]), 0);
                assert_int_equal(mk_executor_set_output_file(e, MK_STREAM_STDERR, file), 0);
                assert_int_equal(mk_executor_set_output_fd(e, 0, p[1]), -EINVAL);
                assert_int_equal(mk_executor_set_output_fd(e, 4, p[1]), -EINVAL);
                /* the executor holds its own duplicate */
                close(p[1]);
                assert_int_equal(mk_executor_start(e), 0);
                assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
                assert_int_equal(mk_executor_stop(e), 0);
        }
        /* the executor is gone, so is its copy of the write end: read to EOF */
        char buf[256];
        size_t n = 0;
        ssize_t k;
        while ((k = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
                n += (size_t) k;
        buf[n] = '\0';
        assert_string_equal(buf, "to-stdout\n");
        close(p[0]);

        _cleanup_free_ char *content = test_read_file(file);
        assert_string_equal(content, "to-stderr\n");
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* appended to, and both streams to one file */
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("out", "more", "exit", "0", NULL);
                assert_int_equal(mk_executor_set_output_file(e, MK_STREAM_BOTH, file), 0);
                assert_int_equal(mk_executor_start(e), 0);
                assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
                assert_int_equal(mk_executor_stop(e), 0);
        }
        _cleanup_free_ char *content2 = test_read_file(file);
        assert_string_equal(content2, "to-stderr\nmore\n");
        test_rm_rf(dir);
}

static void test_capture_size(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                service("flood", "10000", "raw", "END", "exit", "0", NULL);

        assert_int_equal(mk_executor_set_capture_size(e, 1000), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        char *s;
        size_t size;
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_int_equal(size, 1000);
        assert_int_equal(strlen(s), 1000);
        /* the newest bytes: the tail of line 99 and "END" */
        assert_string_equal(s + 997, "END");
        assert_non_null(strstr(s, "\nflood 000000000099 "));
        assert_null(strstr(s, "flood 000000000089 "));
        free(s);

        /* 0 keeps nothing, but lines are still delivered */
        Lines l = {};
        assert_int_equal(mk_executor_set_capture_size(e, 0), 0);
        assert_int_equal(mk_executor_set_line_handler(e, on_line, &l), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_int_equal(size, 0);
        free(s);
        assert_int_equal(l.n[MK_STREAM_STDOUT], 101);
        lines_done(&l);
}

/* A service that prints 100 MB before it is ready must not stall: the loop
 * drains it, the ring keeps only the newest bytes, memory stays bounded. */
#define FLOOD_BYTES "100000000"

/* The service creates the file after the flood, then prints the marker. */
static int flood_done(MkExecutor *e, void *userdata) {
        const char *done_file = userdata;
        return access(done_file, F_OK) == 0 ? 1 : 0;
}

static void test_flood_before_ready(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *done_file = NULL;
        Lines l = { .marker = "FLOOD-DONE" };
        sd_event *event = NULL;

        assert_true(asprintf(&done_file, "%s/done", dir) > 0);
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                service("flood", FLOOD_BYTES, "touch", done_file, "out", "FLOOD-DONE", "pause", NULL);
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(mk_executor_attach_event(e, event, 0), 0);
        assert_int_equal(mk_executor_set_capture_size(e, 64 * 1024), 0);
        assert_int_equal(mk_executor_set_line_handler(e, on_line, &l), 0);
        long rss_before = test_vmrss_kib();

        if (have_custom_probe()) {
                /* Ready once the marker after the flood was printed. */
                assert_int_equal(mk_executor_add_custom_probe(e, flood_done, done_file, 0, true), 0);
                assert_int_equal(mk_executor_set_timeout(e, 60 * MK_USEC_PER_SEC), 0);
                int r = mk_executor_start(e);
                if (r < 0)
                        fprintf(stderr, "start: %s\n", mk_executor_get_error(e) ?: "");
                assert_int_equal(r, 0);
                /* the marker line may still be in the pipe */
                assert_int_equal(test_run_until(event, &l.saw_marker, 60 * MK_USEC_PER_SEC), 0);
        } else {
                /* Without probes: ready at exec; then run the loop until the marker. */
                assert_int_equal(mk_executor_start(e), 0);
                assert_int_equal(test_run_until(event, &l.saw_marker, 60 * MK_USEC_PER_SEC), 0);
        }
        assert_true(l.saw_marker);
        assert_true(mk_executor_is_running(e));
        assert_true(test_wait_file(done_file, WAIT_USEC));
        assert_int_equal(l.n[MK_STREAM_STDOUT], 1000000 + 1);
        assert_true(l.bytes == 100000000ULL + strlen("FLOOD-DONE\n"));

        char *s;
        size_t size;
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_int_equal(size, 64 * 1024);
        assert_true(size >= 11 && strcmp(s + size - 11, "FLOOD-DONE\n") == 0);
        assert_non_null(strstr(s, "flood 000000999999 "));
        free(s);

        long rss_after = test_vmrss_kib();
        fprintf(stderr, "# VmRSS before %ld KiB, after %ld KiB\n", rss_before, rss_after);
        if (test_rss_is_meaningful())
                assert_true(rss_after - rss_before < 32 * 1024);

        assert_int_equal(mk_executor_stop(e), 0);
        sd_event_unref(event);
        test_rm_rf(dir);
}

/* Output keeps being drained after readiness even if nobody runs the loop
 * for a while: the service blocks on the pipe meanwhile, but stop still
 * works and returns promptly. */
static void test_flood_after_ready_then_stop(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("flood", "1000000000", "pause", NULL);

        assert_int_equal(mk_executor_start(e), 0);
        pid_t pid = mk_executor_get_pid(e);
        assert_int_equal(mk_executor_wait(e, 200 * MK_USEC_PER_MSEC), -ETIMEDOUT);
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_stop(e), 0);
        assert_false(test_pid_alive(pid));
}

/* A service that exits at once, its output copied to an fd: the capture
 * must be watching its pipe even when the output thread saw the EOF first
 * (a race once failed such starts with "could not watch the process"). */
static void test_quick_exit_with_output_fd(void **state) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        for (int i = 0; i < (test_under_valgrind() ? 20 : 300); i++) {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                char buf[256];
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_shell_command(e, "exit 3"), 0);
                assert_int_equal(mk_executor_set_output_fd(e, MK_STREAM_BOTH, p[1]), 0);
                if (mk_executor_start(e) != 0)
                        fail_msg("run %d: %s", i, mk_executor_get_error(e) ?: "?");
                assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
                assert_int_equal(mk_executor_stop(e), -ECHILD);
                while (read(p[0], buf, sizeof buf) > 0)
                        ;
        }
        close(p[0]);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quick_exit_with_output_fd),
                cmocka_unit_test(test_output_per_stream),
                cmocka_unit_test(test_output_fd_eof),
                cmocka_unit_test(test_last_lines_limit),
                cmocka_unit_test(test_line_handler),
                cmocka_unit_test(test_tee),
                cmocka_unit_test(test_capture_size),
                cmocka_unit_test(test_flood_before_ready),
                cmocka_unit_test(test_flood_after_ready_then_stop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

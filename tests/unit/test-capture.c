/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capture: line splitting through real pipes on an sd_event loop (split
 * writes, CRLF, lines over CAPTURE_LINE_MAX in pieces, the last unfinished
 * line at EOF), the ring, and the tee. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "test-util.h"

typedef struct Seen {
        char *lines[64];
        size_t lengths[64];
        unsigned n;
        size_t long_bytes;   /* bytes of lines not kept (too many) */
        bool eof;
        MkStream stream;
} Seen;

static void on_line(void *userdata, MkStream stream, const char *line, size_t length) {
        Seen *s = userdata;

        s->stream = stream;
        assert_null(memchr(line, '\n', length));
        /* Handlers may use it as a C string. */
        assert_int_equal(line[length], '\0');
        if (s->n < 64) {
                s->lines[s->n] = strndup(line, length);
                s->lengths[s->n] = length;
        } else
                s->long_bytes += length;
        s->n++;
}

static void on_eof(void *userdata, MkStream stream) {
        Seen *s = userdata;
        s->eof = true;
}

static void seen_done(Seen *s) {
        for (unsigned i = 0; i < 64 && i < s->n; i++)
                free(s->lines[i]);
}

typedef struct Fixture {
        sd_event *event;
        int w;          /* the write end: ours, as if we were the service */
        Capture *c;
        Seen seen;
} Fixture;

static void fixture_new(Fixture *f, size_t ring, int tee_fd) {
        int p[2];
        const CaptureCallbacks cb = { .line = on_line, .eof = on_eof };

        *f = (Fixture) {};
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        f->w = p[1];
        assert_int_equal(capture_new(f->event, 0, p[0], MK_STREAM_STDERR, ring, tee_fd, &cb, &f->seen, &f->c), 0);
}

static void fixture_done(Fixture *f) {
        if (f->w >= 0)
                close(f->w);
        capture_free(f->c);
        sd_event_unref(f->event);
        seen_done(&f->seen);
}

static void put(Fixture *f, const char *s) {
        assert_int_equal(write(f->w, s, strlen(s)), (ssize_t) strlen(s));
}

/* Takes what was written so far: read into the ring (the drainer thread
 * may have done it already) and delivered as lines, then runs the loop
 * until nothing is pending. */
static void settle(Fixture *f) {
        capture_drain(f->c);
        while (sd_event_run(f->event, 0) > 0)
                ;
}

static void finish(Fixture *f) {
        close(f->w);
        f->w = -1;
        bool *eof = &f->seen.eof;
        assert_int_equal(test_run_until(f->event, eof, 30 * 1000000ULL), 0);
        assert_true(capture_is_eof(f->c));
}

static void test_split_writes(void **state) {
        Fixture f;

        fixture_new(&f, 1024, -1);
        put(&f, "hel");
        settle(&f);
        assert_int_equal(f.seen.n, 0); /* no newline yet */
        put(&f, "lo\nwor");
        settle(&f);
        assert_int_equal(f.seen.n, 1);
        assert_string_equal(f.seen.lines[0], "hello");
        assert_int_equal(f.seen.stream, MK_STREAM_STDERR);
        put(&f, "ld\r\n\n\r\nx\ry\n");
        settle(&f);
        assert_int_equal(f.seen.n, 5);
        assert_string_equal(f.seen.lines[1], "world"); /* CRLF: the CR goes */
        assert_string_equal(f.seen.lines[2], "");
        assert_string_equal(f.seen.lines[3], "");
        assert_string_equal(f.seen.lines[4], "x\ry");  /* a CR inside stays */
        put(&f, "unfinished");
        settle(&f);
        assert_int_equal(f.seen.n, 5);
        assert_false(f.seen.eof);
        finish(&f);
        /* the unfinished line is delivered at EOF */
        assert_int_equal(f.seen.n, 6);
        assert_string_equal(f.seen.lines[5], "unfinished");

        char *out;
        size_t size;
        assert_int_equal(capture_get_output(f.c, &out, &size), 0);
        assert_string_equal(out, "hello\nworld\r\n\n\r\nx\ry\nunfinished");
        assert_int_equal(size, strlen(out));
        free(out);
        fixture_done(&f);
}

static void test_byte_by_byte(void **state) {
        Fixture f;
        const char *text = "one\ntwo\r\nthree\n";

        fixture_new(&f, 4, -1);
        for (const char *p = text; *p; p++) {
                assert_int_equal(write(f.w, p, 1), 1);
                settle(&f);
        }
        finish(&f);
        assert_int_equal(f.seen.n, 3);
        assert_string_equal(f.seen.lines[0], "one");
        assert_string_equal(f.seen.lines[1], "two");
        assert_string_equal(f.seen.lines[2], "three");
        /* the ring of 4 bytes keeps the newest */
        char *out;
        assert_int_equal(capture_get_output(f.c, &out, NULL), 0);
        assert_string_equal(out, "ree\n");
        free(out);
        fixture_done(&f);
}

/* Writes N bytes of C from a child process (the pipe holds only 64 KiB). */
static pid_t write_in_child(int fd, size_t n, char c, const char *tail) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                static char buf[65536];
                memset(buf, c, sizeof buf);
                while (n > 0) {
                        size_t k = n < sizeof buf ? n : sizeof buf;
                        ssize_t w = write(fd, buf, k);
                        if (w < 0)
                                _exit(1);
                        n -= (size_t) w;
                }
                if (tail && write(fd, tail, strlen(tail)) < 0)
                        _exit(1);
                _exit(0);
        }
        return pid;
}

static void test_long_line_in_pieces(void **state) {
        Fixture f;
        size_t total = 2 * CAPTURE_LINE_MAX + 123;

        fixture_new(&f, 1000, -1);
        pid_t pid = write_in_child(f.w, total, 'a', "\nshort\n");
        finish(&f);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        /* two full pieces, the rest of the line, then the next line */
        assert_int_equal(f.seen.n, 4);
        assert_int_equal(f.seen.lengths[0], CAPTURE_LINE_MAX);
        assert_int_equal(f.seen.lengths[1], CAPTURE_LINE_MAX);
        assert_int_equal(f.seen.lengths[2], 123);
        assert_string_equal(f.seen.lines[3], "short");
        for (size_t i = 0; i < CAPTURE_LINE_MAX; i++)
                if (f.seen.lines[0][i] != 'a')
                        fail();
        /* the ring keeps the newest 1000 bytes */
        char *out;
        size_t size;
        assert_int_equal(capture_get_output(f.c, &out, &size), 0);
        assert_int_equal(size, 1000);
        assert_string_equal(out + 1000 - 7, "\nshort\n");
        free(out);
        fixture_done(&f);
}

/* A line of exactly CAPTURE_LINE_MAX bytes and one byte more. */
static void test_line_at_the_limit(void **state) {
        Fixture f;

        fixture_new(&f, 16, -1);
        pid_t pid = write_in_child(f.w, CAPTURE_LINE_MAX, 'b', "\n");
        finish(&f);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        /* delivered as one piece of the maximum size; never an empty extra line */
        size_t sum = 0;
        for (unsigned i = 0; i < f.seen.n && i < 64; i++)
                sum += f.seen.lengths[i];
        assert_int_equal(sum, CAPTURE_LINE_MAX);
        assert_int_equal(f.seen.n, 1);
        fixture_done(&f);
}

static void test_tee(void **state) {
        Fixture f;
        int t[2];

        assert_int_equal(pipe2(t, O_CLOEXEC), 0);
        fixture_new(&f, 0, t[1]);
        put(&f, "copied\nas is\r\n");
        finish(&f);
        close(t[1]);
        char buf[64];
        ssize_t n = read(t[0], buf, sizeof buf - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, "copied\nas is\r\n");
        close(t[0]);
        /* ring of 0 keeps nothing, but lines still come */
        char *out;
        size_t size;
        assert_int_equal(capture_get_output(f.c, &out, &size), 0);
        assert_int_equal(size, 0);
        free(out);
        assert_int_equal(f.seen.n, 2);
        fixture_done(&f);
}

static void test_drain_without_loop(void **state) {
        Fixture f;

        fixture_new(&f, 64, -1);
        put(&f, "a\nb\n");
        capture_drain(f.c);
        assert_int_equal(f.seen.n, 2);
        close(f.w);
        f.w = -1;
        capture_drain(f.c);
        assert_true(f.seen.eof);
        fixture_done(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_writes),
                cmocka_unit_test(test_byte_by_byte),
                cmocka_unit_test(test_long_line_in_pieces),
                cmocka_unit_test(test_line_at_the_limit),
                cmocka_unit_test(test_tee),
                cmocka_unit_test(test_drain_without_loop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "util/macro.h"
#include "util/ring.h"

#define READ_CHUNK ((size_t) 64 * 1024)
/* Reads per wake-up, so one flooding service cannot starve the others. */
#define READS_PER_DISPATCH 16

struct Capture {
        int fd;
        MkStream stream;
        sd_event_source *source;
        Ring ring;
        int tee_fd;
        char *line;      /* the unfinished line */
        size_t line_len;
        size_t line_alloc;
        bool eof;
        CaptureCallbacks cb;
        void *userdata;
};

static void write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                                (void) poll(&pfd, 1, -1);
                                continue;
                        }
                        return; /* a broken tee must not stop the draining */
                }
                p += k;
                n -= (size_t) k;
        }
}

/* P[N] is ours to write (the newline, the byte after a piece, or spare
 * room): handlers get the line NUL terminated, which is put back after. */
static void emit_line(Capture *c, char *p, size_t n) {
        char saved;

        if (n > 0 && p[n - 1] == '\r')
                n--;
        if (!c->cb.line)
                return;
        saved = p[n];
        p[n] = '\0';
        c->cb.line(c->userdata, c->stream, p, n);
        p[n] = saved;
}

static int line_append(Capture *c, const char *p, size_t n) {
        if (c->line_len + n + 1 > c->line_alloc) { /* + 1: room for emit_line()'s NUL */
                size_t want = MAX(c->line_alloc * 2, c->line_len + n + 1);
                char *l = realloc(c->line, want);
                if (!l)
                        return -ENOMEM;
                c->line = l;
                c->line_alloc = want;
        }
        memcpy(c->line + c->line_len, p, n);
        c->line_len += n;
        return 0;
}

/* P: N bytes read, with room for one more after them. */
static void feed_lines(Capture *c, char *p, size_t n) {
        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t k = nl ? (size_t) (nl - p) : n;

                /* A line that grows past the limit goes out in pieces. (A line of
                 * exactly the limit is one line, not a piece and an empty line.) */
                while (c->line_len + k > CAPTURE_LINE_MAX) {
                        size_t take = CAPTURE_LINE_MAX - c->line_len;
                        if (line_append(c, p, take) < 0)
                                return;
                        emit_line(c, c->line, c->line_len);
                        c->line_len = 0;
                        p += take;
                        n -= take;
                        k -= take;
                }

                if (!nl) {
                        (void) line_append(c, p, k);
                        return;
                }
                if (c->line_len > 0) {
                        if (line_append(c, p, k) < 0)
                                return;
                        emit_line(c, c->line, c->line_len);
                        c->line_len = 0;
                } else
                        emit_line(c, p, k);
                p += k + 1;
                n -= k + 1;
        }
}

static void finish(Capture *c) {
        if (c->eof)
                return;
        c->eof = true;
        c->source = sd_event_source_disable_unref(c->source);
        c->fd = safe_close(c->fd);
        if (c->line_len > 0) {
                emit_line(c, c->line, c->line_len);
                c->line_len = 0;
        }
        if (c->cb.eof)
                c->cb.eof(c->userdata, c->stream);
}

static int read_some(Capture *c, unsigned max_reads) {
        char buf[READ_CHUNK + 1]; /* + 1: room for emit_line()'s NUL */

        for (unsigned i = 0; i < max_reads && !c->eof; i++) {
                ssize_t n = read(c->fd, buf, READ_CHUNK);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        finish(c);
                        return -errno;
                }
                if (n == 0) {
                        finish(c);
                        return 0;
                }
                (void) ring_write(&c->ring, buf, (size_t) n);
                if (c->tee_fd >= 0)
                        write_all(c->tee_fd, buf, (size_t) n);
                feed_lines(c, buf, (size_t) n);
        }
        return 0;
}

static int on_readable(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_,
                       void *userdata) {
        (void) read_some(userdata, READS_PER_DISPATCH);
        return 0;
}

int capture_new(sd_event *event, int64_t priority, int fd, MkStream stream, size_t ring_size,
                int tee_fd, const CaptureCallbacks *cb, void *userdata, Capture **ret) {
        _cleanup_(capture_freep) Capture *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        c->stream = stream;
        c->tee_fd = tee_fd;
        c->cb = *cb;
        c->userdata = userdata;
        ring_init(&c->ring, ring_size);

        r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (r < 0)
                return -errno;
        r = sd_event_add_io(event, &c->source, fd, EPOLLIN, on_readable, c);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(c->source, priority);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(c->source, "mirakuru-capture");
        *ret = TAKE_PTR(c);
        return 0;
}

Capture *capture_free(Capture *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        ring_done(&c->ring);
        free(c->line);
        free(c);
        return NULL;
}

void capture_drain(Capture *c) {
        (void) read_some(c, 64); /* bounded: a writer that never pauses must not hold us */
}

bool capture_is_eof(const Capture *c) {
        return c->eof;
}

int capture_get_output(const Capture *c, char **ret, size_t *ret_size) {
        return ring_copy(&c->ring, ret, ret_size);
}

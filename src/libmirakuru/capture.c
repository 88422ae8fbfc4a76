/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "util/drainer.h"
#include "util/io-util.h"
#include "util/macro.h"
#include "util/ring.h"
#include "util/time-util.h"

#define READ_CHUNK ((size_t) 64 * 1024)
/* Reads per wake-up of the drainer, so one flooding service cannot starve
 * the others; and chunks of lines per dispatch on the loop, likewise. */
#define READS_PER_WAKE 16
#define CHUNKS_PER_DISPATCH 16
/* Arrival marks kept per stream; more reads than this merge into the last. */
#define CAPTURE_MARKS 64
/* Reads by capture_sync(): bounded, a writer that never pauses must not hold us. */
#define READS_PER_SYNC 64
/* How long the drainer waits for the loop to take lines when the backlog
 * is full before it decides the loop is away (the caller is outside a
 * library call, or does not run its loop) and reads on, dropping the
 * oldest lines not yet delivered. */
#define LOOP_GRACE_NSEC (50L * 1000L * 1000L)

struct Capture {
        pthread_mutex_t lock;
        MkStream stream;
        size_t capture_size;
        int token; /* our hold on the drainer; -1: none */
        DrainSource pipe_src, tee_src, timer_src;

        /* Shared with the drainer thread: under lock. */
        int fd;            /* the pipe's read end */
        bool closing;      /* capture_free() is under way: no more watches */
        bool eof_read;     /* the pipe said EOF (or failed) */
        bool pipe_watched, tee_watched;
        Ring ring;         /* what is kept, and the lines not yet delivered */
        int tee_fd;        /* our duplicate; -EBADF: none, or dropped */
        bool tee_pollable; /* false: a regular file, written at once */
        char *tee_buf;     /* bytes not yet copied to a pollable tee */
        size_t tee_off, tee_len, tee_alloc;
        bool notified;     /* the loop was told, and has not looked yet */
        int notify_fd;     /* eventfd: the drainer tells the loop */
        bool paused;       /* backlog full: waiting up to LOOP_GRACE_NSEC for the loop */
        bool loop_away;    /* the loop did not come: read on, drop undelivered lines */
        int timer_fd;      /* timerfd for the grace */
        uint64_t processed; /* stream offset up to which lines were taken by the loop */
        bool lost;          /* pending_seq() skipped bytes the drainer dropped */
        struct {
                uint64_t end; /* stream offset after the read */
                uint64_t seq; /* arrival number, across all captures */
        } marks[CAPTURE_MARKS];
        unsigned mark_head, n_marks;

        /* The loop thread's own. */
        sd_event_source *source;
        Capture *sibling;   /* the service's other stream: lines interleave by arrival */
        bool dispatching;
        char *line;         /* the unfinished line */
        size_t line_len;
        size_t line_alloc;
        bool finished;
        CaptureCallbacks cb;
        void *userdata;
};

static void write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write_no_sigpipe(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
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

/* ---- the drainer thread's side (and capture_sync()): pipe to ring and tee ---- */

static void drop_tee_locked(Capture *c) {
        if (c->tee_watched)
                drainer_del(c->token, c->tee_fd);
        c->tee_watched = false;
        c->tee_fd = safe_close(c->tee_fd);
        free(c->tee_buf);
        c->tee_buf = NULL;
        c->tee_off = c->tee_len = c->tee_alloc = 0;
}

static void tee_append_locked(Capture *c, const char *p, size_t n) {
        if (c->tee_fd < 0)
                return;
        if (!c->tee_pollable) {
                write_all(c->tee_fd, p, n); /* a regular file: never blocks for long */
                return;
        }
        if (c->tee_len + n > c->tee_alloc) {
                size_t want = MAX(c->tee_alloc * 2, c->tee_len + n);
                char *b = realloc(c->tee_buf, want);
                if (!b)
                        return; /* the copy loses these bytes; the ring has them */
                c->tee_buf = b;
                c->tee_alloc = want;
        }
        memcpy(c->tee_buf + c->tee_len, p, n);
        c->tee_len += n;
}

/* The pipe is read while nothing waits for the tee: a tee that cannot keep
 * up holds the service back, as the terminal would without us, but never
 * a loop. */
static void update_watches_locked(Capture *c) {
        /* The stream ended (read here or by capture_sync()) and all of it is
         * copied: close our copy of the tee, so that its reader sees EOF. A
         * write in flight keeps the backlog non-empty until it is done. */
        if (c->eof_read && !c->closing && c->tee_fd >= 0 && c->tee_len == c->tee_off)
                drop_tee_locked(c);

        bool want_tee = !c->closing && c->tee_fd >= 0 && c->tee_pollable && c->tee_len > c->tee_off;
        bool want_pipe = !c->closing && !c->eof_read && !want_tee && !c->paused;

        if (want_pipe != c->pipe_watched) {
                if (want_pipe)
                        c->pipe_watched = drainer_add(c->token, c->fd, EPOLLIN, &c->pipe_src) >= 0;
                else {
                        drainer_del(c->token, c->fd);
                        c->pipe_watched = false;
                }
        }
        if (want_tee != c->tee_watched) {
                if (want_tee)
                        c->tee_watched = drainer_add(c->token, c->tee_fd, EPOLLOUT, &c->tee_src) >= 0;
                else {
                        drainer_del(c->token, c->tee_fd);
                        c->tee_watched = false;
                }
        }
}

static void notify_locked(Capture *c) {
        uint64_t one = 1;

        if (c->notified)
                return;
        c->notified = true;
        (void) !write(c->notify_fd, &one, sizeof one);
}

static void set_timer_locked(Capture *c, long nsec) {
        struct itimerspec t = { .it_value.tv_nsec = nsec };
        if (c->timer_fd >= 0)
                (void) timerfd_settime(c->timer_fd, 0, &t, NULL);
}

/* The ring is full of lines the loop has not taken: stop reading (the
 * service waits, as it would on a full pipe) and tell the loop; if it does
 * not come within the grace, read on anyway (on_timer()). */
static void pause_locked(Capture *c) {
        /* The timer is made at the first pause: most captures never pause,
         * and two fds per service fewer matter to a supervisor of thousands. */
        if (c->timer_fd < 0 && !c->closing) {
                c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (c->timer_fd >= 0 && drainer_add(c->token, c->timer_fd, EPOLLIN, &c->timer_src) < 0)
                        c->timer_fd = safe_close(c->timer_fd);
        }
        if (c->timer_fd < 0) {
                /* No timer to be had (out of fds): do not wait for the loop. */
                c->loop_away = true;
                notify_locked(c);
                return;
        }
        c->paused = true;
        set_timer_locked(c, LOOP_GRACE_NSEC);
        notify_locked(c);
}

static uint64_t arrivals;

/* Under lock: what the ring holds up to its end arrived now. */
static void mark_locked(Capture *c) {
        uint64_t seq = __atomic_fetch_add(&arrivals, 1, __ATOMIC_RELAXED);

        if (c->n_marks == CAPTURE_MARKS) {
                c->marks[(c->mark_head + c->n_marks - 1) % CAPTURE_MARKS].end = c->ring.total;
                return;
        }
        c->marks[(c->mark_head + c->n_marks) % CAPTURE_MARKS].end = c->ring.total;
        c->marks[(c->mark_head + c->n_marks) % CAPTURE_MARKS].seq = seq;
        c->n_marks++;
}

/* Returns whether anything arrived (or EOF). */
static bool read_locked(Capture *c, unsigned max_reads) {
        char buf[READ_CHUNK];
        bool any = false;

        for (unsigned i = 0; i < max_reads && !c->eof_read && !c->paused; i++) {
                size_t want = sizeof buf;
                if (!c->loop_away) {
                        uint64_t backlog = c->ring.total - c->processed;
                        if (backlog >= c->ring.capacity) {
                                pause_locked(c);
                                break;
                        }
                        want = MIN(want, (size_t) (c->ring.capacity - backlog));
                }
                ssize_t n = read(c->fd, buf, want);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        n = 0; /* a failing pipe ends like a closed one */
                }
                any = true;
                if (n == 0) {
                        c->eof_read = true;
                        break;
                }
                (void) ring_write(&c->ring, buf, (size_t) n);
                mark_locked(c);
                tee_append_locked(c, buf, (size_t) n);
        }
        return any;
}

/* Copies the tee backlog out, PIPE_BUF bytes at a time and only when poll()
 * says the tee has room: a write that size then does not block a pipe.
 * Only the drainer thread writes a pollable tee. */
static void tee_flush(Capture *c) {
        char chunk[PIPE_BUF];

        for (;;) {
                struct pollfd p;
                size_t n;
                ssize_t k;

                pthread_mutex_lock(&c->lock);
                n = c->closing || c->tee_fd < 0 ? 0 : MIN(c->tee_len - c->tee_off, sizeof chunk);
                if (n == 0) {
                        update_watches_locked(c);
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
                memcpy(chunk, c->tee_buf + c->tee_off, n);
                p = (struct pollfd) { .fd = c->tee_fd, .events = POLLOUT };
                pthread_mutex_unlock(&c->lock);

                if (poll(&p, 1, 0) == 0) {
                        /* Full: wait for room (the tee is watched, the pipe not). */
                        pthread_mutex_lock(&c->lock);
                        update_watches_locked(c);
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
                if (p.revents & (POLLERR | POLLNVAL)) {
                        k = -1;
                        errno = EPIPE;
                } else
                        k = write_no_sigpipe(p.fd, chunk, n);

                pthread_mutex_lock(&c->lock);
                if (k > 0) {
                        c->tee_off += (size_t) k;
                        if (c->tee_off == c->tee_len)
                                c->tee_off = c->tee_len = 0;
                } else if (k < 0 && errno != EINTR && errno != EAGAIN)
                        drop_tee_locked(c); /* EPIPE: the reader is gone; drain on */
                pthread_mutex_unlock(&c->lock);
        }
}

static void on_pipe_ready(DrainSource *s, uint32_t events _unused_) {
        Capture *c = (Capture *) ((char *) s - offsetof(Capture, pipe_src));

        pthread_mutex_lock(&c->lock);
        if (!c->closing && c->pipe_watched && read_locked(c, READS_PER_WAKE))
                notify_locked(c);
        pthread_mutex_unlock(&c->lock);
        tee_flush(c); /* also updates the watches */
}

static void on_tee_ready(DrainSource *s, uint32_t events _unused_) {
        tee_flush((Capture *) ((char *) s - offsetof(Capture, tee_src)));
}

static void on_timer(DrainSource *s, uint32_t events _unused_) {
        Capture *c = (Capture *) ((char *) s - offsetof(Capture, timer_src));
        uint64_t v;

        pthread_mutex_lock(&c->lock);
        (void) !read(c->timer_fd, &v, sizeof v);
        if (c->paused && !c->closing) {
                c->paused = false;
                c->loop_away = true;
                update_watches_locked(c);
        }
        pthread_mutex_unlock(&c->lock);
}

/* ---- the loop's side: lines ---- */

static void finish(Capture *c) {
        if (c->finished)
                return;
        c->finished = true;
        pthread_mutex_lock(&c->lock);
        if (c->pipe_watched)
                drainer_del(c->token, c->fd);
        c->pipe_watched = false;
        c->fd = safe_close(c->fd); /* eof_read: the drainer is done with it */
        pthread_mutex_unlock(&c->lock);
        if (c->line_len > 0) {
                emit_line(c, c->line, c->line_len);
                c->line_len = 0;
        }
        if (c->cb.eof)
                c->cb.eof(c->userdata, c->stream);
}

/* Under lock: the arrival number of the next byte to deliver (dropping
 * marks of what was delivered), or UINT64_MAX when nothing waits. */
static uint64_t pending_seq_locked(Capture *c) {
        while (c->n_marks > 0 && c->marks[c->mark_head].end <= c->processed) {
                c->mark_head = (c->mark_head + 1) % CAPTURE_MARKS;
                c->n_marks--;
        }
        if (c->processed >= c->ring.total)
                return UINT64_MAX;
        return c->n_marks > 0 ? c->marks[c->mark_head].seq : 0;
}

static uint64_t pending_seq(Capture *c) {
        uint64_t seq;

        pthread_mutex_lock(&c->lock);
        if (c->processed < ring_oldest(&c->ring)) {
                c->processed = ring_oldest(&c->ring);
                c->lost = true; /* dispatch_one() drops the unfinished line */
        }
        seq = pending_seq_locked(c);
        if (seq == UINT64_MAX && c->eof_read)
                seq = UINT64_MAX - 1; /* EOF is still to be delivered */
        pthread_mutex_unlock(&c->lock);
        return seq;
}

/* Delivers the lines of one chunk (at most READ_CHUNK bytes, and not past
 * what arrived in one read, so that two streams interleave as they were
 * read), or EOF. */
static void dispatch_one(Capture *c, char *buf) {
        size_t n, want = READ_CHUNK;
        bool lost = false, eof;

        pthread_mutex_lock(&c->lock);
        /* The loop is here: lines are taken again, none dropped. */
        c->notified = false;
        c->loop_away = false;
        if (c->processed < ring_oldest(&c->ring) || c->lost) {
                c->processed = MAX(c->processed, ring_oldest(&c->ring));
                c->lost = false;
                lost = true;
        }
        if (pending_seq_locked(c) != UINT64_MAX && c->n_marks > 0)
                want = (size_t) MIN((uint64_t) want, c->marks[c->mark_head].end - c->processed);
        n = ring_peek(&c->ring, c->processed, buf, want);
        c->processed += n;
        if (n > 0 && c->paused) {
                c->paused = false;
                set_timer_locked(c, 0);
                update_watches_locked(c);
        }
        eof = c->eof_read && c->processed == c->ring.total;
        pthread_mutex_unlock(&c->lock);

        if (lost)
                c->line_len = 0; /* the start of the unfinished line is gone */
        if (n > 0)
                feed_lines(c, buf, n);
        else if (eof)
                finish(c);
}

/* Delivers the lines of what arrived on C and its sibling (the other
 * stream of the same service), in the order the chunks were read, MAX_CHUNKS
 * chunks at most; if more is left, the loop is told to come back. */
static void dispatch(Capture *c, unsigned max_chunks) {
        char buf[READ_CHUNK + 1]; /* + 1: room for emit_line()'s NUL */
        Capture *pair[2] = { c, c->sibling };
        unsigned i;

        if (c->dispatching || (c->sibling && c->sibling->dispatching))
                return; /* called again from a line callback: the outer call goes on */
        for (int k = 0; k < 2; k++)
                if (pair[k])
                        pair[k]->dispatching = true;
        for (i = 0; i < max_chunks; i++) {
                Capture *next = NULL;
                uint64_t best = UINT64_MAX;
                for (int k = 0; k < 2; k++) {
                        uint64_t seq;
                        if (!pair[k] || pair[k]->finished)
                                continue;
                        seq = pending_seq(pair[k]);
                        if (seq < best) {
                                best = seq;
                                next = pair[k];
                        }
                }
                if (!next)
                        break;
                dispatch_one(next, buf);
        }
        for (int k = 0; k < 2; k++) {
                if (!pair[k])
                        continue;
                pair[k]->dispatching = false;
                if (i == max_chunks && !pair[k]->finished && pending_seq(pair[k]) != UINT64_MAX) {
                        pthread_mutex_lock(&pair[k]->lock);
                        notify_locked(pair[k]);
                        pthread_mutex_unlock(&pair[k]->lock);
                }
        }
}

static int on_notify(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        uint64_t v;

        (void) !read(fd, &v, sizeof v);
        dispatch(userdata, CHUNKS_PER_DISPATCH);
        return 0;
}

int capture_new(sd_event *event, int64_t priority, int fd, MkStream stream, size_t capture_size,
                int tee_fd, const CaptureCallbacks *cb, void *userdata, Capture **ret) {
        _cleanup_(capture_freep) Capture *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        pthread_mutex_init(&c->lock, NULL);
        c->fd = fd;
        c->stream = stream;
        c->capture_size = capture_size;
        c->token = -1;
        c->tee_fd = -EBADF;
        c->notify_fd = -EBADF;
        c->timer_fd = -EBADF;
        c->pipe_src.handler = on_pipe_ready;
        c->tee_src.handler = on_tee_ready;
        c->timer_src.handler = on_timer;
        c->cb = *cb;
        c->userdata = userdata;
        ring_init(&c->ring, MAX(capture_size, CAPTURE_BACKLOG_MIN));

        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        if (tee_fd >= 0 && (c->tee_fd = fcntl(tee_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        c->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->notify_fd < 0)
                return -errno;
        r = sd_event_add_io(event, &c->source, c->notify_fd, EPOLLIN | EPOLLET, on_notify, c);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(c->source, priority);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(c->source, "mirakuru-capture");

        r = drainer_hold();
        if (r < 0)
                return r;
        c->token = r;
        /* Armed under the lock: the drainer's handlers take it first, so none
         * of them acts on this capture before it is whole (a tee's trial
         * registration below could otherwise let one read the EOF of a
         * service that already exited, before the pipe was watched). */
        pthread_mutex_lock(&c->lock);
        r = 0;
        if (c->tee_fd >= 0) {
                /* epoll refuses what is always ready (regular files, /dev/null). */
                r = drainer_add(c->token, c->tee_fd, EPOLLOUT, &c->tee_src);
                c->tee_pollable = r >= 0;
                if (r >= 0)
                        drainer_del(c->token, c->tee_fd);
                if (r == -EPERM)
                        r = 0;
        }
        if (r >= 0) {
                r = drainer_add(c->token, c->fd, EPOLLIN, &c->pipe_src);
                c->pipe_watched = r >= 0;
        }
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* The capture goes away (the drainer no longer touches it): what the pipe
 * still holds and the tee's backlog are copied out, waiting for the tee to
 * take them at most TEE_FLUSH_MSEC in all, so that a service's last words
 * reach the terminal even when it exits at once; but a tee that takes
 * nothing for TEE_STALL_MSEC (its reader stopped reading: `| sleep 30`) is
 * given up at once, so that it does not hold our exit (a SIGTERM's
 * teardown, a readiness deadline) for the whole TEE_FLUSH_MSEC. */
#define TEE_FLUSH_MSEC 2000
#define TEE_STALL_MSEC 100

static void tee_flush_final(Capture *c) {
        uint64_t start;

        if (c->tee_fd < 0 || !c->tee_pollable)
                return;
        pthread_mutex_lock(&c->lock);
        c->loop_away = true; /* nothing more will be delivered: read regardless */
        c->paused = false;
        if (c->fd >= 0 && !c->eof_read)
                (void) read_locked(c, READS_PER_SYNC);
        pthread_mutex_unlock(&c->lock);

        start = now_usec();
        while (c->tee_fd >= 0 && c->tee_off < c->tee_len) {
                long spent = (long) ((now_usec() - start) / 1000);
                struct pollfd p = { .fd = c->tee_fd, .events = POLLOUT };
                if (spent >= TEE_FLUSH_MSEC ||
                    poll(&p, 1, (int) MIN(TEE_FLUSH_MSEC - spent, (long) TEE_STALL_MSEC)) <= 0 ||
                    (p.revents & (POLLERR | POLLNVAL)))
                        return;
                ssize_t k = write_no_sigpipe(c->tee_fd, c->tee_buf + c->tee_off, MIN(c->tee_len - c->tee_off, (size_t) PIPE_BUF));
                if (k < 0 && errno != EINTR && errno != EAGAIN)
                        return;
                if (k > 0)
                        c->tee_off += (size_t) k;
        }
}

void capture_set_sibling(Capture *a, Capture *b) {
        a->sibling = b;
        b->sibling = a;
}

Capture *capture_free(Capture *c) {
        if (!c)
                return NULL;
        if (c->sibling)
                c->sibling->sibling = NULL;
        pthread_mutex_lock(&c->lock);
        c->closing = true;
        update_watches_locked(c);
        if (c->token >= 0 && c->timer_fd >= 0)
                drainer_del(c->token, c->timer_fd);
        pthread_mutex_unlock(&c->lock);
        if (c->token >= 0)
                drainer_release(c->token); /* no handler of ours runs after this */
        tee_flush_final(c);

        sd_event_source_disable_unref(c->source);
        safe_close(c->notify_fd);
        safe_close(c->timer_fd);
        safe_close(c->fd);
        safe_close(c->tee_fd);
        free(c->tee_buf);
        ring_done(&c->ring);
        free(c->line);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

void capture_sync(Capture *c) {
        pthread_mutex_lock(&c->lock);
        if (!c->closing && read_locked(c, READS_PER_SYNC))
                notify_locked(c);
        update_watches_locked(c); /* a pollable tee may have a backlog now */
        pthread_mutex_unlock(&c->lock);
}

void capture_drain(Capture *c) {
        /* A few rounds: a sync may stop at a full backlog that dispatch empties. */
        for (int i = 0; i < 4 && !c->finished; i++) {
                capture_sync(c);
                dispatch(c, READS_PER_SYNC);
        }
}

bool capture_is_eof(const Capture *c) {
        return c->finished;
}

int capture_get_output(Capture *c, char **ret, size_t *ret_size) {
        int r;

        pthread_mutex_lock(&c->lock);
        r = ring_copy_tail(&c->ring, c->capture_size, ret, ret_size);
        pthread_mutex_unlock(&c->lock);
        return r;
}

int capture_read_new(Capture *c, uint64_t *cursor, char **ret, size_t *ret_size) {
        uint64_t kept_from, from;
        size_t n;
        char *s;
        int lost;

        pthread_mutex_lock(&c->lock);
        kept_from = c->ring.total - MIN((uint64_t) c->ring.used, (uint64_t) c->capture_size);
        from = MAX(*cursor, kept_from);
        lost = from > *cursor;
        n = (size_t) (c->ring.total - from);
        s = malloc(n + 1);
        if (s) {
                if (n > 0)
                        (void) ring_peek(&c->ring, from, s, n);
                s[n] = '\0';
                *cursor = c->ring.total;
        }
        pthread_mutex_unlock(&c->lock);
        if (!s)
                return -ENOMEM;
        *ret = s;
        if (ret_size)
                *ret_size = n;
        return lost;
}

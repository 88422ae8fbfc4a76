/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "line-matcher.h"
#include "util/macro.h"

typedef struct Line {
        struct Line *next;
        uint64_t generation;
        size_t length;
        char text[]; /* NUL terminated at length */
} Line;

struct LineMatcher {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        regex_t re;              /* the loop's: inline matching only */
        char *pattern;           /* the thread compiles a regex_t of its own */
        int cflags;
        uint64_t states;
        int event_fd;
        unsigned refs;          /* the owner's, and the thread's while it runs */
        bool thread;            /* a thread was started */
        bool busy;              /* the thread is matching a line */
        bool closing;           /* the owner is gone */
        bool matched;
        uint64_t generation;    /* bumped by reset: results of older lines do not count */
        Line *head, *tail;
        Line *done;             /* matched by the thread, for the loop to free */
        size_t queued;          /* bytes */
        unsigned long dropped;
};

static void free_lines(Line *l) {
        while (l) {
                Line *next = l->next;
                free(l);
                l = next;
        }
}

static void matcher_destroy(LineMatcher *m) {
        free_lines(m->head);
        free_lines(m->done);
        regfree(&m->re);
        free(m->pattern);
        safe_close(m->event_fd);
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

/* Drops a reference (lock held; released here). */
static void matcher_unref_locked(LineMatcher *m) {
        bool last = --m->refs == 0;
        (void) pthread_mutex_unlock(&m->lock);
        if (last)
                matcher_destroy(m);
}

static bool match(const regex_t *re, const char *text, size_t length) {
        /* REG_STARTEND: a line may hold NULs. */
        regmatch_t r = { .rm_so = 0, .rm_eo = (regoff_t) length };
        return regexec(re, text, 1, &r, REG_STARTEND) == 0;
}

/* The thread frees no memory the loop's thread allocated (but, at the very
 * end, the matcher itself): a free() takes the lock of the arena the
 * memory came from, and this thread preempted while holding the loop's
 * arena lock would stall the loop. Hence a regex_t of its own (all its
 * memory in this thread's arena; regexec() grows it) and matched lines
 * handed back on m->done for the loop to free. */
static void *matcher_main(void *userdata) {
        LineMatcher *m = userdata;
        regex_t re;
        bool compiled;

        /* Not niced: the loop's thread takes m->lock for every line, and a
         * niced thread preempted while holding it stalled the loop for
         * hundreds of ms under load (a priority inversion). The loop's
         * thread sleeps most of the time; CFS wakes it promptly. */
        compiled = regcomp(&re, m->pattern, m->cflags) == 0;

        (void) pthread_mutex_lock(&m->lock);
        for (;;) {
                Line *l;

                while (!m->closing && !m->head)
                        (void) pthread_cond_wait(&m->cond, &m->lock);
                if (m->closing)
                        break;
                l = m->head;
                m->head = l->next;
                if (!m->head)
                        m->tail = NULL;
                m->queued -= l->length;
                if (l->generation == m->generation && !m->matched && compiled) {
                        m->busy = true;
                        (void) pthread_mutex_unlock(&m->lock);
                        bool hit = match(&re, l->text, l->length);
                        (void) pthread_mutex_lock(&m->lock);
                        m->busy = false;
                        if (hit && l->generation == m->generation && !m->matched) {
                                uint64_t one = 1;
                                m->matched = true;
                                (void) !write(m->event_fd, &one, sizeof one);
                        }
                }
                l->next = m->done;
                m->done = l;
        }
        if (compiled)
                regfree(&re);
        matcher_unref_locked(m);
        return NULL;
}

/* Frees the lines the thread is done with (lock held). */
static void collect_done(LineMatcher *m) {
        Line *l = m->done;
        m->done = NULL;
        free_lines(l);
}

int line_matcher_new(regex_t *re, const char *pattern, int cflags, uint64_t states, LineMatcher **ret) {
        LineMatcher *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        m->pattern = strdup(pattern);
        if (!m->pattern) {
                free(m);
                return -ENOMEM;
        }
        m->cflags = cflags;
        m->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->event_fd < 0) {
                int r = -errno;
                free(m->pattern);
                free(m);
                return r;
        }
        (void) pthread_mutex_init(&m->lock, NULL);
        (void) pthread_cond_init(&m->cond, NULL);
        m->re = *re;
        m->states = states;
        m->refs = 1;
        *ret = m;
        return 0;
}

LineMatcher *line_matcher_free(LineMatcher *m) {
        if (!m)
                return NULL;
        (void) pthread_mutex_lock(&m->lock);
        m->closing = true;
        /* Ours to free, here rather than in the thread (see matcher_main()). */
        collect_done(m);
        free_lines(m->head);
        m->head = m->tail = NULL;
        m->queued = 0;
        (void) pthread_cond_signal(&m->cond);
        matcher_unref_locked(m);
        return NULL;
}

void line_matcher_reset(LineMatcher *m) {
        uint64_t v;

        (void) pthread_mutex_lock(&m->lock);
        m->generation++;
        m->matched = false;
        m->dropped = 0;
        collect_done(m);
        free_lines(m->head);
        m->head = m->tail = NULL;
        m->queued = 0;
        (void) !read(m->event_fd, &v, sizeof v);
        (void) pthread_mutex_unlock(&m->lock);
}

/* Starts the thread (lock held), with every signal blocked. */
static int start_thread(LineMatcher *m) {
        sigset_t all, old;
        pthread_attr_t attr;
        pthread_t t;
        int r;

        (void) sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &old);
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        m->refs++;
        r = pthread_create(&t, &attr, matcher_main, m);
        (void) pthread_attr_destroy(&attr);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
                m->refs--;
                return -r;
        }
        m->thread = true;
        return 0;
}

int line_matcher_feed(LineMatcher *m, const char *line, size_t length) {
        Line *l;
        int r = 0;

        (void) pthread_mutex_lock(&m->lock);
        collect_done(m);
        if (m->matched)
                goto finish;
        /* In place only when cheap, and when no queued line is ahead (the
         * thread holds glibc's lock of the regex while it matches). */
        if (!m->head && !m->busy && m->states <= LINE_MATCHER_INLINE_STATES &&
            length <= LINE_MATCHER_INLINE_LENGTH_MAX && m->states * length * length <= LINE_MATCHER_INLINE_COST) {
                (void) pthread_mutex_unlock(&m->lock);
                return match(&m->re, line, length) ? 1 : 0;
        }
        if (m->queued + length > LINE_MATCHER_QUEUE_MAX) {
                m->dropped++;
                goto finish;
        }
        if (!m->thread && start_thread(m) < 0) {
                /* No thread to be had (RLIMIT_NPROC, memory): match here,
                 * slow but right. Nothing is queued, so nobody else matches. */
                (void) pthread_mutex_unlock(&m->lock);
                return match(&m->re, line, length) ? 1 : 0;
        }
        l = malloc(sizeof *l + length + 1);
        if (!l) {
                r = -ENOMEM;
                goto finish;
        }
        *l = (Line) { .generation = m->generation, .length = length };
        memcpy(l->text, line, length);
        l->text[length] = '\0';
        if (m->tail)
                m->tail->next = l;
        else
                m->head = l;
        m->tail = l;
        m->queued += length;
        (void) pthread_cond_signal(&m->cond);
finish:
        (void) pthread_mutex_unlock(&m->lock);
        return r;
}

int line_matcher_fd(LineMatcher *m) {
        return m->event_fd;
}

bool line_matcher_take_match(LineMatcher *m) {
        uint64_t v;
        bool matched;

        (void) pthread_mutex_lock(&m->lock);
        (void) !read(m->event_fd, &v, sizeof v);
        collect_done(m);
        matched = m->matched;
        (void) pthread_mutex_unlock(&m->lock);
        return matched;
}

unsigned long line_matcher_dropped(LineMatcher *m) {
        unsigned long n;

        (void) pthread_mutex_lock(&m->lock);
        n = m->dropped;
        (void) pthread_mutex_unlock(&m->lock);
        return n;
}

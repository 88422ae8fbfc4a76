/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
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
        regex_t re;
        uint64_t states;
        int event_fd;
        unsigned refs;          /* the owner's, and the thread's while it runs */
        bool thread;            /* a thread was started */
        bool busy;              /* the thread is matching a line */
        bool closing;           /* the owner is gone */
        bool matched;
        uint64_t generation;    /* bumped by reset: results of older lines do not count */
        Line *head, *tail;
        size_t queued;          /* bytes */
        unsigned long dropped;
};

static void matcher_destroy(LineMatcher *m) {
        while (m->head) {
                Line *l = m->head;
                m->head = l->next;
                free(l);
        }
        regfree(&m->re);
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

static bool match(LineMatcher *m, const char *text, size_t length) {
        /* REG_STARTEND: a line may hold NULs. */
        regmatch_t r = { .rm_so = 0, .rm_eo = (regoff_t) length };
        return regexec(&m->re, text, 1, &r, REG_STARTEND) == 0;
}

static void *matcher_main(void *userdata) {
        LineMatcher *m = userdata;

        /* Below the loop's thread, should they compete for a core (Linux:
         * the nice value is per thread). */
        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), 10);

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
                if (l->generation != m->generation || m->matched) {
                        free(l);
                        continue;
                }
                m->busy = true;
                (void) pthread_mutex_unlock(&m->lock);
                bool hit = match(m, l->text, l->length);
                (void) pthread_mutex_lock(&m->lock);
                m->busy = false;
                if (hit && l->generation == m->generation && !m->matched) {
                        uint64_t one = 1;
                        m->matched = true;
                        (void) !write(m->event_fd, &one, sizeof one);
                }
                free(l);
        }
        matcher_unref_locked(m);
        return NULL;
}

int line_matcher_new(regex_t *re, uint64_t states, LineMatcher **ret) {
        LineMatcher *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        m->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->event_fd < 0) {
                int r = -errno;
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
        while (m->head) {
                Line *l = m->head;
                m->head = l->next;
                free(l);
        }
        m->tail = NULL;
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
        if (m->matched)
                goto finish;
        /* In place only when cheap, and when no queued line is ahead (the
         * thread holds glibc's lock of the regex while it matches). */
        if (!m->head && !m->busy && m->states <= LINE_MATCHER_INLINE_STATES &&
            m->states * length <= LINE_MATCHER_INLINE_COST) {
                (void) pthread_mutex_unlock(&m->lock);
                return match(m, line, length) ? 1 : 0;
        }
        if (m->queued + length > LINE_MATCHER_QUEUE_MAX) {
                m->dropped++;
                goto finish;
        }
        if (!m->thread && (r = start_thread(m)) < 0)
                goto finish;
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

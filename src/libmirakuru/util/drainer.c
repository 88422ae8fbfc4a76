/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "drainer.h"
#include "macro.h"

#define EVENTS_PER_WAIT 64

static struct {
        pthread_mutex_t lock;       /* the fields below, for holders */
        pthread_mutex_t batch_lock; /* held by the thread while handlers run */
        pthread_cond_t batch_done;  /* signalled, under batch_lock, after each batch */
        uint64_t batches;           /* batches done, under batch_lock */
        unsigned holders;
        int generation;             /* tokens; changes in a forked child */
        int epoll_fd;
        int wake_fd;
        bool stopping;
        pthread_t thread;
} drainer = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .batch_lock = PTHREAD_MUTEX_INITIALIZER,
        .batch_done = PTHREAD_COND_INITIALIZER,
        .epoll_fd = -EBADF,
        .wake_fd = -EBADF,
};

static void *drainer_main(void *arg _unused_) {
        struct epoll_event events[EVENTS_PER_WAIT];

        for (;;) {
                int n = epoll_wait(drainer.epoll_fd, events, EVENTS_PER_WAIT, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return NULL; /* cannot happen with a valid epoll fd */
                }
                pthread_mutex_lock(&drainer.batch_lock);
                for (int i = 0; i < n; i++) {
                        DrainSource *s = events[i].data.ptr;
                        if (s) {
                                s->handler(s, events[i].events);
                                continue;
                        }
                        /* The wake fd: a holder lets go of the last source. */
                        uint64_t v;
                        (void) !read(drainer.wake_fd, &v, sizeof v);
                        if (__atomic_load_n(&drainer.stopping, __ATOMIC_ACQUIRE)) {
                                drainer.batches++;
                                pthread_cond_broadcast(&drainer.batch_done);
                                pthread_mutex_unlock(&drainer.batch_lock);
                                return NULL;
                        }
                }
                drainer.batches++;
                pthread_cond_broadcast(&drainer.batch_done);
                pthread_mutex_unlock(&drainer.batch_lock);
        }
}

static void close_fds(void) {
        drainer.epoll_fd = safe_close(drainer.epoll_fd);
        drainer.wake_fd = safe_close(drainer.wake_fd);
}

static int start_thread(void) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        sigset_t all, saved;
        int r;

        drainer.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (drainer.epoll_fd < 0)
                return -errno;
        drainer.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (drainer.wake_fd < 0 || epoll_ctl(drainer.epoll_fd, EPOLL_CTL_ADD, drainer.wake_fd, &ev) < 0) {
                r = -errno;
                close_fds();
                return r;
        }
        drainer.stopping = false;
        /* The thread inherits the mask: it must never take the caller's
         * signals (a process-directed SIGTERM meant for a signalfd, say). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = -pthread_create(&drainer.thread, NULL, drainer_main, NULL);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                close_fds();
        return r;
}

static void stop_thread(void) {
        uint64_t one = 1;

        __atomic_store_n(&drainer.stopping, true, __ATOMIC_RELEASE);
        (void) !write(drainer.wake_fd, &one, sizeof one);
        pthread_join(drainer.thread, NULL);
        close_fds();
}

/* Waits until the thread has finished a batch that it fetched from epoll
 * after this call began: the events of a batch fetched earlier may name
 * sources deleted since, and their handlers may still be about to run. */
static void wait_for_fresh_batch(void) {
        uint64_t one = 1, seen;

        pthread_mutex_lock(&drainer.batch_lock);
        /* Holding the lock, the thread is not running handlers. A batch it
         * already fetched (and waits for the lock to run) may name deleted
         * sources: their handlers find them closing, under the owner's lock,
         * and leave; once that batch is done, no later one can name them.
         * The wake-up makes sure there is a next batch. */
        seen = drainer.batches;
        (void) !write(drainer.wake_fd, &one, sizeof one);
        while (drainer.batches < seen + 1)
                pthread_cond_wait(&drainer.batch_done, &drainer.batch_lock);
        pthread_mutex_unlock(&drainer.batch_lock);
}

/* In a forked child the thread does not exist and the epoll set is the
 * parent's: forget both (the fds are closed, the set stays the parent's). */
static void atfork_child(void) {
        pthread_mutex_init(&drainer.lock, NULL);
        pthread_mutex_init(&drainer.batch_lock, NULL);
        pthread_cond_init(&drainer.batch_done, NULL);
        if (drainer.holders > 0)
                close_fds();
        drainer.holders = 0;
        drainer.generation++;
}

static void register_atfork(void) {
        (void) pthread_atfork(NULL, NULL, atfork_child);
}

int drainer_hold(void) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        int r = 0;

        pthread_once(&once, register_atfork);
        pthread_mutex_lock(&drainer.lock);
        if (drainer.holders == 0)
                r = start_thread();
        if (r >= 0) {
                drainer.holders++;
                r = drainer.generation;
        }
        pthread_mutex_unlock(&drainer.lock);
        return r;
}

void drainer_release(int token) {
        pthread_mutex_lock(&drainer.lock);
        if (token != drainer.generation || drainer.holders == 0) {
                pthread_mutex_unlock(&drainer.lock);
                return;
        }
        if (--drainer.holders == 0)
                stop_thread(); /* joined: no handler runs any more */
        else
                wait_for_fresh_batch();
        pthread_mutex_unlock(&drainer.lock);
}

int drainer_add(int token, int fd, uint32_t events, DrainSource *s) {
        struct epoll_event ev = { .events = events, .data.ptr = s };

        if (token != __atomic_load_n(&drainer.generation, __ATOMIC_RELAXED))
                return -ESTALE;
        return epoll_ctl(drainer.epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void drainer_del(int token, int fd) {
        if (token != __atomic_load_n(&drainer.generation, __ATOMIC_RELAXED))
                return;
        (void) epoll_ctl(drainer.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

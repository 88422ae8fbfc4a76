/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "util/io-util.h"

ssize_t write_no_sigpipe(int fd, const void *buf, size_t n) {
        sigset_t pipe_only, old, pending;
        bool was_pending;
        ssize_t k;
        int saved;

        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
        (void) pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
        k = write(fd, buf, n);
        saved = errno;
        if (k < 0 && saved == EPIPE && !was_pending) {
                /* EPIPE raised SIGPIPE for this thread: take it back. */
                const struct timespec zero = { 0, 0 };
                while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
                        ;
        }
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = saved;
        return k;
}

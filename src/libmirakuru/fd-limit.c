/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "fd-limit.h"
#include "mirakuru.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rlimit for_children;
static bool raised;

int mk_raise_fd_limit(void) {
        struct rlimit rl;
        int r = 0;

        pthread_mutex_lock(&lock);
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                r = -errno;
        else {
                struct rlimit mine = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
                /* Children get the soft limit of before the first call, and
                 * the hard limit as it is: a later lowering of ours stands. */
                if (!raised)
                        for_children = rl;
                for_children.rlim_max = rl.rlim_max;
                if (for_children.rlim_cur > rl.rlim_max)
                        for_children.rlim_cur = rl.rlim_max;
                if (rl.rlim_cur != rl.rlim_max && setrlimit(RLIMIT_NOFILE, &mine) < 0)
                        r = -errno;
                else
                        raised = true;
        }
        pthread_mutex_unlock(&lock);
        return r;
}

const struct rlimit *fd_limit_for_children(void) {
        const struct rlimit *ret;

        pthread_mutex_lock(&lock);
        ret = raised ? &for_children : NULL;
        pthread_mutex_unlock(&lock);
        return ret;
}

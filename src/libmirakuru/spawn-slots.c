/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "spawn-slots.h"
#include "util/macro.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int devnull = -1;
static int *slots;
static size_t n_slots, n_used;

int spawn_slots_acquire(size_t n, int *ret_bound) {
        int bound = 0;

        pthread_mutex_lock(&lock);
        if (devnull < 0) {
                devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (devnull < 0) {
                        int error = errno;
                        pthread_mutex_unlock(&lock);
                        return -error;
                }
        }
        if (n > n_slots) {
                int *s = realloc(slots, n * sizeof *s);
                if (!s) {
                        pthread_mutex_unlock(&lock);
                        return -ENOMEM;
                }
                slots = s;
                while (n_slots < n) {
                        /* The lowest free number from 3 up (0-2 are the child's stdio anyway). */
                        int fd = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
                        if (fd < 0) {
                                int error = errno;
                                pthread_mutex_unlock(&lock);
                                return -error;
                        }
                        slots[n_slots++] = fd;
                }
        }
        for (size_t i = 0; i < n; i++)
                bound = MAX(bound, slots[i] + 1);
        n_used = n;
        *ret_bound = bound;
        return 0;
}

int spawn_slots_put(size_t i, int fd, int *ret) {
        if (fd < 0 || i >= n_used || fd == slots[i]) {
                *ret = fd;
                return 0;
        }
        if (dup3(fd, slots[i], O_CLOEXEC) < 0)
                return -errno;
        *ret = slots[i];
        return 0;
}

void spawn_slots_release(void) {
        for (size_t i = 0; i < n_used; i++)
                (void) dup3(devnull, slots[i], O_CLOEXEC);
        n_used = 0;
        pthread_mutex_unlock(&lock);
}

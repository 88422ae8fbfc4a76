/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc-children.h"
#include "util/macro.h"

int pid_array_push(PidArray *a, pid_t pid) {
        if (a->n == a->alloc) {
                size_t want = MAX(a->alloc * 2, (size_t) 16);
                pid_t *p = realloc(a->pids, want * sizeof *p);
                if (!p)
                        return -ENOMEM;
                a->pids = p;
                a->alloc = want;
        }
        a->pids[a->n++] = pid;
        return 0;
}

bool pid_in(const pid_t *a, size_t n, pid_t p) {
        for (size_t i = 0; i < n; i++)
                if (a[i] == p)
                        return true;
        return false;
}

void pid_array_done(PidArray *a) {
        free(a->pids);
        *a = (PidArray) {};
}

static bool supported;
static pthread_once_t supported_once = PTHREAD_ONCE_INIT;

static void look_up_support(void) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int) gettid());
        supported = access(path, R_OK) == 0;
}

bool proc_children_supported(void) {
        (void) pthread_once(&supported_once, look_up_support);
        return supported;
}

/* Reads one children file whole: the kernel builds it under the tasklist
 * lock, one read() at a time, so one big read sees one moment. */
static int append_file(int dir_fd, const char *path, PidArray *out) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        size_t size = 4096, len = 0;
        _cleanup_free_ char *buf = NULL;
        int r;

        if (fd < 0)
                return 0; /* the thread (or the process) is gone */
        for (;;) {
                if (len + 1 >= size || !buf) {
                        char *b = realloc(buf, size *= (buf ? 2 : 1));
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
                ssize_t n = read(fd, buf + len, size - len - 1);
                if (n < 0)
                        return 0;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        for (char *p = buf; *p;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0 && (r = pid_array_push(out, (pid_t) v)) < 0)
                        return r;
                p = end;
        }
        return 0;
}

int proc_children_append(pid_t pid, PidArray *out) {
        char path[64];
        struct dirent *de;
        int r = 0;

        snprintf(path, sizeof path, "/proc/%d/task", (int) pid);
        DIR *d = opendir(path);
        if (!d)
                return errno == ENOMEM ? -ENOMEM : 0;
        while ((de = readdir(d))) {
                char file[300];
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(file, sizeof file, "%s/children", de->d_name);
                r = append_file(dirfd(d), file, out);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault-common.h"
#include "test-util.h"

const char *fault_service(void) {
        static const char *path;
        if (!path)
                path = test_helper("fault-service"); /* malloc'd once, kept */
        return path;
}

pid_t *fault_read_pids(const char *file, size_t *ret_n) {
        pid_t *pids = NULL;
        size_t n = 0;
        char line[64];
        FILE *f = fopen(file, "re");

        if (f) {
                while (fgets(line, sizeof line, f)) {
                        /* Only complete lines: a writer may be midway. */
                        if (!strchr(line, '\n'))
                                break;
                        pid_t *p = realloc(pids, (n + 1) * sizeof *pids);
                        if (!p)
                                abort();
                        pids = p;
                        pids[n++] = (pid_t) atoi(line);
                }
                fclose(f);
        }
        *ret_n = n;
        return pids;
}

pid_t *fault_wait_pids(const char *file, size_t want, uint64_t usec, size_t *ret_n) {
        uint64_t end = test_now_usec() + usec;

        for (;;) {
                pid_t *pids = fault_read_pids(file, ret_n);
                if (*ret_n >= want || test_now_usec() >= end)
                        return pids;
                free(pids);
                struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

void fault_assert_gone(const pid_t *pids, size_t n, uint64_t usec, const char *what) {
        uint64_t t0 = test_now_usec();
        size_t survived = 0;

        for (size_t i = 0; i < n; i++) {
                uint64_t spent = test_now_usec() - t0;
                if (!test_wait_pid_gone(pids[i], spent < usec ? usec - spent : 0)) {
                        fprintf(stderr, "survivor after %s: pid %d\n", what, (int) pids[i]);
                        survived++;
                }
        }
        fprintf(stderr, "# %s: %zu of %zu processes gone after %llu us\n", what, n - survived, n,
                (unsigned long long) (test_now_usec() - t0));
        if (survived > 0)
                fail_msg("%zu processes survived %s", survived, what);
}

void fault_assert_cgroup_gone(const char *path, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;
        struct stat st;

        while (stat(path, &st) == 0) {
                if (test_now_usec() >= end)
                        fail_msg("cgroup %s is still there", path);
                struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

uint16_t fault_free_port(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

void fault_reap(void) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

bool fault_error_has(MkExecutor *e, const char *needle) {
        const char *m = mk_executor_get_error(e);
        fprintf(stderr, "# error: %s\n", m ?: "(none)");
        return m && strstr(m, needle);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
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

char *fault_own_cgroup(void) {
        char line[4096], mount[4096] = "", *path = NULL;
        FILE *f = fopen("/proc/self/mounts", "re");

        if (!f)
                return NULL;
        while (fgets(line, sizeof line, f)) {
                char dev[256], dir[4096], type[64];
                if (sscanf(line, "%255s %4095s %63s", dev, dir, type) == 3 && strcmp(type, "cgroup2") == 0) {
                        snprintf(mount, sizeof mount, "%s", dir);
                        break;
                }
        }
        fclose(f);
        f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return NULL;
        while (mount[0] && fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        if (asprintf(&path, "%s%s", mount, strcmp(line + 3, "/") == 0 ? "" : line + 3) < 0)
                                path = NULL;
                }
        fclose(f);
        return path;
}

/* Removes every cgroup below TOP: remove each child; enter one that is busy;
 * leave a directory with nothing left to enter through "..". */
static void remove_below(int top) {
        struct stat top_st, st;
        uint64_t end = test_now_usec() + 10 * MK_USEC_PER_SEC;
        int cur = dup(top);

        if (cur < 0 || fstat(top, &top_st) < 0)
                return;
        while (test_now_usec() < end) {
                DIR *d;
                struct dirent *de;
                int entered = -1, again = dup(cur);

                if (again < 0 || !(d = fdopendir(again)))
                        break;
                rewinddir(d);
                while ((de = readdir(d))) {
                        if (de->d_type != DT_DIR || de->d_name[0] == '.')
                                continue;
                        if (unlinkat(cur, de->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                                continue;
                        entered = openat(cur, de->d_name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                        if (entered >= 0)
                                break;
                }
                closedir(d);
                if (entered >= 0) {
                        close(cur);
                        cur = entered;
                        continue;
                }
                if (fstat(cur, &st) < 0 || (st.st_ino == top_st.st_ino && st.st_dev == top_st.st_dev))
                        break;
                int up = openat(cur, "..", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                close(cur);
                if (up < 0)
                        return;
                cur = up;
        }
        close(cur);
}

int fault_cgroup_cleanup(pid_t supervisor) {
        char *own = fault_own_cgroup(), prefix[64];
        int n = 0, dfd;
        DIR *d;
        struct dirent *de;

        if (!own)
                return 0;
        snprintf(prefix, sizeof prefix, "mirakuru-%d-", (int) supervisor);
        d = opendir(own);
        free(own);
        if (!d)
                return 0;
        dfd = dirfd(d);
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                n++;
                int fd = openat(dfd, de->d_name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                int k = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
                if (k >= 0) {
                        (void) !write(k, "1", 1);
                        close(k);
                }
                for (int i = 0; i < 200; i++) {
                        char buf[256] = "";
                        int e = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
                        ssize_t l = e >= 0 ? read(e, buf, sizeof buf - 1) : -1;
                        if (e >= 0)
                                close(e);
                        if (l <= 0 || strstr(buf, "populated 0"))
                                break;
                        struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
                remove_below(fd);
                close(fd);
                (void) unlinkat(dfd, de->d_name, AT_REMOVEDIR);
        }
        closedir(d);
        return n;
}

int fault_run_cli(const char *const *args, const char *err_file, const char *mark_file, uint64_t limit_usec,
                  uint64_t *ret_after_mark_usec, pid_t *ret_pid) {
        const char *argv[64] = { "mirakuru-run" };
        uint64_t start = test_now_usec(), mark = 0;
        size_t n = 1;
        int status;
        pid_t pid;

        for (const char *const *a = args; *a && n < 63; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(err_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                execv(test_mirakuru_run(), (char **) argv);
                _exit(127);
        }
        if (ret_pid)
                *ret_pid = pid;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                uint64_t now = test_now_usec();
                if (w == pid)
                        break;
                if (mark_file && mark == 0) {
                        struct stat st;
                        if (stat(mark_file, &st) == 0 && st.st_size > 0)
                                mark = now;
                }
                if (now - start > limit_usec) {
                        fprintf(stderr, "# mirakuru-run still running after %llu us: killed\n",
                                (unsigned long long) (now - start));
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        /* Its guard kills what it left; ours removes it. */
                        struct timespec ts = { .tv_nsec = 300 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                        (void) fault_cgroup_cleanup(pid);
                        return -1;
                }
                struct timespec ts = { .tv_nsec = 5 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        if (ret_after_mark_usec)
                *ret_after_mark_usec = mark ? test_now_usec() - mark : 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void fault_remove_cgroup_tree(const char *path) {
        char *parent = strdup(path), *slash;
        int pfd, fd;

        if (!parent || !(slash = strrchr(parent, '/'))) {
                free(parent);
                return;
        }
        *slash = '\0';
        pfd = open(parent, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        fd = pfd >= 0 ? openat(pfd, slash + 1, O_DIRECTORY | O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
                int k = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
                if (k >= 0) {
                        (void) !write(k, "1", 1);
                        close(k);
                }
                for (int i = 0; i < 200; i++) {
                        char buf[256] = "";
                        int e = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
                        ssize_t l = e >= 0 ? read(e, buf, sizeof buf - 1) : -1;
                        if (e >= 0)
                                close(e);
                        if (l <= 0 || strstr(buf, "populated 0"))
                                break;
                        struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
                remove_below(fd);
                close(fd);
                (void) unlinkat(pfd, slash + 1, AT_REMOVEDIR);
        }
        if (pfd >= 0)
                close(pfd);
        free(parent);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-tree.h"
#include "cgroup-util.h"
#include "proc-children.h"
#include "util/macro.h"
#include "util/proc-stat.h"

#define SIGNAL_PASSES_MAX 1000
/* A catchable signal need not chase a fork loop: the kill signal follows. */
#define SIGNAL_PASSES_CATCHABLE 8
/* One signalling (or kill) of a cgroup tree takes at most this long, and
 * one removal of a tree: whatever the service built below its cgroup. */
#define CG_SIGNAL_BUDGET_USEC (250 * 1000ULL)
#define CG_REMOVE_BUDGET_USEC (1000 * 1000ULL)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

int cg_mount_path(char **ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mounts", "re");
        char line[4096];

        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                char dev[1024], dir[2048], type[64];
                if (sscanf(line, "%1023s %2047s %63s", dev, dir, type) != 3)
                        continue;
                if (strcmp(type, "cgroup2") != 0)
                        continue;
                /* Octal escapes (\040) would only appear in exotic mount points. */
                char *p = strdup(dir);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }
        return -ENOMEDIUM;
}

int cg_pid_path(pid_t pid, char **ret) {
        _cleanup_free_ char *mount = NULL;
        char path[64], line[4096];
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        r = cg_mount_path(&mount);
        if (r < 0)
                return r;
        if (pid == 0)
                snprintf(path, sizeof path, "/proc/self/cgroup");
        else
                snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "0::", 3) != 0)
                        continue;
                line[strcspn(line, "\n")] = '\0';
                const char *rel = line + 3;
                if (strstr(rel, " (deleted)"))
                        return -ENOENT;
                if (strcmp(rel, "/") == 0)
                        rel = "";
                if (asprintf_safe(ret, "%s%s", mount, rel) < 0)
                        return -ENOMEM;
                return 0;
        }
        return -ENOMEDIUM;
}

static int read_pids_at(int dir_fd, pid_t **pids, size_t *n) {
        _cleanup_fclose_ FILE *f = NULL;
        int fd;
        long v;

        fd = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno; /* removed meanwhile */
        f = fdopen(fd, "re");
        if (!f) {
                safe_close(fd);
                return -errno;
        }
        while (fscanf(f, "%ld", &v) == 1) {
                pid_t *a = realloc(*pids, (*n + 1) * sizeof(pid_t));
                if (!a)
                        return -ENOMEM;
                *pids = a;
                a[(*n)++] = (pid_t) v;
        }
        return 0;
}

typedef struct PidList {
        pid_t *pids;
        size_t n;
} PidList;

static int collect_pids(int dir_fd, void *userdata) {
        PidList *l = userdata;
        return read_pids_at(dir_fd, &l->pids, &l->n);
}

int cg_read_pids(int cgroup_fd, uint64_t deadline_usec, pid_t **ret, size_t *ret_n) {
        PidList l = {};
        const CgTreeVisitor v = { .pre = collect_pids, .userdata = &l };
        int r;

        r = cg_tree_walk(cgroup_fd, &v, deadline_usec);
        if (r < 0 && r != -ETIME) {
                free(l.pids);
                return r;
        }
        /* -ETIME: what the bounded walk found (the kill signal reaches the rest). */
        *ret = l.pids;
        *ret_n = l.n;
        return r;
}

int cg_is_populated(const char *cgroup) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char line[256];

        if (asprintf_safe(&path, "%s/cgroup.events", cgroup) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "populated ", 10) == 0)
                        return line[10] == '1';
        return -EBADMSG;
}

/* Signals every process of the cgroup not yet in *SEEN, until a pass finds
 * none new, the passes run out, or DEADLINE passes. */
static int signal_loop(int cgroup_fd, int signo, uint64_t deadline, pid_t **seen, size_t *n_seen,
                       char **leftovers) {
        unsigned max = signo == SIGKILL ? SIGNAL_PASSES_MAX : SIGNAL_PASSES_CATCHABLE;

        for (unsigned pass = 0; pass < max; pass++) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                bool any = false;
                int r;

                r = cg_read_pids(cgroup_fd, deadline, &pids, &n);
                if (r < 0 && r != -ETIME)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        if (pid_in(*seen, *n_seen, pids[i]))
                                continue;
                        pid_t *a = realloc(*seen, (*n_seen + 1) * sizeof(pid_t));
                        if (!a)
                                return -ENOMEM;
                        *seen = a;
                        a[(*n_seen)++] = pids[i];
                        if (leftovers)
                                (void) leftovers_add(leftovers, pids[i]);
                        /* EPERM: a setuid program that changed all its ids
                         * (an unprivileged supervisor may not signal it). The
                         * others are signalled all the same; cgroup.kill,
                         * which needs no permission on the process, follows
                         * at the stop timeout. */
                        if (kill(pids[i], signo) < 0 && errno != ESRCH && errno != EPERM)
                                return -errno;
                        any = true;
                }
                if (r == -ETIME || cg_now_usec() >= deadline)
                        return -ETIME;
                if (!any)
                        return 0;
        }
        return signo == SIGKILL ? -EBUSY : 0;
}

static int write_at(int dir_fd, const char *file, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        size_t l = strlen(value);

        fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (write(fd, value, l) != (ssize_t) l)
                return negative_errno();
        return 0;
}

int cg_signal_all(int cgroup_fd, int signo) {
        _cleanup_free_ pid_t *seen = NULL;
        size_t n_seen = 0;
        int r;

        /* Frozen (Linux 5.2; the whole subtree with it), nobody forks while
         * we read and signal. */
        bool frozen = write_at(cgroup_fd, "cgroup.freeze", "1") >= 0;
        r = signal_loop(cgroup_fd, signo, cg_now_usec() + CG_SIGNAL_BUDGET_USEC, &seen, &n_seen, NULL);
        if (frozen)
                (void) write_at(cgroup_fd, "cgroup.freeze", "0");
        /* Out of time for a catchable signal: the kill signal follows at the
         * stop timeout, as after the last pass. */
        return r == -ETIME && signo != SIGKILL ? 0 : r;
}

int cg_kill_all(int cgroup_fd, int signo, char **leftovers) {
        _cleanup_free_ pid_t *pids = NULL;
        uint64_t deadline = cg_now_usec() + CG_SIGNAL_BUDGET_USEC;
        size_t n = 0;
        int r;

        if (signo == SIGKILL) {
                /* Whom it reaches, for the record: a bounded look, and
                 * whatever it finds, cgroup.kill follows. */
                if (leftovers) {
                        r = cg_read_pids(cgroup_fd, deadline, &pids, &n);
                        for (size_t i = 0; (r >= 0 || r == -ETIME) && i < n; i++)
                                (void) leftovers_add(leftovers, pids[i]);
                }
                r = write_at(cgroup_fd, "cgroup.kill", "1");
                if (r >= 0 || r == -ENOENT)
                        return 0; /* ENOENT: the cgroup itself is gone */
                /* Before Linux 5.14 there is no cgroup.kill: fall through. */
                leftovers = NULL; /* already listed */
        }

        /* Freeze (5.2) so nothing forks between reading and signalling, then
         * signal each and thaw; a SIGKILL reaches frozen tasks. */
        bool frozen = write_at(cgroup_fd, "cgroup.freeze", "1") >= 0;
        free(pids);
        pids = NULL;
        n = 0;
        r = signal_loop(cgroup_fd, signo, deadline, &pids, &n, leftovers);
        if (frozen)
                (void) write_at(cgroup_fd, "cgroup.freeze", "0");
        return r;
}

int cg_remove_at(int parent_fd, const char *name) {
        _cleanup_close_ int fd = openat(parent_fd, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        (void) cg_tree_remove_children(fd, cg_now_usec() + CG_REMOVE_BUDGET_USEC);
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int cg_remove(const char *cgroup) {
        _cleanup_free_ char *parent = strdup(cgroup);
        _cleanup_close_ int parent_fd = -EBADF;
        char *slash;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        *slash = '\0';
        parent_fd = open(slash == parent ? "/" : parent, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (parent_fd < 0)
                return errno == ENOENT ? 0 : -errno;
        return cg_remove_at(parent_fd, slash + 1);
}

int proc_start_time(pid_t pid, uint64_t *ret) {
        ProcStat st;
        int r = proc_stat_read(pid, &st);
        if (r < 0)
                return r;
        *ret = st.start_time;
        return 0;
}

int leftovers_add_note(char **list, pid_t pid, const char *note) {
        char path[64], buf[512];
        _cleanup_close_ int fd = -EBADF;
        ssize_t l = 0;
        char *n;

        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                l = read(fd, buf, sizeof buf - 1);
        if (l <= 0) {
                /* No cmdline (a zombie, or gone): use comm. */
                snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
                safe_close(fd);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                l = fd >= 0 ? read(fd, buf + 1, sizeof buf - 3) : -1;
                if (l <= 0)
                        l = snprintf(buf, sizeof buf, "[?]");
                else {
                        buf[0] = '[';
                        l = (ssize_t) strcspn(buf, "\n");
                        buf[l++] = ']';
                }
        } else {
                for (ssize_t i = 0; i < l; i++)
                        if (buf[i] == '\0' || buf[i] == '\n')
                                buf[i] = ' ';
                while (l > 0 && buf[l - 1] == ' ')
                        l--;
        }
        buf[l] = '\0';
        if (asprintf_safe(&n, "%s%d %s%s%s%s\n", *list ?: "", (int) pid, buf, note ? " (" : "", note ?: "",
                          note ? ")" : "") < 0)
                return -ENOMEM;
        free(*list);
        *list = n;
        return 0;
}

int leftovers_add(char **list, pid_t pid) {
        return leftovers_add_note(list, pid, NULL);
}

int cg_make_name(const char *prefix, char **ret) {
        static unsigned counter;
        uint64_t start = 0;
        int r;

        r = proc_start_time(getpid(), &start);
        if (r < 0)
                return r;
        if (asprintf_safe(ret, "%s-%d-%llu-%u", prefix, (int) getpid(), (unsigned long long) start,
                     ++counter) < 0)
                return -ENOMEM;
        return 0;
}

bool cg_name_is_stale(const char *prefix, const char *name) {
        size_t l = strlen(prefix);
        unsigned long long start;
        uint64_t now_start = 0;
        int pid, consumed = 0;

        if (strncmp(name, prefix, l) != 0 || name[l] != '-')
                return false;
        if (sscanf(name + l, "-%d-%llu-%n", &pid, &start, &consumed) < 2 || consumed == 0 || pid <= 0)
                return false;
        if (pid == getpid()) {
                /* Our own siblings, the common case with many services: one
                 * /proc read per process, not one per sibling and start
                 * (bench/ measured that quadratic cost at 1,000 services). */
                static _Thread_local pid_t own_pid;
                static _Thread_local uint64_t own_start;
                if (own_pid != pid) {
                        if (proc_start_time(pid, &own_start) < 0)
                                return false;
                        own_pid = pid;
                }
                return own_start != start;
        }
        if (proc_start_time(pid, &now_start) < 0)
                return true; /* the supervisor is gone */
        return now_start != start; /* the pid was reused */
}

/* Waits up to TIMEOUT_MS for CGROUP to empty, woken by cgroup.events.
 * kernfs files poll with POLLPRI when they change (after a read from the
 * start re-arms them); no inotify: closing the last inotify fd of a process
 * waits for an SRCU grace period (fsnotify_destroy_group), 10-20 ms here. */
int cg_wait_empty_blocking(const char *cgroup, int timeout_ms) {
        _cleanup_free_ char *events = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t deadline = cg_now_usec() + (uint64_t) timeout_ms * 1000;
        int r;

        if (asprintf_safe(&events, "%s/cgroup.events", cgroup) < 0)
                return -ENOMEM;
        fd = open(events, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        for (;;) {
                char buf[256];
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                uint64_t now;
                ssize_t n;

                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
                n = read(fd, buf, sizeof buf - 1);
                if (n < 0)
                        return errno == ENODEV || errno == ENOENT ? 0 : -errno;
                buf[n] = 0;
                r = strstr(buf, "populated 1") ? 1 : strstr(buf, "populated 0") ? 0 : -EBADMSG;
                if (r <= 0)
                        return r;
                now = cg_now_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                /* The kernel rate-limits these notifications (one per ~10 ms
                 * per cgroup, the last one delivered late, never lost). */
                r = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return -errno;
        }
}

int cg_clean_stale(const char *parent, const char *prefix) {
        _cleanup_(closedirp) DIR *d = opendir(parent);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -EBADF;
                if (de->d_type != DT_DIR || !cg_name_is_stale(prefix, de->d_name))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                if (asprintf_safe(&path, "%s/%s", parent, de->d_name) < 0)
                        return -ENOMEM;
                (void) cg_kill_all(fd, SIGKILL, NULL);
                (void) cg_wait_empty_blocking(path, 1000);
                if (cg_remove_at(dirfd(d), de->d_name) >= 0)
                        n++;
        }
        return n;
}

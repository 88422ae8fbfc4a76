/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guard process (see guard.h): forked from the supervisor, never
 * exec'd. Async-signal-safe calls only: the supervisor may have had other
 * threads, so no malloc and no stdio; its table lives in mmap()ed memory. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "guard-protocol.h"
#include "util/proc-stat.h"

#define GUARD_KILL_PASSES 1000
#define GUARD_EMPTY_WAIT_MS 10000
#define GUARD_RMDIR_MS 2000
#define GUARD_TABLE_MIN 64
#define GUARD_TRIM_MIN (1024 * 1024UL) /* smaller anonymous mappings are not worth the risk */
#if defined(__SANITIZE_ADDRESS__)
#  define GUARD_UNDER_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define GUARD_UNDER_ASAN 1
#  endif
#endif
#ifndef GUARD_UNDER_ASAN
#  define GUARD_UNDER_ASAN 0
#endif
#if HAVE_VALGRIND_H
#  include <valgrind/valgrind.h>
#else
#  define RUNNING_ON_VALGRIND 0
#  define VALGRIND_CLO_CHANGE(option) ((void) 0)
#endif

typedef struct Entry {
        uint64_t id;   /* 0: a free slot */
        int fd;        /* the cgroup directory, or a pidfd of the group leader */
        int parent_fd; /* with rmdir: the cgroup's parent directory; else -1 */
        pid_t pgid;    /* > 0: a process group, not a cgroup */
        int wd;        /* inotify watch on cgroup.events while waiting for it to empty */
        bool done;
        char name[NAME_MAX + 1];
} Entry;

/* The table lives in mmap()ed memory (no malloc in the guard), grows by
 * doubling, and slots are reused: its size is bounded by the largest
 * number of services registered at once. */
static Entry *table;
static size_t table_size;

static char *put_uint(char *p, unsigned long v) {
        char tmp[24];
        int n = 0;
        do
                tmp[n++] = (char) ('0' + v % 10);
        while ((v /= 10));
        while (n)
                *p++ = tmp[--n];
        return p;
}

static ssize_t read_at(int dirfd, const char *file, char *buf, size_t size) {
        int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        ssize_t n = 0, l;

        if (fd < 0)
                return -1;
        while (n < (ssize_t) size - 1 && (l = read(fd, buf + n, size - 1 - (size_t) n)) > 0)
                n += l;
        close(fd);
        buf[n] = '\0';
        return n;
}

static bool write_at(int dirfd, const char *file, const char *value) {
        int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
        size_t l = strlen(value);
        bool ok;

        if (fd < 0)
                return false;
        ok = write(fd, value, l) == (ssize_t) l;
        close(fd);
        return ok;
}

static bool populated(int cgfd) {
        char buf[256];
        if (read_at(cgfd, "cgroup.events", buf, sizeof buf) <= 0)
                return false;
        for (char *p = buf; (p = strstr(p, "populated ")); p++)
                if (p == buf || p[-1] == '\n')
                        return p[10] == '1';
        return false;
}

static char procs_buf[65536]; /* cgroup.procs, in kill_cgroup() */

static void kill_cgroup(int cgfd) {
        char *buf = procs_buf;
        const size_t size = sizeof procs_buf;

        if (write_at(cgfd, "cgroup.kill", "1"))
                return;
        /* Before Linux 5.14: freeze, kill each, thaw. */
        (void) write_at(cgfd, "cgroup.freeze", "1");
        for (int pass = 0; pass < GUARD_KILL_PASSES; pass++) {
                ssize_t n = read_at(cgfd, "cgroup.procs", buf, size);
                unsigned long v = 0;
                bool any = false, digit = false;

                if (n <= 0)
                        break;
                for (ssize_t i = 0; i <= n; i++) {
                        if (i < n && buf[i] >= '0' && buf[i] <= '9') {
                                v = v * 10 + (unsigned long) (buf[i] - '0');
                                digit = true;
                        } else if (digit) {
                                (void) kill((pid_t) v, SIGKILL);
                                any = true;
                                v = 0;
                                digit = false;
                        }
                }
                if (!any)
                        break;
        }
        (void) write_at(cgfd, "cgroup.freeze", "0");
}

static _Alignas(struct dirent64) char dents_buf[16384]; /* remove_children(), scan_proc() */

/* /proc, for the process groups: every process with its ids, in pid
 * order (the order /proc lists them in), in mmap()ed memory. */
typedef struct ProcRow {
        int32_t pid, ppid, pgrp, session;
        bool member;
} ProcRow;

static ProcRow *rows;
static size_t n_rows, rows_size;

static bool parse_int(const char **p, int32_t *ret) {
        int32_t v = 0, sign = 1;
        const char *q = *p;

        while (*q == ' ')
                q++;
        if (*q == '-') {
                sign = -1;
                q++;
        }
        if (*q < '0' || *q > '9')
                return false;
        while (*q >= '0' && *q <= '9')
                v = v * 10 + (*q++ - '0');
        *p = q;
        *ret = v * sign;
        return true;
}

static void scan_proc(void) {
        int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ssize_t n;

        n_rows = 0;
        if (proc < 0)
                return;
        while ((n = getdents64(proc, dents_buf, sizeof dents_buf)) > 0)
                for (ssize_t off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (dents_buf + off);
                        char path[64], *q;
                        const char *p;
                        ProcRow row;
                        ProcStat st;
                        int32_t pid = 0;

                        off += de->d_reclen;
                        p = de->d_name;
                        if (!parse_int(&p, &pid) || *p)
                                continue;
                        q = path;
                        for (const char *c = de->d_name; *c; c++)
                                *q++ = *c;
                        memcpy(q, "/stat", sizeof "/stat");
                        if (proc_stat_read_at(proc, path, &st) < 0)
                                continue;
                        row = (ProcRow) { .pid = pid, .ppid = st.ppid, .pgrp = st.pgrp, .session = st.session };
                        if (n_rows == rows_size) {
                                size_t size = rows_size ? rows_size * 2 : 4096;
                                void *m = rows ? mremap(rows, rows_size * sizeof(ProcRow), size * sizeof(ProcRow), MREMAP_MAYMOVE)
                                               : mmap(NULL, size * sizeof(ProcRow), PROT_READ | PROT_WRITE,
                                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                                if (m == MAP_FAILED)
                                        break;
                                rows = m;
                                rows_size = size;
                        }
                        rows[n_rows++] = row;
                }
        close(proc);
}

static ProcRow *row_of(int32_t pid) {
        size_t lo = 0, hi = n_rows;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (rows[mid].pid == pid)
                        return &rows[mid];
                if (rows[mid].pid < pid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static bool is_registered_group(int32_t id) {
        for (size_t i = 0; i < table_size; i++)
                if (table[i].id != 0 && table[i].pgid > 0 && table[i].pgid == id)
                        return true;
        return false;
}

/* SIGKILL to every process of the registered process groups, as the
 * process-group backend counts them: in the group or the session, or a
 * descendant of one that is (a child that called setsid() while its parent
 * still belongs). A few passes, for what forked meanwhile. */
static void kill_group_members(void) {
        pid_t self = getpid();

        for (int pass = 0; pass < 4; pass++) {
                bool changed = true, any = false;

                scan_proc();
                for (size_t i = 0; i < n_rows; i++)
                        rows[i].member = is_registered_group(rows[i].pgrp) || is_registered_group(rows[i].session);
                for (int k = 0; changed && k < 64; k++) {
                        changed = false;
                        for (size_t i = 0; i < n_rows; i++) {
                                const ProcRow *parent;
                                if (rows[i].member || !(parent = row_of(rows[i].ppid)) || !parent->member)
                                        continue;
                                rows[i].member = changed = true;
                        }
                }
                for (size_t i = 0; i < n_rows; i++)
                        if (rows[i].member && rows[i].pid != self && rows[i].pid > 1) {
                                (void) kill(rows[i].pid, SIGKILL);
                                any = true;
                        }
                if (!any)
                        break;
        }
}

static int64_t guard_now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Removes every cgroup below TOP (which the service may have nested
 * thousands deep: paths would exceed PATH_MAX), without malloc and with
 * two fds: from the current directory, remove each child cgroup; one that
 * is busy (it has children) is entered; a directory left without busy
 * children is left for its parent through "..". Bounded in time. */
static void remove_children(int top) {
        int64_t deadline = guard_now_ms() + GUARD_RMDIR_MS;
        struct stat top_st, st;
        int cur;

        if (fstat(top, &top_st) < 0 || (cur = fcntl(top, F_DUPFD_CLOEXEC, 3)) < 0)
                return;
        while (guard_now_ms() < deadline) {
                bool entered = false;
                ssize_t n;

                if (lseek(cur, 0, SEEK_SET) < 0)
                        break;
                while (!entered && (n = getdents64(cur, dents_buf, sizeof dents_buf)) > 0)
                        for (ssize_t off = 0; off < n;) {
                                const struct dirent64 *de = (const struct dirent64 *) (dents_buf + off);
                                off += de->d_reclen;
                                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
                                    strcmp(de->d_name, "..") == 0)
                                        continue;
                                if (unlinkat(cur, de->d_name, AT_REMOVEDIR) >= 0 || errno == ENOENT)
                                        continue;
                                int child = openat(cur, de->d_name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                                if (child >= 0) {
                                        close(cur);
                                        cur = child;
                                        entered = true;
                                        break;
                                }
                        }
                if (entered)
                        continue;
                if (fstat(cur, &st) < 0 || (st.st_dev == top_st.st_dev && st.st_ino == top_st.st_ino))
                        break;
                int up = openat(cur, "..", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                close(cur);
                if (up < 0)
                        return;
                cur = up;
        }
        close(cur);
}

static Entry *entry_new(void) {
        size_t n;
        void *p;

        for (size_t i = 0; i < table_size; i++)
                if (table[i].id == 0)
                        return &table[i];
        n = table_size ? table_size * 2 : GUARD_TABLE_MIN;
        if (table)
                p = mremap(table, table_size * sizeof(Entry), n * sizeof(Entry), MREMAP_MAYMOVE);
        else
                p = mmap(NULL, n * sizeof(Entry), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        table = p; /* new anonymous pages are zero: free slots */
        p = &table[table_size];
        table_size = n;
        return p;
}

static void entry_free(Entry *e) {
        if (e->fd >= 0)
                close(e->fd);
        if (e->parent_fd >= 0)
                close(e->parent_fd);
        memset(e, 0, sizeof *e);
}

static bool name_valid(const char *name) {
        size_t l = strnlen(name, NAME_MAX + 1);
        return l > 0 && l <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int32_t guard_handle(const GuardMessage *m, bool complete, int *fds, size_t n_fds) {
        bool rmdir = m->flags & GUARD_FLAG_RMDIR;
        Entry *e;
        int32_t r = 0;

        if (!complete)
                r = -EBADMSG;
        else if (m->op == GUARD_REMOVE) {
                for (size_t i = 0; i < table_size; i++)
                        if (table[i].id == m->id) {
                                entry_free(&table[i]);
                                break;
                        }
                if (n_fds > 0)
                        r = -EBADMSG;
        } else if (m->op == GUARD_ADD_CGROUP) {
                if (m->id == 0 || n_fds != (rmdir ? 2u : 1u) || (rmdir && !name_valid(m->name)))
                        r = -EBADMSG;
        } else if (m->op == GUARD_ADD_PROCESS_GROUP) {
                /* The leader's pidfd, if the supervisor could get one. */
                if (m->id == 0 || n_fds > 1 || m->pgid <= 1)
                        r = -EBADMSG;
        } else
                r = -EBADMSG;
        if (r >= 0 && m->op != GUARD_REMOVE) {
                e = entry_new();
                if (!e)
                        r = -ENOMEM;
                else {
                        *e = (Entry) {
                                .id = m->id,
                                .fd = n_fds > 0 ? fds[0] : -1,
                                .parent_fd = n_fds > 1 ? fds[1] : -1,
                                .pgid = m->op == GUARD_ADD_PROCESS_GROUP ? m->pgid : 0,
                                .wd = -1,
                        };
                        if (rmdir)
                                memcpy(e->name, m->name, sizeof e->name);
                        return 0;
                }
        }
        for (size_t i = 0; i < n_fds; i++)
                close(fds[i]);
        return r;
}

/* Handles every queued request. False once the supervisor's end is closed. */
static bool guard_read_requests(int sock) {
        for (;;) {
                GuardMessage m = {};
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int) * (GUARD_MAX_FDS + 2))];
                } control;
                struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                int fds[GUARD_MAX_FDS];
                size_t n_fds = 0;
                bool extra = false;
                ssize_t n;
                int32_t r;

                n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN;
                if (n == 0)
                        return false;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                                continue;
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < k; i++) {
                                int fd;
                                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                                if (n_fds < GUARD_MAX_FDS)
                                        fds[n_fds++] = fd;
                                else {
                                        close(fd);
                                        extra = true;
                                }
                        }
                }
                if (mh.msg_flags & MSG_CTRUNC) {
                        /* Passed fds were dropped (our RLIMIT_NOFILE): not registered. */
                        for (size_t i = 0; i < n_fds; i++)
                                close(fds[i]);
                        r = -EMFILE;
                } else
                        r = guard_handle(&m, n == (ssize_t) sizeof m && !extra, fds, n_fds);
                if (m.op != GUARD_REMOVE) {
                        GuardReply reply;
                        /* memset: the padding goes over the socket too. */
                        memset(&reply, 0, sizeof reply);
                        reply.id = m.id;
                        reply.result = r;
                        (void) send(sock, &reply, sizeof reply, MSG_DONTWAIT | MSG_NOSIGNAL);
                }
        }
}

/* Waits (bounded, in total) for every killed cgroup to read populated 0. */
static void guard_wait_empty(void) {
        int64_t deadline = guard_now_ms() + GUARD_EMPTY_WAIT_MS;
        int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        size_t left = 0;

        if (in < 0)
                return;
        for (size_t i = 0; i < table_size; i++) {
                Entry *e = &table[i];
                char path[64] = "/proc/self/fd/", *p;

                if (e->id == 0 || e->pgid > 0)
                        continue;
                p = put_uint(path + strlen(path), (unsigned long) e->fd);
                memcpy(p, "/cgroup.events", sizeof "/cgroup.events");
                e->wd = inotify_add_watch(in, path, IN_MODIFY);
                /* Without a watch there is nothing to wait on. */
                e->done = e->wd < 0 || !populated(e->fd);
                if (!e->done)
                        left++;
        }
        while (left > 0) {
                int64_t t = deadline - guard_now_ms();
                struct pollfd pfd = { .fd = in, .events = POLLIN };
                _Alignas(struct inotify_event) char buf[4096];
                ssize_t n;
                int r;

                if (t <= 0)
                        break;
                r = poll(&pfd, 1, (int) t);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                while ((n = read(in, buf, sizeof buf)) > 0)
                        for (char *p = buf; p < buf + n;) {
                                const struct inotify_event *ev = (const struct inotify_event *) p;
                                p += sizeof *ev + ev->len;
                                for (size_t i = 0; i < table_size; i++) {
                                        Entry *e = &table[i];
                                        if (e->id == 0 || e->pgid > 0 || e->done || e->wd != ev->wd)
                                                continue;
                                        if ((ev->mask & IN_IGNORED) || !populated(e->fd)) {
                                                e->done = true;
                                                left--;
                                        }
                                        break;
                                }
                        }
        }
        close(in);
}

static _Noreturn void guard_main(int pidfd, int sock) {
        bool connected = true;

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = pidfd, .events = POLLIN },
                        { .fd = connected ? sock : -1, .events = POLLIN },
                };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR || errno == ENOMEM)
                                continue;
                        _exit(EXIT_FAILURE);
                }
                /* EOF without the supervisor's death: it exec'd, or closed
                 * our socket. What it registered stays guarded. Without a
                 * pidfd of the supervisor (no pidfd_open(2)) EOF is all we
                 * learn of its death: take it as such. */
                if (p[1].revents && !guard_read_requests(sock)) {
                        connected = false;
                        if (pidfd < 0)
                                break;
                }
                if (p[0].revents)
                        break;
        }

        /* The supervisor is gone. Take what it registered just before. */
        if (connected)
                (void) guard_read_requests(sock);
        /* Process groups: their members as the backend counts them, found
         * while every parent still lives (a killed parent's children
         * reparent at once). Then everything, then wait: all services die
         * at once. */
        for (size_t i = 0; i < table_size; i++)
                if (table[i].id != 0 && table[i].pgid > 0) {
                        kill_group_members();
                        break;
                }
        for (size_t i = 0; i < table_size; i++) {
                Entry *e = &table[i];
                if (e->id == 0)
                        continue;
                if (e->pgid > 0) {
                        (void) kill(-e->pgid, SIGKILL);
                        /* Still at the start gate, not yet leading its group.
                         * (Where pidfd_send_signal(2) is missing, such a child
                         * exits by itself: its gate reaches EOF.) */
                        if (e->fd >= 0)
                                (void) pidfd_send_signal(e->fd, SIGKILL, NULL, 0);
                } else
                        kill_cgroup(e->fd);
        }
        guard_wait_empty();
        for (size_t i = 0; i < table_size; i++)
                if (table[i].id != 0 && table[i].parent_fd >= 0) {
                        remove_children(table[i].fd);
                        (void) unlinkat(table[i].parent_fd, table[i].name, AT_REMOVEDIR);
                }
        _exit(EXIT_SUCCESS);
}

static bool parse_hex(const char **p, uintptr_t *ret) {
        uintptr_t v = 0;
        const char *q = *p;

        for (; (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f'); q++)
                v = v * 16 + (uintptr_t) (*q <= '9' ? *q - '0' : *q - 'a' + 10);
        if (q == *p)
                return false;
        *p = q;
        *ret = v;
        return true;
}

static bool in_range(uintptr_t start, uintptr_t end, const void *p) {
        return (uintptr_t) p >= start && (uintptr_t) p < end;
}

/* One line of /proc/self/maps: drops the pages of a big private writable
 * anonymous mapping (heap, arenas, the supervisor's data, other threads'
 * stacks) unless it holds something the guard uses. */
static void trim_mapping(const char *line, bool *prev_file, const void *sp) {
        uintptr_t start, end;
        const char *p = line, *perms, *path;
        bool file = false, anonymous, heap;

        if (!parse_hex(&p, &start) || *p++ != '-' || !parse_hex(&p, &end) || *p++ != ' ')
                return;
        perms = p;
        /* offset, device, inode, path */
        for (int field = 0; field < 3 && *p; field++) {
                while (*p && *p != ' ')
                        p++;
                while (*p == ' ')
                        p++;
        }
        file = *p && *p != '0';
        while (*p && *p != ' ')
                p++;
        while (*p == ' ')
                p++;
        path = p;
        heap = strcmp(path, "[heap]") == 0;
        anonymous = !file && (!*path || heap);
        /* A library's .bss follows its file mapping (and may have merged
         * with what follows it): never touched. The brk heap is no .bss. */
        if (anonymous && (heap || !*prev_file) && perms[1] == 'w' && perms[3] == 'p' && end - start >= GUARD_TRIM_MIN &&
            !in_range(start, end, sp) && !in_range(start, end, __builtin_thread_pointer()) &&
            !in_range(start, end, &errno) && !in_range(start, end, &table) &&
            !in_range(start, end, procs_buf) && !in_range(start, end, table))
                (void) madvise((void *) start, end - start, MADV_DONTNEED);
        *prev_file = file;
}

/* A forked copy shares the supervisor's pages until either writes them:
 * a guard that lives as long as the supervisor would keep the original of
 * every page the supervisor changes afterwards, up to its whole size. The
 * guard uses none of that memory: drop it. (Not under ASan or valgrind,
 * whose shadow memory and own state live in such mappings.) */
static void guard_release_memory(void) {
        char buf[4096], line[512];
        size_t l = 0;
        bool prev_file = false, skipping = false;
        ssize_t n;
        int fd;

        if (GUARD_UNDER_ASAN || RUNNING_ON_VALGRIND)
                return;
        fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] != '\n') {
                                if (l < sizeof line - 1)
                                        line[l++] = buf[i];
                                else
                                        skipping = true; /* a path too long to matter */
                                continue;
                        }
                        line[l] = '\0';
                        if (!skipping)
                                trim_mapping(line, &prev_file, buf);
                        else
                                prev_file = true;
                        l = 0;
                        skipping = false;
                }
        close(fd);
}

/* In the forked child, before anything else. */
_Noreturn void guard_process_run(int pidfd, int sock, int devnull) {
        struct sigaction dfl = { .sa_handler = SIG_DFL }, ignore = { .sa_handler = SIG_IGN };
        struct rlimit rl;
        sigset_t none;
        int hi[3];

        /* Our heap is a copy of the supervisor's, its owners' pointers gone
         * with the stack frames we left: not ours to call leaked. */
        if (RUNNING_ON_VALGRIND)
                VALGRIND_CLO_CHANGE("--leak-check=no");

        /* Own session: a Ctrl-C or a kill of the supervisor's process group
         * must not take the guard along. No handler of the supervisor's. */
        (void) setsid();
        /* No catchable signal ends or stops the guard (SIGTERM, SIGINT,
         * SIGTSTP, ...): the service runs as the same user and could send
         * one. SIGKILL and SIGSTOP cannot be ignored: the supervisor
         * replaces a guard that got one (guard.c's watcher), and a guard
         * stopped when the supervisor dies is continued by the kernel
         * (PR_SET_PDEATHSIG). Synchronous faults still kill it (the kernel
         * forces their default action). */
        for (int sig = 1; sig < _NSIG; sig++)
                (void) sigaction(sig, sig == SIGCHLD ? &dfl : &ignore, NULL);
        (void) sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) prctl(PR_SET_PDEATHSIG, SIGCONT, 0, 0, 0);
        (void) prctl(PR_SET_NAME, GUARD_COMM, 0, 0, 0);
        /* Keep no directory of the supervisor's busy. */
        (void) chdir("/");

        /* Hold nothing else of the supervisor's (pipes, gates, its stdout).
         * PIDFD < 0: the kernel has no pidfd_open(2); fd 3 stays closed. */
        hi[0] = pidfd >= 0 ? fcntl(pidfd, F_DUPFD_CLOEXEC, 5) : -1;
        hi[1] = fcntl(sock, F_DUPFD_CLOEXEC, 5);
        hi[2] = fcntl(devnull, F_DUPFD_CLOEXEC, 5);
        if ((pidfd >= 0 && hi[0] < 0) || hi[1] < 0 || hi[2] < 0 || dup2(hi[2], 0) < 0 || dup2(hi[2], 1) < 0 ||
            dup2(hi[2], 2) < 0 || dup3(hi[1], 4, O_CLOEXEC) < 0)
                _exit(EXIT_FAILURE);
        if (hi[0] < 0)
                (void) close(3);
        else if (dup3(hi[0], 3, O_CLOEXEC) < 0)
                _exit(EXIT_FAILURE);
        (void) close_range(5, ~0U, 0);

        guard_release_memory();

        /* One fd or two per registered service. */
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        guard_main(pidfd >= 0 ? 3 : -1, 4);
}

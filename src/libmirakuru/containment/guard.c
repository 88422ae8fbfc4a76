/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor's side of the guard (see guard.h): starting it, and
 * registering services with it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard-protocol.h"
#include "guard.h"
#include "util/macro.h"
#include "util/pidfd-util.h"
#include "util/proc-stat.h"

#define GUARD_REPLY_TIMEOUT_MS 5000
/* While services are registered, the guard's health is looked at this
 * often: a guard that was stopped (SIGSTOP) or killed is replaced within
 * about this long (docs/containment.md promises 100 ms). */
#define GUARD_WATCH_MS 25

static int64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct Registration {
        uint64_t id;
        uint32_t op;
        bool remove;  /* GUARD_ADD_CGROUP: the guard removes the directory too */
        pid_t pgid;   /* GUARD_ADD_PROCESS_GROUP */
        char *cgroup; /* GUARD_ADD_CGROUP: the absolute path */
} Registration;

static struct {
        pid_t owner; /* the process the fields below belong to (not a forked child) */
        pid_t pid;   /* the guard, 0: none */
        int pidfd;
        int sock;
        struct stat sock_st, pidfd_st; /* to recognise them again in a forked child */
        uint64_t next_id;
        Registration *regs; /* what the guard holds, for a replacement guard */
        size_t n_regs;
        /* The watcher thread (guard_watch_main()): started with the first
         * registration of this process, woken through wake_fd. */
        bool watching;
        int wake_fd;
        unsigned long replaced; /* guards replaced because they were stopped or gone */
} state = { .pidfd = -EBADF, .sock = -EBADF, .wake_fd = -EBADF };

/* Recursive: our own fork() of the guard runs the prepare handler while we
 * hold it. */
static pthread_mutex_t guard_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void) {
        (void) pthread_mutex_lock(&guard_lock);
}

static void atfork_parent(void) {
        (void) pthread_mutex_unlock(&guard_lock);
}

static void atfork_child(void) {
        /* Another thread of the parent may have held it: start afresh. */
        guard_lock = (pthread_mutex_t) PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
        /* The watcher thread is the parent's (forget_inherited() does the rest). */
        state.watching = false;
        state.wake_fd = safe_close(state.wake_fd);
}

static void guard_init_once(void) {
        (void) pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static bool same_file(int fd, const struct stat *st) {
        struct stat now;
        return fstat(fd, &now) >= 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/* A forked child of the supervisor: the guard and its socket are the
 * parent's. Close our copies (if they are still what we think) and start
 * over. */
static void forget_inherited(void) {
        if (state.sock >= 0 && same_file(state.sock, &state.sock_st))
                (void) close(state.sock);
        if (state.pidfd >= 0 && same_file(state.pidfd, &state.pidfd_st))
                (void) close(state.pidfd);
        state.sock = state.pidfd = -EBADF;
        state.pid = 0;
        for (size_t i = 0; i < state.n_regs; i++)
                free(state.regs[i].cgroup);
        free(state.regs);
        state.regs = NULL;
        state.n_regs = 0;
        state.owner = getpid();
}

/* Ends and reaps a guard that stopped answering or died. */
static void guard_discard(void) {
        siginfo_t si;

        if (state.pid > 0) {
                idtype_t type = state.pidfd >= 0 ? P_PIDFD : P_PID;
                id_t id = state.pidfd >= 0 ? (id_t) state.pidfd : (id_t) state.pid;

                (void) pidfd_signal_child(state.pidfd, state.pid, SIGKILL);
                while (waitid(type, id, &si, WEXITED) < 0 && errno == EINTR)
                        ;
        }
        state.pidfd = safe_close(state.pidfd);
        state.sock = safe_close(state.sock);
        state.pid = 0;
}

static int guard_spawn(void) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int self = -EBADF, devnull = -EBADF, pidfd = -EBADF;
        pid_t pid;
        int r;

        /* The guard's way to learn of our death. Where the kernel has no
         * pidfd_open(2) (valgrind has none either), EOF on the socket must do. */
        self = pidfd_open(getpid(), 0);
        if (self < 0 && errno != ENOSYS)
                return -errno;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (devnull < 0)
                return -errno;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                guard_process_run(self, pair[1], devnull);

        /* Ours, not reaped but by us: its pid is as good where the kernel
         * lacks pidfd_open(2). */
        pidfd = pidfd_open(pid, 0);
        if ((pidfd < 0 && errno != ENOSYS) || fstat(pair[0], &state.sock_st) < 0 ||
            (pidfd >= 0 && fstat(pidfd, &state.pidfd_st) < 0)) {
                r = -errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        state.sock = TAKE_FD(pair[0]);
        state.pidfd = TAKE_FD(pidfd);
        state.pid = pid;
        return 0;
}

/* Waits up to DEADLINE (now_ms() clock) for EVENTS on the guard socket. */
static int wait_socket(short events, int64_t deadline) {
        for (;;) {
                struct pollfd pfd = { .fd = state.sock, .events = events };
                int64_t t = deadline - now_ms();
                int r;

                if (t <= 0)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int) t);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                return 0;
        }
}

static int guard_send(const GuardMessage *m, const int *fds, size_t n_fds, int64_t deadline) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * GUARD_MAX_FDS)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        int r;

        if (n_fds > GUARD_MAX_FDS)
                return -EINVAL;
        if (n_fds > 0) {
                struct cmsghdr *c;
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        for (;;) {
                if (sendmsg(state.sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = wait_socket(POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
}

static int guard_await_reply(uint64_t id, int64_t deadline) {
        for (;;) {
                GuardReply reply;
                ssize_t n = recv(state.sock, &reply, sizeof reply, MSG_DONTWAIT);
                int r;

                if (n == (ssize_t) sizeof reply && reply.id == id)
                        return reply.result;
                if (n > 0)
                        continue; /* a late answer to a request that timed out */
                if (n == 0)
                        return -EPIPE; /* the guard is gone */
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = wait_socket(POLLIN, deadline);
                if (r < 0)
                        return r;
        }
}

static bool guard_is_gone(int r) {
        return r == -EPIPE || r == -ECONNRESET || r == -ECONNREFUSED || r == -ENOTCONN;
}

static bool guard_unhealthy(pid_t pid);

/* One request and its answer. A guard that was stopped (or killed) while
 * we wait is noticed within GUARD_WATCH_MS and reported as gone, so that
 * the caller replaces it instead of waiting out the reply timeout with the
 * lock held (which would also hold up the watcher thread). */
static int guard_request(GuardMessage *m, const int *fds, size_t n_fds) {
        int64_t deadline = now_ms() + GUARD_REPLY_TIMEOUT_MS;
        int r;

        for (;;) {
                int64_t slice = MIN(deadline, now_ms() + GUARD_WATCH_MS);
                r = guard_send(m, fds, n_fds, slice);
                if (r != -ETIMEDOUT || now_ms() >= deadline)
                        break;
                if (guard_unhealthy(state.pid))
                        return -ECONNRESET;
        }
        if (r < 0)
                return r;
        for (;;) {
                int64_t slice = MIN(deadline, now_ms() + GUARD_WATCH_MS);
                r = guard_await_reply(m->id, slice);
                if (r != -ETIMEDOUT || now_ms() >= deadline)
                        return r;
                if (guard_unhealthy(state.pid))
                        return -ECONNRESET;
        }
}

/* The message and fds that register REG. LEADER: the caller's pidfd of
 * a process group's leader, or -EBADF. */
static int registration_prepare(const Registration *reg, int leader, GuardMessage *m,
                                int fds[static GUARD_MAX_FDS], size_t *ret_n_fds) {
        *m = (GuardMessage) { .op = reg->op, .id = reg->id, .pgid = reg->pgid };
        fds[0] = fds[1] = -EBADF;
        if (reg->op == GUARD_ADD_PROCESS_GROUP) {
                if (leader >= 0)
                        fds[0] = fcntl(leader, F_DUPFD_CLOEXEC, 3);
                else {
                        /* Again, for a new guard: only while the leader is our
                         * child, not reaped (else its pid may be another's). */
                        siginfo_t si = {};
                        if (waitid(P_PID, (id_t) reg->pgid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
                                return -errno;
                        fds[0] = pidfd_open(reg->pgid, 0);
                        if (fds[0] < 0 && errno == ENOSYS) {
                                /* No pidfd_open(2): the group id alone. */
                                *ret_n_fds = 0;
                                return 0;
                        }
                }
                if (fds[0] < 0)
                        return -errno;
                *ret_n_fds = 1;
                return 0;
        }
        fds[0] = open(reg->cgroup, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fds[0] < 0)
                return -errno;
        *ret_n_fds = 1;
        if (reg->remove) {
                const char *name = strrchr(reg->cgroup, '/');
                if (!name || strlen(name + 1) == 0 || strlen(name + 1) > NAME_MAX)
                        return -EINVAL;
                strcpy(m->name, name + 1);
                m->flags |= GUARD_FLAG_RMDIR;
                fds[1] = openat(fds[0], "..", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                if (fds[1] < 0)
                        return -errno;
                *ret_n_fds = 2;
        }
        return 0;
}

/* A new guard (the last one died): hand it what the old one held, as far
 * as it still exists. */
static void guard_reregister(void) {
        for (size_t i = 0; i < state.n_regs; i++) {
                GuardMessage m;
                int fds[GUARD_MAX_FDS];
                size_t n_fds = 0;

                if (registration_prepare(&state.regs[i], -EBADF, &m, fds, &n_fds) >= 0)
                        (void) guard_request(&m, fds, n_fds);
                for (size_t k = 0; k < GUARD_MAX_FDS; k++)
                        safe_close(fds[k]);
        }
}

static int guard_ensure(void) {
        int r;

        if (state.owner != getpid())
                forget_inherited();
        if (state.sock >= 0)
                return 0;
        r = guard_spawn();
        if (r >= 0)
                guard_reregister();
        return r;
}

/* The guard was stopped (SIGSTOP, a tracer) or is gone: it cannot do its
 * job. From /proc/PID/stat's state. */
static bool guard_unhealthy(pid_t pid) {
        ProcStat st;
        if (proc_stat_read(pid, &st) < 0)
                return true;
        return strchr("TtZXx", st.state) != NULL;
}

/* Replaces a guard that was stopped or killed (the service's side can do
 * both: it runs as the same user), and hands the new one everything
 * registered. Called with the lock held. */
static void guard_check_health(void) {
        if (state.owner != getpid() || state.pid <= 0 || state.n_regs == 0)
                return;
        if (!guard_unhealthy(state.pid))
                return;
        guard_discard(); /* SIGKILL and reap: a stopped guard must not linger in state T */
        if (guard_ensure() >= 0)
                state.replaced++;
}

static void *guard_watch_main(void *arg _unused_) {
        for (;;) {
                struct pollfd p[2] = { { .fd = -1, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
                bool active;
                uint64_t v;

                (void) pthread_mutex_lock(&guard_lock);
                active = state.owner == getpid() && state.pid > 0 && state.n_regs > 0;
                p[0].fd = state.wake_fd;
                p[1].fd = active ? state.pidfd : -1;
                (void) pthread_mutex_unlock(&guard_lock);
                if (p[0].fd < 0)
                        return NULL;
                /* The pidfd wakes us at once when the guard dies; the
                 * timeout catches a stopped one. */
                if (poll(p, 2, active ? GUARD_WATCH_MS : -1) > 0 && (p[0].revents & POLLIN))
                        (void) !read(p[0].fd, &v, sizeof v);
                (void) pthread_mutex_lock(&guard_lock);
                guard_check_health();
                (void) pthread_mutex_unlock(&guard_lock);
        }
}

/* Starts the watcher thread once per process (lock held), with every
 * signal blocked: it must take none of the program's. */
static void guard_watch_start(void) {
        sigset_t all, old;
        pthread_attr_t attr;
        pthread_t t;

        if (state.watching)
                return;
        state.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (state.wake_fd < 0)
                return;
        (void) sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &old);
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, (size_t) 256 * 1024); /* the replacement guard runs on it */
        state.watching = pthread_create(&t, &attr, guard_watch_main, NULL) == 0;
        (void) pthread_attr_destroy(&attr);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!state.watching)
                state.wake_fd = safe_close(state.wake_fd);
}

static void guard_watch_wake(void) {
        uint64_t one = 1;
        if (state.wake_fd >= 0)
                (void) !write(state.wake_fd, &one, sizeof one);
}

static int guard_register(Registration *reg, int leader, Guard *g) {
        Registration *regs;
        int r = 0;

        guard_remove(g);
        (void) pthread_once(&guard_once, guard_init_once);
        (void) pthread_mutex_lock(&guard_lock);
        if (state.owner != getpid())
                forget_inherited(); /* before the record grows: it drops the parent's */
        /* Room in the record first: a registration we could not record
         * would not survive a replaced guard. */
        regs = realloc(state.regs, (state.n_regs + 1) * sizeof *regs);
        if (!regs) {
                r = -ENOMEM;
                goto finish;
        }
        state.regs = regs;
        /* A guard that died (someone killed it) is replaced once, and gets
         * what the old one held. */
        for (int attempt = 0; attempt < 2; attempt++) {
                GuardMessage m;
                int fds[GUARD_MAX_FDS];
                size_t n_fds = 0;

                /* A guard the service stopped cannot answer: replace it first. */
                if (state.owner == getpid() && state.pid > 0 && guard_unhealthy(state.pid))
                        guard_discard();
                r = guard_ensure();
                if (r < 0)
                        break;
                reg->id = ++state.next_id;
                r = registration_prepare(reg, leader, &m, fds, &n_fds);
                if (r >= 0)
                        r = guard_request(&m, fds, n_fds);
                for (size_t k = 0; k < GUARD_MAX_FDS; k++)
                        safe_close(fds[k]);
                if (!guard_is_gone(r))
                        break;
                guard_discard();
        }
        if (r >= 0) {
                state.regs[state.n_regs++] = *reg;
                *reg = (Registration) {};
                *g = (Guard) { .id = state.regs[state.n_regs - 1].id, .owner = getpid() };
                guard_watch_start();
                guard_watch_wake();
        }
finish:
        (void) pthread_mutex_unlock(&guard_lock);
        return r;
}

int guard_add_cgroup(const char *cgroup, bool remove, Guard *g) {
        _cleanup_free_ char *path = strdup(cgroup);
        Registration reg = { .op = GUARD_ADD_CGROUP, .remove = remove };
        int r;

        if (!path)
                return -ENOMEM;
        reg.cgroup = path;
        r = guard_register(&reg, -EBADF, g);
        if (r >= 0)
                TAKE_PTR(path); /* now in the record */
        return r;
}

int guard_add_process_group(pid_t pgid, int pidfd, Guard *g) {
        Registration reg = { .op = GUARD_ADD_PROCESS_GROUP, .pgid = pgid };

        if (pgid <= 1 || pidfd < 0)
                return -EINVAL;
        return guard_register(&reg, pidfd, g);
}

void guard_remove(Guard *g) {
        if (!g || g->id == 0)
                return;
        if (g->owner == getpid()) {
                GuardMessage m = { .op = GUARD_REMOVE, .id = g->id };
                (void) pthread_once(&guard_once, guard_init_once);
                (void) pthread_mutex_lock(&guard_lock);
                if (state.owner == getpid()) {
                        for (size_t i = 0; i < state.n_regs; i++)
                                if (state.regs[i].id == g->id) {
                                        free(state.regs[i].cgroup);
                                        state.regs[i] = state.regs[--state.n_regs];
                                        break;
                                }
                        /* Fire and forget: a guard that is gone holds nothing anyway. */
                        if (state.sock >= 0)
                                (void) guard_send(&m, NULL, 0, now_ms() + GUARD_REPLY_TIMEOUT_MS);
                }
                (void) pthread_mutex_unlock(&guard_lock);
        }
        *g = (Guard) {};
}

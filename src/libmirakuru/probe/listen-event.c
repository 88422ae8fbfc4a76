/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A TCP listen on a port, learned from the sock:inet_sock_set_state
 * tracepoint (see listen-event.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen-event.h"
#include "util/macro.h"
#include "util/time-util.h"

#define TRACEPOINT_ID_PATH "events/sock/inet_sock_set_state/id"
/* One fd and two pages per CPU: beyond this many, polling is the better deal. */
#define LISTEN_EVENT_MAX_CPUS 256
/* One metadata page and one data page (at least 64 empty samples of 8 bytes). */
#define RING_PAGES 2

typedef struct ListenEventCpu {
        ListenEvent *owner;
        int fd;
        void *ring;
        sd_event_source *source;
} ListenEventCpu;

struct ListenEvent {
        listen_event_handler_t handler;
        void *userdata;
        ListenEventCpu *cpus;
        size_t n_cpus;
        size_t ring_size;
        uint64_t wakeups;
        bool holds_keeper; /* counted in keeper_users */
};

/* ---- the tracepoint's id and its keeper, once per process ---- */

/* Closing the last perf event of a tracepoint unregisters perf's probe and
 * waits for RCU grace periods (perf_trace_event_unreg(): 30-70 ms here).
 * Done by us, that would land between the listen and start() returning
 * (when the watch is freed), or delay our exit. So a keeper process holds
 * one disabled event of the tracepoint, which counts nothing, for as long
 * as this process lives: our closes are then never the last. The keeper is
 * a grandchild (nobody of ours waits for it), in a session of its own, with
 * every other fd closed; it exits when the pipe whose write end only we
 * hold (O_CLOEXEC: not our services) reaches EOF, and pays the grace
 * periods then, where nobody waits. It also reads the tracepoint's id,
 * mounting tracefs in a mount namespace of its own when it is not mounted
 * here, so nothing is ever mounted where the caller can see it. */

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static int id_cached;          /* > 0 the id, < 0 the errno, 0 not looked up yet */
static char id_reason[200];    /* why there is none */
/* The keeper holds the anchor only while some watch of ours uses the event
 * path: when the last one ends (the service became ready, mostly), its
 * pipe is closed and it exits, paying the grace periods in its own time,
 * while the service runs or the --then command does; the next watch starts
 * a new one. At exit we wait (bounded) for any still exiting, so that none
 * outlives the process that started it. */
#define RETIRING_MAX 8
#define EXIT_WAIT_USEC (1000 * UINT64_C(1000))
static int keeper_life_fd = -EBADF; /* our end of the live keeper's pipe */
static int keeper_pidfd = -EBADF;
static pid_t live_keeper_pid;
static pid_t keeper_owner;          /* the process that started the keepers */
static unsigned keeper_users;       /* ListenEvents holding the live keeper */
static struct {
        int pidfd;
        pid_t pid;
} retiring[RETIRING_MAX];
static size_t n_retiring;

/* A decimal number from FD (async-signal-safe: the keeper uses it). */
static int read_id_fd(int fd) {
        char buf[32];
        ssize_t n;
        int id = 0;

        do
                n = read(fd, buf, sizeof buf - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
                if (id > 100000000)
                        return -ERANGE;
                id = id * 10 + (buf[i] - '0');
        }
        return id > 0 ? id : -EINVAL;
}

static int read_id_at(const char *tracefs) {
        char path[128];
        _cleanup_close_ int fd = -EBADF;

        (void) snprintf(path, sizeof path, "%s/" TRACEPOINT_ID_PATH, tracefs);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_id_fd(fd);
}

/* A disabled, system-wide event of tracepoint ID on the first CPU that takes it. */
static int open_anchor(int id) {
        struct perf_event_attr attr = {
                .type = PERF_TYPE_TRACEPOINT, .size = sizeof attr, .config = (uint64_t) id, .disabled = 1,
        };
        int fd = -ENODEV;

        for (int cpu = 0; cpu < LISTEN_EVENT_MAX_CPUS && (fd == -ENODEV || fd == -EINVAL); cpu++) {
                fd = (int) syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
        }
        return fd;
}

/* The keeper, between fork() and _exit(): system calls alone. ID is the
 * tracepoint's id if known, else 0 (find it). Writes { stage, id or
 * -errno } to ANSWER, then holds the anchor until LIFE reads EOF. */
_Noreturn static void keeper(int id, int answer_fd, int life_fd) {
        int answer[3] = { 0, id, 0 };
        int anchor = -EBADF, fd;
        char c;

        (void) setsid();
        (void) prctl(PR_SET_NAME, "mirakuru-tpkeep", 0, 0, 0);
        if (id > 0)
                answer[0] = 4;
        else if (unshare(CLONE_NEWNS) < 0)
                answer[1] = -errno;
        else if (answer[0] = 1, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                answer[1] = -errno;
        else if (answer[0] = 2, mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                      NULL) < 0)
                answer[1] = -errno;
        else {
                answer[0] = 3;
                fd = open("/sys/kernel/tracing/" TRACEPOINT_ID_PATH, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                answer[1] = fd < 0 ? -errno : read_id_fd(fd);
        }
        if (answer[1] > 0)
                anchor = open_anchor(answer[1]);
        answer[2] = (int) getpid();
        if (write(answer_fd, answer, sizeof answer) != (ssize_t) sizeof answer || anchor < 0)
                _exit(0);
        /* Only the pipe (fd 0) and the anchor (fd 1) stay: no fd of the caller's is held. */
        life_fd = fcntl(life_fd, F_DUPFD, 3);
        anchor = fcntl(anchor, F_DUPFD, 3);
        if (life_fd < 0 || anchor < 0 || dup2(life_fd, 0) < 0 || dup2(anchor, 1) < 0)
                _exit(0);
        (void) close_range(2, ~0U, 0);
        while (read(0, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(0);
}

/* Starts the keeper; returns the id it found (or ID), or a negative errno
 * with id_reason set. */
static int start_keeper(int id) {
        static const char *const stage[] = { "unshare(CLONE_NEWNS)", "making / private", "mounting tracefs",
                                             "reading " TRACEPOINT_ID_PATH };
        _cleanup_close_pair_ int answer_fds[2] = { -EBADF, -EBADF }, life_fds[2] = { -EBADF, -EBADF };
        int answer[3] = { 0, -EIO, 0 };
        ssize_t n;
        pid_t pid;

        if (pipe2(answer_fds, O_CLOEXEC) < 0 || pipe2(life_fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* A grandchild: our caller's waitpid(-1) never meets it. */
                pid_t keeper_pid = fork();
                if (keeper_pid == 0)
                        keeper(id, answer_fds[1], life_fds[0]);
                _exit(keeper_pid < 0);
        }
        answer_fds[1] = safe_close(answer_fds[1]);
        life_fds[0] = safe_close(life_fds[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        do
                n = read(answer_fds[0], answer, sizeof answer);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof answer || answer[0] < 0 || answer[0] > 4) {
                (void) snprintf(id_reason, sizeof id_reason, "the process that reads the tracepoint's id died");
                return -EIO;
        }
        if (answer[1] < 0) {
                (void) snprintf(id_reason, sizeof id_reason,
                                "tracefs is not mounted, and mounting it privately failed: %s: %s",
                                stage[MIN(answer[0], 3)], strerror(-answer[1]));
                return answer[1];
        }
        if (answer[2] <= 0)
                return -EIO;
        keeper_life_fd = TAKE_FD(life_fds[1]);
        live_keeper_pid = (pid_t) answer[2];
        /* Alive: it holds the pipe's other end until we close ours. Where
         * pidfd_open is refused (valgrind 3.19), the exit wait probes the pid. */
        keeper_pidfd = (int) syscall(SYS_pidfd_open, live_keeper_pid, 0);
        if (keeper_pidfd < 0)
                keeper_pidfd = -EBADF;
        keeper_owner = getpid();
        return answer[1];
}

/* Waits until the keeper PIDFD (or PID) has exited, at most until DEADLINE
 * (now_usec()). */
static void wait_keeper_exit(int pidfd, pid_t pid, uint64_t deadline) {
        for (uint64_t now = now_usec(); now < deadline; now = now_usec()) {
                if (pidfd >= 0) {
                        struct pollfd p = { .fd = pidfd, .events = POLLIN };
                        int r = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                        if (r != 0 && !(r < 0 && errno == EINTR))
                                return;
                } else {
                        if (kill(pid, 0) < 0 && errno == ESRCH)
                                return;
                        (void) usleep(1000);
                }
        }
}

/* The last watch ended: the keeper may go (see above). Under id_lock. */
static void retire_keeper_locked(void) {
        if (keeper_life_fd < 0)
                return;
        if (n_retiring == RETIRING_MAX) {
                /* Keepers started and ended faster than they exit: wait for the oldest. */
                wait_keeper_exit(retiring[0].pidfd, retiring[0].pid, now_usec() + EXIT_WAIT_USEC);
                safe_close(retiring[0].pidfd);
                memmove(retiring, retiring + 1, (RETIRING_MAX - 1) * sizeof retiring[0]);
                n_retiring--;
        }
        keeper_life_fd = safe_close(keeper_life_fd);
        retiring[n_retiring].pidfd = TAKE_FD(keeper_pidfd);
        retiring[n_retiring].pid = live_keeper_pid;
        n_retiring++;
}

/* At exit (of the process that started them only: a forked child holds
 * copies of our fds, not the keepers): none outlives us. */
static void __attribute__((destructor)) keepers_at_exit(void) {
        uint64_t deadline;

        pthread_mutex_lock(&id_lock);
        if (keeper_owner == 0 || keeper_owner != getpid()) {
                pthread_mutex_unlock(&id_lock);
                return;
        }
        retire_keeper_locked();
        deadline = now_usec() + EXIT_WAIT_USEC;
        for (size_t i = 0; i < n_retiring; i++) {
                wait_keeper_exit(retiring[i].pidfd, retiring[i].pid, deadline);
                retiring[i].pidfd = safe_close(retiring[i].pidfd);
        }
        n_retiring = 0;
        pthread_mutex_unlock(&id_lock);
}

/* The tracepoint's id, with a live keeper holding its anchor for one more
 * user; keeper_release() gives it back. */
static int keeper_acquire(const char **ret_reason) {
        int r;

        pthread_mutex_lock(&id_lock);
        *ret_reason = id_reason;
        if (id_cached == 0) {
                r = read_id_at("/sys/kernel/tracing");
                if (r == -ENOENT)
                        r = read_id_at("/sys/kernel/debug/tracing");
                if (r > 0 || r == -ENOENT || r == -ENOTDIR)
                        r = start_keeper(MAX(r, 0));
                else
                        (void) snprintf(id_reason, sizeof id_reason, "cannot read the tracepoint's id from tracefs: %s",
                                        strerror(-r));
                id_cached = r ?: -EIO;
                r = id_cached;
        } else if (id_cached > 0 && keeper_life_fd < 0) {
                /* The id is known; the last keeper retired. A failure here
                 * costs this watch the event path, not the next one. */
                r = start_keeper(id_cached);
                if (r < 0)
                        (void) snprintf(id_reason, sizeof id_reason, "cannot start the tracepoint's keeper: %s",
                                        strerror(-r));
        } else
                r = id_cached;
        if (r > 0)
                keeper_users++;
        pthread_mutex_unlock(&id_lock);
        return r;
}

static void keeper_release(void) {
        pthread_mutex_lock(&id_lock);
        if (keeper_users > 0 && --keeper_users == 0)
                retire_keeper_locked();
        pthread_mutex_unlock(&id_lock);
}

/* ---- the events ---- */

/* The online CPUs ("0-3,8"), at most MAX of them, into CPUS. */
static int online_cpus(int *cpus, size_t max, size_t *ret_n) {
        _cleanup_close_ int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[1024], *p;
        ssize_t len;
        size_t n = 0;

        if (fd < 0)
                return -errno;
        len = read(fd, buf, sizeof buf - 1);
        if (len <= 0)
                return len < 0 ? -errno : -EIO;
        buf[len] = '\0';
        for (p = buf; *p && *p != '\n';) {
                char *end;
                long first = strtol(p, &end, 10), last = first;

                if (end == p || first < 0)
                        return -EINVAL;
                p = end;
                if (*p == '-') {
                        last = strtol(p + 1, &end, 10);
                        if (end == p + 1 || last < first)
                                return -EINVAL;
                        p = end;
                }
                for (long c = first; c <= last; c++) {
                        if (n == max)
                                return -E2BIG;
                        cpus[n++] = (int) c;
                }
                if (*p == ',')
                        p++;
        }
        *ret_n = n;
        return n > 0 ? 0 : -EINVAL;
}

/* Takes every sample in C's ring: they say only that something happened. */
static bool consume(ListenEventCpu *c) {
        struct perf_event_mmap_page *meta = c->ring;
        uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);

        if (head == meta->data_tail)
                return false;
        __atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
        return true;
}

static int on_event(sd_event_source *s, int fd _unused_, uint32_t revents, void *userdata) {
        ListenEventCpu *c = userdata;
        ListenEvent *l = c->owner;

        if (revents & (EPOLLERR | EPOLLHUP))
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (!consume(c))
                return 0;
        l->wakeups++;
        l->handler(l->userdata); /* may free L */
        return 0;
}

static int open_cpu(int id, int cpu, const char *filter) {
        struct perf_event_attr attr = {
                .type = PERF_TYPE_TRACEPOINT,
                .size = sizeof attr,
                .config = (uint64_t) id,
                .sample_period = 1,
                .wakeup_events = 1,
                .disabled = 1,
        };
        _cleanup_close_ int fd = (int) syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter) < 0)
                return -errno;
        return TAKE_FD(fd);
}

ListenEvent *listen_event_free(ListenEvent *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_cpus; i++) {
                ListenEventCpu *c = &l->cpus[i];
                sd_event_source_disable_unref(c->source);
                if (c->ring)
                        (void) munmap(c->ring, l->ring_size);
                safe_close(c->fd);
        }
        /* Our events are closed first: with the keeper's anchor still
         * there, none of these closes was the last. */
        if (l->holds_keeper)
                keeper_release();
        free(l->cpus);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ListenEvent *, listen_event_free);

uint64_t listen_event_wakeups(const ListenEvent *l) {
        return l ? l->wakeups : 0;
}

#define FAIL(r, ...)                                                    \
        do {                                                            \
                (void) asprintf_safe(ret_reason, __VA_ARGS__);          \
                return (r);                                             \
        } while (0)

int listen_event_new(sd_event *event, int64_t priority, uint16_t port, listen_event_handler_t handler,
                     void *userdata, ListenEvent **ret, char **ret_reason) {
        _cleanup_(listen_event_freep) ListenEvent *l = NULL;
        _cleanup_free_ int *cpus = NULL;
        const char *why = NULL;
        char filter[96];
        size_t n_cpus = 0;
        long page = sysconf(_SC_PAGESIZE);
        int id, r;

        *ret_reason = NULL;
        cpus = calloc(LISTEN_EVENT_MAX_CPUS, sizeof *cpus);
        l = calloc(1, sizeof *l);
        if (!cpus || !l)
                return -ENOMEM;
        id = keeper_acquire(&why);
        if (id < 0)
                FAIL(id, "%s", why);
        l->holds_keeper = true;
        r = online_cpus(cpus, LISTEN_EVENT_MAX_CPUS, &n_cpus);
        if (r == -E2BIG)
                FAIL(r, "more than %d CPUs: one perf event each would cost more than polling", LISTEN_EVENT_MAX_CPUS);
        if (r < 0)
                FAIL(r, "cannot read the online CPUs: %s", strerror(-r));
        l->cpus = calloc(n_cpus ?: 1, sizeof *l->cpus);
        if (!l->cpus)
                return -ENOMEM;
        l->handler = handler;
        l->userdata = userdata;
        l->ring_size = (size_t) (page > 0 ? page : 4096) * RING_PAGES;
        for (size_t i = 0; i < n_cpus; i++)
                l->cpus[i] = (ListenEventCpu) { .owner = l, .fd = -EBADF };
        l->n_cpus = n_cpus;

        for (size_t i = 0; i < n_cpus; i++) {
                ListenEventCpu *c = &l->cpus[i];

                (void) snprintf(filter, sizeof filter, "newstate == %d && sport == %u && protocol == %d", TCP_LISTEN,
                                port, IPPROTO_TCP);
                c->fd = open_cpu(id, cpus[i], filter);
                if (c->fd == -EINVAL) {
                        /* Kernels before 4.16 trace no protocol field. */
                        (void) snprintf(filter, sizeof filter, "newstate == %d && sport == %u", TCP_LISTEN, port);
                        c->fd = open_cpu(id, cpus[i], filter);
                }
                if (c->fd < 0)
                        FAIL(c->fd, "perf_event_open of sock:inet_sock_set_state on CPU %d: %s", cpus[i],
                             strerror(-c->fd));
                c->ring = mmap(NULL, l->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
                if (c->ring == MAP_FAILED) {
                        r = -errno;
                        c->ring = NULL;
                        FAIL(r, "cannot map a perf ring: %s", strerror(-r));
                }
                r = sd_event_add_io(event, &c->source, c->fd, EPOLLIN, on_event, c);
                if (r >= 0)
                        r = sd_event_source_set_priority(c->source, priority);
                if (r < 0)
                        FAIL(r, "cannot watch a perf event: %s", strerror(-r));
        }
        /* Enabled only now, with every filter in place: no unfiltered wake-up. */
        for (size_t i = 0; i < n_cpus; i++)
                if (ioctl(l->cpus[i].fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
                        r = -errno;
                        FAIL(r, "cannot enable a perf event: %s", strerror(-r));
                }
        *ret = TAKE_PTR(l);
        return 0;
}

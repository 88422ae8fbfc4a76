/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup backend: a cgroup v2 directory of our own below our cgroup,
 * children spawned straight into it (CLONE_INTO_CGROUP, Linux 5.7; else
 * moved there while held at the start gate), cgroup.kill (5.14; else
 * freeze, kill each, thaw), emptiness from cgroup.events by poll(). */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-backend.h"
#include "cgroup-tree.h"
#include "cgroup-util.h"
#include "escapees.h"
#include "util/pidfd-util.h"

#define CGROUP_PREFIX "mirakuru"
#define DESTROY_WAIT_MS 2000
/* The look for processes that left the cgroup reads its members within this. */
#define OUTSIDE_BUDGET_USEC (100 * 1000ULL)

/* Stale siblings (of dead supervisors) are looked for at every setup, but
 * a readdir() of all siblings, our own services' included, at each one
 * made starting N services cost N^2 (2,000 services: 14 s of system time).
 * So the parent is read whole at the first setup (and once a minute); in
 * between, one stat() of it says how many subdirectories it has (kernfs:
 * st_nlink is 2 + subdirectories), and only more than the last read left
 * plus the ones we made since makes us read it again. (An inotify watch on
 * the parent said the same, but the last close of an inotify fd waits for
 * an SRCU grace period: it added 10-20 ms to the exit of every
 * mirakuru-run on this backend, bench/oneshot.) Returns what
 * cg_clean_stale() does, 0 when it was not needed. */
#define STALE_RESCAN_USEC (60ULL * 1000 * 1000)

static pthread_mutex_t stale_lock = PTHREAD_MUTEX_INITIALIZER;
static char *stale_parent;     /* the parent read last */
static long stale_expected;    /* its subdirectories we know of */
static uint64_t stale_last_full;

static long subdirectories(const char *dir) {
        struct stat st;
        if (stat(dir, &st) < 0 || st.st_nlink < 2)
                return -1;
        return (long) st.st_nlink - 2;
}

static bool is_child_of(const char *path, const char *parent) {
        size_t l = strlen(parent);
        return strncmp(path, parent, l) == 0 && path[l] == '/' && path[l + 1] && !strchr(path + l + 1, '/');
}

/* We made (DELTA 1) or removed (-1) the cgroup PATH. */
static void stale_note(const char *path, long delta) {
        (void) pthread_mutex_lock(&stale_lock);
        if (stale_parent && is_child_of(path, stale_parent))
                stale_expected += delta;
        (void) pthread_mutex_unlock(&stale_lock);
}

static int clean_stale(const char *parent) {
        uint64_t now = cg_now_usec();
        long n = subdirectories(parent);
        int r = 0;

        (void) pthread_mutex_lock(&stale_lock);
        bool same = stale_parent && strcmp(stale_parent, parent) == 0;
        if (!same || n < 0 || n > stale_expected || now - stale_last_full >= STALE_RESCAN_USEC) {
                if (!same) {
                        free(stale_parent);
                        stale_parent = strdup(parent);
                }
                r = cg_clean_stale(parent, CGROUP_PREFIX);
                stale_last_full = now;
                n = subdirectories(parent);
        }
        /* Fewer than expected: some went (ours counted already). */
        stale_expected = n;
        (void) pthread_mutex_unlock(&stale_lock);
        return r;
}

int cgroup_backend_make(CgroupContainment *g) {
        Containment *c = &g->c;
        _cleanup_free_ char *own = NULL, *name = NULL, *path = NULL;
        int r, stale;

        g->dir_fd = -EBADF;
        g->events_fd = -EBADF;
        r = cg_pid_path(0, &own);
        if (r == -ENOMEDIUM) {
                containment_set_reason(c, "no cgroup v2 hierarchy is mounted");
                return r;
        }
        if (r < 0) {
                containment_set_reason(c, "cannot find our own cgroup: %s", strerror(-r));
                return r;
        }
        stale = clean_stale(own);
        r = cg_make_name(CGROUP_PREFIX, &name);
        if (r < 0)
                return r;
        if (asprintf_safe(&path, "%s/%s", own, name) < 0)
                return -ENOMEM;
        if (mkdir(path, 0755) < 0) {
                r = -errno;
                containment_set_reason(c, "cannot create a cgroup below our own cgroup %s: %s", own,
                                       strerror(-r));
                return r;
        }
        g->remove = true;
        stale_note(path, 1);
        c->cgroup_path = TAKE_PTR(path);
        g->dir_fd = open(c->cgroup_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (g->dir_fd < 0) {
                r = -errno;
                containment_set_reason(c, "cannot open cgroup %s: %s", c->cgroup_path, strerror(-r));
                return r;
        }
        r = guard_add_cgroup(c->cgroup_path, true, &g->guard);
        if (r < 0) {
                containment_set_reason(c, "cannot register with the guard process: %s", strerror(-r));
                return r;
        }
        if (stale > 0)
                containment_set_reason(c, "cgroup %s below our own cgroup (cleaned %d stale cgroup%s of dead supervisors)",
                                       c->cgroup_path, stale, stale == 1 ? "" : "s");
        else
                containment_set_reason(c, "cgroup %s below our own cgroup", c->cgroup_path);
        return 0;
}

int cgroup_backend_adopt(CgroupContainment *g, const char *path) {
        Containment *c = &g->c;
        char *p = strdup(path);
        int r;

        if (!p)
                return -ENOMEM;
        free(c->cgroup_path);
        c->cgroup_path = p;
        g->dir_fd = safe_close(g->dir_fd);
        g->dir_fd = open(p, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (g->dir_fd < 0)
                return -errno;
        r = guard_add_cgroup(p, false, &g->guard);
        return r < 0 ? r : 0;
}

int cgroup_backend_attach(CgroupContainment *g, pid_t pid) {
        char buf[32];
        int fd, r = 0;
        ssize_t l;

        fd = openat(g->dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        l = snprintf(buf, sizeof buf, "%d", (int) pid);
        if (write(fd, buf, (size_t) l) != l)
                r = negative_errno();
        safe_close(fd);
        return r;
}

void cgroup_backend_release(CgroupContainment *g) {
        Containment *c = &g->c;

        g->watch = sd_event_source_disable_unref(g->watch);
        g->events_fd = safe_close(g->events_fd);
        g->defer = sd_event_source_disable_unref(g->defer);
        if (c->cgroup_path && g->dir_fd >= 0 && cg_is_populated(c->cgroup_path) > 0) {
                /* Freed without a stop: do what the guard would. */
                (void) cg_kill_all(g->dir_fd, SIGKILL, &c->leftovers);
                (void) cg_wait_empty_blocking(c->cgroup_path, DESTROY_WAIT_MS);
        }
        /* An empty directory needs no fd to go (a setup that failed for
         * want of fds must not leave it); a tree is walked. */
        if (c->cgroup_path && g->remove &&
            (rmdir(c->cgroup_path) >= 0 || errno == ENOENT || cg_remove(c->cgroup_path) >= 0))
                stale_note(c->cgroup_path, -1);
        /* Unregister last: until the cgroup is gone the guard still covers it. */
        guard_remove(&g->guard);
        g->dir_fd = safe_close(g->dir_fd);
        free(g->recorded);
        g->recorded = NULL;
        g->n_recorded = 0;
}

int cgroup_backend_cgroup_fd(Containment *c) {
        return ((CgroupContainment *) c)->dir_fd;
}

static void record_outside(CgroupContainment *g, pid_t pid, const char *what) {
        for (size_t i = 0; i < g->n_recorded; i++)
                if (g->recorded[i] == pid)
                        return;
        pid_t *a = realloc(g->recorded, (g->n_recorded + 1) * sizeof(pid_t));
        if (!a)
                return;
        g->recorded = a;
        a[g->n_recorded++] = pid;
        (void) leftovers_add_note(&g->c.leftovers, pid, what);
}

/* What left the cgroup (escapees.h): SIGNO to the main process through its
 * pidfd if it left (the executor waits for it to be reaped), SIGKILL to
 * each other process found to have left. Each one outside is recorded once
 * in the leak record. */
static void chase_outside(CgroupContainment *g, int signo) {
        Containment *c = &g->c;
        _cleanup_free_ pid_t *members = NULL, *out = NULL;
        size_t n_members = 0, n_out = 0;
        int r;

        if (c->pid > 0 && !c->main_reaped) {
                /* One that stayed is reached with the cgroup (and listed
                 * there, when killed: not killed here first). */
                bool left = c->cgroup_path && pid_in_cgroup(c->pid, c->cgroup_path) == 0;
                if (left)
                        (void) pidfd_signal_child(c->pidfd, c->pid, signo);
                if (left)
                        record_outside(g, c->pid, "the main process, which had left the service's cgroup");
        }
        r = cg_read_pids(g->dir_fd, cg_now_usec() + OUTSIDE_BUDGET_USEC, &members, &n_members);
        if (r < 0 && r != -ETIME)
                return;
        if (escapees_find(members, n_members, c->main_reaped ? 0 : c->pid, &out, &n_out) < 0)
                return;
        for (size_t i = 0; i < n_out; i++) {
                /* Not among the members read within the budget: make sure. */
                if (!c->cgroup_path || pid_in_cgroup(out[i], c->cgroup_path) != 0)
                        continue;
                /* Killed at once, whatever the signal: nothing waits for a
                 * process outside the cgroup to be gone. */
                if (kill(out[i], SIGKILL) < 0)
                        continue;
                record_outside(g, out[i], "had left the service's cgroup");
        }
}

int cgroup_backend_signal(Containment *c, int signo) {
        CgroupContainment *g = (CgroupContainment *) c;

        int r;

        if (!c->cgroup_path || g->dir_fd < 0)
                return 0;
        /* First what left, while its parents in the cgroup still live: our
         * signal may end them, and their children would reparent to init. */
        chase_outside(g, signo);
        if (signo == SIGKILL)
                r = cg_kill_all(g->dir_fd, SIGKILL, NULL);
        else
                r = cg_signal_all(g->dir_fd, signo);
        return r;
}

int cgroup_backend_kill_all(Containment *c) {
        CgroupContainment *g = (CgroupContainment *) c;

        int signo = c->params.kill_signal > 0 ? c->params.kill_signal : SIGKILL, r;

        if (!c->cgroup_path || g->dir_fd < 0)
                return 0;
        chase_outside(g, signo); /* first: see cgroup_backend_signal() */
        r = cg_kill_all(g->dir_fd, signo, &c->leftovers);
        return r;
}

int cgroup_backend_is_empty(Containment *c) {
        int r;

        if (!c->cgroup_path)
                return 1;
        r = cg_is_populated(c->cgroup_path);
        return r < 0 ? r : !r;
}

static void check_empty(CgroupContainment *g) {
        if (cgroup_backend_is_empty(&g->c) <= 0)
                return;
        g->watch = sd_event_source_disable_unref(g->watch);
        g->events_fd = safe_close(g->events_fd);
        g->defer = sd_event_source_disable_unref(g->defer);
        containment_emptied(&g->c); /* may free g */
}

/* Reading cgroup.events from the start re-arms its poll notification. */
static void rearm_events(int fd) {
        char buf[256];
        (void) lseek(fd, 0, SEEK_SET);
        (void) !read(fd, buf, sizeof buf);
}

static int on_events(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        rearm_events(fd);
        check_empty(userdata);
        return 0;
}

static int on_defer(sd_event_source *s _unused_, void *userdata) {
        check_empty(userdata);
        return 0;
}

int cgroup_backend_watch_empty(Containment *c) {
        CgroupContainment *g = (CgroupContainment *) c;
        _cleanup_free_ char *events = NULL;
        int r;

        if (!c->cgroup_path)
                return -EBADF;
        if (asprintf_safe(&events, "%s/cgroup.events", c->cgroup_path) < 0)
                return -ENOMEM;
        if (!g->watch) {
                /* kernfs files poll with EPOLLPRI when they change: no inotify.
                 * (The kernel notifies inotify only from a work queue, and
                 * closing sd-event's last inotify fd waits for an SRCU grace
                 * period: 10-20 ms on every stop.) */
                g->events_fd = open(events, O_RDONLY | O_CLOEXEC);
                if (g->events_fd < 0)
                        return -errno;
                rearm_events(g->events_fd);
                r = sd_event_add_io(c->event, &g->watch, g->events_fd, EPOLLPRI | EPOLLET, on_events, g);
                if (r < 0) {
                        g->events_fd = safe_close(g->events_fd);
                        return r;
                }
                (void) sd_event_source_set_priority(g->watch, c->priority);
        }
        /* It may have emptied before the watch began: look once from the loop. */
        if (!g->defer) {
                r = sd_event_add_defer(c->event, &g->defer, on_defer, g);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_priority(g->defer, c->priority);
        }
        return sd_event_source_set_enabled(g->defer, SD_EVENT_ONESHOT);
}

/* The main process was reaped: look again from the loop. Once it is
 * reaped the cgroup usually reads "populated 0" at once, but the poll
 * notification of that can lag: the kernel rate-limits cgroup.events
 * notifications to one per ~10 ms per cgroup, so a service that stops soon
 * after it started would wait for it (bench/ measured 15 ms instead of ~5
 * per start+stop cycle). */
void cgroup_backend_main_exited(Containment *c) {
        CgroupContainment *g = (CgroupContainment *) c;

        if (c->watching && g->defer)
                (void) sd_event_source_set_enabled(g->defer, SD_EVENT_ONESHOT);
}

static int cgroup_setup(Containment *c) {
        return cgroup_backend_make((CgroupContainment *) c);
}

static int cgroup_place(Containment *c, pid_t pid, int pidfd _unused_, bool in_cgroup) {
        CgroupContainment *g = (CgroupContainment *) c;
        int r;

        if (!in_cgroup) {
                r = cgroup_backend_attach(g, pid);
                if (r < 0) {
                        containment_set_reason(c, "cannot move the process into cgroup %s: %s",
                                               c->cgroup_path, strerror(-r));
                        return r;
                }
        }
        containment_placed(c, 0);
        return 0;
}

static void cgroup_destroy(Containment *c) {
        cgroup_backend_release((CgroupContainment *) c);
}

const ContainmentOps containment_cgroup_ops = {
        .kind = MK_CONTAINMENT_CGROUP,
        .size = sizeof(CgroupContainment),
        .setup = cgroup_setup,
        .cgroup_fd = cgroup_backend_cgroup_fd,
        .place = cgroup_place,
        .signal = cgroup_backend_signal,
        .kill_all = cgroup_backend_kill_all,
        .is_empty = cgroup_backend_is_empty,
        .watch_empty = cgroup_backend_watch_empty,
        .main_exited = cgroup_backend_main_exited,
        .destroy = cgroup_destroy,
};

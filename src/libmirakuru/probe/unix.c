/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unix probe: a stream connection to a Unix socket path succeeds. The
 * directory is watched with inotify, so a connect is tried as soon as the
 * path appears; a path that exists but refuses (bound, not yet listening,
 * or a stale socket file) is retried on a backing-off timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "dir-watch.h"
#include "executor-private.h"
#include "probe.h"
#include "util/socket-owner.h"

#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_ATTRIB)

/* A socket file appears at bind(), before listen(): a connect tried on its
 * inotify event is refused if it wins that race, and the back-off's first
 * delay (1 ms) then made the probe ~1 ms late (bench: unix readiness 1.00 ms
 * median, 0.19 ms when the connect came after listen()). So a refusal right
 * after the path appeared is retried after these delays (us, 1 ms in all),
 * and only then on the back-off. The kernel tells nothing of a unix
 * socket's listen(): this short burst is the cheapest way to learn it. */
static const uint64_t appeared_retry_usec[] = { 20, 30, 50, 100, 200, 600 };

typedef struct UnixProbe {
        Probe probe;
        char *path;
        DirWatch dir;
        sd_event_source *retry;
        unsigned n_retries;
        unsigned n_appeared_retries; /* since the path last appeared; ELEMENTSOF: none left */
} UnixProbe;

static void unix_try(UnixProbe *u);
static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* 0 connected, else a negative errno. */
static int connect_once(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        if (connect(fd, (const struct sockaddr *) &sa, sizeof sa) < 0)
                return errno == EINPROGRESS ? 0 : -errno;
        return 0;
}

static int on_retry(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        unix_try(userdata);
        return 0;
}

static void schedule_retry(UnixProbe *u, bool refused) {
        uint64_t delay;
        int r;

        if (refused && u->n_appeared_retries < ELEMENTSOF(appeared_retry_usec))
                delay = appeared_retry_usec[u->n_appeared_retries++];
        else
                delay = probe_retry_delay(&u->probe, u->n_retries++);
        r = probe_arm_timer(&u->probe, &u->retry, delay, on_retry);
        if (r < 0)
                probe_failed(&u->probe, r, "cannot arm the retry timer: %s", strerror(-r));
}

/* Watches the directory if it exists; without it, unix_try() retries on
 * the back-off (and calls this again each time). */
static int watch_directory(UnixProbe *u) {
        if (u->dir.source)
                return 0;
        if (dir_watch_add(&u->dir, WATCH_MASK) < 0)
                return 0;
        return dir_watch_attach(&u->dir, &u->probe, on_inotify);
}

static void unix_try(UnixProbe *u) {
        int r;

        if (!u->dir.source) {
                r = watch_directory(u);
                if (r < 0) {
                        probe_failed(&u->probe, r, "cannot watch %s: %s", u->dir.directory, strerror(-r));
                        return;
                }
        }
        r = connect_once(u->path);

        if (r == 0) {
                probe_set_status(&u->probe, "connected to %s", u->path);
                probe_passed(&u->probe);
                return;
        }
        if (r == -ENOENT && u->dir.source) {
                /* inotify tells when it appears. */
                probe_set_status(&u->probe, "%s does not exist yet", u->path);
                return;
        }
        if (r == -ENOENT)
                probe_set_status(&u->probe, "%s does not exist (its directory is not watched)", u->path);
        else if (r == -ECONNREFUSED)
                probe_set_status(&u->probe, "%s: connection refused", u->path);
        else
                probe_set_status(&u->probe, "%s: %s", u->path, strerror(-r));
        if (r == -ENOTSOCK || r == -EACCES || r == -EPROTOTYPE) {
                /* Not a socket (yet?): a change in the directory brings us back. */
                if (u->dir.source)
                        return;
        }
        schedule_retry(u, r == -ECONNREFUSED);
}

static int on_inotify(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        UnixProbe *u = userdata;

        if (dir_watch_read(&u->dir) && !u->probe.passed) {
                u->retry = sd_event_source_disable_unref(u->retry);
                u->n_appeared_retries = 0;
                unix_try(u);
        }
        return 0;
}

static int unix_start(Probe *p) {
        UnixProbe *u = (UnixProbe *) p;
        int r;

        u->n_retries = 0;
        u->n_appeared_retries = ELEMENTSOF(appeared_retry_usec); /* a path there already: the back-off */
        r = dir_watch_open(&u->dir);
        if (r < 0)
                return r;
        r = watch_directory(u);
        if (r < 0)
                return r;
        /* The watch is in place before the first try, so nothing slips between. */
        unix_try(u);
        return 0;
}

static void unix_cancel(Probe *p) {
        UnixProbe *u = (UnixProbe *) p;

        dir_watch_stop(&u->dir); /* keeps the inotify fd: see there */
        u->retry = sd_event_source_disable_unref(u->retry);
}

static int unix_pre_check(Probe *p) {
        UnixProbe *u = (UnixProbe *) p;
        _cleanup_free_ char *owner = NULL;
        pid_t pid;

        if (connect_once(u->path) < 0)
                return 0;
        if (socket_owner_unix(u->path, &pid) >= 0)
                owner = socket_owner_describe(pid);
        probe_set_status(p, "%s accepts connections%s%s", u->path, owner ? ", held by " : "", owner ?: "");
        return 1;
}

static void unix_done(Probe *p) {
        UnixProbe *u = (UnixProbe *) p;

        unix_cancel(p);
        dir_watch_done(&u->dir);
        free(u->path);
}

static const ProbeOps unix_ops = {
        .name = "unix",
        .size = sizeof(UnixProbe),
        .pre_check = unix_pre_check,
        .start = unix_start,
        .cancel = unix_cancel,
        .done = unix_done,
};

int mk_executor_add_unix_probe(MkExecutor *e, const char *path) {
        struct sockaddr_un sa;
        UnixProbe *u;
        int r;

        if (!e)
                return -EINVAL;
        if (!path || !*path || path[strlen(path) - 1] == '/') {
                executor_set_error(e, "unix probe: want the path of a socket");
                return -EINVAL;
        }
        if (strlen(path) >= sizeof sa.sun_path) {
                executor_set_error(e, "unix probe: %s is longer than a socket address allows (%zu bytes)",
                                   path, sizeof sa.sun_path - 1);
                return -EINVAL;
        }
        u = (UnixProbe *) probe_alloc(&unix_ops);
        if (!u)
                return -ENOMEM;
        u->path = strdup(path);
        if (dir_watch_init(&u->dir, path) < 0 || !u->path) {
                probe_free(&u->probe);
                return -ENOMEM;
        }
        r = executor_add_probe(e, &u->probe);
        if (r < 0)
                probe_free(&u->probe);
        return r;
}

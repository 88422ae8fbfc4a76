/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "dir-watch.h"

int dir_watch_init(DirWatch *w, const char *path) {
        _cleanup_free_ char *d = NULL, *b = NULL;

        w->inotify_fd = -EBADF;
        d = strdup(path);
        b = strdup(path);
        if (!d || !b)
                return -ENOMEM;
        w->directory = strdup(dirname(d));
        w->base = strdup(basename(b));
        if (!w->directory || !w->base)
                return -ENOMEM;
        return 0;
}

int dir_watch_open(DirWatch *w) {
        if (w->inotify_fd >= 0)
                return 0;
        w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->inotify_fd < 0)
                return -errno;
        return 0;
}

int dir_watch_add(DirWatch *w, uint32_t mask) {
        w->watch = inotify_add_watch(w->inotify_fd, w->directory, mask | IN_ONLYDIR);
        if (w->watch < 0) {
                int r = -errno;
                w->watch = 0;
                return r;
        }
        return 0;
}

int dir_watch_attach(DirWatch *w, Probe *p, sd_event_io_handler_t handler) {
        if (w->source)
                return 0;
        return probe_add_io(p, &w->source, w->inotify_fd, EPOLLIN, handler);
}

bool dir_watch_read(DirWatch *w) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool ours = false;

        for (;;) {
                ssize_t n = read(w->inotify_fd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 && strcmp(ev->name, w->base) == 0))
                                ours = true;
                        p += sizeof *ev + ev->len;
                }
        }
        return ours;
}

void dir_watch_stop(DirWatch *w) {
        w->source = sd_event_source_disable_unref(w->source);
        /* Only the watch goes here; the fd stays until done(): close() of an
         * inotify fd waits for an SRCU grace period in the kernel (several
         * ms, measured by bench/), which would delay the ready report. */
        if (w->watch > 0)
                (void) inotify_rm_watch(w->inotify_fd, w->watch);
        w->watch = 0;
}

void dir_watch_done(DirWatch *w) {
        dir_watch_stop(w);
        w->inotify_fd = safe_close(w->inotify_fd);
        free(w->directory);
        free(w->base);
        w->directory = w->base = NULL;
}

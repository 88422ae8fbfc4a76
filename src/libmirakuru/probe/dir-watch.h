/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Waiting for a name to appear in a directory: an inotify watch on the
 * directory, in the probe's event loop. Used by the probes that wait for a
 * path (pid file, unix socket). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "probe.h"

typedef struct DirWatch {
        char *directory;
        char *base;      /* the name looked for in it */
        int inotify_fd;  /* kept from the first open until dir_watch_done(), see dir_watch_stop() */
        int watch;       /* 0: none */
        sd_event_source *source;
} DirWatch;

/* Splits PATH into directory and base name. 0 or -ENOMEM; safe to pass
 * to dir_watch_done() either way. */
int dir_watch_init(DirWatch *w, const char *path);
/* Creates the inotify fd, once. 0 or a negative errno. */
int dir_watch_open(DirWatch *w);
/* Puts a watch for MASK on the directory: 0, or the negative errno of
 * inotify_add_watch() (-ENOENT: the directory does not exist yet). */
int dir_watch_add(DirWatch *w, uint32_t mask);
/* Has P's loop call HANDLER (with P) when events arrive, once. */
int dir_watch_attach(DirWatch *w, Probe *p, sd_event_io_handler_t handler);
/* Reads all pending events: true if one was about the base name, or some
 * were lost (the queue overflowed). */
bool dir_watch_read(DirWatch *w);
/* Drops the event source and the watch; the fd stays open. */
void dir_watch_stop(DirWatch *w);
/* Stops, closes the fd and frees the names. */
void dir_watch_done(DirWatch *w);

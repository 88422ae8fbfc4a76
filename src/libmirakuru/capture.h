/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Draining one output stream of a service: ring buffer, lines, tee.
 *
 * Two threads share a capture. The drainer thread (util/drainer.h) empties
 * the pipe into the ring and copies to the tee whenever the service
 * writes, whether or not a loop runs, so the service never blocks on a
 * full pipe. The loop thread turns what arrived into lines for the
 * callbacks, when its loop runs. The ring is both what is kept of the
 * stream and the backlog of lines not yet delivered: when the loop stays
 * away while more than the ring holds arrives, the oldest lines are never
 * delivered (the newest bytes are still kept). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "util/macro.h"

/* Lines longer than this are delivered in pieces of this size. */
#define CAPTURE_LINE_MAX ((size_t) 1024 * 1024)
/* The ring holds at least this much, whatever the capture size, so lines
 * reach the callbacks even with a capture size of 0. */
#define CAPTURE_BACKLOG_MIN ((size_t) 256 * 1024)

typedef struct Capture Capture;

typedef struct CaptureCallbacks {
        /* A complete line, without its newline (and without a trailing '\r'). */
        void (*line)(void *userdata, MkStream stream, const char *line, size_t length);
        /* The write ends are all closed and every line was delivered. */
        void (*eof)(void *userdata, MkStream stream);
} CaptureCallbacks;

/* Takes ownership of FD (the read end of the service's pipe) and drains it;
 * lines and EOF are reported on EVENT. CAPTURE_SIZE: how much of the stream
 * capture_get_output() keeps. TEE_FD (borrowed, duplicated; -1 for none)
 * receives a copy of every byte, without ever blocking the loop; a tee that
 * fails (EPIPE: its reader went away) is dropped, the draining goes on. */
int capture_new(sd_event *event, int64_t priority, int fd, MkStream stream, size_t capture_size,
                int tee_fd, const CaptureCallbacks *cb, void *userdata, Capture **ret);
Capture *capture_free(Capture *c);
/* A and B are the two streams of one service: their lines are delivered in
 * the order they were read, interleaved. */
void capture_set_sibling(Capture *a, Capture *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Capture *, capture_free);

/* Reads what the pipe holds now into the ring, without blocking; lines
 * follow from the loop. */
void capture_sync(Capture *c);
/* The same, then delivers the lines at once (not from a line callback). */
void capture_drain(Capture *c);
bool capture_is_eof(const Capture *c);
/* The newest capture-size bytes, NUL terminated. */
int capture_get_output(Capture *c, char **ret, size_t *ret_size);
/* What arrived since offset *CURSOR (0 at first), NUL terminated; advances
 * *CURSOR. 1 when some of it was no longer kept (only the newest capture
 * size is returned), else 0. */
int capture_read_new(Capture *c, uint64_t *cursor, char **ret, size_t *ret_size);

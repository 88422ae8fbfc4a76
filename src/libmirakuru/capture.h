/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Draining one output stream of a service: ring buffer, lines, tee. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "util/macro.h"

/* Lines longer than this are delivered in pieces of this size. */
#define CAPTURE_LINE_MAX ((size_t) 1024 * 1024)

typedef struct Capture Capture;

typedef struct CaptureCallbacks {
        /* A complete line, without its newline (and without a trailing '\r'). */
        void (*line)(void *userdata, MkStream stream, const char *line, size_t length);
        /* The write ends are all closed: nothing more will come. */
        void (*eof)(void *userdata, MkStream stream);
} CaptureCallbacks;

/* Takes ownership of FD (the read end of the service's pipe) and drains it
 * on EVENT. TEE_FD (borrowed, -1 for none) receives a copy of every byte. */
int capture_new(sd_event *event, int64_t priority, int fd, MkStream stream, size_t ring_size,
                int tee_fd, const CaptureCallbacks *cb, void *userdata, Capture **ret);
Capture *capture_free(Capture *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Capture *, capture_free);

/* Reads everything that is available now, without blocking. */
void capture_drain(Capture *c);
bool capture_is_eof(const Capture *c);
int capture_get_output(const Capture *c, char **ret, size_t *ret_size);

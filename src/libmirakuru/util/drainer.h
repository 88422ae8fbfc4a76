/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The drainer: one thread of the library's own, per process, that waits
 * on file descriptors with epoll and calls a source's handler when one is
 * ready. It exists so that services' output pipes are emptied while no
 * loop runs (the caller is outside a library call, or its own loop sleeps):
 * a service must never block on a full pipe because its supervisor is busy
 * elsewhere. It runs while at least one source is registered; every signal
 * is blocked in it, so it never takes a signal meant for the caller.
 *
 * Handlers run on the drainer thread, one at a time, and must not block.
 * Whatever state a handler shares with a loop thread needs a lock of its
 * owner's. */
#pragma once

#include <stdint.h>

typedef struct DrainSource DrainSource;
struct DrainSource {
        /* EVENTS: the epoll(7) events that fired. */
        void (*handler)(DrainSource *s, uint32_t events);
};

/* A source's owner holds the drainer while its sources may be registered:
 * drainer_hold() starts the thread if needed and returns a token (>= 0) or
 * a negative errno; drainer_release() waits until no handler is running (so
 * that none runs for a source freed after it), and ends the thread when the
 * last holder lets go. Not from a handler. In a child forked after the
 * hold, the token is stale: the calls below do nothing with it (the thread
 * was not forked along). */
int drainer_hold(void);
void drainer_release(int token);

/* Watches FD for EVENTS (EPOLLIN, EPOLLOUT) and calls S->handler. May be
 * called from a handler. -EPERM for an fd epoll cannot watch (a regular
 * file: always ready), -EEXIST if FD is watched already, -ESTALE for a
 * stale token. */
int drainer_add(int token, int fd, uint32_t events, DrainSource *s);
/* Stops watching FD (nothing happens if it was not watched). May be called
 * from a handler. */
void drainer_del(int token, int fd);

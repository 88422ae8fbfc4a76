/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A byte ring buffer that keeps the newest CAPACITY bytes written to it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Ring {
        char *data;
        size_t capacity;
        size_t start;    /* offset of the oldest byte */
        size_t used;
        uint64_t total;  /* bytes ever written */
} Ring;

/* Allocates lazily on the first write; CAPACITY 0 keeps nothing. */
void ring_init(Ring *r, size_t capacity);
void ring_done(Ring *r);
int ring_write(Ring *r, const void *p, size_t n);
/* A NUL-terminated copy of the contents, oldest first. */
int ring_copy(const Ring *r, char **ret, size_t *ret_size);
/* The same, of the newest MAX bytes at most. */
int ring_copy_tail(const Ring *r, size_t max, char **ret, size_t *ret_size);
/* The stream offset (counted like TOTAL) of the oldest byte still kept. */
uint64_t ring_oldest(const Ring *r);
/* Copies up to N bytes starting at stream offset FROM (>= ring_oldest(),
 * <= total) to BUF; returns how many. */
size_t ring_peek(const Ring *r, uint64_t from, void *buf, size_t n);

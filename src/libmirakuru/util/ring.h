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

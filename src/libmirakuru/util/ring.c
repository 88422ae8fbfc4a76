/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ring.h"

void ring_init(Ring *r, size_t capacity) {
        *r = (Ring) { .capacity = capacity };
}

void ring_done(Ring *r) {
        free(r->data);
        ring_init(r, r->capacity);
}

int ring_write(Ring *r, const void *p, size_t n) {
        const char *s = p;

        r->total += n;
        if (r->capacity == 0 || n == 0)
                return 0;
        if (!r->data) {
                r->data = malloc(r->capacity);
                if (!r->data)
                        return -ENOMEM;
        }
        if (n >= r->capacity) {
                /* Only the tail survives. */
                memcpy(r->data, s + n - r->capacity, r->capacity);
                r->start = 0;
                r->used = r->capacity;
                return 0;
        }
        size_t end = (r->start + r->used) % r->capacity;
        size_t first = MIN(n, r->capacity - end);
        memcpy(r->data + end, s, first);
        memcpy(r->data, s + first, n - first);
        if (r->used + n > r->capacity) {
                size_t drop = r->used + n - r->capacity;
                r->start = (r->start + drop) % r->capacity;
                r->used = r->capacity;
        } else
                r->used += n;
        return 0;
}

uint64_t ring_oldest(const Ring *r) {
        return r->total - r->used;
}

size_t ring_peek(const Ring *r, uint64_t from, void *buf, size_t n) {
        char *out = buf;
        uint64_t oldest = ring_oldest(r);

        if (from < oldest || from >= r->total)
                return 0;
        size_t skip = (size_t) (from - oldest);
        n = MIN(n, r->used - skip);
        size_t at = (r->start + skip) % r->capacity;
        size_t first = MIN(n, r->capacity - at);
        memcpy(out, r->data + at, first);
        memcpy(out + first, r->data, n - first);
        return n;
}

int ring_copy_tail(const Ring *r, size_t max, char **ret, size_t *ret_size) {
        size_t n = MIN(r->used, max);
        char *c = malloc(n + 1);
        if (!c)
                return -ENOMEM;
        if (n > 0)
                (void) ring_peek(r, r->total - n, c, n);
        c[n] = '\0';
        *ret = c;
        if (ret_size)
                *ret_size = n;
        return 0;
}

int ring_copy(const Ring *r, char **ret, size_t *ret_size) {
        return ring_copy_tail(r, r->used, ret, ret_size);
}

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

int ring_copy(const Ring *r, char **ret, size_t *ret_size) {
        char *c = malloc(r->used + 1);
        if (!c)
                return -ENOMEM;
        if (r->used > 0) {
                size_t first = MIN(r->used, r->capacity - r->start);
                memcpy(c, r->data + r->start, first);
                memcpy(c + first, r->data, r->used - first);
        }
        c[r->used] = '\0';
        *ret = c;
        if (ret_size)
                *ret_size = r->used;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the fuzz harnesses (libFuzzer's entry point, and the
 * standalone driver fuzz-main.c that replays inputs in the normal suite). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DATA as a NUL-terminated string of exactly its size (cut at a NUL byte
 * inside, as a C string would be); malloc'd. */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        size_t n = strnlen((const char *) data, size);
        char *s = malloc(n + 1);
        if (!s)
                return NULL;
        memcpy(s, data, n);
        s[n] = '\0';
        return s;
}

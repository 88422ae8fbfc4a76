/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded regcomp() (util/regex-util.c): any bytes as a pattern, with
 * the output probe's flags; the first byte's bit 0 adds REG_ICASE, bit 1
 * switches from the C locale to C.UTF-8 (multibyte characters). An accepted
 * pattern is matched against a fixed 1 KiB line. libFuzzer's RSS limit and
 * per-input timeout are the real assertions: a pattern the walk undercounts
 * makes regcomp() take memory or time beyond them. With glibc, the states
 * regcomp() built are also checked against the bound directly. */
#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/regex-util.h"

/* glibc's unanchored regexec() starts over at each candidate position: its
 * time grows with the square of the line. Accepted patterns exist that take
 * 4.5 s on a 4 KiB line ("((((,)|).)*~*~a??){,82}xa??){,82}x", found here);
 * that is why a costly match runs off the loop (probe/line-matcher.c). On
 * 1 KiB the same takes ~0.3 s, so the per-input timeout still catches a
 * blow-up that is more than quadratic. */
#define LINE_SIZE 1024

static const char *line(void) {
        static char buf[LINE_SIZE + 1];
        static const char text[] = "2026-11-28 12:00:00 LOG: ready to accept connections on port 5432 "
                                   "GET /health HTTP/1.1 200 OK aaaaaaaaaaaaaaaabbbbbbbbbb [x] (y) {z} \\ ";

        if (!buf[0]) {
                for (size_t i = 0; i < LINE_SIZE; i++)
                        buf[i] = text[i % (sizeof text - 1)];
                buf[LINE_SIZE] = '\0';
        }
        return buf;
}

#ifdef __GLIBC__
/* glibc's re_dfa_t begins { re_token_t *nodes; size_t nodes_alloc; size_t
 * nodes_len; ...}: the number of states regcomp() built (posix/regex_internal.h). */
static size_t glibc_states(const regex_t *re) {
        return ((const size_t *) re->__REPB_PREFIX(buffer))[2];
}
#endif

/* glibc's regcomp() makes many small allocations: with ASan's default
 * 256 MB quarantine and size-class caches, RSS grows past 512 MB in seconds
 * though little is live. Smaller, so that the RSS limit measures regcomp(). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
        return "quarantine_size_mb=16:allocator_release_to_os_interval_ms=1000";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *pattern, *message = NULL;
        int cflags = REG_EXTENDED | REG_NEWLINE | REG_NOSUB;
        regex_t re;
        int r;

        if (size < 1)
                return 0;
        if (data[0] & 1)
                cflags |= REG_ICASE;
        (void) setlocale(LC_CTYPE, data[0] & 2 ? "C.UTF-8" : "C");
        pattern = fuzz_string(data + 1, size - 1);
        if (!pattern)
                return 0;
        r = regex_compile(&re, pattern, cflags, &message);
        if (r == 0) {
                if (message || regex_check_bounds(pattern, NULL) < 0)
                        abort();
#ifdef __GLIBC__
                if (glibc_states(&re) > REGEX_STATES_MAX)
                        abort();
#endif
                (void) regexec(&re, line(), 0, NULL, 0);
                regfree(&re);
        } else if (r == -EINVAL && (!message || !*message))
                abort(); /* a refusal always says why */
        free(message);
        free(pattern);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/stat holds the process's own command name (any bytes but NUL,
 * up to 15, with spaces and parentheses): outside input for the guard, the
 * keeper and the process-group backend. Any text; an accepted one must
 * give sane fields, and the same fields again when the name before the
 * last ')' changes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/proc-stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_string(data, size);
        ProcStat a, b;

        if (!text)
                return 0;
        if (proc_stat_parse(text, &a) >= 0) {
                const char *close = strrchr(text, ')');
                char *other;

                if (!close || a.state == ' ' || a.state == '\0' || a.ppid < -1 || a.pgrp < -1 || a.session < -1)
                        abort();
                /* "1 (x" + the rest after the last ')': the same fields. */
                other = malloc(strlen(close) + 5);
                if (other) {
                        memcpy(other, "1 (x", 4);
                        strcpy(other + 4, close);
                        if (proc_stat_parse(other, &b) < 0 || memcmp(&a, &b, sizeof a) != 0)
                                abort();
                        free(other);
                }
        }
        free(text);
        return 0;
}

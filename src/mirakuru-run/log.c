/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static bool verbose_on, quiet_on;

void log_setup(bool verbose, bool quiet) {
        verbose_on = verbose;
        quiet_on = quiet;
}

bool log_is_verbose(void) {
        return verbose_on;
}

static void log_va(const char *fmt, va_list ap) {
        /* One write per message, so lines of ours and the service's do not mix. */
        char buf[4096];
        int n = vsnprintf(buf, sizeof buf, fmt, ap);

        if (n < 0)
                return;
        fprintf(stderr, "mirakuru-run: %s\n", buf);
        fflush(stderr);
}

void log_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_va(fmt, ap);
        va_end(ap);
}

void log_warning(const char *fmt, ...) {
        va_list ap;

        if (quiet_on)
                return;
        va_start(ap, fmt);
        log_va(fmt, ap);
        va_end(ap);
}

void log_info(const char *fmt, ...) {
        va_list ap;

        if (!verbose_on)
                return;
        va_start(ap, fmt);
        log_va(fmt, ap);
        va_end(ap);
}

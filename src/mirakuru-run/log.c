/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"

static bool verbose_on, quiet_on;

void log_setup(bool verbose, bool quiet) {
        verbose_on = verbose;
        quiet_on = quiet;
}

bool log_is_verbose(void) {
        return verbose_on;
}

void write_nonblocking(int fd, const char *s, size_t n) {
        while (n > 0) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                ssize_t k;

                /* A pipe that polls writable has room for a whole page: a
                 * message of ours fits without blocking. A reader that
                 * stopped reading (or went away) loses the message. */
                if (poll(&p, 1, 0) <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
                        return;
                k = write(fd, s, n > 4096 ? 4096 : n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                s += k;
                n -= (size_t) k;
        }
}

static void log_va(const char *fmt, va_list ap) {
        /* One write per message, so lines of ours and the service's do not
         * mix; what a service controls (its output, its STATUS=, arguments)
         * may hold control characters: escaped, except the newlines of our
         * own multi-line messages. */
        char raw[4096], buf[4096 * 4 + 32];
        int n = vsnprintf(raw, sizeof raw, fmt, ap);
        size_t k;

        if (n < 0)
                return;
        k = (size_t) snprintf(buf, sizeof buf, "mirakuru-run: ");
        k += escape_control(raw, (size_t) n < sizeof raw ? (size_t) n : sizeof raw - 1, true, buf + k,
                            sizeof buf - k - 1);
        buf[k++] = '\n';
        write_nonblocking(STDERR_FILENO, buf, k);
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run's own messages, on stderr, prefixed "mirakuru-run: ".
 * Errors always; warnings unless --quiet; info only with --verbose. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

void log_setup(bool verbose, bool quiet);
bool log_is_verbose(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes what FD takes without blocking; the rest is dropped (a reader
 * that stopped reading, or went away, must not stop the supervisor). */
void write_nonblocking(int fd, const char *s, size_t n);

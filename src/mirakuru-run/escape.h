/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strings a service or a user controls, made safe for a terminal: control
 * characters escaped, arguments quoted the way a shell would take them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Copies N bytes of S to OUT (SIZE bytes; not NUL terminated) with each
 * control character (and DEL) as \t, \r, \n or \xHH; with KEEP_NEWLINE
 * '\n' stays as it is. Stops before a character that would not fit.
 * Returns the bytes written. */
size_t escape_control(const char *s, size_t n, bool keep_newline, char *out, size_t size);
/* S, escaped as above (newlines too); malloc'd, NULL on allocation failure. */
char *escape_string(const char *s, size_t n);
/* ARGV as one line a POSIX shell (bash for $'...') would split back into
 * the same words: plain words as they are, others in single quotes, and
 * words holding control characters as $'...'. malloc'd, or NULL. */
char *shell_quote_argv(char *const *argv);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Splitting one command string into words the way a POSIX shell would. */
#pragma once

/* Blanks (space, tab, newline) separate words; 'single quotes' keep
 * everything literally; inside "double quotes" a backslash escapes only
 * $ ` " \ and newline; elsewhere a backslash escapes any character and
 * backslash-newline joins lines. Nothing is expanded: no variables, globs or
 * substitutions. Returns -EINVAL for an unterminated quote or a trailing
 * backslash, -ENOMEM; the result may be empty (a strv with no entries). */
int shell_split(const char *s, char ***ret);

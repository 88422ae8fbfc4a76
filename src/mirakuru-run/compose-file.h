/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a compose file safely, before it is parsed: opening it without
 * blocking, and one pass over libyaml's events for what the loader would
 * not say or would take long over. */
#pragma once

#include <stdio.h>

/* Mappings and sequences nested deeper than this are refused (ours need 4). */
#define COMPOSE_NESTING_MAX 64

/* FILE, opened without blocking (a FIFO would hold us in open() with our
 * signals blocked) and only if it is a regular file; NULL after saying
 * why (log_error()). */
FILE *compose_file_open(const char *file);
/* One pass over libyaml's events that stops at the first of a second
 * document (silently ignored by the loader), nesting deeper than
 * COMPOSE_NESTING_MAX (libyaml's loader takes time quadratic in the depth:
 * 100,000 '[' cost 25 s) and a syntax error, each said with FILE:LINE.
 * Rewinds F. 0, -EINVAL, -ENOMEM. */
int compose_file_precheck(const char *file, FILE *f);

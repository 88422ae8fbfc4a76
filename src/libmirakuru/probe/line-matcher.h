/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Matching the service's lines against the output probe's regex without
 * ever holding up the event loop. glibc's regexec() cannot be interrupted
 * and, within the bounds regex-util.h accepts, one line can still cost
 * seconds ("a?" x 1023 then "b" on a 4 KiB line: 0.4 s; on a 1 MiB line
 * far more). An unanchored search starts over at each position, so even a
 * plain pattern costs the square of the line: "[a-z]+ ready" takes 24 ms
 * on 4 KiB of 'a's (~3e-10 s per state x length^2 on this machine). So a
 * line is matched in place only when its cost is known to be small (a
 * pattern of at most LINE_MATCHER_INLINE_STATES states, and states x
 * length^2 at most LINE_MATCHER_INLINE_COST: ~1 ms at worst; 30 states,
 * the usual readiness pattern, and lines up to 370 bytes);
 * any other line, and every line after it until the queue is empty again,
 * goes to a matcher thread, through a queue bounded to
 * LINE_MATCHER_QUEUE_MAX bytes (lines beyond are not matched, and counted).
 * The thread reports a match through an eventfd the loop watches. The loop
 * thus spends O(length) per line whatever the pattern and the flood, so
 * deadlines and signals are handled on time. */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_MATCHER_INLINE_STATES 256
#define LINE_MATCHER_INLINE_COST ((uint64_t) 1 << 22)
/* Longer lines are never matched in place (and the cost cannot overflow). */
#define LINE_MATCHER_INLINE_LENGTH_MAX ((size_t) 65536)
#define LINE_MATCHER_QUEUE_MAX ((size_t) 4 << 20)

typedef struct LineMatcher LineMatcher;

/* Takes over *RE (PATTERN compiled with CFLAGS, which include REG_NOSUB;
 * not to be regfree()d by the caller any more), for matching in place; the
 * thread compiles PATTERN again for itself. STATES: regex_states(). */
int line_matcher_new(regex_t *re, const char *pattern, int cflags, uint64_t states, LineMatcher **ret);
/* Ends the matcher; a thread still matching a line finishes it, then frees
 * everything. NULL-safe; returns NULL. */
LineMatcher *line_matcher_free(LineMatcher *m);
/* Forgets queued lines and a match (a new start). */
void line_matcher_reset(LineMatcher *m);
/* 1: LINE matched right here; 0: it did not, or it was queued (a match is
 * reported through the fd); negative errno. */
int line_matcher_feed(LineMatcher *m, const char *line, size_t length);
/* Readable once the thread found a match: then call line_matcher_take_match(). */
int line_matcher_fd(LineMatcher *m);
/* Clears the fd; true if a queued line matched since the last reset. */
bool line_matcher_take_match(LineMatcher *m);
/* Lines not matched because the queue was full, since the last reset. */
unsigned long line_matcher_dropped(LineMatcher *m);

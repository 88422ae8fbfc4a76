/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compiling a user's POSIX extended regular expression with bounded cost.
 *
 * glibc's regcomp() copies the operand of a bounded repeat max(m,n) times
 * and that of '+' twice, so stacked and nested quantifiers take memory and
 * time exponential in the pattern ("x+++++++++++++++++++++++" needs ~1 GB,
 * "(a{1,255}){1,255}" likewise), and back-references make regexec()
 * exponential on a line. regex_compile() walks the pattern first, the way
 * glibc will parse it, computes an upper bound of the number of states
 * regcomp() will build, and refuses the pattern before regcomp() sees it
 * when that is above REGEX_STATES_MAX, the pattern is longer than
 * REGEX_PATTERN_MAX bytes, has more than REGEX_ANCHORS_MAX anchors, nests
 * repeats of empty-matching parts deeper than REGEX_EMPTY_NESTING_MAX, has
 * more than REGEX_EMPTY_PATHS_MAX ways through a run of such parts, nests
 * groups deeper than REGEX_NESTING_MAX, or uses a back-reference (\1 ..
 * \9). Every place that compiles a regex coming from a user goes through
 * here (the output and http probes; the CLI's checks of its options). */
#pragma once

#include <regex.h>
#include <stdint.h>
#include <string.h>

/* The longest pattern accepted, in bytes (without the NUL). */
#define REGEX_PATTERN_MAX 4096
/* The bound on the states regcomp() may build, counted as glibc builds
 * them: a literal byte, '.', '^', '$' count 1 (a character whose capital
 * is longer, the capital's bytes: REG_ICASE upper-cases), a bracket expression or
 * \w \W \s \S 3, a group 2, each '|' 1, and 1 for the end; X? counts
 * X+1, X* X+1, X+ 2X+1, X{m,} (m+1)X+1, X{m,n} nX+(n-m). With A anchors
 * (^ $ \< \> count 1, \b \B 2, after expanding repeats) the total counts
 * (1 + 2A) times, as glibc copies what follows an anchor per combination
 * of constraints. A pattern without anchors may thus have ~2000 literal
 * characters, one with '^' and '$' ~400. Measured at this bound: regcomp()
 * under 25 MB and 0.15 s; regexec() is not bounded by this: it starts over
 * at each position of the line, and some accepted patterns take seconds on
 * a 4 KiB line (probe/line-matcher.c matches off the loop)
 * (docs/reliability.md). */
#define REGEX_STATES_MAX 2048
/* More anchors than this (counted as above) are refused: glibc's copies
 * grow faster than 1 + 2A beyond. */
#define REGEX_ANCHORS_MAX 8
/* Repeats (and alternatives) of parts that can match the empty string, each
 * applied to such a part, nested deeper than this are refused: glibc's
 * epsilon closures take time exponential in the run of such parts at depth
 * 3 ("a??{24,}" 10 s, "a???????+++++" 0.6 s, "(a??)+" x 40 more than 20 s).
 * "x?", "(a|b)*" are 1 deep, "(x?)*", "(a|b?)" 2, "(a??)+" 3. */
#define REGEX_EMPTY_NESTING_MAX 2
/* More ways than this to cross a run of parts that can match the empty
 * string, between any two points of the pattern, are refused. Each
 * alternative of such parts one after the other multiplies the ways:
 * "(a?|b?)" has 2, "(a?|b?)(a?|b?)" 4, "(()|())" x 18 262144. Where a
 * repeat of such parts closes a loop ("(...)*", even after the run),
 * glibc's epsilon closures walk every way again from each state, uncached:
 * time exponential in the run ("((()|()){18})*" 0.4 s, x 22 seconds). With
 * at most 32 ways, regcomp() stays within the budget of REGEX_STATES_MAX
 * below. "\b" has 2 ways, "x?", "(a|b)?", "(a|)", "^", "()" 1. */
#define REGEX_EMPTY_PATHS_MAX 32
/* Groups nested deeper than this are refused (the walk recurses per group). */
#define REGEX_NESTING_MAX 100

/* In messages a pattern is shown up to REGEX_SHOWN_MAX bytes, then "..."
 * (a refused 100 KB pattern must not come back whole on stderr):
 * printf(REGEX_SHOWN_FMT, REGEX_SHOWN_ARGS(pattern)). */
#define REGEX_SHOWN_MAX 80
#define REGEX_SHOWN_FMT "%.*s%s"
#define REGEX_SHOWN_ARGS(p) \
        (int) (strlen(p) > REGEX_SHOWN_MAX ? REGEX_SHOWN_MAX : strlen(p)), (p), strlen(p) > REGEX_SHOWN_MAX ? "..." : ""

/* Checks PATTERN against the limits above without compiling it. Returns 0,
 * or -EINVAL with *RET_MESSAGE (if not NULL) set to a malloc'd message that
 * says what is wrong and at which byte offset; -ENOMEM. */
int regex_check_bounds(const char *pattern, char **ret_message);
/* The bound on PATTERN's states, as counted above (anchors included), for
 * an accepted pattern: what matching a byte costs grows with it. */
int regex_states(const char *pattern, uint64_t *ret);

/* regex_check_bounds(), then regcomp(RE, PATTERN, CFLAGS). Returns 0 with
 * *RE compiled (the caller regfree()s it); -EINVAL when refused or when
 * regcomp() fails (*RET_MESSAGE, if not NULL, gets a malloc'd message:
 * ours, or regerror()'s text); -ENOMEM (regcomp()'s REG_ESPACE too, then
 * with a message). On failure *RE holds nothing to free. */
int regex_compile(regex_t *re, const char *pattern, int cflags, char **ret_message);

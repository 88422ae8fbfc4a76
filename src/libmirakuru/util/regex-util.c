/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walk follows glibc's ERE parser (posix/regcomp.c, RE_SYNTAX_POSIX_EXTENDED):
 * where the two could disagree, it errs towards counting more. Where glibc
 * would fail to compile, the count only has to cover what glibc built before
 * the error, i.e. the prefix, which the walk has counted by then. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <wchar.h>
#include <wctype.h>

#include "macro.h"
#include "regex-util.h"

/* glibc's RE_DUP_MAX; larger counts fail in regcomp() (REG_ESIZE). */
#define DUP_MAX 0x7fff
/* glibc's limit on a [:class:], [.coll.] or [=equiv=] name (BRACKET_NAME_BUF_SIZE). */
#define BRACKET_NAME_MAX 32

typedef struct Walk {
        const char *pattern;
        const char *p; /* the next byte */
        unsigned depth;
        char *message;
} Walk;

_printf_(2, 3) static int walk_fail(Walk *w, const char *format, ...) {
        va_list ap;
        int r;

        free(w->message);
        va_start(ap, format);
        r = vasprintf(&w->message, format, ap);
        va_end(ap);
        if (r < 0) {
                w->message = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* What a part of the pattern costs: the states it expands to, and the
 * anchors among them (^ $ \< \> \` \' count 1, \b \B 2). glibc copies the
 * states that follow an anchor for each combination of constraints met on
 * the way (duplicate_node_closure()); measured with up to
 * REGEX_ANCHORS_MAX anchors, that stays below 1 + 2 * anchors times the
 * states. */
typedef struct Cost {
        uint64_t states;
        uint64_t anchors;
        /* Can match the empty string; and how deep repeats and alternatives
         * of such parts nest (REGEX_EMPTY_NESTING_MAX). */
        bool nullable;
        unsigned empty_depth;
        /* Epsilon paths (REGEX_EMPTY_PATHS_MAX), counted in glibc's NFA
         * where only anchors, groups and the nodes of | ? * + { } are
         * crossed without reading a byte: THROUGH from the part's start to
         * its end (0 when it cannot match empty), HEAD the most from its
         * start to any one node in it or its end, TAIL the most from any
         * node in it to its end, INNER the most between any two nodes of it
         * (a loop's way back included). Saturated at PATHS_SATURATED. */
        uint64_t through, head, tail, inner;
} Cost;

#define PATHS_SATURATED (UINT64_C(1) << 32)

static uint64_t paths_add(uint64_t a, uint64_t b) {
        return MIN(a + b, PATHS_SATURATED);
}

static uint64_t paths_mul(uint64_t a, uint64_t b) {
        return MIN(a * b, PATHS_SATURATED); /* both <= 2^32: no overflow */
}

/* The paths of a part that reads a byte (literal, '.', bracket, \w), and of
 * one that reads nothing and has one way through (an anchor, "()", an
 * empty branch). */
#define PATHS_BYTE .through = 0, .head = 1, .tail = 1, .inner = 1
#define PATHS_EMPTY .through = 1, .head = 1, .tail = 1, .inner = 1

/* X then Y: paths into Y come through X; the worst run between two nodes
 * may start in X's tail and end in Y's head. */
static void paths_concat(Cost *x, const Cost *y) {
        uint64_t through = paths_mul(x->through, y->through);
        uint64_t head = MAX(x->head, paths_mul(x->through, y->head));
        uint64_t tail = MAX(y->tail, paths_mul(x->tail, y->through));

        x->inner = MAX(MAX(x->inner, y->inner), paths_mul(x->tail, y->head));
        x->through = through;
        x->head = head;
        x->tail = tail;
}

/* X|Y: the two ways add up where they meet again, at the end. */
static void paths_alternate(Cost *x, const Cost *y) {
        x->through = paths_add(x->through, y->through);
        x->head = MAX(MAX(x->head, y->head), x->through);
        x->tail = MAX(MAX(x->tail, y->tail), x->through);
        x->inner = MAX(MAX(x->inner, y->inner), MAX(x->head, x->tail));
}

/* X? (glibc: X|nothing). */
static void paths_optional(Cost *x) {
        const Cost nothing = { PATHS_EMPTY };

        paths_alternate(x, &nothing);
}

/* X* (glibc: a node that leads into X and past it; X's end leads back to
 * it): as X?, and from a node in X around the loop to a node in X. */
static void paths_loop(Cost *x) {
        uint64_t around = paths_mul(x->tail, x->head);

        paths_optional(x);
        x->inner = MAX(x->inner, around);
}

/* X{min,max} as glibc's parse_dup_op() builds it: MIN copies of X, then X*
 * (MAX < 0), or MAX-MIN nested optional copies "((X?X)?X)?". Stops early
 * once a copy changes nothing (a fixed point) or the ways are past
 * REGEX_EMPTY_PATHS_MAX (refused then; a count that only grows by one a
 * copy, "(a?){0,32767}", would otherwise take every copy). */
static void paths_repeat(Cost *ret, const Cost *x, long min, long max) {
        Cost r = { PATHS_EMPTY }, prev;

        for (long i = 0; i < min; i++) {
                prev = r;
                paths_concat(&r, x);
                if (i > 0 && r.through == prev.through && r.head == prev.head && r.tail == prev.tail &&
                    r.inner == prev.inner)
                        break;
                if (r.inner > REGEX_EMPTY_PATHS_MAX)
                        break;
        }
        if (max < 0) {
                Cost loop = *x;

                paths_loop(&loop);
                paths_concat(&r, &loop);
        } else if (max > min) {
                Cost opt = *x;

                paths_optional(&opt);
                for (long i = min + 1; i < max; i++) {
                        prev = opt;
                        paths_concat(&opt, x);
                        paths_optional(&opt);
                        if (opt.through == prev.through && opt.head == prev.head && opt.tail == prev.tail &&
                            opt.inner == prev.inner)
                                break;
                        if (opt.inner > REGEX_EMPTY_PATHS_MAX)
                                break;
                }
                paths_concat(&r, &opt);
        }
        ret->through = r.through;
        ret->head = r.head;
        ret->tail = r.tail;
        ret->inner = MAX(r.inner, x->inner); /* X{0} is built, then dropped */
}

static int walk_check(Walk *w, Cost c, size_t offset, bool quantifier) {
        if (c.empty_depth > REGEX_EMPTY_NESTING_MAX)
                return walk_fail(w, "repeats and alternatives of parts that can match the empty string nest more "
                                 "than %d deep at offset %zu", REGEX_EMPTY_NESTING_MAX, offset);
        if (c.anchors > REGEX_ANCHORS_MAX)
                return walk_fail(w, "more than %d anchors (^ $ \\< \\> count 1, \\b \\B 2, repeats multiply them) at offset %zu",
                                 REGEX_ANCHORS_MAX, offset);
        if (c.inner > REGEX_EMPTY_PATHS_MAX)
                return walk_fail(w, "the pattern can match the empty string in more than %d ways in a row at offset %zu "
                                 "(alternatives of such parts, one after the other)", REGEX_EMPTY_PATHS_MAX, offset);
        /* states <= 32767 * REGEX_STATES_MAX here: no overflow */
        if (c.states * (1 + 2 * c.anchors) <= REGEX_STATES_MAX)
                return 0;
        return walk_fail(w, "%s would expand to more than %d states%s at offset %zu",
                         quantifier ? "quantifiers nest too deeply: the pattern" : "the pattern is too complex: it",
                         REGEX_STATES_MAX, c.anchors > 0 ? " (anchors multiply what follows them)" : "", offset);
}

/* The bytes of the character at P, as glibc's re_string sees them: invalid or
 * incomplete sequences count as single bytes. */
static size_t char_length(const char *p) {
        mbstate_t state = {};
        size_t n;

        if ((unsigned char) *p < 0x80 || MB_CUR_MAX == 1)
                return 1;
        n = mbrtowc(NULL, p, strnlen(p, MB_CUR_MAX), &state);
        return n == (size_t) -1 || n == (size_t) -2 || n == 0 ? 1 : n;
}

/* The states of the N-byte character at P as a literal: one per byte, as
 * glibc builds it; but with REG_ICASE in a multibyte locale glibc parses
 * the pattern upper-cased (build_wcs_upper_buffer()), and a character
 * whose capital is longer builds one state more (18 of them in C.UTF-8,
 * each 2 bytes -> 3: U+023F -> U+2C7E; found by fuzz-regex). The walk does
 * not know the flags: it counts the longer of the two. */
static size_t char_states(const char *p, size_t n) {
        char capital[MB_LEN_MAX];
        mbstate_t state = {};
        wchar_t wc;
        size_t m;

        if (n < 2 || mbrtowc(&wc, p, n, &state) != n)
                return n;
        memset(&state, 0, sizeof state);
        m = wcrtomb(capital, (wchar_t) towupper((wint_t) wc), &state);
        return m != (size_t) -1 && m > n ? m : n;
}

/* P at '['; returns the byte after the closing ']' (or the end: glibc then
 * fails). A ']' first in the list (after an optional '^') is a member;
 * "[:", "[." and "[=" open a name that ends at ":]", ".]" or "=]" within
 * BRACKET_NAME_MAX bytes. When unsure, this ends the list early, so that
 * the rest is counted as if outside. */
static const char *skip_bracket(const char *p) {
        bool first = true;

        p++;
        if (*p == '^')
                p++;
        for (;;) {
                if (!*p)
                        return p;
                if (*p == ']' && !first)
                        return p + 1;
                first = false;
                if (*p == '[' && p[1] && strchr(".:=", p[1])) {
                        const char *name = p + 2;
                        size_t i;

                        for (i = 0; i < BRACKET_NAME_MAX && name[i]; i++)
                                if (name[i] == p[1] && name[i + 1] == ']')
                                        break;
                        if (i < BRACKET_NAME_MAX && name[i]) {
                                p = name + i + 2;
                                continue;
                        }
                }
                p += char_length(p);
        }
}

/* Up to 5 digits (more saturate at DUP_MAX + 1); -1 if there are none. */
static long parse_count(const char **p) {
        long n = -1;

        for (; **p >= '0' && **p <= '9'; (*p)++)
                n = MIN((n < 0 ? 0 : n) * 10 + (**p - '0'), (long) DUP_MAX + 1);
        return n;
}

/* P at '{': "{m}", "{m,}", "{m,n}", "{,n}", "{,}" as glibc reads them.
 * False for anything else, and for the intervals glibc refuses (m > n,
 * counts above DUP_MAX): regcomp() then fails there and says why. *RET_MAX
 * is -1 for no upper bound. */
static bool parse_interval(const char **p, long *ret_min, long *ret_max) {
        const char *q = *p + 1;
        long min, max;

        min = parse_count(&q);
        if (*q == '}') {
                if (min < 0) /* "{}" */
                        return false;
                max = min;
        } else if (*q == ',') {
                q++;
                max = parse_count(&q);
                if (*q != '}')
                        return false;
                if (min < 0) /* "{,n}" is "{0,n}" */
                        min = 0;
        } else
                return false;
        if ((max >= 0 && min > max) || min > DUP_MAX || max > DUP_MAX)
                return false;
        *p = q + 1;
        *ret_min = min;
        *ret_max = max;
        return true;
}

/* The copies glibc's parse_dup_op() makes of an operand costing C. */
static Cost repeat_cost(Cost c, long min, long max) {
        Cost r = c;

        paths_repeat(&r, &c, min, max);
        if (max < 0) { /* X* as X{0,}, X+ as X{1,}; the loop passes anchors again */
                r.states = (uint64_t) (min + 1) * c.states + 1;
                r.anchors = (uint64_t) (min + 2) * c.anchors;
        } else if (max > 0) { /* X{0} is dropped after the operand was built */
                r.states = (uint64_t) max * c.states + (uint64_t) (max - min);
                r.anchors = (uint64_t) max * c.anchors;
        }
        r.nullable = c.nullable || min == 0;
        if (c.nullable)
                r.empty_depth = c.empty_depth + 1;
        else if (r.nullable)
                r.empty_depth = MAX(c.empty_depth, 1u);
        return r;
}

static int walk_regexp(Walk *w, bool nested, Cost *ret);

static int walk_atom(Walk *w, Cost *ret) {
        const char *start = w->p;
        Cost c = {};
        int r;

        switch (*w->p) {
        case '(':
                if (w->depth >= REGEX_NESTING_MAX)
                        return walk_fail(w, "groups nest more than %d deep at offset %zu", REGEX_NESTING_MAX,
                                         (size_t) (start - w->pattern));
                w->p++;
                w->depth++;
                r = walk_regexp(w, true, &c);
                w->depth--;
                if (r < 0)
                        return r;
                if (*w->p == ')')
                        w->p++;
                c.states += 2;
                break;
        case '[':
                w->p = skip_bracket(w->p);
                c = (Cost) { .states = 3, PATHS_BYTE };
                break;
        case '^':
        case '$':
                w->p++;
                c = (Cost) { .states = 1, .anchors = 1, .nullable = true, PATHS_EMPTY };
                break;
        case '\\':
                if (w->p[1] >= '1' && w->p[1] <= '9')
                        return walk_fail(w,
                                         "back-reference \\%c at offset %zu: not supported (not part of POSIX "
                                         "extended regular expressions, and exponential to match)",
                                         w->p[1], (size_t) (start - w->pattern));
                if (!w->p[1]) {
                        w->p++;
                        c = (Cost) { .states = 1, PATHS_BYTE };
                        break;
                }
                if (strchr("bB", w->p[1])) /* two anchors and a '|' */
                        c = (Cost) { .states = 3, .anchors = 2, .nullable = true, .through = 2, .head = 2, .tail = 2,
                                     .inner = 2 };
                else if (strchr("<>`'", w->p[1]))
                        c = (Cost) { .states = 1, .anchors = 1, .nullable = true, PATHS_EMPTY };
                else if (strchr("wWsS", w->p[1]))
                        c = (Cost) { .states = 3, PATHS_BYTE }; /* a bracket expression */
                else /* a multibyte character after '\' stays one state per byte */
                        c = (Cost) { .states = char_states(w->p + 1, char_length(w->p + 1)), PATHS_BYTE };
                w->p += 1 + char_length(w->p + 1);
                break;
        default:
                /* Literals, '.'; a ')' outside groups; a repeat operator with
                 * nothing before it (glibc fails there). */
                w->p += char_length(w->p);
                c = (Cost) { .states = char_states(start, (size_t) (w->p - start)), PATHS_BYTE };
                break;
        }
        *ret = c;
        return walk_check(w, c, (size_t) (start - w->pattern), false);
}

static int walk_branch(Walk *w, bool nested, Cost *ret) {
        Cost total = { .nullable = true, PATHS_EMPTY };
        int r;

        while (*w->p && *w->p != '|' && !(nested && *w->p == ')')) {
                Cost c = {};

                r = walk_atom(w, &c);
                if (r < 0)
                        return r;
                for (;;) {
                        const char *op = w->p;
                        long min, max;

                        if (*op == '*')
                                min = 0, max = -1, w->p++;
                        else if (*op == '+')
                                min = 1, max = -1, w->p++;
                        else if (*op == '?')
                                min = 0, max = 1, w->p++;
                        else if (*op != '{' || !parse_interval(&w->p, &min, &max))
                                break;
                        c = repeat_cost(c, min, max);
                        r = walk_check(w, c, (size_t) (op - w->pattern), true);
                        if (r < 0)
                                return r;
                }
                total.states += c.states;
                total.anchors += c.anchors;
                paths_concat(&total, &c);
                total.nullable = total.nullable && c.nullable;
                total.empty_depth = MAX(total.empty_depth, c.empty_depth);
                r = walk_check(w, total, (size_t) (w->p - w->pattern), false);
                if (r < 0)
                        return r;
        }
        *ret = total;
        return 0;
}

static int walk_regexp(Walk *w, bool nested, Cost *ret) {
        Cost total = {};
        unsigned branches = 0, depth = 0;
        int r;

        for (;;) {
                Cost c = {};

                r = walk_branch(w, nested, &c);
                if (r < 0)
                        return r;
                if (branches++ == 0) {
                        total.through = c.through;
                        total.head = c.head;
                        total.tail = c.tail;
                        total.inner = c.inner;
                } else
                        paths_alternate(&total, &c);
                total.states += c.states;
                total.anchors += c.anchors;
                total.nullable = total.nullable || c.nullable;
                depth = MAX(depth, c.empty_depth);
                if (*w->p == '|')
                        total.states++;
                /* Alternatives of which one can match empty are an X? of sorts. */
                total.empty_depth = depth + ((branches > 1 || *w->p == '|') && total.nullable ? 1 : 0);
                r = walk_check(w, total, (size_t) (w->p - w->pattern), false);
                if (r < 0)
                        return r;
                if (*w->p != '|')
                        break;
                w->p++;
        }
        *ret = total;
        return 0;
}

static int check_bounds(const char *pattern, char **ret_message, uint64_t *ret_states) {
        Walk w = { .pattern = pattern, .p = pattern };
        Cost cost = {};
        size_t n;
        int r;

        if (!pattern)
                return -EINVAL;
        n = strnlen(pattern, REGEX_PATTERN_MAX + 1);
        if (n > REGEX_PATTERN_MAX)
                r = walk_fail(&w, "the pattern is longer than %d bytes", REGEX_PATTERN_MAX);
        else {
                /* At the top level a ')' is a literal: this walks it all. */
                r = walk_regexp(&w, false, &cost);
                if (r >= 0) {
                        cost.states++; /* glibc's END_OF_RE */
                        r = walk_check(&w, cost, n, false);
                }
        }
        if (r < 0 && ret_message)
                *ret_message = TAKE_PTR(w.message);
        free(w.message);
        if (r >= 0 && ret_states)
                *ret_states = cost.states * (1 + 2 * cost.anchors);
        return r;
}

int regex_check_bounds(const char *pattern, char **ret_message) {
        return check_bounds(pattern, ret_message, NULL);
}

int regex_states(const char *pattern, uint64_t *ret) {
        return check_bounds(pattern, NULL, ret);
}

int regex_compile(regex_t *re, const char *pattern, int cflags, char **ret_message) {
        char buf[256];
        int r;

        if (!re || !pattern)
                return -EINVAL;
        r = regex_check_bounds(pattern, ret_message);
        if (r < 0)
                return r;
        r = regcomp(re, pattern, cflags);
        if (r == 0)
                return 0;
        /* glibc frees what it built on failure; nothing to regfree(). */
        regerror(r, re, buf, sizeof buf);
        if (ret_message) {
                char *m = strdup(buf);
                if (!m)
                        return -ENOMEM;
                *ret_message = m;
        }
        return r == REG_ESPACE ? -ENOMEM : -EINVAL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small macros every file uses: scoped cleanup and explicit ownership hand-over. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

/* Around one function that gcc 12's -fanalyzer misreads: silences its
 * leak report there and nowhere else. Each use says why it is a false
 * positive (see docs/reliability.md); clang does not know the name. */
#if defined(__GNUC__) && !defined(__clang__)
#define ANALYZER_IGNORE_LEAK_BEGIN                                      \
        _Pragma("GCC diagnostic push")                                  \
        _Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define ANALYZER_IGNORE_END _Pragma("GCC diagnostic pop")
#else
#define ANALYZER_IGNORE_LEAK_BEGIN
#define ANALYZER_IGNORE_END
#endif

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* NOLINTBEGIN(bugprone-macro-parentheses): TYPE below is a type, not an expression */
/* Returns the value and resets the variable, so a cleanup attribute no longer frees it. */
#define TAKE_GENERIC(var, type, nullvalue)                 \
        ({                                                 \
                type *_pvar_ = &(var);                     \
                type _var_ = *_pvar_;                      \
                *_pvar_ = (nullvalue);                     \
                _var_;                                     \
        })
#define TAKE_PTR(p) TAKE_GENERIC((p), typeof(p), NULL)
#define TAKE_FD(fd) TAKE_GENERIC((fd), int, -EBADF)

/* Defines NAMEp(T **p) calling NAME(*p), for use with _cleanup_. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)            \
        static inline void func##p(type *p) {              \
                if (*p)                                    \
                        func(*p);                          \
        }
/* NOLINTEND(bugprone-macro-parentheses) */

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes an fd if it is valid, preserving errno; always returns -EBADF. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void close_pairp(int (*p)[2]) {
        safe_close((*p)[0]);
        safe_close((*p)[1]);
}
#define _cleanup_close_pair_ _cleanup_(close_pairp)

/* asprintf() that leaves *RET NULL when it fails (glibc leaves it undefined),
 * so a _cleanup_free_ target is always safe to free. RET is evaluated once
 * (callers pass &env[k++]). */
#define asprintf_safe(ret, ...)                                 \
        ({                                                      \
                char **_ret_ = (ret);                           \
                int _n_ = asprintf(_ret_, __VA_ARGS__);         \
                if (_n_ < 0)                                    \
                        *_ret_ = NULL;                          \
                _n_;                                            \
        })

/* errno as a negative value, never 0 (for paths where a call failed without setting it). */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

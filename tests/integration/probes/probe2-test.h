/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the http, notify and listen probe tests. */
#pragma once

#include "probe-test.h"

/* An executor running test helper HELPER with the given arguments
 * (NULL-terminated) and start timeout TIMEOUT. */
static inline MkExecutor *helper_executor(const char *helper, uint64_t timeout, ...) {
        const char *argv[MAX_ARGS];
        MkExecutor *e = NULL;
        size_t n = 0;
        va_list ap;

        argv[n++] = test_helper(helper);
        va_start(ap, timeout);
        for (const char *a = va_arg(ap, const char *); a && n < MAX_ARGS - 1; a = va_arg(ap, const char *))
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_timeout(e, timeout), 0);
        free((char *) argv[0]);
        return e;
}

/* Connects to a stream socket and reads what the server says until EOF. */
static inline char *read_from(const struct sockaddr *sa, socklen_t len) {
        static char buf[1024];
        size_t n = 0;
        int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        if (connect(fd, sa, len) < 0) {
                fprintf(stderr, "connect: %m\n");
                fail();
        }
        for (;;) {
                ssize_t k = read(fd, buf + n, sizeof buf - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        close(fd);
        buf[n] = '\0';
        return buf;
}

static inline char *read_from_tcp(uint16_t port) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        return read_from((struct sockaddr *) &in, sizeof in);
}

static inline char *read_from_unix(const char *path) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        strncpy(un.sun_path, path, sizeof un.sun_path - 1);
        return read_from((struct sockaddr *) &un, sizeof un);
}

/* Occurrences of NEEDLE in HAYSTACK. */
static inline unsigned count_of(const char *haystack, const char *needle) {
        unsigned n = 0;
        for (const char *p = haystack; p && (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

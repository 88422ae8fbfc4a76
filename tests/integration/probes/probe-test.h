/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the probe tests: executors running tests/helpers/probe-server,
 * free ports, and assertions on messages. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mirakuru.h"
#include "test-util.h"

#define PASS_TIMEOUT_USEC (30 * MK_USEC_PER_SEC) /* an upper bound only */
#define FAIL_TIMEOUT_USEC (1500 * MK_USEC_PER_MSEC)
#define MAX_ARGS 64

/* An executor running probe-server with the given options (NULL-terminated),
 * with start timeout TIMEOUT. */
static inline MkExecutor *server(uint64_t timeout, const char *first, ...) {
        const char *argv[MAX_ARGS];
        MkExecutor *e = NULL;
        size_t n = 0;
        va_list ap;

        argv[n++] = test_helper("probe-server");
        va_start(ap, first);
        for (const char *a = first; a && n < MAX_ARGS - 1; a = va_arg(ap, const char *))
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_timeout(e, timeout), 0);
        free((char *) argv[0]);
        return e;
}

/* Starts E expecting WANT; on a mismatch prints the error. */
#define assert_start(e, want)                                                              \
        do {                                                                               \
                int _r = mk_executor_start(e);                                             \
                if (_r != (want))                                                          \
                        fprintf(stderr, "start: %d (%s), wanted %d; error: %s\n", _r,      \
                                strerror(-_r), (want), mk_executor_get_error(e) ?: "-");   \
                assert_int_equal(_r, (want));                                              \
        } while (0)

/* A listening socket on ADDR (127.0.0.1 or ::1) port 0; its port in *RET_PORT. */
static inline int listen_any(int family, uint16_t *ret_port) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        if (fd < 0)
                return -errno;
        if (family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_addr = in6addr_loopback;
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
                len = sizeof *in6;
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof *in;
        }
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 8) < 0 ||
            getsockname(fd, (struct sockaddr *) &ss, &len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                             : ((struct sockaddr_in *) &ss)->sin_port);
        return fd;
}

/* A port that was free a moment ago on FAMILY's loopback (bound to 0, closed). */
static inline uint16_t free_port(int family) {
        uint16_t port = 0;
        int fd = listen_any(family, &port);

        assert_true(fd >= 0);
        close(fd);
        return port;
}

static inline bool have_ipv6_loopback(void) {
        uint16_t port = 0;
        int fd = listen_any(AF_INET6, &port);

        if (fd < 0)
                return false;
        close(fd);
        return true;
}

/* "HOST:PORT" in a static buffer per call. */
static inline char *host_port(const char *host, uint16_t port) {
        char *s;
        assert_true(asprintf(&s, "%s:%u", host, port) > 0);
        return s;
}

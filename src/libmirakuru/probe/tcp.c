/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tcp probe: a TCP connection to host:port succeeds. Every address the
 * host resolves to is tried at once with non-blocking connects watched on
 * the loop (EPOLLOUT, then SO_ERROR); when all of a round were refused, a
 * backing-off timer starts the next round. For addresses on this machine,
 * from the first refused round on, a listen watch (listen-watch.h: a
 * tracepoint event where allowed, else a query every millisecond) learns
 * when something listens there, and starts a round the moment it does. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "executor-private.h"
#include "listen-watch.h"
#include "probe.h"
#include "util/socket-owner.h"

#define PRE_CHECK_TIMEOUT_MSEC 1000

typedef struct TcpProbe TcpProbe;

typedef struct TcpAddress {
        struct sockaddr_storage sa;
        socklen_t len;
} TcpAddress;

typedef struct TcpAttempt {
        TcpProbe *tcp;
        TcpAddress address;
        int fd;
        sd_event_source *source;
        int error; /* of the last try, positive errno */
} TcpAttempt;

struct TcpProbe {
        Probe probe;
        char *host;
        uint16_t port;
        TcpAttempt *attempts; /* one per address; NULL until resolved */
        size_t n_attempts;
        size_t n_pending;
        unsigned n_rounds;
        sd_event_source *retry;
        ListenWatch *watch;    /* NULL: no local address, or no sock_diag */
        bool watch_tried;
};

static void tcp_round(TcpProbe *t);
static void tcp_watch(TcpProbe *t);

/* "[::1]:5000", "127.0.0.1:5000" */
static void format_address(const struct sockaddr *sa, char *buf, size_t size) {
        char host[INET6_ADDRSTRLEN] = "?";
        uint16_t port = 0;

        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                port = ntohs(in6->sin6_port);
                snprintf(buf, size, "[%s]:%u", host, port);
        } else {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                port = ntohs(in->sin_port);
                snprintf(buf, size, "%s:%u", host, port);
        }
}

static bool is_localhost(const char *host) {
        size_t n = strlen(host);
        return strcasecmp(host, "localhost") == 0 ||
               (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0);
}

/* The addresses to try: for "localhost" always ::1 and 127.0.0.1 (RFC 6761;
 * /etc/hosts often lacks one of them), else what getaddrinfo() says, without
 * duplicates. 0 or an EAI_* error. */
static int resolve(const char *host, uint16_t port, TcpAddress **ret, size_t *ret_n) {
        const struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_NUMERICSERV,
        };
        struct addrinfo *list = NULL;
        TcpAddress *a;
        char service[8];
        size_t n = 0;
        int r;

        if (is_localhost(host)) {
                a = calloc(2, sizeof *a);
                if (!a)
                        return EAI_MEMORY;
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &a[0].sa;
                *in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port),
                                               .sin6_addr = IN6ADDR_LOOPBACK_INIT };
                a[0].len = sizeof *in6;
                struct sockaddr_in *in = (struct sockaddr_in *) &a[1].sa;
                *in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port),
                                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                a[1].len = sizeof *in;
                *ret = a;
                *ret_n = 2;
                return 0;
        }

        snprintf(service, sizeof service, "%u", port);
        r = getaddrinfo(host, service, &hints, &list);
        if (r != 0)
                return r;
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next)
                n++;
        a = calloc(n ?: 1, sizeof *a);
        if (!a) {
                freeaddrinfo(list);
                return EAI_MEMORY;
        }
        n = 0;
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                bool seen = false;
                if (ai->ai_addrlen > sizeof a[0].sa)
                        continue;
                for (size_t i = 0; i < n && !seen; i++)
                        seen = a[i].len == ai->ai_addrlen && memcmp(&a[i].sa, ai->ai_addr, ai->ai_addrlen) == 0;
                if (seen)
                        continue;
                memcpy(&a[n].sa, ai->ai_addr, ai->ai_addrlen);
                a[n++].len = ai->ai_addrlen;
        }
        freeaddrinfo(list);
        if (n == 0) {
                free(a);
                return EAI_NONAME;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

/* TCP can connect a socket to itself (simultaneous open) when the source
 * port the kernel picks is the port probed and nobody listens there: not an
 * answer from the service. */
static bool self_connected(int fd) {
        struct sockaddr_storage local, peer;
        socklen_t llen = sizeof local, plen = sizeof peer;

        if (getsockname(fd, (struct sockaddr *) &local, &llen) < 0 ||
            getpeername(fd, (struct sockaddr *) &peer, &plen) < 0)
                return false;
        return llen == plen && memcmp(&local, &peer, llen) == 0;
}

static void attempt_close(TcpAttempt *a) {
        a->source = sd_event_source_disable_unref(a->source);
        a->fd = safe_close(a->fd);
}

static void tcp_stop_all(TcpProbe *t) {
        for (size_t i = 0; i < t->n_attempts; i++)
                attempt_close(&t->attempts[i]);
        t->n_pending = 0;
        t->retry = sd_event_source_disable_unref(t->retry);
        t->watch = listen_watch_free(t->watch);
}

static int on_retry(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        tcp_round(userdata);
        return 0;
}

/* Every address of this round failed: say what each saw and try again later. */
static void round_failed(TcpProbe *t) {
        _cleanup_free_ char *status = NULL;
        int r;

        /* Not ready at once: from now on, watch for the listen too (its
         * first look, after its events are armed, catches one that came in
         * between). */
        tcp_watch(t);

        for (size_t i = 0; i < t->n_attempts; i++) {
                char addr[INET6_ADDRSTRLEN + 16], *s;
                const char *why = strerror(t->attempts[i].error ?: EIO);

                format_address((const struct sockaddr *) &t->attempts[i].address.sa, addr, sizeof addr);
                if (asprintf_safe(&s, "%s%s%s: %c%s", status ?: "", status ? ", " : "", addr,
                             why[0] >= 'A' && why[0] <= 'Z' ? why[0] - 'A' + 'a' : why[0], why + 1) < 0)
                        break;
                free(status);
                status = s;
        }
        if (status)
                probe_set_status(&t->probe, "%s", status);
        r = probe_arm_timer(&t->probe, &t->retry, probe_retry_delay(&t->probe, t->n_rounds++), on_retry);
        if (r < 0)
                probe_failed(&t->probe, r, "cannot arm the retry timer: %s", strerror(-r));
}

static int on_connected(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        TcpAttempt *a = userdata;
        TcpProbe *t = a->tcp;
        int error = 0;
        socklen_t len = sizeof error;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        if (error == 0 && self_connected(fd))
                error = ECONNREFUSED;
        if (error == 0) {
                char addr[INET6_ADDRSTRLEN + 16];
                format_address((const struct sockaddr *) &a->address.sa, addr, sizeof addr);
                probe_set_status(&t->probe, "connected to %s", addr);
                probe_passed(&t->probe); /* cancels every attempt */
                return 0;
        }
        a->error = error;
        attempt_close(a);
        if (--t->n_pending == 0)
                round_failed(t);
        return 0;
}

/* Something listens where we connect: try now, and back off from the start
 * again if that fails (a service that listens first and accepts later). */
static void tcp_on_listening(Probe *p) {
        TcpProbe *t = (TcpProbe *) p;

        t->n_rounds = 0;
        if (t->n_pending > 0)
                return; /* a round is under way; its failure retries after 1 ms */
        t->retry = sd_event_source_disable_unref(t->retry);
        tcp_round(t);
}

static void tcp_watch(TcpProbe *t) {
        _cleanup_free_ struct sockaddr_storage *addrs = NULL;

        if (t->watch_tried)
                return;
        t->watch_tried = true;
        addrs = calloc(t->n_attempts ?: 1, sizeof *addrs);
        if (!addrs)
                return;
        for (size_t i = 0; i < t->n_attempts; i++)
                addrs[i] = t->attempts[i].address.sa;
        /* Without a watch (remote host, no sock_diag) the connects go on alone. */
        (void) listen_watch_new(&t->probe, addrs, t->n_attempts, tcp_on_listening, &t->watch);
}

/* Starts a connect to every address; the first to succeed wins. */
static void tcp_round(TcpProbe *t) {
        int r;

        if (!t->attempts) {
                _cleanup_free_ TcpAddress *addrs = NULL;
                size_t n = 0;

                r = resolve(t->host, t->port, &addrs, &n);
                if (r != 0) {
                        probe_set_status(&t->probe, "cannot resolve %s: %s", t->host, gai_strerror(r));
                        r = probe_arm_timer(&t->probe, &t->retry,
                                            probe_retry_delay(&t->probe, t->n_rounds++), on_retry);
                        if (r < 0)
                                probe_failed(&t->probe, r, "cannot arm the retry timer: %s", strerror(-r));
                        return;
                }
                t->attempts = calloc(n, sizeof(TcpAttempt));
                if (!t->attempts) {
                        probe_failed(&t->probe, -ENOMEM, "out of memory");
                        return;
                }
                t->n_attempts = n;
                for (size_t i = 0; i < n; i++)
                        t->attempts[i] = (TcpAttempt) { .tcp = t, .address = addrs[i], .fd = -EBADF };
        }
        for (size_t i = 0; i < t->n_attempts; i++) {
                TcpAttempt *a = &t->attempts[i];

                attempt_close(a);
                a->fd = socket(a->address.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (a->fd < 0) {
                        a->error = errno;
                        continue;
                }
                r = connect(a->fd, (const struct sockaddr *) &a->address.sa, a->address.len) < 0 ? errno : 0;
                if (r == 0 && self_connected(a->fd))
                        r = ECONNREFUSED;
                if (r == 0) {
                        probe_set_status(&t->probe, "connected");
                        probe_passed(&t->probe);
                        return;
                }
                if (r != EINPROGRESS) {
                        a->error = r;
                        attempt_close(a);
                        continue;
                }
                r = sd_event_add_io(probe_event(&t->probe), &a->source, a->fd, EPOLLOUT, on_connected, a);
                if (r >= 0)
                        r = sd_event_source_set_priority(a->source, probe_priority(&t->probe));
                if (r < 0) {
                        probe_failed(&t->probe, r, "cannot watch a connect: %s", strerror(-r));
                        return;
                }
                t->n_pending++;
        }
        if (t->n_pending == 0)
                round_failed(t);
}

static int tcp_start(Probe *p) {
        TcpProbe *t = (TcpProbe *) p;

        t->n_rounds = 0;
        t->watch_tried = false;
        probe_set_status(p, "not tried yet");
        tcp_round(t);
        return 0;
}

static void tcp_cancel(Probe *p) {
        tcp_stop_all((TcpProbe *) p);
}

/* Does anything answer at ADDR? Waits at most PRE_CHECK_TIMEOUT_MSEC for a
 * handshake (immediate on this host). */
static bool answers(const TcpAddress *a) {
        _cleanup_close_ int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int error = 0;
        socklen_t len = sizeof error;

        if (fd < 0)
                return false;
        if (connect(fd, (const struct sockaddr *) &a->sa, a->len) == 0)
                return !self_connected(fd);
        if (errno != EINPROGRESS)
                return false;
        if (poll(&pfd, 1, PRE_CHECK_TIMEOUT_MSEC) <= 0)
                return false;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                return false;
        return error == 0 && !self_connected(fd);
}

static int tcp_pre_check(Probe *p) {
        TcpProbe *t = (TcpProbe *) p;
        _cleanup_free_ TcpAddress *addrs = NULL;
        size_t n = 0;

        if (resolve(t->host, t->port, &addrs, &n) != 0)
                return 0; /* nothing can answer at a name that does not resolve */
        for (size_t i = 0; i < n; i++) {
                const struct sockaddr *sa = (const struct sockaddr *) &addrs[i].sa;
                char addr[INET6_ADDRSTRLEN + 16];
                _cleanup_free_ char *owner = NULL;
                pid_t pid;

                if (!answers(&addrs[i]))
                        continue;
                format_address(sa, addr, sizeof addr);
                if (socket_owner_tcp(sa, addrs[i].len, &pid) >= 0)
                        owner = socket_owner_describe(pid);
                probe_set_status(p, "%s accepts connections%s%s", addr, owner ? ", held by " : "",
                                 owner ?: "");
                return 1;
        }
        return 0;
}

static void tcp_done(Probe *p) {
        TcpProbe *t = (TcpProbe *) p;

        tcp_stop_all(t);
        free(t->attempts);
        free(t->host);
}

static const ProbeOps tcp_ops = {
        .name = "tcp",
        .size = sizeof(TcpProbe),
        .pre_check = tcp_pre_check,
        .start = tcp_start,
        .cancel = tcp_cancel,
        .done = tcp_done,
};

int mk_executor_add_tcp_probe(MkExecutor *e, const char *host, uint16_t port) {
        TcpProbe *t;
        int r;

        if (!e)
                return -EINVAL;
        if (port == 0) {
                executor_set_error(e, "tcp probe: port 0 cannot be probed (want 1-65535)");
                return -EINVAL;
        }
        if (host && !*host) {
                executor_set_error(e, "tcp probe: empty host name");
                return -EINVAL;
        }
        t = (TcpProbe *) probe_alloc(&tcp_ops);
        if (!t)
                return -ENOMEM;
        t->port = port;
        t->host = strdup(host ?: "localhost");
        if (!t->host) {
                free(t);
                return -ENOMEM;
        }
        r = executor_add_probe(e, &t->probe);
        if (r < 0)
                probe_free(&t->probe);
        return r;
}

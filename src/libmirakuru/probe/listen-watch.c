/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Watching for a local TCP listener with sock_diag (see listen-watch.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "listen-event.h"
#include "listen-watch.h"
#include "util/macro.h"
#include "util/time-util.h"

/* After a tracepoint event: the socket is hashed (and visible to sock_diag)
 * just after the event, so look again at these intervals (us), then every
 * poll interval, until RECHECK_USEC after the event; then wait for the next
 * event. A listener in another network namespace, or on another address,
 * costs one such burst; one held up longer (a preempted listen()) is still
 * found by the probe's own back-off connects. */
static const uint64_t recheck_usec[] = { 50, 50, 100, 100, 200, 500 };
#define RECHECK_USEC ((uint64_t) 100 * 1000)

/* The loopback device: ifindex 1 in every network namespace (the kernel's
 * LOOPBACK_IFINDEX, not in its uapi headers). */
#define LOOPBACK_IFINDEX 1

/* The event path is armed only after the poll has looked this long: a
 * service that listens sooner is found by the poll (for ~50 queries, under
 * a millisecond of CPU), and its run never touches the tracepoint, whose
 * last close costs 30-70 ms of RCU grace periods that the process waits for
 * at its exit (listen-event.c): a one-shot `mirakuru-run --tcp ... --then
 * true` against a server that listens at once took 34 ms instead of 7. */
#define EVENT_AFTER_USEC ((uint64_t) 50 * 1000)
#define EVENT_AFTER_REASON "it listened within 50 ms, the time the event path is armed after (before it, the poll looks)"

/* One place a connect could land, normalized: v4-mapped IPv6 as IPv4, the
 * wildcard as loopback (Linux routes a connect to 0.0.0.0 or :: there). */
typedef struct WatchTarget {
        int family; /* AF_INET or AF_INET6 */
        uint8_t addr[16];
} WatchTarget;

struct ListenWatch {
        Probe *probe;
        listen_watch_handler_t handler;
        int fd; /* NETLINK_SOCK_DIAG */
        sd_event_source *timer;
        ListenEvent *event;   /* NULL: polling */
        unsigned n_rechecks;  /* since the last event */
        uint64_t rechecked_usec;
        WatchTarget *targets;
        size_t n_targets;
        uint16_t port; /* host order */
        bool query_v4; /* a listener of this family could take the connect */
        bool query_v6;
        bool no_compat; /* the kernel refused the two-family request */
        bool dump;      /* the filtered dump instead of exact lookups */
        bool was_listening;
        uint64_t event_at; /* CLOCK_MONOTONIC usec to arm the event path at; 0: not pending */
        uint32_t seq;
        uint64_t interval;
};

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool is_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* SA as a target; false for other families. */
static bool target_from_sockaddr(const struct sockaddr *sa, WatchTarget *ret, uint16_t *ret_port) {
        WatchTarget t = {};

        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                t.family = AF_INET;
                memcpy(t.addr, &in->sin_addr, 4);
                *ret_port = ntohs(in->sin_port);
        } else if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                const uint8_t *a = in6->sin6_addr.s6_addr;
                if (memcmp(a, v4_mapped_prefix, 12) == 0) {
                        t.family = AF_INET;
                        memcpy(t.addr, a + 12, 4);
                } else {
                        t.family = AF_INET6;
                        memcpy(t.addr, a, 16);
                }
                *ret_port = ntohs(in6->sin6_port);
        } else
                return false;

        if (t.family == AF_INET && is_zero(t.addr, 4)) {
                const uint32_t lo = htonl(INADDR_LOOPBACK);
                memcpy(t.addr, &lo, 4);
        } else if (t.family == AF_INET6 && is_zero(t.addr, 16))
                t.addr[15] = 1;
        *ret = t;
        return true;
}

static bool target_is_loopback(const WatchTarget *t) {
        static const uint8_t lo6[16] = { [15] = 1 };
        return t->family == AF_INET ? t->addr[0] == 127 : memcmp(t->addr, lo6, 16) == 0;
}

/* An address of one of this machine's interfaces? */
static bool target_is_interface_address(const WatchTarget *t) {
        struct ifaddrs *list = NULL;
        bool found = false;

        if (getifaddrs(&list) < 0)
                return false;
        for (const struct ifaddrs *i = list; i && !found; i = i->ifa_next) {
                WatchTarget it;
                uint16_t port;

                if (!i->ifa_addr || !target_from_sockaddr(i->ifa_addr, &it, &port))
                        continue;
                found = it.family == t->family && memcmp(it.addr, t->addr, t->family == AF_INET ? 4 : 16) == 0;
        }
        freeifaddrs(list);
        return found;
}

static bool target_is_local(const WatchTarget *t) {
        return target_is_loopback(t) || target_is_interface_address(t);
}

bool listen_watch_address_is_local(const struct sockaddr *sa) {
        WatchTarget t;
        uint16_t port;

        return target_from_sockaddr(sa, &t, &port) && target_is_local(&t);
}

/* Would a listener of FAMILY bound to ADDR (v6only for IPv6) take a connect
 * to one of our targets? Liberal on purpose: the probe's own connect decides. */
static bool listener_matches(const ListenWatch *w, int family, const uint8_t *addr, bool v6only) {
        for (size_t i = 0; i < w->n_targets; i++) {
                const WatchTarget *t = &w->targets[i];

                if (family == AF_INET) {
                        if (t->family == AF_INET && (is_zero(addr, 4) || memcmp(addr, t->addr, 4) == 0))
                                return true;
                        continue;
                }
                if (memcmp(addr, v4_mapped_prefix, 12) == 0) {
                        if (t->family == AF_INET && memcmp(addr + 12, t->addr, 4) == 0)
                                return true;
                } else if (is_zero(addr, 16)) {
                        if (t->family == AF_INET6 || !v6only)
                                return true;
                } else if (t->family == AF_INET6 && memcmp(addr, t->addr, 16) == 0)
                        return true;
        }
        return false;
}

/* Builds a request for listening TCP sockets on our port, filtered in the
 * kernel by the bytecode "sport >= PORT && sport <= PORT" (the oldest form
 * every kernel with inet_diag understands; a "no" jump past the end,
 * length + 4, rejects the socket). TYPE TCPDIAG_GETSOCK (the compat request,
 * struct inet_diag_req) dumps both families at once; SOCK_DIAG_BY_FAMILY
 * (struct inet_diag_req_v2) one family. REQ is the family-specific part. */
/* NOLINTBEGIN(bugprone-macro-parentheses): NAME is a declarator, REQ_TYPE a type */
#define DEFINE_LISTEN_REQUEST(name, req_type, nl_type, req_init)                                      \
        struct {                                                                                  \
                struct nlmsghdr nlh;                                                              \
                req_type req;                                                                     \
                struct nlattr bytecode;                                                           \
                struct inet_diag_bc_op ops[4];                                                    \
        } name = {                                                                                \
                .nlh = { .nlmsg_len = sizeof name, .nlmsg_type = (nl_type),                       \
                         .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = ++w->seq },      \
                .req = req_init,                                                                  \
                .bytecode = { .nla_len = NLA_HDRLEN + 4 * sizeof(struct inet_diag_bc_op),         \
                              .nla_type = INET_DIAG_REQ_BYTECODE },                               \
                .ops = { { .code = INET_DIAG_BC_S_GE, .yes = 8, .no = 16 + 4 }, { .no = w->port }, \
                         { .code = INET_DIAG_BC_S_LE, .yes = 8, .no = 8 + 4 }, { .no = w->port } }, \
        }
/* NOLINTEND(bugprone-macro-parentheses) */

/* Reads the answer to request number w->seq: > 0 if a listener matches, 0
 * if none does, negative errno if the kernel would not answer. */
static int read_answer(ListenWatch *w) {
        union {
                struct nlmsghdr h;
                char buf[8192];
        } reply;
        int found = 0;

        for (;;) {
                ssize_t n = recv(w->fd, &reply, sizeof reply, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno; /* -EAGAIN: the kernel finishes the dump when we read */
                }
                for (struct nlmsghdr *h = &reply.h; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != w->seq)
                                continue; /* the rest of an earlier, abandoned dump */
                        if (h->nlmsg_type == NLMSG_DONE)
                                return found;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                return h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error < 0 ? e->error : -EIO;
                        }
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                                continue;
                        const struct inet_diag_msg *m = NLMSG_DATA(h);
                        bool v6only = false;
                        int len = (int) (h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
                        for (struct rtattr *a = (struct rtattr *) (m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
                                if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
                                        v6only = *(const uint8_t *) RTA_DATA(a) != 0;
                        if (ntohs(m->id.idiag_sport) == w->port &&
                            listener_matches(w, m->idiag_family, (const uint8_t *) m->id.idiag_src, v6only))
                                found = 1;
                }
        }
}

/* The kernel's own answer to "would a connect to T on our port find a
 * listener": SOCK_DIAG_BY_FAMILY without NLM_F_DUMP looks the socket up
 * as an incoming SYN to T:PORT would (inet_diag_find_one_icsk(): the
 * listener bound to T, else the wildcard one, dual-stack IPv6 ones for an
 * IPv4 T too), arriving on the loopback interface as every connect to a
 * local address does. One hash lookup: ~3 us a look against ~13 us for the
 * dump below, which walks every bucket of the listening hash (tens of
 * thousands) whatever the filter. > 0 if a listener is there, 0 if not
 * (-ENOENT), negative errno if the kernel would not answer. */
static int query_exact(ListenWatch *w, const WatchTarget *t) {
        struct {
                struct nlmsghdr nlh;
                struct inet_diag_req_v2 req;
        } msg = {
                .nlh = { .nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST,
                         .nlmsg_seq = ++w->seq },
                .req = { .sdiag_family = (uint8_t) t->family, .sdiag_protocol = IPPROTO_TCP,
                         .idiag_states = 1u << TCP_LISTEN,
                         .id = { .idiag_sport = htons(w->port), .idiag_if = LOOPBACK_IFINDEX,
                                 .idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE } } },
        };
        union {
                struct nlmsghdr h;
                char buf[1024];
        } reply;

        memcpy(msg.req.id.idiag_src, t->addr, t->family == AF_INET ? 4 : 16);
        if (send(w->fd, &msg, sizeof msg, MSG_NOSIGNAL) < 0)
                return -errno;
        for (;;) {
                ssize_t n = recv(w->fd, &reply, sizeof reply, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (struct nlmsghdr *h = &reply.h; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != w->seq)
                                continue; /* the answer to an earlier request */
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                                        return -EIO;
                                return e->error == -ENOENT ? 0 : e->error < 0 ? e->error : -EIO;
                        }
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                                return -EIO;
                        const struct inet_diag_msg *m = NLMSG_DATA(h);
                        return m->idiag_state == TCP_LISTEN && ntohs(m->id.idiag_sport) == w->port;
                }
        }
}

/* Both families in one dump (one system call less per tick). */
static int query_both(ListenWatch *w) {
        DEFINE_LISTEN_REQUEST(msg, struct inet_diag_req, TCPDIAG_GETSOCK,
                              ((struct inet_diag_req) { .idiag_family = AF_INET, .idiag_states = 1u << TCP_LISTEN }));

        if (send(w->fd, &msg, sizeof msg, MSG_NOSIGNAL) < 0)
                return -errno;
        return read_answer(w);
}

static int query_family(ListenWatch *w, int family) {
        DEFINE_LISTEN_REQUEST(msg, struct inet_diag_req_v2, SOCK_DIAG_BY_FAMILY,
                              ((struct inet_diag_req_v2) { .sdiag_family = (uint8_t) family,
                                                           .sdiag_protocol = IPPROTO_TCP,
                                                           .idiag_states = 1u << TCP_LISTEN }));

        if (send(w->fd, &msg, sizeof msg, MSG_NOSIGNAL) < 0)
                return -errno;
        return read_answer(w);
}

static int query(ListenWatch *w) {
        int r = 0;

        if (!w->dump) {
                for (size_t i = 0; i < w->n_targets && r == 0; i++)
                        r = query_exact(w, &w->targets[i]);
                return r;
        }
        if (w->query_v4 && !w->no_compat)
                return query_both(w);
        if (w->query_v4)
                r = query_family(w, AF_INET);
        if (r == 0 && w->query_v6)
                r = query_family(w, AF_INET6);
        return r;
}

/* When to look next, or 0 to wait for the next event. */
static uint64_t next_check(ListenWatch *w) {
        uint64_t d;

        if (!w->event)
                return w->interval;
        if (w->n_rechecks < ELEMENTSOF(recheck_usec))
                d = recheck_usec[w->n_rechecks];
        else
                d = w->interval;
        if (w->rechecked_usec + d > RECHECK_USEC)
                return 0;
        w->n_rechecks++;
        w->rechecked_usec += d;
        return d;
}

/* The event path, or the poll with the reason why not. Before the next look:
 * events first, then the look, so no listen falls in between. */
static void on_listen_event(void *userdata);

static void arm_event_path(ListenWatch *w) {
        _cleanup_free_ char *reason = NULL;
        int r;

        w->event_at = 0;
        r = listen_event_new(probe_event(w->probe), probe_priority(w->probe), w->port, on_listen_event, w, &w->event,
                             &reason);
        if (r < 0) {
                probe_set_listen_watch(w->probe, MK_LISTEN_WATCH_POLL, reason ?: strerror(-r));
                return;
        }
        probe_set_listen_watch(w->probe, MK_LISTEN_WATCH_EVENT, NULL);
        w->n_rechecks = ELEMENTSOF(recheck_usec);
        w->rechecked_usec = RECHECK_USEC; /* no burst before the first event */
}

static int on_tick(sd_event_source *s, uint64_t usec _unused_, void *userdata) {
        ListenWatch *w = userdata;
        bool was = w->was_listening;
        uint64_t next;
        int r;

        if (w->event_at > 0 && now_usec() >= w->event_at)
                arm_event_path(w);
        r = query(w);

        if (r < 0 && r != -EAGAIN) {
                /* The kernel stopped answering (a seccomp filter, a module
                 * unloaded): the probe's connects carry on alone. */
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                w->event = listen_event_free(w->event);
                return 0;
        }
        if (r >= 0)
                w->was_listening = r > 0;
        next = r > 0 && w->event ? 0 : next_check(w);
        if (next == 0)
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF); /* the event path: wait for one */
        else if (sd_event_source_set_time_relative(s, next) < 0 ||
                 sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (r > 0 && !was)
                w->handler(w->probe); /* may free W */
        return 0;
}

/* Some socket began to listen on our port, in some network namespace, at
 * some address: look now and, as it is hashed just after, again shortly. */
static void on_listen_event(void *userdata) {
        ListenWatch *w = userdata;

        probe_count_listen_event(w->probe);
        w->was_listening = false; /* a new listen: an edge even after an earlier one */
        w->n_rechecks = 0;
        w->rechecked_usec = 0;
        (void) on_tick(w->timer, 0, w);
}

ListenWatch *listen_watch_free(ListenWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->timer);
        listen_event_free(w->event);
        safe_close(w->fd);
        free(w->targets);
        free(w);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ListenWatch *, listen_watch_free);

int listen_watch_new(Probe *p, const struct sockaddr_storage *addrs, size_t n,
                     listen_watch_handler_t handler, ListenWatch **ret) {
        _cleanup_(listen_watch_freep) ListenWatch *w = NULL;
        const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        int r;

        if (probe_listen_poll(p) == 0)
                return -ECANCELED;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->interval = probe_listen_poll(p);
        w->fd = -EBADF;
        w->probe = p;
        w->handler = handler;
        w->targets = calloc(n ?: 1, sizeof *w->targets);
        if (!w->targets)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                WatchTarget t;
                uint16_t port;

                if (!target_from_sockaddr((const struct sockaddr *) &addrs[i], &t, &port) ||
                    (w->n_targets > 0 && port != w->port) || !target_is_local(&t))
                        continue;
                w->port = port;
                w->targets[w->n_targets++] = t;
                /* IPv4 connects land on IPv4 listeners and on dual-stack IPv6 ones. */
                w->query_v4 = w->query_v4 || t.family == AF_INET;
                w->query_v6 = true;
        }
        if (w->n_targets == 0)
                return -EREMOTE;

        w->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (w->fd < 0)
                return -errno;
        if (connect(w->fd, (const struct sockaddr *) &kernel, sizeof kernel) < 0)
                return -errno;
        /* One query now, so a kernel without inet_diag, or without its
         * exact lookups, is found out here. MIRAKURU_LISTEN_DUMP=1 asks for
         * the dump (the test suite runs the watch's tests with it too). */
        w->dump = getenv("MIRAKURU_LISTEN_DUMP") != NULL;
        r = query(w);
        if (r < 0 && r != -EAGAIN && !w->dump) {
                w->dump = true;
                r = query(w);
        }
        if (r < 0 && r != -EAGAIN && w->query_v4) {
                w->no_compat = true;
                r = query(w);
        }
        if (r < 0 && r != -EAGAIN)
                return r;
        w->was_listening = false; /* a listener already there counts at the first tick */

        /* The poll first; the event path from EVENT_AFTER_USEC on. */
        if (probe_listen_event(p)) {
                w->event_at = now_usec() + EVENT_AFTER_USEC;
                probe_set_listen_watch(p, MK_LISTEN_WATCH_POLL, EVENT_AFTER_REASON);
        } else
                probe_set_listen_watch(p, MK_LISTEN_WATCH_POLL, "the event path is turned off");

        r = probe_arm_timer(p, &w->timer, w->interval, on_tick);
        if (r < 0)
                return r;
        (void) sd_event_source_set_userdata(w->timer, w);
        *ret = TAKE_PTR(w);
        return 0;
}

int listen_watch_new_for_host(Probe *p, const char *host, uint16_t port,
                              listen_watch_handler_t handler, ListenWatch **ret) {
        struct sockaddr_storage addrs[2] = {};
        struct sockaddr_in *in = (struct sockaddr_in *) &addrs[0];
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &addrs[1];
        size_t n = strlen(host);
        char bare[INET6_ADDRSTRLEN];
        bool v4 = false, v6 = false;

        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        if (strcasecmp(host, "localhost") == 0 || (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0)) {
                in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                in6->sin6_addr = in6addr_loopback;
                v4 = v6 = true;
        } else if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof bare) {
                memcpy(bare, host + 1, n - 2);
                bare[n - 2] = '\0';
                v6 = inet_pton(AF_INET6, bare, &in6->sin6_addr) == 1;
        } else {
                v4 = inet_pton(AF_INET, host, &in->sin_addr) == 1;
                v6 = !v4 && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1;
        }
        if (!v4 && !v6)
                return -EREMOTE;
        return listen_watch_new(p, v4 ? addrs : addrs + 1, (size_t) v4 + (size_t) v6, handler, ret);
}

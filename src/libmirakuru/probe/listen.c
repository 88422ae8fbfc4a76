/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation: we bind and listen on a TCP or Unix stream socket
 * before spawning and pass it as fd 3, 4, ... with LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES (sd_listen_fds(3)). Ready at start: the kernel queues
 * connections until the service accepts. Our copy of the socket is closed
 * once the service has its own (when the probe passes); a Unix socket file
 * we created is removed when the executor is freed or rebinds. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "executor-private.h"
#include "probe.h"

typedef struct ListenProbe {
        Probe probe;
        int family;                    /* AF_INET, AF_INET6 or AF_UNIX */
        struct sockaddr_storage addr;  /* where to bind */
        socklen_t addr_len;
        char *where;                   /* "127.0.0.1:8080", "/run/x.sock" for messages */
        char *name;                    /* for LISTEN_FDNAMES */
        int fd;                        /* our copy, from prepare until the service has it */
        uint16_t port;                 /* bound port (TCP), 0 before the first bind */
        dev_t dev;                     /* the socket file we created (Unix) */
        ino_t ino;
        bool created_file;
} ListenProbe;

static const ProbeOps listen_ops;

static void listen_close(ListenProbe *l) {
        l->fd = safe_close(l->fd);
}

/* Removes the socket file we created, if it is still ours. */
static void listen_unlink(ListenProbe *l) {
        const struct sockaddr_un *un = (const struct sockaddr_un *) &l->addr;
        struct stat st;

        if (!l->created_file)
                return;
        l->created_file = false;
        if (lstat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->dev &&
            st.st_ino == l->ino)
                (void) unlink(un->sun_path);
}

/* A stale socket file (nobody accepts there) is replaced, as systemd does;
 * a live one means something already runs there. */
static int listen_clear_unix_path(ListenProbe *l) {
        const struct sockaddr_un *un = (const struct sockaddr_un *) &l->addr;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (lstat(un->sun_path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode)) {
                probe_set_status(&l->probe, "%s exists and is not a socket", l->where);
                return -EEXIST;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &l->addr, l->addr_len) == 0) {
                probe_set_status(&l->probe, "something already accepts connections on %s", l->where);
                return -EADDRINUSE;
        }
        if (unlink(un->sun_path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* LISTEN_FDNAMES for every listen probe of the executor, in fd order. */
static int listen_names(Probe *p, unsigned count, char **ret) {
        _cleanup_free_ char *s = NULL;

        for (unsigned i = 0; i < count; i++) {
                ListenProbe *l = (ListenProbe *) executor_find_probe(p->executor, &listen_ops, i);
                char *joined;
                if (!l)
                        return -ESRCH;
                if (asprintf_safe(&joined, "%s%s%s", s ?: "", i > 0 ? ":" : "", l->name ?: "unknown") < 0)
                        return -ENOMEM;
                free(s);
                s = joined;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int listen_prepare(Probe *p) {
        ListenProbe *l = (ListenProbe *) p;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *names = NULL;
        char count_s[16];
        unsigned index, count;
        int r;

        /* A socket left from an earlier run that never got to start. */
        listen_close(l);
        listen_unlink(l);

        index = probe_index(p, &count);

        if (l->family == AF_UNIX) {
                r = listen_clear_unix_path(l);
                if (r < 0)
                        return r;
        }
        fd = socket(l->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (l->family != AF_UNIX)
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int) { 1 }, sizeof(int));
        if (bind(fd, (const struct sockaddr *) &l->addr, l->addr_len) < 0) {
                r = -errno;
                probe_set_status(p, "cannot bind %s: %s", l->where, strerror(-r));
                return r;
        }
        if (l->family == AF_UNIX) {
                const struct sockaddr_un *un = (const struct sockaddr_un *) &l->addr;
                struct stat st;
                if (lstat(un->sun_path, &st) == 0) {
                        l->dev = st.st_dev;
                        l->ino = st.st_ino;
                        l->created_file = true;
                }
        }
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        if (l->family != AF_UNIX) {
                struct sockaddr_storage sa;
                socklen_t len = sizeof sa;
                if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                        return -errno;
                /* NOLINTNEXTLINE(clang-analyzer-core.*): clang 14 misses that getsockname() filled SA */
                l->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                                         : ((struct sockaddr_in *) &sa)->sin_port);
        }

        /* Listen fds are 3, 4, ... in the order the probes were added. */
        r = probe_child_fd_at(p, fd, 3 + (int) index);
        if (r == -EBUSY)
                probe_set_status(p, "fd %u is wanted by another probe", 3 + index);
        if (r < 0)
                return r;
        l->fd = TAKE_FD(fd);

        (void) snprintf(count_s, sizeof count_s, "%u", count);
        r = probe_child_env(p, "LISTEN_FDS", count_s);
        if (r < 0)
                return r;
        r = listen_names(p, count, &names);
        if (r < 0)
                return r;
        r = probe_child_env(p, "LISTEN_FDNAMES", names);
        if (r < 0)
                return r;
        probe_child_listen_pid(p);
        return 0;
}

static int listen_start(Probe *p) {
        ListenProbe *l = (ListenProbe *) p;

        if (l->family == AF_UNIX)
                probe_set_status(p, "listening on %s", l->where);
        else
                probe_set_status(p, "listening on %s (port %u)", l->where, l->port);
        probe_passed(p);
        return 0;
}

static void listen_cancel(Probe *p) {
        /* The service holds its own copy now (or the run is over). */
        listen_close((ListenProbe *) p);
}

static void listen_done(Probe *p) {
        ListenProbe *l = (ListenProbe *) p;

        listen_close(l);
        listen_unlink(l);
        free(l->where);
        free(l->name);
}

static const ProbeOps listen_ops = {
        .name = "listen",
        .size = sizeof(ListenProbe),
        .prepare = listen_prepare,
        .start = listen_start,
        .cancel = listen_cancel,
        .done = listen_done,
};

/* systemd's rule for fd names: printable ASCII without ':', at most 255. */
static bool fdname_is_valid(const char *s) {
        size_t n = 0;

        for (; *s; s++, n++)
                if (*s < ' ' || *s > '~' || *s == ':')
                        return false;
        return n > 0 && n <= 255;
}

static int listen_add(MkExecutor *e, ListenProbe *l, const char *name) {
        int r;

        if (name) {
                l->name = strdup(name);
                if (!l->name)
                        return -ENOMEM;
        }
        r = executor_add_probe(e, &l->probe);
        if (r < 0)
                return r;
        return 0;
}

static ListenProbe *listen_new(void) {
        ListenProbe *l = (ListenProbe *) probe_alloc(&listen_ops);

        if (l)
                l->fd = -EBADF;
        return l;
}

static void listen_freep(ListenProbe **l) {
        if (*l)
                probe_free(&(*l)->probe);
}

/* HOST as an address: numeric, "localhost" (127.0.0.1), else the first
 * address the resolver gives. */
static int listen_resolve(const char *host, uint16_t port, struct sockaddr_storage *ret,
                          socklen_t *ret_len) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *ai = NULL;

        if (strcmp(host, "localhost") == 0)
                host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
                memcpy(ret, &in, sizeof in);
                *ret_len = sizeof in;
                return 0;
        }
        if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
                memcpy(ret, &in6, sizeof in6);
                *ret_len = sizeof in6;
                return 0;
        }
        if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
                return -EADDRNOTAVAIL;
        memcpy(ret, ai->ai_addr, ai->ai_addrlen);
        *ret_len = ai->ai_addrlen;
        if (ai->ai_family == AF_INET6)
                ((struct sockaddr_in6 *) ret)->sin6_port = htons(port);
        else
                ((struct sockaddr_in *) ret)->sin_port = htons(port);
        freeaddrinfo(ai);
        return 0;
}

int mk_executor_add_listen_tcp(MkExecutor *e, const char *host, uint16_t port, const char *name) {
        _cleanup_(listen_freep) ListenProbe *l = NULL;
        char buf[INET6_ADDRSTRLEN];
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (name && !fdname_is_valid(name)) {
                executor_set_error(e, "listen probe: invalid name \"%s\" (printable, no ':', at most 255 characters)", name);
                return -EINVAL;
        }
        l = listen_new();
        if (!l)
                return -ENOMEM;
        r = listen_resolve(host ?: "localhost", port, &l->addr, &l->addr_len);
        if (r < 0) {
                executor_set_error(e, "listen probe: cannot resolve \"%s\"", host);
                return -EINVAL;
        }
        l->family = l->addr.ss_family;
        if (l->family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &l->addr)->sin6_addr, buf, sizeof buf);
        else
                inet_ntop(AF_INET, &((struct sockaddr_in *) &l->addr)->sin_addr, buf, sizeof buf);
        if (asprintf_safe(&l->where, l->family == AF_INET6 ? "[%s]:%u" : "%s:%u", buf, port) < 0)
                return -ENOMEM;
        r = listen_add(e, l, name);
        if (r < 0)
                return r;
        TAKE_PTR(l);
        return 0;
}

int mk_executor_add_listen_unix(MkExecutor *e, const char *path, const char *name) {
        _cleanup_(listen_freep) ListenProbe *l = NULL;
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (!path || !*path || strlen(path) >= sizeof un.sun_path) {
                executor_set_error(e, "listen probe: %s", !path || !*path ? "no socket path" : "socket path too long");
                return -EINVAL;
        }
        if (name && !fdname_is_valid(name)) {
                executor_set_error(e, "listen probe: invalid name \"%s\" (printable, no ':', at most 255 characters)", name);
                return -EINVAL;
        }
        l = listen_new();
        if (!l)
                return -ENOMEM;
        strcpy(un.sun_path, path);
        memcpy(&l->addr, &un, sizeof un);
        l->addr_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
        l->family = AF_UNIX;
        l->where = strdup(path);
        if (!l->where)
                return -ENOMEM;
        r = listen_add(e, l, name);
        if (r < 0)
                return r;
        TAKE_PTR(l);
        return 0;
}

int mk_executor_get_listen_port(MkExecutor *e, unsigned index, uint16_t *ret) {
        ListenProbe *l;

        if (!e || !ret)
                return -EINVAL;
        for (unsigned i = 0; (l = (ListenProbe *) executor_find_probe(e, &listen_ops, i)); i++) {
                if (l->family == AF_UNIX)
                        continue;
                if (index-- > 0)
                        continue;
                if (l->port == 0)
                        return -ENODATA; /* not bound yet */
                *ret = l->port;
                return 0;
        }
        return -ENXIO;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding the process behind a listening socket, for the pre-check's message. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/macro.h"
#include "util/socket-owner.h"

#define TCP_LISTEN 0x0A
#define UNIX_ACCEPTCON 0x00010000 /* __SO_ACCEPTCON in /proc/net/unix flags */

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

static bool streq_ptr(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}

/* The first process (lowest pid that we can look into) with an fd on socket INODE. */
static int owner_of_inode(unsigned long inode, pid_t *ret_pid) {
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        char want[64];
        struct dirent *de;

        if (!proc)
                return -errno;
        snprintf(want, sizeof want, "socket:[%lu]", inode);
        while ((de = readdir(proc))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                _cleanup_close_ int dfd = -EBADF;
                _cleanup_closedir_ DIR *fds = NULL;
                struct dirent *fe;
                char path[64];

                if (*end || pid <= 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%ld/fd", pid);
                dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        continue; /* gone, or not ours to look into */
                fds = fdopendir(dfd);
                if (!fds)
                        continue;
                TAKE_FD(dfd);
                while ((fe = readdir(fds))) {
                        char target[64];
                        ssize_t n;

                        if (fe->d_name[0] == '.')
                                continue;
                        n = readlinkat(dirfd(fds), fe->d_name, target, sizeof target - 1);
                        if (n <= 0)
                                continue;
                        target[n] = '\0';
                        if (streq_ptr(target, want)) {
                                *ret_pid = (pid_t) pid;
                                return 0;
                        }
                }
        }
        return -ENOENT;
}

/* Parses "0100007F:1F90" (IPv4) or the 32-hex-digit IPv6 form, as the
 * kernel prints them: the address in 32-bit words of host byte order. */
static bool parse_proc_addr(const char *s, int family, void *ret_addr, uint16_t *ret_port) {
        size_t words = family == AF_INET ? 1 : 4;
        uint32_t w[4];
        unsigned port;

        for (size_t i = 0; i < words; i++) {
                char buf[9];
                /* Never read past the string's end (a short field). */
                if (strnlen(s + i * 8, 8) != 8)
                        return false;
                memcpy(buf, s + i * 8, 8);
                buf[8] = '\0';
                if (buf[strspn(buf, "0123456789ABCDEFabcdef")] != '\0')
                        return false;
                w[i] = (uint32_t) strtoul(buf, NULL, 16);
        }
        if (s[words * 8] != ':' || sscanf(s + words * 8 + 1, "%x", &port) != 1)
                return false;
        memcpy(ret_addr, w, words * 4);
        *ret_port = (uint16_t) port;
        return true;
}

static int listener_inode_tcp(const char *table, int family, const void *addr, uint16_t port,
                              unsigned long *ret_inode) {
        _cleanup_fclose_ FILE *f = fopen(table, "re");
        size_t alen = family == AF_INET ? 4 : 16;
        unsigned char any[16] = {};
        unsigned long wildcard = 0;
        char line[512];

        if (!f)
                return -errno;
        if (!fgets(line, sizeof line, f)) /* the header */
                return -ENOENT;
        while (fgets(line, sizeof line, f)) {
                char local[64], remote[64];
                unsigned state;
                unsigned long inode;
                unsigned char a[16];
                uint16_t p;

                /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
                if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &state,
                           &inode) != 4)
                        continue;
                if (state != TCP_LISTEN || !parse_proc_addr(local, family, a, &p) || p != port)
                        continue;
                if (memcmp(a, addr, alen) == 0) {
                        *ret_inode = inode;
                        return 0;
                }
                if (memcmp(a, any, alen) == 0)
                        wildcard = inode;
        }
        if (wildcard == 0)
                return -ENOENT;
        *ret_inode = wildcard;
        return 0;
}

int socket_owner_tcp(const struct sockaddr *addr, socklen_t len, pid_t *ret_pid) {
        unsigned long inode = 0;
        int r;

        if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) addr;
                r = listener_inode_tcp("/proc/net/tcp", AF_INET, &in->sin_addr, ntohs(in->sin_port),
                                       &inode);
                if (r == -ENOENT) {
                        /* A dual-stack [::] listener takes IPv4 connections too. */
                        const struct in6_addr any = IN6ADDR_ANY_INIT;
                        r = listener_inode_tcp("/proc/net/tcp6", AF_INET6, &any,
                                               ntohs(in->sin_port), &inode);
                }
        } else if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;
                r = listener_inode_tcp("/proc/net/tcp6", AF_INET6, &in6->sin6_addr,
                                       ntohs(in6->sin6_port), &inode);
        } else
                return -EAFNOSUPPORT;
        if (r < 0)
                return r;
        return owner_of_inode(inode, ret_pid);
}

/* The inode of the listening stream socket bound to PATH (or to ABSOLUTE,
 * the same path from the root, if not NULL). */
static int listener_inode_unix(const char *path, const char *absolute, unsigned long *ret_inode) {
        _cleanup_fclose_ FILE *f = fopen("/proc/net/unix", "re");

        if (!f)
                return -errno;
        _cleanup_free_ char *line = NULL;
        size_t alloc = 0;
        if (getline(&line, &alloc, f) < 0) /* the header */
                return -ENOENT;
        while (getline(&line, &alloc, f) > 0) {
                unsigned long inode;
                unsigned flags, type;
                int at = 0;

                /* Num RefCount Protocol Flags Type St Inode Path */
                if (sscanf(line, "%*s %*s %*s %x %x %*s %lu %n", &flags, &type, &inode, &at) != 3 || at == 0)
                        continue;
                if (!(flags & UNIX_ACCEPTCON) || type != SOCK_STREAM)
                        continue;
                line[strcspn(line, "\n")] = '\0';
                if (!streq_ptr(line + at, path) && !streq_ptr(line + at, absolute))
                        continue;
                *ret_inode = inode;
                return 0;
        }
        return -ENOENT;
}

int socket_owner_unix(const char *path, pid_t *ret_pid) {
        _cleanup_free_ char *absolute = NULL;
        unsigned long inode = 0;
        int r;

        if (path[0] != '/') {
                char cwd[PATH_MAX];
                if (getcwd(cwd, sizeof cwd))
                        (void) asprintf_safe(&absolute, "%s/%s", cwd, path);
        }
        r = listener_inode_unix(path, absolute, &inode);
        if (r < 0)
                return r;
        return owner_of_inode(inode, ret_pid);
}

char *socket_owner_describe(pid_t pid) {
        char path[64], comm[64] = "";
        _cleanup_fclose_ FILE *f = NULL;
        char *s;

        snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
        f = fopen(path, "re");
        if (f && fgets(comm, sizeof comm, f))
                comm[strcspn(comm, "\n")] = '\0';
        if (asprintf_safe(&s, "pid %d%s%s%s", (int) pid, *comm ? " (" : "", comm, *comm ? ")" : "") < 0)
                return NULL;
        return s;
}

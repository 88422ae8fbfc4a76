/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "helper-util.h"

void die(const char *what) {
        fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
        exit(99);
}

const char *next_arg(char **argv, int *i, int argc) {
        if (*i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs an argument\n", program_invocation_short_name, argv[*i]);
                exit(98);
        }
        return argv[++*i];
}

void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

void write_pid_file(const char *path, pid_t pid) {
        char tmp[4096];
        FILE *f;

        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "we");
        if (!f)
                die("fopen");
        fprintf(f, "%d\n", (int) pid);
        if (fclose(f) != 0)
                die("fclose");
        if (rename(tmp, path) < 0)
                die("rename");
}

int tcp_listen(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("socket");
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die("bind");
        if (listen(fd, 16) < 0)
                die("listen");
        return fd;
}

void notify_send(const char *text) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len;
        int fd;

        if (!path || !*path) {
                fprintf(stderr, "%s: no NOTIFY_SOCKET\n", program_invocation_short_name);
                exit(97);
        }
        if (strlen(path) >= sizeof sa.sun_path)
                die("NOTIFY_SOCKET too long");
        memcpy(sa.sun_path, path, strlen(path));
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                die("socket");
        if (sendto(fd, text, strlen(text), 0, (struct sockaddr *) &sa, len) < 0)
                die("sendto");
        close(fd);
}

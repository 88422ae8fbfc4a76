/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small HTTP/1.1 server for the http probe tests.
 *   --unix PATH        listen on a Unix socket at PATH
 *   --stdin            fd 0 is a listening socket already (TCP)
 *   --tcp HOST:PORT    listen on TCP at HOST (127.0.0.1, ::1) ...
 *   --delay-ms N       ... after N ms (a slow starter)
 *   --ok-after N       answer 503 to the first N requests, then 200
 *   --status CODE      always answer CODE
 *   --head-status CODE answer CODE to HEAD requests (a HEAD-hostile server: 405)
 *   --log PATH         append every request (head and body) to PATH
 * One connection at a time, "Connection: close". Exits on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int listen_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
                return -1;
        strcpy(sa.sun_path, path);
        (void) unlink(path); /* left by an earlier instance */
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 16) < 0)
                return -1;
        return fd;
}

static int listen_tcp(const char *spec) {
        char host[128];
        const char *colon = strrchr(spec, ':');
        struct sockaddr_storage ss = {};
        socklen_t len;
        int fd, one = 1;

        if (!colon || (size_t) (colon - spec) >= sizeof host)
                return -1;
        memcpy(host, spec, (size_t) (colon - spec));
        host[colon - spec] = '\0';
        if (strchr(host, ':')) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) atoi(colon + 1));
                if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
                        return -1;
                len = sizeof *in6;
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t) atoi(colon + 1));
                if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
                        return -1;
                len = sizeof *in;
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (ss.ss_family == AF_INET6)
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 16) < 0)
                return -1;
        return fd;
}

static const char *reason(int code) {
        switch (code) {
        case 200: return "OK";
        case 405: return "Method Not Allowed";
        case 503: return "Service Unavailable";
        default: return "Whatever";
        }
}

int main(int argc, char **argv) {
        const char *unix_path = NULL, *log_path = NULL, *tcp = NULL;
        int delay_ms = 0, ok_after = 0, status = 0, head_status = 0, lfd = -1;
        unsigned long requests = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--unix") == 0 && i + 1 < argc)
                        unix_path = argv[++i];
                else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc)
                        tcp = argv[++i];
                else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
                        delay_ms = atoi(argv[++i]);
                else if (strcmp(argv[i], "--stdin") == 0)
                        lfd = 0;
                else if (strcmp(argv[i], "--ok-after") == 0 && i + 1 < argc)
                        ok_after = atoi(argv[++i]);
                else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
                        status = atoi(argv[++i]);
                else if (strcmp(argv[i], "--head-status") == 0 && i + 1 < argc)
                        head_status = atoi(argv[++i]);
                else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
                        log_path = argv[++i];
                else {
                        fprintf(stderr, "probe2-http-server: bad argument %s\n", argv[i]);
                        return 2;
                }
        }
        if (delay_ms > 0) {
                struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        if (unix_path)
                lfd = listen_unix(unix_path);
        else if (tcp)
                lfd = listen_tcp(tcp);
        if (lfd < 0) {
                fprintf(stderr, "probe2-http-server: no listening socket: %m\n");
                return 1;
        }
        printf("listening\n");
        fflush(stdout);

        for (;;) {
                static char buf[65536];
                size_t n = 0;
                char *end = NULL;
                long content_length = 0;
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), code;

                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                /* The head, then as much body as Content-Length says. */
                while (n < sizeof buf - 1) {
                        ssize_t k = read(c, buf + n, sizeof buf - 1 - n);
                        if (k <= 0)
                                break;
                        n += (size_t) k;
                        buf[n] = '\0';
                        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                                for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
                                        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
                                                content_length = strtol(h + 17, NULL, 10);
                        }
                        if (end && n >= (size_t) (end + 4 - buf) + (size_t) content_length)
                                break;
                }
                if (!end) {
                        close(c);
                        continue;
                }
                requests++;
                if (log_path) {
                        FILE *f = fopen(log_path, "ae");
                        if (f) {
                                fwrite(buf, 1, n, f);
                                fputs("\n---\n", f);
                                fclose(f);
                        }
                }
                bool head = strncmp(buf, "HEAD ", 5) == 0;
                code = (long) requests <= ok_after ? 503 : 200;
                if (status)
                        code = status;
                if (head && head_status)
                        code = head_status;
                dprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 3\r\nConnection: close\r\n\r\n%s", code,
                        reason(code), head ? "" : "ok\n");
                close(c);
                printf("request %lu: %d\n", requests, code);
                fflush(stdout);
        }
}

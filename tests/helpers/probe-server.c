/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service for the probe tests: after --delay-ms it becomes ready in the
 * ways asked for (in the order of the options below), then waits for a
 * signal. Each way is a real one: a listening socket, a pid file, a line.
 *
 *   --delay-ms N        wait before becoming ready (default 0)
 *   --long-line N       print a line of N 'x' first (on the banner's stream)
 *   --banner TEXT       print TEXT as a line
 *   --stderr            ... on stderr (default stdout)
 *   --split             ... in two writes, 50 ms apart
 *   --tcp HOST:PORT     listen on TCP (HOST an address: 127.0.0.1, ::1)
 *   --dual-stack        ... an IPv6 socket also takes IPv4 (IPV6_V6ONLY off)
 *   --unix PATH         listen on a Unix stream socket
 *   --listen-gap-us N   ... N us after bind() (the socket file is there,
 *                       refusing), and write the real gap in us to
 *   --gap-file PATH     (default: nowhere)
 *   --pid-file PATH     write our pid to PATH
 *   --rename            ... atomically: write PATH.tmp, rename it over PATH
 *   --pid-of-parent     ... writing our parent's pid instead (a wrong pid)
 *   --pid-split         ... in two writes, 100 ms apart (not renamed)
 *   --late-ms N         wait N ms more before the pid file and --touch
 *   --touch PATH        create an empty file
 *   --exit N            exit N instead of waiting */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
        fprintf(stderr, "probe-server: %s: %s\n", what, strerror(errno));
        exit(99);
}

static void sleep_ms(long ms) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        die("write");
                }
                p += k;
                n -= (size_t) k;
        }
}

static bool dual_stack;

static void listen_tcp(const char *spec) {
        char host[128];
        const char *colon = strrchr(spec, ':');
        int fd, one = 1, v6only = !dual_stack;

        if (!colon || (size_t) (colon - spec) >= sizeof host)
                die("--tcp wants HOST:PORT");
        memcpy(host, spec, (size_t) (colon - spec));
        host[colon - spec] = '\0';
        int port = atoi(colon + 1);
        if (strchr(host, ':')) {
                struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port) };
                if (inet_pton(AF_INET6, host, &sa.sin6_addr) != 1)
                        die("bad IPv6 address");
                fd = socket(AF_INET6, SOCK_STREAM, 0);
                if (fd < 0)
                        die("socket");
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        die("bind");
        } else {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
                if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
                        die("bad IPv4 address");
                fd = socket(AF_INET, SOCK_STREAM, 0);
                if (fd < 0)
                        die("socket");
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        die("bind");
        }
        if (listen(fd, 16) < 0)
                die("listen");
}

static long listen_gap_us = 0;
static const char *gap_file;

static long long now_us(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (long long) t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void listen_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        long long bound;

        if (fd < 0)
                die("socket");
        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die("bind");
        bound = now_us();
        while (now_us() - bound < listen_gap_us)
                ; /* spin: a sleep could oversleep by far more than the gap */
        if (listen(fd, 16) < 0)
                die("listen");
        if (gap_file) {
                char buf[32];
                int n = snprintf(buf, sizeof buf, "%lld\n", now_us() - bound);
                char tmp[4096];
                snprintf(tmp, sizeof tmp, "%s.tmp", gap_file);
                int g = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (g < 0)
                        die("open gap file");
                write_all(g, buf, (size_t) n);
                close(g);
                if (rename(tmp, gap_file) < 0) /* whole when it is there */
                        die("rename gap file");
        }
}

static void write_pid_file(const char *path, bool rename_it, bool split, pid_t pid) {
        char tmp[4096], buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int) pid);
        const char *target = path;
        int fd;

        if (rename_it) {
                snprintf(tmp, sizeof tmp, "%s.tmp", path);
                target = tmp;
        }
        fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                die("open pid file");
        if (split) {
                write_all(fd, buf, 1);
                sleep_ms(100);
                write_all(fd, buf + 1, (size_t) n - 1);
        } else
                write_all(fd, buf, (size_t) n);
        close(fd);
        if (rename_it && rename(tmp, path) < 0)
                die("rename");
}

int main(int argc, char **argv) {
        enum { DELAY = 256, LONG_LINE, BANNER, STDERR_, SPLIT, TCP, UNIX_, PID_FILE, RENAME, PARENT, PID_SPLIT, LATE, TOUCH, EXIT, DUAL, GAP, GAP_FILE };
        static const struct option options[] = {
                { "delay-ms", required_argument, NULL, DELAY },
                { "long-line", required_argument, NULL, LONG_LINE },
                { "banner", required_argument, NULL, BANNER },
                { "stderr", no_argument, NULL, STDERR_ },
                { "split", no_argument, NULL, SPLIT },
                { "tcp", required_argument, NULL, TCP },
                { "unix", required_argument, NULL, UNIX_ },
                { "pid-file", required_argument, NULL, PID_FILE },
                { "rename", no_argument, NULL, RENAME },
                { "pid-of-parent", no_argument, NULL, PARENT },
                { "pid-split", no_argument, NULL, PID_SPLIT },
                { "late-ms", required_argument, NULL, LATE },
                { "touch", required_argument, NULL, TOUCH },
                { "exit", required_argument, NULL, EXIT },
                { "dual-stack", no_argument, NULL, DUAL },
                { "listen-gap-us", required_argument, NULL, GAP },
                { "gap-file", required_argument, NULL, GAP_FILE },
                {}
        };
        long delay = 0, long_line = 0, late = 0;
        const char *banner = NULL, *pid_file = NULL, *touch = NULL;
        const char *tcp[4] = {}, *unix_path = NULL;
        int n_tcp = 0, exit_code = -1, out = STDOUT_FILENO, c;
        bool split = false, rename_it = false, parent = false, pid_split = false;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case DELAY: delay = atol(optarg); break;
                case LONG_LINE: long_line = atol(optarg); break;
                case BANNER: banner = optarg; break;
                case STDERR_: out = STDERR_FILENO; break;
                case SPLIT: split = true; break;
                case TCP: if (n_tcp < 4) tcp[n_tcp++] = optarg; break;
                case UNIX_: unix_path = optarg; break;
                case PID_FILE: pid_file = optarg; break;
                case RENAME: rename_it = true; break;
                case PARENT: parent = true; break;
                case PID_SPLIT: pid_split = true; break;
                case LATE: late = atol(optarg); break;
                case TOUCH: touch = optarg; break;
                case EXIT: exit_code = atoi(optarg); break;
                case DUAL: dual_stack = true; break;
                case GAP: listen_gap_us = atol(optarg); break;
                case GAP_FILE: gap_file = optarg; break;
                default: return 2;
                }

        signal(SIGPIPE, SIG_IGN);
        sleep_ms(delay);
        if (exit_code >= 0) {
                fprintf(stderr, "probe-server: exiting with %d as asked\n", exit_code);
                return exit_code;
        }
        if (long_line > 0) {
                char *l = malloc((size_t) long_line + 1);
                if (!l)
                        die("malloc");
                memset(l, 'x', (size_t) long_line);
                l[long_line] = '\n';
                write_all(out, l, (size_t) long_line + 1);
                free(l);
        }
        if (banner) {
                size_t n = strlen(banner), half = n / 2;
                if (split) {
                        write_all(out, banner, half);
                        sleep_ms(50);
                        write_all(out, banner + half, n - half);
                } else
                        write_all(out, banner, n);
                write_all(out, "\n", 1);
        }
        for (int i = 0; i < n_tcp; i++)
                listen_tcp(tcp[i]);
        if (unix_path)
                listen_unix(unix_path);
        sleep_ms(late);
        if (pid_file)
                write_pid_file(pid_file, rename_it, pid_split, parent ? getppid() : getpid());
        if (touch) {
                int fd = open(touch, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        die("touch");
                close(fd);
        }
        for (;;)
                pause();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scriptable service for the group tests. The arguments are actions, run
 * in order; without "exit" or "pause" it exits 0 at the end.
 *
 *   out TEXT            print TEXT and a newline on stdout (flushed)
 *   log FILE TEXT       append TEXT and a newline to FILE (one write)
 *   touch FILE          create FILE
 *   require FILE        exit 3 unless FILE exists
 *   await FILE          wait (up to 30 s) until FILE exists, else exit 4
 *   connect-unix PATH   exit 3 unless a connect to the Unix socket PATH works
 *   connect-tcp PORT    exit 3 unless a connect to 127.0.0.1 PORT works
 *   unix PATH           listen on the Unix stream socket PATH
 *   tcp PORT            listen on 127.0.0.1 PORT
 *   http PORT           serve "200 OK" to every request on 127.0.0.1 PORT (then pause)
 *   notify TEXT         send TEXT (e.g. READY=1) to $NOTIFY_SOCKET
 *   pidfile FILE        write our pid to FILE
 *   child FILE          fork a child that writes its pid to FILE and pauses
 *   on-term FILE TEXT   on SIGTERM append TEXT to FILE and exit 0
 *   sleep-ms N          sleep N milliseconds
 *   exit N              exit with status N
 *   pause               wait for signals forever
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper-util.h"

static int term_fd = -1;
static char term_text[256];

static void append(const char *path, const char *text) {
        char line[512];
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int n;

        if (fd < 0)
                die("open");
        n = snprintf(line, sizeof line, "%s\n", text);
        if (write(fd, line, (size_t) n) != n)
                die("write");
        close(fd);
}

static void on_term(int signo) {
        (void) signo;
        if (term_fd >= 0)
                (void) !write(term_fd, term_text, strlen(term_text));
        _exit(0);
}

static int tcp_connect(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("socket");
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -1 : fd;
}

static int unix_socket(const char *path, bool do_listen) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("socket");
        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        if (!do_listen)
                return connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -1 : fd;
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die("bind");
        if (listen(fd, 16) < 0)
                die("listen");
        return fd;
}

static void serve_http(int fd) {
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        for (;;) {
                char buf[4096];
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                (void) !read(c, buf, sizeof buf);
                (void) !write(c, answer, sizeof answer - 1);
                close(c);
        }
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (strcmp(a, "out") == 0)
                        printf("%s\n", next_arg(argv, &i, argc));
                else if (strcmp(a, "log") == 0) {
                        const char *file = next_arg(argv, &i, argc);
                        append(file, next_arg(argv, &i, argc));
                } else if (strcmp(a, "touch") == 0)
                        append(next_arg(argv, &i, argc), "");
                else if (strcmp(a, "require") == 0) {
                        const char *file = next_arg(argv, &i, argc);
                        if (access(file, F_OK) < 0) {
                                fprintf(stderr, "group-service: %s does not exist\n", file);
                                return 3;
                        }
                } else if (strcmp(a, "await") == 0) {
                        const char *file = next_arg(argv, &i, argc);
                        int n = 0;
                        while (access(file, F_OK) < 0) {
                                if (++n > 3000) {
                                        fprintf(stderr, "group-service: %s never appeared\n", file);
                                        return 4;
                                }
                                sleep_ms(10);
                        }
                } else if (strcmp(a, "connect-unix") == 0 || strcmp(a, "connect-tcp") == 0) {
                        const char *where = next_arg(argv, &i, argc);
                        int fd = a[8] == 'u' ? unix_socket(where, false) : tcp_connect(atoi(where));
                        if (fd < 0) {
                                fprintf(stderr, "group-service: cannot connect to %s: %s\n", where,
                                        strerror(errno));
                                return 3;
                        }
                        close(fd);
                } else if (strcmp(a, "unix") == 0)
                        (void) unix_socket(next_arg(argv, &i, argc), true);
                else if (strcmp(a, "tcp") == 0)
                        (void) tcp_listen(atoi(next_arg(argv, &i, argc)));
                else if (strcmp(a, "http") == 0)
                        serve_http(tcp_listen(atoi(next_arg(argv, &i, argc))));
                else if (strcmp(a, "notify") == 0)
                        notify_send(next_arg(argv, &i, argc));
                else if (strcmp(a, "pidfile") == 0)
                        write_pid_file(next_arg(argv, &i, argc), getpid());
                else if (strcmp(a, "child") == 0) {
                        const char *file = next_arg(argv, &i, argc);
                        pid_t pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                signal(SIGTERM, SIG_DFL);
                                write_pid_file(file, getpid());
                                for (;;)
                                        pause();
                        }
                } else if (strcmp(a, "on-term") == 0) {
                        const char *file = next_arg(argv, &i, argc);
                        snprintf(term_text, sizeof term_text, "%s\n", next_arg(argv, &i, argc));
                        term_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                        if (term_fd < 0)
                                die("open");
                        signal(SIGTERM, on_term);
                } else if (strcmp(a, "sleep-ms") == 0)
                        sleep_ms(atol(next_arg(argv, &i, argc)));
                else if (strcmp(a, "exit") == 0)
                        return atoi(next_arg(argv, &i, argc));
                else if (strcmp(a, "pause") == 0)
                        for (;;)
                                pause();
                else {
                        fprintf(stderr, "group-service: unknown action %s\n", a);
                        return 98;
                }
        }
        return 0;
}

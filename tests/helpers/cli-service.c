/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scriptable service for the mirakuru-run tests. The arguments are
 * actions, run in order; without "exit", "pause" or "http" it exits 0 at
 * the end.
 *
 *   out TEXT         print TEXT and a newline on stdout
 *   err TEXT         the same on stderr
 *   env NAME         print "NAME=VALUE" or "NAME unset" on stdout
 *   cwd              print "cwd: DIR" on stdout
 *   exit N           exit with status N
 *   ignore SIG       ignore signal number SIG
 *   term-exit N      exit with status N on SIGTERM
 *   sleep-ms N       sleep N milliseconds
 *   pidfile FILE     write our pid to FILE (atomically)
 *   child FILE       fork a child that writes its pid to FILE and pauses
 *   tcp PORT         listen on 127.0.0.1 PORT
 *   unix PATH        listen on the Unix stream socket PATH
 *   listen-fds       print "LISTEN_FDS=N LISTEN_PID=ours|other|unset" on stdout
 *   notify TEXT      send TEXT (e.g. READY=1) to $NOTIFY_SOCKET
 *   pause            wait for signals forever
 *   http PORT CODE   serve HTTP on 127.0.0.1 PORT, answering CODE, forever
 *   connect PORT     connect to 127.0.0.1 PORT; exit 0 if that works, else 1
 *   fork-exit-ms N   daemonize: fork; the parent (the launcher) exits 0 after
 *                    N ms, the child calls setsid() and goes on with the rest
 *   child-log FILE   fork a child that appends "TERM" to FILE on each SIGTERM,
 *                    writes its pid to FILE.pid and pauses
 *   term-notify TEXT on SIGTERM, send TEXT to $NOTIFY_SOCKET, then exit 0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper-util.h"

static volatile sig_atomic_t term_exit_code;
static void on_term(int sig) {
        (void) sig;
        _exit(term_exit_code);
}

static const char *term_notify_text, *child_log_file;
static void on_term_notify(int sig) {
        (void) sig;
        notify_send(term_notify_text);
        _exit(0);
}

static void on_term_log(int sig) {
        int fd = open(child_log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        (void) sig;
        if (fd >= 0) {
                (void) write(fd, "TERM\n", 5);
                close(fd);
        }
}

static void serve_http(int port, int code) {
        int fd = tcp_listen(port);

        for (;;) {
                char buf[4096], reply[256];
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        die("accept");
                }
                /* Enough for the probe's small request. */
                (void) read(c, buf, sizeof buf);
                int n = snprintf(reply, sizeof reply,
                                 "HTTP/1.1 %d Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code);
                (void) write(c, reply, (size_t) n);
                close(c);
        }
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (strcmp(a, "out") == 0)
                        printf("%s\n", next_arg(argv, &i, argc));
                else if (strcmp(a, "err") == 0)
                        fprintf(stderr, "%s\n", next_arg(argv, &i, argc));
                else if (strcmp(a, "env") == 0) {
                        const char *name = next_arg(argv, &i, argc), *v = getenv(name);
                        if (v)
                                printf("%s=%s\n", name, v);
                        else
                                printf("%s unset\n", name);
                } else if (strcmp(a, "cwd") == 0) {
                        char d[4096];
                        printf("cwd: %s\n", getcwd(d, sizeof d) ?: "?");
                } else if (strcmp(a, "exit") == 0) {
                        fflush(stdout);
                        exit(atoi(next_arg(argv, &i, argc)));
                } else if (strcmp(a, "ignore") == 0)
                        signal(atoi(next_arg(argv, &i, argc)), SIG_IGN);
                else if (strcmp(a, "term-exit") == 0) {
                        term_exit_code = atoi(next_arg(argv, &i, argc));
                        signal(SIGTERM, on_term);
                } else if (strcmp(a, "sleep-ms") == 0)
                        sleep_ms(atol(next_arg(argv, &i, argc)));
                else if (strcmp(a, "pidfile") == 0)
                        write_pid_file(next_arg(argv, &i, argc), getpid());
                else if (strcmp(a, "child") == 0) {
                        const char *path = next_arg(argv, &i, argc);
                        pid_t pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                write_pid_file(path, getpid());
                                for (;;)
                                        pause();
                        }
                } else if (strcmp(a, "tcp") == 0)
                        (void) tcp_listen(atoi(next_arg(argv, &i, argc)));
                else if (strcmp(a, "unix") == 0) {
                        const char *path = next_arg(argv, &i, argc);
                        struct sockaddr_un sa = { .sun_family = AF_UNIX };
                        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
                                die("socket");
                        strcpy(sa.sun_path, path);
                        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 16) < 0)
                                die("bind");
                } else if (strcmp(a, "listen-fds") == 0) {
                        const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
                        printf("LISTEN_FDS=%s LISTEN_PID=%s\n", fds ?: "unset",
                               !pid ? "unset" : atoi(pid) == getpid() ? "ours" : "other");
                } else if (strcmp(a, "notify") == 0)
                        notify_send(next_arg(argv, &i, argc));
                else if (strcmp(a, "pause") == 0) {
                        fflush(stdout);
                        for (;;)
                                pause();
                } else if (strcmp(a, "http") == 0) {
                        int port = atoi(next_arg(argv, &i, argc));
                        serve_http(port, atoi(next_arg(argv, &i, argc)));
                } else if (strcmp(a, "fork-exit-ms") == 0) {
                        long ms = atol(next_arg(argv, &i, argc));
                        pid_t pid;
                        fflush(stdout);
                        pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid > 0) {
                                sleep_ms(ms);
                                _exit(0);
                        }
                        (void) setsid();
                } else if (strcmp(a, "child-log") == 0) {
                        const char *path = next_arg(argv, &i, argc);
                        pid_t pid;
                        fflush(stdout);
                        pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                char *pid_path;
                                child_log_file = path;
                                signal(SIGTERM, on_term_log);
                                if (asprintf(&pid_path, "%s.pid", path) < 0)
                                        die("asprintf");
                                write_pid_file(pid_path, getpid());
                                for (;;)
                                        pause();
                        }
                } else if (strcmp(a, "term-notify") == 0) {
                        term_notify_text = next_arg(argv, &i, argc);
                        signal(SIGTERM, on_term_notify);
                } else if (strcmp(a, "connect") == 0) {
                        struct sockaddr_in sa = { .sin_family = AF_INET,
                                                  .sin_port = htons((uint16_t) atoi(next_arg(argv, &i, argc))) };
                        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0 ? 0 : 1;
                } else {
                        fprintf(stderr, "cli-service: unknown action %s\n", a);
                        return 98;
                }
        }
        return 0;
}

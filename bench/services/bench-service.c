/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service the benchmark starts. One program, one mode per readiness
 * kind. Each mode stamps CLOCK_MONOTONIC (nanoseconds) immediately before the
 * system call that makes it ready, and afterwards writes the stamp as one
 * line to the FIFO named by $BENCH_STAMP_FIFO (if set). Then it waits for a
 * signal (the default SIGTERM disposition ends it).
 *
 *   bench-service pause             ready at exec; stamps at main()
 *   bench-service output            prints "BENCH READY" on stdout
 *   bench-service tcp PORT          listen()s on 127.0.0.1:PORT
 *   bench-service http PORT         the same, then answers every request 200
 *   bench-service unix PATH         listen()s on the Unix socket PATH
 *   bench-service pidfile PATH      rename()s a finished pid file into PATH
 *   bench-service notify            sends READY=1 over $NOTIFY_SOCKET
 *   bench-service listen            socket activation: stamps at main()
 *   bench-service tree N            becomes a tree of N processes: half plain
 *                                   children, half double-forked setsid()
 *                                   daemons; every process writes its pid
 *                                   (binary pid_t) to the FIFO, then pauses
 *   bench-service exit MSEC         exits 0 after MSEC milliseconds
 *   bench-service oneshot-floor     the one-shot floor of issue 15, as a fresh
 *                                   process: posix_spawn()s `sh -c 'echo ready;
 *                                   exec sleep 300'`, reads its banner, runs
 *                                   `sh -c true`, kills and reaps; exits 0
 *   bench-service rusage CMD ARG... runs CMD (posix_spawnp from this small
 *                                   process, so its peak RSS is CMD's own, not
 *                                   a big parent's) and prints "MS MAXRSS_KIB"
 *
 * With $BENCH_DELAY_US set, every mode first sleeps that long: a slow
 * starter (the stamps are taken after the sleep, right before readiness).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static void write_fifo(const void *buf, size_t n) {
        const char *path = getenv("BENCH_STAMP_FIFO");
        int fd;

        if (!path)
                return;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                perror("bench-service: open fifo");
                exit(EXIT_FAILURE);
        }
        if (write(fd, buf, n) != (ssize_t) n) {
                perror("bench-service: write fifo");
                exit(EXIT_FAILURE);
        }
        close(fd);
}

static void report(uint64_t stamp) {
        char line[32];
        int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long) stamp);
        write_fifo(line, (size_t) n);
}

static _Noreturn void die(const char *what) {
        perror(what);
        exit(EXIT_FAILURE);
}

static _Noreturn void wait_forever(void) {
        for (;;)
                pause();
}

static int tcp_socket(const char *port) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons((uint16_t) atoi(port)),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        int one = 1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("socket");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die("bind");
        return fd;
}

static _Noreturn void serve_http(int fd) {
        static const char answer[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

        for (;;) {
                char buf[4096];
                size_t used = 0;
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        die("accept");
                }
                /* Read the request head, answer, close. */
                while (used < sizeof buf - 1) {
                        ssize_t n = read(c, buf + used, sizeof buf - 1 - used);
                        if (n <= 0)
                                break;
                        used += (size_t) n;
                        buf[used] = '\0';
                        if (strstr(buf, "\r\n\r\n"))
                                break;
                }
                ssize_t w = write(c, answer, sizeof answer - 1);
                (void) w;
                close(c);
        }
}

static void daemon_child(void) {
        pid_t self;

        if (setsid() < 0)
                die("setsid");
        switch (fork()) {
        case -1:
                die("fork");
        case 0:
                self = getpid();
                write_fifo(&self, sizeof self);
                wait_forever();
        default:
                _exit(EXIT_SUCCESS); /* the daemon is orphaned */
        }
}

static _Noreturn void tree(int n) {
        pid_t self = getpid();
        int daemons = n / 2, plain = n - 1 - daemons;

        for (int i = 0; i < plain + daemons; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        die("fork");
                if (pid == 0) {
                        if (i >= plain)
                                daemon_child();
                        self = getpid();
                        write_fifo(&self, sizeof self);
                        wait_forever();
                }
                if (i >= plain)
                        (void) waitpid(pid, NULL, 0); /* the intermediate of a double fork */
        }
        write_fifo(&self, sizeof self);
        wait_forever();
}

extern char **environ;

static int oneshot_floor(void) {
        char *service[] = { (char *) "sh", (char *) "-c", (char *) "echo ready; exec sleep 300", NULL };
        char *then[] = { (char *) "sh", (char *) "-c", (char *) "true", NULL };
        posix_spawn_file_actions_t fa;
        char buf[64];
        pid_t pid, then_pid;
        int p[2], status;

        if (pipe2(p, O_CLOEXEC) < 0 || posix_spawn_file_actions_init(&fa) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO) != 0 ||
            posix_spawnp(&pid, "sh", &fa, NULL, service, environ) != 0)
                die("spawn");
        close(p[1]);
        if (read(p[0], buf, sizeof buf) <= 0)
                die("read banner");
        if (posix_spawnp(&then_pid, "sh", NULL, NULL, then, environ) != 0 ||
            waitpid(then_pid, &status, 0) < 0)
                die("then");
        kill(pid, SIGTERM);
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid");
        return EXIT_SUCCESS;
}

static int rusage_of(char **argv) {
        struct rusage ru;
        uint64_t t = now_ns();
        pid_t pid;
        int status;

        if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
                die("spawn");
        if (wait4(pid, &status, 0, &ru) < 0)
                die("wait4");
        printf("%.3f %ld\n", (double) (now_ns() - t) / 1e6, ru.ru_maxrss);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char *argv[]) {
        const char *delay = getenv("BENCH_DELAY_US");
        if (delay && atol(delay) > 0) {
                long us = atol(delay);
                struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        uint64_t stamp = now_ns();
        const char *mode = argc > 1 ? argv[1] : "pause";
        const char *arg = argc > 2 ? argv[2] : NULL;
        int fd;

        if (strcmp(mode, "pause") == 0 || strcmp(mode, "listen") == 0) {
                report(stamp);
        } else if (strcmp(mode, "output") == 0) {
                static const char banner[] = "BENCH READY\n";
                stamp = now_ns();
                if (write(STDOUT_FILENO, banner, sizeof banner - 1) < 0)
                        die("write");
                report(stamp);
        } else if ((strcmp(mode, "tcp") == 0 || strcmp(mode, "http") == 0) && arg) {
                fd = tcp_socket(arg);
                stamp = now_ns();
                if (listen(fd, SOMAXCONN) < 0)
                        die("listen");
                report(stamp);
                if (strcmp(mode, "http") == 0)
                        serve_http(fd);
        } else if (strcmp(mode, "unix") == 0 && arg) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                if (strlen(arg) >= sizeof sa.sun_path)
                        die("path too long");
                strcpy(sa.sun_path, arg);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        die("bind");
                stamp = now_ns();
                if (listen(fd, SOMAXCONN) < 0)
                        die("listen");
                report(stamp);
        } else if (strcmp(mode, "pidfile") == 0 && arg) {
                char tmp[4096], content[32];
                int n = snprintf(content, sizeof content, "%d\n", (int) getpid());
                snprintf(tmp, sizeof tmp, "%s.tmp", arg);
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, content, (size_t) n) != n || close(fd) < 0)
                        die("pid file");
                stamp = now_ns();
                if (rename(tmp, arg) < 0)
                        die("rename");
                report(stamp);
        } else if (strcmp(mode, "notify") == 0) {
                stamp = now_ns();
                if (sd_notify(0, "READY=1") <= 0)
                        die("sd_notify");
                report(stamp);
        } else if (strcmp(mode, "tree") == 0 && arg) {
                tree(atoi(arg) > 1 ? atoi(arg) : 2);
        } else if (strcmp(mode, "rusage") == 0 && arg) {
                return rusage_of(argv + 2);
        } else if (strcmp(mode, "oneshot-floor") == 0) {
                return oneshot_floor();
        } else if (strcmp(mode, "exit") == 0 && arg) {
                struct timespec ts = { .tv_sec = atoi(arg) / 1000, .tv_nsec = (atoi(arg) % 1000) * 1000000L };
                report(stamp);
                nanosleep(&ts, NULL);
                return EXIT_SUCCESS;
        } else {
                fprintf(stderr, "bench-service: unknown mode or missing argument\n");
                return 2;
        }
        wait_forever();
}

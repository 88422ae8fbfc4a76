/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A misbehaving service for the fault suite. The arguments are actions, run
 * in order; at the end it exits 0.
 *
 *   out TEXT          print TEXT and a newline on stdout (flushed)
 *   err TEXT          the same on stderr
 *   record FILE       append our pid to FILE (one per line)
 *   child FILE        fork a child that appends its pid to FILE and waits
 *                     for signals forever; we go on
 *   ignore-term       ignore SIGTERM (children forked later inherit it)
 *   sleep MS          sleep MS milliseconds
 *   segv              die by SIGSEGV (a real invalid write)
 *   close-stdout      close fd 1 (and make it /dev/null-free: nothing reopens it)
 *   flood RATE SECS   print RATE 64-byte lines per second for SECS seconds,
 *                     numbered "line N ...", then "flood done N"
 *   as-user UID NPROC drop to uid and gid UID (no supplementary groups),
 *                     RLIMIT_NPROC set to NPROC first (root ignores it)
 *   fork-loop FILE    fork children without end: each child appends its pid
 *                     to FILE, lives 100-500 ms (SIGTERM kills it even after
 *                     ignore-term) and exits; the loop reaps it and forks a
 *                     replacement at once. Prints "fork refused: ERR" the
 *                     first time fork fails (a limit), then waits for a child
 *                     to exit and takes its place, so with ignore-term it
 *                     keeps forking while a stop runs
 *   symlink FILE      write our pid to FILE.target, then make FILE a
 *                     symbolic link to it
 *   serve MODE PORT   listen on 127.0.0.1:PORT; MODE reset: accept and reset
 *                     each connection at once (SO_LINGER 0); MODE silent:
 *                     accept and never answer (connections kept open).
 *                     Prints "listening" once bound; serves forever
 *   pause             wait for signals forever
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
        fprintf(stderr, "fault-service: %s: %s\n", what, strerror(errno));
        exit(99);
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void append_pid(const char *file, pid_t pid) {
        char buf[32];
        int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int n;

        if (fd < 0)
                die("open");
        n = snprintf(buf, sizeof buf, "%d\n", (int) pid);
        if (write(fd, buf, (size_t) n) != n)
                die("write");
        close(fd);
}

static _Noreturn void wait_forever(void) {
        for (;;)
                pause();
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void flood(long rate, long secs) {
        uint64_t start = now_ms();
        long total = rate * secs, n = 0;

        /* In slices of 10 ms: rate/100 lines, then wait for the next slice. */
        while (n < total) {
                long step = rate / 100 > 0 ? rate / 100 : 1;
                long slice_end = n + step < total ? n + step : total;
                for (; n < slice_end; n++)
                        printf("line %09ld ..................................................\n", n);
                fflush(stdout);
                uint64_t due = start + (uint64_t) n * 1000 / (uint64_t) rate, now = now_ms();
                if (due > now)
                        sleep_ms((long) (due - now));
        }
        printf("flood done %ld\n", n);
        fflush(stdout);
}

static void fork_loop(const char *file) {
        unsigned seed = (unsigned) getpid() ^ (unsigned) now_ms();
        bool told = false;

        for (;;) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                long life_ms = 100 + (long) (rand_r(&seed) % 400);
                pid_t pid = fork();
                if (pid == 0) {
                        /* Recorded by itself: a child alive past this line is in FILE. */
                        signal(SIGTERM, SIG_DFL);
                        append_pid(file, getpid());
                        sleep_ms(life_ms);
                        _exit(0);
                }
                if (pid > 0)
                        continue;
                if (!told) {
                        printf("fork refused: %s\n", strerror(errno));
                        fflush(stdout);
                        told = true;
                }
                /* At the limit: the next child to exit frees a place. */
                if (waitpid(-1, NULL, 0) < 0)
                        sleep_ms(10);
        }
}

static void as_user(const char *uid_arg, const char *nproc_arg) {
        uid_t uid = (uid_t) strtoul(uid_arg, NULL, 10);
        rlim_t nproc = (rlim_t) strtoul(nproc_arg, NULL, 10);

        if (setrlimit(RLIMIT_NPROC, &(struct rlimit) { .rlim_cur = nproc, .rlim_max = nproc }) < 0)
                die("setrlimit");
        if (setgroups(0, NULL) < 0)
                die("setgroups");
        if (setresgid(uid, uid, uid) < 0)
                die("setresgid");
        if (setresuid(uid, uid, uid) < 0)
                die("setresuid");
}

static void serve(const char *mode, const char *port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                  .sin_port = htons((uint16_t) atoi(port)) };
        bool reset = strcmp(mode, "reset") == 0;
        int one = 1, fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                die("socket");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 64) < 0)
                die("bind");
        printf("listening\n");
        fflush(stdout);
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno == EMFILE || errno == ENFILE) {
                                sleep_ms(10);
                                continue;
                        }
                        die("accept");
                }
                if (reset) {
                        struct linger l = { .l_onoff = 1, .l_linger = 0 };
                        (void) setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                        close(c);
                }
                /* silent: keep c open and never read or write. */
        }
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "out") == 0 && arg) {
                        printf("%s\n", arg);
                        fflush(stdout);
                        i++;
                } else if (strcmp(a, "err") == 0 && arg) {
                        fprintf(stderr, "%s\n", arg);
                        i++;
                } else if (strcmp(a, "record") == 0 && arg) {
                        append_pid(arg, getpid());
                        i++;
                } else if (strcmp(a, "child") == 0 && arg) {
                        pid_t pid;
                        fflush(stdout);
                        pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                append_pid(arg, getpid());
                                wait_forever();
                        }
                        i++;
                } else if (strcmp(a, "ignore-term") == 0) {
                        signal(SIGTERM, SIG_IGN);
                } else if (strcmp(a, "sleep") == 0 && arg) {
                        sleep_ms(atol(arg));
                        i++;
                } else if (strcmp(a, "segv") == 0) {
                        fflush(stdout);
                        signal(SIGSEGV, SIG_DFL);
                        raise(SIGSEGV); /* as a bad write would: default action, core */
                        abort();
                } else if (strcmp(a, "close-stdout") == 0) {
                        fflush(stdout);
                        close(STDOUT_FILENO);
                } else if (strcmp(a, "flood") == 0 && arg && i + 2 < argc) {
                        flood(atol(arg), atol(argv[i + 2]));
                        i += 2;
                } else if (strcmp(a, "as-user") == 0 && arg && i + 2 < argc) {
                        as_user(arg, argv[i + 2]);
                        i += 2;
                } else if (strcmp(a, "fork-loop") == 0 && arg) {
                        fork_loop(arg);
                } else if (strcmp(a, "symlink") == 0 && arg) {
                        char target[4096];
                        snprintf(target, sizeof target, "%s.target", arg);
                        FILE *f = fopen(target, "we");
                        if (!f)
                                die("fopen");
                        fprintf(f, "%d\n", (int) getpid());
                        fclose(f);
                        if (symlink(target, arg) < 0)
                                die("symlink");
                        i++;
                } else if (strcmp(a, "serve") == 0 && arg && i + 2 < argc) {
                        serve(arg, argv[i + 2]);
                } else if (strcmp(a, "pause") == 0) {
                        fflush(stdout);
                        wait_forever();
                } else {
                        fprintf(stderr, "fault-service: bad action '%s'\n", a);
                        return 2;
                }
        }
        return 0;
}

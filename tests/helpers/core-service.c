/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scriptable test service for the core tests. The arguments are actions,
 * run in order; without an "exit" or "pause" it exits 0 at the end.
 *
 *   out TEXT        print TEXT and a newline on stdout
 *   err TEXT        the same on stderr
 *   raw TEXT        write TEXT to stdout as is, after turning \n \r \\ into bytes
 *   exit N          exit with status N
 *   raise SIG       send signal SIG (a number) to ourselves
 *   ignore SIG      set SIG's disposition to SIG_IGN
 *   pause           wait for signals forever
 *   fds             print "fds: 0 1 2 ..." (the fds open in this process)
 *   status          print "session-leader: yes|no", then SigIgn/SigBlk of /proc/self/status
 *   env NAME        print "NAME=VALUE" or "NAME unset"
 *   envcount        print "envcount: N"
 *   cwd             print "cwd: DIR"
 *   args            print every remaining argument as "arg: VALUE", then exit 0
 *   flood BYTES     print BYTES bytes of 100-byte lines on stdout
 *   touch FILE      create FILE
 *   pidfile FILE    write our pid to FILE (atomically, through a rename)
 *   daemon FILE     fork; the child writes its pid to FILE and pauses; we go on
 *   double-daemon FILE  a double fork: the child calls setsid(), waits 200 ms
 *                   (we have exited by then), forks the daemon (which writes
 *                   its pid to FILE and pauses) and exits 0; we go on
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper-util.h"

extern char **environ;

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

static void print_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int fds[1024], n = 0;

        if (!d)
                die("opendir");
        while ((de = readdir(d)) && n < 1024) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = atoi(de->d_name);
                if (fd != dirfd(d))
                        fds[n++] = fd;
        }
        closedir(d);
        /* readdir order is the kernel's; sort for a stable answer. */
        for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        printf("fds:");
        for (int i = 0; i < n; i++)
                printf(" %d", fds[i]);
        printf("\n");
}

static void print_status(void) {
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");

        printf("session-leader: %s\n", getsid(0) == getpid() ? "yes" : "no");
        printf("group-leader: %s\n", getpgid(0) == getpid() ? "yes" : "no");
        if (!f)
                die("fopen /proc/self/status");
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "SigIgn:", 7) == 0 || strncmp(line, "SigBlk:", 7) == 0)
                        fputs(line, stdout);
        fclose(f);
}

static void write_raw(const char *s) {
        char buf[4096];
        size_t n = 0;

        for (; *s && n < sizeof buf; s++) {
                if (s[0] == '\\' && s[1]) {
                        s++;
                        buf[n++] = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
                } else
                        buf[n++] = *s;
        }
        write_all(STDOUT_FILENO, buf, n);
}

static void flood(unsigned long long bytes) {
        static char chunk[100 * 1000];
        unsigned long long line = 0;

        while (bytes > 0) {
                size_t n = 0;
                for (int i = 0; i < 1000; i++) {
                        /* 99 visible bytes and a newline */
                        int k = snprintf(chunk + n, 101, "flood %012llu ", line++);
                        memset(chunk + n + k, 'x', (size_t) (99 - k));
                        chunk[n + 99] = '\n';
                        n += 100;
                }
                if (n > bytes)
                        n = (size_t) bytes;
                write_all(STDOUT_FILENO, chunk, n);
                bytes -= n;
        }
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IONBF, 0);
        setvbuf(stderr, NULL, _IONBF, 0);

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *arg = NULL;

                if (strcmp(a, "out") == 0) {
                        arg = next_arg(argv, &i, argc);
                        printf("%s\n", arg);
                } else if (strcmp(a, "err") == 0) {
                        arg = next_arg(argv, &i, argc);
                        fprintf(stderr, "%s\n", arg);
                } else if (strcmp(a, "raw") == 0) {
                        arg = next_arg(argv, &i, argc);
                        write_raw(arg);
                } else if (strcmp(a, "exit") == 0) {
                        arg = next_arg(argv, &i, argc);
                        return atoi(arg);
                } else if (strcmp(a, "raise") == 0) {
                        arg = next_arg(argv, &i, argc);
                        raise(atoi(arg));
                } else if (strcmp(a, "ignore") == 0) {
                        arg = next_arg(argv, &i, argc);
                        signal(atoi(arg), SIG_IGN);
                } else if (strcmp(a, "pause") == 0) {
                        for (;;)
                                pause();
                } else if (strcmp(a, "fds") == 0)
                        print_fds();
                else if (strcmp(a, "status") == 0)
                        print_status();
                else if (strcmp(a, "env") == 0) {
                        arg = next_arg(argv, &i, argc);
                        const char *v = getenv(arg);
                        if (v)
                                printf("%s=%s\n", arg, v);
                        else
                                printf("%s unset\n", arg);
                } else if (strcmp(a, "envcount") == 0) {
                        int n = 0;
                        for (char **e = environ; *e; e++)
                                n++;
                        printf("envcount: %d\n", n);
                } else if (strcmp(a, "cwd") == 0) {
                        char buf[4096];
                        if (!getcwd(buf, sizeof buf))
                                die("getcwd");
                        printf("cwd: %s\n", buf);
                } else if (strcmp(a, "args") == 0) {
                        for (i++; i < argc; i++)
                                printf("arg: %s\n", argv[i]);
                        return 0;
                } else if (strcmp(a, "flood") == 0) {
                        arg = next_arg(argv, &i, argc);
                        flood(strtoull(arg, NULL, 10));
                } else if (strcmp(a, "touch") == 0) {
                        arg = next_arg(argv, &i, argc);
                        int fd = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                        if (fd < 0)
                                die("open");
                        close(fd);
                } else if (strcmp(a, "pidfile") == 0) {
                        arg = next_arg(argv, &i, argc);
                        write_pid_file(arg, getpid());
                } else if (strcmp(a, "daemon") == 0) {
                        arg = next_arg(argv, &i, argc);
                        pid_t pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                write_pid_file(arg, getpid());
                                for (;;)
                                        pause();
                        }
                } else if (strcmp(a, "double-daemon") == 0) {
                        arg = next_arg(argv, &i, argc);
                        pid_t pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                setsid();
                                usleep(200 * 1000);
                                pid = fork();
                                if (pid < 0)
                                        _exit(1);
                                if (pid > 0)
                                        _exit(0);
                                write_pid_file(arg, getpid());
                                for (;;)
                                        pause();
                        }
                } else {
                        fprintf(stderr, "core-service: unknown action '%s'\n", a);
                        return 98;
                }
        }
        return 0;
}

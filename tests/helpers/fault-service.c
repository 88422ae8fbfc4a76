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
 *   deep-cgroup N FILE  make N nested cgroups below our own (with
 *                     directory fds: the paths grow past PATH_MAX), fork a
 *                     child that moves into the deepest, appends its pid to
 *                     FILE and waits forever; we go on
 *   leave-cgroup FILE fork a child that moves itself to the parent of our
 *                     cgroup (writes 0 to its cgroup.procs), appends its pid
 *                     to FILE and waits forever; we go on
 *   leave-on-term     on SIGTERM, move ourselves to the parent of our
 *                     cgroup, and go on (ignoring later SIGTERMs)
 *   guard SIG         send SIG (STOP, KILL, TERM, TSTP) to our supervisor's
 *                     guard (its child named mirakuru-guard, as `pgrep -P
 *                     $PPID -x mirakuru-guard` finds it); prints "guard PID
 *                     signalled"
 *   setsid-child FILE fork a child that calls setsid() (leaving our session
 *                     and process group), appends its pid to FILE and waits
 *                     forever; we go on
 *   setsid-bomb FILE DEPTH  a bounded fork bomb of double-forked setsid()
 *                     daemons, 2^(DEPTH+2) - 2 of them, each appending its
 *                     pid to FILE and waiting forever (their parents exit at
 *                     once); we go on
 *   alines COUNT LEN  print COUNT lines of LEN 'a's (COUNT 0: for ever)
 *   pause             wait for signals forever
 */
#include <dirent.h>
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
#include <sys/stat.h>
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

/* A bounded fork bomb of double-forked setsid() daemons: two at each of
 * DEPTH + 1 levels below the caller (2^(DEPTH+2) - 2 in all), each one the
 * grandchild of a process that exits at once, in a session of its own, and
 * recording itself in FILE. What the process-group backend cannot
 * attribute, a whole tree of it. The caller returns at once. */
static void setsid_bomb(const char *file, long depth) {
        for (int k = 0; k < 2; k++) {
                pid_t pid = fork();
                if (pid < 0)
                        die("fork");
                if (pid > 0) {
                        (void) waitpid(pid, NULL, 0);
                        continue;
                }
                if (setsid() < 0)
                        _exit(1);
                pid = fork();
                if (pid != 0)
                        _exit(pid < 0);
                append_pid(file, getpid());
                if (depth > 0)
                        setsid_bomb(file, depth - 1);
                wait_forever();
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

/* The directory of our own cgroup v2, in the cgroup2 mount. */
static char *own_cgroup(void) {
        char line[8192], mount[4096] = "", *path = NULL;
        FILE *f = fopen("/proc/self/mounts", "re");

        if (!f)
                die("mounts");
        while (fgets(line, sizeof line, f)) {
                char dev[256], dir[4096], type[64];
                if (sscanf(line, "%255s %4095s %63s", dev, dir, type) == 3 && strcmp(type, "cgroup2") == 0) {
                        snprintf(mount, sizeof mount, "%s", dir);
                        break;
                }
        }
        fclose(f);
        f = fopen("/proc/self/cgroup", "re");
        if (!f || !mount[0])
                die("cgroup");
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        if (asprintf(&path, "%s%s", mount, strcmp(line + 3, "/") == 0 ? "" : line + 3) < 0)
                                die("asprintf");
                }
        fclose(f);
        if (!path)
                die("no cgroup v2");
        return path;
}

static void write_procs_at(int dir_fd) {
        int fd = openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1)
                die("cgroup.procs");
        close(fd);
}

static void deep_cgroup(long levels, const char *file) {
        char *own = own_cgroup();
        int fd = open(own, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        pid_t pid;

        if (fd < 0)
                die("open own cgroup");
        for (long i = 0; i < levels; i++) {
                if (mkdirat(fd, "a", 0755) < 0)
                        die("mkdirat");
                int next = openat(fd, "a", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                if (next < 0)
                        die("openat");
                close(fd);
                fd = next;
        }
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                write_procs_at(fd);
                append_pid(file, getpid());
                wait_forever();
        }
        close(fd);
        free(own);
        /* Go on once the child is at the bottom (it records itself there). */
        for (int i = 0; i < 500; i++) {
                struct stat st;
                if (stat(file, &st) == 0 && st.st_size > 0)
                        break;
                sleep_ms(10);
        }
}

static void move_to_parent_cgroup(void) {
        char *own = own_cgroup(), *slash = strrchr(own, '/');
        int fd;

        if (slash)
                *slash = '\0';
        fd = open(own, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                int p = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                if (p >= 0) {
                        (void) !write(p, "0", 1);
                        close(p);
                }
                close(fd);
        }
        free(own);
}

static void on_term_leave(int sig) {
        (void) sig;
        signal(SIGTERM, SIG_IGN);
        move_to_parent_cgroup(); /* not async-signal-safe, but this program does nothing else now */
}

static void signal_guard(const char *name) {
        int sig = strcmp(name, "STOP") == 0   ? SIGSTOP
                  : strcmp(name, "KILL") == 0 ? SIGKILL
                  : strcmp(name, "TSTP") == 0 ? SIGTSTP
                                              : SIGTERM;
        pid_t supervisor = getppid();
        char path[300], buf[512];
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t guard = 0;

        while (d && (de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                size_t n = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[n] = '\0';
                char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
                int ppid;
                if (!open_paren || !close_paren || sscanf(close_paren + 2, "%*c %d", &ppid) != 1)
                        continue;
                *close_paren = '\0';
                if (ppid == supervisor && strcmp(open_paren + 1, "mirakuru-guard") == 0)
                        guard = (pid_t) atoi(de->d_name);
        }
        if (d)
                closedir(d);
        if (guard <= 0 || kill(guard, sig) < 0)
                die("no guard to signal");
        printf("guard %d signalled\n", (int) guard);
        fflush(stdout);
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
                } else if (strcmp(a, "deep-cgroup") == 0 && arg && i + 2 < argc) {
                        deep_cgroup(atol(arg), argv[i + 2]);
                        i += 2;
                } else if (strcmp(a, "leave-cgroup") == 0 && arg) {
                        pid_t pid;
                        fflush(stdout);
                        pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                move_to_parent_cgroup();
                                append_pid(arg, getpid());
                                wait_forever();
                        }
                        i++;
                } else if (strcmp(a, "leave-on-term") == 0) {
                        signal(SIGTERM, on_term_leave);
                } else if (strcmp(a, "guard") == 0 && arg) {
                        signal_guard(arg);
                        i++;
                } else if (strcmp(a, "setsid-bomb") == 0 && arg && i + 2 < argc) {
                        fflush(stdout);
                        setsid_bomb(arg, atol(argv[i + 2]));
                        i += 2;
                } else if (strcmp(a, "setsid-child") == 0 && arg) {
                        pid_t pid;
                        fflush(stdout);
                        pid = fork();
                        if (pid < 0)
                                die("fork");
                        if (pid == 0) {
                                if (setsid() < 0)
                                        die("setsid");
                                append_pid(arg, getpid());
                                wait_forever();
                        }
                        i++;
                } else if (strcmp(a, "alines") == 0 && arg && i + 2 < argc) {
                        long count = atol(arg), len = atol(argv[i + 2]);
                        char *l = malloc((size_t) len + 1);
                        if (!l)
                                die("malloc");
                        memset(l, 'a', (size_t) len);
                        l[len] = '\n';
                        for (long k = 0; count == 0 || k < count; k++)
                                if (fwrite(l, 1, (size_t) len + 1, stdout) != (size_t) len + 1)
                                        die("write");
                        fflush(stdout);
                        free(l);
                        i += 2;
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

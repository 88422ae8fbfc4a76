/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Process trees that try to escape teardown. Every process it creates
 * appends its pid to DIR/pids; "ready" is printed once all are recorded.
 *   cont-tree tree N DIR      N processes in a binary tree (the main one included)
 *   cont-tree daemon DIR      a double-forked setsid() daemon with an empty
 *                             environment that ignores SIGTERM; the main one stays
 *   cont-tree forker DIR      ignores SIGTERM and forks continuously (bounded),
 *                             each child ignoring SIGTERM too
 *   cont-tree early-exit DIR  leaves a daemon (same session, ignores SIGTERM)
 *                             and exits 0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKER_MAX 1500

static const char *dir;
static int ready_pipe[2];

static void record(void) {
        char path[4096], line[32];
        int fd, l;

        snprintf(path, sizeof path, "%s/pids", dir);
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                _exit(2);
        l = snprintf(line, sizeof line, "%d\n", (int) getpid());
        if (write(fd, line, (size_t) l) != l)
                _exit(2);
        close(fd);
}

static void tell_ready(void) {
        char c = 'x';
        if (write(ready_pipe[1], &c, 1) != 1)
                _exit(2);
}

static void await(int n) {
        char c;
        close(ready_pipe[1]);
        for (int i = 0; i < n; i++)
                if (read(ready_pipe[0], &c, 1) != 1) {
                        fprintf(stderr, "a process died before it was recorded\n");
                        exit(2);
                }
        printf("ready\n");
        fflush(stdout);
}

static _Noreturn void idle(void) {
        for (;;)
                pause();
}

static void tree_node(int index, int n) {
        for (int c = 2 * index + 1; c <= 2 * index + 2 && c < n; c++) {
                pid_t pid = fork();
                if (pid < 0)
                        _exit(2);
                if (pid == 0) {
                        tree_node(c, n);
                        record();
                        tell_ready();
                        idle();
                }
        }
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: cont-tree tree N DIR | daemon DIR | forker DIR | early-exit DIR\n");
                return 2;
        }
        const char *mode = argv[1];
        dir = argv[argc - 1];
        if (pipe(ready_pipe) < 0)
                return 2;

        if (strcmp(mode, "daemon-child") == 0) {
                /* Exec'd with an empty environment: really nothing to find us by. */
                signal(SIGTERM, SIG_IGN);
                ready_pipe[1] = atoi(argv[2]);
                record();
                tell_ready();
                close(ready_pipe[1]);
                idle();
        }
        if (strcmp(mode, "tree") == 0 && argc == 4) {
                int n = atoi(argv[2]);
                record();
                tree_node(0, n);
                await(n - 1);
                idle();
        }
        if (strcmp(mode, "daemon") == 0) {
                record();
                pid_t pid = fork();
                if (pid == 0) {
                        setsid();
                        if (fork() == 0) {
                                char fd[16];
                                char *const args[] = { "cont-tree", "daemon-child", fd, (char *) dir, NULL };
                                char *const empty[] = { NULL };
                                snprintf(fd, sizeof fd, "%d", ready_pipe[1]);
                                execve("/proc/self/exe", args, empty);
                                _exit(2);
                        }
                        _exit(0);
                }
                waitpid(pid, NULL, 0);
                await(1);
                idle();
        }
        if (strcmp(mode, "forker") == 0) {
                signal(SIGTERM, SIG_IGN);
                record();
                for (int i = 0; i < FORKER_MAX; i++) {
                        pid_t pid = fork();
                        if (pid < 0)
                                break;
                        if (pid == 0) {
                                record();
                                if (i < 10)
                                        tell_ready();
                                idle();
                        }
                        if (i == 9)
                                await(10);
                        usleep(2000);
                }
                idle();
        }
        if (strcmp(mode, "early-exit") == 0) {
                record();
                if (fork() == 0) {
                        signal(SIGTERM, SIG_IGN);
                        record();
                        tell_ready();
                        idle();
                }
                await(1);
                return 0;
        }
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
}

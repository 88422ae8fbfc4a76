/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor: starting and stopping the same binary with no supervision.
 * Built apart from the library's include path (its spawn.h would shadow
 * the C library's). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor.h"

extern char **environ;

int floor_spawn(char *const *argv, const char *extra_env, int stdout_fd, pid_t *ret) {
        posix_spawn_file_actions_t fa;
        size_t n = 0;
        char **envp;
        pid_t pid;
        int r;

        while (environ[n])
                n++;
        envp = calloc(n + 2, sizeof(char *));
        if (!envp)
                return -ENOMEM;
        memcpy(envp, environ, n * sizeof(char *));
        if (extra_env)
                envp[n] = (char *) extra_env;

        posix_spawn_file_actions_init(&fa);
        if (stdout_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, stdout_fd, STDOUT_FILENO);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        free(envp);
        if (r != 0)
                return -r;
        *ret = pid;
        return 0;
}

int floor_kill_wait(pid_t pid) {
        if (kill(pid, SIGTERM) < 0)
                return -errno;
        while (waitpid(pid, NULL, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}


/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-pipe.h"
#include "cli-test.h"

pid_t pipe_spawn(const char *script) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                sigset_t none;
                (void) setpgid(0, 0);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                setenv("RUN", test_mirakuru_run(), 1);
                setenv("DIR", test_dir, 1);
                execl("/bin/sh", "sh", "-c", script, (char *) NULL);
                _exit(127);
        }
        (void) setpgid(pid, pid);
        return pid;
}

int pipe_wait_status(const char *file, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;

        for (;;) {
                char *s = test_read_file(file);
                if (s && strchr(s, '\n')) {
                        int v = atoi(s);
                        free(s);
                        return v;
                }
                free(s);
                if (test_now_usec() > end)
                        return -1;
                usleep(10000);
        }
}

void pipe_kill(pid_t pgid) {
        int status;

        (void) kill(-pgid, SIGKILL);
        (void) waitpid(pgid, &status, 0);
}

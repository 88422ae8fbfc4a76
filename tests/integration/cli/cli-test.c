/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-test.h"

extern char **environ;

const char *cli_helper;

int cli_setup(void **state) {
        cli_helper = test_helper("cli-service");
        return test_dir_setup(state);
}

int cli_teardown(void **state) {
        return test_dir_teardown(state);
}

char *cli_path_in_dir(const char *name) {
        char *p = test_path_in(test_dir, name);
        unlink(p);
        return p;
}

void cli_spawn(CliRun *r, const char *dir, const char *const *env, const char *const *args) {
        static unsigned counter;
        size_t n_args = 0, n_env = 0, n_ours = 0;

        *r = (CliRun) {};
        counter++;
        assert_true(asprintf(&r->out_path, "%s/cli-%u.out", dir, counter) > 0);
        assert_true(asprintf(&r->err_path, "%s/cli-%u.err", dir, counter) > 0);

        while (args[n_args])
                n_args++;
        while (env && env[n_env])
                n_env++;
        while (environ[n_ours])
                n_ours++;
        const char **argv = calloc(n_args + 2, sizeof(char *));
        const char **envp = calloc(n_ours + n_env + 1, sizeof(char *));
        assert_non_null(argv);
        assert_non_null(envp);
        argv[0] = test_mirakuru_run();
        memcpy(argv + 1, args, n_args * sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; i < n_ours; i++) {
                /* Entries of ENV replace ours. */
                size_t len = strcspn(environ[i], "=");
                bool replaced = false;
                for (size_t j = 0; j < n_env; j++)
                        if (strncmp(env[j], environ[i], len) == 0 && env[j][len] == '=')
                                replaced = true;
                if (!replaced)
                        envp[k++] = environ[i];
        }
        for (size_t j = 0; j < n_env; j++)
                envp[k++] = env[j];

        r->pid = fork();
        assert_true(r->pid >= 0);
        if (r->pid == 0) {
                int out = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int err = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                sigset_t none;
                if (out < 0 || err < 0 || null < 0)
                        _exit(200);
                if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                        _exit(201);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execve(argv[0], (char *const *) argv, (char *const *) envp);
                _exit(202);
        }
        free(argv);
        free(envp);
}

int cli_wait(CliRun *r) {
        uint64_t end = test_now_usec() + CLI_TIMEOUT_USEC;
        int status;
        pid_t p;

        for (;;) {
                p = waitpid(r->pid, &status, WNOHANG);
                if (p == r->pid)
                        break;
                assert_true(p == 0);
                if (test_now_usec() > end) {
                        /* For whoever reads the log: what it printed, and
                         * its signal masks (an ignored or blocked signal
                         * explains a run that did not stop). */
                        char status_path[64], *text, *err = test_read_file(r->err_path);
                        snprintf(status_path, sizeof status_path, "/proc/%d/status", (int) r->pid);
                        text = test_read_file(status_path);
                        fprintf(stderr, "# mirakuru-run's stderr so far:\n%s\n", err ?: "(unreadable)");
                        for (char *l = text ? strtok(text, "\n") : NULL; l; l = strtok(NULL, "\n"))
                                if (strncmp(l, "Sig", 3) == 0 || strncmp(l, "State", 5) == 0)
                                        fprintf(stderr, "# %s\n", l);
                        free(err);
                        free(text);
                        kill(r->pid, SIGKILL);
                        waitpid(r->pid, &status, 0);
                        fail_msg("mirakuru-run did not end within %llu s",
                                 (unsigned long long) (CLI_TIMEOUT_USEC / 1000000));
                }
                usleep(5000);
        }
        r->pid = 0;
        r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r->out = test_read_file(r->out_path);
        r->err = test_read_file(r->err_path);
        assert_non_null(r->out);
        assert_non_null(r->err);
        return r->status;
}

int cli_run(CliRun *r, const char *dir, const char *const *env, const char *const *args) {
        cli_spawn(r, dir, env, args);
        return cli_wait(r);
}

bool cli_wait_text(const char *path, const char *text, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;

        for (;;) {
                char *s = test_read_file(path);
                bool found = s && strstr(s, text);
                free(s);
                if (found)
                        return true;
                if (test_now_usec() > end)
                        return false;
                usleep(5000);
        }
}

unsigned cli_count_lines(const char *s) {
        unsigned n = 0;

        for (; s && *s; s++)
                n += *s == '\n';
        return n;
}

void cli_run_done(CliRun *r) {
        if (r->pid > 0) {
                kill(r->pid, SIGKILL);
                waitpid(r->pid, NULL, 0);
        }
        free(r->out_path);
        free(r->err_path);
        free(r->out);
        free(r->err);
        *r = (CliRun) {};
}

uint16_t cli_free_port(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

pid_t cli_pid_from(const char *file) {
        char *s;
        pid_t pid;

        assert_true(test_wait_file(file, 30 * UINT64_C(1000000)));
        /* The shell makes the file (the redirection) before echo writes it. */
        for (int i = 0; i < 3000; i++) {
                s = test_read_file(file);
                assert_non_null(s);
                pid = (pid_t) atoi(s);
                free(s);
                if (pid > 0)
                        return pid;
                usleep(10 * 1000);
        }
        fail_msg("%s holds no pid", file);
        return 0;
}

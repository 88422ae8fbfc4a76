/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The minimal mirakuru-run: exit statuses (the service's, 128+N for a
 * signal, 127 not found, 126 not executable) and teardown on SIGTERM. */
#include <fcntl.h>
#include <poll.h>

#include "core-test.h"

/* Starts mirakuru-run with OPTS (may be NULL) and ARGS (NULL-terminated)
 * after "--"; returns its pid. */
static pid_t spawn_run_full(const char *const *opts, const char *const *args, int stdout_fd, int stderr_fd) {
        const char *argv[MAX_ARGS];
        size_t n = 0;
        pid_t pid;

        argv[n++] = test_mirakuru_run();
        for (const char *const *o = opts; o && *o && n < MAX_ARGS - 2; o++)
                argv[n++] = *o;
        argv[n++] = "--";
        for (const char *const *a = args; *a && n < MAX_ARGS - 1; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        /* (spawn.h is shadowed by the library's own; fork and exec by hand) */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0)
                        _exit(120);
                if (stderr_fd >= 0 && dup2(stderr_fd, STDERR_FILENO) < 0)
                        _exit(120);
                execv(argv[0], (char *const *) argv);
                _exit(121);
        }
        return pid;
}

static pid_t spawn_run(const char *const *args, int stdout_fd) {
        return spawn_run_full(NULL, args, stdout_fd, -1);
}

/* Reads FD (mirakuru-run's stderr) until it says the service is ready: a
 * signal before that would cancel the start instead (exit 128+N). */
static void wait_until_ready(int fd) {
        char buf[4096];
        size_t n = 0;

        while (n < sizeof buf - 1) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                assert_int_equal(poll(&pfd, 1, (int) (WAIT_USEC / 1000)), 1);
                ssize_t k = read(fd, buf + n, sizeof buf - 1 - n);
                assert_true(k > 0);
                n += (size_t) k;
                buf[n] = '\0';
                if (strstr(buf, " is ready"))
                        return;
        }
        fail();
}

/* The exit status of mirakuru-run, as a shell would see it. */
static int wait_status(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        assert_true(WIFSIGNALED(status));
        return 128 + WTERMSIG(status);
}

static int run(const char *const *args) {
        return wait_status(spawn_run(args, -1));
}

static void test_exit_statuses(void **state) {
        assert_int_equal(run((const char *[]) { "true", NULL }), 0);
        assert_int_equal(run((const char *[]) { "false", NULL }), 1);
        assert_int_equal(run((const char *[]) { "sh", "-c", "exit 3", NULL }), 3);
        assert_int_equal(run((const char *[]) { "sh", "-c", "kill -9 $$", NULL }), 128 + 9);
        assert_int_equal(run((const char *[]) { "sh", "-c", "kill -USR1 $$", NULL }), 128 + SIGUSR1);
}

static void test_exec_failures(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *file = NULL;

        assert_int_equal(run((const char *[]) { "/nonexistent/mirakuru-nothing", NULL }), 127);
        assert_int_equal(run((const char *[]) { "mirakuru-no-such-command", NULL }), 127);
        assert_true(asprintf(&file, "%s/not-executable", dir) > 0);
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(run((const char *[]) { file, NULL }), 126);
        test_rm_rf(dir);
}

static void test_output_forwarded(void **state) {
        int p[2];
        char buf[256];
        size_t n = 0;
        ssize_t k;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = spawn_run((const char *[]) { "sh", "-c", "echo forwarded; echo to-stderr >&2", NULL }, p[1]);
        close(p[1]);
        while ((k = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
                n += (size_t) k;
        buf[n] = '\0';
        close(p[0]);
        assert_int_equal(wait_status(pid), 0);
        assert_string_equal(buf, "forwarded\n");
}

static void check_teardown_on_signal(int signo) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *pidfile = NULL, *helper = (char *) test_helper("core-service");

        assert_true(asprintf(&pidfile, "%s/service.pid", dir) > 0);
        int err[2];
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        pid_t run_pid = spawn_run_full((const char *[]) { "--verbose", NULL },
                                       (const char *[]) { helper, "pidfile", pidfile, "pause", NULL }, -1, err[1]);
        close(err[1]);
        wait_until_ready(err[0]);
        assert_true(test_wait_file(pidfile, WAIT_USEC));
        pid_t service_pid = test_read_pid_file(pidfile);
        assert_true(service_pid > 0);
        assert_true(test_pid_alive(service_pid));

        assert_int_equal(kill(run_pid, signo), 0);
        /* asked to stop, and the service stopped cleanly: success */
        assert_int_equal(wait_status(run_pid), 0);
        /* mirakuru-run reaped its child before exiting: gone, not a zombie */
        assert_int_equal(kill(service_pid, 0), -1);
        assert_int_equal(errno, ESRCH);
        close(err[0]);
        test_rm_rf(dir);
}

static void test_sigterm_tears_down(void **state) {
        check_teardown_on_signal(SIGTERM);
}

static void test_sigint_tears_down(void **state) {
        check_teardown_on_signal(SIGINT);
}

/* A service that ignores SIGTERM is killed after the stop timeout. */
static void test_sigterm_with_stubborn_service(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *pidfile = NULL, *helper = (char *) test_helper("core-service");

        assert_true(asprintf(&pidfile, "%s/service.pid", dir) > 0);
        pid_t run_pid = spawn_run((const char *[]) { helper, "ignore", "15", "pidfile", pidfile, "pause", NULL }, -1);
        assert_true(test_wait_file(pidfile, WAIT_USEC));
        pid_t service_pid = test_read_pid_file(pidfile);
        assert_int_equal(kill(run_pid, SIGTERM), 0);
        /* The default stop timeout is 10 s; an upper bound of 60 s is generous. */
        int status = wait_status(run_pid);
        fprintf(stderr, "# mirakuru-run exited %d\n", status);
        assert_int_equal(kill(service_pid, 0), -1);
        assert_int_equal(errno, ESRCH);
        test_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_statuses),
                cmocka_unit_test(test_exec_failures),
                cmocka_unit_test(test_output_forwarded),
                cmocka_unit_test(test_sigterm_tears_down),
                cmocka_unit_test(test_sigint_tears_down),
                cmocka_unit_test(test_sigterm_with_stubborn_service),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

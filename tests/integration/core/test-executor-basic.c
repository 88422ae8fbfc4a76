/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running a command: exit codes, signals, exec failures, environment,
 * working directory, the three ways to give a command, and what the child
 * inherits (fds, signal dispositions and mask, session). */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "core-test.h"

/* Starts E, waits for the main process to exit, and returns stop's result. */
static int run_to_exit(MkExecutor *e, MkExit *ret_exit) {
        int r = mk_executor_start(e);
        if (r != 0)
                fprintf(stderr, "start: %s (%s)\n", strerror(-r), mk_executor_get_error(e) ?: "");
        assert_int_equal(r, 0);
        assert_int_equal(mk_executor_wait(e, WAIT_USEC), 0);
        assert_false(mk_executor_is_running(e));
        r = mk_executor_stop(e);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_IDLE);
        assert_int_equal(mk_executor_get_exit(e, ret_exit), 0);
        return r;
}

static void test_exit_zero(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("exit", "0", NULL);
        MkExit x;

        assert_int_equal(mk_executor_get_exit(e, &x), -ENODATA);
        assert_int_equal(run_to_exit(e, &x), 0);
        assert_int_equal(x.code, CLD_EXITED);
        assert_int_equal(x.status, 0);
        assert_true(x.clean);
        assert_int_equal(mk_exit_to_status(&x), 0);
        assert_null(mk_executor_get_error(e));
}

static void test_exit_nonzero(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("exit", "3", NULL);
        MkExit x;

        /* With no probes the service is ready once executed: an exit after
         * that is reported by stop, not by start. */
        assert_int_equal(run_to_exit(e, &x), -ECHILD);
        assert_int_equal(x.code, CLD_EXITED);
        assert_int_equal(x.status, 3);
        assert_false(x.clean);
        assert_int_equal(mk_exit_to_status(&x), 3);
}

/* However quickly it exits, a command that was executed is ready when there
 * are no probes: the exit is never a start failure (no race between the
 * exec confirmation and the exit). */
static void test_quick_exit_is_not_a_start_failure(void **state) {
        for (int i = 0; i < 50; i++) {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("exit", "7", NULL);
                MkExit x;
                assert_int_equal(run_to_exit(e, &x), -ECHILD);
                assert_int_equal(x.status, 7);
        }
}

static void test_exit_expected(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("exit", "3", NULL);
        MkExit x;

        assert_int_equal(mk_executor_set_expected_exit(e, 3), 0);
        assert_int_equal(run_to_exit(e, &x), 0);
        assert_int_equal(x.status, 3);
        assert_true(x.clean);
        assert_int_equal(mk_executor_set_expected_exit(e, 256), -EINVAL);
        assert_int_equal(mk_executor_set_expected_exit(e, -2), -EINVAL);
}

static void test_killed_by_signal(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("raise", "9", NULL);
        MkExit x;

        assert_int_equal(run_to_exit(e, &x), -ECHILD);
        assert_int_equal(x.code, CLD_KILLED);
        assert_int_equal(x.status, SIGKILL);
        assert_false(x.clean);
        assert_int_equal(mk_exit_to_status(&x), 128 + SIGKILL);
}

static void test_killed_by_stop_signal_is_clean(void **state) {
        MkExit x;
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("raise", "15", NULL);
                assert_int_equal(run_to_exit(e, &x), 0);
                assert_int_equal(x.code, CLD_KILLED);
                assert_int_equal(x.status, SIGTERM);
                assert_true(x.clean);
                assert_int_equal(mk_exit_to_status(&x), 143);
        }
        {
                /* Another stop signal: SIGTERM is no longer clean, SIGINT is. */
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("raise", "15", NULL);
                assert_int_equal(mk_executor_set_stop_signal(e, SIGINT), 0);
                assert_int_equal(run_to_exit(e, &x), -ECHILD);
                assert_false(x.clean);
        }
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("raise", "2", NULL);
                assert_int_equal(mk_executor_set_stop_signal(e, SIGINT), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                assert_true(x.clean);
                assert_int_equal(x.status, SIGINT);
        }
}

/* Exec failures come back from start itself, with both spawn paths. */
static void check_exec_failures(void) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *script = NULL;
        int fd;

        {
                const char *argv[] = { "/nonexistent/mirakuru-no-such-program", NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_start(e), -ENOENT);
                assert_int_equal(mk_executor_get_state(e), MK_STATE_IDLE);
                assert_false(mk_executor_is_running(e));
                assert_contains(mk_executor_get_error(e), "mirakuru-no-such-program");
                /* Nothing runs, so nothing to stop; and it can be tried again. */
                assert_int_equal(mk_executor_stop(e), 0);
                assert_int_equal(mk_executor_start(e), -ENOENT);
        }
        {
                /* Looked up in PATH. */
                const char *argv[] = { "mirakuru-no-such-program-in-path", NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_start(e), -ENOENT);
        }
        {
                /* A file without the execute bit. */
                assert_true(asprintf(&script, "%s/not-executable", dir) > 0);
                fd = open(script, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
                close(fd);
                const char *argv[] = { script, NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                /* Even root needs an x bit for execve(). */
                assert_int_equal(mk_executor_start(e), -EACCES);
                assert_int_equal(mk_executor_get_state(e), MK_STATE_IDLE);
        }
        {
                /* Executable, but not a format the kernel knows (no #! line). */
                _cleanup_free_ char *garbage = NULL;
                assert_true(asprintf(&garbage, "%s/garbage", dir) > 0);
                fd = open(garbage, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "\x7f\x01\x02garbage", 10), 10);
                close(fd);
                const char *argv[] = { garbage, NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_start(e), -ENOEXEC);
        }
        {
                /* A directory. */
                const char *argv[] = { dir, NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_start(e), -EACCES);
        }
        {
                /* A working directory that does not exist. */
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("cwd", NULL);
                _cleanup_free_ char *missing = NULL;
                assert_true(asprintf(&missing, "%s/missing", dir) > 0);
                assert_int_equal(mk_executor_set_cwd(e, missing), 0);
                assert_int_equal(mk_executor_start(e), -ENOENT);
        }
        test_rm_rf(dir);
}

/* The default spawn path (vfork-style where no placement waits for the pid). */
static void test_exec_failures_default(void **state) {
        unsetenv("MIRAKURU_SPAWN");
        check_exec_failures();
}

/* The gated clone3 path. */
static void test_exec_failures_clone3(void **state) {
        setenv("MIRAKURU_SPAWN", "clone3", 1);
        check_exec_failures();
        unsetenv("MIRAKURU_SPAWN");
}

static void test_exec_failures_fork(void **state) {
        setenv("MIRAKURU_SPAWN", "fork", 1);
        check_exec_failures();
        /* The fork path also runs programs. */
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("out", "forked", NULL);
        MkExit x;
        assert_int_equal(run_to_exit(e, &x), 0);
        _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
        assert_string_equal(out, "forked\n");
        unsetenv("MIRAKURU_SPAWN");
}

static void test_environment(void **state) {
        MkExit x;

        setenv("MK_TEST_FROM_PARENT", "parent-value", 1);
        setenv("MK_TEST_REMOVED", "should-not-be-seen", 1);
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e =
                        service("env", "MK_TEST_FROM_PARENT", "env", "MK_TEST_REMOVED", "env",
                                "MK_TEST_SET", "env", "MK_TEST_SET_THEN_UNSET", "env",
                                "MK_TEST_UNSET_THEN_SET", "env", "MK_TEST_EQ", NULL);
                assert_int_equal(mk_executor_set_env(e, "MK_TEST_SET", "a b c"), 0);
                assert_int_equal(mk_executor_set_env(e, "MK_TEST_SET", "override"), 0);
                assert_int_equal(mk_executor_unset_env(e, "MK_TEST_REMOVED"), 0);
                assert_int_equal(mk_executor_set_env(e, "MK_TEST_SET_THEN_UNSET", "x"), 0);
                assert_int_equal(mk_executor_set_env(e, "MK_TEST_SET_THEN_UNSET", NULL), 0);
                assert_int_equal(mk_executor_unset_env(e, "MK_TEST_UNSET_THEN_SET"), 0);
                assert_int_equal(mk_executor_set_env(e, "MK_TEST_UNSET_THEN_SET", "back"), 0);
                assert_int_equal(mk_executor_set_env(e, "MK_TEST_EQ", "a=b"), 0);
                assert_int_equal(mk_executor_set_env(e, "", "x"), -EINVAL);
                assert_int_equal(mk_executor_set_env(e, "A=B", "x"), -EINVAL);
                assert_int_equal(mk_executor_unset_env(e, NULL), -EINVAL);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "MK_TEST_FROM_PARENT=parent-value\n"
                                         "MK_TEST_REMOVED unset\n"
                                         "MK_TEST_SET=override\n"
                                         "MK_TEST_SET_THEN_UNSET unset\n"
                                         "MK_TEST_UNSET_THEN_SET=back\n"
                                         "MK_TEST_EQ=a=b\n");
        }
        {
                /* The environment is the caller's as at start, not at creation. */
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("env", "MK_TEST_LATE", NULL);
                setenv("MK_TEST_LATE", "late", 1);
                assert_int_equal(run_to_exit(e, &x), 0);
                unsetenv("MK_TEST_LATE");
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "MK_TEST_LATE=late\n");
        }
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e =
                        service("envcount", "env", "MK_TEST_FROM_PARENT", "env", "ONLY", NULL);
                assert_int_equal(mk_executor_set_clean_env(e, true), 0);
                assert_int_equal(mk_executor_set_env(e, "ONLY", "this"), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "envcount: 1\nMK_TEST_FROM_PARENT unset\nONLY=this\n");
        }
        {
                /* A clean environment still finds the command through the caller's PATH... */
                const char *argv[] = { "sh", "-c", "echo \"[${MK_TEST_FROM_PARENT-none}]\"", NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_set_clean_env(e, true), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "[none]\n");
        }
        {
                /* ... or through the PATH given to the service. */
                const char *argv[] = { "core-service", "env", "PATH", NULL };
                _cleanup_free_ char *helper = (char *) test_helper("core-service");
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                *strrchr(helper, '/') = '\0';
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_set_clean_env(e, true), 0);
                assert_int_equal(mk_executor_set_env(e, "PATH", helper), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                _cleanup_free_ char *want = NULL;
                assert_true(asprintf(&want, "PATH=%s\n", helper) > 0);
                assert_string_equal(out, want);
                assert_string_equal(mk_executor_get_name(e), "core-service");
        }
        unsetenv("MK_TEST_FROM_PARENT");
        unsetenv("MK_TEST_REMOVED");
}

static void test_cwd(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        char real[PATH_MAX], here[PATH_MAX];
        MkExit x;

        assert_non_null(realpath(dir, real));
        assert_non_null(getcwd(here, sizeof here));
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("cwd", NULL);
                assert_int_equal(mk_executor_set_cwd(e, dir), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                _cleanup_free_ char *want = NULL;
                assert_true(asprintf(&want, "cwd: %s\n", real) > 0);
                assert_string_equal(out, want);
        }
        {
                /* NULL: the caller's. */
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("cwd", NULL);
                assert_int_equal(mk_executor_set_cwd(e, dir), 0);
                assert_int_equal(mk_executor_set_cwd(e, NULL), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                _cleanup_free_ char *want = NULL;
                assert_true(asprintf(&want, "cwd: %s\n", here) > 0);
                assert_string_equal(out, want);
        }
        test_rm_rf(dir);
}

static void test_command_line(void **state) {
        _cleanup_free_ char *helper = (char *) test_helper("core-service");
        _cleanup_free_ char *line = NULL;
        MkExit x;

        assert_true(asprintf(&line, "'%s' args 'single  quoted' \"double \\\"q\\\"\" back\\ slash "
                                    " plain\t'' \"$HOME\"",
                             helper) > 0);
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_command_line(e, line), 0);
        assert_string_equal(mk_executor_get_name(e), "core-service");
        assert_int_equal(run_to_exit(e, &x), 0);
        _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
        assert_string_equal(out, "arg: single  quoted\n"
                                 "arg: double \"q\"\n"
                                 "arg: back slash\n"
                                 "arg: plain\n"
                                 "arg: \n"
                                 "arg: $HOME\n");

        assert_int_equal(mk_executor_set_command_line(e, "'unbalanced"), -EINVAL);
        assert_int_equal(mk_executor_set_command_line(e, "\"unbalanced"), -EINVAL);
        assert_int_equal(mk_executor_set_command_line(e, "   "), -EINVAL);
        assert_int_equal(mk_executor_set_command_line(e, ""), -EINVAL);
        assert_int_equal(mk_executor_set_command_line(e, "trailing\\"), -EINVAL);
        /* A failed call leaves the command as it was. */
        assert_string_equal(mk_executor_get_name(e), "core-service");
}

static void test_argv(void **state) {
        const char *empty[] = { NULL };
        const char *empty_word[] = { "", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;

        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_start(e), -EINVAL); /* no command */
        assert_int_equal(mk_executor_set_argv(e, empty), -EINVAL);
        assert_int_equal(mk_executor_set_argv(e, empty_word), -EINVAL);
        assert_int_equal(mk_executor_set_argv(e, NULL), -EINVAL);
        assert_int_equal(mk_executor_stop(e), -ESRCH);
        assert_int_equal(mk_executor_wait(e, 0), -ESRCH);
        assert_int_equal(mk_executor_kill(e, 0, false), -ESRCH);
}

static void test_shell_mode(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        MkExit x;

        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, "echo $((1 + 2)) \"$0\"; echo err >&2; exit 5"), 0);
        assert_string_equal(mk_executor_get_name(e), "sh");
        assert_int_equal(run_to_exit(e, &x), -ECHILD);
        assert_int_equal(x.status, 5);
        _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
        _cleanup_free_ char *err = output_of(e, MK_STREAM_STDERR);
        assert_string_equal(out, "3 /bin/sh\n");
        assert_string_equal(err, "err\n");
        assert_int_equal(mk_executor_set_shell_command(e, ""), -EINVAL);
}

static void test_no_fd_leak(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        MkExit x;

        /* fds this process holds without close-on-exec must not reach the child. */
        int leaky = open("/dev/null", O_RDONLY); /* deliberately no O_CLOEXEC */
        assert_true(leaky >= 0);
        int high = dup2(leaky, 200);
        assert_int_equal(high, 200);
        int p[2];
        assert_int_equal(pipe(p), 0);
        static const char *const modes[] = { NULL, "clone3", "fork" };
        for (size_t m = 0; m < 3; m++) {
                if (modes[m])
                        setenv("MIRAKURU_SPAWN", modes[m], 1);
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("fds", NULL);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "fds: 0 1 2\n");
                unsetenv("MIRAKURU_SPAWN");
        }
        {
                /* With a stdin of ours, a tee, and the fork path. */
                setenv("MIRAKURU_SPAWN", "fork", 1);
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("fds", NULL);
                _cleanup_free_ char *file = NULL;
                assert_true(asprintf(&file, "%s/out", dir) > 0);
                assert_int_equal(mk_executor_set_stdin_fd(e, p[0]), 0);
                assert_int_equal(mk_executor_set_output_file(e, MK_STREAM_BOTH, file), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "fds: 0 1 2\n");
                unsetenv("MIRAKURU_SPAWN");
        }
        close(leaky);
        close(high);
        close(p[0]);
        close(p[1]);
        test_rm_rf(dir);
}

/* The caller's fds 0-2 may be closed: the pipes then get those numbers in
 * the parent, and the child must still end up with the right 0, 1 and 2. */
static void test_caller_without_stdio(void **state) {
        int saved[3];
        int start_r, stop_r = 0;
        char *out = NULL, *err = NULL;

        for (int i = 0; i < 3; i++) {
                saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
                assert_true(saved[i] >= 0);
        }
        MkExecutor *e = service("fds", "err", "on-stderr", NULL);
        for (int i = 0; i < 3; i++)
                close(i);
        /* no asserts (they print) until stdio is back */
        start_r = mk_executor_start(e);
        if (start_r == 0) {
                (void) mk_executor_wait(e, WAIT_USEC);
                stop_r = mk_executor_stop(e);
                (void) mk_executor_get_output(e, MK_STREAM_STDOUT, &out, NULL);
                (void) mk_executor_get_output(e, MK_STREAM_STDERR, &err, NULL);
        }
        for (int i = 0; i < 3; i++) {
                assert_int_equal(dup2(saved[i], i), i);
                close(saved[i]);
        }
        mk_executor_unref(e);
        assert_int_equal(start_r, 0);
        assert_int_equal(stop_r, 0);
        assert_string_equal(out, "fds: 0 1 2\n");
        assert_string_equal(err, "on-stderr\n");
        free(out);
        free(err);
}

static void test_child_signal_state(void **state) {
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_term, old_usr2;
        sigset_t block, old_mask;
        MkExit x;

        /* The parent ignores and blocks signals; the child must not inherit that. */
        assert_int_equal(sigaction(SIGTERM, &ign, &old_term), 0);
        assert_int_equal(sigaction(SIGUSR2, &ign, &old_usr2), 0);
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigaddset(&block, SIGHUP);
        assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old_mask), 0);

        /* every spawn path: the default, gated clone3, the fork-like clone(CLONE_PIDFD) */
        static const char *const modes[] = { NULL, "clone3", "fork" };
        for (size_t m = 0; m < 3; m++) {
                if (modes[m])
                        setenv("MIRAKURU_SPAWN", modes[m], 1);
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service("status", NULL);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_contains(out, "session-leader: yes\n");
                assert_contains(out, "group-leader: yes\n");
                assert_contains(out, "SigIgn:\t0000000000000000\n");
                assert_contains(out, "SigBlk:\t0000000000000000\n");
                unsetenv("MIRAKURU_SPAWN");
        }

        assert_int_equal(sigprocmask(SIG_SETMASK, &old_mask, NULL), 0);
        assert_int_equal(sigaction(SIGTERM, &old_term, NULL), 0);
        assert_int_equal(sigaction(SIGUSR2, &old_usr2, NULL), 0);
}

static void test_stdin(void **state) {
        MkExit x;
        {
                /* default: /dev/null, so a reader sees EOF at once */
                const char *argv[] = { "/bin/sh", "-c", "cat; echo \"[eof]\"", NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "[eof]\n");
        }
        {
                int p[2];
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                const char *argv[] = { "/bin/sh", "-c", "cat; echo \"[eof]\"", NULL };
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                assert_int_equal(mk_executor_new(&e), 0);
                assert_int_equal(mk_executor_set_argv(e, argv), 0);
                assert_int_equal(mk_executor_set_stdin_fd(e, p[0]), 0);
                close(p[0]);
                assert_int_equal(write(p[1], "given\n", 6), 6);
                close(p[1]);
                assert_int_equal(run_to_exit(e, &x), 0);
                _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
                assert_string_equal(out, "given\n[eof]\n");
        }
}

static void test_config_while_running(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service("pause", NULL);

        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);
        assert_true(mk_executor_is_running(e));
        assert_true(mk_executor_get_pid(e) > 0);
        assert_true(mk_executor_get_pidfd(e) >= 0);
        assert_int_equal(mk_executor_start(e), -EBUSY);
        assert_int_equal(mk_executor_set_env(e, "A", "B"), -EBUSY);
        assert_int_equal(mk_executor_set_cwd(e, "/"), -EBUSY);
        assert_int_equal(mk_executor_set_command_line(e, "true"), -EBUSY);
        assert_int_equal(mk_executor_set_timeout(e, 1), -EBUSY);
        assert_int_equal(mk_executor_get_exit(e, &(MkExit) {}), -ENODATA);
        assert_int_equal(mk_executor_stop(e), 0);
        assert_int_equal(mk_executor_get_pid(e), 0);
        assert_int_equal(mk_executor_get_pidfd(e), -EBADF);
        assert_int_equal(mk_executor_set_env(e, "A", "B"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_zero),
                cmocka_unit_test(test_exit_nonzero),
                cmocka_unit_test(test_quick_exit_is_not_a_start_failure),
                cmocka_unit_test(test_exit_expected),
                cmocka_unit_test(test_killed_by_signal),
                cmocka_unit_test(test_killed_by_stop_signal_is_clean),
                cmocka_unit_test(test_exec_failures_default),
                cmocka_unit_test(test_exec_failures_clone3),
                cmocka_unit_test(test_exec_failures_fork),
                cmocka_unit_test(test_environment),
                cmocka_unit_test(test_cwd),
                cmocka_unit_test(test_command_line),
                cmocka_unit_test(test_argv),
                cmocka_unit_test(test_shell_mode),
                cmocka_unit_test(test_no_fd_leak),
                cmocka_unit_test(test_caller_without_stdio),
                cmocka_unit_test(test_child_signal_state),
                cmocka_unit_test(test_stdin),
                cmocka_unit_test(test_config_while_running),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Outside input and secrets: the supervisor's environment (a CI token)
 * reaches a service only as documented and not at all with a clean
 * environment; --verbose names variables, never values, and hides URL
 * passwords; a command line is split, never given to a shell; files we
 * create for output are 0600 and not created through a dangling symlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault-common.h"
#include "util/macro.h"
#include "test-util.h"

#define SECRET "hunter2-do-not-print"

static char *dir;

static int setup(void **state) {
        (void) state;
        dir = test_make_temp_dir();
        assert_int_equal(setenv("MIRAKURU_TEST_TOKEN", SECRET, 1), 0);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        test_rm_rf(dir);
        free(dir);
        fault_reap();
        return 0;
}

/* Runs core-service ACTIONS through the library; returns its stdout. */
static char *service_output(bool clean, const char *const *actions) {
        const char *argv[16] = { test_helper("core-service") };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        char *out = NULL;
        size_t n = 1, size;

        for (const char *const *a = actions; *a && n < 15; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_clean_env(e, clean), 0);
        assert_int_equal(mk_executor_set_env(e, "GIVEN", "yes"), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, FAULT_WAIT_USEC), 0);
        assert_true(mk_executor_stop(e) >= 0);
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &out, &size), 0);
        free((char *) argv[0]);
        return out;
}

static void test_environment_passed_as_documented(void **state) {
        const char *actions[] = { "env", "MIRAKURU_TEST_TOKEN", "env", "GIVEN", "envcount", NULL };
        _cleanup_free_ char *inherited = NULL, *clean = NULL;
        (void) state;

        inherited = service_output(false, actions);
        fprintf(stderr, "# inherited:\n%s", inherited);
        assert_non_null(strstr(inherited, "MIRAKURU_TEST_TOKEN=" SECRET "\n")); /* documented default */
        clean = service_output(true, actions);
        fprintf(stderr, "# clean:\n%s", clean);
        assert_non_null(strstr(clean, "MIRAKURU_TEST_TOKEN unset\n"));
        assert_non_null(strstr(clean, "GIVEN=yes\n"));
        assert_non_null(strstr(clean, "envcount: 1\n"));
}

/* Runs mirakuru-run ARGS; returns its stderr; *RET_STATUS its exit status. */
static char *cli(const char *const *args, int *ret_status) {
        char err[4300];
        const char *argv[32] = { "mirakuru-run" };
        size_t n = 1;
        pid_t pid;
        int status;

        for (const char *const *a = args; *a && n < 31; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        snprintf(err, sizeof err, "%s/stderr", dir);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                execv(test_mirakuru_run(), (char **) argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        *ret_status = WEXITSTATUS(status);
        return test_read_file(err);
}

static void test_cli_clean_env_and_quiet_secrets(void **state) {
        char log[4300];
        const char *core = test_helper("core-service");
        int status;
        (void) state;

        snprintf(log, sizeof log, "%s/service.log", dir);
        const char *args[] = { "--verbose", "--clean-env", "--env", "TOKEN2=" SECRET, "--log", log,
                               "--output", "envcount", "--then", "true", "--", core, "env",
                               "MIRAKURU_TEST_TOKEN", "env", "TOKEN2", "envcount", "pause", NULL };
        _cleanup_free_ char *err = cli(args, &status);
        _cleanup_free_ char *out = test_read_file(log);
        fprintf(stderr, "# mirakuru-run said (%d):\n%s# the service printed:\n%s", status, err, out ?: "");
        assert_int_equal(status, 0);
        assert_non_null(out);
        assert_non_null(strstr(out, "MIRAKURU_TEST_TOKEN unset\n"));
        assert_non_null(strstr(out, "TOKEN2=" SECRET "\n"));
        assert_non_null(strstr(err, "TOKEN2"));
        assert_null(strstr(err, SECRET));

        /* A password in a probe URL is not shown either. */
        const char *args2[] = { "--verbose", "--timeout", "1", "--http", "http://user:" SECRET "@127.0.0.1:1/",
                                "--then", "true", "--", core, "pause", NULL };
        _cleanup_free_ char *err2 = cli(args2, &status);
        fprintf(stderr, "# mirakuru-run said (%d):\n%s", status, err2);
        assert_int_not_equal(status, 0);
        assert_non_null(strstr(err2, "http://***@127.0.0.1:1/"));
        /* Nor in the failure message (the probe's status). */
        assert_null(strstr(err2, SECRET));
        free((char *) core);
}

/* mk_executor_set_command_line() splits words; nothing reaches a shell. */
static void test_no_shell(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        char marker[4300];
        size_t size;
        (void) state;

        snprintf(marker, sizeof marker, "%s/pwned", dir);
        assert_true(asprintf(&cmd, "%s out '$(touch %s)' out \"; touch %s\" out '`touch %s`' out $HOME", fault_service(),
                             marker, marker, marker) > 0);
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_command_line(e, cmd), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, FAULT_WAIT_USEC), 0);
        assert_true(mk_executor_stop(e) >= 0);
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &out, &size), 0);
        fprintf(stderr, "# printed:\n%s", out);
        assert_non_null(strstr(out, "$(touch "));
        assert_non_null(strstr(out, "`touch"));
        assert_non_null(strstr(out, "$HOME\n")); /* no variables either */
        assert_int_equal(access(marker, F_OK), -1);
}

/* The output file is created 0600 whatever the umask. */
static void test_output_file_private(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        const char *argv[] = { fault_service(), "out", "hello", NULL };
        char log[4300];
        struct stat st;
        mode_t old = umask(0);
        (void) state;

        snprintf(log, sizeof log, "%s/out.log", dir);
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_output_file(e, MK_STREAM_BOTH, log), 0);
        umask(old);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait(e, FAULT_WAIT_USEC), 0);
        assert_true(mk_executor_stop(e) >= 0);
        assert_int_equal(lstat(log, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0600);
}

/* A password in an --http URL that is refused is not printed either (F6),
 * by the CLI's own checks or by the library's. */
static void test_refused_url_password_not_shown(void **state) {
        static const char *const urls[] = {
                "http://bob:" SECRET "@/x",          /* the library: no host */
                "http://bob:" SECRET "@[::1/x",      /* the library: bad IPv6 address */
                "http://bob:" SECRET "@ho st/",      /* the CLI: blanks */
                "ftp://bob:" SECRET "@host/",        /* the CLI: scheme */
                "bob:" SECRET "@host/x",             /* the CLI: no scheme */
        };
        (void) state;

        for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
                const char *args[] = { "--http", urls[i], "--", "true", NULL };
                int status;
                _cleanup_free_ char *err = cli(args, &status);
                fprintf(stderr, "# %s -> %d: %s", urls[i], status, err);
                assert_int_equal(status, 2);
                assert_non_null(strstr(err, "URL"));
                assert_null(strstr(err, SECRET));
        }
        /* And in a compose file: the CLI's check, then the library's. */
        static const char *const bad_urls[] = { "http://bob:" SECRET "@ho st/", "http://bob:" SECRET "@/x" };
        for (size_t i = 0; i < 2; i++) {
                char yaml[4300], err[4300];
                snprintf(yaml, sizeof yaml, "%s/services.yaml", dir);
                snprintf(err, sizeof err, "%s/stderr", dir);
                FILE *f = fopen(yaml, "we");
                assert_non_null(f);
                fprintf(f, "processes:\n  web:\n    command: true\n    http: '%s'\n", bad_urls[i]);
                fclose(f);
                const char *args[] = { "-f", yaml, NULL };
                int status = fault_run_cli(args, err, NULL, 20 * MK_USEC_PER_SEC, NULL, NULL);
                _cleanup_free_ char *text = test_read_file(err);
                fprintf(stderr, "# compose -> %d: %s", status, text ?: "");
                assert_int_equal(status, 2);
                assert_non_null(strstr(text, "URL"));
                assert_null(strstr(text, SECRET));
        }
}

/* A refused regex is not echoed back whole (it was: 120 KB on stderr), by
 * the CLI's check, by the library (compose), or in the status of one that
 * was accepted but long. */
static void test_refused_regex_not_echoed(void **state) {
        size_t len = 120 * 1024;
        _cleanup_free_ char *huge = malloc(len + 1);
        int status;
        (void) state;

        assert_non_null(huge);
        for (size_t i = 0; i < len; i += 3)
                memcpy(huge + i, "a++", 3);
        huge[len] = '\0';
        const char *args[] = { "--output", huge, "--", "true", NULL };
        _cleanup_free_ char *err = cli(args, &status);
        fprintf(stderr, "# --output of 120 KB -> %d, %zu bytes: %s", status, strlen(err), err);
        assert_int_equal(status, 2);
        assert_true(strlen(err) < 1024);
        assert_non_null(strstr(err, "..."));

        /* The library's own message (compose's output: goes through it). */
        char yaml[4300], errf[4300];
        snprintf(yaml, sizeof yaml, "%s/services.yaml", dir);
        snprintf(errf, sizeof errf, "%s/stderr-compose", dir);
        FILE *f = fopen(yaml, "we");
        assert_non_null(f);
        fprintf(f, "processes:\n  web:\n    command: 'true'\n    output: '%s'\n", huge);
        fclose(f);
        const char *cargs[] = { "-f", yaml, NULL };
        status = fault_run_cli(cargs, errf, NULL, 20 * MK_USEC_PER_SEC, NULL, NULL);
        _cleanup_free_ char *text = test_read_file(errf);
        fprintf(stderr, "# compose output of 120 KB -> %d, %zu bytes: %s", status, strlen(text ?: ""), text ?: "");
        assert_int_equal(status, 2);
        assert_true(strlen(text) < 1024);

        /* An accepted 1.5 KB pattern: the timeout's status shows 80 bytes of it. */
        char pattern[1501];
        memset(pattern, 'x', 1500);
        pattern[1500] = '\0';
        const char *targs[] = { "--timeout", "0.3", "--output", pattern, "--", "sleep", "5", NULL };
        _cleanup_free_ char *terr = cli(targs, &status);
        fprintf(stderr, "# accepted 1.5 KB pattern, timeout -> %d, %zu bytes: %s", status, strlen(terr), terr);
        assert_int_equal(status, 124);
        assert_true(strlen(terr) < 1024);
}

/* Files the user names are opened without blocking and refused unless
 * they are a regular file (or a terminal, or /dev/null, for --log) (F5):
 * a FIFO without a reader used to hold mirakuru-run in open() for ever,
 * with SIGTERM blocked. */
static void test_log_and_compose_fifo_refused(void **state) {
        char fifo[4300], err[4300];
        (void) state;

        snprintf(fifo, sizeof fifo, "%s/fifo", dir);
        snprintf(err, sizeof err, "%s/stderr", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        for (int with_reader = 0; with_reader < 2; with_reader++) {
                int reader = with_reader ? open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
                const char *args[] = { "--log", fifo, "--", "true", NULL };
                uint64_t t0 = test_now_usec();
                int status = fault_run_cli(args, err, NULL, 10 * MK_USEC_PER_SEC, NULL, NULL);
                _cleanup_free_ char *text = test_read_file(err);
                fprintf(stderr, "# --log FIFO (%s reader) -> %d after %llu us: %s", with_reader ? "a" : "no",
                        status, (unsigned long long) (test_now_usec() - t0), text ?: "");
                if (reader >= 0)
                        close(reader);
                assert_int_equal(status, 2);
                assert_non_null(strstr(text, "FIFO"));
        }
        /* Other things that are no file to log to. */
        const char *dir_args[] = { "--log", dir, "--", "true", NULL };
        assert_int_equal(fault_run_cli(dir_args, err, NULL, 10 * MK_USEC_PER_SEC, NULL, NULL), 2);
        /* /dev/null is fine. */
        const char *null_args[] = { "--log", "/dev/null", "--", "true", NULL };
        assert_int_equal(fault_run_cli(null_args, err, NULL, 10 * MK_USEC_PER_SEC, NULL, NULL), 0);
        /* A compose file that is a FIFO. */
        const char *compose_args[] = { "-f", fifo, NULL };
        int status = fault_run_cli(compose_args, err, NULL, 10 * MK_USEC_PER_SEC, NULL, NULL);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# -f FIFO -> %d: %s", status, text ?: "");
        assert_int_equal(status, 2);
        assert_non_null(strstr(text, "not a regular file"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_refused_url_password_not_shown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_and_compose_fifo_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_regex_not_echoed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_environment_passed_as_documented, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_clean_env_and_quiet_secrets, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_shell, setup, teardown),
                cmocka_unit_test_setup_teardown(test_output_file_private, setup, teardown),
        };
        return cmocka_run_group_tests_name("security", tests, NULL, NULL);
}

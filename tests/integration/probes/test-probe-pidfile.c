/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pid file probe: plain and atomically renamed pid files, pids that
 * are not the service's, and paths that are not files. */
#include <sys/stat.h>

#include "probe-test.h"

static void test_pidfile_plain(void **state) {
        char *path = test_path_in(test_dir, "plain.pid");
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "100", "--pid-file", path, NULL);

        assert_int_equal(mk_executor_add_pid_file_probe(e, path, false), 0);
        assert_start(e, 0);
        assert_true(test_wait_file(path, 0));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(path);
        free(path);
}

/* Written to PATH.tmp and renamed over PATH; with the pid check. */
static void test_pidfile_renamed_check_pid(void **state) {
        char *path = test_path_in(test_dir, "renamed.pid");
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "100", "--pid-file", path, "--rename", NULL);

        assert_int_equal(mk_executor_add_pid_file_probe(e, path, true), 0);
        assert_start(e, 0);
        assert_int_equal(test_read_pid_file(path), mk_executor_get_pid(e));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(path);
        free(path);
}

/* Written in two pieces 100 ms apart: the first digit alone is not the
 * service's pid (nor a pid at all, maybe); the completed file is. */
static void test_pidfile_partial_write(void **state) {
        char *path = test_path_in(test_dir, "partial.pid");
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--pid-file", path, "--pid-split", NULL);

        assert_int_equal(mk_executor_add_pid_file_probe(e, path, true), 0);
        assert_start(e, 0);
        assert_int_equal(test_read_pid_file(path), mk_executor_get_pid(e));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(path);
        free(path);
}

/* The directory of the pid file appears only with the service. */
static void test_pidfile_directory_later(void **state) {
        char *sub = test_path_in(test_dir, "later"), *path = test_path_in(sub, "x.pid"), *cmd;

        assert_true(asprintf(&cmd, "sleep 0.1; mkdir '%s'; echo $$ > '%s'; exec sleep 60", sub, path) > 0);
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, cmd), 0);
        assert_int_equal(mk_executor_set_timeout(e, PASS_TIMEOUT_USEC), 0);
        assert_int_equal(mk_executor_add_pid_file_probe(e, path, true), 0);
        assert_start(e, 0);
        assert_int_equal(test_read_pid_file(path), mk_executor_get_pid(e));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(path);
        rmdir(sub);
        free(sub);
        free(path);
        free(cmd);
}

/* The file holds a live pid, but not one of the service (our own). */
static void test_pidfile_foreign_pid(void **state) {
        char *path = test_path_in(test_dir, "foreign.pid"), want[128];
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, "--pid-file", path, "--pid-of-parent", NULL);

        assert_int_equal(mk_executor_add_pid_file_probe(e, path, true), 0);
        assert_start(e, -ETIMEDOUT);
        snprintf(want, sizeof want, "holds pid %d, which is not a live process of the service", (int) getpid());
        assert_contains(mk_executor_get_error(e), "pid file (");
        assert_contains(mk_executor_get_error(e), want);
        mk_executor_unref(e);
        unlink(path);
        free(path);
}

/* A symbolic link is not followed, even to a valid file. */
static void test_pidfile_symlink(void **state) {
        char *path = test_path_in(test_dir, "link.pid"), *target = test_path_in(test_dir, "target");
        FILE *f = fopen(target, "we");

        assert_non_null(f);
        fprintf(f, "%d\n", (int) getpid());
        fclose(f);
        assert_int_equal(symlink(target, path), 0);
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_add_pid_file_probe(e, path, false), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "is a symbolic link; not followed");
        mk_executor_unref(e);
        unlink(path);
        unlink(target);
        free(path);
        free(target);
}

static void test_pidfile_directory(void **state) {
        char *path = test_path_in(test_dir, "dir.pid");

        assert_int_equal(mkdir(path, 0700), 0);
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_add_pid_file_probe(e, path, false), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "is a directory, not a pid file");
        mk_executor_unref(e);
        rmdir(path);
        free(path);
}

/* The service dies before writing: -ECHILD at once. */
static void test_pidfile_exit_during_probe(void **state) {
        char *path = test_path_in(test_dir, "never.pid");
        MkExecutor *e = server(60 * MK_USEC_PER_SEC, "--delay-ms", "50", "--exit", "5", NULL);
        uint64_t t0 = test_now_usec();

        assert_int_equal(mk_executor_add_pid_file_probe(e, path, true), 0);
        assert_start(e, -ECHILD);
        assert_true(test_now_usec() - t0 < 30 * MK_USEC_PER_SEC);
        mk_executor_unref(e);
        free(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pidfile_plain),
                cmocka_unit_test(test_pidfile_renamed_check_pid),
                cmocka_unit_test(test_pidfile_partial_write),
                cmocka_unit_test(test_pidfile_directory_later),
                cmocka_unit_test(test_pidfile_foreign_pid),
                cmocka_unit_test(test_pidfile_symlink),
                cmocka_unit_test(test_pidfile_directory),
                cmocka_unit_test(test_pidfile_exit_during_probe),
        };
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}

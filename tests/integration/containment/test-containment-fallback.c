/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Backend choice under MK_CONTAINMENT_AUTO: an unreachable manager falls
 * back to the cgroup backend; a read-only cgroupfs (a private mount
 * namespace with a read-only bind over the cgroup2 mount) falls back to
 * the process-group backend. Each says why, and each still leaves nothing
 * behind. Also: a stale cgroup of a dead supervisor is cleaned at start. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "cont-common.h"
#include "mirakuru.h"
#include "test-util.h"
#include "util/macro.h"

#define UNREACHABLE_BUS "unix:path=/nonexistent/mirakuru-test/private"

static const char *test_cgroup;

/* Starts a tree of 5 under AUTO and checks the choice, then stops it and
 * checks nobody survived. Returns 0 or a line number (for a forked child). */
static int run_auto(sd_event *event, const char *bus, MkContainment expected, const char *reason_needle) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        char *dir = test_make_temp_dir();
        const char *argv[] = { cont_tree(), "tree", "5", dir, NULL };
        pid_t *pids;
        size_t n;
        int r;

        if (mk_executor_new(&e) < 0 || mk_executor_set_argv(e, argv) < 0 ||
            mk_executor_set_containment(e, MK_CONTAINMENT_AUTO) < 0 ||
            (bus && mk_executor_set_bus_address(e, bus) < 0) ||
            mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT) < 0 ||
            mk_executor_set_stop_timeout(e, 300 * MK_USEC_PER_MSEC) < 0 ||
            (event && mk_executor_attach_event(e, event, 0) < 0))
                return __LINE__;
        r = mk_executor_start(e);
        if (r < 0) {
                fprintf(stderr, "start: %s\n", mk_executor_get_error(e));
                return __LINE__;
        }
        fprintf(stderr, "# chose %s: %s\n", mk_containment_to_string(mk_executor_get_containment(e)),
                mk_executor_get_containment_reason(e));
        if (mk_executor_get_containment(e) != expected)
                return __LINE__;
        if (!strstr(mk_executor_get_containment_reason(e) ?: "", reason_needle))
                return __LINE__;
        pids = cont_read_pids(dir, &n);
        if (n != 5)
                return __LINE__;
        r = mk_executor_stop(e);
        if (r < 0 && r != -ECHILD)
                return __LINE__;
        for (size_t i = 0; i < n; i++)
                if (test_pid_alive(pids[i]))
                        return __LINE__;
        free(pids);
        test_rm_rf(dir);
        free(dir);
        return 0;
}

static void test_manager_unreachable_gives_cgroup(void **state) {
        (void) state;
        /* The reason names what systemd answered. */
        assert_int_equal(run_auto(NULL, UNREACHABLE_BUS, MK_CONTAINMENT_CGROUP, "systemd"), 0);
}

/* $MIRAKURU_BUS_ADDRESS is honoured when the API sets no address. */
static void test_bus_address_from_environment(void **state) {
        (void) state;
        assert_int_equal(setenv("MIRAKURU_BUS_ADDRESS", "unix:path=/nonexistent/mirakuru-env/private", 1), 0);
        assert_int_equal(run_auto(NULL, NULL, MK_CONTAINMENT_CGROUP, "mirakuru-env"), 0);
        assert_int_equal(unsetenv("MIRAKURU_BUS_ADDRESS"), 0);
}

static void test_readonly_cgroupfs_gives_process_group(void **state) {
        char *mount_point = cont_cgroup_mount();
        pid_t pid;
        int status;
        (void) state;

        assert_non_null(mount_point);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_event *event = NULL;
                if (unshare(CLONE_NEWNS) < 0) {
                        fprintf(stderr, "SKIP: unshare(CLONE_NEWNS): %m\n");
                        _exit(EXIT_TEST_SKIP);
                }
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount(mount_point, mount_point, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, mount_point, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
                        fprintf(stderr, "SKIP: cannot make %s read-only: %m\n", mount_point);
                        _exit(EXIT_TEST_SKIP);
                }
                if (sd_event_new(&event) < 0)
                        _exit(2);
                int line = run_auto(event, UNREACHABLE_BUS, MK_CONTAINMENT_PROCESS_GROUP, "cgroup: cannot create");
                if (line)
                        fprintf(stderr, "failed at line %d\n", line);
                _exit(line ? 1 : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == EXIT_TEST_SKIP)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
        free(mount_point);
}

/* A manager that answers at setup but will not make the scope: the systemd
 * backend finds out only at place() time and falls back to a cgroup of its
 * own, saying so; nothing survives. MODE: fake-manager's mode. */
static void scope_refused(const char *mode, const char *needle) {
        _cleanup_(mk_executor_unrefp) MkExecutor *manager = NULL, *e = NULL;
        char *dir = test_make_temp_dir(), *sock, *bus, *cg;
        static const char *fake;
        pid_t *pids;
        size_t n;
        int r;

        if (!fake)
                fake = test_helper("fake-manager");
        assert_true(asprintf(&sock, "%s/private", dir) > 0);
        assert_true(asprintf(&bus, "unix:path=%s", sock) > 0);
        const char *manager_argv[] = { fake, sock, mode, NULL };
        assert_int_equal(mk_executor_new(&manager), 0);
        assert_int_equal(mk_executor_set_argv(manager, manager_argv), 0);
        assert_int_equal(mk_executor_set_containment(manager, MK_CONTAINMENT_PROCESS_GROUP), 0);
        assert_int_equal(mk_executor_add_output_probe(manager, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(manager), 0);

        const char *argv[] = { cont_tree(), "tree", "3", dir, NULL };
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_containment(e, MK_CONTAINMENT_SYSTEMD), 0);
        assert_int_equal(mk_executor_set_bus_address(e, bus), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        r = mk_executor_start(e);
        if (r < 0)
                fprintf(stderr, "start: %s\n", mk_executor_get_error(e));
        assert_int_equal(r, 0);
        fprintf(stderr, "# %s: %s\n", mk_containment_to_string(mk_executor_get_containment(e)),
                mk_executor_get_containment_reason(e));
        assert_int_equal(mk_executor_get_containment(e), MK_CONTAINMENT_CGROUP);
        assert_non_null(strstr(mk_executor_get_containment_reason(e), "refused the scope"));
        assert_non_null(strstr(mk_executor_get_containment_reason(e), needle));
        assert_non_null(mk_executor_get_cgroup(e));
        assert_true(strncmp(mk_executor_get_cgroup(e), test_cgroup, strlen(test_cgroup)) == 0);
        cg = strdup(mk_executor_get_cgroup(e));

        assert_true(mk_executor_stop(e) >= 0);
        pids = cont_read_pids(dir, &n);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++)
                assert_false(test_pid_alive(pids[i]));
        assert_true(cont_wait_gone(cg, 0));
        assert_true(mk_executor_stop(manager) >= 0);
        free(pids);
        free(cg);
        free(bus);
        free(sock);
        test_rm_rf(dir);
        free(dir);
}

static void test_scope_refused_falls_back(void **state) {
        (void) state;
        scope_refused("refuse", "fake manager: no scopes here");
}

static void test_scope_job_failed_falls_back(void **state) {
        (void) state;
        scope_refused("fail-job", "ended with \"failed\"");
}

/* mirakuru-run --verbose says which backend and why. With READ_ONLY, in a
 * private mount namespace with the cgroupfs read-only. Returns its stderr. */
static char *cli_verbose(bool read_only) {
        char *dir = test_make_temp_dir(), *log, *out;
        const char *helper = cont_tree();
        pid_t pid;
        int status;

        assert_true(asprintf(&log, "%s/stderr", dir) > 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char *mount_point = cont_cgroup_mount();
                if (read_only && (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                                  mount(mount_point, mount_point, NULL, MS_BIND, NULL) < 0 ||
                                  mount(NULL, mount_point, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0))
                        _exit(EXIT_TEST_SKIP);
                if (!freopen(log, "w", stderr)) /* kept across exec */
                        _exit(2);
                setenv("MIRAKURU_BUS_ADDRESS", UNREACHABLE_BUS, 1);
                execl(test_mirakuru_run(), "mirakuru-run", "--verbose", "--output", "^ready$", "--then", "true",
                      "--", helper, "tree", "3", dir, (char *) NULL);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_TEST_SKIP)
                return NULL;
        out = test_read_file(log);
        fprintf(stderr, "# mirakuru-run said:\n%s", out ?: "(nothing)\n");
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        size_t n;
        pid_t *pids = cont_read_pids(dir, &n);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++)
                assert_false(test_pid_alive(pids[i]));
        free(pids);
        free(log);
        test_rm_rf(dir);
        free(dir);
        return out;
}

static void test_cli_verbose_says_why(void **state) {
        char *out;
        (void) state;

        out = cli_verbose(false);
        assert_non_null(out);
        assert_non_null(strstr(out, "containment: cgroup"));
        assert_non_null(strstr(out, "systemd: no systemd manager reachable"));
        free(out);

        out = cli_verbose(true);
        if (!out)
                skip();
        assert_non_null(strstr(out, "containment: process-group"));
        assert_non_null(strstr(out, "Read-only file system"));
        free(out);
}

/* A cgroup named like ours, of a supervisor that no longer exists (a pid
 * with the wrong start time), holding a process: the next start kills it
 * and removes the cgroup. */
static void test_stale_cgroup_is_cleaned(void **state) {
        char *stale;
        pid_t victim;
        FILE *f;
        (void) state;

        /* Our own pid with start time 1: a reused pid, as after a crash. */
        assert_true(asprintf(&stale, "%s/mirakuru-%d-1-1", test_cgroup, (int) getpid()) > 0);
        assert_int_equal(mkdir(stale, 0755), 0);
        victim = fork();
        assert_true(victim >= 0);
        if (victim == 0) {
                for (;;)
                        pause();
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/cgroup.procs", stale);
        f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "%d\n", (int) victim);
        assert_int_equal(fclose(f), 0);

        assert_int_equal(run_auto(NULL, UNREACHABLE_BUS, MK_CONTAINMENT_CGROUP, "stale"), 0);
        assert_true(cont_wait_gone(stale, 0));
        int status;
        assert_int_equal(waitpid(victim, &status, 0), victim);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        free(stale);
}

/* A backend that cannot work here, asked for by name (--containment cgroup
 * as a user without a delegated cgroup: mkdir gives EACCES), is not the
 * command's fault: the start fails with -EOPNOTSUPP, not with the backend's
 * errno, which read as "the command could not be executed" (-EACCES, and
 * mirakuru-run's exit status 126) or "not found" (-ENOENT, 127). The CLI
 * exits 125 (mirakuru-run failed). Run as nobody when we are root. */
static void test_refused_backend_is_not_an_exec_error(void **state) {
        const char *cli = test_mirakuru_run();
        pid_t pid;
        int status;
        (void) state;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (getuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)) {
                        fprintf(stderr, "SKIP: cannot become nobody: %m\n");
                        _exit(EXIT_TEST_SKIP);
                }
                if (access(cli, X_OK) < 0) {
                        fprintf(stderr, "SKIP: %s not executable by uid %d\n", cli, (int) getuid());
                        _exit(EXIT_TEST_SKIP);
                }
                _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
                const char *argv[] = { "true", NULL };
                if (mk_executor_new(&e) < 0 || mk_executor_set_argv(e, argv) < 0 ||
                    mk_executor_set_containment(e, MK_CONTAINMENT_CGROUP) < 0)
                        _exit(2);
                int r = mk_executor_start(e);
                if (r >= 0) {
                        fprintf(stderr, "SKIP: this user can make cgroups\n");
                        (void) mk_executor_stop(e);
                        _exit(EXIT_TEST_SKIP);
                }
                fprintf(stderr, "# start: %d %s\n", r, mk_executor_get_error(e));
                if (r != -EOPNOTSUPP || !strstr(mk_executor_get_error(e) ?: "", "no containment backend"))
                        _exit(3);
                if (test_under_valgrind()) {
                        /* The suite's mirakuru-run is then valgrind, whose log
                         * directory nobody may not write to. */
                        fprintf(stderr, "# the mirakuru-run half is skipped under valgrind\n");
                        _exit(0);
                }
                pid_t c = fork();
                if (c < 0)
                        _exit(2);
                if (c == 0) {
                        execl(cli, "mirakuru-run", "--containment", "cgroup", "--", "true", (char *) NULL);
                        _exit(99);
                }
                int st;
                if (waitpid(c, &st, 0) != c)
                        _exit(2);
                fprintf(stderr, "# mirakuru-run --containment cgroup: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
                _exit(WIFEXITED(st) && WEXITSTATUS(st) == 125 ? 0 : 4);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == EXIT_TEST_SKIP)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        test_cgroup = cont_cgroup_enter();
        unsetenv("MIRAKURU_CONTAINMENT");
        unsetenv("MIRAKURU_BUS_ADDRESS");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manager_unreachable_gives_cgroup),
                cmocka_unit_test(test_bus_address_from_environment),
                cmocka_unit_test(test_readonly_cgroupfs_gives_process_group),
                cmocka_unit_test(test_stale_cgroup_is_cleaned),
                cmocka_unit_test(test_cli_verbose_says_why),
                cmocka_unit_test(test_scope_refused_falls_back),
                cmocka_unit_test(test_scope_job_failed_falls_back),
                cmocka_unit_test(test_refused_backend_is_not_an_exec_error),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        cont_cgroup_leave();
        return r;
}

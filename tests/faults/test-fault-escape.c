/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A root service against its cgroup (issue 14, F1 and F2): it nests 2,100
 * cgroups below its own (paths past PATH_MAX) with a child at the bottom
 * and ignores SIGTERM; a child moves itself out to the parent cgroup; the
 * main process moves itself out in its SIGTERM handler. Each time the stop
 * must end within --stop-timeout plus a small constant, every process must
 * be gone, the ones that left must be listed as killed, and no cgroup may
 * be left behind. Through mirakuru-run, as users run it; cgroup backend,
 * as root, below the cgroup the test harness made (tests/sandbox/in-test-cgroup). */
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault-common.h"
#include "fault-fixture.h"
#include "test-util.h"
#include "util/macro.h"

/* Stop timeout 1 s plus this much for everything else (--then true, the
 * kill, the removal) on a shared, noisy machine. */
#define SLACK_USEC (3 * MK_USEC_PER_SEC)
#define LIMIT_USEC (90 * MK_USEC_PER_SEC)

static bool in_own_cgroup_tree(void) {
        char *own = fault_own_cgroup();
        bool ok = own && strstr(own, "/mirakuru-test.") != NULL;
        free(own);
        return ok;
}

/* The stderr of the run, printed; fails unless PID is listed as killed. */
static void assert_listed_killed(const char *err, pid_t pid) {
        char needle[64];
        snprintf(needle, sizeof needle, "killed: %d ", (int) pid);
        if (!strstr(err, needle))
                fail_msg("pid %d is not listed as killed", (int) pid);
}

static void test_deep_subtree_stops_in_time(void **state) {
        char err[4300], levels[16];
        uint64_t after = 0;
        pid_t cli = 0;
        (void) state;

        if (!in_own_cgroup_tree()) {
                skip();
                return;
        }
        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        snprintf(levels, sizeof levels, "%d", 2100);
        const char *args[] = { "--containment", "cgroup", "--stop-timeout", "1", "--output", "ready", "--then",
                               "true", "--", fault_service(), "ignore-term", "deep-cgroup", levels, fault_records,
                               "record", fault_records, "out", "ready", "pause", NULL };
        int status = fault_run_cli(args, err, fault_records, LIMIT_USEC, &after, &cli);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# exit %d, %llu us after the deepest child was placed:\n%s", status,
                (unsigned long long) after, text ?: "");
        int left = fault_cgroup_cleanup(cli);
        assert_int_not_equal(status, -1); /* it ended */
        assert_int_equal(status, 0);
        assert_true(after < MK_USEC_PER_SEC + SLACK_USEC);
        assert_int_equal(left, 0); /* the whole tree was removed */
        size_t n;
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        assert_int_equal(n, 2);
        fault_assert_gone(pids, n, 0, "a stop of a 2,100-deep cgroup tree");
        /* The look for the record is bounded (250 ms): under valgrind it
         * does not reach the bottom; cgroup.kill does anyway. */
        if (!test_under_valgrind())
                assert_listed_killed(text, pids[0]);
}

static void test_child_that_left_is_killed_and_listed(void **state) {
        char err[4300];
        pid_t cli = 0;
        (void) state;

        if (!in_own_cgroup_tree()) {
                skip();
                return;
        }
        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        const char *args[] = { "--containment", "cgroup", "--stop-timeout", "1", "--output", "ready", "--then",
                               "true", "--", fault_service(), "leave-cgroup", fault_records, "sleep", "200",
                               "out", "ready", "pause", NULL };
        int status = fault_run_cli(args, err, NULL, LIMIT_USEC, NULL, &cli);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# exit %d:\n%s", status, text ?: "");
        assert_int_equal(fault_cgroup_cleanup(cli), 0);
        assert_int_equal(status, 0);
        size_t n;
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        assert_int_equal(n, 1);
        /* It was signalled before mirakuru-run returned; a zombie until init reaps it. */
        fault_assert_gone(pids, n, 2 * MK_USEC_PER_SEC, "a stop of a service whose child left its cgroup");
        assert_listed_killed(text, pids[0]);
        assert_non_null(strstr(text, "left the service's cgroup"));
}

static void test_main_that_leaves_on_term_is_killed(void **state) {
        char err[4300];
        uint64_t after = 0;
        pid_t cli = 0;
        (void) state;

        if (!in_own_cgroup_tree()) {
                skip();
                return;
        }
        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        const char *args[] = { "--containment", "cgroup", "--stop-timeout", "1", "--output", "ready", "--then",
                               "true", "--", fault_service(), "leave-on-term", "record", fault_records, "out",
                               "ready", "pause", NULL };
        int status = fault_run_cli(args, err, fault_records, LIMIT_USEC, &after, &cli);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# exit %d, %llu us after start:\n%s", status, (unsigned long long) after, text ?: "");
        size_t n;
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        if (status == -1 && n == 1)
                (void) kill(pids[0], SIGKILL); /* the old code left it running */
        assert_int_equal(fault_cgroup_cleanup(cli), 0);
        assert_int_not_equal(status, -1);
        assert_true(after < MK_USEC_PER_SEC + SLACK_USEC);
        assert_int_equal(n, 1);
        fault_assert_gone(pids, n, 0, "a stop of a main process that left its cgroup on SIGTERM");
        assert_listed_killed(text, pids[0]);
        assert_non_null(strstr(text, "the main process, which had left the service's cgroup"));
}

/* Short of fds at each step (ulimit -n 5..16): a clean exit status, no
 * cgroup directory left behind (an empty one was, at 9), and a message
 * that names the step that failed. */
static void test_short_of_fds_leaves_nothing(void **state) {
        char err[4300];
        (void) state;

        if (!in_own_cgroup_tree() || test_under_valgrind()) {
                skip(); /* valgrind needs fds of its own */
                return;
        }
        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        for (int limit = 5; limit <= 16; limit++) {
                const char *argv[] = { "mirakuru-run", "--containment", "cgroup", "--then", "true", "--",
                                       fault_service(), "pause", NULL };
                int status;
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                                _exit(126);
                        struct rlimit rl = { .rlim_cur = (rlim_t) limit, .rlim_max = (rlim_t) limit };
                        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                                _exit(126);
                        execv(test_mirakuru_run(), (char **) argv);
                        _exit(127);
                }
                assert_int_equal(waitpid(pid, &status, 0), pid);
                _cleanup_free_ char *text = test_read_file(err);
                int left = fault_cgroup_cleanup(pid);
                fprintf(stderr, "# ulimit -n %d: exit %d, %d cgroup(s) left: %s", limit,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1, left, text ?: "");
                assert_true(WIFEXITED(status));
                assert_true(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 125);
                assert_int_equal(left, 0);
                assert_null(strstr(text ?: "", "could not start: Too many open files"));
        }
}

/* An unprivileged supervisor (uid nobody, in a cgroup delegated to it) and
 * a setuid-root service that takes all-root ids: the stop signal is
 * refused (EPERM). It used to be SIGKILLed ~35 ms into a 2 s stop timeout,
 * with no "killed:" line. Now the stop timeout is waited for, cgroup.kill
 * (which needs no permission on the process) ends it, and it is listed. */
static void test_setuid_service_of_unprivileged_supervisor(void **state) {
        _cleanup_free_ char *own = NULL, *deleg = NULL, *suid = NULL, *cmd = NULL;
        static const char *const files[] = { "", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control" };
        const uid_t nobody = 65534;
        char err[4300];
        (void) state;

        if (!in_own_cgroup_tree()) {
                skip();
                return;
        }
        if (test_under_valgrind()) {
                /* valgrind as nobody cannot write its report into the build tree. */
                fprintf(stderr, "# skipped under valgrind: the supervisor runs as nobody\n");
                skip();
                return;
        }
        /* A cgroup delegated to nobody, and a setuid-root copy of the service
         * (allocated after the skips: cmocka's skip() longjmps past cleanups). */
        own = fault_own_cgroup();
        assert_non_null(own);
        assert_true(asprintf(&deleg, "%s/deleg-%d", own, (int) getpid()) > 0);
        assert_int_equal(mkdir(deleg, 0755), 0);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char path[4400];
                snprintf(path, sizeof path, "%s%s", deleg, files[i]);
                assert_int_equal(chown(path, nobody, nobody), 0);
        }
        assert_int_equal(chmod(fault_dir, 0755), 0);
        assert_true(asprintf(&suid, "%s/suid-service", fault_dir) > 0);
        assert_true(asprintf(&cmd, "cp '%s' '%s' && chown 0:0 '%s' && chmod 4755 '%s'", fault_service(), suid, suid,
                             suid) > 0);
        assert_int_equal(system(cmd), 0);
        snprintf(err, sizeof err, "%s/stderr", fault_dir);

        uint64_t t0 = test_now_usec(), ready = 0;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char procs[4400], me[32];
                int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                snprintf(procs, sizeof procs, "%s/cgroup.procs", deleg);
                snprintf(me, sizeof me, "%d", (int) getpid());
                int p = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || p < 0 || write(p, me, strlen(me)) < 0 ||
                    setgroups(0, NULL) < 0 || setresgid(nobody, nobody, nobody) < 0 ||
                    setresuid(nobody, nobody, nobody) < 0)
                        _exit(126);
                const char *argv[] = { "mirakuru-run", "--containment", "cgroup", "--stop-timeout", "2", "--output",
                                       "ready", "--then", "true", "--", suid, "as-user", "0", "1000", "record",
                                       fault_records, "out", "ready", "pause", NULL };
                execv(test_mirakuru_run(), (char **) argv);
                _exit(127);
        }
        int status;
        for (;;) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                struct stat st;
                if (!ready && stat(fault_records, &st) == 0 && st.st_size > 0)
                        ready = test_now_usec();
                if (test_now_usec() - t0 > 60 * MK_USEC_PER_SEC) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        break;
                }
                struct timespec ts = { .tv_nsec = 2 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        uint64_t after = ready ? test_now_usec() - ready : 0;
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# exit %d, %llu us after the service was up:\n%s",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1, (unsigned long long) after, text ?: "");
        size_t n;
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        bool gone = n == 1 && test_wait_pid_gone(pids[0], FAULT_GONE_USEC);
        if (n == 1 && !gone)
                (void) kill(pids[0], SIGKILL);
        fault_remove_cgroup_tree(deleg);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_true(gone);
        assert_true(after >= 2 * MK_USEC_PER_SEC);           /* the stop timeout was waited for */
        assert_true(after < 2 * MK_USEC_PER_SEC + SLACK_USEC); /* and not much more */
        assert_non_null(strstr(text, "had to be killed"));
        assert_listed_killed(text, pids[0]);
}

/* F2 with --cgroup-namespace (issue 14): the service runs in a cgroup
 * namespace rooted at its own cgroup, with a cgroup2 mount of that root in
 * place of the host's. A child that moves itself "to the parent cgroup"
 * (computed from /proc/self/cgroup and the mount, as the issue's
 * reproduction does) stays in the service's cgroup: the --then command
 * sees it in the same cgroup as the main process, it is killed with the
 * cgroup, and nothing is reported as having left. The main process doing
 * the same in its SIGTERM handler is stopped within the stop timeout by
 * the cgroup's kill, not found outside. */
static void test_cgroup_namespace_child_cannot_leave(void **state) {
        char err[4300], out[4300], then[9000];
        pid_t cli = 0;
        (void) state;

        if (!in_own_cgroup_tree()) {
                skip();
                return;
        }
        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        snprintf(out, sizeof out, "%s/cgroups", fault_dir);
        snprintf(then, sizeof then, "sed -n 's/^0:://p' /proc/$MIRAKURU_PID/cgroup /proc/$(head -1 %s)/cgroup > %s", fault_records, out);
        const char *args[] = { "--containment", "cgroup", "--cgroup-namespace", "--stop-timeout", "1", "--output",
                               "ready", "--then", then, "--", fault_service(), "leave-cgroup", fault_records,
                               "sleep", "200", "out", "ready", "pause", NULL };
        int status = fault_run_cli(args, err, NULL, LIMIT_USEC, NULL, &cli);
        _cleanup_free_ char *text = test_read_file(err), *cgroups = test_read_file(out);
        fprintf(stderr, "# exit %d:\n%s# cgroups (main process, the child that tried to leave):\n%s", status,
                text ?: "", cgroups ?: "");
        assert_int_equal(fault_cgroup_cleanup(cli), 0);
        assert_int_equal(status, 0);
        size_t n;
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        assert_int_equal(n, 1);
        fault_assert_gone(pids, n, 2 * MK_USEC_PER_SEC, "a service whose child tried to leave its cgroup namespace");
        assert_non_null(cgroups);
        char *second = strchr(cgroups, '\n');
        assert_non_null(second);
        second++;
        assert_non_null(strstr(cgroups, "/mirakuru-"));
        assert_true(strncmp(cgroups, second, (size_t) (second - cgroups)) == 0); /* the same cgroup */
        assert_null(strstr(text, "left the service's cgroup"));
}

static void test_cgroup_namespace_main_cannot_leave(void **state) {
        char err[4300];
        uint64_t after = 0;
        pid_t cli = 0;
        (void) state;

        if (!in_own_cgroup_tree()) {
                skip();
                return;
        }
        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        const char *args[] = { "--containment", "cgroup", "--cgroup-namespace", "--stop-timeout", "1", "--output",
                               "ready", "--then", "true", "--", fault_service(), "leave-on-term", "record",
                               fault_records, "out", "ready", "pause", NULL };
        int status = fault_run_cli(args, err, fault_records, LIMIT_USEC, &after, &cli);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# exit %d, %llu us after start:\n%s", status, (unsigned long long) after, text ?: "");
        size_t n;
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        assert_int_equal(fault_cgroup_cleanup(cli), 0);
        assert_int_equal(status, 0);
        assert_true(after < MK_USEC_PER_SEC + SLACK_USEC);
        assert_int_equal(n, 1);
        fault_assert_gone(pids, n, 0, "a main process that tried to leave its cgroup namespace on SIGTERM");
        assert_listed_killed(text, pids[0]); /* killed with the cgroup, after the stop timeout */
        assert_null(strstr(text, "left the service's cgroup"));
}

/* --cgroup-namespace needs a cgroup: refused on the process-group backend,
 * with the reason, before anything runs. */
static void test_cgroup_namespace_needs_cgroup(void **state) {
        char err[4300];
        pid_t cli = 0;
        (void) state;

        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        const char *args[] = { "--containment", "process-group", "--cgroup-namespace", "--then", "true", "--",
                               fault_service(), "record", fault_records, "pause", NULL };
        int status = fault_run_cli(args, err, NULL, LIMIT_USEC, NULL, &cli);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# exit %d:\n%s", status, text ?: "");
        assert_true(status > 0 && status != 2);
        assert_non_null(strstr(text ?: "", "cgroup namespace needs the service in a cgroup of its own"));
        size_t n;
        free(fault_read_pids(fault_records, &n));
        assert_int_equal(n, 0); /* the program never ran */
}

int main(void) {
        if (geteuid() != 0)
                test_skip_all("needs root: the service moves itself between cgroups");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_deep_subtree_stops_in_time, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_child_that_left_is_killed_and_listed, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_main_that_leaves_on_term_is_killed, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_short_of_fds_leaves_nothing, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_namespace_child_cannot_leave, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_namespace_main_cannot_leave, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_namespace_needs_cgroup, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_setuid_service_of_unprivileged_supervisor, fault_setup,
                                                fault_teardown),
        };
        return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}

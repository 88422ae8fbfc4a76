/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leak scenarios on one backend, chosen by $MIRAKURU_TEST_CONTAINMENT
 * (cgroup, process-group, systemd). Each asserts, by pid, that nothing the
 * service started survives the stop, and that the supervisor's death by
 * SIGKILL takes the whole service tree along within one second. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cont-common.h"
#include "util/macro.h"
#include "mirakuru.h"
#include "test-util.h"

#define DEADMAN_USEC MK_USEC_PER_SEC

static MkContainment backend;
static const char *test_cgroup; /* cgroup backend: where we work */

static MkExecutor *new_service(sd_event *event, const char *mode, const char *arg, const char *dir) {
        MkExecutor *e = NULL;
        const char *argv[] = { cont_tree(), mode, arg ?: dir, arg ? dir : NULL, NULL };

        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_name(e, mode), 0);
        assert_int_equal(mk_executor_set_containment(e, backend), 0);
        if (backend == MK_CONTAINMENT_SYSTEMD)
                assert_int_equal(mk_executor_set_bus_address(e, getenv("MIRAKURU_TEST_BUS")), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, CONT_START_TIMEOUT_USEC), 0);
        assert_int_equal(mk_executor_set_stop_timeout(e, CONT_STOP_TIMEOUT_USEC), 0);
        if (event)
                assert_int_equal(mk_executor_attach_event(e, event, 0), 0);
        return e;
}

static void check_placement(MkExecutor *e) {
        const char *cg = mk_executor_get_cgroup(e);

        fprintf(stderr, "# %s: %s\n", mk_containment_to_string(mk_executor_get_containment(e)),
                mk_executor_get_containment_reason(e) ?: "(no reason)");
        assert_int_equal(mk_executor_get_containment(e), backend);
        assert_non_null(mk_executor_get_containment_reason(e));
        switch (backend) {
        case MK_CONTAINMENT_CGROUP:
                assert_non_null(cg);
                assert_true(strncmp(cg, test_cgroup, strlen(test_cgroup)) == 0);
                break;
        case MK_CONTAINMENT_SYSTEMD:
                assert_non_null(cg);
                assert_non_null(strstr(cg, ".scope"));
                break;
        default:
                assert_null(cg);
                /* How members are found: walking down from the service, or
                 * (MIRAKURU_PGROUP_SCAN) a scan of every process. */
                assert_non_null(strstr(mk_executor_get_containment_reason(e),
                                       getenv("MIRAKURU_PGROUP_SCAN") ? "a scan of /proc" : "/task/*/children"));
        }
}

/* Runs MODE, checks EXPECTED processes were recorded and live, stops, and
 * asserts that every one of them is gone when stop returns. With KILLED,
 * the stop signal is ignored somewhere: leftovers must name FORENSIC_INDEX. */
static void scenario_with(const char *mode, const char *arg, size_t expected, bool main_exits, bool killed,
                          size_t forensic_index, int kill_signal) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        char *dir = test_make_temp_dir(), *cg = NULL, *leftovers = NULL;
        pid_t *pids;
        size_t n;
        int r;

        e = new_service(NULL, mode, arg, dir);
        if (kill_signal > 0)
                assert_int_equal(mk_executor_set_kill_signal(e, kill_signal), 0);
        r = mk_executor_start(e);
        if (r < 0)
                fprintf(stderr, "start: %s\n", mk_executor_get_error(e));
        assert_int_equal(r, 0);
        check_placement(e);
        if (mk_executor_get_cgroup(e))
                cg = strdup(mk_executor_get_cgroup(e));

        if (main_exits) {
                /* The launcher exits 0 and leaves its child: the service goes
                 * on without it (issue 13: a service is its cgroup). */
                uint64_t end = test_now_usec() + CONT_START_TIMEOUT_USEC;
                while (!mk_executor_get_launcher_exited(e) && test_now_usec() < end)
                        assert_int_equal(mk_executor_wait(e, 20 * MK_USEC_PER_MSEC), -ETIMEDOUT);
                assert_true(mk_executor_get_launcher_exited(e));
                assert_true(mk_executor_is_running(e));
        }
        pids = cont_read_pids(dir, &n);
        assert_true(n >= expected);
        for (size_t i = main_exits ? 1 : 0; i < n; i++)
                assert_true(test_pid_alive(pids[i]));

        r = mk_executor_stop(e);
        fprintf(stderr, "# stop: %d %s\n", r, mk_executor_get_error(e) ?: "");
        assert_true(r >= 0 || r == -ECHILD);
        if (killed)
                assert_int_equal(r, 1);

        /* Stop returned: nothing may be left, not even for a moment. */
        free(pids);
        pids = cont_read_pids(dir, &n); /* the forker may have added some */
        size_t alive = 0;
        for (size_t i = 0; i < n; i++)
                if (test_pid_alive(pids[i])) {
                        fprintf(stderr, "survivor: %d\n", (int) pids[i]);
                        alive++;
                }
        fprintf(stderr, "# %zu processes recorded, %zu survived\n", n, alive);
        assert_int_equal(alive, 0);

        r = mk_executor_get_leftovers(e, &leftovers);
        assert_true(r >= 0);
        fprintf(stderr, "# leftovers (%d):\n%.2000s", r, leftovers);
        if (killed) {
                char needle[32];
                assert_true(r > 0);
                snprintf(needle, sizeof needle, "%d ", (int) pids[forensic_index]);
                assert_non_null(strstr(leftovers, needle));
                assert_non_null(strstr(leftovers, "cont-tree"));
        } else
                assert_int_equal(r, 0);

        if (cg && backend == MK_CONTAINMENT_CGROUP)
                assert_true(cont_wait_gone(cg, 0));
        else if (cg)
                assert_true(cont_wait_gone(cg, 10 * MK_USEC_PER_SEC)); /* systemd collects the scope */

        free(leftovers);
        free(pids);
        free(cg);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

static void scenario(const char *mode, const char *arg, size_t expected, bool main_exits, bool killed,
                     size_t forensic_index) {
        scenario_with(mode, arg, expected, main_exits, killed, forensic_index, 0);
}

/* How many inotify instances this process holds. */
static size_t inotify_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                char target[64];
                ssize_t l = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
                if (l <= 0)
                        continue;
                target[l] = 0;
                if (strcmp(target, "anon_inode:inotify") == 0)
                        n++;
        }
        closedir(d);
        return n;
}

/* A supervisor holds no inotify instance across a service's life, nor
 * after it: the last close of one waits for an SRCU grace period
 * (fsnotify_destroy_group), and one kept for the process's life (the
 * cgroup backend's watch for stale siblings) added 10-20 ms to the exit of
 * every mirakuru-run (bench/oneshot: 19.5 ms a cycle instead of 9). */
static void test_no_inotify_held(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        char *dir = test_make_temp_dir();

        (void) state;
        e = new_service(NULL, "tree", "1", dir);
        assert_int_equal(mk_executor_start(e), 0);
        check_placement(e);
        assert_int_equal(inotify_fds(), 0);
        assert_true(mk_executor_stop(e) >= 0);
        assert_int_equal(inotify_fds(), 0);
        e = mk_executor_unref(e);
        assert_int_equal(inotify_fds(), 0);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

/* How many of our fds are connected to the Unix socket at PATH. */
static size_t connections_to(const char *path) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                struct sockaddr_un peer = {};
                socklen_t len = sizeof peer;
                int fd = atoi(de->d_name);
                if (de->d_name[0] == '.' || fd == dirfd(d))
                        continue;
                if (getpeername(fd, (struct sockaddr *) &peer, &len) == 0 && peer.sun_family == AF_UNIX &&
                    strcmp(peer.sun_path, path) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

/* The scopes of one process on one loop share one connection to the
 * manager (and one Subscribe(), one look for stale scopes): a connection
 * per scope cost the manager ~3 ms of CPU each, and mirakuru-run makes two
 * scopes a run (the service's and the --then command's). */
static void test_scopes_share_one_connection(void **state) {
        const char *address = getenv("MIRAKURU_TEST_BUS");
        char *dir1, *dir2;
        MkExecutor *a, *b;
        sd_event *event = NULL;

        (void) state;
        if (backend != MK_CONTAINMENT_SYSTEMD || !address || strncmp(address, "unix:path=", 10) != 0)
                skip();
        dir1 = test_make_temp_dir();
        dir2 = test_make_temp_dir();
        const char *path = address + 10;
        assert_int_equal(sd_event_new(&event), 0);
        a = new_service(event, "tree", "1", dir1);
        b = new_service(event, "tree", "1", dir2);
        assert_int_equal(mk_executor_start(a), 0);
        assert_int_equal(mk_executor_start(b), 0);
        assert_int_equal(mk_executor_get_containment(a), MK_CONTAINMENT_SYSTEMD);
        assert_int_equal(mk_executor_get_containment(b), MK_CONTAINMENT_SYSTEMD);
        assert_int_equal(connections_to(path), 1);
        assert_true(mk_executor_stop(b) >= 0);
        mk_executor_unref(b);
        assert_int_equal(connections_to(path), 1); /* A's scope still uses it */
        assert_true(mk_executor_stop(a) >= 0);
        mk_executor_unref(a);
        assert_int_equal(connections_to(path), 0); /* the last user closed it */
        sd_event_unref(event);
        test_rm_rf(dir1);
        test_rm_rf(dir2);
        free(dir1);
        free(dir2);
        cont_reap_zombies();
}

static void test_setsid_daemon(void **state) {
        (void) state;
        if (backend == MK_CONTAINMENT_PROCESS_GROUP)
                skip(); /* not claimed: see docs/containment.md */
        /* pids: main, daemon (setsid, empty environment, ignores SIGTERM) */
        scenario("daemon", NULL, 2, false, true, 1);
}

static void test_tree_of_50(void **state) {
        (void) state;
        scenario("tree", "50", 50, false, false, 0);
}

static void test_forking_during_teardown(void **state) {
        (void) state;
        scenario("forker", NULL, 11, false, true, 0);
}

static void test_main_exits_early(void **state) {
        (void) state;
        scenario("early-exit", NULL, 2, true, true, 1);
}

/* A kill signal other than SIGKILL: no cgroup.kill, so freeze, signal each, thaw. */
static void test_custom_kill_signal(void **state) {
        (void) state;
        scenario_with("early-exit", NULL, 2, true, true, 1, SIGUSR1);
}

/* Without an address, AUTO finds the user manager through $XDG_RUNTIME_DIR. */
static void test_auto_finds_user_manager(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        (void) state;

        if (backend != MK_CONTAINMENT_SYSTEMD)
                skip();
        /* As root the system manager comes first: never touch a real one. */
        if (access("/run/systemd/private", F_OK) == 0)
                skip();
        char *dir = test_make_temp_dir();
        const char *argv[] = { cont_tree(), "tree", "3", dir, NULL };
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_containment(e, MK_CONTAINMENT_AUTO), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        fprintf(stderr, "# auto: %s: %s\n", mk_containment_to_string(mk_executor_get_containment(e)),
                mk_executor_get_containment_reason(e));
        assert_int_equal(mk_executor_get_containment(e), MK_CONTAINMENT_SYSTEMD);
        assert_non_null(strstr(mk_executor_get_containment_reason(e), "the user manager"));
        assert_true(mk_executor_stop(e) >= 0);
        size_t n;
        pid_t *pids = cont_read_pids(dir, &n);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++)
                assert_false(test_pid_alive(pids[i]));
        free(pids);
        test_rm_rf(dir);
        free(dir);
}

/* The supervisor is SIGKILLed with a live tree: its guard takes the tree along. */
static void test_supervisor_killed(void **state) {
        char *dir = test_make_temp_dir(), cgroup[4096] = "";
        int p[2];
        pid_t pid, *pids;
        size_t n;
        (void) state;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_event *event = NULL;
                close(p[0]);
                /* The parent's default loop is not ours after fork. */
                if (sd_event_new(&event) < 0)
                        _exit(3);
                MkExecutor *e = new_service(event, "tree", "20", dir);
                if (mk_executor_start(e) < 0) {
                        fprintf(stderr, "start: %s\n", mk_executor_get_error(e));
                        _exit(4);
                }
                dprintf(p[1], "%s\n", mk_executor_get_cgroup(e) ?: "");
                close(p[1]);
                for (;;)
                        pause();
        }
        close(p[1]);
        FILE *f = fdopen(p[0], "re");
        assert_non_null(f);
        if (!fgets(cgroup, sizeof cgroup, f)) {
                int status;
                waitpid(pid, &status, 0);
                fail_msg("the supervisor failed to start the service (status %d)", status);
        }
        fclose(f);
        cgroup[strcspn(cgroup, "\n")] = '\0';
        pids = cont_read_pids(dir, &n);
        assert_int_equal(n, 20);
        for (size_t i = 0; i < n; i++)
                assert_true(test_pid_alive(pids[i]));

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        uint64_t t0 = test_now_usec();
        for (size_t i = 0; i < n; i++)
                if (!test_wait_pid_gone(pids[i], DEADMAN_USEC - MIN(test_now_usec() - t0, DEADMAN_USEC)))
                        fail_msg("pid %d survived its supervisor by more than a second", (int) pids[i]);
        fprintf(stderr, "# all %zu gone %llu us after the supervisor died\n", n,
                (unsigned long long) (test_now_usec() - t0));
        if (cgroup[0] && backend == MK_CONTAINMENT_CGROUP)
                assert_true(cont_wait_gone(cgroup, 5 * MK_USEC_PER_SEC)); /* the guard removes it */
        else if (cgroup[0])
                assert_true(cont_wait_gone(cgroup, 10 * MK_USEC_PER_SEC)); /* systemd collects it */
        free(pids);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

int main(void) {
        const char *which;

        backend = cont_backend_from_env(&which);
        test_cgroup = cont_backend_enter(backend);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_setsid_daemon),
                cmocka_unit_test(test_tree_of_50),
                cmocka_unit_test(test_forking_during_teardown),
                cmocka_unit_test(test_main_exits_early),
                cmocka_unit_test(test_custom_kill_signal),
                cmocka_unit_test(test_auto_finds_user_manager),
                cmocka_unit_test(test_supervisor_killed),
                cmocka_unit_test(test_no_inotify_held),
                cmocka_unit_test(test_scopes_share_one_connection),
        };
        int r = cmocka_run_group_tests_name(which, tests, NULL, NULL);
        cont_cgroup_leave();
        return r;
}

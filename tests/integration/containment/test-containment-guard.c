/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dead man's switch on one backend ($MIRAKURU_TEST_CONTAINMENT): one
 * guard process per supervising process, shared by all its services,
 * holding nothing of the supervisor's (no service pipe, not its stdout);
 * gone when the supervisor exits normally; killing every service when the
 * supervisor is SIGKILLed; and a forked child that starts services gets a
 * guard of its own. Guards are found as the children of a supervisor that
 * are not services (their comm is "mirakuru-guard"). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cont-common.h"
#include "mirakuru.h"
#include "test-util.h"
#include "util/macro.h"

#define DEADMAN_USEC MK_USEC_PER_SEC
#define GONE_USEC (10 * MK_USEC_PER_SEC) /* upper bounds only */
#define N_MANY 50
#define N_KILLED 5
/* stdin, stdout, stderr (/dev/null), the socket, and the supervisor's pidfd
 * where there is pidfd_open(2) (valgrind 3.19 has none). */
#define GUARD_BASE_FDS guard_base_fds()

static int guard_base_fds(void) {
        int fd = (int) syscall(SYS_pidfd_open, getpid(), 0);
        if (fd < 0)
                return 4;
        close(fd);
        return 5;
}

static MkContainment backend;

static void assert_is_guard(pid_t pid) {
        char *comm = cont_comm(pid);
        assert_non_null(comm);
        assert_string_equal(comm, "mirakuru-guard");
        free(comm);
}

/* How many of PID's fds are pipes; with PIPE_INO, how many are that pipe. */
static int count_pipes_of(pid_t pid, ino_t pipe_ino, int *ret_that) {
        char path[64], link[256], want[64];
        int n = 0, that = 0;

        snprintf(want, sizeof want, "pipe:[%llu]", (unsigned long long) pipe_ino);
        for (int fd = 0; fd < 4096; fd++) {
                ssize_t l;
                snprintf(path, sizeof path, "/proc/%d/fd/%d", (int) pid, fd);
                l = readlink(path, link, sizeof link - 1);
                if (l < 0)
                        continue;
                link[l] = '\0';
                if (strncmp(link, "pipe:", 5) == 0)
                        n++;
                if (strcmp(link, want) == 0)
                        that++;
        }
        if (ret_that)
                *ret_that = that;
        return n;
}

/* The guard raised its RLIMIT_NOFILE soft limit to the hard one (room
 * for an fd or two per service). */
static bool nofile_soft_is_hard(pid_t pid) {
        char path[64], soft[32] = "", hard[32] = "";
        snprintf(path, sizeof path, "/proc/%d/limits", (int) pid);
        char *s = test_read_file(path), *p;

        if (s && (p = strstr(s, "Max open files")))
                (void) sscanf(p + strlen("Max open files"), "%31s %31s", soft, hard);
        free(s);
        fprintf(stderr, "# the guard's open files limit: soft %s, hard %s\n", soft, hard);
        return soft[0] && strcmp(soft, hard) == 0;
}

static bool wait_fds_of(pid_t pid, int n, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;
        while (test_count_fds_of(pid) != n) {
                if (test_now_usec() >= end)
                        return false;
                usleep(5000);
        }
        return true;
}

/* 50 services in one process share one guard; it holds an fd of each
 * (and no pipe), closes them as they are unregistered, and stays for the
 * next start. */
static void test_one_guard_for_many(void **state) {
        char *dir = test_make_temp_dir();
        MkExecutor *e[N_MANY + 1];
        pid_t mains[N_MANY + 1], guard, *guards;
        size_t n;
        int fds;
        (void) state;

        for (size_t i = 0; i < N_MANY; i++) {
                e[i] = cont_tree_service(backend, NULL, "2", dir, 0);
                assert_non_null(e[i]);
                mains[i] = mk_executor_get_pid(e[i]);
        }
        assert_true(cont_all_alive(dir, 2 * N_MANY));
        guards = cont_guards(getpid(), mains, N_MANY, &n);
        fprintf(stderr, "# %zu guard(s) for %d services\n", n, N_MANY);
        assert_int_equal(n, 1);
        guard = guards[0];
        free(guards);
        assert_is_guard(guard);
        fds = test_count_fds_of(guard);
        fprintf(stderr, "# the guard %d holds %d fds\n", (int) guard, fds);
        assert_true(fds >= GUARD_BASE_FDS + N_MANY);
        assert_int_equal(count_pipes_of(guard, 0, NULL), 0);
        assert_true(nofile_soft_is_hard(guard));

        for (size_t i = 0; i < N_MANY; i++) {
                assert_true(mk_executor_stop(e[i]) >= 0);
                e[i] = mk_executor_unref(e[i]);
        }
        assert_true(cont_all_gone(dir, 0));
        /* Unregistered: the guard closed what it held (asynchronously). */
        assert_true(wait_fds_of(guard, GUARD_BASE_FDS, GONE_USEC));
        assert_true(test_pid_alive(guard));

        /* The next start uses the same guard. */
        e[N_MANY] = cont_tree_service(backend, NULL, "1", dir, 0);
        assert_non_null(e[N_MANY]);
        mains[0] = mk_executor_get_pid(e[N_MANY]);
        guards = cont_guards(getpid(), mains, 1, &n);
        assert_int_equal(n, 1);
        assert_int_equal(guards[0], guard);
        free(guards);
        assert_true(mk_executor_stop(e[N_MANY]) >= 0);
        mk_executor_unref(e[N_MANY]);
        assert_true(wait_fds_of(guard, GUARD_BASE_FDS, GONE_USEC));

        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

/* The supervisor exits normally (_exit: no atexit handler of the test's).
 * With LEAVE_RUNNING one service is still running then: the guard kills
 * it. Either way the guard is gone afterwards. */
static void normal_exit(bool leave_running) {
        char *dir_a = test_make_temp_dir(), *dir_b = test_make_temp_dir();
        int p[2], status;
        ContReport rep;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_event *event = NULL;
                MkExecutor *a, *b;
                FILE *f = fdopen(p[1], "we");
                pid_t main_b;

                if (!f || sd_event_new(&event) < 0)
                        _exit(3);
                a = cont_tree_service(backend, event, "3", dir_a, 0);
                b = cont_tree_service(backend, event, "3", dir_b, 0);
                if (!a || !b)
                        _exit(4);
                main_b = mk_executor_get_pid(b);
                if (mk_executor_stop(a) < 0 || (!leave_running && mk_executor_stop(b) < 0))
                        _exit(5);
                cont_report(f, &main_b, leave_running ? 1 : 0, &b, 1);
                _exit(0);
        }
        close(p[1]);
        if (!cont_read_report(p[0], "mirakuru-guard", &rep)) {
                waitpid(pid, &status, 0);
                fail_msg("the supervisor failed (status %d)", status);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(rep.n_guards, 1);
        if (leave_running)
                assert_true(cont_all_gone(dir_b, DEADMAN_USEC));
        if (!test_wait_pid_gone(rep.guards[0], GONE_USEC))
                fail_msg("the guard %d outlived its supervisor", (int) rep.guards[0]);
        assert_true(cont_all_gone(dir_a, 0));
        assert_true(cont_all_gone(dir_b, 0));
        if (leave_running && backend == MK_CONTAINMENT_CGROUP)
                for (size_t i = 0; i < rep.n_cgroups; i++)
                        assert_true(cont_wait_gone(rep.cgroups[i], 0)); /* removed before the guard exits */
        cont_report_done(&rep);
        test_rm_rf(dir_a);
        test_rm_rf(dir_b);
        free(dir_a);
        free(dir_b);
        cont_reap_zombies();
}

static void test_guard_gone_after_normal_exit(void **state) {
        (void) state;
        normal_exit(false);
}

static void test_normal_exit_with_a_live_service(void **state) {
        (void) state;
        normal_exit(true);
}

/* The supervisor is SIGKILLed with several live trees: its one guard
 * takes all of them along within a second, removes the cgroups and exits. */
static void test_supervisor_killed_several(void **state) {
        char *dir = test_make_temp_dir();
        int p[2], status;
        ContReport rep;
        pid_t pid;
        (void) state;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_event *event = NULL;
                MkExecutor *e[N_KILLED];
                pid_t mains[N_KILLED];
                FILE *f = fdopen(p[1], "we");

                if (!f || sd_event_new(&event) < 0)
                        _exit(3);
                for (size_t i = 0; i < N_KILLED; i++) {
                        e[i] = cont_tree_service(backend, event, "4", dir, 0);
                        if (!e[i])
                                _exit(4);
                        mains[i] = mk_executor_get_pid(e[i]);
                }
                cont_report(f, mains, N_KILLED, e, N_KILLED);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (!cont_read_report(p[0], "mirakuru-guard", &rep)) {
                waitpid(pid, &status, 0);
                fail_msg("the supervisor failed (status %d)", status);
        }
        assert_int_equal(rep.n_guards, 1);
        assert_true(cont_all_alive(dir, 4 * N_KILLED));

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        uint64_t t0 = test_now_usec();
        assert_true(cont_all_gone(dir, DEADMAN_USEC));
        fprintf(stderr, "# all %d gone %llu us after the supervisor died\n", 4 * N_KILLED,
                (unsigned long long) (test_now_usec() - t0));
        if (!test_wait_pid_gone(rep.guards[0], GONE_USEC))
                fail_msg("the guard %d outlived its work", (int) rep.guards[0]);
        if (backend != MK_CONTAINMENT_PROCESS_GROUP)
                assert_int_equal(rep.n_cgroups, N_KILLED);
        for (size_t i = 0; i < rep.n_cgroups; i++)
                /* The guard removes ours; systemd collects a scope. */
                assert_true(cont_wait_gone(rep.cgroups[i], GONE_USEC));
        cont_report_done(&rep);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

/* A process that forks after its first start, and starts a service in
 * the child: the child gets a guard of its own (the parent's does not
 * watch the child), and the parent keeps its one guard. */
static void test_fork_then_start(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e0 = NULL, *e2 = NULL;
        char *dir0 = test_make_temp_dir(), *dir1 = test_make_temp_dir();
        pid_t mains[3], g0, *guards, pid;
        int p[2], status;
        ContReport rep;
        size_t n;
        (void) state;

        e0 = cont_tree_service(backend, NULL, "2", dir0, 0);
        assert_non_null(e0);
        mains[0] = mk_executor_get_pid(e0);
        guards = cont_guards(getpid(), mains, 1, &n);
        assert_int_equal(n, 1);
        g0 = guards[0];
        free(guards);

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_event *event = NULL;
                FILE *f = fdopen(p[1], "we");
                MkExecutor *e1;
                pid_t main1;

                /* e0 is the parent's: this process leaves it alone. */
                if (!f || sd_event_new(&event) < 0)
                        _exit(3);
                e1 = cont_tree_service(backend, event, "2", dir1, 0);
                if (!e1)
                        _exit(4);
                main1 = mk_executor_get_pid(e1);
                cont_report(f, &main1, 1, &e1, 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (!cont_read_report(p[0], "mirakuru-guard", &rep)) {
                waitpid(pid, &status, 0);
                fail_msg("the child supervisor failed (status %d)", status);
        }
        assert_int_equal(rep.n_guards, 1);
        fprintf(stderr, "# parent's guard %d, child's guard %d\n", (int) g0, (int) rep.guards[0]);
        assert_true(rep.guards[0] != g0);
        assert_true(cont_all_alive(dir1, 2));

        /* The child dies: its guard acts, the parent's does not. */
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_true(cont_all_gone(dir1, DEADMAN_USEC));
        assert_true(test_wait_pid_gone(rep.guards[0], GONE_USEC));
        cont_reap_zombies();
        assert_true(cont_all_alive(dir0, 2));
        assert_true(test_pid_alive(g0));

        /* The parent still has its one guard, and starts with it. */
        e2 = cont_tree_service(backend, NULL, "1", dir0, 0);
        assert_non_null(e2);
        mains[1] = mk_executor_get_pid(e2);
        guards = cont_guards(getpid(), mains, 2, &n);
        assert_int_equal(n, 1);
        assert_int_equal(guards[0], g0);
        free(guards);
        assert_true(mk_executor_stop(e0) >= 0);
        assert_true(mk_executor_stop(e2) >= 0);
        assert_true(cont_all_gone(dir0, 0));
        cont_report_done(&rep);
        test_rm_rf(dir0);
        test_rm_rf(dir1);
        free(dir0);
        free(dir1);
        cont_reap_zombies();
}

/* Someone kills the guard: the next start makes a new one, which takes
 * over what the old one held (so both services die with the supervisor). */
static void test_killed_guard_is_replaced(void **state) {
        char *dir1 = test_make_temp_dir(), *dir2 = test_make_temp_dir();
        int p[2], status;
        ContReport rep;
        pid_t pid;
        (void) state;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                sd_event *event = NULL;
                FILE *f = fdopen(p[1], "we");
                MkExecutor *e[2];
                pid_t mains[2], *guards;
                size_t n;

                if (!f || sd_event_new(&event) < 0)
                        _exit(3);
                e[0] = cont_tree_service(backend, event, "2", dir1, 0);
                if (!e[0])
                        _exit(4);
                mains[0] = mk_executor_get_pid(e[0]);
                guards = cont_guards(getpid(), mains, 1, &n);
                if (n != 1 || kill(guards[0], SIGKILL) < 0 || !test_wait_pid_gone(guards[0], GONE_USEC))
                        _exit(5);
                fprintf(f, "old %d\n", (int) guards[0]);
                e[1] = cont_tree_service(backend, event, "2", dir2, 0);
                if (!e[1])
                        _exit(6);
                mains[1] = mk_executor_get_pid(e[1]);
                cont_report(f, mains, 2, e, 2);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (!cont_read_report(p[0], "mirakuru-guard", &rep)) {
                waitpid(pid, &status, 0);
                fail_msg("the supervisor failed (status %d)", status);
        }
        fprintf(stderr, "# killed guard %d, replaced by %d\n", (int) rep.old, (int) rep.guards[0]);
        assert_int_equal(rep.n_guards, 1);
        assert_true(rep.old > 0 && rep.guards[0] != rep.old);
        assert_true(cont_all_alive(dir1, 2));
        assert_true(cont_all_alive(dir2, 2));

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_true(cont_all_gone(dir2, DEADMAN_USEC));
        assert_true(cont_all_gone(dir1, DEADMAN_USEC));
        assert_true(test_wait_pid_gone(rep.guards[0], GONE_USEC));
        for (size_t i = 0; i < rep.n_cgroups; i++)
                assert_true(cont_wait_gone(rep.cgroups[i], GONE_USEC));
        cont_report_done(&rep);
        test_rm_rf(dir1);
        test_rm_rf(dir2);
        free(dir1);
        free(dir2);
        cont_reap_zombies();
}

static long rss_anon_kib(pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        char *s = test_read_file(path), *p;
        long v = -1;

        if (s && (p = strstr(s, "RssAnon:")))
                v = strtol(p + strlen("RssAnon:"), NULL, 10);
        free(s);
        return v;
}

/* A big supervisor: the guard, a fork of it, must not keep the original
 * of each page the supervisor writes after the fork (copy-on-write). */
static void test_guard_does_not_pin_memory(void **state) {
        char *dir;
        int p[2], status;
        ContReport rep;
        pid_t pid;
        (void) state;

        /* Under ASan and valgrind the guard keeps its memory (see
         * guard-process.c), and RSS is theirs. */
        if (!test_rss_is_meaningful())
                skip();
        dir = test_make_temp_dir();
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                enum { BIG = 64 << 20, SMALL = 4096, N_SMALL = (64 << 20) / 4096 };
                sd_event *event = NULL;
                FILE *f = fdopen(p[1], "we");
                char *big = malloc(BIG), **small = calloc(N_SMALL, sizeof(char *));
                MkExecutor *e;
                pid_t main_pid;

                if (!f || !big || !small || sd_event_new(&event) < 0)
                        _exit(3);
                /* 64 MiB in one mapping, 64 MiB on the heap in small pieces. */
                memset(big, 1, BIG);
                for (size_t i = 0; i < N_SMALL; i++)
                        if (!(small[i] = malloc(SMALL)))
                                _exit(3);
                        else
                                memset(small[i], 1, SMALL);
                e = cont_tree_service(backend, event, "1", dir, 0);
                if (!e)
                        _exit(4);
                /* The guard exists now: write everything again. */
                memset(big, 2, BIG);
                for (size_t i = 0; i < N_SMALL; i++)
                        memset(small[i], 2, SMALL);
                main_pid = mk_executor_get_pid(e);
                cont_report(f, &main_pid, 1, &e, 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (!cont_read_report(p[0], "mirakuru-guard", &rep)) {
                waitpid(pid, &status, 0);
                fail_msg("the supervisor failed (status %d)", status);
        }
        assert_int_equal(rep.n_guards, 1);
        long guard_kib = rss_anon_kib(rep.guards[0]), sup_kib = rss_anon_kib(pid);
        fprintf(stderr, "# RssAnon: supervisor %ld KiB, its guard %ld KiB\n", sup_kib, guard_kib);
        assert_true(sup_kib >= 128 * 1024);
        assert_true(guard_kib >= 0 && guard_kib < 16 * 1024);

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_true(cont_all_gone(dir, DEADMAN_USEC));
        assert_true(test_wait_pid_gone(rep.guards[0], GONE_USEC));
        cont_report_done(&rep);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

/* out=$(mirakuru-run ...) must not hang waiting for the guard: the guard
 * holds neither mirakuru-run's stdout nor its stderr (it has /dev/null),
 * and is gone once mirakuru-run has exited. */
static void test_cli_capture_does_not_hang(void **state) {
        char *dir = test_make_temp_dir(), *fifo, *started, *then;
        const char *helper = cont_tree();
        int out[2], status, that;
        struct stat st;
        pid_t pid, guard, *guards;
        size_t n;
        (void) state;

        assert_true(asprintf(&fifo, "%s/fifo", dir) > 0);
        assert_true(asprintf(&started, "%s/then-started", dir) > 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        /* The --then command says it runs, then waits for us on the fifo. */
        assert_true(asprintf(&then, "touch '%s' && cat '%s' >/dev/null", started, fifo) > 0);
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(fstat(out[0], &st), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(out[1], STDERR_FILENO) < 0)
                        _exit(2);
                if (backend == MK_CONTAINMENT_SYSTEMD)
                        setenv("MIRAKURU_BUS_ADDRESS", getenv("MIRAKURU_TEST_BUS"), 1);
                execl(test_mirakuru_run(), "mirakuru-run", "--containment", mk_containment_to_string(backend),
                      "--output", "^ready$", "--then", then, "--", helper, "tree", "3", dir, (char *) NULL);
                _exit(127);
        }
        close(out[1]);
        if (!test_wait_file(started, CONT_START_TIMEOUT_USEC)) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                fail_msg("the --then command never ran");
        }

        /* mirakuru-run's children: the service, the --then shell, its guard.
         * On the process-group backend the process started is the keeper
         * (mk_fork_keeper()), and mirakuru-run its only child. */
        pid_t supervisor = pid;
        guards = cont_children(pid, &n);
        char *top = cont_comm(pid);
        if (n == 1 && top && strcmp(top, "mirakuru-keeper") == 0) {
                assert_int_equal(backend, MK_CONTAINMENT_PROCESS_GROUP);
                supervisor = guards[0];
                free(guards);
                guards = cont_children(supervisor, &n);
        }
        free(top);
        guard = 0;
        for (size_t i = 0; i < n; i++) {
                char *comm = cont_comm(guards[i]);
                fprintf(stderr, "# mirakuru-run's child %d: %s\n", (int) guards[i], comm ?: "?");
                if (comm && strcmp(comm, "mirakuru-guard") == 0) {
                        assert_int_equal(guard, 0);
                        guard = guards[i];
                }
                free(comm);
        }
        free(guards);
        assert_true(guard > 0);
        assert_int_equal(count_pipes_of(guard, st.st_ino, &that), 0);
        assert_int_equal(that, 0);
        for (int fd = 0; fd <= 2; fd++) {
                char path[64], link[256];
                ssize_t l;
                snprintf(path, sizeof path, "/proc/%d/fd/%d", (int) guard, fd);
                l = readlink(path, link, sizeof link - 1);
                assert_true(l > 0);
                link[l] = '\0';
                assert_string_equal(link, "/dev/null");
        }

        /* Let --then finish, then read the capture to its end. */
        int w = open(fifo, O_WRONLY | O_CLOEXEC);
        assert_true(w >= 0);
        close(w);
        uint64_t end = test_now_usec() + 60 * MK_USEC_PER_SEC;
        for (;;) {
                struct pollfd pfd = { .fd = out[0], .events = POLLIN };
                char buf[4096];
                int64_t left = (int64_t) (end - MIN(test_now_usec(), end)) / 1000;
                ssize_t l;
                if (left <= 0)
                        fail_msg("the capture of mirakuru-run's output did not end");
                if (poll(&pfd, 1, (int) left) <= 0)
                        continue;
                l = read(out[0], buf, sizeof buf);
                if (l == 0)
                        break;
                assert_true(l > 0 || errno == EINTR);
        }
        close(out[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_true(test_wait_pid_gone(guard, GONE_USEC));
        assert_true(cont_all_gone(dir, 0));

        free(fifo);
        free(started);
        free(then);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

int main(void) {
        const char *which;

        backend = cont_backend_from_env(&which);
        (void) cont_backend_enter(backend);

        /* A soft limit below the hard one, as is common: the guard raises its own. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > 1024) {
                rl.rlim_cur = 1024;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_guard_for_many),
                cmocka_unit_test(test_guard_gone_after_normal_exit),
                cmocka_unit_test(test_normal_exit_with_a_live_service),
                cmocka_unit_test(test_supervisor_killed_several),
                cmocka_unit_test(test_fork_then_start),
                cmocka_unit_test(test_killed_guard_is_replaced),
                cmocka_unit_test(test_guard_does_not_pin_memory),
                cmocka_unit_test(test_cli_capture_does_not_hang),
        };
        int r = cmocka_run_group_tests_name(which, tests, NULL, NULL);
        cont_cgroup_leave();
        return r;
}

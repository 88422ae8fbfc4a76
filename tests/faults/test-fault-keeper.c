/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Issue 14: the process-group backend and a SIGKILLed supervisor. Without
 * a cgroup, a double-forked setsid() daemon cannot be attributed to its
 * service; it reparented to the supervisor (a subreaper), and when that was
 * SIGKILLed, on to init: it survived in 17 of 20 runs, and a bounded fork
 * bomb of such daemons left 300. Now a keeper (mk_fork_keeper(): a
 * subreaper above the supervisor, which mirakuru-run forks where the
 * process-group backend will be used) kills every descendant left.
 *
 * Each case runs RUNS times and counts survivors: the service makes one
 * setsid() child and a bounded bomb of 2^(DEPTH+2) - 2 double-forked
 * setsid() daemons, and once it is ready the process the user started
 * (the keeper) or the supervisor below it is SIGKILLed. 0 survivors in
 * every run. Through mirakuru-run --containment process-group, and through
 * the library (a program that calls mk_fork_keeper() first). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault-common.h"
#include "fault-fixture.h"
#include "test-util.h"
#include "util/macro.h"

#define RUNS 10
#define DEPTH 5
#define N_BOMB ((1u << (DEPTH + 2)) - 2)
/* main process + setsid child + the bomb */
#define N_RECORDED (2 + N_BOMB)

typedef enum Target {
        TARGET_STARTED,    /* the pid the user started (the keeper, if any) */
        TARGET_SUPERVISOR, /* the process that supervises (below the keeper) */
} Target;

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static bool comm_is(pid_t pid, const char *comm) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
        _cleanup_free_ char *name = test_read_file(path);
        return name && strncmp(name, comm, strlen(comm)) == 0 && name[strlen(comm)] == '\n';
}

/* When PID is a keeper (comm "mirakuru-keeper"), its child: the program
 * (under valgrind its comm is valgrind's); else 0. */
static pid_t kept_child(pid_t pid) {
        char path[128];
        _cleanup_free_ char *children = NULL;

        if (!comm_is(pid, "mirakuru-keeper"))
                return 0;
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) pid, (int) pid);
        children = test_read_file(path);
        return children ? (pid_t) atoi(children) : 0;
}

/* SIGKILLs TARGET, waits for STARTED (our child), and counts the recorded
 * processes that are not gone within FAULT_GONE_USEC (killing them). */
static unsigned kill_and_count(pid_t started, pid_t supervisor, Target target, const char *what) {
        pid_t victim = target == TARGET_SUPERVISOR && supervisor > 0 ? supervisor : started;
        unsigned survivors = 0;
        size_t n = 0;
        int status;

        assert_int_equal(kill(victim, SIGKILL), 0);
        assert_int_equal(waitpid(started, &status, 0), started);
        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
        assert_true(n >= N_RECORDED);
        for (size_t i = 0; i < n; i++)
                if (!test_wait_pid_gone(pids[i], survivors ? 0 : FAULT_GONE_USEC)) {
                        (void) kill(pids[i], SIGKILL);
                        survivors++;
                }
        fprintf(stderr, "# %s, %s SIGKILLed (pid %d; %s): %u of %zu processes survived\n", what,
                victim == started ? "the started process" : "the supervisor", (int) victim,
                supervisor > 0 ? "a keeper above the supervisor" : "no keeper", survivors, n);
        return survivors;
}

static void wait_ready(const char *log) {
        for (int k = 0; k < 6000; k++) {
                _cleanup_free_ char *text = test_read_file(log);
                if (text && strstr(text, "ready\n"))
                        return;
                sleep_ms(5);
        }
        fail_msg("the service did not become ready");
}

static void cli_case(Target target, unsigned *survivors, unsigned *runs) {
        char log[4300], depth[16];
        snprintf(log, sizeof log, "%s/log", fault_dir);
        snprintf(depth, sizeof depth, "%d", DEPTH);
        const char *argv[] = { "mirakuru-run", "--containment", "process-group", "--log", log, "--output", "ready",
                               "--then", "sleep 300", "--", fault_service(), "record", fault_records,
                               "setsid-child", fault_records, "setsid-bomb", fault_records, depth,
                               "out", "ready", "pause", NULL };
        (void) unlink(fault_records);
        (void) unlink(log);
        pid_t cli = fork();
        assert_true(cli >= 0);
        if (cli == 0) {
                execv(test_mirakuru_run(), (char **) argv);
                _exit(127);
        }
        size_t n = 0;
        free(fault_wait_pids(fault_records, N_RECORDED, FAULT_WAIT_USEC, &n));
        assert_true(n >= N_RECORDED);
        wait_ready(log);
        sleep_ms(50);
        *survivors += kill_and_count(cli, kept_child(cli), target, "mirakuru-run");
        (*runs)++;
        fault_reap();
}

/* The library: a program that calls mk_fork_keeper() first, then starts the
 * service on the process-group backend, reports "SUPERVISOR_PID\n" and runs
 * its loop; SIGTERM (what it gets if its keeper dies) ends the loop, and
 * it returns from main, exit() sweeping what is left. */
static _Noreturn void library_program(int report_fd) {
        char depth[16];
        snprintf(depth, sizeof depth, "%d", DEPTH);
        const char *argv[] = { fault_service(), "record", fault_records, "setsid-child", fault_records,
                               "setsid-bomb", fault_records, depth, "out", "ready", "pause", NULL };
        sd_event *event = NULL;
        MkExecutor *e = NULL;
        sigset_t term;

        if (mk_fork_keeper(MK_CONTAINMENT_PROCESS_GROUP) != 1)
                _exit(2);
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &term, NULL) < 0 || sd_event_new(&event) < 0 ||
            sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL) < 0 || mk_executor_new(&e) < 0 ||
            mk_executor_set_argv(e, argv) < 0 || mk_executor_attach_event(e, event, 0) < 0 ||
            mk_executor_set_containment(e, MK_CONTAINMENT_PROCESS_GROUP) < 0 ||
            mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT) < 0 || mk_executor_start(e) < 0)
                _exit(3);
        dprintf(report_fd, "%d\n", (int) getpid());
        close(report_fd);
        (void) sd_event_loop(event);
        (void) mk_executor_stop(e);
        exit(0);
}

static void library_case(Target target, unsigned *survivors, unsigned *runs) {
        char line[64] = "";
        int p[2], status;

        (void) unlink(fault_records);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t started = fork();
        assert_true(started >= 0);
        if (started == 0) {
                close(p[0]);
                library_program(p[1]);
        }
        close(p[1]);
        FILE *f = fdopen(p[0], "re");
        assert_non_null(f);
        if (!fgets(line, sizeof line, f)) {
                assert_int_equal(waitpid(started, &status, 0), started);
                fail_msg("the program failed before reporting (status 0x%x)", status);
        }
        fclose(f);
        pid_t supervisor = (pid_t) atoi(line);
        assert_true(supervisor > 0 && supervisor != started);
        size_t n = 0;
        free(fault_wait_pids(fault_records, N_RECORDED, FAULT_WAIT_USEC, &n));
        assert_true(n >= N_RECORDED);
        sleep_ms(50);
        *survivors += kill_and_count(started, supervisor, target, "a library program");
        (*runs)++;
        fault_reap();
}

static void test_cli_supervisor_killed(void **state) {
        unsigned survivors = 0, runs = 0;
        (void) state;
        for (int i = 0; i < RUNS; i++)
                cli_case(i % 2 ? TARGET_SUPERVISOR : TARGET_STARTED, &survivors, &runs);
        fprintf(stderr, "# mirakuru-run: %u survivors in %u runs\n", survivors, runs);
        assert_int_equal(survivors, 0);
}

static void test_library_supervisor_killed(void **state) {
        unsigned survivors = 0, runs = 0;
        (void) state;
        for (int i = 0; i < RUNS; i++)
                library_case(i % 2 ? TARGET_STARTED : TARGET_SUPERVISOR, &survivors, &runs);
        fprintf(stderr, "# library: %u survivors in %u runs\n", survivors, runs);
        assert_int_equal(survivors, 0);
}

/* mirakuru-run with a keeper is still what the user started: its exit
 * status, a SIGTERM sent to it (forwarded: the services are stopped in
 * order, the --then command's status comes back), and nothing left. */
static void test_cli_keeper_transparent(void **state) {
        char log[4300];
        int status;
        (void) state;

        snprintf(log, sizeof log, "%s/log", fault_dir);
        {
                const char *argv[] = { "mirakuru-run", "--containment", "process-group", "--then", "exit 7", "--",
                                       fault_service(), "record", fault_records, "setsid-child", fault_records,
                                       "pause", NULL };
                (void) unlink(fault_records);
                pid_t cli = fork();
                assert_true(cli >= 0);
                if (cli == 0) {
                        execv(test_mirakuru_run(), (char **) argv);
                        _exit(127);
                }
                assert_int_equal(waitpid(cli, &status, 0), cli);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 7);
                /* The setsid child escapes the process-group stop, but not the sweep. */
                fault_assert_records_gone("--then exit 7");
        }
        {
                const char *argv[] = { "mirakuru-run", "--containment", "process-group", "--log", log, "--output",
                                       "ready", "--", fault_service(), "record", fault_records, "setsid-child",
                                       fault_records, "out", "ready", "pause", NULL };
                (void) unlink(fault_records);
                pid_t cli = fork();
                assert_true(cli >= 0);
                if (cli == 0) {
                        execv(test_mirakuru_run(), (char **) argv);
                        _exit(127);
                }
                size_t n;
                free(fault_wait_pids(fault_records, 2, FAULT_WAIT_USEC, &n));
                wait_ready(log);
                assert_true(kept_child(cli) > 0); /* a keeper is there */
                assert_int_equal(kill(cli, SIGTERM), 0);
                assert_int_equal(waitpid(cli, &status, 0), cli);
                /* mirakuru-run's answer to SIGTERM in the foreground: stopped, 143 */
                fprintf(stderr, "# SIGTERM to the keeper: status 0x%x\n", status);
                assert_true(WIFEXITED(status) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
                fault_assert_records_gone("SIGTERM to the keeper");
        }
        fault_reap();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_cli_supervisor_killed, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_library_supervisor_killed, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_cli_keeper_transparent, fault_setup, fault_teardown),
        };
        return cmocka_run_group_tests_name("keeper", tests, NULL, NULL);
}

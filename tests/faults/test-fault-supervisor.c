/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor is SIGKILLed at each phase of a service's life; whatever
 * phase, nothing of the service may outlive it (checked by pid), and the
 * cgroup the library made must go too. The backend comes from
 * $MIRAKURU_TEST_CONTAINMENT (cgroup or process-group); the phase "at the
 * start gate" uses a systemd manager that never answers StartTransientUnit,
 * so the child stays held at the gate until the supervisor dies. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cont-common.h"
#include "util/macro.h"
#include "fault-common.h"
#include "test-util.h"

static MkContainment backend;

typedef enum Phase {
        PHASE_GATE,
        PHASE_PROBES,
        PHASE_RUNNING,
        PHASE_TEARDOWN,
} Phase;

static const char *const phase_name[] = {
        [PHASE_GATE] = "at the start gate",
        [PHASE_PROBES] = "during probes",
        [PHASE_RUNNING] = "while running",
        [PHASE_TEARDOWN] = "during teardown",
};

/* The supervisor (a forked child): starts the service, reports "PID
 * CGROUP\n" on REPORT_FD once in PHASE, and keeps its loop running. */
static _Noreturn void supervisor(Phase phase, const char *records, const char *bus, int report_fd) {
        const char *argv[] = { fault_service(), "record", records, "child", records, "out", "ready", "pause", NULL };
        const char *argv_stubborn[] = { fault_service(), "ignore-term", "record", records, "child", records,
                                        "out", "ready", "pause", NULL };
        sd_event *event = NULL;
        MkExecutor *e = NULL;
        int r;

        if (sd_event_new(&event) < 0 || mk_executor_new(&e) < 0)
                _exit(3);
        /* Only the teardown case keeps the stop signal from working. */
        if (mk_executor_set_argv(e, phase == PHASE_TEARDOWN ? argv_stubborn : argv) < 0 ||
            mk_executor_attach_event(e, event, 0) < 0 ||
            mk_executor_set_containment(e, phase == PHASE_GATE ? MK_CONTAINMENT_SYSTEMD : backend) < 0 ||
            mk_executor_set_stop_timeout(e, 120 * MK_USEC_PER_SEC) < 0 ||
            mk_executor_add_output_probe(e, phase == PHASE_PROBES ? "^never$" : "^ready$", MK_STREAM_STDOUT) < 0)
                _exit(4);
        if (bus && mk_executor_set_bus_address(e, bus) < 0)
                _exit(5);
        if (phase == PHASE_GATE || phase == PHASE_PROBES)
                r = mk_executor_start_async(e, NULL, NULL);
        else
                r = mk_executor_start(e);
        if (r < 0) {
                fprintf(stderr, "supervisor: start: %s\n", mk_executor_get_error(e));
                _exit(6);
        }
        if (phase == PHASE_TEARDOWN && mk_executor_stop_async(e, NULL, NULL) < 0)
                _exit(7);
        dprintf(report_fd, "%d %s\n", (int) mk_executor_get_pid(e), mk_executor_get_cgroup(e) ?: "-");
        close(report_fd);
        (void) sd_event_loop(event);
        _exit(8);
}

/* Starts a fake-manager that never answers; returns its bus address. */
static MkExecutor *hanging_manager(const char *dir, char **ret_bus) {
        MkExecutor *m = NULL;
        char *sock;
        const char *helper = test_helper("fake-manager");

        assert_true(asprintf(&sock, "%s/manager", dir) > 0);
        const char *argv[] = { helper, sock, "hang", NULL };
        assert_int_equal(mk_executor_new(&m), 0);
        assert_int_equal(mk_executor_set_argv(m, argv), 0);
        assert_int_equal(mk_executor_set_containment(m, MK_CONTAINMENT_PROCESS_GROUP), 0);
        assert_int_equal(mk_executor_add_output_probe(m, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(m), 0);
        assert_true(asprintf(ret_bus, "unix:path=%s", sock) > 0);
        free(sock);
        free((char *) helper); /* the executor keeps a copy of argv */
        return m;
}

static void kill_supervisor_in(Phase phase) {
        _cleanup_(mk_executor_unrefp) MkExecutor *manager = NULL;
        char *dir = test_make_temp_dir(), *records, *bus = NULL, line[4200] = "";
        pid_t sup, main_pid = 0, *pids = NULL;
        size_t n = 0;
        int p[2], status;

        fprintf(stderr, "# supervisor SIGKILLed %s (%s)\n", phase_name[phase],
                phase == PHASE_GATE ? "systemd, manager hangs" : mk_containment_to_string(backend));
        assert_true(asprintf(&records, "%s/pids", dir) > 0);
        if (phase == PHASE_GATE)
                manager = hanging_manager(dir, &bus);

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        sup = fork();
        assert_true(sup >= 0);
        if (sup == 0) {
                close(p[0]);
                supervisor(phase, records, bus, p[1]);
        }
        close(p[1]);
        FILE *f = fdopen(p[0], "re");
        assert_non_null(f);
        if (!fgets(line, sizeof line, f)) {
                assert_int_equal(waitpid(sup, &status, 0), sup);
                fail_msg("the supervisor failed before reporting (status 0x%x)", status);
        }
        fclose(f);
        char cgroup[4200] = "";
        assert_int_equal(sscanf(line, "%d %4199s", &main_pid, cgroup), 2);
        assert_true(main_pid > 0);
        assert_true(test_pid_alive(main_pid));

        if (phase == PHASE_GATE) {
                /* Held at the gate while the manager sits on StartTransientUnit
                 * (it recorded the pid it was asked to move); the program never
                 * ran, so nothing is recorded. */
                char asked[4300];
                size_t m;
                snprintf(asked, sizeof asked, "%s/manager.pids", dir);
                pid_t *moved = fault_wait_pids(asked, 1, FAULT_WAIT_USEC, &m);
                assert_int_equal(m, 1);
                assert_int_equal(moved[0], main_pid);
                free(moved);
                pids = malloc(sizeof *pids);
                pids[0] = main_pid;
                n = 1;
        } else {
                pids = fault_wait_pids(records, 2, FAULT_WAIT_USEC, &n);
                assert_true(n >= 2);
                assert_int_equal(pids[0], main_pid);
                for (size_t i = 0; i < n; i++)
                        assert_true(test_pid_alive(pids[i]));
        }

        assert_int_equal(kill(sup, SIGKILL), 0);
        assert_int_equal(waitpid(sup, &status, 0), sup);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        fault_assert_gone(pids, n, FAULT_GONE_USEC, phase_name[phase]);
        if (phase == PHASE_GATE) {
                /* It never got past the gate: still nothing recorded. */
                size_t m;
                free(fault_read_pids(records, &m));
                assert_int_equal(m, 0);
        }
        if (strcmp(cgroup, "-") != 0 && backend == MK_CONTAINMENT_CGROUP)
                fault_assert_cgroup_gone(cgroup, FAULT_GONE_USEC);
        if (manager)
                assert_true(mk_executor_stop(manager) >= 0);
        free(pids);
        free(bus);
        free(records);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

static void test_killed_at_gate(void **state) {
        (void) state;
        kill_supervisor_in(PHASE_GATE);
}

static void test_killed_during_probes(void **state) {
        (void) state;
        kill_supervisor_in(PHASE_PROBES);
}

static void test_killed_while_running(void **state) {
        (void) state;
        kill_supervisor_in(PHASE_RUNNING);
}

static void test_killed_during_teardown(void **state) {
        (void) state;
        kill_supervisor_in(PHASE_TEARDOWN);
}

int main(void) {
        const char *which = getenv("MIRAKURU_TEST_CONTAINMENT");

        if (!which || mk_containment_from_string(which, &backend) < 0 ||
            (backend != MK_CONTAINMENT_CGROUP && backend != MK_CONTAINMENT_PROCESS_GROUP)) {
                fprintf(stderr, "set MIRAKURU_TEST_CONTAINMENT to cgroup or process-group\n");
                return EXIT_FAILURE;
        }
        if (backend == MK_CONTAINMENT_CGROUP)
                (void) cont_cgroup_enter(); /* skips unless root with cgroup v2 */

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_killed_at_gate),
                cmocka_unit_test(test_killed_during_probes),
                cmocka_unit_test(test_killed_while_running),
                cmocka_unit_test(test_killed_during_teardown),
        };
        int r = cmocka_run_group_tests_name(which, tests, NULL, NULL);
        cont_cgroup_leave();
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd backend when the manager misbehaves.
 *  - Without $MIRAKURU_TEST_BUS: a broken manager (tests/helpers/fake-manager)
 *    drops the connection on StartTransientUnit, answers with the wrong
 *    type, does not know the method, or never answers. The start falls back
 *    to a cgroup of our own or fails by the deadline with a message; either
 *    way nothing is left.
 *  - Under tests/sandbox/mirakuru-sandbox ($MIRAKURU_TEST_BUS set): the real
 *    manager is SIGKILLed while a service runs in its scope; stop still
 *    takes every process, and a later start says clearly what it got. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault-common.h"
#include "fault-fixture.h"
#include "util/macro.h"
#include "test-util.h"

static MkExecutor *service(const char *bus) {
        const char *argv[] = { fault_service(), "record", fault_records, "child", fault_records,
                               "out", "ready", "pause", NULL };
        MkExecutor *e = NULL;

        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_containment(e, MK_CONTAINMENT_SYSTEMD), 0);
        assert_int_equal(mk_executor_set_bus_address(e, bus), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_stop_timeout(e, 5 * MK_USEC_PER_SEC), 0);
        return e;
}

/* ---- a broken manager ---- */

static void broken_manager(const char *mode) {
        _cleanup_(mk_executor_unrefp) MkExecutor *manager = NULL, *e = NULL;
        char sock[4300], *bus;
        const char *argv[] = { test_helper("fake-manager"), sock, mode, NULL };
        int r;

        snprintf(sock, sizeof sock, "%s/manager", fault_dir);
        assert_int_equal(mk_executor_new(&manager), 0);
        assert_int_equal(mk_executor_set_argv(manager, argv), 0);
        assert_int_equal(mk_executor_set_containment(manager, MK_CONTAINMENT_PROCESS_GROUP), 0);
        assert_int_equal(mk_executor_add_output_probe(manager, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(manager), 0);
        assert_true(asprintf(&bus, "unix:path=%s", sock) > 0);

        e = service(bus);
        assert_int_equal(mk_executor_set_timeout(e, 4 * MK_USEC_PER_SEC), 0);
        uint64_t t0 = test_now_usec();
        r = mk_executor_start(e);
        fprintf(stderr, "# manager that does '%s': start %d (%s) after %llu ms; %s: %s\n", mode, r,
                r < 0 ? strerror(-r) : "ok", (unsigned long long) ((test_now_usec() - t0) / 1000),
                mk_containment_to_string(mk_executor_get_containment(e)),
                mk_executor_get_containment_reason(e) ?: "(no reason)");
        if (r == 0) {
                /* Fell back: to a cgroup of our own, and says why. */
                assert_int_not_equal(mk_executor_get_containment(e), MK_CONTAINMENT_SYSTEMD);
                assert_non_null(mk_executor_get_containment_reason(e));
                assert_true(mk_executor_stop(e) >= 0);
        } else {
                /* Failed: by the deadline at the latest, saying what it waited for. */
                assert_true(fault_error_has(e, "systemd"));
                assert_true(test_now_usec() - t0 < 30 * MK_USEC_PER_SEC);
        }
        fault_assert_records_gone(mode);
        /* Also the child the manager was asked to move (held at the gate). */
        char asked[4400];
        size_t n;
        snprintf(asked, sizeof asked, "%s.pids", sock);
        pid_t *pids = fault_read_pids(asked, &n);
        fault_assert_gone(pids, n, 0, "the child the manager was asked to move");
        free(pids);
        assert_true(mk_executor_stop(manager) >= 0);
        free(bus);
        free((char *) argv[0]);
}

static void test_manager_disconnects(void **state) {
        (void) state;
        broken_manager("disconnect");
}

static void test_manager_bad_reply(void **state) {
        (void) state;
        broken_manager("bad-reply");
}

static void test_manager_no_method(void **state) {
        (void) state;
        broken_manager("no-method");
}

static void test_manager_hangs(void **state) {
        (void) state;
        broken_manager("hang");
}

/* ---- the real manager, killed ---- */

/* The pid of the process listening on the Unix socket of BUS ("unix:path=..."). */
static pid_t manager_pid(const char *bus) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ucred cred;
        socklen_t len = sizeof cred;
        const char *path = strstr(bus, "path=");
        int fd;

        assert_non_null(path);
        path += 5;
        assert_true(strcspn(path, ",") < sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strcspn(path, ","));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
        close(fd);
        return cred.pid;
}

static void test_manager_killed_mid_run(void **state) {
        const char *bus = getenv("MIRAKURU_TEST_BUS");
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service(bus);
        pid_t manager, *pids;
        size_t n;
        int r;
        (void) state;

        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_get_containment(e), MK_CONTAINMENT_SYSTEMD);
        pids = fault_wait_pids(fault_records, 2, FAULT_WAIT_USEC, &n);
        assert_int_equal(n, 2);
        free(pids);

        manager = manager_pid(bus);
        fprintf(stderr, "# killing the sandboxed manager, pid %d\n", (int) manager);
        assert_true(manager > 1);
        assert_int_equal(kill(manager, SIGKILL), 0);
        assert_true(test_wait_pid_gone(manager, FAULT_GONE_USEC));

        r = mk_executor_stop(e);
        fprintf(stderr, "# stop without a manager: %d %s\n", r, mk_executor_get_error(e) ?: "");
        assert_true(r >= 0);
        fault_assert_records_gone("a stop after the manager died");

        /* A new start: no manager to ask; fails clearly (only this bus was given). */
        (void) unlink(fault_records);
        r = mk_executor_start(e);
        fprintf(stderr, "# start without a manager: %d: %s\n", r, mk_executor_get_error(e) ?: "");
        if (r == 0)
                assert_true(mk_executor_stop(e) >= 0);
        else
                assert_true(fault_error_has(e, "systemd"));
        fault_assert_records_gone("a start after the manager died");
}

int main(void) {
        if (getenv("MIRAKURU_TEST_BUS")) {
                const struct CMUnitTest tests[] = {
                        cmocka_unit_test_setup_teardown(test_manager_killed_mid_run, fault_setup, fault_teardown),
                };
                return cmocka_run_group_tests_name("manager-killed", tests, NULL, NULL);
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_manager_disconnects, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_manager_bad_reply, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_manager_no_method, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_manager_hangs, fault_setup, fault_teardown),
        };
        return cmocka_run_group_tests_name("bus-errors", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MkGroup: dependency order, parallel start, conditions, fail fast with
 * zero survivors, cycle and unknown-dependency errors, reverse-order stop.
 * Orders are proven by what the services see and write, never by timing. */
#include <systemd/sd-event.h>

#include "group-test.h"

static void add(MkGroup *g, const char *name, MkExecutor *e) {
        assert_int_equal(mk_group_add(g, name, e), 0);
        mk_executor_unref(e);
}

static void ready_on(MkExecutor *e, const char *regex) {
        assert_int_equal(mk_executor_add_output_probe(e, regex, MK_STREAM_STDOUT), 0);
}

static int start(MkGroup *g) {
        int r = mk_group_start(g);
        if (r != 0)
                fprintf(stderr, "group start: %s: %s\n", strerror(-r), mk_group_get_error(g) ?: "");
        return r;
}

static MkServiceStatus status_of(MkGroup *g, const char *name) {
        MkServiceStatus s;
        assert_int_equal(mk_group_get_service_status(g, name, &s), 0);
        return s;
}

/* app may start only when db answers: app connects first and exits 3 if it
 * cannot, which would fail the start. */
static void test_dependency_order(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *sock = test_path_in(test_dir, "db.sock");
        MkExecutor *db = gservice("sleep-ms", "200", "unix", sock, "pause", NULL);
        MkExecutor *app = gservice("connect-unix", sock, "out", "app up", "pause", NULL);

        assert_int_equal(mk_executor_add_unix_probe(db, sock), 0);
        ready_on(app, "app up");
        assert_int_equal(mk_group_new(&g), 0);
        /* Dependent first: the order of adding does not matter. */
        add(g, "app", app);
        add(g, "db", db);
        assert_int_equal(mk_group_add_dependency(g, "app", "db", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add(g, "db", db), -EEXIST);

        assert_int_equal(start(g), 0);
        assert_int_equal(status_of(g, "db"), MK_SERVICE_READY);
        assert_int_equal(status_of(g, "app"), MK_SERVICE_READY);
        assert_string_equal(mk_executor_get_name(mk_group_get_executor(g, "app")), "app");
        pid_t pids[2] = { mk_executor_get_pid(mk_group_get_executor(g, "db")),
                          mk_executor_get_pid(mk_group_get_executor(g, "app")) };
        assert_int_equal(mk_group_start(g), -EBUSY);
        assert_int_equal(mk_group_stop(g), 0);
        for (int i = 0; i < 2; i++)
                assert_false(test_pid_alive(pids[i]));
        assert_int_equal(status_of(g, "db"), MK_SERVICE_STOPPED);

        /* A group starts again after a stop. */
        assert_int_equal(start(g), 0);
        assert_int_equal(mk_group_stop(g), 0);
}

/* a waits for b's file before it is ready and b for a's: only a parallel
 * start gets both ready (a sequential one deadlocks and fails). */
static void test_parallel_start(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *fa = test_path_in(test_dir, "a.started"), *fb = test_path_in(test_dir, "b.started");
        MkExecutor *a = gservice("touch", fa, "await", fb, "out", "up", "pause", NULL);
        MkExecutor *b = gservice("touch", fb, "await", fa, "out", "up", "pause", NULL);
        MkExecutor *c = gservice("require", fa, "require", fb, "out", "up", "pause", NULL);

        ready_on(a, "^up$");
        ready_on(b, "^up$");
        ready_on(c, "^up$");
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "a", a);
        add(g, "b", b);
        add(g, "c", c);
        assert_int_equal(mk_group_add_dependency(g, "c", "a", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add_dependency(g, "c", "b", MK_CONDITION_LOG_READY), 0);
        assert_int_equal(start(g), 0);
        assert_int_equal(mk_group_stop(g), 0);
}

/* process_completed_successfully: app starts only after migrate exited 0;
 * process_started: sidecar needs only db spawned (db is never ready before
 * the sidecar runs: it waits for the sidecar's file). */
static void test_conditions(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *migrated = test_path_in(test_dir, "migrated"), *side = test_path_in(test_dir, "sidecar");
        MkExecutor *migrate = gservice("sleep-ms", "100", "touch", migrated, "exit", "0", NULL);
        MkExecutor *app = gservice("require", migrated, "out", "up", "pause", NULL);
        MkExecutor *db = gservice("await", side, "out", "up", "pause", NULL);
        MkExecutor *sidecar = gservice("touch", side, "pause", NULL);

        ready_on(app, "up");
        ready_on(db, "up");
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "migrate", migrate);
        add(g, "app", app);
        add(g, "db", db);
        add(g, "sidecar", sidecar);
        assert_int_equal(mk_group_add_dependency(g, "app", "migrate", MK_CONDITION_COMPLETED), 0);
        assert_int_equal(mk_group_add_dependency(g, "sidecar", "db", MK_CONDITION_STARTED), 0);
        assert_int_equal(start(g), 0);
        assert_int_equal(status_of(g, "migrate"), MK_SERVICE_COMPLETED);
        assert_int_equal(status_of(g, "app"), MK_SERVICE_READY);
        assert_int_equal(mk_group_stop(g), 0);
}

/* cache dies before it is ready: db (ready) and cache's child are torn
 * down, app never starts, and the error names cache with its output. */
static void test_fail_fast(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *sock = test_path_in(test_dir, "db.sock"), *dbpid = test_path_in(test_dir, "db.pid"),
                           *child = test_path_in(test_dir, "child.pid"), *apprun = test_path_in(test_dir, "app.ran");
        MkExecutor *db = gservice("pidfile", dbpid, "unix", sock, "pause", NULL);
        MkExecutor *cache = gservice("await", dbpid, "child", child, "await", child, "out",
                                     "cache: config is broken", "exit", "5", NULL);
        MkExecutor *app = gservice("touch", apprun, "pause", NULL);

        assert_int_equal(mk_executor_add_unix_probe(db, sock), 0);
        ready_on(cache, "never printed");
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "db", db);
        add(g, "cache", cache);
        add(g, "app", app);
        assert_int_equal(mk_group_add_dependency(g, "app", "db", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add_dependency(g, "app", "cache", MK_CONDITION_READY), 0);

        assert_int_equal(mk_group_start(g), -ECHILD);
        assert_string_equal(mk_group_get_failed(g), "cache");
        assert_contains(mk_group_get_error(g), "service cache failed to start");
        assert_contains(mk_group_get_error(g), "exited with status 5");
        assert_contains(mk_group_get_error(g), "cache: config is broken");
        assert_int_equal(status_of(g, "cache"), MK_SERVICE_FAILED);
        assert_int_equal(status_of(g, "app"), MK_SERVICE_WAITING);
        assert_int_equal(access(apprun, F_OK), -1);
        /* Zero survivors, by pid. */
        assert_true(test_wait_pid_gone(test_read_pid_file(dbpid), 0));
        assert_true(test_wait_pid_gone(test_read_pid_file(child), 0));
        assert_int_equal(mk_executor_get_state(mk_group_get_executor(g, "db")), MK_STATE_IDLE);
}

/* A probe that never passes: the error names the service and the probe. */
static void test_fail_timeout_names_probe(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *sock = test_path_in(test_dir, "never.sock"), *pid = test_path_in(test_dir, "web.pid");
        MkExecutor *web = gservice("pidfile", pid, "out", "web: waiting for godot", "pause", NULL);
        MkExecutor *ok = gservice("pause", NULL);

        assert_int_equal(mk_executor_add_unix_probe(web, sock), 0);
        assert_int_equal(mk_executor_set_timeout(web, 1 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "ok", ok);
        add(g, "web", web);
        assert_int_equal(mk_group_start(g), -ETIMEDOUT);
        assert_string_equal(mk_group_get_failed(g), "web");
        assert_contains(mk_group_get_error(g), "web");
        assert_contains(mk_group_get_error(g), "unix");
        assert_contains(mk_group_get_error(g), "web: waiting for godot");
        assert_true(test_wait_pid_gone(test_read_pid_file(pid), 0));
        assert_int_equal(status_of(g, "ok"), MK_SERVICE_STOPPED);
}

/* A command that cannot be executed fails the group at once. */
static void test_fail_exec(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        MkExecutor *ok = gservice("pause", NULL), *bad = NULL;
        const char *argv[] = { "/nonexistent/mirakuru-test", NULL };

        assert_int_equal(mk_executor_new(&bad), 0);
        assert_int_equal(mk_executor_set_argv(bad, argv), 0);
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "ok", ok);
        add(g, "bad", bad);
        assert_int_equal(mk_group_add_dependency(g, "bad", "ok", MK_CONDITION_STARTED), 0);
        assert_int_equal(mk_group_start(g), -ENOENT);
        assert_string_equal(mk_group_get_failed(g), "bad");
        assert_int_equal(mk_executor_get_state(mk_group_get_executor(g, "ok")), MK_STATE_IDLE);
}

static void test_cycle(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;

        assert_int_equal(mk_group_new(&g), 0);
        add(g, "a", gservice("pause", NULL));
        add(g, "b", gservice("pause", NULL));
        add(g, "c", gservice("pause", NULL));
        add(g, "d", gservice("pause", NULL));
        assert_int_equal(mk_group_add_dependency(g, "d", "a", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add_dependency(g, "a", "b", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add_dependency(g, "b", "c", MK_CONDITION_STARTED), 0);
        assert_int_equal(mk_group_check(g), 0);
        assert_int_equal(mk_group_add_dependency(g, "c", "a", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_check(g), -ELOOP);
        assert_string_equal(mk_group_get_error(g), "dependency cycle: a -> b -> c -> a");
        assert_int_equal(mk_group_start(g), -ELOOP);
        assert_null(mk_group_get_failed(g));
        for (size_t i = 0; i < mk_group_get_n_services(g); i++)
                assert_int_equal(mk_executor_get_state(mk_group_get_executor(g, mk_group_get_service_name(g, i))),
                                 MK_STATE_IDLE);
        assert_int_equal(mk_group_stop(g), -ESRCH);
}

static void test_self_and_unknown_dependency(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;

        assert_int_equal(mk_group_new(&g), 0);
        add(g, "a", gservice("pause", NULL));
        assert_int_equal(mk_group_add_dependency(g, "a", "ghost", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_start(g), -ENOENT);
        assert_string_equal(mk_group_get_error(g), "service a depends on unknown service ghost");
        assert_int_equal(mk_group_add_dependency(g, "nobody", "a", MK_CONDITION_READY), -ENOENT);
        MkExecutor *bad = gservice("pause", NULL);
        assert_int_equal(mk_group_add(g, "x/y", bad), -EINVAL);
        mk_executor_unref(bad);

        _cleanup_(mk_group_unrefp) MkGroup *h = NULL;
        assert_int_equal(mk_group_new(&h), 0);
        add(h, "a", gservice("pause", NULL));
        assert_int_equal(mk_group_add_dependency(h, "a", "a", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_check(h), -ELOOP);
        assert_string_equal(mk_group_get_error(h), "dependency cycle: a -> a");
}

/* worker -> app -> {db, cache}: stop must go worker, app, then db and cache. */
static void test_reverse_stop_order(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *order = test_path_in(test_dir, "stop-order");
        const char *names[] = { "db", "cache", "app", "worker" };

        assert_int_equal(mk_group_new(&g), 0);
        for (size_t i = 0; i < 4; i++) {
                MkExecutor *e = gservice("on-term", order, names[i], "out", "up", "pause", NULL);
                ready_on(e, "up");
                add(g, names[i], e);
        }
        assert_int_equal(mk_group_add_dependency(g, "app", "db", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add_dependency(g, "app", "cache", MK_CONDITION_STARTED), 0);
        assert_int_equal(mk_group_add_dependency(g, "worker", "app", MK_CONDITION_READY), 0);
        assert_int_equal(start(g), 0);
        assert_int_equal(mk_group_stop(g), 0);

        _cleanup_str_ char *text = test_read_file(order);
        assert_non_null(text);
        fprintf(stderr, "stop order:\n%s", text);
        assert_true(strncmp(text, "worker\napp\n", 11) == 0);
        assert_true(strcmp(text + 11, "db\ncache\n") == 0 || strcmp(text + 11, "cache\ndb\n") == 0);
}

/* The unref of a running group stops it, in order, leaving nothing. */
static void test_unref_stops(void **state) {
        _cleanup_str_ char *order = test_path_in(test_dir, "stop-order"), *pid = test_path_in(test_dir, "b.pid");
        MkGroup *g = NULL;
        MkExecutor *a = gservice("on-term", order, "a", "out", "up", "pause", NULL);
        MkExecutor *b = gservice("on-term", order, "b", "pidfile", pid, "pause", NULL);

        ready_on(a, "up");
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "a", a);
        add(g, "b", b);
        assert_int_equal(mk_group_add_dependency(g, "b", "a", MK_CONDITION_READY), 0);
        assert_int_equal(start(g), 0);
        assert_true(test_wait_file(pid, WAIT_USEC));
        pid_t p = test_read_pid_file(pid);
        g = mk_group_unref(g);
        assert_false(test_pid_alive(p));
        _cleanup_str_ char *text = test_read_file(order);
        assert_string_equal(text, "b\na\n");
}

typedef struct Seen {
        char log[1024];
} Seen;

static void on_service(MkGroup *g, const char *name, MkExecutor *e, MkServiceStatus s, void *userdata) {
        Seen *seen = userdata;
        size_t n = strlen(seen->log);
        snprintf(seen->log + n, sizeof seen->log - n, "%s:%s ", name, mk_service_status_to_string(s));
}

static void test_service_handler(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        Seen seen = {};
        MkExecutor *a = gservice("out", "up", "pause", NULL);
        MkExecutor *b = gservice("out", "up", "pause", NULL);

        ready_on(a, "up");
        ready_on(b, "up");
        assert_int_equal(mk_group_new(&g), 0);
        add(g, "a", a);
        add(g, "b", b);
        assert_int_equal(mk_group_add_dependency(g, "b", "a", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_set_service_handler(g, on_service, &seen), 0);
        assert_int_equal(start(g), 0);
        assert_int_equal(mk_group_stop(g), 0);
        assert_string_equal(seen.log, "a:starting a:ready b:starting b:ready b:stopping b:stopped "
                                      "a:stopping a:stopped ");
}

static void test_conditions_parse(void **state) {
        MkCondition c;

        assert_int_equal(mk_condition_from_string("process_healthy", &c), 0);
        assert_int_equal(c, MK_CONDITION_READY);
        assert_int_equal(mk_condition_from_string("process_completed_successfully", &c), 0);
        assert_int_equal(c, MK_CONDITION_COMPLETED);
        assert_int_equal(mk_condition_from_string("process_started", &c), 0);
        assert_int_equal(c, MK_CONDITION_STARTED);
        assert_int_equal(mk_condition_from_string("process_log_ready", &c), 0);
        assert_int_equal(c, MK_CONDITION_LOG_READY);
        assert_int_equal(mk_condition_from_string("process_happy", &c), -EINVAL);
}

typedef struct Watch {
        const char *name;
        MkServiceStatus status;
        bool seen;
        bool start_done;
        int start_result;
} Watch;

static void on_watch(MkGroup *g, const char *name, MkExecutor *e, MkServiceStatus s, void *userdata) {
        Watch *w = userdata;
        if (strcmp(name, w->name) == 0 && s == w->status)
                w->seen = true;
}

static void on_start_done(MkGroup *g, int result, void *userdata) {
        Watch *w = userdata;
        w->start_done = true;
        w->start_result = result;
}

/* On the caller's loop: start without blocking, then stop while b still
 * starts: the start reports -ECANCELED, everything is gone, c never ran. */
static void test_async_cancel(void **state) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        _cleanup_str_ char *apid = test_path_in(test_dir, "a.pid"), *bpid = test_path_in(test_dir, "b.pid"),
                           *never = test_path_in(test_dir, "never.sock"), *cran = test_path_in(test_dir, "c.ran");
        MkExecutor *a = gservice("pidfile", apid, "out", "up", "pause", NULL);
        MkExecutor *b = gservice("pidfile", bpid, "pause", NULL);
        MkExecutor *c = gservice("touch", cran, "pause", NULL);
        sd_event *event = NULL;
        Watch w = { .name = "b", .status = MK_SERVICE_STARTING };

        assert_int_equal(sd_event_new(&event), 0);
        ready_on(a, "up");
        assert_int_equal(mk_executor_add_unix_probe(b, never), 0);
        assert_int_equal(mk_group_new(&g), 0);
        assert_int_equal(mk_group_attach_event(g, event, 0), 0);
        add(g, "a", a);
        add(g, "b", b);
        add(g, "c", c);
        assert_ptr_equal(mk_executor_get_event(mk_group_get_executor(g, "c")), event);
        assert_int_equal(mk_group_add_dependency(g, "b", "a", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_add_dependency(g, "c", "b", MK_CONDITION_READY), 0);
        assert_int_equal(mk_group_set_service_handler(g, on_watch, &w), 0);
        assert_false(mk_group_is_running(g));
        assert_int_equal(mk_group_start_async(g, on_start_done, &w), 0);
        assert_true(mk_group_is_running(g));
        assert_int_equal(test_run_until(event, &w.seen, WAIT_USEC), 0);
        assert_true(test_wait_file(bpid, WAIT_USEC));
        assert_false(w.start_done);

        assert_int_equal(mk_group_stop(g), 0);
        assert_true(w.start_done);
        assert_int_equal(w.start_result, -ECANCELED);
        assert_false(mk_group_is_running(g));
        assert_true(test_wait_pid_gone(test_read_pid_file(apid), 0));
        assert_true(test_wait_pid_gone(test_read_pid_file(bpid), 0));
        assert_int_equal(access(cran, F_OK), -1);
        assert_int_equal(status_of(g, "c"), MK_SERVICE_WAITING);
        g = mk_group_unref(g);
        sd_event_unref(event);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dependency_order, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_parallel_start, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_conditions, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_fail_fast, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_fail_timeout_names_probe, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_fail_exec, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_cycle, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_self_and_unknown_dependency, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_reverse_stop_order, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_unref_stops, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_service_handler, test_dir_setup, test_dir_teardown),
                cmocka_unit_test_setup_teardown(test_async_cancel, test_dir_setup, test_dir_teardown),
                cmocka_unit_test(test_conditions_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

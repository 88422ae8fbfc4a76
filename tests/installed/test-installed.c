/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library as a user's test suite gets it: built by tests/installed/run
 * against an installed prefix with `pkg-config` only (no header or helper
 * of this tree), once linked with libmirakuru.so and once with
 * libmirakuru.a, and run against real services: a shell service with an
 * output probe and a child of its own, Python's http.server behind an HTTP
 * probe (libcurl loaded by the installed library), a service that fails
 * its start, a group of two services in dependency order (the installed
 * mirakuru-group.h, through <mirakuru.h>). After each stop nothing of the
 * service is left.
 *
 * Usage: test-installed WORKDIR (a directory the test may write into).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mirakuru.h>

static char **main_argv;
static const char *workdir;

/* Names the library uses inside (hidden): an application may define its
 * own with other meanings, statically linked or not. */
void strv_free(char **v);
int env_get(const char *name);
uint64_t now_usec(void);
void *ring_new(size_t size);
void strv_free(char **v) { (void) v; }
int env_get(const char *name) { return name ? 7 : 0; }
uint64_t now_usec(void) { return 42; }
void *ring_new(size_t size) { return size ? NULL : NULL; }

static char *path_in(const char *name) {
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", workdir, name) > 0);
        return p;
}

static pid_t read_pid(const char *path) {
        FILE *f = fopen(path, "re");
        long pid = 0;
        if (!f)
                return 0;
        if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
        fclose(f);
        return (pid_t) pid;
}

/* Gone: no such process, or a zombie about to be reaped by whoever owns it. */
static int pid_gone(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        for (int i = 0; i < 200; i++) {
                FILE *f = fopen(path, "re");
                if (!f)
                        return 1;
                size_t n = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[n] = '\0';
                const char *paren = strrchr(buf, ')');
                if (paren && paren[1] == ' ' && paren[2] == 'Z')
                        return 1;
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return 0;
}

static uint16_t free_port(void) {
        /* Python picks one and says which; the service binds it right after. */
        FILE *p = popen("python3 -c 'import socket; s=socket.socket(); "
                        "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'", "re");
        unsigned port = 0;
        assert_non_null(p);
        assert_int_equal(fscanf(p, "%u", &port), 1);
        pclose(p);
        assert_true(port > 0 && port < 65536);
        return (uint16_t) port;
}

/* An output probe on a chatty shell service that starts a child of its own;
 * its argv is a char *[] as a test suite writes it (no cast, no warning). */
static void test_output_probe_and_teardown(void **state) {
        MkExecutor *e = NULL;
        char *pidfile = path_in("child.pid");
        char *script = NULL;
        char *out = NULL;
        size_t size = 0;

        assert_true(asprintf(&script, "echo starting; sleep 1000 & echo $! > '%s'; "
                                      "echo oops >&2; sleep 0.2; echo ready; wait", pidfile) > 0);
        char *argv[] = { "sh", "-c", script, NULL };
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, 20 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);

        pid_t main_pid = mk_executor_get_pid(e), child = read_pid(pidfile);
        assert_true(main_pid > 0);
        assert_true(child > 0);
        assert_int_equal(kill(child, 0), 0);
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &out, &size), 0);
        assert_non_null(strstr(out, "starting\n"));
        assert_non_null(strstr(out, "ready\n"));
        free(out);

        assert_true(mk_executor_stop(e) >= 0);
        assert_false(mk_executor_is_running(e));
        assert_true(pid_gone(main_pid));
        assert_true(pid_gone(child));
        assert_null(mk_executor_unref(e));
        free(script);
        free(pidfile);
}

/* Python's http.server, ready once it answers HTTP: the installed library
 * loads libcurl itself. */
static void test_http_probe(void **state) {
        MkExecutor *e = NULL;
        char port_s[16], *url = NULL;
        uint16_t port = free_port();
        const char *argv[] = { "python3", "-m", "http.server", port_s, "--bind", "127.0.0.1", NULL };

        snprintf(port_s, sizeof port_s, "%u", (unsigned) port);
        assert_true(asprintf(&url, "http://127.0.0.1:%u/", (unsigned) port) > 0);
        MkHttpProbe probe = { .url = url, .method = "GET" };
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_cwd(e, workdir), 0);
        assert_int_equal(mk_executor_add_http_probe(e, &probe), 0);
        assert_int_equal(mk_executor_set_timeout(e, 30 * MK_USEC_PER_SEC), 0);
        int r = mk_executor_start(e);
        if (r < 0)
                fail_msg("start: %s (%s)", strerror(-r), mk_executor_get_error(e));
        pid_t pid = mk_executor_get_pid(e);
        assert_true(pid > 0);
        /* A second server on that port is refused before it is spawned. */
        MkExecutor *again = NULL;
        assert_int_equal(mk_executor_new(&again), 0);
        assert_int_equal(mk_executor_set_argv(again, argv), 0);
        assert_int_equal(mk_executor_add_http_probe(again, &probe), 0);
        assert_int_equal(mk_executor_start(again), -EADDRINUSE);
        assert_null(mk_executor_unref(again));

        assert_true(mk_executor_stop(e) >= 0);
        assert_true(pid_gone(pid));
        assert_null(mk_executor_unref(e));
        free(url);
}

/* A service that fails before it is ready: the error says what it printed. */
static void test_failed_start_explains(void **state) {
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, "echo 'no config file' >&2; exit 3"), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "ready", MK_STREAM_BOTH), 0);
        assert_int_equal(mk_executor_start(e), -ECHILD);
        const char *error = mk_executor_get_error(e);
        assert_non_null(error);
        assert_non_null(strstr(error, "no config file"));
        assert_false(mk_executor_is_running(e));
        assert_null(mk_executor_unref(e));
}

/* A group: "app" starts only once "db" is ready and stops first. Each
 * appends to one file when it starts and when it gets SIGTERM. */
static void test_group_in_dependency_order(void **state) {
        char *log = path_in("group.log"), *db_cmd = NULL, *app_cmd = NULL;
        MkExecutor *db = NULL, *app = NULL;
        MkGroup *g = NULL;
        MkServiceStatus status;

        assert_true(asprintf(&db_cmd, "trap 'echo db-stop >> %s; exit 0' TERM; sleep 0.3; echo db-up >> %s; "
                             "echo ready; while :; do sleep 0.05; done", log, log) > 0);
        assert_true(asprintf(&app_cmd, "trap 'echo app-stop >> %s; exit 0' TERM; echo app-up >> %s; "
                             "echo ready; while :; do sleep 0.05; done", log, log) > 0);
        assert_int_equal(mk_executor_new(&db), 0);
        assert_int_equal(mk_executor_set_shell_command(db, db_cmd), 0);
        assert_int_equal(mk_executor_add_output_probe(db, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_new(&app), 0);
        assert_int_equal(mk_executor_set_shell_command(app, app_cmd), 0);
        assert_int_equal(mk_executor_add_output_probe(app, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_group_new(&g), 0);
        assert_int_equal(mk_group_add(g, "db", db), 0);
        assert_int_equal(mk_group_add(g, "app", app), 0);
        assert_int_equal(mk_group_add_dependency(g, "app", "db", MK_CONDITION_READY), 0);
        int r = mk_group_start(g);
        if (r < 0)
                fail_msg("group start: %s (%s)", strerror(-r), mk_group_get_error(g) ?: "no error text");
        assert_int_equal(mk_group_get_service_status(g, "app", &status), 0);
        assert_int_equal(status, MK_SERVICE_READY);
        pid_t db_pid = mk_executor_get_pid(db), app_pid = mk_executor_get_pid(app);
        assert_int_equal(mk_group_stop(g), 0);
        assert_true(pid_gone(db_pid));
        assert_true(pid_gone(app_pid));
        assert_null(mk_group_unref(g));
        assert_null(mk_executor_unref(db));
        assert_null(mk_executor_unref(app));

        char text[256] = "";
        FILE *f = fopen(log, "re");
        assert_non_null(f);
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        assert_string_equal(text, "db-up\napp-up\napp-stop\ndb-stop\n");
        free(log);
        free(db_cmd);
        free(app_cmd);
}

/* main()'s own char **argv is taken as it is; the application's strv_free()
 * and friends are its own. */
static void test_main_argv_and_own_symbols(void **state) {
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, main_argv), 0);
        assert_null(mk_executor_unref(e));
        strv_free(NULL);
        assert_int_equal(env_get("x"), 7);
        assert_int_equal(now_usec(), 42);
        assert_null(ring_new(1));
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
                return 2;
        }
        main_argv = argv;
        workdir = argv[1];
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output_probe_and_teardown),
                cmocka_unit_test(test_http_probe),
                cmocka_unit_test(test_failed_start_explains),
                cmocka_unit_test(test_group_in_dependency_order),
                cmocka_unit_test(test_main_argv_and_own_symbols),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

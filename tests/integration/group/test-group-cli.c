/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run -f FILE: a four-service file started in dependency order
 * and in parallel where allowed, prefixed output, --then, reverse-order
 * teardown with zero survivors, a failing service, a failing --then,
 * errors in the file (unknown key, cycle, unknown dependency) with
 * FILE:LINE, and a process-compose file that runs unchanged. */
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>

#include "cli-test.h"
#include "group-test.h"

#define EXIT_USAGE_STATUS 2

static const char *svc; /* the group-service helper */

static int setup(void **state) {
        svc = test_helper("group-service");
        return test_dir_setup(state);
}

static int teardown(void **state) {
        test_dir_teardown(state);
        free((char *) svc);
        svc = NULL;
        return 0;
}

/* Writes DIR/compose.yaml from a format where every "@" is replaced by the
 * temp dir and every "$S" by the helper's path; returns its path. */
static char *write_compose(const char *name, const char *text) {
        char *path = test_path_in(test_dir, name);
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        for (const char *p = text; *p; p++) {
                if (*p == '@')
                        fputs(test_dir, f);
                else if (*p == '$' && p[1] == 'S') {
                        fputs(svc, f);
                        p++;
                } else
                        fputc(*p, f);
        }
        assert_int_equal(fclose(f), 0);
        return path;
}

static void assert_gone(const char *name) {
        _cleanup_str_ char *file = test_path_in(test_dir, name);
        pid_t pid = test_read_pid_file(file);
        assert_true(pid > 0);
        assert_true(test_wait_pid_gone(pid, 0));
}

/* The four-service example of the issue: a unix-socket "db", a notify
 * "queue" (started in parallel: each waits for the other's file), a
 * one-shot "migration" that must complete before "app", an HTTP app. */
static const char four_services[] =
        "version: \"0.5\"\n"
        "processes:\n"
        "  db:\n"
        "    command: $S pidfile @/db.pid on-term @/stop-order db touch @/db.started await @/queue.started out 'db up' unix @/db.sock pause\n"
        "    unix: @/db.sock\n"
        "  queue:\n"
        "    command: $S pidfile @/queue.pid on-term @/stop-order queue touch @/queue.started await @/db.started notify READY=1 pause\n"
        "    notify: true\n"
        "  migration:\n"
        "    command: $S connect-unix @/db.sock out migrating touch @/migrated exit 0\n"
        "    depends_on:\n"
        "      db:\n"
        "        condition: process_healthy\n"
        "  app:\n"
        "    command: $S pidfile @/app.pid child @/app-child.pid on-term @/stop-order app require @/migrated connect-unix @/db.sock out 'app up' http %u\n"
        "    depends_on:\n"
        "      db:\n"
        "        condition: process_healthy\n"
        "      queue:\n"
        "        condition: process_healthy\n"
        "      migration:\n"
        "        condition: process_completed_successfully\n"
        "    readiness_probe:\n"
        "      http_get:\n"
        "        host: 127.0.0.1\n"
        "        port: %u\n"
        "        path: /health\n"
        "      period_seconds: 1\n"
        "      timeout_seconds: 2\n";

static char *four_service_file(void) {
        uint16_t port = cli_free_port();
        _cleanup_str_ char *text = NULL;
        assert_true(asprintf(&text, four_services, port, port) > 0);
        return write_compose("compose.yaml", text);
}

static void test_four_services_then(void **state) {
        _cleanup_str_ char *file = four_service_file(), *then = NULL, *order = test_path_in(test_dir, "stop-order");
        _cleanup_str_ char *then_out = test_path_in(test_dir, "then.out");
        CliRun r;

        assert_true(asprintf(&then, "cat %s/db.pid > %s && test -e %s/migrated", test_dir, then_out, test_dir) > 0);
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", then));
        if (r.status != 0)
                fprintf(stderr, "stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
        assert_int_equal(r.status, 0);
        assert_true(access(then_out, F_OK) == 0);

        /* Output prefixed with the service name, aligned to the longest (migration). */
        assert_contains(r.out, "db        | db up\n");
        assert_contains(r.out, "migration | migrating\n");
        assert_contains(r.out, "app       | app up\n");
        /* Plain progress lines (no terminal here). */
        assert_contains(r.err, "mirakuru-run: migration: completed after");
        assert_contains(r.err, "mirakuru-run: app: ready after");
        assert_true(strstr(r.err, "\033[") == NULL);

        /* Reverse order: app before db and queue; nothing survives. */
        _cleanup_str_ char *stops = test_read_file(order);
        assert_non_null(stops);
        assert_true(strncmp(stops, "app\n", 4) == 0);
        assert_true(strcmp(stops + 4, "db\nqueue\n") == 0 || strcmp(stops + 4, "queue\ndb\n") == 0);
        assert_gone("db.pid");
        assert_gone("queue.pid");
        assert_gone("app.pid");
        assert_gone("app-child.pid");
        cli_run_done(&r);
}

/* Foreground: ready, then SIGTERM stops all in reverse order; exit 0. */
static void test_four_services_foreground_signal(void **state) {
        _cleanup_str_ char *file = four_service_file(), *order = test_path_in(test_dir, "stop-order");
        CliRun r;

        cli_spawn(&r, test_dir, NULL, ARGS("-f", file));
        assert_true(cli_wait_text(r.err_path, "app: ready after", CLI_TIMEOUT_USEC));
        /* app's child writes its pid file on its own, maybe after app is
         * ready: wait for it, or SIGTERM may come first and leave the file
         * empty (seen once under ASan). */
        _cleanup_str_ char *app_child = test_path_in(test_dir, "app-child.pid");
        assert_true(cli_pid_from(app_child) > 0);
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        assert_int_equal(cli_wait(&r), 0);
        assert_int_equal(r.status, 0);
        _cleanup_str_ char *stops = test_read_file(order);
        assert_non_null(stops);
        assert_true(strncmp(stops, "app\n", 4) == 0);
        assert_gone("db.pid");
        assert_gone("app-child.pid");
        cli_run_done(&r);
}

/* Only the named service and what it needs; the others never start. */
static void test_select_services(void **state) {
        _cleanup_str_ char *file = write_compose("compose.yaml",
                "processes:\n"
                "  base:\n"
                "    command: $S touch @/base.ran out base-up pause\n"
                "    output: base-up\n"
                "  top:\n"
                "    command: $S require @/base.ran out top-up pause\n"
                "    output: top-up\n"
                "    depends_on:\n"
                "      base:\n"
                "        condition: process_log_ready\n"
                "  other:\n"
                "    command: $S touch @/other.ran out ran pause\n"
                "    output: ran\n"
                "  off:\n"
                "    command: $S touch @/off.ran out ran pause\n"
                "    output: ran\n"
                "    disabled: true\n");
        _cleanup_str_ char *other = test_path_in(test_dir, "other.ran"), *off = test_path_in(test_dir, "off.ran");
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true", "top"));
        assert_int_equal(r.status, 0);
        assert_int_equal(access(other, F_OK), -1);
        assert_int_equal(access(off, F_OK), -1);
        cli_run_done(&r);

        /* All but the disabled one by default; a disabled one when named. */
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true"));
        assert_int_equal(r.status, 0);
        assert_int_equal(access(other, F_OK), 0);
        assert_int_equal(access(off, F_OK), -1);
        cli_run_done(&r);
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true", "off"));
        assert_int_equal(r.status, 0);
        assert_int_equal(access(off, F_OK), 0);
        cli_run_done(&r);

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true", "nosuch"));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "no process named nosuch");
        cli_run_done(&r);
}

/* cache dies before it is ready: db is torn down, app never starts, the
 * error names cache and its output; exit 3 as for one service. */
static void test_failing_service(void **state) {
        _cleanup_str_ char *file = write_compose("compose.yaml",
                "processes:\n"
                "  db:\n"
                "    command: $S pidfile @/db.pid child @/db-child.pid unix @/db.sock pause\n"
                "    unix: @/db.sock\n"
                "  cache:\n"
                "    command: $S connect-unix @/db.sock out 'cache - bad config' exit 5\n"
                "    ready_log_line: never printed\n"
                "    depends_on:\n"
                "      db:\n"
                "        condition: process_healthy\n"
                "  app:\n"
                "    command: $S touch @/app.ran pause\n"
                "    depends_on:\n"
                "      cache:\n"
                "        condition: process_healthy\n");
        _cleanup_str_ char *app = test_path_in(test_dir, "app.ran");
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true"));
        assert_int_equal(r.status, 3);
        assert_contains(r.err, "service cache failed to start");
        assert_contains(r.err, "exited with status 5");
        assert_contains(r.err, "cache - bad config");
        assert_int_equal(access(app, F_OK), -1);
        assert_gone("db.pid");
        assert_gone("db-child.pid");
        cli_run_done(&r);
}

/* A probe that never passes: exit 124 and the error names the probe. */
static void test_deadline(void **state) {
        _cleanup_str_ char *file = write_compose("compose.yaml",
                "processes:\n"
                "  slow:\n"
                "    command: $S pidfile @/slow.pid out 'still loading' pause\n"
                "    unix: @/never.sock\n"
                "    start_timeout: 1\n");
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file));
        assert_int_equal(r.status, 124);
        assert_contains(r.err, "slow");
        assert_contains(r.err, "unix");
        assert_contains(r.err, "still loading");
        assert_gone("slow.pid");
        cli_run_done(&r);
}

static void test_then_fails(void **state) {
        _cleanup_str_ char *file = write_compose("compose.yaml",
                "processes:\n"
                "  a:\n"
                "    command: $S pidfile @/a.pid out up pause\n"
                "    output: up\n");
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "exit 7"));
        assert_int_equal(r.status, 7);
        assert_gone("a.pid");
        cli_run_done(&r);
}

static void test_unknown_key(void **state) {
        _cleanup_str_ char *file = write_compose("bad.yaml",
                "processes:\n"
                "  a:\n"
                "    command: sleep 100\n"
                "    readiness_probe:\n"
                "      exec:\n"
                "        command: 'true'\n"
                "      perod_seconds: 3\n");
        _cleanup_str_ char *expect = NULL;
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_true(asprintf(&expect, "%s:7: readiness_probe: unknown key 'perod_seconds'", file) > 0);
        assert_contains(r.err, expect);
        cli_run_done(&r);

        _cleanup_str_ char *file2 = write_compose("bad2.yaml",
                "processes:\n"
                "  a:\n"
                "    comand: sleep 100\n");
        _cleanup_str_ char *expect2 = NULL;
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file2));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_true(asprintf(&expect2, "%s:3: unknown key 'comand' in process a", file2) > 0);
        assert_contains(r.err, expect2);
        cli_run_done(&r);

        /* Bad YAML, bad values: also FILE:LINE. */
        _cleanup_str_ char *file3 = write_compose("bad3.yaml",
                "processes:\n"
                "  a:\n"
                "    command: sleep 100\n"
                "    tcp: 99999\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file3));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "bad3.yaml:4: tcp: invalid '99999'");
        cli_run_done(&r);

        _cleanup_str_ char *file4 = write_compose("bad4.yaml", "processes:\n  a: [unclosed\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file4));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "bad4.yaml:");
        cli_run_done(&r);

        /* A regex whose compilation would take ~1 GB (util/regex-util.h):
         * refused up front, nothing started. */
        _cleanup_str_ char *file5 = write_compose("bad5.yaml",
                "processes:\n"
                "  a:\n"
                "    command: sleep 100\n"
                "    output: 'x+++++++++++++++++++++++'\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file5));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "bad5.yaml:4: output: ");
        assert_contains(r.err, "quantifiers nest too deeply");
        cli_run_done(&r);
}

/* Issue 14: a key given twice, a second document, nesting without end:
 * errors with FILE:LINE, not a silent choice (or 25 s of CPU). */
static void test_duplicates_documents_nesting(void **state) {
        CliRun r;
        (void) state;

        _cleanup_str_ char *dup = write_compose("dup.yaml",
                "processes:\n"
                "  a:\n"
                "    command: sleep 100\n"
                "    command: 'true'\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", dup));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "dup.yaml:4: duplicate key 'command' (first given on line 3)");
        cli_run_done(&r);

        _cleanup_str_ char *dup2 = write_compose("dup2.yaml",
                "processes:\n"
                "  a:\n"
                "    command: 'true'\n"
                "  b:\n"
                "    command: 'true'\n"
                "  a:\n"
                "    command: 'true'\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", dup2));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "dup2.yaml:6: duplicate key 'a' (first given on line 2)");
        cli_run_done(&r);

        _cleanup_str_ char *docs = write_compose("docs.yaml",
                "processes:\n"
                "  a:\n"
                "    command: 'true'\n"
                "---\n"
                "processes:\n"
                "  b:\n"
                "    command: 'true'\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", docs));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "docs.yaml:4: a second YAML document");
        cli_run_done(&r);

        /* One leading '---' is one document. */
        _cleanup_str_ char *one = write_compose("one.yaml", "---\nprocesses:\n  a:\n    command: 'true'\n");
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", one, "--then", "true"));
        assert_int_equal(r.status, 0);
        cli_run_done(&r);

        /* 100,000 nested '[' (25 s of CPU in libyaml's loader before). */
        _cleanup_str_ char *deep_path = test_path_in(test_dir, "deep.yaml");
        FILE *f = fopen(deep_path, "we");
        assert_non_null(f);
        fputs("processes:\n  a: ", f);
        for (int i = 0; i < 100000; i++)
                fputc('[', f);
        fputc('\n', f);
        assert_int_equal(fclose(f), 0);
        uint64_t t0 = test_now_usec();
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", deep_path));
        uint64_t spent = test_now_usec() - t0;
        fprintf(stderr, "# 100,000 nested '[': refused after %llu us\n", (unsigned long long) spent);
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "deep.yaml:2: nested more than 64 deep");
        cli_run_done(&r);
        assert_true(spent < 5 * 1000 * 1000);
}

static void test_cycle_and_unknown_dependency(void **state) {
        _cleanup_str_ char *file = write_compose("cycle.yaml",
                "processes:\n"
                "  a:\n"
                "    command: $S touch @/a.ran pause\n"
                "    depends_on:\n"
                "      b:\n"
                "        condition: process_healthy\n"
                "  b:\n"
                "    command: $S touch @/b.ran pause\n"
                "    depends_on:\n"
                "      a:\n"
                "        condition: process_started\n");
        _cleanup_str_ char *a = test_path_in(test_dir, "a.ran");
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "dependency cycle: a -> b -> a");
        assert_int_equal(access(a, F_OK), -1);
        cli_run_done(&r);

        _cleanup_str_ char *file2 = write_compose("unknown.yaml",
                "processes:\n"
                "  a:\n"
                "    command: $S pause\n"
                "    depends_on:\n"
                "      ghost:\n"
                "        condition: process_healthy\n");
        _cleanup_str_ char *expect = NULL;
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file2));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_true(asprintf(&expect, "%s:5: process a depends on unknown process ghost", file2) > 0);
        assert_contains(r.err, expect);
        cli_run_done(&r);
}

/* A file written for process-compose (its documented keys only) runs
 * unchanged: environment, working_dir, exec and http_get probes with their
 * timings, ready_log_line, shutdown, disabled, log_location. */
static void test_process_compose_file(void **state) {
        uint16_t port = cli_free_port();
        _cleanup_str_ char *text = NULL, *file = NULL;
        assert_true(asprintf(&text,
                "version: \"0.5\"\n"
                "\n"
                "processes:\n"
                "  database:\n"
                "    description: the database\n"
                "    command: \"$S pidfile db.pid out 'database system is ready to accept connections' pause\"\n"
                "    working_dir: @\n"
                "    ready_log_line: \"database system is ready to accept connections\"\n"
                "    shutdown:\n"
                "      signal: 15\n"
                "      timeout_seconds: 5\n"
                "    log_location: @/database.log\n"
                "\n"
                "  web:\n"
                "    command: '$S pidfile @/web.pid log @/web.env \"$${GREETING}\" http %u'\n"
                "    environment:\n"
                "      - 'GREETING=hello from compose'\n"
                "      - 'UNUSED=1'\n"
                "    readiness_probe:\n"
                "      http_get:\n"
                "        host: 127.0.0.1\n"
                "        scheme: http\n"
                "        path: \"/\"\n"
                "        port: %u\n"
                "      initial_delay_seconds: 0\n"
                "      period_seconds: 1\n"
                "      timeout_seconds: 3\n"
                "      success_threshold: 1\n"
                "      failure_threshold: 5\n"
                "    depends_on:\n"
                "      database:\n"
                "        condition: process_log_ready\n"
                "\n"
                "  checker:\n"
                "    command: \"$S touch @/checker.ran pause\"\n"
                "    readiness_probe:\n"
                "      exec:\n"
                "        command: \"test -e @/checker.ran\"\n"
                "    depends_on:\n"
                "      web:\n"
                "        condition: process_healthy\n"
                "\n"
                "  broken:\n"
                "    command: \"exit 1\"\n"
                "    disabled: true\n",
                port, port) > 0);
        /* "$${GREETING}" -> "${GREETING}" for the shell; $S -> the helper. */
        char *p;
        while ((p = strstr(text, "$${")))
                memmove(p, p + 1, strlen(p));
        file = write_compose("process-compose.yaml", text);
        _cleanup_str_ char *env = test_path_in(test_dir, "web.env"), *log = test_path_in(test_dir, "database.log");
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true"));
        if (r.status != 0)
                fprintf(stderr, "stderr:\n%s\n", r.err);
        assert_int_equal(r.status, 0);
        _cleanup_str_ char *greeting = test_read_file(env), *logged = test_read_file(log);
        assert_string_equal(greeting, "hello from compose\n");
        assert_contains(logged, "database system is ready");
        /* The log file has the database's output; the terminal does not. */
        assert_true(strstr(r.out, "database system is ready") == NULL);
        assert_gone("db.pid");
        assert_gone("web.pid");
        cli_run_done(&r);
}

/* In the foreground a service that exits on its own ends the run: the
 * others are stopped and its status is ours, as with one service. */
static void test_foreground_service_exits(void **state) {
        _cleanup_str_ char *file = write_compose("compose.yaml",
                "processes:\n"
                "  a:\n"
                "    command: $S pidfile @/a.pid on-term @/stop-order a out up pause\n"
                "    output: up\n"
                "  b:\n"
                "    command: $S out up await @/go exit 4\n"
                "    output: up\n"
                "    depends_on:\n"
                "      a:\n"
                "        condition: process_healthy\n");
        _cleanup_str_ char *go = test_path_in(test_dir, "go"), *order = test_path_in(test_dir, "stop-order");
        CliRun r;

        cli_spawn(&r, test_dir, NULL, ARGS("-f", file));
        assert_true(cli_wait_text(r.err_path, "b: ready after", CLI_TIMEOUT_USEC));
        _cleanup_str_ char *early = test_read_file(order);
        assert_true(!early || !*early);
        FILE *f = fopen(go, "we");
        assert_non_null(f);
        fclose(f);
        assert_int_equal(cli_wait(&r), 4);
        assert_contains(r.err, "b exited with status 4");
        _cleanup_str_ char *stops = test_read_file(order);
        assert_string_equal(stops, "a\n");
        assert_gone("a.pid");
        cli_run_done(&r);
}

/* SIGTERM while services start: everything started is torn down; 128+15. */
static void test_signal_during_start(void **state) {
        _cleanup_str_ char *file = write_compose("compose.yaml",
                "processes:\n"
                "  a:\n"
                "    command: $S pidfile @/a.pid out up pause\n"
                "    output: up\n"
                "  b:\n"
                "    command: $S pidfile @/b.pid child @/b-child.pid pause\n"
                "    unix: @/never.sock\n"
                "    depends_on:\n"
                "      a:\n"
                "        condition: process_healthy\n"
                "  c:\n"
                "    command: $S touch @/c.ran pause\n"
                "    depends_on:\n"
                "      b:\n"
                "        condition: process_healthy\n");
        _cleanup_str_ char *bchild = test_path_in(test_dir, "b-child.pid"), *c = test_path_in(test_dir, "c.ran");
        CliRun r;

        cli_spawn(&r, test_dir, NULL, ARGS("-f", file, "--then", "true"));
        assert_true(test_wait_file(bchild, CLI_TIMEOUT_USEC));
        assert_int_equal(kill(r.pid, SIGTERM), 0);
        assert_int_equal(cli_wait(&r), 128 + SIGTERM);
        assert_gone("a.pid");
        assert_gone("b.pid");
        assert_gone("b-child.pid");
        assert_int_equal(access(c, F_OK), -1);
        cli_run_done(&r);
}

/* Our keys: tcp, http, pid_file, exec_probe, listen probes, containment,
 * start_timeout, expect_exit (a one-shot exiting 3 then counts as
 * completed), kill_signal, pre_check. */
static void test_our_keys(void **state) {
        uint16_t tcp = cli_free_port(), http = cli_free_port();
        _cleanup_str_ char *text = NULL, *file = NULL;
        assert_true(asprintf(&text,
                "processes:\n"
                "  setup:\n"
                "    command: $S touch @/setup.done exit 3\n"
                "    expect_exit: 3\n"
                "  db:\n"
                "    command: $S require @/setup.done pidfile @/db.pid tcp %u pause\n"
                "    tcp: 127.0.0.1:%u\n"
                "    pid_file: [ @/db.pid ]\n"
                "    containment: process-group\n"
                "    start_timeout: 30\n"
                "    kill_signal: KILL\n"
                "    pre_check: true\n"
                "    depends_on:\n"
                "      setup:\n"
                "        condition: process_completed_successfully\n"
                "  web:\n"
                "    command: $S connect-tcp %u pidfile @/web.pid http %u\n"
                "    http: http://127.0.0.1:%u/\n"
                "    exec_probe: test -e @/web.pid\n"
                "    depends_on:\n"
                "      db:\n"
                "        condition: process_healthy\n",
                tcp, tcp, tcp, http, http) > 0);
        file = write_compose("compose.yaml", text);
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", file, "--then", "true"));
        if (r.status != 0)
                fprintf(stderr, "stderr:\n%s\n", r.err);
        assert_int_equal(r.status, 0);
        assert_contains(r.err, "setup: completed after");
        assert_gone("db.pid");
        assert_gone("web.pid");
        cli_run_done(&r);
}

/* Issue 14: 500 services from one file (a CI job's worth and then some)
 * start and are all gone afterwards, under the usual soft fd limit of 1024
 * (each service holds ~7 of the supervisor's fds: the run used to end in
 * "Too many open files" near 110 services). mirakuru-run raises its soft
 * limit to the hard one and gives the services the 1024 back. How the time
 * grows with N is bench/compose-linearity's (a ratio, not a timed test). */
#define MANY 500
static void test_many_services(void **state) {
        struct rlimit saved, rl;
        unsigned n = 0, gone = 0;
        CliRun r;
        FILE *f;
        (void) state;

        if (test_under_valgrind()) {
                /* valgrind keeps mirakuru-run's soft fd limit where it is (and
                 * 500 services under it would take minutes) */
                skip();
                return;
        }
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        if (saved.rlim_max < 8 * MANY + 1024) {
                fprintf(stderr, "# hard fd limit %lu: too low for %d services\n", (unsigned long) saved.rlim_max, MANY);
                skip();
                return;
        }
        _cleanup_str_ char *path = test_path_in(test_dir, "many.yaml"), *pids = test_path_in(test_dir, "pids");
        _cleanup_str_ char *limit = test_path_in(test_dir, "limit"), *text = NULL, *got = NULL;
        f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "processes:\n");
        for (int i = 0; i < MANY; i++)
                fprintf(f, "  s%d:\n    command: echo $$ >> %s; %s%s%secho up; exec sleep 600\n    output: '^up$'\n",
                        i, pids, i == 0 ? "ulimit -Sn > " : "", i == 0 ? limit : "", i == 0 ? "; " : "");
        assert_int_equal(fclose(f), 0);

        rl = (struct rlimit) { .rlim_cur = 1024, .rlim_max = saved.rlim_max };
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", path, "--timeout", "120", "--then", "true"));
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        if (r.status != 0)
                fprintf(stderr, "stderr (end):\n%s\n", strlen(r.err) > 2000 ? r.err + strlen(r.err) - 2000 : r.err);
        assert_int_equal(r.status, 0);

        /* Every service ran (and wrote its pid before it was ready), and none is left. */
        text = test_read_file(pids);
        assert_non_null(text);
        for (char *p = text; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                assert_true(end != p && pid > 0);
                n++;
                if (test_wait_pid_gone((pid_t) pid, 5 * UINT64_C(1000000)))
                        gone++;
                p = end + strspn(end, "\n");
        }
        fprintf(stderr, "# %u services ran, %u gone\n", n, gone);
        assert_int_equal(n, MANY);
        assert_int_equal(gone, MANY);
        /* The services got the soft limit of before. */
        got = test_read_file(limit);
        assert_non_null(got);
        assert_string_equal(got, "1024\n");
        cli_run_done(&r);
}

static void test_usage(void **state) {
        CliRun r;

        (void) cli_run(&r, test_dir, NULL, ARGS("-f", "/nonexistent/compose.yaml"));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "cannot read /nonexistent/compose.yaml");
        cli_run_done(&r);
        (void) cli_run(&r, test_dir, NULL, ARGS("-f", "x.yaml", "--tcp", "80"));
        assert_int_equal(r.status, EXIT_USAGE_STATUS);
        assert_contains(r.err, "with -f, give probes");
        cli_run_done(&r);
        (void) cli_run(&r, test_dir, NULL, ARGS("--help"));
        assert_contains(r.out, "-f FILE [SERVICE...]");
        cli_run_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_four_services_then, setup, teardown),
                cmocka_unit_test_setup_teardown(test_four_services_foreground_signal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_select_services, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failing_service, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_then_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicates_documents_nesting, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cycle_and_unknown_dependency, setup, teardown),
                cmocka_unit_test_setup_teardown(test_process_compose_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_foreground_service_exits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_signal_during_start, setup, teardown),
                cmocka_unit_test_setup_teardown(test_our_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_services, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

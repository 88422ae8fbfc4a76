/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The http probe (libcurl on the executor's loop) against a real HTTP
 * server (tests/helpers/probe2-http-server), over Unix sockets and TCP. */
#include "probe2-test.h"

static int add_http(MkExecutor *e, const char *url, const char *unix_socket) {
        MkHttpProbe p = { .url = url, .unix_socket = unix_socket };
        return mk_executor_add_http_probe(e, &p);
}

/* 503 for the first three requests, then 200: retried until ready. */
static void test_http_503_then_200(void **state) {
        char *sock = test_path_in(test_dir, "a.sock"), *log = test_path_in(test_dir, "a.log"), *s;
        /* The library keeps its guard's socket and pidfd from the first start on:
         * count fds after one warm-up run, so only a leak shows. */
        const char *warm_argv[] = { "true", NULL };
        MkExecutor *warm = NULL;
        assert_int_equal(mk_executor_new(&warm), 0);
        assert_int_equal(mk_executor_set_argv(warm, warm_argv), 0);
        assert_int_equal(mk_executor_start(warm), 0);
        assert_true(mk_executor_stop(warm) >= 0);
        mk_executor_unref(warm);
        int fds_before = test_count_fds();
        MkExecutor *e = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--unix", sock,
                                        "--ok-after", "3", "--log", log, NULL);

        assert_int_equal(add_http(e, "http://localhost/health", sock), 0);
        assert_start(e, 0);
        s = test_read_file(log);
        assert_non_null(s);
        assert_int_equal(count_of(s, "\n---\n"), 4);
        assert_int_equal(count_of(s, "HEAD /health HTTP/1.1\r\n"), 4);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        /* curl's sockets and our event sources are gone with the probe's run. */
        assert_int_equal(test_count_fds(), fds_before);
        free(s);
        free(sock);
        free(log);
}

/* Long enough for the server to start and answer on a busy machine. */
#define WRONG_STATUS_TIMEOUT_USEC (4 * MK_USEC_PER_SEC)

/* Always 503: the start times out and says what it last saw. */
static void test_http_wrong_status_times_out(void **state) {
        char *sock = test_path_in(test_dir, "b.sock");
        MkExecutor *e = helper_executor("probe2-http-server", WRONG_STATUS_TIMEOUT_USEC, "--unix", sock,
                                        "--status", "503", NULL);

        assert_int_equal(add_http(e, "http://localhost/", sock), 0);
        assert_start(e, -ETIMEDOUT);
        /* The URL is named (issue 13). */
        assert_contains(mk_executor_get_error(e), "http (http://localhost/ answered HTTP 503)");
        mk_executor_unref(e);
        free(sock);
}

/* Nothing listens: the error says "connection refused". */
static void test_http_connection_refused(void **state) {
        char *url;
        MkExecutor *e = NULL;

        assert_true(asprintf(&url, "http://127.0.0.1:%u/", free_port(AF_INET)) > 0);
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, "exec sleep 60"), 0);
        assert_int_equal(mk_executor_set_timeout(e, FAIL_TIMEOUT_USEC), 0);
        assert_int_equal(add_http(e, url, NULL), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "connection refused)");
        assert_contains(mk_executor_get_error(e), url);
        mk_executor_unref(e);
        free(url);
}

/* A server that answers HEAD with 405: HEAD times out, GET passes. */
static void test_http_head_hostile(void **state) {
        char *sock = test_path_in(test_dir, "c.sock");
        MkExecutor *e = helper_executor("probe2-http-server", WRONG_STATUS_TIMEOUT_USEC, "--unix", sock,
                                        "--head-status", "405", NULL);

        assert_int_equal(add_http(e, "http://localhost/", sock), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "HTTP 405");
        mk_executor_unref(e);

        e = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--unix", sock, "--head-status", "405", NULL);
        MkHttpProbe p = { .url = "http://localhost/", .unix_socket = sock, .method = "GET" };
        assert_int_equal(mk_executor_add_http_probe(e, &p), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(sock);
}

/* Method, headers and body reach the server; the status regex is used. */
static void test_http_headers_and_body(void **state) {
        char *sock = test_path_in(test_dir, "d.sock"), *log = test_path_in(test_dir, "d.log"), *s;
        const char *headers[] = { "X-Probe: yes", "Authorization: Bearer abc", NULL };
        MkExecutor *e = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--unix", sock, "--log", log, NULL);
        MkHttpProbe p = {
                .url = "http://localhost/submit?x=1",
                .unix_socket = sock,
                .method = "PUT",
                .headers = headers,
                .body = "ping=1",
                .status = "^200$",
        };

        assert_int_equal(mk_executor_add_http_probe(e, &p), 0);
        assert_start(e, 0);
        s = test_read_file(log);
        assert_non_null(s);
        assert_contains(s, "PUT /submit?x=1 HTTP/1.1\r\n");
        assert_contains(s, "\r\nX-Probe: yes\r\n");
        assert_contains(s, "\r\nAuthorization: Bearer abc\r\n");
        assert_contains(s, "\r\n\r\nping=1\n---\n");
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(s);
        free(sock);
        free(log);
}

/* http+unix://%2Fpath%2Fto.sock/path */
static void test_http_unix_url(void **state) {
        char *sock = test_path_in(test_dir, "e.sock"), *log = test_path_in(test_dir, "e.log"), *url, *s;
        MkExecutor *e = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--unix", sock, "--log", log, NULL);
        char encoded[512] = "";

        for (const char *c = sock; *c; c++)
                snprintf(encoded + strlen(encoded), sizeof encoded - strlen(encoded), *c == '/' ? "%%2F" : "%c", *c);
        assert_true(asprintf(&url, "http+unix://%s/ready", encoded) > 0);
        assert_int_equal(add_http(e, url, NULL), 0);
        assert_start(e, 0);
        s = test_read_file(log);
        assert_non_null(s);
        assert_contains(s, "HEAD /ready HTTP/1.1\r\n");
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(s);
        free(url);
        free(sock);
        free(log);
}

/* Over TCP on 127.0.0.1: the server accepts on a socket we bound to port 0
 * and give it as stdin (so the pre-check, which would find our own
 * listener, is off). */
static void test_http_tcp(void **state) {
        uint16_t port = 0;
        int fd = listen_any(AF_INET, &port);
        char *url;
        MkExecutor *e = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--stdin", "--ok-after", "1", NULL);

        assert_true(fd >= 0);
        assert_true(asprintf(&url, "http://127.0.0.1:%u/", port) > 0);
        assert_int_equal(mk_executor_set_stdin_fd(e, fd), 0);
        assert_int_equal(mk_executor_set_pre_check(e, false), 0);
        assert_int_equal(add_http(e, url, NULL), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        close(fd);
        free(url);
}

/* Something already accepts connections at the URL: the start fails with
 * -EADDRINUSE before spawning, naming the holder (this test process). */
static void test_http_pre_check_tcp(void **state) {
        uint16_t port = 0;
        int fd = listen_any(AF_INET, &port);
        char *url, *marker = test_path_in(test_dir, "spawned"), *cmd, owner[64];
        MkExecutor *e = NULL;

        assert_true(fd >= 0);
        assert_true(asprintf(&url, "http://127.0.0.1:%u/", port) > 0);
        assert_true(asprintf(&cmd, "touch '%s'; exec sleep 60", marker) > 0);
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, cmd), 0);
        assert_int_equal(add_http(e, url, NULL), 0);
        assert_start(e, -EADDRINUSE);
        assert_contains(mk_executor_get_error(e), "accepts connections");
        snprintf(owner, sizeof owner, "pid %d", (int) getpid());
        assert_contains(mk_executor_get_error(e), owner);
        assert_int_equal(mk_executor_get_pid(e), 0);
        assert_int_equal(access(marker, F_OK), -1);
        mk_executor_unref(e);
        close(fd);
        free(url);
        free(cmd);
        free(marker);
}

/* A password in the URL never reaches a message (they end up in CI logs). */
static void test_http_password_not_shown(void **state) {
        uint16_t port = 0;
        int fd = listen_any(AF_INET, &port);
        char *url;
        MkExecutor *e = NULL;

        assert_true(fd >= 0);
        assert_true(asprintf(&url, "http://ci-user:s3cret-token@127.0.0.1:%u/health", port) > 0);
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, "exec sleep 60"), 0);
        assert_int_equal(add_http(e, url, NULL), 0);
        assert_start(e, -EADDRINUSE);
        assert_contains(mk_executor_get_error(e), "http://ci-user:***@127.0.0.1:");
        assert_null(strstr(mk_executor_get_error(e), "s3cret-token"));
        mk_executor_unref(e);
        close(fd);
        free(url);
}

/* The same over a Unix socket, with the service itself running already. */
static void test_http_pre_check_unix(void **state) {
        char *sock = test_path_in(test_dir, "f.sock");
        MkExecutor *a = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--unix", sock, NULL);
        MkExecutor *b = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, "--unix", sock, NULL);

        assert_int_equal(add_http(a, "http://localhost/", sock), 0);
        assert_int_equal(add_http(b, "http://localhost/", sock), 0);
        assert_start(a, 0);
        assert_start(b, -EADDRINUSE);
        assert_contains(mk_executor_get_error(b), "already answers where the http probe looks");
        assert_int_equal(mk_executor_get_state(b), MK_STATE_IDLE);
        assert_int_equal(mk_executor_stop(a), 0);
        mk_executor_unref(a);
        mk_executor_unref(b);
        free(sock);
}

static void test_http_bad_arguments(void **state) {
        MkExecutor *e = helper_executor("probe2-http-server", PASS_TIMEOUT_USEC, NULL);
        const char *bad_headers[] = { "NoColon", NULL };
        MkHttpProbe p = {};

        assert_int_equal(mk_executor_add_http_probe(e, NULL), -EINVAL);
        assert_int_equal(mk_executor_add_http_probe(e, &p), -EINVAL);
        assert_int_equal(add_http(e, "localhost:8080/health", NULL), -EINVAL);
        assert_contains(mk_executor_get_error(e), "invalid URL");
        assert_int_equal(add_http(e, "ftp://localhost/", NULL), -EINVAL);
        assert_contains(mk_executor_get_error(e), "scheme");
        assert_int_equal(add_http(e, "http://", NULL), -EINVAL);
        assert_int_equal(add_http(e, "http+unix:///path", NULL), -EINVAL);
        assert_int_equal(add_http(e, "http+unix://%2Fx.sock/", "/y.sock"), -EINVAL);
        p = (MkHttpProbe) { .url = "http://localhost/", .status = "(2" };
        assert_int_equal(mk_executor_add_http_probe(e, &p), -EINVAL);
        assert_contains(mk_executor_get_error(e), "invalid status regular expression");
        /* Bounded before regcomp() (util/regex-util.h). */
        p = (MkHttpProbe) { .url = "http://localhost/", .status = "x+++++++++++++++++++++++" };
        assert_int_equal(mk_executor_add_http_probe(e, &p), -EINVAL);
        assert_contains(mk_executor_get_error(e), "quantifiers nest too deeply");
        p = (MkHttpProbe) { .url = "http://localhost/", .headers = bad_headers };
        assert_int_equal(mk_executor_add_http_probe(e, &p), -EINVAL);
        p = (MkHttpProbe) { .url = "http://localhost/", .method = "GE T" };
        assert_int_equal(mk_executor_add_http_probe(e, &p), -EINVAL);
        p = (MkHttpProbe) { .url = "http://localhost/", .body = "x" };
        assert_int_equal(mk_executor_add_http_probe(e, &p), -EINVAL);
        /* Good ones. */
        assert_int_equal(add_http(e, "https://localhost:8443/x", NULL), 0);
        assert_int_equal(add_http(e, "http+unix://%2Ftmp%2Fx.sock", NULL), 0);
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_http_503_then_200),
                cmocka_unit_test(test_http_wrong_status_times_out),
                cmocka_unit_test(test_http_connection_refused),
                cmocka_unit_test(test_http_head_hostile),
                cmocka_unit_test(test_http_headers_and_body),
                cmocka_unit_test(test_http_unix_url),
                cmocka_unit_test(test_http_tcp),
                cmocka_unit_test(test_http_pre_check_tcp),
                cmocka_unit_test(test_http_pre_check_unix),
                cmocka_unit_test(test_http_password_not_shown),
                cmocka_unit_test(test_http_bad_arguments),
        };
        MkExecutor *e = NULL;
        MkHttpProbe p = { .url = "http://localhost/" };

        if (mk_executor_new(&e) < 0)
                return 1;
        if (mk_executor_add_http_probe(e, &p) == -EOPNOTSUPP)
                test_skip_all("built without libcurl");
        mk_executor_unref(e);
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}

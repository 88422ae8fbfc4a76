/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run's value parsers (src/mirakuru-run/parse-util.c), directly. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "parse-util.h"
#include "test-util.h"

static void test_seconds(void **state) {
        uint64_t u = 42;

        assert_int_equal(parse_seconds("0", &u), 0);
        assert_int_equal(u, 0);
        assert_int_equal(parse_seconds("1.5", &u), 0);
        assert_int_equal(u, 1500000);
        assert_int_equal(parse_seconds("0.000001", &u), 0);
        assert_int_equal(u, 1);
        assert_int_equal(parse_seconds("60", &u), 0);
        assert_int_equal(u, 60000000);
        u = 42;
        static const char *const bad[] = { "", "-1", "-0", "abc", "1s", " 1", "inf", "nan", "1e3", "0x10",
                                           "1.2.3", ".", "10000000000" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (parse_seconds(bad[i], &u) != -EINVAL)
                        fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(u, 42); /* untouched on failure */
}

static void test_signal(void **state) {
        int s = 0;

        assert_int_equal(parse_signal("TERM", &s), 0);
        assert_int_equal(s, SIGTERM);
        assert_int_equal(parse_signal("SIGINT", &s), 0);
        assert_int_equal(s, SIGINT);
        assert_int_equal(parse_signal("sighup", &s), 0);
        assert_int_equal(s, SIGHUP);
        assert_int_equal(parse_signal("9", &s), 0);
        assert_int_equal(s, SIGKILL);
        assert_int_equal(parse_signal("USR1", &s), 0);
        assert_int_equal(s, SIGUSR1);
        s = 0;
        static const char *const bad[] = { "", "0", "-9", "65", "SIG", "FOO", "SIGFOO", "9x", " TERM" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (parse_signal(bad[i], &s) != -EINVAL)
                        fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(s, 0);
}

static void check_address(const char *s, unsigned min_port, const char *host, int port) {
        const char *why = NULL;
        char *h = (char *) "untouched";
        uint16_t p = 7;
        int r = parse_host_port(s, min_port, &h, &p, &why);

        if (port < 0) {
                if (r != -EINVAL)
                        fail_msg("'%s' was accepted", s);
                assert_non_null(why);
                assert_string_equal(h, "untouched");
                assert_int_equal(p, 7);
                return;
        }
        if (r != 0)
                fail_msg("'%s' was refused: %s", s, why ?: "?");
        assert_int_equal(p, port);
        if (host)
                assert_string_equal(h, host);
        else
                assert_null(h);
        free(h);
}

static void test_host_port(void **state) {
        check_address("8080", 1, NULL, 8080);
        check_address("localhost:80", 1, "localhost", 80);
        check_address("127.0.0.1:65535", 1, "127.0.0.1", 65535);
        check_address("[::1]:443", 1, "::1", 443);
        check_address("0", 0, NULL, 0);
        check_address("127.0.0.1:0", 0, "127.0.0.1", 0);
        check_address("0", 1, NULL, -1);
        check_address("65536", 0, NULL, -1);
        check_address("", 1, NULL, -1);
        check_address(":80", 1, NULL, -1);
        check_address("host:", 1, NULL, -1);
        check_address("::1:80", 1, NULL, -1);
        check_address("[::1]", 1, NULL, -1);
        check_address("[]:80", 1, NULL, -1);
        check_address("[::1]80", 1, NULL, -1);
        check_address("host:+80", 1, NULL, -1);
        check_address("host:8o", 1, NULL, -1);
}

static void test_regex(void **state) {
        char why[128] = "";

        assert_int_equal(check_regex("^ready( now)?$", why, sizeof why), 0);
        assert_int_equal(check_regex("a{1", why, sizeof why), -EINVAL);
        assert_true(strlen(why) > 0);
        assert_int_equal(check_regex("(", why, sizeof why), -EINVAL);
        /* The bound of util/regex-util.h, with its message. */
        assert_int_equal(check_regex("x+++++++++++++++++++++++", why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "quantifiers nest too deeply"));
        assert_int_equal(check_regex("(a)\\1", why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "back-reference \\1"));
        assert_int_equal(check_regex("^ready to accept connections on port [0-9]{1,5}$", why, sizeof why), 0);
}

static void test_url(void **state) {
        const char *why = NULL;

        assert_int_equal(check_url("http://localhost:8000/health", &why), 0);
        assert_int_equal(check_url("https://[::1]:8443/", &why), 0);
        assert_int_equal(check_url("HTTP://example.org", &why), 0);
        assert_int_equal(check_url("http+unix://%2Frun%2Fapp.sock/health", &why), 0);
        static const char *const bad[] = { "localhost:8000", "/health", "http://", "http:///x", "http://:80/",
                                           "ftp://host/", "http://a b/", "" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                why = NULL;
                if (check_url(bad[i], &why) != -EINVAL)
                        fail_msg("'%s' was accepted", bad[i]);
                assert_non_null(why);
        }
}

static void test_env(void **state) {
        assert_true(env_assignment_is_valid("A=b"));
        assert_true(env_assignment_is_valid("A="));
        assert_true(env_assignment_is_valid("A=b=c"));
        assert_false(env_assignment_is_valid("A"));
        assert_false(env_assignment_is_valid("=b"));
        assert_true(env_name_is_valid("PATH"));
        assert_false(env_name_is_valid(""));
        assert_false(env_name_is_valid("A=B"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seconds),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_host_port),
                cmocka_unit_test(test_regex),
                cmocka_unit_test(test_url),
                cmocka_unit_test(test_env),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

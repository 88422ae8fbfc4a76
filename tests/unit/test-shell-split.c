/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shell_split(): quotes, escapes, errors, and random inputs that must never crash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"
#include "util/shell-split.h"
#include "util/strv.h"

/* Splits S and compares with the NULL-terminated WANT. */
static void check(const char *s, const char *const *want) {
        _cleanup_strv_free_ char **words = NULL;
        size_t n = 0;

        assert_int_equal(shell_split(s, &words), 0);
        assert_non_null(words);
        for (; want[n]; n++) {
                if (!words[n])
                        fprintf(stderr, "input <%s>: missing word %zu <%s>\n", s, n, want[n]);
                assert_non_null(words[n]);
                assert_string_equal(words[n], want[n]);
        }
        if (words[n])
                fprintf(stderr, "input <%s>: extra word <%s>\n", s, words[n]);
        assert_null(words[n]);
}

#define CHECK(s, ...) check((s), (const char *const[]) { __VA_ARGS__, NULL })

static void test_blanks(void **state) {
        check("", (const char *const[]) { NULL });
        check("   \t\n ", (const char *const[]) { NULL });
        CHECK("a", "a");
        CHECK("a b", "a", "b");
        CHECK("  a \t b\n\nc  ", "a", "b", "c");
        CHECK("redis-server --port 6390", "redis-server", "--port", "6390");
}

static void test_single_quotes(void **state) {
        CHECK("'a b'", "a b");
        CHECK("'a\\b'", "a\\b");         /* no escapes inside */
        CHECK("'\"'", "\"");
        CHECK("''", "");                /* an empty word is still a word */
        CHECK("a '' b", "a", "", "b");
        CHECK("x'y z'w", "xy zw");      /* quotes join with what touches them */
        CHECK("'$HOME' '*'", "$HOME", "*");
}

static void test_double_quotes(void **state) {
        CHECK("\"a b\"", "a b");
        CHECK("\"\"", "");
        CHECK("\"a\\\"b\"", "a\"b");
        CHECK("\"a\\\\b\"", "a\\b");
        CHECK("\"a\\$b\"", "a$b");
        CHECK("\"a\\`b\"", "a`b");
        CHECK("\"a\\nb\"", "a\\nb");    /* other backslashes stay */
        CHECK("\"a\\\nb\"", "ab");      /* backslash-newline joins */
        CHECK("\"it's\"", "it's");
        CHECK("\"$HOME\"", "$HOME");    /* nothing is expanded */
        CHECK("a\"b c\"d", "ab cd");
}

static void test_backslash(void **state) {
        CHECK("a\\ b", "a b");
        CHECK("\\'", "'");
        CHECK("\\\"", "\"");
        CHECK("\\\\", "\\");
        CHECK("\\n", "n");
        CHECK("a\\\nb", "ab");          /* line continuation */
        CHECK("a \\\n b", "a", "b");
        CHECK("\\\n", (const char *) NULL);
}

static void test_errors(void **state) {
        char **words = (char **) 0x1;

        assert_int_equal(shell_split("'unterminated", &words), -EINVAL);
        assert_int_equal(shell_split("\"unterminated", &words), -EINVAL);
        assert_int_equal(shell_split("a \"b\\\"", &words), -EINVAL);
        assert_int_equal(shell_split("trailing\\", &words), -EINVAL);
        assert_int_equal(shell_split("a 'b' 'c", &words), -EINVAL);
        /* ret_* untouched on failure */
        assert_ptr_equal(words, (char **) 0x1);
}

/* Random inputs from a small alphabet rich in the special characters: no
 * crash, no sanitizer report, and every success gives a proper strv whose
 * words are no longer than the input. Deterministic seed. */
static void test_fuzz(void **state) {
        static const char alphabet[] = "ab \t\n'\"\\$`*x\r";
        char input[64];
        unsigned seed = 12345;
        unsigned ok = 0, failed = 0;

        for (unsigned i = 0; i < 200000; i++) {
                size_t len = (size_t) (rand_r(&seed) % (sizeof input));
                for (size_t k = 0; k < len; k++)
                        input[k] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
                input[len] = '\0';

                char **words = NULL;
                int r = shell_split(input, &words);
                if (r < 0) {
                        assert_int_equal(r, -EINVAL);
                        assert_null(words);
                        failed++;
                        continue;
                }
                ok++;
                assert_non_null(words);
                size_t total = 0;
                for (char **w = words; *w; w++)
                        total += strlen(*w);
                assert_true(total <= len);
                strv_free(words);
        }
        /* Both outcomes must have been exercised. */
        assert_true(ok > 1000);
        assert_true(failed > 1000);
}

/* Fully random bytes (any value but NUL). */
static void test_fuzz_bytes(void **state) {
        char input[256];
        unsigned seed = 4242;

        for (unsigned i = 0; i < 50000; i++) {
                size_t len = (size_t) (rand_r(&seed) % (sizeof input));
                for (size_t k = 0; k < len; k++)
                        input[k] = (char) (1 + rand_r(&seed) % 255);
                input[len] = '\0';
                char **words = NULL;
                int r = shell_split(input, &words);
                assert_true(r == 0 || r == -EINVAL);
                strv_free(words);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_blanks),
                cmocka_unit_test(test_single_quotes),
                cmocka_unit_test(test_double_quotes),
                cmocka_unit_test(test_backslash),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_fuzz),
                cmocka_unit_test(test_fuzz_bytes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String vectors and environment blocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"
#include "util/strv.h"

static void test_basics(void **state) {
        const char *src[] = { "a", "bb", "", NULL };
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(strv_length(NULL), 0);
        assert_null(strv_free(NULL));
        assert_int_equal(strv_copy(src, &l), 0);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[1], "bb");
        assert_ptr_not_equal(l[0], src[0]);
        assert_true(strv_contains(l, ""));
        assert_true(strv_contains(l, "bb"));
        assert_false(strv_contains(l, "b"));
        assert_false(strv_contains(NULL, "a"));
        assert_int_equal(strv_push_dup(&l, "c"), 0);
        assert_int_equal(strv_length(l), 4);
        assert_null(l[4]);

        _cleanup_free_ char *j = strv_join(l, ", ");
        assert_string_equal(j, "a, bb, , c");
        _cleanup_free_ char *none = strv_join(NULL, " ");
        assert_string_equal(none, "");

        _cleanup_strv_free_ char **empty = NULL;
        const char *nothing[] = { NULL };
        assert_int_equal(strv_copy(nothing, &empty), 0);
        assert_non_null(empty);
        assert_null(empty[0]);
        assert_int_equal(strv_push_dup(&empty, "x"), 0);
        _cleanup_free_ char *one = strv_join(empty, " ");
        assert_string_equal(one, "x");

        /* pushing onto NULL creates the vector */
        _cleanup_strv_free_ char **fresh = NULL;
        assert_int_equal(strv_push_dup(&fresh, "y"), 0);
        assert_int_equal(strv_length(fresh), 1);
}

static void test_env(void **state) {
        _cleanup_strv_free_ char **env = NULL;

        assert_null(env_get(NULL, "A"));
        assert_int_equal(env_set(&env, "A", "1"), 0);
        assert_int_equal(env_set(&env, "AB", "2"), 0);
        assert_int_equal(env_set(&env, "B", "x=y"), 0);
        assert_string_equal(env_get(env, "A"), "1");
        assert_string_equal(env_get(env, "AB"), "2"); /* no prefix confusion */
        assert_string_equal(env_get(env, "B"), "x=y");
        assert_null(env_get(env, "C"));
        assert_null(env_get(env, ""));

        assert_int_equal(env_set(&env, "A", "replaced"), 0);
        assert_int_equal(strv_length(env), 3);
        assert_string_equal(env[0], "A=replaced"); /* in place */

        assert_int_equal(env_set(&env, "A", NULL), 0);
        assert_int_equal(strv_length(env), 2);
        assert_string_equal(env[0], "AB=2"); /* order kept */
        assert_string_equal(env[1], "B=x=y");
        assert_int_equal(env_set(&env, "nothing", NULL), 0);
        assert_int_equal(strv_length(env), 2);

        assert_int_equal(env_set(&env, "E", ""), 0);
        assert_string_equal(env_get(env, "E"), "");
        assert_int_equal(env_set(&env, "B", NULL), 0);
        assert_int_equal(env_set(&env, "AB", NULL), 0);
        assert_int_equal(env_set(&env, "E", NULL), 0);
        assert_int_equal(strv_length(env), 0);

        assert_true(env_name_is_valid("PATH"));
        assert_true(env_name_is_valid("a_b1"));
        assert_false(env_name_is_valid(""));
        assert_false(env_name_is_valid(NULL));
        assert_false(env_name_is_valid("A=B"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basics),
                cmocka_unit_test(test_env),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

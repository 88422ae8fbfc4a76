/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ring buffer: keeps the newest bytes, wraps around, handles writes
 * larger than itself and exactly its size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"
#include "util/ring.h"

static void check(const Ring *r, const char *want) {
        char *s = NULL;
        size_t size = 99;

        assert_int_equal(ring_copy(r, &s, &size), 0);
        assert_int_equal(size, strlen(want));
        assert_string_equal(s, want);
        free(s);
}

static void test_empty(void **state) {
        Ring r;

        ring_init(&r, 8);
        check(&r, "");
        assert_int_equal(r.total, 0);
        ring_done(&r);
        ring_done(&r); /* twice is fine */
}

static void test_fill_and_wrap(void **state) {
        Ring r;

        ring_init(&r, 8);
        assert_int_equal(ring_write(&r, "abc", 3), 0);
        check(&r, "abc");
        assert_int_equal(ring_write(&r, "defgh", 5), 0); /* exactly full */
        check(&r, "abcdefgh");
        assert_int_equal(ring_write(&r, "ij", 2), 0);    /* drops the oldest */
        check(&r, "cdefghij");
        assert_int_equal(ring_write(&r, "klmno", 5), 0); /* wraps over the end */
        check(&r, "hijklmno");
        for (int i = 0; i < 100; i++)                    /* byte by byte, many laps */
                assert_int_equal(ring_write(&r, &"0123456789"[i % 10], 1), 0);
        check(&r, "23456789");
        assert_int_equal(r.total, 3 + 5 + 2 + 5 + 100);
        ring_done(&r);
}

static void test_large_writes(void **state) {
        Ring r;

        ring_init(&r, 4);
        assert_int_equal(ring_write(&r, "abcd", 4), 0);  /* exactly the capacity */
        check(&r, "abcd");
        assert_int_equal(ring_write(&r, "x", 1), 0);
        check(&r, "bcdx");
        assert_int_equal(ring_write(&r, "0123456789", 10), 0); /* larger: only the tail */
        check(&r, "6789");
        assert_int_equal(ring_write(&r, "y", 1), 0);
        check(&r, "789y");
        assert_int_equal(ring_write(&r, "wxyz", 4), 0);  /* capacity-sized while offset */
        check(&r, "wxyz");
        assert_int_equal(ring_write(&r, "", 0), 0);
        check(&r, "wxyz");
        ring_done(&r);
}

static void test_zero_capacity(void **state) {
        Ring r;

        ring_init(&r, 0);
        assert_int_equal(ring_write(&r, "abc", 3), 0);
        check(&r, "");
        assert_int_equal(r.total, 3);
        assert_null(r.data);
        ring_done(&r);
}

/* Against a simple model: the last CAPACITY bytes of everything written. */
static void test_random_against_model(void **state) {
        unsigned seed = 7;

        for (size_t capacity = 1; capacity < 40; capacity += 3) {
                Ring r;
                char all[4096], chunk[100];
                size_t n_all = 0;

                ring_init(&r, capacity);
                while (n_all + sizeof chunk < sizeof all) {
                        size_t n = (size_t) (rand_r(&seed) % 60);
                        for (size_t k = 0; k < n; k++)
                                chunk[k] = (char) ('a' + rand_r(&seed) % 26);
                        assert_int_equal(ring_write(&r, chunk, n), 0);
                        memcpy(all + n_all, chunk, n);
                        n_all += n;
                        all[n_all] = '\0';
                        check(&r, n_all > capacity ? all + n_all - capacity : all);
                }
                assert_int_equal(r.total, n_all);
                ring_done(&r);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_fill_and_wrap),
                cmocka_unit_test(test_large_writes),
                cmocka_unit_test(test_zero_capacity),
                cmocka_unit_test(test_random_against_model),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

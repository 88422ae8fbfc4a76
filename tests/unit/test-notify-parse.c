/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notify_parse(): sd_notify datagrams, outside input. */
#include <errno.h>
#include <string.h>

#include "probe/notify-parse.h"
#include "test-util.h"

static void test_parse_fields(void **state) {
        const char msg[] = "READY=1\nSTATUS=loading 3/4\nMAINPID=4242\nERRNO=2\nEXIT_STATUS=3\nEXTEND_TIMEOUT_USEC=5000000";
        NotifyMessage m;

        assert_int_equal(notify_parse(msg, strlen(msg), &m), 0);
        assert_true(m.ready);
        assert_int_equal(m.status_len, strlen("loading 3/4"));
        assert_memory_equal(m.status, "loading 3/4", m.status_len);
        assert_int_equal(m.main_pid, 4242);
        assert_int_equal(m.errno_value, 2);
        assert_int_equal(m.exit_status, 3);
        assert_int_equal(m.extend_timeout_usec, 5000000);
}

static void test_parse_junk(void **state) {
        const char msg[] = "garbage\n=\nREADY=0\nREADY=11\nMAINPID=-1\nMAINPID=99999999999999999999\n"
                           "ERRNO=x\nEXIT_STATUS=256\nEXTEND_TIMEOUT_USEC=\nUNKNOWN=1\nSTATUS=";
        NotifyMessage m;

        assert_int_equal(notify_parse(msg, strlen(msg), &m), 0);
        assert_false(m.ready);
        assert_non_null(m.status);
        assert_int_equal(m.status_len, 0);
        assert_int_equal(m.main_pid, 0);
        assert_int_equal(m.errno_value, 0);
        assert_int_equal(m.exit_status, -1);
        assert_int_equal(m.extend_timeout_usec, 0);
}

static void test_parse_edges(void **state) {
        NotifyMessage m;

        /* Not NUL-terminated: only LEN bytes count. */
        assert_int_equal(notify_parse("READY=1X", 7, &m), 0);
        assert_true(m.ready);
        assert_int_equal(notify_parse("READY=1\r", 8, &m), 0);
        assert_false(m.ready);
        assert_int_equal(notify_parse("", 0, &m), 0);
        assert_false(m.ready);
        assert_null(m.status);
        /* A NUL byte anywhere: refused. */
        assert_int_equal(notify_parse("READY=1\0x", 9, &m), -EBADMSG);
        /* Trailing newline, last one wins. */
        assert_int_equal(notify_parse("STATUS=a\nSTATUS=b\n", 18, &m), 0);
        assert_memory_equal(m.status, "b", 1);
        assert_int_equal(m.status_len, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_fields),
                cmocka_unit_test(test_parse_junk),
                cmocka_unit_test(test_parse_edges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

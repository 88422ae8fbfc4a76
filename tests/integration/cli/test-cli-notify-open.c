/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Issue 13, item 7: the notify socket stays open for the service's whole
 * life (redis --supervised systemd notifies at shutdown too); STATUS= shows
 * in --verbose, escaped; STOPPING=1 is understood. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-test.h"

static void test_notify_after_ready(void **state) {
        CliRun r;

        /* cli-service dies if a datagram cannot be sent: after READY=1 the
         * socket must still be there, also while it is being stopped. */
        assert_int_equal(cli_run(&r, test_dir, NULL,
                                 ARGS("--verbose", "--notify", "--then", "sleep 0.5", "--", cli_helper, "notify",
                                      "READY=1", "sleep-ms", "100", "notify", "STATUS=serving\033[31m",
                                      "notify", "WATCHDOG=1", "term-notify", "STOPPING=1\nSTATUS=bye", "pause")),
                         0);
        assert_null(strstr(r.err, "while the --then command was running"));
        assert_null(strstr(r.err, "exited uncleanly"));
        /* STATUS= in --verbose, its ESC escaped. */
        assert_non_null(strstr(r.err, "cli-service: STATUS=serving\\x1b[31m\n"));
        assert_null(strchr(r.err, '\033'));
        assert_non_null(strstr(r.err, "cli-service: says it is stopping (STOPPING=1)"));
        assert_non_null(strstr(r.err, "cli-service: STATUS=bye"));
        cli_run_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_notify_after_ready),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Issue 13, item 5 (the CLI's side): a reader of our stdout that goes
 * away ends forwarding, not supervision: SIGPIPE is ignored, and the
 * --then command's status is still ours. */
#include <stdio.h>
#include <stdlib.h>

#include "cli-pipe.h"
#include "cli-test.h"

static void test_reader_gone_then_status_kept(void **state) {
        char *status = cli_path_in_dir("status");
        pid_t pg = pipe_spawn("{ \"$RUN\" --then 'sleep 1; exit 7' -- sh -c 'seq 100000; sleep 60'; "
                              "echo $? > \"$DIR/status\"; } | head -1 > /dev/null");

        assert_int_equal(pipe_wait_status(status, 60 * UINT64_C(1000000)), 7);
        pipe_kill(pg);
        free(status);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_gone_then_status_kept),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "fault-common.h"
#include "fault-fixture.h"
#include "test-util.h"

char *fault_dir;
char fault_records[4200];

int fault_setup(void **state) {
        (void) state;
        fault_dir = test_make_temp_dir();
        snprintf(fault_records, sizeof fault_records, "%s/pids", fault_dir);
        return 0;
}

int fault_teardown(void **state) {
        (void) state;
        test_rm_rf(fault_dir);
        free(fault_dir);
        fault_dir = NULL;
        fault_reap();
        return 0;
}

void fault_assert_records_gone(const char *what) {
        size_t n;
        pid_t *pids = fault_read_pids(fault_records, &n);
        fault_assert_gone(pids, n, 0, what);
        free(pids);
}

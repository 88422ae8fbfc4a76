/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-case fixture of the fault tests that run a recording service:
 * a fresh temporary directory, and in it the file the service's "record"
 * and "child" actions append their pids to. */
#pragma once

/* The case's temporary directory, made by fault_setup(). */
extern char *fault_dir;
/* fault_dir/pids. */
extern char fault_records[4200];

/* cmocka setup: makes fault_dir. */
int fault_setup(void **state);
/* cmocka teardown: removes fault_dir and reaps what was reparented to us. */
int fault_teardown(void **state);
/* Fails the test unless every pid in fault_records is already gone (a stop
 * returned: nothing may be left); WHAT names the case. */
void fault_assert_records_gone(const char *what);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The containment layer's small pure parts: our cgroup names (supervisor pid
 * + start time) and when they count as stale, /proc/PID/stat start times,
 * and the "PID CMDLINE" lines of leak forensics. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containment/cgroup-util.h"
#include "test-util.h"

static void test_start_time(void **state) {
        uint64_t a, b;
        (void) state;

        assert_int_equal(proc_start_time(getpid(), &a), 0);
        assert_int_equal(proc_start_time(getpid(), &b), 0);
        assert_true(a == b);
        assert_int_equal(proc_start_time(getppid(), &b), 0);
        assert_true(b <= a); /* a parent starts before its child */
}

static void test_names(void **state) {
        char *a = NULL, *b = NULL, *s = NULL;
        uint64_t start;
        (void) state;

        assert_int_equal(cg_make_name("mirakuru", &a), 0);
        assert_int_equal(cg_make_name("mirakuru", &b), 0);
        assert_string_not_equal(a, b); /* counted per call */
        assert_false(cg_name_is_stale("mirakuru", a)); /* ours, alive */
        assert_false(cg_name_is_stale("other", a));
        assert_false(cg_name_is_stale("mirakuru", "mirakuru"));
        assert_false(cg_name_is_stale("mirakuru", "mirakuru-x-1-1"));
        assert_false(cg_name_is_stale("mirakuru", "mirakuruX-1-1-1"));

        /* The same pid with another start time: reused, so stale. */
        assert_int_equal(proc_start_time(getpid(), &start), 0);
        assert_true(asprintf(&s, "mirakuru-%d-%llu-7-name.scope", (int) getpid(),
                             (unsigned long long) start + 1) > 0);
        assert_true(cg_name_is_stale("mirakuru", s));
        free(s);

        /* A supervisor that is gone. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_true(asprintf(&s, "mirakuru-%d-%llu-1", (int) pid, (unsigned long long) start) > 0);
        assert_true(cg_name_is_stale("mirakuru", s));
        free(s);
        free(a);
        free(b);
}

static void test_leftovers_lines(void **state) {
        char *list = NULL, expect[64];
        (void) state;

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl("/bin/sleep", "sleep", "1000", NULL);
                _exit(127);
        }
        /* Wait until it is sleep, not our fork. */
        for (int i = 0; i < 1000; i++) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
                char *c = test_read_file(path);
                bool done = c && strcmp(c, "sleep") == 0;
                free(c);
                if (done)
                        break;
                usleep(1000);
        }
        assert_int_equal(leftovers_add(&list, pid), 0);
        assert_int_equal(leftovers_add(&list, getpid()), 0);
        snprintf(expect, sizeof expect, "%d sleep 1000\n", (int) pid);
        assert_true(strncmp(list, expect, strlen(expect)) == 0);
        assert_int_equal(strchr(list, '\n') - list + 1, (long) strlen(expect));
        assert_int_equal(list[strlen(list) - 1], '\n');
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        free(list);
}

static void test_populated_of_missing(void **state) {
        (void) state;
        /* A cgroup that is gone holds nobody. */
        assert_int_equal(cg_is_populated("/nonexistent/mirakuru-test"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_time),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_leftovers_lines),
                cmocka_unit_test(test_populated_of_missing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

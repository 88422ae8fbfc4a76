/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/proc-stat: the one parser of /proc/PID/stat (the guard, the keeper,
 * the process-group backend, stale cgroup names and main-pid following all
 * use it), on made-up lines and on real processes, one of them with a
 * command name built to fool a parser that stops at the first ')'. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "util/proc-stat.h"

#define TAIL " 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 987654321 5476352 300 18446744073709551615"

static void test_parse(void **state) {
        ProcStat st;
        (void) state;

        assert_int_equal(proc_stat_parse("42 (sleep) S 7 42 42" TAIL, &st), 0);
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 7);
        assert_int_equal(st.pgrp, 42);
        assert_int_equal(st.session, 42);
        assert_true(st.start_time == 987654321ULL);

        /* The command name is the process's: spaces, parentheses, a fake tail. */
        assert_int_equal(proc_stat_parse("43 (a) Z 1 2 3 (x) y) R 9 8 7" TAIL, &st), 0);
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.ppid, 9);
        assert_int_equal(st.session, 7);

        /* pid 1's parent is 0; the idle task's too. */
        assert_int_equal(proc_stat_parse("1 (init) S 0 1 1" TAIL, &st), 0);
        assert_int_equal(st.ppid, 0);
}

static void test_parse_refuses(void **state) {
        ProcStat st;
        (void) state;

        assert_int_equal(proc_stat_parse("", &st), -EBADMSG);
        assert_int_equal(proc_stat_parse("42 (sleep S 7 42 42" TAIL, &st), -EBADMSG); /* no ')' after the name */
        assert_int_equal(proc_stat_parse("42 (sleep)", &st), -EBADMSG);
        assert_int_equal(proc_stat_parse("42 (sleep) ", &st), -EBADMSG);
        assert_int_equal(proc_stat_parse("42 (sleep) S 7 42", &st), -EBADMSG); /* truncated */
        assert_int_equal(proc_stat_parse("42 (sleep) S 7 42 42 0 -1", &st), -EBADMSG);
        assert_int_equal(proc_stat_parse("42 (sleep) S x 42 42" TAIL, &st), -EBADMSG);
        assert_int_equal(proc_stat_parse("42 (sleep) S 7 42 4294967296" TAIL, &st), -EBADMSG);
        assert_int_equal(proc_stat_parse("42 (sleep) S 7 42 42 99999999999999999999999 0", &st), -EBADMSG);
}

static void test_read_self(void **state) {
        ProcStat st;
        (void) state;

        assert_int_equal(proc_stat_read(getpid(), &st), 0);
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.ppid, getppid());
        assert_int_equal(st.pgrp, getpgrp());
        assert_int_equal(st.session, getsid(0));
        assert_true(st.start_time > 0);
        assert_false(proc_state_exited(st.state));
        assert_int_equal(proc_stat_read(0, &st), -EINVAL);
}

/* A child names itself "a) Z 1 2 3 (b" (15 bytes fit in comm), starts a
 * session and exits: read as our zombie, with its own session. */
static void test_read_zombie_with_a_hostile_name(void **state) {
        int p[2];
        char c;
        ProcStat st;
        pid_t pid;
        (void) state;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_NAME, "a) Z 1 2 3 (b", 0, 0, 0);
                (void) setsid();
                _exit(write(p[1], "x", 1) == 1 ? 0 : 1);
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        /* Wait for the zombie without reaping it. */
        siginfo_t si = {};
        assert_int_equal(waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT), 0);
        assert_int_equal(proc_stat_read(pid, &st), 0);
        assert_true(proc_state_exited(st.state));
        assert_int_equal(st.ppid, getpid());
        assert_int_equal(st.session, pid);
        assert_int_equal(st.pgrp, pid);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_int_equal(proc_stat_read(pid, &st), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_refuses),
                cmocka_unit_test(test_read_self),
                cmocka_unit_test(test_read_zombie_with_a_hostile_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

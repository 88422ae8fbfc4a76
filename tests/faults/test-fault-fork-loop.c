/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fork loop, bounded by pids.max of a cgroup this test makes: the
 * service hits the limit (fork fails, it says so), stop still takes every
 * process, and the limit leaves the supervisor working. Needs the pids
 * controller delegated to the cgroup the test runs in (cgroup v2, root);
 * skips with the reason otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault-common.h"
#include "test-util.h"

#define PIDS_MAX 48

static char *box; /* <own cgroup>/fault-fork-loop.PID, with pids.max */

static char *read_line(const char *path) {
        char *s = test_read_file(path);
        if (s)
                s[strcspn(s, "\n")] = '\0';
        return s;
}

static int write_file(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;
        if (fd < 0)
                return -errno;
        n = write(fd, value, strlen(value));
        close(fd);
        return n == (ssize_t) strlen(value) ? 0 : -errno;
}

static bool has_word(const char *list, const char *word) {
        size_t l = strlen(word);
        for (const char *p = list; p && (p = strstr(p, word)); p += l)
                if ((p == list || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' '))
                        return true;
        return false;
}

/* Makes the box and moves us into it, or skips saying why. */
static void enter_box(void) {
        char *mount = NULL, *own = NULL, path[4300];
        FILE *f;
        char line[4096];

        if (geteuid() != 0)
                test_skip_all("needs root to make a cgroup");
        f = fopen("/proc/self/mounts", "re");
        while (f && fgets(line, sizeof line, f)) {
                char dev[256], mnt[4096], type[64];
                if (sscanf(line, "%255s %4095s %63s", dev, mnt, type) == 3 && strcmp(type, "cgroup2") == 0) {
                        mount = strdup(mnt);
                        break;
                }
        }
        if (f)
                fclose(f);
        if (!mount)
                test_skip_all("no cgroup v2 hierarchy");
        f = fopen("/proc/self/cgroup", "re");
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        assert_true(asprintf(&own, "%s%s", mount, strcmp(line + 3, "/") == 0 ? "" : line + 3) > 0);
                }
        if (f)
                fclose(f);
        if (!own)
                test_skip_all("not in a cgroup v2 cgroup");
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", own);
        char *enabled = read_line(path);
        if (!has_word(enabled, "pids")) {
                fprintf(stderr, "SKIP: the pids controller is not enabled below %s (subtree_control: \"%s\"); "
                        "on this machine it may live in a cgroup v1 hierarchy\n", own, enabled ?: "?");
                exit(EXIT_TEST_SKIP);
        }
        free(enabled);
        assert_true(asprintf(&box, "%s/fault-fork-loop.%d", own, (int) getpid()) > 0);
        assert_int_equal(mkdir(box, 0755), 0);
        snprintf(path, sizeof path, "%s/pids.max", box);
        char value[32];
        snprintf(value, sizeof value, "%d", PIDS_MAX);
        assert_int_equal(write_file(path, value), 0);
        snprintf(path, sizeof path, "%s/cgroup.procs", box);
        assert_int_equal(write_file(path, "0"), 0);
        free(mount);
        free(own);
}

static void leave_box(void) {
        char path[4300], *own;

        if (!box)
                return;
        own = strdup(box);
        *strrchr(own, '/') = '\0';
        snprintf(path, sizeof path, "%s/cgroup.procs", own);
        (void) write_file(path, "0");
        snprintf(path, sizeof path, "%s/cgroup.kill", box);
        (void) write_file(path, "1");
        for (int i = 0; i < 500 && rmdir(box) < 0 && errno == EBUSY; i++)
                usleep(10000);
        free(own);
        free(box);
        box = NULL;
}

static void test_fork_loop_bounded(void **state) {
        char *dir = test_make_temp_dir(), records[4200], path[4300];
        MkExecutor *e = NULL;
        pid_t *pids;
        size_t n;
        (void) state;

        snprintf(records, sizeof records, "%s/pids", dir);
        const char *argv[] = { fault_service(), "record", records, "fork-loop", records, NULL };
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_containment(e, MK_CONTAINMENT_CGROUP), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^fork refused", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, 60 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_start(e), 0);
        pids = fault_read_pids(records, &n);
        fprintf(stderr, "# the fork loop made %zu processes before pids.max %d stopped it\n", n, PIDS_MAX);
        assert_true(n > 1 && n <= PIDS_MAX);
        snprintf(path, sizeof path, "%s/pids.events", box);
        char *events = test_read_file(path);
        fprintf(stderr, "# pids.events: %s", events ?: "?\n");
        free(events);

        assert_true(mk_executor_stop(e) >= 0);
        free(pids);
        pids = fault_read_pids(records, &n);
        fault_assert_gone(pids, n, 0, "a fork loop");
        e = mk_executor_unref(e);
        free(pids);
        test_rm_rf(dir);
        free(dir);
}

int main(void) {
        enter_box();
        atexit(leave_box);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fork_loop_bounded),
        };
        int r = cmocka_run_group_tests_name("fork-loop", tests, NULL, NULL);
        leave_box();
        return r;
}

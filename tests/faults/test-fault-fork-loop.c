/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fork loop (fault-service fork-loop: children that exit are replaced at
 * once, and the loop itself ignores SIGTERM, so it keeps forking while the
 * stop runs) must be taken whole by stop, with each backend.
 *
 * The loop is unbounded by design; the test bounds it so it cannot harm the
 * machine, in one of two ways:
 *   - RLIMIT_NPROC: the service drops to a uid of its own (one no process
 *     has) with the limit at that uid's tasks + BOUND. Runs with the cgroup
 *     and the process-group backend; needs root only.
 *   - pids.max of a cgroup the test makes and enters (cgroup backend). Needs
 *     the pids controller in the cgroup v2 hierarchy; skipped with the
 *     reason otherwise (hybrid machines bind it to v1).
 * Each case asserts: the loop hit the limit (fork refused), it made more
 * than one process and kept replacing them at the limit, it still forked
 * after stop began, stop needed the kill signal (the loop ignores SIGTERM),
 * and afterwards not one recorded process is alive (and, for the uid case,
 * no process of that uid at all, recorded or not). */
#include <ctype.h>
#include <dirent.h>
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

#define BOUND 48
#define STOP_TIMEOUT_USEC (5 * MK_USEC_PER_SEC)
/* uids tried for the loop: the first one without any task. */
#define LOOP_UID_BASE 100000
#define LOOP_UID_TRIES 100

static char *box; /* <own cgroup>/fault-fork-loop.PID, with pids.max */
static MkExecutor *loop; /* stopped by the teardown if a case fails midway */

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

/* Tasks (threads included: RLIMIT_NPROC counts them) whose real uid is
 * UID; with LIVE_ONLY without zombies (dead, but counted until reaped; the
 * loop's orphans are reaped by pid 1, in its own time). */
static unsigned tasks_of_uid(uid_t uid, bool live_only) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                char path[300], line[256];
                unsigned real = 0, threads = 0;
                bool mine = false, dead = false;
                char state = '?';
                FILE *f;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                snprintf(path, sizeof path, "/proc/%s/status", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                while (fgets(line, sizeof line, f)) {
                        if (sscanf(line, "State: %c", &state) == 1)
                                dead = state == 'Z' || state == 'X';
                        else if (sscanf(line, "Uid: %u", &real) == 1)
                                mine = real == uid;
                        else if (sscanf(line, "Threads: %u", &threads) == 1)
                                break;
                }
                fclose(f);
                if (mine && !(live_only && dead))
                        n += threads > 0 ? threads : 1;
        }
        closedir(d);
        return n;
}

static bool uid_mapped(uid_t uid) {
        FILE *f = fopen("/proc/self/uid_map", "re");
        unsigned long inside, outside, count;
        bool found = false;

        while (f && !found && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
                found = uid >= inside && uid - inside < count;
        if (f)
                fclose(f);
        return found;
}

/* A uid of our own for the loop (per run, so parallel runs do not share a
 * limit), or 65534 with whatever it already runs counted in. */
static uid_t pick_loop_uid(void) {
        for (uid_t u = LOOP_UID_BASE + (uid_t) getpid() % 100000, i = 0; i < LOOP_UID_TRIES; u++, i++)
                if (uid_mapped(u) && tasks_of_uid(u, false) == 0)
                        return u;
        return 65534;
}

/* Makes the box and moves us into it; false (with the reason printed) if
 * this machine has no pids controller in its cgroup v2 hierarchy. */
static bool enter_box(void) {
        char *mount = NULL, *own = NULL, path[4300];
        FILE *f;
        char line[4096];

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
        if (!mount) {
                fprintf(stderr, "# no cgroup v2 hierarchy: no pids.max here\n");
                return false;
        }
        f = fopen("/proc/self/cgroup", "re");
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        assert_true(asprintf(&own, "%s%s", mount, strcmp(line + 3, "/") == 0 ? "" : line + 3) > 0);
                }
        if (f)
                fclose(f);
        free(mount);
        if (!own) {
                fprintf(stderr, "# not in a cgroup v2 cgroup: no pids.max here\n");
                return false;
        }
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", own);
        char *enabled = read_line(path);
        if (!has_word(enabled, "pids")) {
                fprintf(stderr, "# the pids controller is not enabled below %s (subtree_control: \"%s\"); "
                        "on this machine it may live in a cgroup v1 hierarchy\n", own, enabled ?: "?");
                free(enabled);
                free(own);
                return false;
        }
        free(enabled);
        assert_true(asprintf(&box, "%s/fault-fork-loop.%d", own, (int) getpid()) > 0);
        free(own);
        assert_int_equal(mkdir(box, 0755), 0);
        snprintf(path, sizeof path, "%s/pids.max", box);
        char value[32];
        snprintf(value, sizeof value, "%d", BOUND);
        assert_int_equal(write_file(path, value), 0);
        snprintf(path, sizeof path, "%s/cgroup.procs", box);
        assert_int_equal(write_file(path, "0"), 0);
        return true;
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

/* Runs the loop under BACKEND (as uid UID with RLIMIT_NPROC if UID is not
 * 0, else under whatever bounds us: the box), then stops it and asserts
 * every process is gone. */
static void run_fork_loop(MkContainment backend, uid_t uid, const char *what) {
        char *dir = test_make_temp_dir(), records[4200], uid_arg[32] = "", nproc_arg[32] = "";
        MkExecutor *e;
        const char *argv[12];
        size_t a = 0, n, n_ready, n_before;
        pid_t *pids;
        unsigned base = 0;

        snprintf(records, sizeof records, "%s/pids", dir);
        argv[a++] = fault_service();
        if (uid != 0) {
                /* Our temp dir is 0700 root: the loop's uid must write its records there. */
                assert_int_equal(chown(dir, uid, (gid_t) uid), 0);
                base = tasks_of_uid(uid, false);
                snprintf(uid_arg, sizeof uid_arg, "%u", (unsigned) uid);
                snprintf(nproc_arg, sizeof nproc_arg, "%u", base + BOUND);
                argv[a++] = "as-user";
                argv[a++] = uid_arg;
                argv[a++] = nproc_arg;
                fprintf(stderr, "# %s: uid %u (%u tasks already), RLIMIT_NPROC %s\n", what, (unsigned) uid, base,
                        nproc_arg);
        }
        argv[a++] = "ignore-term";
        argv[a++] = "record";
        argv[a++] = records;
        argv[a++] = "fork-loop";
        argv[a++] = records;
        argv[a] = NULL;

        assert_int_equal(mk_executor_new(&loop), 0);
        e = loop;
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_containment(e, backend), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^fork refused", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, 60 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_set_stop_timeout(e, STOP_TIMEOUT_USEC), 0);
        /* Ready means the loop hit the limit: fork was refused. */
        int r = mk_executor_start(e);
        if (r < 0)
                fprintf(stderr, "# start: %s\n", mk_executor_get_error(e) ?: strerror(-r));
        assert_int_equal(r, 0);
        pids = fault_read_pids(records, &n);
        n_ready = n;
        fprintf(stderr, "# %s: %zu processes made when fork was first refused\n", what, n);
        assert_true(n > 1);
        free(pids);

        /* At the limit it keeps forking: children that exit are replaced
         * (BOUND more pids means the places were freed and taken again). */
        pids = fault_wait_pids(records, n_ready + BOUND, FAULT_WAIT_USEC, &n);
        fprintf(stderr, "# %s: %zu processes made so far\n", what, n);
        assert_true(n >= n_ready + BOUND);
        n_before = n;
        free(pids);
        if (box) {
                char path[4300];
                snprintf(path, sizeof path, "%s/pids.events", box);
                char *events = test_read_file(path);
                fprintf(stderr, "# pids.events: %s", events ?: "?\n");
                free(events);
        }

        /* The loop ignores SIGTERM (its children do not): only the kill
         * signal, after the stop timeout, ends it; meanwhile it replaces
         * every child the stop signal kills. */
        r = mk_executor_stop(e);
        fprintf(stderr, "# %s: stop returned %d\n", what, r);
        assert_int_equal(r, 1);
        pids = fault_read_pids(records, &n);
        fprintf(stderr, "# %s: %zu processes forked while stop ran (%zu in all)\n", what, n - n_before, n);
        assert_true(n > n_before);
        fault_assert_gone(pids, n, 0, what);
        if (uid != 0) {
                unsigned left = tasks_of_uid(uid, true);
                fprintf(stderr, "# %s: %u live tasks of uid %u left (%u before)\n", what, left, (unsigned) uid, base);
                assert_true(left <= base); /* base is 0 unless the uid was 65534 */
        }
        loop = mk_executor_unref(loop);
        fault_reap();
        free(pids);
        test_rm_rf(dir);
        free(dir);
}

/* A case that failed midway left its loop running: stop it (blocking), and
 * leave the box. */
static int stop_loop(void **state) {
        (void) state;
        loop = mk_executor_unref(loop);
        fault_reap();
        leave_box();
        return 0;
}

static void test_fork_loop_nproc_cgroup(void **state) {
        (void) state;
        run_fork_loop(MK_CONTAINMENT_CGROUP, pick_loop_uid(), "a fork loop under RLIMIT_NPROC (cgroup)");
}

static void test_fork_loop_nproc_process_group(void **state) {
        (void) state;
        run_fork_loop(MK_CONTAINMENT_PROCESS_GROUP, pick_loop_uid(),
                      "a fork loop under RLIMIT_NPROC (process group)");
}

static void test_fork_loop_pids_max(void **state) {
        (void) state;
        if (!enter_box()) {
                skip();
                return;
        }
        run_fork_loop(MK_CONTAINMENT_CGROUP, 0, "a fork loop under pids.max (cgroup)");
        leave_box();
}

int main(void) {
        if (geteuid() != 0)
                test_skip_all("needs root: to drop the loop to a uid of its own, and to make a cgroup");
        atexit(leave_box);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_fork_loop_nproc_cgroup, stop_loop),
                cmocka_unit_test_teardown(test_fork_loop_nproc_process_group, stop_loop),
                cmocka_unit_test_teardown(test_fork_loop_pids_max, stop_loop),
        };
        return cmocka_run_group_tests_name("fork-loop", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fallbacks for kernels without pidfd_open(2), pidfd_send_signal(2)
 * and clone3(2) (Linux 5.2, some seccomp profiles, valgrind 3.19), on one
 * backend ($MIRAKURU_TEST_CONTAINMENT). Each case runs in a forked child
 * that first installs a seccomp filter answering ENOSYS to those three
 * calls (and nothing else); the filter is inherited by everything the
 * child starts: the services, the guard, mirakuru-run. Every case ends
 * with all the pids the cont-tree services recorded gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cont-common.h"
#include "mirakuru.h"
#include "test-util.h"
#include "util/macro.h"

#define GONE_USEC (10 * MK_USEC_PER_SEC) /* upper bounds only */
#define N_KILLED 3

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_I386
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_RISCV64
#endif

static MkContainment backend;

/* In a forked child: no cmocka there, report by the exit status. */
#define CHECK(expr)                                                                            \
        do {                                                                                   \
                if (!(expr)) {                                                                 \
                        fprintf(stderr, "%s:%d: in the filtered child: %s\n", __FILE__, __LINE__, \
                                #expr);                                                        \
                        _exit(EXIT_FAILURE);                                                   \
                }                                                                              \
        } while (0)

/* The filter: pidfd_open, pidfd_send_signal and clone3 answer ENOSYS, as
 * on Linux 5.2; everything else passes. 0, or a negative errno. */
static int refuse_pidfd_calls(void) {
#ifndef NATIVE_AUDIT_ARCH
        return -EOPNOTSUPP;
#else
        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pidfd_open, 3, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pidfd_send_signal, 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(insns), .filter = insns };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        /* It took: the three calls fail with ENOSYS (and not with EBADF or
         * EINVAL, their answer to these arguments). */
        if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS ||
            syscall(SYS_pidfd_send_signal, -1, 0, NULL, 0) >= 0 || errno != ENOSYS ||
            syscall(SYS_clone3, NULL, 0) >= 0 || errno != ENOSYS)
                return -EPROTO;
        return 0;
#endif
}

typedef int (*FilteredFn)(FILE *report, void *userdata);

/* Forks a child that installs the filter, runs FN with the write end of
 * a pipe (the read end in *RET_FD) and exits with what FN returned. */
static pid_t fork_filtered(FilteredFn fn, void *userdata, int *ret_fd) {
        int p[2];
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                FILE *f = fdopen(p[1], "we");
                int r;

                close(p[0]);
                CHECK(f);
                r = refuse_pidfd_calls();
                if (r < 0) {
                        fprintf(stderr, "cannot install the seccomp filter: %s\n", strerror(-r));
                        _exit(EXIT_FAILURE);
                }
                r = fn(f, userdata);
                fflush(f);
                _exit(r);
        }
        close(p[1]);
        *ret_fd = p[0];
        return pid;
}

static void assert_exited_0(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("the filtered child failed (status 0x%x)", status);
}

/* How many pidfds PID holds. */
static int count_pidfds_of(pid_t pid) {
        char path[64];
        DIR *d;
        struct dirent *de;
        int n = 0;

        snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
        d = opendir(path);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char p[384], link[256];
                ssize_t l;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof p, "%s/%s", path, de->d_name);
                l = readlink(p, link, sizeof link - 1);
                if (l < 0)
                        continue;
                link[l] = '\0';
                /* "anon_inode:[pidfd]", or "pidfd:[INO]" with pidfs (6.9) */
                if (strstr(link, "pidfd"))
                        n++;
        }
        closedir(d);
        return n;
}

/* The guard holds a pidfd of each process-group leader it was handed,
 * and none of the supervisor's (there is no pidfd_open(2)). */
static int expected_pidfds(int n_leaders) {
        return backend == MK_CONTAINMENT_PROCESS_GROUP ? n_leaders : 0;
}

/* ---- a. start and stop ---- */

typedef struct StartStop {
        const char *spawn; /* $MIRAKURU_SPAWN, or NULL */
        char *dir, *dir2;
} StartStop;

static int unref_in_callback(sd_event_source *s, void *userdata) {
        MkExecutor **e = userdata;

        /* Inside a callback of the loop: the executor kills at once and
         * signals its main process through pidfd_signal_child(). */
        *e = mk_executor_unref(*e);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int start_stop_child(FILE *report, void *userdata) {
        StartStop *a = userdata;
        sd_event *event = NULL;
        MkExecutor *e;
        pid_t main_pid, *guards;
        size_t n;
        int r;
        (void) report;

        if (a->spawn)
                CHECK(setenv("MIRAKURU_SPAWN", a->spawn, 1) == 0);
        else
                CHECK(unsetenv("MIRAKURU_SPAWN") == 0);
        CHECK(sd_event_new(&event) >= 0);

        /* The tree ignores SIGWINCH: the kill signal follows the stop timeout. */
        e = cont_tree_service(backend, event, "3", a->dir, SIGWINCH);
        CHECK(e);
        CHECK(cont_all_alive(a->dir, 3));
        main_pid = mk_executor_get_pid(e);
        guards = cont_guards(getpid(), &main_pid, 1, &n);
        CHECK(n == 1);
        r = count_pidfds_of(guards[0]);
        fprintf(stderr, "# the guard %d holds %d pidfd(s)\n", (int) guards[0], r);
        CHECK(r == expected_pidfds(1));
        free(guards);
        r = mk_executor_stop(e);
        fprintf(stderr, "# stop: %d (%s)\n", r, mk_executor_get_error(e) ?: "no error");
        CHECK(r == 1); /* gone, killed after the stop timeout */
        CHECK(cont_all_gone(a->dir, 0));
        e = mk_executor_unref(e);

        /* The last reference dropped in a callback of the loop. */
        e = cont_tree_service(backend, event, "3", a->dir2, SIGWINCH);
        CHECK(e);
        CHECK(cont_all_alive(a->dir2, 3));
        CHECK(sd_event_add_defer(event, NULL, unref_in_callback, &e) >= 0);
        CHECK(sd_event_loop(event) >= 0);
        CHECK(!e);
        CHECK(cont_all_gone(a->dir2, GONE_USEC));
        sd_event_unref(event);
        return 0;
}

static void start_stop(const char *spawn) {
        StartStop a = { .spawn = spawn, .dir = test_make_temp_dir(), .dir2 = test_make_temp_dir() };
        int fd;
        pid_t pid = fork_filtered(start_stop_child, &a, &fd);

        close(fd);
        assert_exited_0(pid);
        /* Checked again from outside. */
        assert_true(cont_all_gone(a.dir, 0));
        assert_true(cont_all_gone(a.dir2, 0));
        test_rm_rf(a.dir);
        test_rm_rf(a.dir2);
        free(a.dir);
        free(a.dir2);
        cont_reap_zombies();
}

static void test_start_stop(void **state) {
        (void) state;
        start_stop(NULL);
}

static void test_start_stop_clone3(void **state) {
        (void) state;
        start_stop("clone3"); /* refused: the fork-like clone(CLONE_PIDFD) must do */
}

/* ---- b., c. the supervisor dies ---- */

/* Runs FN (a supervisor that reports with cont_report()) in a filtered
 * child, and reads its report into *REP; fails if it ended first. */
static pid_t start_supervisor(FilteredFn fn, void *userdata, ContReport *rep) {
        int fd;
        pid_t pid = fork_filtered(fn, userdata, &fd);

        if (!cont_read_report(fd, NULL, rep)) {
                assert_exited_0(pid);
                fail_msg("the supervisor ended early");
        }
        return pid;
}

/* SIGKILLs the supervisor PID; everything in DIRS must be gone, by the
 * guard's hand, and the guard and our cgroups with it. */
static void kill_supervisor(pid_t pid, const ContReport *rep, char **dirs, size_t n_dirs) {
        uint64_t t0;

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        t0 = test_now_usec();
        for (size_t i = 0; i < n_dirs; i++)
                assert_true(cont_all_gone(dirs[i], GONE_USEC));
        fprintf(stderr, "# all gone %llu us after the supervisor died\n",
                (unsigned long long) (test_now_usec() - t0));
        if (!test_wait_pid_gone(rep->guards[0], GONE_USEC))
                fail_msg("the guard %d outlived its work", (int) rep->guards[0]);
        for (size_t i = 0; i < rep->n_cgroups; i++)
                assert_true(cont_wait_gone(rep->cgroups[i], GONE_USEC));
}

static int supervisor_killed_child(FILE *f, void *userdata) {
        const char *dir = userdata;
        sd_event *event = NULL;
        MkExecutor *e[N_KILLED];
        pid_t mains[N_KILLED];

        CHECK(sd_event_new(&event) >= 0);
        for (size_t i = 0; i < N_KILLED; i++) {
                e[i] = cont_tree_service(backend, event, "4", dir, SIGTERM);
                CHECK(e[i]);
                mains[i] = mk_executor_get_pid(e[i]);
        }
        cont_report(f, mains, N_KILLED, e, N_KILLED);
        for (;;)
                pause();
}

/* b. The guard has no pidfd of the supervisor: it learns of its death by
 * EOF on its socket, and kills every service. */
static void test_supervisor_killed(void **state) {
        char *dir = test_make_temp_dir();
        ContReport rep;
        int n;
        pid_t pid = start_supervisor(supervisor_killed_child, dir, &rep);
        (void) state;

        assert_int_equal(rep.n_guards, 1);
        n = count_pidfds_of(rep.guards[0]);
        fprintf(stderr, "# the guard %d holds %d pidfd(s)\n", (int) rep.guards[0], n);
        assert_int_equal(n, expected_pidfds(N_KILLED));
        assert_true(cont_all_alive(dir, 4 * N_KILLED));

        kill_supervisor(pid, &rep, &dir, 1);
        cont_report_done(&rep);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

static int guard_replaced_child(FILE *f, void *userdata) {
        char **dirs = userdata;
        sd_event *event = NULL;
        MkExecutor *e[2];
        pid_t mains[2], *guards;
        size_t n;

        CHECK(sd_event_new(&event) >= 0);
        e[0] = cont_tree_service(backend, event, "2", dirs[0], SIGTERM);
        CHECK(e[0]);
        mains[0] = mk_executor_get_pid(e[0]);
        guards = cont_guards(getpid(), mains, 1, &n);
        CHECK(n == 1);
        CHECK(kill(guards[0], SIGKILL) == 0);
        CHECK(test_wait_pid_gone(guards[0], GONE_USEC));
        fprintf(f, "old %d\n", (int) guards[0]);
        free(guards);
        /* The next start finds the guard gone, reaps it (without a pidfd:
         * by its pid) and hands a new one what the old held: the first
         * service's process group by its id alone. */
        e[1] = cont_tree_service(backend, event, "2", dirs[1], SIGTERM);
        CHECK(e[1]);
        mains[1] = mk_executor_get_pid(e[1]);
        cont_report(f, mains, 2, e, 2);
        for (;;)
                pause();
}

/* c. A killed guard is replaced; the replacement gets the first service
 * (a process group: by its id only), and kills both when the supervisor
 * dies. */
static void test_replaced_guard(void **state) {
        char *dirs[2] = { test_make_temp_dir(), test_make_temp_dir() };
        ContReport rep;
        int n;
        pid_t pid = start_supervisor(guard_replaced_child, dirs, &rep);
        (void) state;

        fprintf(stderr, "# killed guard %d, replaced by %d\n", (int) rep.old, (int) rep.guards[0]);
        assert_int_equal(rep.n_guards, 1);
        assert_true(rep.old > 0 && rep.guards[0] != rep.old);
        /* Only the second leader's pidfd (from the spawn): the first could
         * not be opened again. */
        n = count_pidfds_of(rep.guards[0]);
        fprintf(stderr, "# the new guard holds %d pidfd(s)\n", n);
        assert_int_equal(n, expected_pidfds(1));
        assert_true(cont_all_alive(dirs[0], 2));
        assert_true(cont_all_alive(dirs[1], 2));

        kill_supervisor(pid, &rep, dirs, 2);
        cont_report_done(&rep);
        for (size_t i = 0; i < 2; i++) {
                test_rm_rf(dirs[i]);
                free(dirs[i]);
        }
        cont_reap_zombies();
}

/* ---- d., e. mirakuru-run ---- */

typedef struct Cli {
        const char *dir, *then;
        int out; /* the write end of the capture */
} Cli;

static int exec_cli_child(FILE *report, void *userdata) {
        const Cli *c = userdata;
        (void) report;

        CHECK(dup2(c->out, STDOUT_FILENO) >= 0 && dup2(c->out, STDERR_FILENO) >= 0);
        if (backend == MK_CONTAINMENT_SYSTEMD)
                CHECK(setenv("MIRAKURU_BUS_ADDRESS", getenv("MIRAKURU_TEST_BUS"), 1) == 0);
        execl(test_mirakuru_run(), "mirakuru-run", "--containment", mk_containment_to_string(backend),
              "--output", "ready", "--then", c->then, "--", cont_tree(), "tree", "3", c->dir, (char *) NULL);
        return 127;
}

/* Reads FD to its end (an upper bound of a minute), malloc'd; NULL if
 * it did not end. */
static char *read_all(int fd) {
        uint64_t end = test_now_usec() + 60 * MK_USEC_PER_SEC;
        size_t size = 0;
        char *s = NULL;

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int64_t left = (int64_t) (end - MIN(test_now_usec(), end)) / 1000;
                char buf[4096];
                ssize_t l;

                if (left <= 0) {
                        fprintf(stderr, "the output of mirakuru-run did not end: %s\n", s ?: "");
                        free(s);
                        return NULL;
                }
                if (poll(&pfd, 1, (int) left) <= 0)
                        continue;
                l = read(fd, buf, sizeof buf);
                if (l == 0)
                        break;
                if (l < 0) {
                        assert_int_equal(errno, EINTR);
                        continue;
                }
                s = realloc(s, size + (size_t) l + 1);
                assert_non_null(s);
                memcpy(s + size, buf, (size_t) l);
                size += (size_t) l;
                s[size] = '\0';
        }
        return s ?: strdup("");
}

static pid_t start_cli(Cli *c, int *ret_read_fd) {
        int out[2], fd;
        pid_t pid;

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        c->out = out[1];
        pid = fork_filtered(exec_cli_child, c, &fd);
        close(fd);
        close(out[1]);
        *ret_read_fd = out[0];
        return pid;
}

/* d. The --then command is forked with fork_with_pidfd(). */
static void test_cli_then(void **state) {
        char *dir = test_make_temp_dir(), *out;
        Cli c = { .dir = dir, .then = "echo then-ran" };
        int fd, status;
        pid_t pid = start_cli(&c, &fd);
        (void) state;

        out = read_all(fd);
        close(fd);
        if (!out) {
                (void) kill(pid, SIGKILL);
                fail();
        }
        fprintf(stderr, "# mirakuru-run's output:\n%s", out);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_contains(out, "then-ran");
        assert_true(cont_all_gone(dir, 0));
        free(out);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

/* e. A SIGTERM of mirakuru-run's is forwarded to the --then command
 * (pidfd_signal_child(): kill(2) of the unreaped child, as
 * pidfd_send_signal(2) is refused); it ends, and mirakuru-run with it. */
static void test_cli_then_signalled(void **state) {
        char *dir = test_make_temp_dir(), *pidfile = test_path_in(dir, "then.pid"), *then, *out;
        uint64_t end = test_now_usec() + CONT_START_TIMEOUT_USEC;
        Cli c = { .dir = dir };
        int fd, status;
        pid_t pid, then_pid;
        (void) state;

        assert_true(asprintf(&then, "echo $$ >'%s.tmp' && mv '%s.tmp' '%s' && exec sleep 600",
                             pidfile, pidfile, pidfile) > 0);
        c.then = then;
        pid = start_cli(&c, &fd);
        while ((then_pid = test_read_pid_file(pidfile)) <= 0) {
                if (test_now_usec() >= end) {
                        kill(pid, SIGKILL);
                        fail_msg("the --then command never ran");
                }
                usleep(10000);
        }
        assert_true(test_pid_alive(then_pid));
        assert_int_equal(kill(pid, SIGTERM), 0);

        out = read_all(fd);
        close(fd);
        if (!out) {
                /* The command did not get the signal: end it, and
                 * mirakuru-run (its guard takes the service). */
                (void) kill(then_pid, SIGKILL);
                (void) kill(pid, SIGKILL);
                fail_msg("mirakuru-run did not end after SIGTERM");
        }
        fprintf(stderr, "# mirakuru-run's output:\n%s", out);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        fprintf(stderr, "# mirakuru-run exited with %d\n", WEXITSTATUS(status));
        assert_true(WEXITSTATUS(status) != 0);
        assert_true(test_wait_pid_gone(then_pid, 0));
        assert_true(cont_all_gone(dir, 0));
        free(out);
        free(then);
        free(pidfile);
        test_rm_rf(dir);
        free(dir);
        cont_reap_zombies();
}

/* Skips unless a filtered child can be made here. */
static int probe_child(FILE *report, void *userdata) {
        (void) report;
        (void) userdata;
        return 0;
}

static void probe_filter(void) {
        int fd, status;
        pid_t pid;

#ifndef NATIVE_AUDIT_ARCH
        test_skip_all("no seccomp architecture constant for this machine in the test");
#endif
        pid = fork_filtered(probe_child, NULL, &fd);
        close(fd);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                test_skip_all("cannot install a seccomp filter here");
}

int main(void) {
        const char *which;

        backend = cont_backend_from_env(&which);
        /* valgrind refuses these calls itself (the valgrind run covers that). */
        if (test_under_valgrind())
                test_skip_all("under valgrind, which answers ENOSYS to these calls itself");
        probe_filter();
        (void) cont_backend_enter(backend);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_stop),
                cmocka_unit_test(test_start_stop_clone3),
                cmocka_unit_test(test_supervisor_killed),
                cmocka_unit_test(test_replaced_guard),
                cmocka_unit_test(test_cli_then),
                cmocka_unit_test(test_cli_then_signalled),
        };
        int r = cmocka_run_group_tests_name(which, tests, NULL, NULL);
        cont_cgroup_leave();
        return r;
}

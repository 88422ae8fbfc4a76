/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spawn_resolve() and spawn_start(): PATH search, the start gate, exec
 * errors through the pipe, fds, cwd, LISTEN_PID, and both spawn paths. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "test-util.h"
#include "util/strv.h"

extern char **environ;

static void check_resolve(const char *argv0, const char *path, const char *const *want) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;

        assert_int_equal(spawn_resolve(argv0, path, &l), 0);
        for (; want[n]; n++) {
                assert_non_null(l[n]);
                assert_string_equal(l[n], want[n]);
        }
        assert_null(l[n]);
}

#define RESOLVE(argv0, path, ...) check_resolve((argv0), (path), (const char *const[]) { __VA_ARGS__, NULL })

static void test_resolve(void **state) {
        RESOLVE("/bin/sh", "/x", "/bin/sh");
        RESOLVE("./prog", "/x", "./prog");
        RESOLVE("sub/prog", NULL, "sub/prog");
        RESOLVE("sh", "/a:/b", "/a/sh", "/b/sh");
        /* empty entries mean the current directory, as in execvp() */
        RESOLVE("sh", "/a::/b", "/a/sh", "./sh", "/b/sh");
        RESOLVE("sh", ":/a", "./sh", "/a/sh");
        RESOLVE("sh", "/a:", "/a/sh", "./sh");
        RESOLVE("sh", "", "./sh");
        RESOLVE("sh", "/a/", "/a//sh");

        _cleanup_strv_free_ char **def = NULL;
        assert_int_equal(spawn_resolve("sh", NULL, &def), 0);
        assert_true(strv_contains(def, "/usr/bin/sh"));
        assert_true(strv_contains(def, "/bin/sh"));

        char **untouched = (char **) 0x1;
        assert_int_equal(spawn_resolve("", "/a", &untouched), -EINVAL);
        assert_int_equal(spawn_resolve(NULL, "/a", &untouched), -EINVAL);
        assert_ptr_equal(untouched, (char **) 0x1);
}

/* ---- spawn_start ---- */

/* Spawn vfork-style (no gate) instead of through the gated path. */
static bool use_vfork;
/* Non-NULL: the child's RLIMIT_NOFILE. */
static const struct rlimit *child_nofile;

typedef struct Spawned {
        SpawnedChild child;
        int out;   /* read end of the child's stdout */
} Spawned;

static void spawn(const char *const *argv, const char *const *paths, const char *cwd,
                  const int *pass_fds, size_t n_pass, bool listen_pid, Spawned *ret) {
        int out[2];

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        const SpawnParams p = {
                .argv = (char *const *) argv,
                .exec_paths = (char *const *) (paths ?: argv),
                .envp = environ,
                .cwd = cwd,
                .stdin_fd = -1,
                .stdout_fd = out[1],
                .stderr_fd = STDERR_FILENO,
                .pass_fds = pass_fds,
                .n_pass_fds = n_pass,
                .cgroup_fd = -1,
                .set_listen_pid = listen_pid,
                .nofile = child_nofile,
                .vfork = use_vfork,
        };
        assert_int_equal(spawn_start(&p, &ret->child), 0);
        close(out[1]);
        ret->out = out[0];
        assert_true(ret->child.pid > 0);
        assert_true(ret->child.pidfd >= 0);
        if (use_vfork) {
                /* no gate: by now the child has exec'd or failed */
                assert_true(ret->child.gate_fd < 0);
                if (!getenv("MIRAKURU_SPAWN"))
                        assert_true(ret->child.used_vfork);
        } else
                assert_true(ret->child.gate_fd >= 0);
        assert_true(ret->child.exec_fd >= 0);
}

/* Blocks until the exec pipe speaks. */
static int exec_result(Spawned *s) {
        struct pollfd pfd = { .fd = s->child.exec_fd, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, 30000), 1);
        return spawn_read_exec_result(s->child.exec_fd);
}

static char *read_all(int fd) {
        char *buf = malloc(65536);
        size_t n = 0;
        ssize_t k;

        assert_non_null(buf);
        while ((k = read(fd, buf + n, 65535 - n)) > 0)
                n += (size_t) k;
        buf[n] = '\0';
        return buf;
}

static siginfo_t reap(Spawned *s) {
        siginfo_t si = {};
        assert_int_equal(waitid(P_PIDFD, (id_t) s->child.pidfd, &si, WEXITED), 0);
        spawned_child_done(&s->child);
        close(s->out);
        return si;
}

static void check_gate_and_run(bool fork_path) {
        const char *argv[] = { "/bin/sh", "-c", "echo ran", NULL };
        Spawned s;

        if (fork_path)
                setenv("MIRAKURU_SPAWN", "fork", 1);
        else
                unsetenv("MIRAKURU_SPAWN");
        spawn(argv, NULL, NULL, NULL, 0, false, &s);
        if (fork_path)
                assert_false(s.child.used_clone3);

        /* Held at the gate: no exec yet. */
        assert_int_equal(fcntl(s.child.exec_fd, F_SETFL, O_NONBLOCK), 0);
        assert_int_equal(spawn_read_exec_result(s.child.exec_fd), 0);
        struct pollfd pfd = { .fd = s.out, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, 50), 0);
        assert_true(test_pid_alive(s.child.pid));
        /* the child is already its own session leader */
        assert_int_equal(getsid(s.child.pid), s.child.pid);

        spawn_release(&s.child);
        assert_true(s.child.gate_fd < 0);
        assert_int_equal(fcntl(s.child.exec_fd, F_SETFL, 0), 0);
        assert_int_equal(exec_result(&s), 1);
        _cleanup_free_ char *out = read_all(s.out);
        assert_string_equal(out, "ran\n");
        siginfo_t si = reap(&s);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 0);
        unsetenv("MIRAKURU_SPAWN");
}

static void test_gate_clone3(void **state) {
        check_gate_and_run(false);
}

static void test_gate_fork(void **state) {
        check_gate_and_run(true);
}

static void test_gate_closed_unopened(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *marker = NULL, *script = NULL;
        Spawned s;

        assert_true(asprintf(&marker, "%s/ran", dir) > 0);
        assert_true(asprintf(&script, "touch '%s'", marker) > 0);
        const char *argv[] = { "/bin/sh", "-c", script, NULL };
        spawn(argv, NULL, NULL, NULL, 0, false, &s);
        /* Closing the gate without a byte: the child must never run the program. */
        s.child.gate_fd = safe_close(s.child.gate_fd);
        siginfo_t si = reap(&s);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 127);
        assert_int_equal(access(marker, F_OK), -1);
        test_rm_rf(dir);
}

/* A child that died at the gate (killed, or its fd setup failed for want of
 * fds) has closed the gate's read end: opening the gate then must neither
 * kill the caller with SIGPIPE nor leave one pending. */
static void test_release_after_child_died(void **state) {
        for (int fork_path = 0; fork_path < 2; fork_path++) {
                const char *argv[] = { "/bin/true", NULL };
                Spawned s;
                siginfo_t si = {};
                sigset_t pending;

                if (fork_path)
                        setenv("MIRAKURU_SPAWN", "fork", 1);
                spawn(argv, NULL, NULL, NULL, 0, false, &s);
                assert_int_equal(kill(s.child.pid, SIGKILL), 0);
                assert_int_equal(waitid(P_PIDFD, (id_t) s.child.pidfd, &si, WEXITED | WNOWAIT), 0);
                spawn_release(&s.child);
                assert_true(s.child.gate_fd < 0);
                assert_int_equal(sigpending(&pending), 0);
                assert_false(sigismember(&pending, SIGPIPE));
                si = reap(&s);
                assert_int_equal(si.si_code, CLD_KILLED);
                unsetenv("MIRAKURU_SPAWN");
        }
}

static void test_exec_errors(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *noexec = NULL;
        Spawned s;

        assert_true(asprintf(&noexec, "%s/noexec", dir) > 0);
        int fd = open(noexec, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);

        for (int fork_path = 0; fork_path < 2; fork_path++) {
                if (fork_path)
                        setenv("MIRAKURU_SPAWN", "fork", 1);
                {
                        const char *argv[] = { "prog", NULL };
                        const char *paths[] = { "/nonexistent/a/prog", "/nonexistent/b/prog", NULL };
                        spawn(argv, paths, NULL, NULL, 0, false, &s);
                        spawn_release(&s.child);
                        assert_int_equal(exec_result(&s), -ENOENT);
                        assert_int_equal(reap(&s).si_status, 127);
                }
                {
                        /* EACCES wins over a later ENOENT, as in execvp() */
                        const char *argv[] = { "prog", NULL };
                        const char *paths[] = { noexec, "/nonexistent/prog", NULL };
                        spawn(argv, paths, NULL, NULL, 0, false, &s);
                        spawn_release(&s.child);
                        assert_int_equal(exec_result(&s), -EACCES);
                        reap(&s);
                }
                {
                        /* ... and the search goes on past EACCES to a program that works */
                        const char *argv[] = { "sh", "-c", "echo found", NULL };
                        const char *paths[] = { noexec, "/nonexistent/sh", "/bin/sh", NULL };
                        spawn(argv, paths, NULL, NULL, 0, false, &s);
                        spawn_release(&s.child);
                        assert_int_equal(exec_result(&s), 1);
                        _cleanup_free_ char *out = read_all(s.out);
                        assert_string_equal(out, "found\n");
                        assert_int_equal(reap(&s).si_status, 0);
                }
                {
                        /* a failing chdir comes back the same way */
                        const char *argv[] = { "/bin/true", NULL };
                        spawn(argv, NULL, "/nonexistent-directory", NULL, 0, false, &s);
                        spawn_release(&s.child);
                        assert_int_equal(exec_result(&s), -ENOENT);
                        reap(&s);
                }
                unsetenv("MIRAKURU_SPAWN");
        }
        test_rm_rf(dir);
}

static void test_pass_fds_and_listen_pid(void **state) {
        int extra[2], extra2[2];
        Spawned s;

        assert_int_equal(pipe2(extra, O_CLOEXEC), 0);
        assert_int_equal(pipe2(extra2, O_CLOEXEC), 0);
        /* fds 3 and 4 in the child, in this order; nothing else above 2 */
        const int pass[] = { extra[1], extra2[1] };
        const char *argv[] = { "/bin/sh", "-c",
                               "echo three >&3; echo four >&4; echo \"$LISTEN_PID\"; "
                               "ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL };
        spawn(argv, NULL, "/", pass, 2, true, &s);
        close(extra[1]);
        close(extra2[1]);
        spawn_release(&s.child);
        assert_int_equal(exec_result(&s), 1);
        _cleanup_free_ char *out = read_all(s.out);
        _cleanup_free_ char *three = read_all(extra[0]);
        _cleanup_free_ char *four = read_all(extra2[0]);
        assert_string_equal(three, "three\n");
        assert_string_equal(four, "four\n");
        char want[64];
        snprintf(want, sizeof want, "%d\n", (int) s.child.pid);
        assert_true(strncmp(out, want, strlen(want)) == 0);
        /* ls itself opens one more fd for /proc/self/fd */
        assert_true(strncmp(out + strlen(want), "0 1 2 3 4 ", 10) == 0);
        assert_true(strlen(out + strlen(want)) <= 12);
        assert_int_equal(reap(&s).si_status, 0);
        close(extra[0]);
        close(extra2[0]);
}

/* The vfork-style path: no gate, the same exec errors, fds and LISTEN_PID. */
static void test_vfork(void **state) {
#if defined(__SANITIZE_ADDRESS__)
        /* spawn takes the gated path under AddressSanitizer */
        skip();
#endif
        use_vfork = true;
        {
                const char *argv[] = { "/bin/sh", "-c", "echo ran", NULL };
                Spawned s;
                spawn(argv, NULL, NULL, NULL, 0, false, &s);
                assert_int_equal(exec_result(&s), 1);
                _cleanup_free_ char *out = read_all(s.out);
                assert_string_equal(out, "ran\n");
                siginfo_t si = reap(&s);
                assert_int_equal(si.si_code, CLD_EXITED);
                assert_int_equal(si.si_status, 0);
        }
        test_exec_errors(state);
        test_pass_fds_and_listen_pid(state);
        use_vfork = false;
}

/* Issue 14: a supervisor of thousands of services has thousands of fds. The
 * vfork-style child then shares our fd table and copies only a few low
 * slots (spawn-slots.h) instead of copying and closing all of them: it
 * still gets exactly its own fds (fds 0-4 and nothing else), our copies of
 * its pipes are dropped when spawn returns (read_all() sees EOF), and
 * exec errors are reported as before. And the child gets the fd limit it
 * is given (mk_raise_fd_limit()'s: the soft limit of before). */
static void test_vfork_large_fd_table(void **state) {
        int many[300];
        struct rlimit rl;
#if defined(__SANITIZE_ADDRESS__)
        skip();
#endif
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                assert_true((many[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
        use_vfork = true;
        test_exec_errors(state);
        test_pass_fds_and_listen_pid(state);
        for (int round = 0; round < 3; round++) {
                const char *argv[] = { "/bin/sh", "-c", "ulimit -Sn; ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL };
                Spawned s;
                assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
                rl.rlim_cur = 200 + (rlim_t) round;
                child_nofile = &rl;
                spawn(argv, NULL, NULL, NULL, 0, false, &s);
                child_nofile = NULL;
                assert_int_equal(exec_result(&s), 1);
                _cleanup_free_ char *out = read_all(s.out);
                char want[64];
                /* valgrind answers the child's setrlimit() itself (the kernel's
                 * limit is not changed): only the fds can be checked there. */
                const char *fds = strchr(out, '\n');
                assert_non_null(fds);
                if (!test_under_valgrind()) {
                        snprintf(want, sizeof want, "%d\n", 200 + round);
                        assert_true(strncmp(out, want, strlen(want)) == 0);
                }
                assert_true(strncmp(fds + 1, "0 1 2 3 ", 8) == 0);
                assert_true(strlen(fds + 1) <= 9);
                assert_int_equal(reap(&s).si_status, 0);
        }
        use_vfork = false;
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                close(many[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_gate_clone3),
                cmocka_unit_test(test_gate_fork),
                cmocka_unit_test(test_gate_closed_unopened),
                cmocka_unit_test(test_release_after_child_died),
                cmocka_unit_test(test_exec_errors),
                cmocka_unit_test(test_pass_fds_and_listen_pid),
                cmocka_unit_test(test_vfork),
                cmocka_unit_test(test_vfork_large_fd_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

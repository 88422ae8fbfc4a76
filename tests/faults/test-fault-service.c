/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service that misbehaves: crashes, closes its stdout, floods its output,
 * forks without end, fills its log target; a supervisor short of fds; pid
 * files that are not files; probe targets that reset or never answer. Each
 * case: nothing left running (by pid), nothing lost, a clear message. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fault-common.h"
#include "fault-fixture.h"
#include "util/macro.h"
#include "test-util.h"

#define START_TIMEOUT_USEC (60 * MK_USEC_PER_SEC)

static MkExecutor *service(const char *const *args) {
        const char *argv[32] = { fault_service() };
        MkExecutor *e = NULL;
        size_t n = 1;

        for (const char *const *a = args; *a && n < 31; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        assert_int_equal(mk_executor_set_timeout(e, START_TIMEOUT_USEC), 0);
        assert_int_equal(mk_executor_set_stop_timeout(e, 5 * MK_USEC_PER_SEC), 0);
        return e;
}

/* SIGSEGV before the probes passed: start fails with -ECHILD, says so, and
 * shows the last output. */
static void test_segv_during_probes(void **state) {
        const char *args[] = { "record", fault_records, "child", fault_records, "out", "about to crash",
                               "sleep", "50", "segv", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
        (void) state;

        assert_int_equal(mk_executor_add_output_probe(e, "^never$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), -ECHILD);
        assert_true(fault_error_has(e, "SIGSEGV"));
        assert_true(fault_error_has(e, "about to crash"));
        assert_int_equal(mk_executor_get_state(e), MK_STATE_IDLE);
        fault_assert_records_gone("a crash during probes");
}

/* SIGSEGV after ready: the exit is reported, stop collects the rest and
 * returns -ECHILD (an unclean exit). */
static void test_segv_after_ready(void **state) {
        const char *args[] = { "record", fault_records, "child", fault_records, "out", "ready",
                               "sleep", "100", "segv", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
        MkExit x;
        size_t n;
        (void) state;

        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        free(fault_wait_pids(fault_records, 2, FAULT_WAIT_USEC, &n));
        assert_int_equal(n, 2);
        assert_int_equal(mk_executor_wait(e, FAULT_WAIT_USEC), 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_EXITED);
        assert_int_equal(mk_executor_get_exit(e, &x), 0);
        assert_true(x.code == CLD_KILLED || x.code == CLD_DUMPED);
        assert_int_equal(x.status, SIGSEGV);
        assert_false(x.clean);
        assert_int_equal(mk_exit_to_status(&x), 128 + SIGSEGV);
        assert_int_equal(mk_executor_stop(e), -ECHILD);
        fault_assert_records_gone("a crash after ready");
}

/* A service that closes its stdout keeps running and is still watched:
 * stderr is drained, a probe on it works, stop finds it. */
static void test_closed_stdout(void **state) {
        const char *args[] = { "record", fault_records, "out", "last words on stdout", "close-stdout",
                               "sleep", "50", "err", "ready on stderr", "pause", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
        _cleanup_free_ char *out = NULL;
        size_t size;
        (void) state;

        assert_int_equal(mk_executor_add_output_probe(e, "^ready on stderr$", MK_STREAM_STDERR), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_get_output(e, MK_STREAM_STDOUT, &out, &size), 0);
        assert_string_equal(out, "last words on stdout\n"); /* nothing lost */
        assert_int_equal(mk_executor_wait(e, 200 * MK_USEC_PER_MSEC), -ETIMEDOUT); /* still running */
        assert_int_equal(mk_executor_stop(e), 0);
        fault_assert_records_gone("a service with a closed stdout");
}

/* The tee target is full (/dev/full: every write fails with ENOSPC): the
 * service is not blocked, the capture keeps everything, lines still come. */
static void test_full_log_target(void **state) {
        const char *args[] = { "record", fault_records, "flood", "20000", "1", "out", "ready", "pause", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
        _cleanup_close_ int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
        _cleanup_free_ char *last = NULL;
        (void) state;

        if (full < 0)
                skip();
        assert_int_equal(mk_executor_set_output_fd(e, MK_STREAM_BOTH, full), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_get_last_lines(e, 2, &last), 0);
        assert_string_equal(last, "flood done 20000\nready");
        assert_int_equal(mk_executor_stop(e), 0);
        fault_assert_records_gone("a full log target");
}

/* The log file lies on a full filesystem (a 64 KiB tmpfs in a private mount
 * namespace): the service is not blocked and start succeeds. Runs in a
 * forked child (the namespace), which reports by exit status. */
static void test_full_log_filesystem(void **state) {
        char mnt[4200], log[4300];
        pid_t pid;
        int status;
        (void) state;

        snprintf(mnt, sizeof mnt, "%s/mnt", fault_dir);
        snprintf(log, sizeof log, "%s/service.log", mnt);
        assert_int_equal(mkdir(mnt, 0700), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700") < 0)
                        _exit(EXIT_TEST_SKIP);
                const char *args[] = { "record", fault_records, "flood", "20000", "1", "out", "ready", "pause",
                                       NULL };
                MkExecutor *e = service(args);
                sd_event *event = NULL;
                if (sd_event_new(&event) < 0 || mk_executor_attach_event(e, event, 0) < 0 ||
                    mk_executor_set_output_file(e, MK_STREAM_BOTH, log) < 0 ||
                    mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT) < 0)
                        _exit(2);
                if (mk_executor_start(e) < 0) {
                        fprintf(stderr, "start: %s\n", mk_executor_get_error(e));
                        _exit(3);
                }
                struct stat st;
                if (stat(log, &st) < 0 || st.st_size == 0 || st.st_size > 64 * 1024)
                        _exit(4);
                fprintf(stderr, "# the log holds %lld bytes of 1.3 MB printed\n", (long long) st.st_size);
                _exit(mk_executor_stop(e) == 0 ? 0 : 5);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == EXIT_TEST_SKIP) {
                fprintf(stderr, "# cannot mount a tmpfs in a private mount namespace here\n");
                skip();
        }
        assert_int_equal(WEXITSTATUS(status), 0);
        fault_assert_records_gone("a full log filesystem");
}

/* With fds running out (a low RLIMIT_NOFILE), start fails cleanly with a
 * message or works; never a crash, never a leftover. Each limit from the
 * fds in use up to 32 more, in a forked child that reports by exit status. */
static void test_emfile(void **state) {
        unsigned failed = 0, worked = 0;
        (void) state;

        if (test_under_valgrind()) {
                /* Not ours to fix: its syscall wrapper asserts. The case runs
                 * in the normal and the ASan suites. */
                fprintf(stderr, "# skipped under valgrind: valgrind 3.19 aborts when clone(CLONE_PIDFD) fails "
                        "with EMFILE\n");
                skip();
        }

        for (int extra = 0; extra <= 32; extra++) {
                pid_t pid;
                int status;

                (void) unlink(fault_records);
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        const char *args[] = { "record", fault_records, "out", "ready", "pause", NULL };
                        MkExecutor *e = service(args);
                        sd_event *event = NULL;
                        if (sd_event_new(&event) < 0 || mk_executor_attach_event(e, event, 0) < 0 ||
                            mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT) < 0)
                                _exit(2);
                        /* The hard limit stays: valgrind refuses to change it. */
                        struct rlimit rl;
                        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                                _exit(2);
                        rl.rlim_cur = (rlim_t) (test_count_fds() + extra);
                        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                                _exit(2);
                        int r = mk_executor_start(e);
                        if (r < 0) {
                                const char *m = mk_executor_get_error(e);
                                fprintf(stderr, "# %d more fds: start: %s: %s\n", extra, strerror(-r), m ?: "(no message)");
                                _exit(m && *m ? 10 : 3);
                        }
                        r = mk_executor_stop(e);
                        if (r != 0)
                                fprintf(stderr, "# %d more fds: stop: %d %s\n", extra, r, mk_executor_get_error(e) ?: "");
                        _exit(r == 0 ? 0 : 4);
                }
                assert_int_equal(waitpid(pid, &status, 0), pid);
                if (!WIFEXITED(status))
                        fail_msg("with %d more fds the supervisor died by signal %d", extra, WTERMSIG(status));
                if (WEXITSTATUS(status) == 10)
                        failed++;
                else if (WEXITSTATUS(status) == 0)
                        worked++;
                else
                        fail_msg("with %d more fds: exit status %d", extra, WEXITSTATUS(status));
                fault_assert_records_gone("a start short of fds");
                fault_reap();
        }
        fprintf(stderr, "# %u limits failed cleanly, %u worked\n", failed, worked);
        assert_true(failed > 0);
        assert_true(worked > 0);
}

/* A pid file probe refuses a symbolic link (even to a file holding the
 * right pid) and a directory; the timeout names the reason. */
static void pid_file_refused(bool symlink, const char *needle) {
        char path[4300];
        const char *args[] = { "record", fault_records, "symlink", path, "pause", NULL };
        const char *args_dir[] = { "record", fault_records, "pause", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;

        snprintf(path, sizeof path, "%s/service.pid", fault_dir);
        e = service(symlink ? args : args_dir);
        if (!symlink)
                assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(mk_executor_add_pid_file_probe(e, path, true), 0);
        assert_int_equal(mk_executor_set_timeout(e, 2 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_start(e), -ETIMEDOUT);
        assert_true(fault_error_has(e, needle));
        fault_assert_records_gone("a refused pid file");
}

static void test_pid_file_symlink(void **state) {
        (void) state;
        pid_file_refused(true, "symbolic link");
}

static void test_pid_file_directory(void **state) {
        (void) state;
        pid_file_refused(false, "directory");
}

/* A target that accepts and resets at once: a TCP connection that was
 * accepted counts (mirakuru's semantics), an HTTP request that is reset
 * does not; the deadline ends it with the reason. */
static void test_accept_and_reset(void **state) {
        char port[16];
        (void) state;

        snprintf(port, sizeof port, "%u", fault_free_port());
        const char *args[] = { "record", fault_records, "serve", "reset", port, NULL };
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
                assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", (uint16_t) atoi(port)), 0);
                assert_int_equal(mk_executor_start(e), 0);
                assert_int_equal(mk_executor_stop(e), 0);
                fault_assert_records_gone("a resetting target (tcp)");
        }
#if HAVE_CURL
        {
                _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
                char url[64];
                snprintf(url, sizeof url, "http://127.0.0.1:%s/", port);
                const MkHttpProbe h = { .url = url, .request_timeout_usec = MK_USEC_PER_SEC };
                assert_int_equal(mk_executor_add_http_probe(e, &h), 0);
                assert_int_equal(mk_executor_set_timeout(e, 2 * MK_USEC_PER_SEC), 0);
                assert_int_equal(mk_executor_start(e), -ETIMEDOUT);
                assert_true(fault_error_has(e, "http"));
                fault_assert_records_gone("a resetting target (http)");
        }
#endif
}

/* An HTTP server that accepts and never answers: each request gives up
 * after its own timeout and the start deadline is kept. */
static void test_http_never_answers(void **state) {
#if HAVE_CURL
        char port[16], url[64];
        (void) state;

        snprintf(port, sizeof port, "%u", fault_free_port());
        snprintf(url, sizeof url, "http://127.0.0.1:%s/", port);
        const char *args[] = { "record", fault_records, "serve", "silent", port, NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = service(args);
        const MkHttpProbe h = { .url = url, .request_timeout_usec = 300 * MK_USEC_PER_MSEC };
        assert_int_equal(mk_executor_add_http_probe(e, &h), 0);
        assert_int_equal(mk_executor_set_timeout(e, 3 * MK_USEC_PER_SEC), 0);
        uint64_t t0 = test_now_usec();
        assert_int_equal(mk_executor_start(e), -ETIMEDOUT);
        uint64_t took = test_now_usec() - t0;
        fprintf(stderr, "# start gave up after %llu ms\n", (unsigned long long) (took / 1000));
        /* The per-request timeout, not the deadline, ended each attempt. */
        assert_true(fault_error_has(e, " within 300 ms"));
        /* Kept: not before the deadline; the upper bound is generous (noisy machine). */
        assert_true(took >= 3 * MK_USEC_PER_SEC);
        assert_true(took < 30 * MK_USEC_PER_SEC);
        fault_assert_records_gone("a silent HTTP server");
#else
        (void) state;
        skip();
#endif
}

typedef struct Flood {
        unsigned long lines;
        unsigned long next; /* the number the next "line N" must carry */
        bool out_of_order;
        bool done;
        long rss_max;       /* VmRSS, KiB, sampled every FLOOD_RATE lines */
} Flood;

#define FLOOD_RATE 10000 /* lines per second */

static void on_flood_line(MkExecutor *e, MkStream stream, const char *line, size_t length, void *userdata) {
        Flood *f = userdata;
        unsigned long v;
        (void) e;
        (void) stream;
        (void) length;

        if (sscanf(line, "line %lu", &v) == 1) {
                if (v != f->next)
                        f->out_of_order = true;
                f->next = v + 1;
                if (++f->lines % FLOOD_RATE == 0)
                        f->rss_max = MAX(f->rss_max, test_vmrss_kib());
        } else if (strncmp(line, "flood done", 10) == 0)
                f->done = true;
}

/* 10,000 lines per second for a minute after ready: every line arrives, in
 * order, and memory stays bounded (VmRSS sampled each second, where that
 * means anything). Under valgrind and ASan, which measure no RSS and run
 * slower, for 6 seconds. */
static void test_output_flood(void **state) {
        const unsigned seconds = test_rss_is_meaningful() ? 60 : 6;
        char rate[16], duration[16];
        const char *args[] = { "record", fault_records, "out", "ready", "flood", rate, duration, "pause", NULL };
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        Flood f = {};
        long rss_before;
        (void) state;

        snprintf(rate, sizeof rate, "%d", FLOOD_RATE);
        snprintf(duration, sizeof duration, "%u", seconds);
        e = service(args);
        assert_int_equal(mk_executor_set_line_handler(e, on_flood_line, &f), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        rss_before = f.rss_max = test_vmrss_kib();
        assert_int_equal(test_run_until(mk_executor_get_event(e), &f.done, (seconds + 60) * MK_USEC_PER_SEC), 0);
        fprintf(stderr, "# %lu lines in %u s; VmRSS %ld KiB before, at most %ld KiB during\n", f.lines, seconds,
                rss_before, f.rss_max);
        assert_int_equal(f.lines, (unsigned long) FLOOD_RATE * seconds);
        assert_false(f.out_of_order);
        if (test_rss_is_meaningful())
                /* 40 MB go through; the capture keeps 1 MiB per stream. */
                assert_true(f.rss_max - rss_before < 3 * 1024);
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_stop(e), 0);
        fault_assert_records_gone("an output flood");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_segv_during_probes, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_segv_after_ready, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_closed_stdout, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_full_log_target, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_full_log_filesystem, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_emfile, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_pid_file_symlink, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_pid_file_directory, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_accept_and_reset, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_http_never_answers, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_output_flood, fault_setup, fault_teardown),
        };
        return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listen watch's event path (probe/listen-event.c): where perf may
 * open the sock:inet_sock_set_state tracepoint system-wide, a tcp or http
 * probe of a service that listens after a delay learns of it from the
 * tracepoint (mk_executor_get_listen_watch() says MK_LISTEN_WATCH_EVENT and
 * mk_executor_get_listen_events() counts the wake-up); listens of other
 * processes on the same port (another network namespace, another address)
 * wake the watch but make nothing ready; with the event path turned off
 * ($MIRAKURU_LISTEN_EVENT=0, mk_executor_set_listen_event()) or refused by
 * the kernel (a seccomp filter answering EACCES to perf_event_open), the
 * 1 ms poll finds the service, with the reason kept.
 *
 * The probes retry their connects once a minute, so only the watch can find
 * the services within the start timeout. Skipped where perf may not open a
 * system-wide event or no tracefs can be reached. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "probe2-test.h"

#define RETRY_USEC (60 * MK_USEC_PER_SEC)
#define WATCH_TIMEOUT_USEC (10 * MK_USEC_PER_SEC)
/* Long enough for the watch to be set up before the listen also under
 * valgrind (a listener already there is found by the first look, not an event). */
#define DELAY "1000"

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

static const char *no_event_path; /* why the event path cannot work here, or NULL */

/* Can this process open a system-wide perf event, and reach tracefs (mounted,
 * or mountable in a mount namespace of a child's own)? Independent of the
 * library, so that a fallback the library takes by mistake fails the tests
 * instead of skipping them. */
static const char *event_path_unavailable(void) {
        struct perf_event_attr attr = { .type = PERF_TYPE_SOFTWARE, .size = sizeof attr,
                                        .config = PERF_COUNT_SW_DUMMY, .disabled = 1 };
        int fd = (int) syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
        int status;
        pid_t pid;

        if (fd < 0)
                return "perf_event_open may not open a system-wide event here";
        close(fd);
        if (access("/sys/kernel/tracing/events/sock/inet_sock_set_state/id", R_OK) == 0 ||
            access("/sys/kernel/debug/tracing/events/sock/inet_sock_set_state/id", R_OK) == 0)
                return NULL;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                                      mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
                                      access("/sys/kernel/tracing/events/sock/inet_sock_set_state/id", R_OK) == 0
                              ? 0
                              : 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? NULL
                                                             : "tracefs is not mounted and cannot be mounted privately";
}

static void need_event_path(void) {
        if (no_event_path) {
                fprintf(stderr, "skipped: %s\n", no_event_path);
                skip();
        }
}

static MkExecutor *slow_tcp_server(uint16_t port, uint64_t timeout) {
        char *spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(timeout, "--delay-ms", DELAY, "--tcp", spec, NULL);

        free(spec);
        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        return e;
}

/* A service listening after 300 ms is found through the tracepoint. */
static void test_event_tcp(void **state) {
        need_event_path();
        MkExecutor *e = slow_tcp_server(free_port(AF_INET), WATCH_TIMEOUT_USEC);

        assert_start(e, 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);
        if (mk_executor_get_listen_watch_reason(e))
                fprintf(stderr, "fell back: %s\n", mk_executor_get_listen_watch_reason(e));
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_EVENT);
        assert_null(mk_executor_get_listen_watch_reason(e));
        assert_true(mk_executor_get_listen_events(e) >= 1);
        assert_int_equal(mk_executor_stop(e), 0);

        /* Each start counts afresh; a second start finds it again. */
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_EVENT);
        assert_true(mk_executor_get_listen_events(e) >= 1);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* A service that listens at once (no delay): the poll finds it before
 * the event path would be armed (50 ms after the watch began), so the
 * start never opens the tracepoint, whose last close costs the process
 * 30-70 ms of RCU grace periods at its exit (a one-shot mirakuru-run with a
 * short --then paid them: 34 ms a cycle instead of 7). Where the start
 * itself took longer than that (a loaded machine, valgrind), the event
 * path must have been armed instead. */
static void test_quick_listener_skips_the_event_path(void **state) {
        need_event_path();
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port);
        MkExecutor *e = server(WATCH_TIMEOUT_USEC, "--tcp", spec, NULL);
        uint64_t began, took;

        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        began = test_now_usec();
        assert_start(e, 0);
        took = test_now_usec() - began;
        fprintf(stderr, "# ready after %.1f ms: %s (%s)\n", (double) took / 1000,
                mk_executor_get_listen_watch(e) == MK_LISTEN_WATCH_EVENT  ? "event"
                : mk_executor_get_listen_watch(e) == MK_LISTEN_WATCH_POLL ? "poll"
                                                                          : "no watch: the first connect answered",
                mk_executor_get_listen_watch_reason(e) ?: "-");
        if (took < 45 * MK_USEC_PER_MSEC) {
                /* The poll found it; or, on a loaded machine, it listened
                 * before the probe's first connect, and no watch began. */
                assert_int_not_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_EVENT);
                if (mk_executor_get_listen_watch(e) == MK_LISTEN_WATCH_POLL)
                        assert_contains(mk_executor_get_listen_watch_reason(e), "within 50 ms");
                assert_int_equal(mk_executor_get_listen_events(e), 0);
        } else if (took > 60 * MK_USEC_PER_MSEC && mk_executor_get_listen_watch(e) != MK_LISTEN_WATCH_NONE)
                assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_EVENT);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
}

/* The same for http ("localhost": ::1 and 127.0.0.1), the request sent on the event. */
static void test_event_http(void **state) {
        need_event_path();
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port), *url;
        MkExecutor *e = helper_executor("probe2-http-server", WATCH_TIMEOUT_USEC, "--tcp", spec, "--delay-ms",
                                        DELAY, "--ok-after", "0", NULL);
        MkHttpProbe p = { .url = NULL };

        assert_true(asprintf(&url, "http://localhost:%u/health", port) > 0);
        p.url = url;
        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(mk_executor_add_http_probe(e, &p), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_EVENT);
        assert_true(mk_executor_get_listen_events(e) >= 1);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        free(spec);
        free(url);
}

/* A child of the test that, after DELAY_MS, listens on ADDRESS:PORT (in a
 * network namespace of its own if PRIVATE_NETNS) until killed. */
static pid_t listen_later(int family, uint16_t port, bool private_netns, unsigned delay_ms) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid > 0)
                return pid;
        if (private_netns && unshare(CLONE_NEWNET) < 0)
                _exit(2);
        if (private_netns) {
                struct ifreq ifr = { .ifr_name = "lo" };
                int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                        _exit(2);
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                        _exit(2);
                close(s);
        }
        usleep(delay_ms * 1000);
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
                                    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (family == AF_INET6)
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (fd < 0 ||
            (family == AF_INET ? bind(fd, (struct sockaddr *) &in, sizeof in)
                               : bind(fd, (struct sockaddr *) &in6, sizeof in6)) < 0 ||
            listen(fd, 1) < 0)
                _exit(3);
        for (;;)
                pause();
}

/* Ends a listen_later() child; false if it could not make a network
 * namespace (exit status 2: not permitted here), else it listened. */
static bool end_child(pid_t pid) {
        int status;

        (void) kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
                return false;
        assert_true(WIFSIGNALED(status)); /* it got as far as listening */
        return true;
}

/* Other processes listen on our port: on 127.0.0.1 in another network
 * namespace, and on ::1 here (we probe 127.0.0.1). Each listen wakes the
 * watch; none makes the start ready: it times out, nobody having listened
 * where we connect. */
static void test_event_other_listeners_do_not_make_ready(void **state) {
        need_event_path();
        uint16_t port = free_port(AF_INET);
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);
        pid_t other_netns, other_address = -1;

        assert_int_equal(mk_executor_set_probe_retry(e, RETRY_USEC, RETRY_USEC), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", port), 0);
        other_netns = listen_later(AF_INET, port, true, 200);
        if (have_ipv6_loopback())
                other_address = listen_later(AF_INET6, port, false, 400);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "connection refused");
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_EVENT);
        unsigned listened = (unsigned) end_child(other_netns);
        if (other_address > 0)
                listened += (unsigned) end_child(other_address);
        if (listened == 0)
                fprintf(stderr, "no other listener could be made here (no network namespace, no ::1)\n");
        assert_true(mk_executor_get_listen_events(e) >= listened);
        mk_executor_unref(e);
}

/* Turned off by the setter, or by $MIRAKURU_LISTEN_EVENT=0 for new
 * executors: the poll finds the service, no event is counted. Runs
 * everywhere (the poll path needs no permission). */
static void test_event_off_polls(void **state) {
        MkExecutor *e = slow_tcp_server(free_port(AF_INET), WATCH_TIMEOUT_USEC);

        assert_int_equal(mk_executor_set_listen_event(NULL, false), -EINVAL);
        assert_int_equal(mk_executor_set_listen_event(e, false), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_POLL);
        assert_string_equal(mk_executor_get_listen_watch_reason(e), "the event path is turned off");
        assert_int_equal(mk_executor_get_listen_events(e), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);

        assert_int_equal(setenv("MIRAKURU_LISTEN_EVENT", "0", 1), 0);
        e = slow_tcp_server(free_port(AF_INET), WATCH_TIMEOUT_USEC);
        assert_int_equal(unsetenv("MIRAKURU_LISTEN_EVENT"), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_POLL);
        assert_int_equal(mk_executor_get_listen_events(e), 0);
        assert_int_equal(mk_executor_stop(e), 0);

        /* Back on: the event path where it can be, and the poll says why not where it cannot. */
        assert_int_equal(mk_executor_set_listen_event(e, true), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_listen_watch(e), no_event_path ? MK_LISTEN_WATCH_POLL : MK_LISTEN_WATCH_EVENT);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);

        /* No local address, no watch at all. */
        e = server(FAIL_TIMEOUT_USEC, NULL);
        assert_int_equal(mk_executor_set_listen_poll(e, 0), 0);
        assert_int_equal(mk_executor_add_tcp_probe(e, "127.0.0.1", free_port(AF_INET)), 0);
        assert_start(e, -ETIMEDOUT);
        assert_int_equal(mk_executor_get_listen_watch(e), MK_LISTEN_WATCH_NONE);
        mk_executor_unref(e);
}

/* In a forked child: no cmocka there, report by the exit status. */
#define CHECK(expr)                                                                                        \
        do {                                                                                               \
                if (!(expr)) {                                                                             \
                        fprintf(stderr, "%s:%d: in the filtered child: %s\n", __FILE__, __LINE__, #expr); \
                        _exit(EXIT_FAILURE);                                                               \
                }                                                                                          \
        } while (0)

/* perf_event_open answers EACCES, as under a container's seccomp profile. */
static int refuse_perf(void) {
#ifndef NATIVE_AUDIT_ARCH
        return -EOPNOTSUPP;
#else
        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
        };
        struct sock_fprog prog = { .len = sizeof insns / sizeof insns[0], .filter = insns };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
#endif
}

/* The kernel refuses perf_event_open: the poll finds the service all the
 * same, and the reason says what refused. */
static void test_event_refused_falls_back_to_poll(void **state) {
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                int r = refuse_perf();
                if (r < 0) {
                        fprintf(stderr, "skipped: cannot install a seccomp filter: %s\n", strerror(-r));
                        _exit(77);
                }
                MkExecutor *e = slow_tcp_server(free_port(AF_INET), WATCH_TIMEOUT_USEC);
                r = mk_executor_start(e);
                if (r < 0)
                        fprintf(stderr, "start: %s: %s\n", strerror(-r), mk_executor_get_error(e) ?: "-");
                CHECK(r == 0);
                CHECK(mk_executor_get_listen_watch(e) == MK_LISTEN_WATCH_POLL);
                CHECK(mk_executor_get_listen_events(e) == 0);
                fprintf(stderr, "reason: %s\n", mk_executor_get_listen_watch_reason(e) ?: "(none)");
                /* Refused at perf_event_open, or earlier where tracefs is out of reach. */
                CHECK(mk_executor_get_listen_watch_reason(e) &&
                      (strstr(mk_executor_get_listen_watch_reason(e), "Permission denied") ||
                       (no_event_path && strstr(mk_executor_get_listen_watch_reason(e), "tracefs"))));
                CHECK(mk_executor_stop(e) == 0);
                mk_executor_unref(e);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* Our children named mirakuru-tpkeep (zombies included), into PIDS. */
static size_t find_keepers(pid_t *pids, size_t max) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)) && n < max) {
                char path[300], buf[512], *comm_end;
                int ppid = 0;
                FILE *f;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                buf[0] = '\0';
                (void) !fgets(buf, sizeof buf, f);
                fclose(f);
                comm_end = strrchr(buf, ')');
                if (!comm_end || sscanf(comm_end + 2, "%*c %d", &ppid) != 1 || ppid != getpid())
                        continue;
                if (strstr(buf, "(mirakuru-tpkeep)"))
                        pids[n++] = (pid_t) atoi(de->d_name);
        }
        closedir(d);
        return n;
}

/* The keeper that holds the tracepoint's anchor (docs/probes.md) goes when
 * the last watch ends, not when its process does, and never outlives it: a
 * fresh mirakuru-run (as a CI job runs it) with a tcp probe on the event
 * path and a --then command of 2 s; made our children by
 * PR_SET_CHILD_SUBREAPER, its keeper must have exited while the --then
 * command still runs, and none may be left when the run has exited. */
static void test_event_keeper_ends_with_process(void **state) {
        need_event_path();
        uint16_t port = free_port(AF_INET);
        char *spec = host_port("127.0.0.1", port), *server_bin = (char *) test_helper("probe-server");
        const char *run = getenv("MIRAKURU_RUN");
        pid_t before[16], now[16], pid;
        size_t n_before, n_now, n_retired = 0;
        bool run_exited = false;
        int status;

        assert_non_null(run);
        assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
        n_before = find_keepers(before, 16);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl(run, run, "--verbose", "--tcp", spec, "--then", "sleep 2", "--", server_bin, "--delay-ms",
                      DELAY, "--tcp", spec, (char *) NULL);
                _exit(127);
        }
        /* The service listens after 1 s, the run ends 2 s later. */
        for (int tries = 0; tries < 1000 && n_retired == 0; tries++) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                assert_true(r == 0 || r == pid);
                if (r == pid) {
                        run_exited = true;
                        break;
                }
                n_now = find_keepers(now, 16);
                for (size_t i = 0; i < n_now; i++) {
                        bool old = false;
                        for (size_t j = 0; j < n_before; j++)
                                old = old || before[j] == now[i];
                        if (!old && waitpid(now[i], NULL, WNOHANG) == now[i])
                                n_retired++;
                }
                usleep(10000);
        }
        if (run_exited)
                fail_msg("the run ended before its keeper had exited");
        assert_int_equal(n_retired, 1); /* one keeper, retired while the --then command ran */
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* Nothing of the run's is left to reap. */
        n_now = find_keepers(now, 16);
        for (size_t i = 0; i < n_now; i++)
                for (size_t j = 0; j < n_before; j++)
                        assert_true(now[i] == before[j] || waitpid(now[i], NULL, WNOHANG) == now[i]);
        assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
        free(spec);
        free(server_bin);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                /* First: no keeper of an earlier test is still exiting. */
                cmocka_unit_test(test_quick_listener_skips_the_event_path),
                cmocka_unit_test(test_event_tcp),
                cmocka_unit_test(test_event_http),
                cmocka_unit_test(test_event_other_listeners_do_not_make_ready),
                cmocka_unit_test(test_event_off_polls),
                cmocka_unit_test(test_event_refused_falls_back_to_poll),
                cmocka_unit_test(test_event_keeper_ends_with_process),
        };

        no_event_path = event_path_unavailable();
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Services that take seconds to start (issue 15), at the library level.
 *
 * slow-start: readiness latency per probe for bench-service started with
 * $BENCH_DELAY_US from the list $BENCH_DELAYS_MS (bench/run draws them
 * uniformly from 0.2-3 s, the same list for Python mirakuru): the service
 * stamps CLOCK_MONOTONIC right before the system call that makes it ready
 * (listen(), write(), rename(), sd_notify()), we stamp when
 * mk_executor_start() returns. Every sample goes to stderr as
 * "SLOWSTART\tmirakuru\tPROBE\tDELAY_MS\tLATENCY_US" for the plot.
 *
 * wait-cpu: the supervisor's CPU (getrusage of this process) while
 * mk_executor_start() waits for a tcp or http service that listens after
 * 3 s, as a share of one core.
 *
 * $BENCH_LISTEN_WATCH chooses the listen watch of tcp and http: "event"
 * (the library's default: the tracepoint where allowed, else the poll),
 * "poll" (mk_executor_set_listen_event(false): the 1 ms sock_diag poll),
 * "off" (mk_executor_set_listen_poll(0): the probes' back-off alone, as
 * before issue 15). With it, slow-start measures tcp and http only, and
 * both figures name it; each row says which path the starts really took
 * (the event path falls back to the poll where perf is refused).
 * $BENCH_LISTEN_POLL_USEC sets mk_executor_set_listen_poll() as well. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define SLOW_TARGET_MEDIAN_US 1000.0
#define SLOW_TARGET_P95_US 3000.0
#define WAIT_CPU_DELAY_US 3000000
#define WAIT_CPU_TARGET_PERCENT 2.0

typedef struct SlowCtx {
        const BenchConfig *c;
        char port[8];
        char *unix_path;
        char *pid_path;
        char *url;
} SlowCtx;

static const char *const slow_probes[] = { "tcp", "http", "output", "unix", "pid file", "notify" };

/* $BENCH_LISTEN_WATCH, or NULL. */
static const char *watch_wanted(void) {
        const char *w = getenv("BENCH_LISTEN_WATCH");
        return w && *w ? w : NULL;
}

/* The listen watch the last start used, and why not the event path. */
static MkListenWatch watch_used;
static char watch_reason[200];
static uint64_t watch_events, watch_starts; /* tracepoint wake-ups, over this many starts */

static const char *watch_name(MkListenWatch w) {
        return w == MK_LISTEN_WATCH_EVENT ? "event" : w == MK_LISTEN_WATCH_POLL ? "poll" : "none";
}

/* "listen watch: event" or "listen watch: poll (why)", for the rows. */
static void describe_watch(char *buf, size_t size) {
        snprintf(buf, size, "listen watch: %s%s%s%s, %" PRIu64 " events in %" PRIu64 " starts",
                 watch_name(watch_used), watch_reason[0] ? " (" : "", watch_reason, watch_reason[0] ? ")" : "",
                 watch_events, watch_starts);
        watch_events = watch_starts = 0;
        for (char *c = buf; *c; c++)
                if (*c == '\t' || *c == '|')
                        *c = ' ';
}

static int add_probe(const SlowCtx *x, const char *probe, MkExecutor *e) {
        if (strcmp(probe, "output") == 0)
                return mk_executor_add_output_probe(e, "BENCH READY", MK_STREAM_STDOUT);
        if (strcmp(probe, "tcp") == 0)
                return mk_executor_add_tcp_probe(e, "127.0.0.1", (uint16_t) atoi(x->port));
        if (strcmp(probe, "http") == 0)
                return mk_executor_add_http_probe(e, &(MkHttpProbe) { .url = x->url });
        if (strcmp(probe, "unix") == 0)
                return mk_executor_add_unix_probe(e, x->unix_path);
        if (strcmp(probe, "pid file") == 0)
                return mk_executor_add_pid_file_probe(e, x->pid_path, true);
        if (strcmp(probe, "notify") == 0)
                return mk_executor_add_notify_probe(e);
        return -EINVAL;
}

static int executor_for(const SlowCtx *x, const char *probe, const char *fifo_path, MkExecutor **ret) {
        const char *mode = strcmp(probe, "pid file") == 0 ? "pidfile" : probe;
        const char *arg = strcmp(probe, "tcp") == 0 || strcmp(probe, "http") == 0 ? x->port :
                          strcmp(probe, "unix") == 0                             ? x->unix_path :
                          strcmp(probe, "pid file") == 0                         ? x->pid_path : NULL;
        const char *args[] = { mode, arg, NULL };
        MkExecutor *e = NULL;
        int r = bench_executor(x->c, MK_CONTAINMENT_PROCESS_GROUP, args, &e);

        if (r >= 0)
                r = mk_executor_set_env(e, "BENCH_STAMP_FIFO", fifo_path);
        if (r >= 0)
                r = add_probe(x, probe, e);
        if (r >= 0 && getenv("BENCH_LISTEN_POLL_USEC"))
                r = mk_executor_set_listen_poll(e, strtoull(getenv("BENCH_LISTEN_POLL_USEC"), NULL, 10));
        if (r >= 0 && watch_wanted() && strcmp(watch_wanted(), "poll") == 0)
                r = mk_executor_set_listen_event(e, false);
        else if (r >= 0 && watch_wanted() && strcmp(watch_wanted(), "off") == 0)
                r = mk_executor_set_listen_poll(e, 0);
        if (r < 0) {
                mk_executor_unref(e);
                return r;
        }
        *ret = e;
        return 0;
}

/* One start with the service sleeping DELAY_US first: latency in us, and
 * our CPU and wall time during mk_executor_start(). */
static int one_start(const SlowCtx *x, MkExecutor *e, int fifo, long delay_us, double *ret_latency_us,
                     uint64_t *ret_cpu_us, uint64_t *ret_wall_us) {
        char delay[32];
        uint64_t t0, c0, t, stamp;
        int r;

        snprintf(delay, sizeof delay, "%ld", delay_us);
        r = mk_executor_set_env(e, "BENCH_DELAY_US", delay);
        if (r < 0)
                return r;
        fifo_drain(fifo);
        c0 = self_cpu_usec();
        t0 = now_ns();
        r = mk_executor_start(e);
        t = now_ns();
        *ret_cpu_us = self_cpu_usec() - c0;
        *ret_wall_us = (t - t0) / 1000;
        if (r < 0) {
                fprintf(stderr, "slow-start: %s\n", mk_executor_get_error(e) ?: strerror(-r));
                return r;
        }
        watch_used = mk_executor_get_listen_watch(e);
        watch_events += mk_executor_get_listen_events(e);
        watch_starts++;
        snprintf(watch_reason, sizeof watch_reason, "%s", mk_executor_get_listen_watch_reason(e) ?: "");
        r = fifo_read_stamp(fifo, &stamp, 30000);
        (void) mk_executor_stop(e);
        (void) unlink(x->unix_path);
        (void) unlink(x->pid_path);
        if (r < 0)
                return r;
        *ret_latency_us = ((double) t - (double) stamp) / 1e3;
        return 0;
}

static int setup(const BenchConfig *c, SlowCtx *x, int *ret_fifo, char **ret_fifo_path) {
        uint16_t port;
        int r;

        *x = (SlowCtx) { .c = c };
        r = free_tcp_port(&port);
        if (r < 0)
                return r;
        snprintf(x->port, sizeof x->port, "%u", port);
        if (asprintf(&x->unix_path, "%s/slow.sock", c->tmpdir) < 0 ||
            asprintf(&x->pid_path, "%s/slow.pid", c->tmpdir) < 0 ||
            asprintf(&x->url, "http://127.0.0.1:%u/", port) < 0)
                return -ENOMEM;
        *ret_fifo = stamp_fifo_open(c, "slow.fifo", ret_fifo_path);
        return *ret_fifo < 0 ? *ret_fifo : 0;
}

static void teardown(SlowCtx *x, int fifo, char *fifo_path) {
        if (fifo >= 0)
                close(fifo);
        if (fifo_path)
                (void) unlink(fifo_path);
        free(fifo_path);
        free(x->unix_path);
        free(x->pid_path);
        free(x->url);
}

/* "200 2900 1234 ..." */
static size_t parse_delays(long *v, size_t max) {
        const char *s = getenv("BENCH_DELAYS_MS");
        size_t n = 0;

        while (s && *s && n < max) {
                char *end;
                long d = strtol(s, &end, 10);
                if (end == s)
                        break;
                v[n++] = d;
                s = end;
        }
        return n;
}

int bench_slow_start(const BenchConfig *c) {
        long delays[1000];
        size_t n = parse_delays(delays, ELEMENTSOF(delays));
        _cleanup_free_ double *v = NULL;
        char *fifo_path = NULL;
        SlowCtx x;
        int fifo = -1, r;

        if (n == 0) {
                fprintf(stderr, "slow-start: set BENCH_DELAYS_MS (bench/run does)\n");
                return -EINVAL;
        }
        v = calloc(n, sizeof(double));
        if (!v)
                return -ENOMEM;
        const char *poll = watch_wanted();
        char figure[96], tag[64];
        snprintf(figure, sizeof figure, "slow-start readiness (0.2-3 s)%s%s", poll ? ", listen watch " : "",
                 poll ?: "");
        /* The plot's names: "mirakuru" (every probe, the default watch), "mirakuru-poll", "mirakuru-poll-off". */
        snprintf(tag, sizeof tag, "%s", !poll || strcmp(poll, "event") == 0 ? "mirakuru" :
                                        strcmp(poll, "off") == 0           ? "mirakuru-poll-off" : "mirakuru-poll");
        r = setup(c, &x, &fifo, &fifo_path);
        for (size_t k = 0; r >= 0 && k < (poll ? 2 : ELEMENTSOF(slow_probes)); k++) {
                const char *probe = slow_probes[k];
                MkExecutor *e = NULL;
                uint64_t cpu = 0, wall = 0;
                char target[64] = "-", verdict[64] = "-", floor[400], how[320] = "";
                double m, p;

                watch_events = watch_starts = 0;
                r = executor_for(&x, probe, fifo_path, &e);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        uint64_t dc, dw;
                        r = one_start(&x, e, fifo, delays[i] * 1000, &v[i], &dc, &dw);
                        if (r >= 0)
                                fprintf(stderr, "SLOWSTART\t%s\t%s\t%ld\t%.1f\n",
                                        tag, probe, delays[i], v[i]);
                        cpu += dc;
                        wall += dw;
                }
                mk_executor_unref(e);
                if (r < 0) {
                        bench_row_skip(figure, probe, strerror(-r));
                        r = 0;
                        continue;
                }
                stats(v, n, &m, &p);
                if (strcmp(probe, "tcp") == 0 || strcmp(probe, "http") == 0) {
                        snprintf(target, sizeof target, "median <= %.0f us, p95 <= %.0f us", SLOW_TARGET_MEDIAN_US,
                                 SLOW_TARGET_P95_US);
                        snprintf(verdict, sizeof verdict, "%s",
                                 m <= SLOW_TARGET_MEDIAN_US && p <= SLOW_TARGET_P95_US ? "PASS" : "MISS");
                }
                if (strcmp(probe, "tcp") == 0 || strcmp(probe, "http") == 0)
                        describe_watch(how, sizeof how);
                snprintf(floor, sizeof floor, "CPU while waiting %.2f%%%s%s",
                         wall ? 100.0 * (double) cpu / (double) wall : 0.0, how[0] ? "; " : "", how);
                bench_row_print(&(BenchRow) {
                        .figure = figure, .variant = probe, .n = n, .median = m,
                        .p95 = p, .unit = "us", .floor = floor, .floor_median = NAN, .floor_p95 = NAN,
                        .target = target, .verdict = verdict,
                });
        }
        teardown(&x, fifo, fifo_path);
        return r;
}

/* The floor of polling every INTERVAL_US: a process that only sleeps that
 * long in a loop for a second, as % of a core (the wake-ups alone). */
static double wakeup_floor_percent(long interval_us) {
        uint64_t c0 = self_cpu_usec(), t0 = now_ns();

        for (long i = 0; i < 1000000 / interval_us; i++) {
                struct timespec ts = { 0, interval_us * 1000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        return 100.0 * (double) (self_cpu_usec() - c0) / ((double) (now_ns() - t0) / 1e3);
}

int bench_wait_cpu(const BenchConfig *c) {
        const char *const probes[] = { "tcp", "http" };
        unsigned runs = c->runs >= 10 ? 3 : 1;
        _cleanup_free_ double *v = calloc(runs, sizeof(double));
        char *fifo_path = NULL;
        SlowCtx x;
        int fifo = -1, r;

        if (!v)
                return -ENOMEM;
        double floor = wakeup_floor_percent((long) MK_LISTEN_POLL_DEFAULT_USEC);
        fprintf(stderr, "WAITCPU\tfloor\t%.3f\n", floor);
        r = setup(c, &x, &fifo, &fifo_path);
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(probes); k++) {
                MkExecutor *e = NULL;
                char target[64], verdict[16], figure[400], how[320];
                double latency, m, p;

                watch_events = watch_starts = 0;
                r = executor_for(&x, probes[k], fifo_path, &e);
                for (unsigned i = 0; r >= 0 && i < runs; i++) {
                        uint64_t cpu, wall;
                        r = one_start(&x, e, fifo, WAIT_CPU_DELAY_US, &latency, &cpu, &wall);
                        if (r >= 0)
                                v[i] = wall ? 100.0 * (double) cpu / (double) wall : 0;
                }
                mk_executor_unref(e);
                if (r < 0) {
                        bench_row_skip("CPU while waiting 3 s", probes[k], strerror(-r));
                        r = 0;
                        continue;
                }
                stats(v, runs, &m, &p);
                describe_watch(how, sizeof how);
                snprintf(figure, sizeof figure, "CPU while waiting 3 s, %s", how);
                fprintf(stderr, "WAITCPU\t%s\t%s\t%.3f\n", watch_name(watch_used), probes[k], m);
                snprintf(target, sizeof target, "<= %.0f%% of one core", WAIT_CPU_TARGET_PERCENT);
                snprintf(verdict, sizeof verdict, "%s", m <= WAIT_CPU_TARGET_PERCENT ? "PASS" : "MISS");
                bench_row_print(&(BenchRow) {
                        .figure = figure, .variant = probes[k], .n = runs, .median = m,
                        .p95 = p, .unit = "% of a core", .floor = "bare 1 ms sleep loop", .floor_median = floor,
                        .floor_p95 = NAN, .target = target, .verdict = verdict,
                });
        }
        teardown(&x, fifo, fifo_path);
        return r;
}

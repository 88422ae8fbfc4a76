/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start+stop cycle of an immediately-ready service, per backend, against
 * posix_spawn + kill + waitpid of the same binary. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "bench-weak.h"

/* One floor cycle: posix_spawn, SIGTERM, waitpid. */
static int floor_cycle(const BenchConfig *c, double *ret_ms) {
        char *argv[] = { (char *) c->service, (char *) "pause", NULL };
        uint64_t t0 = now_ns();
        pid_t pid;
        int r;

        r = floor_spawn(argv, NULL, -1, &pid);
        if (r < 0)
                return r;
        r = floor_kill_wait(pid);
        if (r < 0)
                return r;
        *ret_ms = (double) (now_ns() - t0) / 1e6;
        return 0;
}

/* The floor for an output-ready service: spawn with stdout on a pipe, read
 * until the banner arrives, kill, wait. */
static int floor_output_cycle(const BenchConfig *c, double *ret_ms) {
        char *argv[] = { (char *) c->service, (char *) "output", NULL };
        uint64_t t0 = now_ns();
        char buf[64];
        size_t used = 0;
        int p[2];
        pid_t pid;
        int r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        r = floor_spawn(argv, NULL, p[1], &pid);
        close(p[1]);
        if (r < 0) {
                close(p[0]);
                return r;
        }
        while (used < sizeof buf - 1 && !memchr(buf, '\n', used)) {
                ssize_t n = read(p[0], buf + used, sizeof buf - 1 - used);
                if (n <= 0)
                        break;
                used += (size_t) n;
        }
        close(p[0]);
        r = floor_kill_wait(pid);
        if (r < 0)
                return r;
        *ret_ms = (double) (now_ns() - t0) / 1e6;
        return 0;
}

static const char *target_for(MkContainment backend, double median, double floor_median,
                              char *verdict, size_t size) {
        const char *cg = getenv("BENCH_CGROUP_CYCLE_MS");

        switch (backend) {
        case MK_CONTAINMENT_CGROUP:
                snprintf(verdict, size, "%s (%.1fx)", median <= 3 * floor_median ? "met" : "missed",
                         median / floor_median);
                return "<= 3x floor";
        case MK_CONTAINMENT_SYSTEMD:
                if (cg && *cg) {
                        double d = median - strtod(cg, NULL);
                        snprintf(verdict, size, "%s (%+.1f ms vs cgroup)", d <= 10 ? "met" : "missed", d);
                } else
                        snprintf(verdict, size, "cgroup figure unknown");
                return "<= cgroup + 10 ms";
        default:
                snprintf(verdict, size, "%.1fx floor", median / floor_median);
                return "-";
        }
}

/* Alternates our cycle with the floor's, so the noise of this shared
 * machine falls on both alike. */
static int measure(const BenchConfig *c, MkContainment backend, const char *mode, double *start_v,
                   double *stop_v, double *cycle_v, double *floor_v, char *why, size_t why_size) {
        const char *args[] = { mode, NULL };
        const char *hold = getenv("BENCH_HOLD_US");
        useconds_t hold_us = hold ? (useconds_t) strtoul(hold, NULL, 10) : 0;
        MkExecutor *e = NULL;
        int r;

        r = bench_executor(c, backend, args, &e);
        if (r < 0) {
                snprintf(why, why_size, "executor setup: %s", strerror(-r));
                return r;
        }
        if (strcmp(mode, "output") == 0) {
                r = mk_executor_add_output_probe(e, "BENCH READY", MK_STREAM_STDOUT);
                if (r < 0) {
                        snprintf(why, why_size, "output probe: %s", strerror(-r));
                        goto out;
                }
        }
        /* Two warm-up cycles (page cache, lazy binding, first cgroup). */
        for (int i = -2; i < (int) c->runs; i++) {
                uint64_t t0 = now_ns(), t1, t2;

                r = mk_executor_start(e);
                t1 = now_ns();
                if (r < 0) {
                        snprintf(why, why_size, "start: %s", mk_executor_get_error(e) ?: strerror(-r));
                        goto out;
                }
                if (i == -2 && mk_executor_get_containment(e) != backend) {
                        snprintf(why, why_size, "got backend %s instead",
                                 mk_containment_to_string(mk_executor_get_containment(e)));
                        (void) mk_executor_stop(e);
                        r = -EOPNOTSUPP;
                        goto out;
                }
                if (hold_us > 0) {
                        /* Let the service live a while (not counted): shows what
                         * the kernel's rate limit on cgroup.events costs a
                         * service that stops within 10 ms of starting. */
                        usleep(hold_us);
                        uint64_t t = now_ns();
                        t0 += t - t1; /* the hold is not part of the cycle */
                        t1 = t;
                }
                r = mk_executor_stop(e);
                t2 = now_ns();
                if (r < 0 && r != -ECHILD) {
                        snprintf(why, why_size, "stop: %s", mk_executor_get_error(e) ?: strerror(-r));
                        goto out;
                }
                if (i >= 0) {
                        double f = NAN;
                        r = strcmp(mode, "output") == 0 ? floor_output_cycle(c, &f) : floor_cycle(c, &f);
                        if (r < 0) {
                                snprintf(why, why_size, "floor: %s", strerror(-r));
                                goto out;
                        }
                        floor_v[i] = f;
                        start_v[i] = (double) (t1 - t0) / 1e6;
                        stop_v[i] = (double) (t2 - t1) / 1e6;
                        cycle_v[i] = start_v[i] + stop_v[i];
                }
        }
        r = 0;
out:
        mk_executor_unref(e);
        return r;
}

static int run_cycle(const BenchConfig *c, MkContainment backend, const char *mode) {
        const char *name = mk_containment_to_string(backend);
        bool output = strcmp(mode, "output") == 0;
        const char *figure = output ? "start+stop cycle, output probe" : "start+stop cycle";
        double *start_v = calloc(c->runs, sizeof(double)), *stop_v = calloc(c->runs, sizeof(double)),
               *cycle_v = calloc(c->runs, sizeof(double)), *floor_v = calloc(c->runs, sizeof(double));
        double m, p, fm, fp, sm, sp, tm, tp;
        char why[512], verdict[128];
        const char *target;
        int r;

        if (!start_v || !stop_v || !cycle_v || !floor_v) {
                r = -ENOMEM;
                goto out;
        }
        r = measure(c, backend, mode, start_v, stop_v, cycle_v, floor_v, why, sizeof why);
        if (r < 0) {
                bench_row_skip(figure, name, why);
                r = 0;
                goto out;
        }
        stats(cycle_v, c->runs, &m, &p);
        stats(floor_v, c->runs, &fm, &fp);
        stats(start_v, c->runs, &sm, &sp);
        stats(stop_v, c->runs, &tm, &tp);
        if (output) {
                snprintf(verdict, sizeof verdict, "%.1fx floor; Python mirakuru: 178 ms", m / fm);
                target = "-";
        } else
                target = target_for(backend, m, fm, verdict, sizeof verdict);
        bench_row_print(&(BenchRow) {
                .figure = figure, .variant = name, .n = c->runs, .median = m, .p95 = p, .unit = "ms",
                .floor = output ? "posix_spawn+read banner+kill+wait" : "posix_spawn+kill+wait",
                .floor_median = fm, .floor_p95 = fp, .target = target, .verdict = verdict,
        });
        bench_row_print(&(BenchRow) {
                .figure = output ? "  start (until ready), output probe" : "  start (until exec'd)",
                .variant = name, .n = c->runs, .median = sm, .p95 = sp, .unit = "ms",
                .floor_median = NAN, .floor_p95 = NAN,
        });
        bench_row_print(&(BenchRow) {
                .figure = output ? "  stop, output probe" : "  stop (until every process is gone)",
                .variant = name, .n = c->runs, .median = tm, .p95 = tp, .unit = "ms",
                .floor_median = NAN, .floor_p95 = NAN,
        });
        if (!output && backend == MK_CONTAINMENT_CGROUP)
                fprintf(stderr, "BENCH_CGROUP_CYCLE_MS=%.3f\n", m);
out:
        free(start_v);
        free(stop_v);
        free(cycle_v);
        free(floor_v);
        return r;
}

int bench_cycle(const BenchConfig *c, MkContainment backend) {
        int r = run_cycle(c, backend, "pause");
        if (r < 0)
                return r;
        if (backend != MK_CONTAINMENT_PROCESS_GROUP)
                return 0;
        if (!mk_executor_add_output_probe) {
                bench_row_skip("start+stop cycle, output probe", "process-group",
                               "the library has no output probe yet");
                return 0;
        }
        return run_cycle(c, backend, "output");
}

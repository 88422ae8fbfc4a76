/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* N services started concurrently on one sd-event loop with
 * mk_executor_start_async(): time until all are ready, and what the
 * supervisor pays per service in CPU, memory and fds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "bench-util.h"

typedef struct Scale {
        sd_event *event;
        unsigned pending;
        unsigned failed;
        int first_error;
        char why[256];
} Scale;

static void on_done(MkExecutor *e, int result, void *userdata) {
        Scale *s = userdata;

        if (result < 0 && s->failed++ == 0) {
                s->first_error = result;
                snprintf(s->why, sizeof s->why, "%s", mk_executor_get_error(e) ?: strerror(-result));
        }
        s->pending--;
}

typedef struct ScaleSample {
        double ready_ms, stop_ms, cpu_us, rss_kib, heap_kib, fds;
} ScaleSample;

static int one_run(const BenchConfig *c, MkContainment backend, sd_event *event, ScaleSample *ret, char *why,
                   size_t why_size) {
        const char *args[] = { "pause", NULL };
        unsigned n = c->scale_n;
        MkExecutor **e = calloc(n, sizeof *e);
        Scale s = { .event = event };
        uint64_t t0, t1, t2, cpu0, cpu1;
        long rss0, rss1;
        size_t heap0, heap1;
        int fds0, fds1, r = 0;

        if (!e)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                r = bench_executor(c, backend, args, &e[i]);
                if (r >= 0)
                        r = mk_executor_attach_event(e[i], event, 0);
                if (r < 0) {
                        snprintf(why, why_size, "executor setup: %s", strerror(-r));
                        goto out;
                }
        }
        rss0 = self_status_kib("VmRSS");
        heap0 = heap_in_use();
        fds0 = count_fds();
        cpu0 = self_cpu_usec();
        t0 = now_ns();
        for (unsigned i = 0; i < n; i++) {
                r = mk_executor_start_async(e[i], on_done, &s);
                if (r < 0) {
                        snprintf(why, why_size, "start_async #%u: %s", i,
                                 mk_executor_get_error(e[i]) ?: strerror(-r));
                        break;
                }
                s.pending++;
        }
        while (s.pending > 0) {
                int q = sd_event_run(event, UINT64_MAX);
                if (q < 0) {
                        if (r >= 0)
                                r = q;
                        break;
                }
        }
        t1 = now_ns();
        cpu1 = self_cpu_usec();
        rss1 = self_status_kib("VmRSS");
        heap1 = heap_in_use();
        fds1 = count_fds();
        if (r >= 0 && s.failed > 0) {
                snprintf(why, why_size, "%u of %u failed, first: %s", s.failed, n, s.why);
                r = s.first_error;
        }

        /* Stop them all, also after a failure. */
        s.pending = 0;
        for (unsigned i = 0; i < n; i++)
                if (e[i] && mk_executor_get_state(e[i]) != MK_STATE_IDLE &&
                    mk_executor_stop_async(e[i], on_done, &s) >= 0)
                        s.pending++;
        while (s.pending > 0)
                if (sd_event_run(event, UINT64_MAX) < 0)
                        break;
        t2 = now_ns();
        if (r >= 0)
                *ret = (ScaleSample) {
                        .ready_ms = (double) (t1 - t0) / 1e6,
                        .stop_ms = (double) (t2 - t1) / 1e6,
                        .cpu_us = (double) (cpu1 - cpu0) / n,
                        .rss_kib = (double) (rss1 - rss0) / n,
                        .heap_kib = ((double) heap1 - (double) heap0) / 1024.0 / n,
                        .fds = (double) (fds1 - fds0) / n,
                };
out:
        for (unsigned i = 0; i < n; i++)
                mk_executor_unref(e[i]);
        free(e);
        return r;
}

static int floor_run(const BenchConfig *c, double *ret_ms) {
        char *argv[] = { (char *) c->service, (char *) "pause", NULL };
        unsigned n = c->scale_n;
        pid_t *pids = calloc(n, sizeof *pids);
        uint64_t t0;
        int r = 0;

        if (!pids)
                return -ENOMEM;
        t0 = now_ns();
        for (unsigned i = 0; i < n && r >= 0; i++)
                r = floor_spawn(argv, NULL, -1, &pids[i]);
        *ret_ms = (double) (now_ns() - t0) / 1e6;
        for (unsigned i = 0; i < n; i++)
                if (pids[i] > 0)
                        (void) floor_kill_wait(pids[i]);
        free(pids);
        return r;
}

int bench_scale(const BenchConfig *c, MkContainment backend) {
        unsigned runs = c->scale_runs;
        double ready[runs], stop[runs], cpu[runs], rss[runs], heap[runs], fds[runs], fl[runs];
        double m, p, fm, fp;
        char variant[64], why[512] = "", verdict[128];
        sd_event *event = NULL;
        int r;

        snprintf(variant, sizeof variant, "%u services, %s", c->scale_n, mk_containment_to_string(backend));
        raise_fd_limit();
        r = sd_event_new(&event);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < runs; i++) {
                ScaleSample s = {};
                r = one_run(c, backend, event, &s, why, sizeof why);
                if (r < 0) {
                        bench_row_skip("scale: all ready", variant, why);
                        r = 0;
                        goto out;
                }
                ready[i] = s.ready_ms;
                stop[i] = s.stop_ms;
                cpu[i] = s.cpu_us;
                rss[i] = s.rss_kib;
                heap[i] = s.heap_kib;
                fds[i] = s.fds;
                r = floor_run(c, &fl[i]);
                if (r < 0)
                        goto out;
        }
        stats(ready, runs, &m, &p);
        stats(fl, runs, &fm, &fp);
        snprintf(verdict, sizeof verdict, "%.1fx floor", m / fm);
        bench_row_print(&(BenchRow) {
                .figure = "scale: all ready", .variant = variant, .n = runs, .median = m, .p95 = p,
                .unit = "ms", .floor = "posix_spawn each, serially", .floor_median = fm,
                .floor_p95 = fp, .verdict = verdict,
        });
        stats(stop, runs, &m, &p);
        bench_row_print(&(BenchRow) {
                .figure = "scale: all stopped", .variant = variant, .n = runs, .median = m, .p95 = p,
                .unit = "ms", .floor_median = NAN, .floor_p95 = NAN,
        });
        stats(cpu, runs, &m, &p);
        bench_row_print(&(BenchRow) {
                .figure = "scale: supervisor CPU per service", .variant = variant, .n = runs,
                .median = m, .p95 = p, .unit = "us", .floor_median = NAN, .floor_p95 = NAN,
        });
        /* Only the first run counts: later runs reuse the pages the first
         * one made resident, and would show (almost) nothing. */
        stats(rss, 1, &m, &p);
        snprintf(verdict, sizeof verdict, "%s", m < 100 ? "met" : "missed");
        bench_row_print(&(BenchRow) {
                .figure = "scale: supervisor RSS per service (first run)", .variant = variant, .n = 1,
                .median = m, .p95 = p, .unit = "KiB", .floor_median = NAN, .floor_p95 = NAN,
                .target = "< 100 KiB", .verdict = verdict,
        });
        stats(heap, runs, &m, &p);
        bench_row_print(&(BenchRow) {
                .figure = "scale: supervisor heap per service", .variant = variant, .n = runs,
                .median = m, .p95 = p, .unit = "KiB", .floor_median = NAN, .floor_p95 = NAN,
        });
        stats(fds, runs, &m, &p);
        bench_row_print(&(BenchRow) {
                .figure = "scale: fds per service", .variant = variant, .n = runs, .median = m,
                .p95 = p, .unit = "fds", .floor_median = NAN, .floor_p95 = NAN,
        });
out:
        sd_event_unref(event);
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Footprint: peak RSS of mirakuru-run supervising one service, and the heap
 * one configured executor takes in the library. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"
#include "bench-weak.h"

static long proc_status_kib(pid_t pid, const char *field) {
        char path[64], line[256];
        size_t l = strlen(field);
        long v = -1;
        FILE *f;

        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, field, l) == 0 && line[l] == ':') {
                        v = strtol(line + l + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

/* Runs ARGV (bench-service pause, maybe under mirakuru-run) until the
 * service has sent its stamp, then samples VmHWM and RssAnon of the first
 * process from /proc before SIGTERM. wait4()'s ru_maxrss is no use here: it
 * also counts the memory of the process that was replaced by exec (ours)
 * and of reaped children. */
static int run_once(char *const *argv, int fifo, const char *fifo_env, double *ret_hwm_kib,
                    double *ret_anon_kib) {
        uint64_t stamp;
        long hwm, anon;
        pid_t pid;
        int r;

        fifo_drain(fifo);
        r = floor_spawn(argv, fifo_env, -1, &pid);
        if (r < 0)
                return r;
        r = fifo_read_stamp(fifo, &stamp, 30000);
        hwm = proc_status_kib(pid, "VmHWM");
        anon = proc_status_kib(pid, "RssAnon");
        (void) floor_kill_wait(pid);
        if (r < 0)
                return r;
        if (hwm < 0 || anon < 0)
                return -ESRCH;
        *ret_hwm_kib = (double) hwm;
        *ret_anon_kib = (double) anon;
        return 0;
}

static int bench_cli_rss(const BenchConfig *c, const char *mirakuru_run, const char *variant) {
        char *cli[] = { (char *) mirakuru_run, (char *) "--quiet", (char *) "--",
                        (char *) c->service, (char *) "pause", NULL };
        char *alone[] = { (char *) c->service, (char *) "pause", NULL };
        unsigned runs = c->runs < 10 ? c->runs : 10;
        double hwm[runs], anon[runs], svc[runs], svc_anon[runs];
        double m, p, sm, sp;
        char verdict[128], why[256];
        _cleanup_free_ char *fifo_path = NULL, *fifo_env = NULL;
        int fifo, r = 0;

        if (!mirakuru_run || access(mirakuru_run, X_OK) < 0) {
                bench_row_skip("mirakuru-run peak RSS", variant, "mirakuru-run not found");
                return 0;
        }
        fifo = stamp_fifo_open(c, "footprint.fifo", &fifo_path);
        if (fifo < 0)
                return fifo;
        if (asprintf(&fifo_env, "BENCH_STAMP_FIFO=%s", fifo_path) < 0) {
                close(fifo);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < runs; i++) {
                r = run_once(cli, fifo, fifo_env, &hwm[i], &anon[i]);
                if (r >= 0)
                        r = run_once(alone, fifo, fifo_env, &svc[i], &svc_anon[i]);
                if (r < 0) {
                        snprintf(why, sizeof why, "%s", strerror(-r));
                        bench_row_skip("mirakuru-run peak RSS", variant, why);
                        r = 0;
                        goto out;
                }
        }
        stats(svc, runs, &sm, &sp);
        stats(hwm, runs, &m, &p);
        snprintf(verdict, sizeof verdict, "%s", m < 4096 ? "met" : "missed");
        bench_row_print(&(BenchRow) {
                .figure = "mirakuru-run peak RSS (VmHWM)", .variant = variant,
                .n = runs, .median = m, .p95 = p, .unit = "KiB", .floor = "bench-service alone (VmHWM)",
                .floor_median = sm, .floor_p95 = sp, .target = "< 4096 KiB", .verdict = verdict,
        });
        stats(svc_anon, runs, &sm, &sp);
        stats(anon, runs, &m, &p);
        bench_row_print(&(BenchRow) {
                .figure = "  of which private (RssAnon)", .variant = variant,
                .n = runs, .median = m, .p95 = p, .unit = "KiB", .floor = "bench-service alone (RssAnon)",
                .floor_median = sm, .floor_p95 = sp, .verdict = "-",
        });
out:
        close(fifo);
        (void) unlink(fifo_path);
        return r;
}

static int bench_heap(const BenchConfig *c) {
        const char *args[] = { "output", NULL };
        unsigned n = c->heap_n;
        MkExecutor **e = calloc(n, sizeof *e);
        size_t heap0, heap1;
        bool probe = mk_executor_add_output_probe != NULL;
        char variant[96];
        int r = 0;

        if (!e)
                return -ENOMEM;
        heap0 = heap_in_use();
        for (unsigned i = 0; i < n && r >= 0; i++) {
                r = bench_executor(c, MK_CONTAINMENT_AUTO, args, &e[i]);
                if (r >= 0 && probe)
                        r = mk_executor_add_output_probe(e[i], "BENCH READY", MK_STREAM_STDOUT);
        }
        heap1 = heap_in_use();
        for (unsigned i = 0; i < n; i++)
                mk_executor_unref(e[i]);
        free(e);
        if (r < 0)
                return r;
        snprintf(variant, sizeof variant, "%u executors, argv%s", n, probe ? " + output probe" : "");
        bench_row_print(&(BenchRow) {
                .figure = "heap per executor (configured, idle)", .variant = variant, .n = 1,
                .median = ((double) heap1 - (double) heap0) / n, .p95 = NAN, .unit = "bytes",
                .floor_median = NAN, .floor_p95 = NAN, .verdict = "-",
        });
        return 0;
}

int bench_footprint(const BenchConfig *c) {
        const char *nocurl = getenv("BENCH_MIRAKURU_RUN_NOCURL");
        int r = bench_heap(c);
        if (r < 0)
                return r;
        r = bench_cli_rss(c, c->mirakuru_run, "one service, ready");
        if (r < 0 || !nocurl || !*nocurl)
                return r;
        return bench_cli_rss(c, nocurl, "the same, built -Dcurl=disabled");
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start latency against the size of the supervising process. spawn.c uses
 * clone(CLONE_VM|CLONE_VFORK) where no start gate is needed (the cgroup and
 * process-group backends), like posix_spawn(), the floor; clone3() without
 * CLONE_VM, which copies the page tables like fork(), only for systemd
 * scopes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"

static int parse_size(const char *s, size_t *ret) {
        char *end;
        double v = strtod(s, &end);

        if (end == s || v <= 0)
                return -EINVAL;
        switch (*end) {
        case 'K': case 'k': v *= 1024; break;
        case 'M': case 'm': v *= 1024 * 1024; break;
        case 'G': case 'g': v *= 1024.0 * 1024 * 1024; break;
        case '\0': break;
        default: return -EINVAL;
        }
        *ret = (size_t) v;
        return 0;
}

static int one_size(const BenchConfig *c, const char *label, size_t size, double *ret_median) {
        char *argv[] = { (char *) c->service, (char *) "pause", NULL };
        const char *args[] = { "pause", NULL };
        unsigned runs = c->spawn_runs;
        double *v = calloc(runs, sizeof(double)), *fv = calloc(runs, sizeof(double)),
               *kv = calloc(runs, sizeof(double));
        double m, p, fm, fp, km, kp;
        char variant[64], why[256];
        MkExecutor *e = NULL;
        long page = sysconf(_SC_PAGESIZE);
        char *mem;
        int r;

        snprintf(variant, sizeof variant, "parent %s", label);
        if (!v || !fv || !kv) {
                free(v);
                free(fv);
                free(kv);
                return -ENOMEM;
        }
        mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
                snprintf(why, sizeof why, "mmap %s: %s", label, strerror(errno));
                bench_row_skip("start latency vs parent size", variant, why);
                free(v);
                free(fv);
                free(kv);
                return 0;
        }
        /* Touch every page so it is resident and has a page table entry;
         * no transparent huge pages, which would hide the per-page cost. */
        (void) madvise(mem, size, MADV_NOHUGEPAGE);
        for (size_t off = 0; off < size; off += (size_t) page)
                mem[off] = 1;

        r = bench_executor(c, MK_CONTAINMENT_PROCESS_GROUP, args, &e);
        for (int i = -1; r >= 0 && i < (int) runs; i++) {
                uint64_t t0 = now_ns(), t1;
                r = mk_executor_start(e);
                t1 = now_ns();
                if (r < 0)
                        break;
                r = mk_executor_stop(e);
                if (r == -ECHILD)
                        r = 0;
                if (i < 0 || r < 0)
                        continue;
                v[i] = (double) (t1 - t0) / 1e6;
                /* The floor, alternating with ours so noise falls on both. */
                pid_t pid;
                t0 = now_ns();
                r = floor_spawn(argv, NULL, -1, &pid);
                t1 = now_ns();
                if (r < 0)
                        break;
                r = floor_kill_wait(pid);
                fv[i] = (double) (t1 - t0) / 1e6;
        }
        /* What copying our page tables costs by itself: fork(). In a loop of
         * its own: right after a fork() every page of ours is copy-on-write
         * protected, and the next start would pay for the first write to each
         * page it touches (measured: 0.2 ms becomes 0.7-1.2 ms), which is the
         * fork's cost, not the start's. */
        for (unsigned i = 0; r >= 0 && i < runs; i++) {
                uint64_t t0 = now_ns(), t1;
                pid_t pid = fork();
                if (pid == 0)
                        _exit(EXIT_SUCCESS);
                t1 = now_ns();
                if (pid < 0) {
                        r = -errno;
                        break;
                }
                (void) waitpid(pid, NULL, 0);
                kv[i] = (double) (t1 - t0) / 1e6;
        }
        if (r < 0) {
                snprintf(why, sizeof why, "%s", (e ? mk_executor_get_error(e) : NULL) ?: strerror(-r));
                bench_row_skip("start latency vs parent size", variant, why);
                r = 0;
                goto out;
        }
        stats(v, runs, &m, &p);
        stats(fv, runs, &fm, &fp);
        stats(kv, runs, &km, &kp);
        *ret_median = m;
        bench_row_print(&(BenchRow) {
                .figure = "start latency vs parent size", .variant = variant, .n = runs,
                .median = m, .p95 = p, .unit = "ms", .floor = "posix_spawn (vfork-style)",
                .floor_median = fm, .floor_p95 = fp, .verdict = "-",
        });
        bench_row_print(&(BenchRow) {
                .figure = "  fork() alone (page-table copy)", .variant = variant, .n = runs,
                .median = km, .p95 = kp, .unit = "ms", .floor_median = NAN, .floor_p95 = NAN,
                .verdict = "-",
        });
        /* For the plot: size in MiB, ours, floor. */
        fprintf(stderr, "SPAWNSIZE\t%.0f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n", (double) size / (1024 * 1024), m, p, fm, fp, km);
out:
        mk_executor_unref(e);
        munmap(mem, size);
        free(v);
        free(fv);
        free(kv);
        return r;
}

/* Each size in a fresh process: a process that already started services,
 * forked and unmapped gigabytes for the previous size starts more slowly
 * for reasons that have nothing to do with its size (measured: four rounds
 * at 100 MB in one process gave 1.4, 2.2, 5.5 and 6.0 ms), so one process
 * per size keeps the comparison about size alone. */
static int one_size_in_child(const BenchConfig *c, const char *label, size_t size, double *ret_median) {
        int p[2], status;
        double m = NAN;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -errno;
        }
        if (pid == 0) {
                int r = one_size(c, label, size, &m);
                ssize_t n _unused_ = write(p[1], &m, sizeof m);
                fflush(stdout);
                fflush(stderr);
                _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        close(p[1]);
        if (read(p[0], &m, sizeof m) != sizeof m)
                m = NAN;
        close(p[0]);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        *ret_median = m;
        return 0;
}

int bench_spawn_size(const BenchConfig *c) {
        double first = NAN, last = NAN;
        char *sizes = strdup(c->sizes), *save = NULL, *first_label = NULL, *last_label = NULL;
        int r = 0;

        if (!sizes)
                return -ENOMEM;
        for (char *tok = strtok_r(sizes, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
                size_t size;
                double m = NAN;

                if (parse_size(tok, &size) < 0) {
                        fprintf(stderr, "mirakuru-bench: bad size '%s'\n", tok);
                        continue;
                }
                r = one_size_in_child(c, tok, size, &m);
                if (r < 0)
                        break;
                if (isnan(first) && !isnan(m)) {
                        first = m;
                        first_label = tok;
                }
                if (!isnan(m)) {
                        last = m;
                        last_label = tok;
                }
        }
        if (r >= 0 && !isnan(first) && last_label != first_label) {
                char variant[64], verdict[64];
                snprintf(variant, sizeof variant, "%s / %s", last_label, first_label);
                snprintf(verdict, sizeof verdict, "%s", last / first <= 1.5 ? "met" : "missed");
                bench_row_print(&(BenchRow) {
                        .figure = "start latency growth", .variant = variant, .n = c->spawn_runs,
                        .median = last / first, .p95 = NAN, .unit = "ratio",
                        .floor_median = NAN, .floor_p95 = NAN, .target = "<= 1.5",
                        .verdict = verdict,
                });
        }
        free(sizes);
        return r;
}

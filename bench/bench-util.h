/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared pieces of the benchmark: clocks, statistics, result rows, the
 * stamp FIFO, and reading our own memory and fd counts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mirakuru.h"
#include "util/macro.h"

/* Repetition counts and sizes, from the environment (see bench/run). */
typedef struct BenchConfig {
        const char *service;   /* path of bench-service */
        const char *mirakuru_run;
        const char *tmpdir;    /* private directory of this run */
        const char *bus_address; /* systemd backend: $MIRAKURU_TEST_BUS, or NULL */
        unsigned runs;         /* BENCH_RUNS: cycles and readiness samples */
        unsigned spawn_runs;   /* BENCH_SPAWN_RUNS: samples per parent size */
        unsigned scale_n;      /* BENCH_SCALE_N: concurrent services */
        unsigned scale_runs;   /* BENCH_SCALE_RUNS */
        unsigned tree_n;       /* BENCH_TREE_N: processes per tree */
        unsigned tree_runs;    /* BENCH_TREE_RUNS */
        unsigned heap_n;       /* BENCH_HEAP_N: executors for heap per executor */
        char *sizes;           /* BENCH_SIZES: parent sizes, e.g. "100M 1G 4G" */
} BenchConfig;

int bench_config_load(BenchConfig *c);

uint64_t now_ns(void);

/* Sorts V in place; nearest-rank percentile (P in 0..100). */
double percentile(double *v, size_t n, double p);

/* One line of results, printed as tab-separated values on stdout:
 * figure, variant, n, median, p95, unit, floor, floor median, floor p95,
 * target, verdict. Unknown numbers are NAN (printed as "-"). */
typedef struct BenchRow {
        const char *figure;
        const char *variant;
        size_t n;
        double median, p95;
        const char *unit;
        const char *floor;
        double floor_median, floor_p95;
        const char *target;
        const char *verdict; /* "met", "missed", "-", or why it was not measured */
} BenchRow;

void bench_row_print_header(void);
void bench_row_print(const BenchRow *r);
/* A row saying FIGURE/VARIANT could not be measured, and why. */
void bench_row_skip(const char *figure, const char *variant, const char *why);

/* Samples: median and p95 of V (sorted in place). */
void stats(double *v, size_t n, double *ret_median, double *ret_p95);

/* A FIFO in the run's temp dir, opened O_RDWR (so a writer never blocks and
 * a reader never sees EOF); the service writes stamps or pids into it. */
int stamp_fifo_open(const BenchConfig *c, const char *name, char **ret_path);
/* Reads exactly N bytes within TIMEOUT_MS; -ETIMEDOUT otherwise. */
int fifo_read_exact(int fd, void *buf, size_t n, int timeout_ms);
/* Discards whatever is buffered. */
void fifo_drain(int fd);
/* Reads one "NANOSECONDS\n" stamp. */
int fifo_read_stamp(int fd, uint64_t *ret, int timeout_ms);

/* Our resident set, its peak, in KiB; open fds. From /proc/self. */
long self_status_kib(const char *field);
int count_fds(void);
/* Heap in use (mallinfo2 uordblks + hblkhd), bytes. */
size_t heap_in_use(void);
/* User + system CPU of this process, microseconds. */
uint64_t self_cpu_usec(void);

/* Raises RLIMIT_NOFILE to its hard limit. */
void raise_fd_limit(void);

#include "floor.h"

/* An executor for bench-service ARGS on BACKEND, on the default loop. */
int bench_executor(const BenchConfig *c, MkContainment backend, const char *const *args,
                   MkExecutor **ret);

/* A free TCP port on 127.0.0.1 (bound, read, closed). */
int free_tcp_port(uint16_t *ret);

/* The benchmarks; each prints its rows. */
int bench_cycle(const BenchConfig *c, MkContainment backend);
int bench_spawn_size(const BenchConfig *c);
int bench_scale(const BenchConfig *c, MkContainment backend);
int bench_footprint(const BenchConfig *c);
int bench_readiness(const BenchConfig *c);
int bench_teardown(const BenchConfig *c, MkContainment backend);
int bench_slow_start(const BenchConfig *c);
int bench_wait_cpu(const BenchConfig *c);

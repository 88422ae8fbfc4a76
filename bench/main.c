/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-bench WHAT...: runs the named benchmarks and prints one
 * tab-separated row per figure on stdout (a header first). Run through
 * bench/run, which sets the environment (see bench-util.h) and turns the
 * rows into a Markdown table and a plot.
 *
 *   cycle BACKEND       start+stop cycle vs posix_spawn+kill+wait
 *   spawn-size          start latency vs parent size ($BENCH_SIZES)
 *   scale BACKEND       $BENCH_SCALE_N services on one loop
 *   footprint           heap per executor, mirakuru-run peak RSS
 *   readiness           readiness latency per probe
 *   teardown BACKEND    stop of a $BENCH_TREE_N-process tree
 *   slow-start          readiness per probe, services ready 0.2-3 s after exec
 *   wait-cpu            our CPU while waiting 3 s for a tcp or http service
 *
 * BACKEND: process-group, cgroup or systemd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"

int main(int argc, char *argv[]) {
        BenchConfig c;
        int r;

        r = bench_config_load(&c);
        if (r < 0)
                return EXIT_FAILURE;
        if (argc < 2) {
                fprintf(stderr, "usage: %s cycle BACKEND | spawn-size | scale BACKEND | footprint | readiness | teardown BACKEND | slow-start | wait-cpu ...\n",
                        argv[0]);
                return 2;
        }
        if (!getenv("BENCH_NO_HEADER"))
                bench_row_print_header();
        for (int i = 1; i < argc; i++) {
                const char *what = argv[i];
                MkContainment backend = MK_CONTAINMENT_PROCESS_GROUP;

                if (strcmp(what, "cycle") == 0 || strcmp(what, "teardown") == 0 || strcmp(what, "scale") == 0) {
                        if (i + 1 >= argc || mk_containment_from_string(argv[i + 1], &backend) < 0 ||
                            backend == MK_CONTAINMENT_AUTO) {
                                fprintf(stderr, "mirakuru-bench: %s needs a backend\n", what);
                                return 2;
                        }
                        i++;
                        r = strcmp(what, "cycle") == 0 ? bench_cycle(&c, backend) :
                            strcmp(what, "scale") == 0 ? bench_scale(&c, backend) : bench_teardown(&c, backend);
                } else if (strcmp(what, "spawn-size") == 0)
                        r = bench_spawn_size(&c);
                else if (strcmp(what, "footprint") == 0)
                        r = bench_footprint(&c);
                else if (strcmp(what, "readiness") == 0)
                        r = bench_readiness(&c);
                else if (strcmp(what, "slow-start") == 0)
                        r = bench_slow_start(&c);
                else if (strcmp(what, "wait-cpu") == 0)
                        r = bench_wait_cpu(&c);
                else {
                        fprintf(stderr, "mirakuru-bench: unknown benchmark '%s'\n", what);
                        return 2;
                }
                if (r < 0) {
                        fprintf(stderr, "mirakuru-bench: %s failed: %s\n", what, strerror(-r));
                        free(c.sizes);
                        return EXIT_FAILURE;
                }
        }
        free(c.sizes);
        return EXIT_SUCCESS;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-stamp FILE: writes CLOCK_REALTIME, taken first thing in main(), as
 * "SECONDS.NANOSECONDS" to FILE and exits 0. The stamp of mirakuru-run's
 * --then in bench/users.py's real-server rows: `--then 'exec bench-stamp F'`
 * (sh execs it without a fork; linked against libc alone, so it starts in a
 * fraction of a millisecond, where `date +%s.%N > F` costs sh's fork and
 * date's locale loading, ~2 ms on the bench VM). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char *argv[]) {
        struct timespec now;
        FILE *f;

        clock_gettime(CLOCK_REALTIME, &now);
        if (argc != 2) {
                fprintf(stderr, "usage: bench-stamp FILE\n");
                return 2;
        }
        f = fopen(argv[1], "we");
        if (!f || fprintf(f, "%lld.%09ld\n", (long long) now.tv_sec, now.tv_nsec) < 0 || fclose(f) != 0) {
                perror("bench-stamp");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "bench-util.h"

static unsigned env_unsigned(const char *name, unsigned def) {
        const char *s = getenv(name);
        char *end;
        unsigned long v;

        if (!s || !*s)
                return def;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v == 0 || v > 1000000) {
                fprintf(stderr, "mirakuru-bench: ignoring bad %s=%s\n", name, s);
                return def;
        }
        return (unsigned) v;
}

int bench_config_load(BenchConfig *c) {
        const char *s;

        *c = (BenchConfig) {
                .service = getenv("BENCH_SERVICE"),
                .mirakuru_run = getenv("BENCH_MIRAKURU_RUN"),
                .tmpdir = getenv("BENCH_TMPDIR"),
                .bus_address = getenv("MIRAKURU_TEST_BUS"),
                .runs = env_unsigned("BENCH_RUNS", 50),
                .spawn_runs = env_unsigned("BENCH_SPAWN_RUNS", 20),
                .scale_n = env_unsigned("BENCH_SCALE_N", 1000),
                .scale_runs = env_unsigned("BENCH_SCALE_RUNS", 3),
                .tree_n = env_unsigned("BENCH_TREE_N", 100),
                .tree_runs = env_unsigned("BENCH_TREE_RUNS", 10),
                .heap_n = env_unsigned("BENCH_HEAP_N", 1000),
        };
        s = getenv("BENCH_SIZES");
        c->sizes = strdup(s && *s ? s : "100M 1G 4G");
        if (!c->sizes)
                return -ENOMEM;
        if (!c->service || !c->tmpdir) {
                fprintf(stderr, "mirakuru-bench: BENCH_SERVICE and BENCH_TMPDIR must be set (use bench/run)\n");
                return -EINVAL;
        }
        return 0;
}

uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

double percentile(double *v, size_t n, double p) {
        size_t rank;

        if (n == 0)
                return NAN;
        qsort(v, n, sizeof *v, cmp_double);
        rank = (size_t) ceil(p / 100.0 * (double) n);
        if (rank < 1)
                rank = 1;
        return v[rank - 1];
}

void stats(double *v, size_t n, double *ret_median, double *ret_p95) {
        if (n == 0) {
                *ret_median = *ret_p95 = NAN;
                return;
        }
        qsort(v, n, sizeof *v, cmp_double);
        *ret_median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        *ret_p95 = percentile(v, n, 95);
}

void bench_row_print_header(void) {
        printf("figure\tvariant\tn\tmedian\tp95\tunit\tfloor\tfloor_median\tfloor_p95\ttarget\tverdict\n");
}

static void print_num(double v) {
        if (isnan(v))
                printf("-");
        else if (fabs(v) >= 100 || v == rint(v))
                printf("%.0f", v);
        else if (fabs(v) >= 10)
                printf("%.1f", v);
        else
                printf("%.3g", v);
}

void bench_row_print(const BenchRow *r) {
        printf("%s\t%s\t%zu\t", r->figure, r->variant ?: "-", r->n);
        print_num(r->median);
        putchar('\t');
        print_num(r->p95);
        printf("\t%s\t%s\t", r->unit ?: "-", r->floor ?: "-");
        print_num(r->floor_median);
        putchar('\t');
        print_num(r->floor_p95);
        printf("\t%s\t%s\n", r->target ?: "-", r->verdict ?: "-");
        fflush(stdout);
}

void bench_row_skip(const char *figure, const char *variant, const char *why) {
        char verdict[512];
        size_t i;

        /* Keep the table intact: no tabs or newlines in the reason. */
        snprintf(verdict, sizeof verdict, "not measured: %s", why);
        for (i = 0; verdict[i]; i++)
                if (verdict[i] == '\t' || verdict[i] == '\n' || verdict[i] == '|')
                        verdict[i] = ' ';
        bench_row_print(&(BenchRow) {
                .figure = figure,
                .variant = variant,
                .median = NAN, .p95 = NAN, .floor_median = NAN, .floor_p95 = NAN,
                .verdict = verdict,
        });
}

int stamp_fifo_open(const BenchConfig *c, const char *name, char **ret_path) {
        char *path;
        int fd;

        if (asprintf(&path, "%s/%s", c->tmpdir, name) < 0)
                return -ENOMEM;
        (void) unlink(path);
        if (mkfifo(path, 0600) < 0) {
                int r = -errno;
                free(path);
                return r;
        }
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                free(path);
                return r;
        }
        *ret_path = path;
        return fd;
}

int fifo_read_exact(int fd, void *buf, size_t n, int timeout_ms) {
        uint64_t deadline = now_ns() + (uint64_t) timeout_ms * 1000000;
        size_t got = 0;

        while (got < n) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_ns();
                ssize_t k;
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - now) / 1000000) + 1);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                k = read(fd, (char *) buf + got, n - got);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) k;
        }
        return 0;
}

void fifo_drain(int fd) {
        char buf[4096];
        while (read(fd, buf, sizeof buf) > 0)
                ;
}

int fifo_read_stamp(int fd, uint64_t *ret, int timeout_ms) {
        char line[32];
        size_t used = 0;

        /* Stamps are written in one write() of at most 21 bytes: read up to '\n'. */
        while (used < sizeof line - 1) {
                int r = fifo_read_exact(fd, line + used, 1, timeout_ms);
                if (r < 0)
                        return r;
                if (line[used++] == '\n')
                        break;
        }
        line[used] = '\0';
        *ret = strtoull(line, NULL, 10);
        return *ret > 0 ? 0 : -EIO;
}

long self_status_kib(const char *field) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        size_t l = strlen(field);
        long v = -1;

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

int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own fd */
}

size_t heap_in_use(void) {
        struct mallinfo2 mi = mallinfo2();
        return mi.uordblks + mi.hblkhd;
}

uint64_t self_cpu_usec(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void raise_fd_limit(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int bench_executor(const BenchConfig *c, MkContainment backend, const char *const *args,
                   MkExecutor **ret) {
        const char *argv[8] = { c->service };
        MkExecutor *e = NULL;
        size_t i;
        int r;

        for (i = 0; args && args[i] && i < 6; i++)
                argv[i + 1] = args[i];
        r = mk_executor_new(&e);
        if (r < 0)
                return r;
        if ((r = mk_executor_set_argv(e, argv)) < 0 ||
            (r = mk_executor_set_containment(e, backend)) < 0 ||
            (r = mk_executor_set_timeout(e, 30 * MK_USEC_PER_SEC)) < 0 ||
            (r = mk_executor_set_stop_timeout(e, 10 * MK_USEC_PER_SEC)) < 0 ||
            (backend == MK_CONTAINMENT_SYSTEMD && c->bus_address &&
             (r = mk_executor_set_bus_address(e, c->bus_address)) < 0)) {
                mk_executor_unref(e);
                return r;
        }
        *ret = e;
        return 0;
}

int free_tcp_port(uint16_t *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            getsockname(fd, (struct sockaddr *) &sa, &l) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        close(fd);
        *ret = ntohs(sa.sin_port);
        return 0;
}

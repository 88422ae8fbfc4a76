/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readiness latency per probe: bench-service stamps CLOCK_MONOTONIC just
 * before the system call that makes it ready and sends the stamp through a
 * FIFO; we stamp when mk_executor_start() returns. The floor is the kernel's
 * cross-process wake-up: the same service writing its banner into a pipe
 * that we block on in read(), stamped the same way. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "bench-weak.h"

typedef struct Kind {
        const char *name;
        const char *mode;
        double target_us;
        bool available;
        uint64_t retry_first_usec; /* 0: the library's default */
} Kind;

typedef struct Ctx {
        const BenchConfig *c;
        char port[8];
        char *unix_path;
        char *pid_path;
        char *url;
} Ctx;

static int add_probe(const Ctx *x, const char *label, MkExecutor *e) {
        char name[32];

        /* "unix, retry from 0.1 ms" is the unix probe with other settings. */
        snprintf(name, sizeof name, "%.*s", (int) strcspn(label, ","), label);
        if (strcmp(name, "output") == 0)
                return mk_executor_add_output_probe(e, "BENCH READY", MK_STREAM_STDOUT);
        if (strcmp(name, "tcp") == 0)
                return mk_executor_add_tcp_probe(e, "127.0.0.1", (uint16_t) atoi(x->port));
        if (strcmp(name, "http") == 0)
                return mk_executor_add_http_probe(e, &(MkHttpProbe) { .url = x->url });
        if (strcmp(name, "unix") == 0)
                return mk_executor_add_unix_probe(e, x->unix_path);
        if (strcmp(name, "pid file") == 0)
                return mk_executor_add_pid_file_probe(e, x->pid_path, true);
        if (strcmp(name, "notify") == 0)
                return mk_executor_add_notify_probe(e);
        if (strcmp(name, "socket activation") == 0)
                return mk_executor_add_listen_tcp(e, "127.0.0.1", 0, NULL);
        return -EINVAL;
}

static const char *arg_for(const Ctx *x, const char *label) {
        char name[32];

        snprintf(name, sizeof name, "%.*s", (int) strcspn(label, ","), label);
        if (strcmp(name, "tcp") == 0 || strcmp(name, "http") == 0)
                return x->port;
        if (strcmp(name, "unix") == 0)
                return x->unix_path;
        if (strcmp(name, "pid file") == 0)
                return x->pid_path;
        return NULL;
}

static int floor_wakeup(const BenchConfig *c, int fifo, const char *fifo_env, double *v, unsigned runs) {
        char *argv[] = { (char *) c->service, (char *) "output", NULL };

        for (unsigned i = 0; i < runs; i++) {
                char buf[64];
                uint64_t t, stamp;
                int p[2], r;
                pid_t pid;
                ssize_t n;

                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                r = floor_spawn(argv, fifo_env, p[1], &pid);
                close(p[1]);
                if (r < 0) {
                        close(p[0]);
                        return r;
                }
                n = read(p[0], buf, sizeof buf);
                t = now_ns();
                close(p[0]);
                r = fifo_read_stamp(fifo, &stamp, 30000);
                (void) floor_kill_wait(pid);
                if (n <= 0 || r < 0)
                        return r < 0 ? r : -EIO;
                v[i] = ((double) t - (double) stamp) / 1e3;
        }
        return 0;
}

static int one_kind(const Ctx *x, const Kind *k, int fifo, const char *fifo_path, double fm, double fp) {
        const BenchConfig *c = x->c;
        const char *args[] = { k->mode, arg_for(x, k->name), NULL };
        double *v = calloc(c->runs, sizeof(double));
        double m, p;
        char why[512], verdict[64], target[32];
        MkExecutor *e = NULL;
        int r;

        if (!v)
                return -ENOMEM;
        r = bench_executor(c, MK_CONTAINMENT_PROCESS_GROUP, args, &e);
        if (r >= 0)
                r = mk_executor_set_env(e, "BENCH_STAMP_FIFO", fifo_path);
        if (r >= 0)
                r = add_probe(x, k->name, e);
        if (r >= 0 && k->retry_first_usec > 0)
                r = mk_executor_set_probe_retry(e, k->retry_first_usec, 100 * MK_USEC_PER_MSEC);
        if (r < 0) {
                snprintf(why, sizeof why, "setup: %s", (e ? mk_executor_get_error(e) : NULL) ?: strerror(-r));
                goto skip;
        }
        for (int i = -2; i < (int) c->runs; i++) {
                uint64_t t, stamp;

                fifo_drain(fifo);
                r = mk_executor_start(e);
                t = now_ns();
                if (r < 0) {
                        snprintf(why, sizeof why, "start: %s", mk_executor_get_error(e) ?: strerror(-r));
                        goto skip;
                }
                r = fifo_read_stamp(fifo, &stamp, 30000);
                (void) mk_executor_stop(e);
                if (x->unix_path)
                        (void) unlink(x->unix_path);
                if (x->pid_path)
                        (void) unlink(x->pid_path);
                if (r < 0) {
                        snprintf(why, sizeof why, "no stamp from the service: %s", strerror(-r));
                        goto skip;
                }
                if (i >= 0)
                        v[i] = ((double) t - (double) stamp) / 1e3;
        }
        stats(v, c->runs, &m, &p);
        snprintf(target, sizeof target, "< %.0f us median", k->target_us);
        snprintf(verdict, sizeof verdict, "%s", m < k->target_us ? "met" : "missed");
        bench_row_print(&(BenchRow) {
                .figure = "readiness latency", .variant = k->name, .n = c->runs, .median = m, .p95 = p,
                .unit = "us", .floor = "pipe wake-up, same stamps", .floor_median = fm, .floor_p95 = fp,
                .target = target, .verdict = verdict,
        });
        fprintf(stderr, "READINESS\t%s\t%.2f\t%.2f\n", k->name, m, p);
        mk_executor_unref(e);
        free(v);
        return 0;
skip:
        bench_row_skip("readiness latency", k->name, why);
        mk_executor_unref(e);
        free(v);
        return 0;
}

int bench_readiness(const BenchConfig *c) {
        Kind kinds[] = {
                { "output", "output", 1000, mk_executor_add_output_probe != NULL, 0 },
                { "pid file", "pidfile", 1000, mk_executor_add_pid_file_probe != NULL, 0 },
                { "notify", "notify", 1000, mk_executor_add_notify_probe != NULL, 0 },
                { "unix", "unix", 1000, mk_executor_add_unix_probe != NULL, 0 },
                { "socket activation", "listen", 1000, mk_executor_add_listen_tcp != NULL, 0 },
                { "tcp", "tcp", 5000, mk_executor_add_tcp_probe != NULL, 0 },
                { "http", "http", 5000, mk_executor_add_http_probe != NULL, 0 },
                /* The service binds (the path appears), then listens: a
                 * connect in between is refused and retried. */
                { "unix, retry from 0.1 ms", "unix", 1000,
                  mk_executor_add_unix_probe && mk_executor_set_probe_retry, 100 },
                { "tcp, retry from 0.1 ms", "tcp", 5000,
                  mk_executor_add_tcp_probe && mk_executor_set_probe_retry, 100 },
        };
        _cleanup_free_ char *fifo_path = NULL, *fifo_env = NULL;
        _cleanup_free_ double *fv = calloc(c->runs, sizeof(double));
        Ctx x = { .c = c };
        uint16_t port;
        double fm, fp;
        int fifo, r;

        if (!fv)
                return -ENOMEM;
        fifo = stamp_fifo_open(c, "readiness.fifo", &fifo_path);
        if (fifo < 0)
                return fifo;
        r = free_tcp_port(&port);
        if (r < 0)
                goto out;
        snprintf(x.port, sizeof x.port, "%u", port);
        if (asprintf(&fifo_env, "BENCH_STAMP_FIFO=%s", fifo_path) < 0 ||
            asprintf(&x.unix_path, "%s/ready.sock", c->tmpdir) < 0 ||
            asprintf(&x.pid_path, "%s/ready.pid", c->tmpdir) < 0 ||
            asprintf(&x.url, "http://127.0.0.1:%u/", port) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = floor_wakeup(c, fifo, fifo_env, fv, c->runs);
        if (r < 0)
                goto out;
        stats(fv, c->runs, &fm, &fp);
        fprintf(stderr, "READINESS\tfloor (pipe wake-up)\t%.2f\t%.2f\n", fm, fp);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const char *only = getenv("BENCH_PROBES"); /* e.g. "tcp,pid file" */
                if (only && *only && !strstr(only, kinds[i].name))
                        continue;
                if (!kinds[i].available) {
                        bench_row_skip("readiness latency", kinds[i].name, "the library has no such probe yet");
                        continue;
                }
                r = one_kind(&x, &kinds[i], fifo, fifo_path, fm, fp);
                if (r < 0)
                        goto out;
        }
out:
        close(fifo);
        (void) unlink(fifo_path);
        free(x.unix_path);
        free(x.pid_path);
        free(x.url);
        return r;
}

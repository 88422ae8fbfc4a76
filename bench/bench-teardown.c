/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Teardown of a tree of N processes (half of them double-forked setsid()
 * daemons) per backend: how long mk_executor_stop() takes to leave nothing
 * behind, and how many processes survive it (must be 0). Each process of
 * the tree sends us its pid; we hold a pidfd to each, so "survivor" is the
 * kernel's word, not a guess. The floor: SIGTERM to each known pidfd and
 * poll() until every pidfd says the process is gone. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"

static int open_pidfds(int fifo, unsigned n, int *pidfds) {
        pid_t *pids = calloc(n, sizeof *pids);
        int r;

        if (!pids)
                return -ENOMEM;
        r = fifo_read_exact(fifo, pids, n * sizeof *pids, 30000);
        for (unsigned i = 0; r >= 0 && i < n; i++) {
                pidfds[i] = pidfd_open(pids[i], 0);
                if (pidfds[i] < 0)
                        r = -errno;
        }
        free(pids);
        return r;
}

/* Processes whose pidfd is not readable (still running) right now. */
static unsigned count_alive(int *pidfds, unsigned n) {
        unsigned alive = 0;
        for (unsigned i = 0; i < n; i++) {
                struct pollfd p = { .fd = pidfds[i], .events = POLLIN };
                if (pidfds[i] >= 0 && poll(&p, 1, 0) == 0)
                        alive++;
        }
        return alive;
}

/* Waits until every pidfd is readable (or TIMEOUT_MS passes). */
static int wait_all_gone(int *pidfds, unsigned n, int timeout_ms) {
        struct pollfd *p = calloc(n, sizeof *p);
        uint64_t deadline = now_ns() + (uint64_t) timeout_ms * 1000000;
        unsigned left = n;

        if (!p)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++)
                p[i] = (struct pollfd) { .fd = pidfds[i], .events = POLLIN };
        while (left > 0) {
                uint64_t now = now_ns();
                int k;
                if (now >= deadline)
                        break;
                k = poll(p, n, (int) ((deadline - now) / 1000000) + 1);
                if (k < 0 && errno != EINTR)
                        break;
                for (unsigned i = 0; k > 0 && i < n; i++)
                        if (p[i].fd >= 0 && p[i].revents) {
                                p[i].fd = -1; /* poll() ignores negative fds */
                                left--;
                        }
        }
        free(p);
        return left == 0 ? 0 : -ETIMEDOUT;
}

/* Kills what survived (processes we started), collects zombies that were
 * reparented to us, closes the pidfds. */
static void cleanup_tree(int *pidfds, unsigned n) {
        siginfo_t si;

        for (unsigned i = 0; i < n; i++)
                if (pidfds[i] >= 0)
                        (void) pidfd_send_signal(pidfds[i], SIGKILL, NULL, 0);
        (void) wait_all_gone(pidfds, n, 10000);
        for (;;) {
                si.si_pid = 0;
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                        break;
        }
        for (unsigned i = 0; i < n; i++)
                if (pidfds[i] >= 0) {
                        close(pidfds[i]);
                        pidfds[i] = -1;
                }
}

static int floor_once(const BenchConfig *c, int fifo, const char *fifo_env, int *pidfds, double *ret_ms) {
        char count[16];
        char *argv[] = { (char *) c->service, (char *) "tree", count, NULL };
        unsigned n = c->tree_n;
        uint64_t t0;
        pid_t pid;
        int r;

        snprintf(count, sizeof count, "%u", n);
        fifo_drain(fifo);
        r = floor_spawn(argv, fifo_env, -1, &pid);
        if (r < 0)
                return r;
        r = open_pidfds(fifo, n, pidfds);
        if (r >= 0) {
                t0 = now_ns();
                for (unsigned i = 0; i < n; i++)
                        (void) pidfd_send_signal(pidfds[i], SIGTERM, NULL, 0);
                r = wait_all_gone(pidfds, n, 10000);
                *ret_ms = (double) (now_ns() - t0) / 1e6;
        }
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        cleanup_tree(pidfds, n);
        return r;
}

int bench_teardown(const BenchConfig *c, MkContainment backend) {
        const char *name = mk_containment_to_string(backend);
        unsigned n = c->tree_n, runs = c->tree_runs, worst = 0, total_survivors = 0;
        _cleanup_free_ char *fifo_path = NULL, *fifo_env = NULL;
        _cleanup_free_ int *pidfds = calloc(n, sizeof(int));
        _cleanup_free_ double *v = calloc(runs, sizeof(double)), *fv = calloc(runs, sizeof(double));
        char count[16], figure[64], why[512], verdict[128];
        const char *args[] = { "tree", count, NULL };
        MkExecutor *e = NULL;
        double m, p, fm, fp;
        int fifo, r;

        if (!pidfds || !v || !fv)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++)
                pidfds[i] = -1;
        snprintf(count, sizeof count, "%u", n);
        snprintf(figure, sizeof figure, "teardown of a %u-process tree", n);
        raise_fd_limit();
        fifo = stamp_fifo_open(c, "teardown.fifo", &fifo_path);
        if (fifo < 0)
                return fifo;
        if (asprintf(&fifo_env, "BENCH_STAMP_FIFO=%s", fifo_path) < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = bench_executor(c, backend, args, &e);
        if (r >= 0)
                r = mk_executor_set_env(e, "BENCH_STAMP_FIFO", fifo_path);
        if (r < 0)
                goto out;
        for (unsigned i = 0; i < runs; i++) {
                uint64_t t0, t1;
                unsigned alive;

                fifo_drain(fifo);
                r = mk_executor_start(e);
                if (r < 0) {
                        snprintf(why, sizeof why, "start: %s", mk_executor_get_error(e) ?: strerror(-r));
                        bench_row_skip(figure, name, why);
                        r = 0;
                        goto out;
                }
                if (i == 0 && mk_executor_get_containment(e) != backend) {
                        snprintf(why, sizeof why, "got backend %s instead",
                                 mk_containment_to_string(mk_executor_get_containment(e)));
                        (void) mk_executor_stop(e);
                        bench_row_skip(figure, name, why);
                        goto out;
                }
                r = open_pidfds(fifo, n, pidfds);
                if (r < 0) {
                        snprintf(why, sizeof why, "tree did not report: %s", strerror(-r));
                        (void) mk_executor_stop(e);
                        cleanup_tree(pidfds, n);
                        bench_row_skip(figure, name, why);
                        r = 0;
                        goto out;
                }
                t0 = now_ns();
                (void) mk_executor_stop(e);
                t1 = now_ns();
                alive = count_alive(pidfds, n);
                total_survivors += alive;
                worst = alive > worst ? alive : worst;
                cleanup_tree(pidfds, n);
                v[i] = (double) (t1 - t0) / 1e6;
        }
        for (unsigned i = 0; i < runs; i++) {
                r = floor_once(c, fifo, fifo_env, pidfds, &fv[i]);
                if (r < 0)
                        goto out;
        }
        stats(v, runs, &m, &p);
        stats(fv, runs, &fm, &fp);
        snprintf(verdict, sizeof verdict, "%s: %u survivors in %u runs (worst %u)",
                 total_survivors == 0 ? "met" : "missed", total_survivors, runs, worst);
        bench_row_print(&(BenchRow) {
                .figure = figure, .variant = name, .n = runs, .median = m, .p95 = p, .unit = "ms",
                .floor = "SIGTERM each pidfd, poll all", .floor_median = fm, .floor_p95 = fp,
                .target = "0 survivors", .verdict = verdict,
        });
out:
        mk_executor_unref(e);
        close(fifo);
        (void) unlink(fifo_path);
        return r;
}

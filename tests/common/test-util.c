/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "config.h"
#include "test-util.h"

#if HAVE_VALGRIND_H
#  include <valgrind/valgrind.h>
#else
#  define RUNNING_ON_VALGRIND 0
#  define VALGRIND_CLO_CHANGE(option) ((void) 0)
#endif

const char *test_helper(const char *name) {
        const char *dir = getenv("MIRAKURU_TEST_HELPERS");
        char *p;

        if (!dir) {
                fprintf(stderr, "MIRAKURU_TEST_HELPERS is not set; run through meson test\n");
                exit(EXIT_FAILURE);
        }
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

const char *test_mirakuru_run(void) {
        /* The valgrind setup (tests/meson.build) runs it under valgrind. */
        const char *p = getenv("MIRAKURU_RUN_WRAPPED") ?: getenv("MIRAKURU_RUN");
        if (!p) {
                fprintf(stderr, "MIRAKURU_RUN is not set; run through meson test\n");
                exit(EXIT_FAILURE);
        }
        return p;
}

bool test_pid_alive(pid_t pid) {
        char path[64], buf[512];
        FILE *f;

        if (pid <= 0)
                return false;
        if (kill(pid, 0) < 0 && errno == ESRCH)
                return false;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *close_paren = strrchr(buf, ')');
        if (!close_paren || close_paren[1] != ' ')
                return true;
        return close_paren[2] != 'Z' && close_paren[2] != 'X';
}

uint64_t test_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

bool test_wait_pid_gone(pid_t pid, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;
        while (test_pid_alive(pid)) {
                if (test_now_usec() >= end)
                        return false;
                usleep(2000);
        }
        return true;
}

bool test_under_valgrind(void) {
        return RUNNING_ON_VALGRIND;
}

/* A forked copy of a test holds the test's heap, but not the pointers on
 * the stack frames it leaves: valgrind's leak check at its _exit() would
 * blame allocations that the test itself frees. Only the leak check is off
 * in such children; memory errors are still reported. */
static void fork_child_no_leak_check(void) {
        if (RUNNING_ON_VALGRIND)
                VALGRIND_CLO_CHANGE("--leak-check=no");
}

/* Every test starts from default signal dispositions and an empty signal
 * mask, whatever ran the suite: nohup(1) leaves SIGHUP ignored, a
 * non-interactive shell's '&' SIGINT and SIGQUIT, and all of it is
 * inherited. mirakuru-run rightly keeps an ignored SIGHUP ignored (nohup
 * asking), so a test of its SIGHUP handling run under nohup waited forever.
 * A test that wants a signal ignored sets that itself. */
static void reset_inherited_signals(void) {
        const struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction old;

                if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &old) < 0)
                        continue;
                if (old.sa_handler == SIG_IGN)
                        (void) sigaction(sig, &dfl, NULL);
        }
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

__attribute__((constructor)) static void test_util_init(void) {
        reset_inherited_signals();
        (void) pthread_atfork(NULL, NULL, fork_child_no_leak_check);
}

/* valgrind keeps fds of its own (its log, pipes, /proc copies) just below
 * the process's hard RLIMIT_NOFILE; they are not the program's. */
static long valgrind_fds_start(pid_t pid) {
        char path[64], line[256];
        long hard = -1;
        FILE *f;

        if (!RUNNING_ON_VALGRIND)
                return -1;
        snprintf(path, sizeof path, "/proc/%d/limits", (int) pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "Max open files", 14) == 0)
                        (void) sscanf(line + 14, "%*s %ld", &hard);
        if (f)
                fclose(f);
        return hard > 64 ? hard - 64 : -1;
}

int test_count_fds_of(pid_t pid) {
        char path[64];
        struct dirent *de;
        long skip_from;
        int n = 0;
        DIR *d;

        if (pid == 0)
                pid = getpid();
        skip_from = valgrind_fds_start(pid);
        snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
        d = opendir(path);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && (skip_from < 0 || atol(de->d_name) < skip_from))
                        n++;
        closedir(d);
        return n;
}

int test_count_fds(void) {
        int n = test_count_fds_of(0);
        return n < 0 ? n : n - 1; /* the directory's own fd */
}

char *test_make_temp_dir(void) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        char *p;

        if (asprintf(&p, "%s/mirakuru-test.XXXXXX", tmp) < 0 || !mkdtemp(p))
                abort();
        return p;
}

char *test_dir;

int test_dir_setup(void **state) {
        (void) state;
        test_dir = test_make_temp_dir();
        return test_dir ? 0 : -1;
}

int test_dir_teardown(void **state) {
        (void) state;
        test_rm_rf(test_dir);
        free(test_dir);
        test_dir = NULL;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? 0 : 0;
}

void test_rm_rf(const char *path) {
        if (path)
                (void) nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_path_in(const char *dir, const char *name) {
        char *s = NULL;
        assert_true(asprintf(&s, "%s/%s", dir, name) > 0);
        return s;
}

char *test_read_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;

        if (!f)
                return NULL;
        FILE *m = open_memstream(&buf, &size);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(m);
        fclose(f);
        return buf;
}

bool test_wait_file(const char *path, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;
        while (access(path, F_OK) < 0) {
                if (test_now_usec() >= end)
                        return false;
                usleep(2000);
        }
        return true;
}

void test_skip_all(const char *reason) {
        fprintf(stderr, "SKIP: %s\n", reason);
        exit(EXIT_TEST_SKIP);
}

long test_vmrss_kib(void) {
        char line[256];
        long kib = -1;
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

pid_t test_read_pid_file(const char *path) {
        char *s = test_read_file(path);
        long pid = s ? strtol(s, NULL, 10) : 0;

        free(s);
        return pid > 0 ? (pid_t) pid : 0;
}

int test_run_until(sd_event *event, const bool *flag, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;

        while (!*flag) {
                uint64_t now = test_now_usec();
                int r;

                if (now >= end)
                        return -ETIMEDOUT;
                r = sd_event_run(event, end - now);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool test_rss_is_meaningful(void) {
#if defined(__SANITIZE_ADDRESS__)
        return false;
#else
        return !RUNNING_ON_VALGRIND;
#endif
}

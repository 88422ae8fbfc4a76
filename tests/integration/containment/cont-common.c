/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cont-common.h"
#include "test-util.h"
#include "util/macro.h"

static char *test_cgroup, *orig_cgroup;

char *cont_cgroup_mount(void) {
        FILE *f = fopen("/proc/self/mounts", "re");
        char dev[1024], dir[2048], type[64], rest[4096];
        char *r = NULL;

        if (!f)
                return NULL;
        while (fscanf(f, "%1023s %2047s %63s %4095[^\n]", dev, dir, type, rest) == 4)
                if (strcmp(type, "cgroup2") == 0) {
                        r = strdup(dir);
                        break;
                }
        fclose(f);
        return r;
}

static char *own_cgroup(const char *mount) {
        FILE *f = fopen("/proc/self/cgroup", "re");
        char line[4096];
        char *r = NULL;

        if (!f)
                return NULL;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        if (asprintf(&r, "%s%s", mount, strcmp(line + 3, "/") == 0 ? "" : line + 3) < 0)
                                r = NULL;
                        break;
                }
        fclose(f);
        return r;
}

static int write_to(const char *dir, const char *file, const char *value) {
        char path[4096];
        int fd, r = 0;

        snprintf(path, sizeof path, "%s/%s", dir, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                r = -errno;
        close(fd);
        return r;
}

static bool populated(const char *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/cgroup.events", dir);
        char *s = test_read_file(path);
        bool p = s && strstr(s, "populated 1");
        free(s);
        return p;
}

static void remove_tree(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char child[4096];
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                snprintf(child, sizeof child, "%s/%s", dir, de->d_name);
                remove_tree(child);
        }
        closedir(d);
        (void) rmdir(dir);
}

void cont_cgroup_leave(void) {
        char pid[32];

        if (!test_cgroup)
                return;
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        (void) write_to(orig_cgroup, "cgroup.procs", pid);
        (void) write_to(test_cgroup, "cgroup.kill", "1");
        for (int i = 0; i < 500 && populated(test_cgroup); i++)
                usleep(10000);
        remove_tree(test_cgroup);
        if (access(test_cgroup, F_OK) == 0)
                fprintf(stderr, "WARNING: could not remove %s\n", test_cgroup);
        free(test_cgroup);
        test_cgroup = NULL;
}

const char *cont_cgroup_enter(void) {
        char *mount, pid[32];
        int r;

        if (geteuid() != 0)
                test_skip_all("needs root to create cgroups");
        mount = cont_cgroup_mount();
        if (!mount)
                test_skip_all("no cgroup2 hierarchy mounted");
        orig_cgroup = own_cgroup(mount);
        if (!orig_cgroup)
                test_skip_all("cannot find our own cgroup v2");
        if (asprintf(&test_cgroup, "%s/cont-test-%d", orig_cgroup, (int) getpid()) < 0)
                abort();
        if (mkdir(test_cgroup, 0755) < 0) {
                fprintf(stderr, "SKIP: cannot create %s: %m\n", test_cgroup);
                exit(EXIT_TEST_SKIP);
        }
        atexit(cont_cgroup_leave);
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        r = write_to(test_cgroup, "cgroup.procs", pid);
        if (r < 0) {
                fprintf(stderr, "SKIP: cannot move into %s: %s\n", test_cgroup, strerror(-r));
                exit(EXIT_TEST_SKIP);
        }
        free(mount);
        return test_cgroup;
}

pid_t *cont_read_pids(const char *dir, size_t *ret_n) {
        char path[4096];
        snprintf(path, sizeof path, "%s/pids", dir);
        char *s = test_read_file(path), *p = s;
        pid_t *pids = NULL;
        size_t n = 0;

        while (p && *p) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                pids = realloc(pids, (n + 1) * sizeof *pids);
                if (!pids)
                        abort();
                pids[n++] = (pid_t) v;
                p = end + strspn(end, "\n");
        }
        free(s);
        *ret_n = n;
        return pids;
}

bool cont_wait_gone(const char *path, uint64_t usec) {
        uint64_t end = test_now_usec() + usec;
        while (access(path, F_OK) == 0) {
                if (test_now_usec() >= end)
                        return false;
                usleep(5000);
        }
        return true;
}

void cont_reap_zombies(void) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static bool stat_fields(pid_t pid, char *state, pid_t *ppid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        char *s = test_read_file(path), *p;
        int pp;
        bool ok;

        if (!s)
                return false;
        p = strrchr(s, ')');
        ok = p && sscanf(p + 2, "%c %d", state, &pp) == 2;
        free(s);
        if (ok)
                *ppid = pp;
        return ok;
}

pid_t *cont_children(pid_t parent, size_t *ret_n) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t *pids = NULL;
        size_t n = 0;

        if (!d)
                abort();
        while ((de = readdir(d))) {
                pid_t pid = (pid_t) atoi(de->d_name), ppid;
                char state;
                if (pid <= 0 || !stat_fields(pid, &state, &ppid) || ppid != parent || state == 'Z' || state == 'X')
                        continue;
                pids = realloc(pids, (n + 1) * sizeof *pids);
                if (!pids)
                        abort();
                pids[n++] = pid;
        }
        closedir(d);
        *ret_n = n;
        return pids;
}

char *cont_comm(pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
        char *s = test_read_file(path);
        if (s)
                s[strcspn(s, "\n")] = '\0';
        return s;
}

pid_t *cont_guards(pid_t parent, const pid_t *services, size_t n_services, size_t *ret_n) {
        size_t n, k = 0;
        pid_t *children = cont_children(parent, &n);

        for (size_t i = 0; i < n; i++) {
                bool service = false;
                for (size_t j = 0; j < n_services; j++)
                        service = service || children[i] == services[j];
                if (service)
                        continue;
                children[k++] = children[i];
        }
        *ret_n = k;
        return children;
}

MkContainment cont_backend_from_env(const char **ret_which) {
        const char *which = getenv("MIRAKURU_TEST_CONTAINMENT");
        MkContainment backend;

        if (!which || mk_containment_from_string(which, &backend) < 0 || backend == MK_CONTAINMENT_AUTO) {
                fprintf(stderr, "set MIRAKURU_TEST_CONTAINMENT to cgroup, process-group or systemd\n");
                exit(EXIT_FAILURE);
        }
        *ret_which = which;
        return backend;
}

const char *cont_backend_enter(MkContainment backend) {
        switch (backend) {
        case MK_CONTAINMENT_CGROUP:
                return cont_cgroup_enter();
        case MK_CONTAINMENT_SYSTEMD:
                if (!getenv("MIRAKURU_TEST_BUS"))
                        test_skip_all("no sandboxed systemd manager (run through tests/sandbox/mirakuru-sandbox)");
                return NULL;
        default:
                return NULL;
        }
}

const char *cont_tree(void) {
        static const char *helper;
        if (!helper)
                helper = test_helper("cont-tree"); /* malloc'd once, kept */
        return helper;
}

MkExecutor *cont_tree_service(MkContainment backend, sd_event *event, const char *n, const char *dir,
                              int stop_signal) {
        MkExecutor *e = NULL;
        const char *argv[] = { cont_tree(), "tree", n, dir, NULL };

        if (mk_executor_new(&e) < 0 || mk_executor_set_argv(e, argv) < 0 ||
            mk_executor_set_name(e, "tree") < 0 || mk_executor_set_containment(e, backend) < 0 ||
            (backend == MK_CONTAINMENT_SYSTEMD && mk_executor_set_bus_address(e, getenv("MIRAKURU_TEST_BUS")) < 0) ||
            mk_executor_add_output_probe(e, "^ready$", MK_STREAM_STDOUT) < 0 ||
            mk_executor_set_timeout(e, CONT_START_TIMEOUT_USEC) < 0 ||
            mk_executor_set_stop_timeout(e, CONT_STOP_TIMEOUT_USEC) < 0 ||
            (stop_signal != 0 && mk_executor_set_stop_signal(e, stop_signal) < 0) ||
            (event && mk_executor_attach_event(e, event, 0) < 0))
                return mk_executor_unref(e);
        if (mk_executor_start(e) < 0) {
                fprintf(stderr, "start: %s\n", mk_executor_get_error(e) ?: "?");
                return mk_executor_unref(e);
        }
        if (mk_executor_get_containment(e) != backend) {
                fprintf(stderr, "wrong backend: %s\n", mk_executor_get_containment_reason(e) ?: "?");
                return mk_executor_unref(e);
        }
        return e;
}

bool cont_all_alive(const char *dir, size_t expected) {
        size_t n;
        pid_t *pids = cont_read_pids(dir, &n);
        bool ok = n == expected;

        for (size_t i = 0; ok && i < n; i++)
                ok = test_pid_alive(pids[i]);
        free(pids);
        return ok;
}

bool cont_all_gone(const char *dir, uint64_t usec) {
        uint64_t t0 = test_now_usec();
        size_t n;
        pid_t *pids = cont_read_pids(dir, &n);
        bool ok = n > 0;

        for (size_t i = 0; i < n; i++)
                if (!test_wait_pid_gone(pids[i], usec - MIN(test_now_usec() - t0, usec))) {
                        fprintf(stderr, "pid %d (recorded in %s) survived\n", (int) pids[i], dir);
                        ok = false;
                }
        free(pids);
        return ok;
}

void cont_report(FILE *f, const pid_t *mains, size_t n_mains, MkExecutor **e, size_t n_e) {
        size_t n;
        pid_t *guards = cont_guards(getpid(), mains, n_mains, &n);

        for (size_t i = 0; i < n; i++) {
                char *comm = cont_comm(guards[i]);
                fprintf(f, "guard %d %s\n", (int) guards[i], comm ?: "?");
                free(comm);
        }
        for (size_t i = 0; i < n_e; i++)
                if (mk_executor_get_cgroup(e[i]))
                        fprintf(f, "cg %s\n", mk_executor_get_cgroup(e[i]));
        fprintf(f, "end\n");
        fflush(f);
        free(guards);
}

bool cont_read_report(int fd, const char *guard_comm, ContReport *r) {
        FILE *f = fdopen(fd, "re");
        char line[4096];
        bool end = false;

        assert_non_null(f);
        *r = (ContReport) {};
        while (fgets(line, sizeof line, f)) {
                int pid;
                char comm[64];
                line[strcspn(line, "\n")] = '\0';
                if (sscanf(line, "guard %d %63s", &pid, comm) == 2) {
                        fprintf(stderr, "# guard %d (%s)\n", pid, comm);
                        if (guard_comm)
                                assert_string_equal(comm, guard_comm);
                        if (r->n_guards < ELEMENTSOF(r->guards))
                                r->guards[r->n_guards] = pid;
                        r->n_guards++;
                } else if (sscanf(line, "old %d", &pid) == 1)
                        r->old = pid;
                else if (strncmp(line, "cg ", 3) == 0 && r->n_cgroups < ELEMENTSOF(r->cgroups))
                        r->cgroups[r->n_cgroups++] = strdup(line + 3);
                else if (strcmp(line, "end") == 0) {
                        end = true;
                        break;
                }
        }
        fclose(f);
        return end;
}

void cont_report_done(ContReport *r) {
        for (size_t i = 0; i < r->n_cgroups; i++)
                free(r->cgroups[i]);
}

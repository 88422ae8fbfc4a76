/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-util.h"
#include "escapees.h"
#include "util/macro.h"

/* The most processes whose children are looked at (a fork bomb's size is bounded by the stop's budget). */
#define ESCAPEES_VISIT_MAX 100000

static bool in_list(const pid_t *a, size_t n, pid_t p) {
        for (size_t i = 0; i < n; i++)
                if (a[i] == p)
                        return true;
        return false;
}

static int append(pid_t **a, size_t *n, pid_t p) {
        pid_t *b = realloc(*a, (*n + 1) * sizeof(pid_t));
        if (!b)
                return -ENOMEM;
        *a = b;
        b[(*n)++] = p;
        return 0;
}

/* Calls ADD for each child of every thread of PID (/proc/PID/task/TID/children,
 * CONFIG_PROC_CHILDREN). */
static int for_each_child(pid_t pid, pid_t **queue, size_t *n_queue, const pid_t *members, size_t n_members,
                          pid_t main_pid, pid_t **found, size_t *n_found) {
        char path[64];
        struct dirent *de;
        DIR *d;
        int r = 0;

        snprintf(path, sizeof path, "/proc/%d/task", (int) pid);
        d = opendir(path);
        if (!d)
                return 0; /* gone */
        while (r >= 0 && (de = readdir(d))) {
                char file[400];
                FILE *f;
                int child;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(file, sizeof file, "/proc/%d/task/%s/children", (int) pid, de->d_name);
                f = fopen(file, "re");
                if (!f)
                        continue;
                while (r >= 0 && fscanf(f, "%d", &child) == 1) {
                        pid_t c = (pid_t) child;
                        if (c == main_pid || in_list(*queue, *n_queue, c))
                                continue;
                        r = append(queue, n_queue, c);
                        if (r >= 0 && !in_list(members, n_members, c))
                                r = append(found, n_found, c);
                }
                fclose(f);
        }
        closedir(d);
        return r;
}

int escapees_find(const pid_t *members, size_t n_members, pid_t main_pid, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ pid_t *queue = NULL, *found = NULL;
        size_t n_queue = 0, n_found = 0;
        int r = 0;

        /* Breadth first from the service's processes down their children:
         * a cost in the size of the service, not of the system. */
        if (main_pid > 0)
                r = append(&queue, &n_queue, main_pid);
        for (size_t i = 0; r >= 0 && i < n_members; i++)
                if (members[i] != main_pid && !in_list(queue, n_queue, members[i]))
                        r = append(&queue, &n_queue, members[i]);
        for (size_t i = 0; r >= 0 && i < n_queue && i < ESCAPEES_VISIT_MAX; i++)
                r = for_each_child(queue[i], &queue, &n_queue, members, n_members, main_pid, &found, &n_found);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(found);
        *ret_n = n_found;
        return 0;
}

int pid_in_cgroup(pid_t pid, const char *cgroup_path) {
        _cleanup_free_ char *path = NULL;
        size_t l = strlen(cgroup_path);
        int r;

        r = cg_pid_path(pid, &path);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return strncmp(path, cgroup_path, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

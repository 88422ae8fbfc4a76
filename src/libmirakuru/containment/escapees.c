/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-util.h"
#include "escapees.h"
#include "proc-children.h"
#include "util/macro.h"

/* The most processes whose children are looked at (a fork bomb's size is bounded by the stop's budget). */
#define ESCAPEES_VISIT_MAX 100000

static int append(pid_t **a, size_t *n, pid_t p) {
        pid_t *b = realloc(*a, (*n + 1) * sizeof(pid_t));
        if (!b)
                return -ENOMEM;
        *a = b;
        b[(*n)++] = p;
        return 0;
}

/* Queues each child of every thread of PID not queued yet, and records
 * those that are not MEMBERS as found. */
static int for_each_child(pid_t pid, pid_t **queue, size_t *n_queue, const pid_t *members, size_t n_members,
                          pid_t main_pid, pid_t **found, size_t *n_found) {
        _cleanup_(pid_array_done) PidArray children = {};
        int r = proc_children_append(pid, &children);

        for (size_t i = 0; r >= 0 && i < children.n; i++) {
                pid_t c = children.pids[i];
                if (c == main_pid || pid_in(*queue, *n_queue, c))
                        continue;
                r = append(queue, n_queue, c);
                if (r >= 0 && !pid_in(members, n_members, c))
                        r = append(found, n_found, c);
        }
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
                if (members[i] != main_pid && !pid_in(queue, n_queue, members[i]))
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

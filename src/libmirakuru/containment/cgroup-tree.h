/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walking a cgroup subtree the service may have built (any depth, any
 * width) with directory fds, never path strings: a service that nests
 * 2,100 cgroups makes every path below it longer than PATH_MAX, and one
 * fd per level would exceed RLIMIT_NOFILE. The walk holds one directory
 * fd at a time (plus the caller's), moves down with openat(name) and up
 * with openat(".."), and is bounded in cgroups visited and in time, so
 * that no subtree can make a stop or a removal take long. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The most cgroups one walk visits (a service can make ~millions). */
#define CG_TREE_NODES_MAX 100000

typedef struct CgTreeVisitor {
        /* Called for TOP and each cgroup below it, parents first, with an fd
         * of its directory (valid during the call). Negative: abort the walk. */
        int (*pre)(int dir_fd, void *userdata);
        /* Called after the subtree of the cgroup NAME in PARENT_FD was walked
         * (children first; not for TOP). Negative: abort the walk. */
        int (*post)(int parent_fd, const char *name, void *userdata);
        void *userdata;
} CgTreeVisitor;

/* Walks TOP_FD's cgroup and its descendants depth first. Returns 0 when
 * the whole tree was visited, -ETIME when CG_TREE_NODES_MAX cgroups were
 * visited or DEADLINE_USEC (CLOCK_MONOTONIC, 0: none) passed first (what
 * was visited was visited), a visitor's negative return, or -errno. A
 * cgroup removed while walking is skipped. */
int cg_tree_walk(int top_fd, const CgTreeVisitor *v, uint64_t deadline_usec);
/* Removes every cgroup below TOP_FD, children first (each must be empty of
 * processes). Bounded like cg_tree_walk(). 0 when all are gone. */
int cg_tree_remove_children(int top_fd, uint64_t deadline_usec);
/* CLOCK_MONOTONIC now, in usec. */
uint64_t cg_now_usec(void);

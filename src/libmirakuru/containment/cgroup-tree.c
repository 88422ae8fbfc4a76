/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-tree.h"
#include "util/macro.h"

uint64_t cg_now_usec(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* The child cgroups of one directory, read once when the walk enters it. */
typedef struct Frame {
        char **names;
        size_t n, next;
} Frame;

static void frame_done(Frame *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->names[i]);
        free(f->names);
        *f = (Frame) {};
}

/* gcc 12's -fanalyzer loses track of the names stored at f.names[f.n] once
 * it writes the next one and calls them leaked (as in strv_copy()); frame_done()
 * frees them. */
ANALYZER_IGNORE_LEAK_BEGIN
static int list_children(int dir_fd, Frame *ret) {
        _cleanup_close_ int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        Frame f = {};
        size_t size = 0;
        struct dirent *de;
        DIR *d;

        *ret = (Frame) {};
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd); /* now the DIR's */
        /* Reopened fds start at offset 0; a dup shares the offset: rewind. */
        rewinddir(d);
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (f.n == size) {
                        size_t s = size ? size * 2 : 8;
                        char **a = realloc(f.names, s * sizeof(char *));
                        if (!a)
                                goto oom;
                        f.names = a;
                        size = s;
                }
                if (!(f.names[f.n] = strdup(de->d_name)))
                        goto oom;
                f.n++;
        }
        closedir(d);
        *ret = f;
        return 0;
oom:
        closedir(d);
        frame_done(&f);
        return -ENOMEM;
}
ANALYZER_IGNORE_END

static bool expired(uint64_t deadline, size_t visited) {
        return visited >= CG_TREE_NODES_MAX || (deadline > 0 && cg_now_usec() >= deadline);
}

/* Pushes the children of CUR as a new frame. */
static int push_frame(Frame **stack, size_t *depth, size_t *size, int cur) {
        if (*depth == *size) {
                size_t s = *size ? *size * 2 : 16;
                Frame *a = realloc(*stack, s * sizeof(Frame));
                if (!a)
                        return -ENOMEM;
                *stack = a;
                *size = s;
        }
        int r = list_children(cur, &(*stack)[*depth]);
        if (r < 0)
                return r;
        (*depth)++;
        return 0;
}

int cg_tree_walk(int top_fd, const CgTreeVisitor *v, uint64_t deadline) {
        _cleanup_close_ int cur = -EBADF;
        Frame *stack = NULL; /* the frame of each directory from TOP down to CUR */
        size_t depth = 0, size = 0, visited = 1;
        int r;

        cur = fcntl(top_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        if (v->pre && (r = v->pre(cur, v->userdata)) < 0)
                return r;
        r = push_frame(&stack, &depth, &size, cur);
        while (r >= 0 && depth > 0) {
                Frame *f = &stack[depth - 1];

                if (f->next < f->n) {
                        const char *name = f->names[f->next++];
                        int child;

                        if (expired(deadline, visited)) {
                                r = -ETIME;
                                break;
                        }
                        child = openat(cur, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        if (child < 0) {
                                if (errno != ENOENT) /* ENOENT: removed meanwhile */
                                        r = -errno;
                                continue;
                        }
                        visited++;
                        safe_close(cur);
                        cur = child;
                        if (v->pre && (r = v->pre(cur, v->userdata)) < 0)
                                break;
                        r = push_frame(&stack, &depth, &size, cur);
                        continue;
                }
                /* CUR is done: back up to its parent. */
                frame_done(f);
                if (--depth == 0)
                        break;
                int up = openat(cur, "..", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                if (up < 0) {
                        r = -errno;
                        break;
                }
                safe_close(cur);
                cur = up;
                if (v->post) {
                        const Frame *p = &stack[depth - 1];
                        r = v->post(cur, p->names[p->next - 1], v->userdata);
                }
        }
        while (depth > 0)
                frame_done(&stack[--depth]);
        free(stack);
        return r < 0 ? r : 0;
}

static int remove_one(int parent_fd, const char *name, void *userdata) {
        int *failed = userdata;

        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                (*failed)++;
        return 0;
}

int cg_tree_remove_children(int top_fd, uint64_t deadline) {
        int failed = 0;
        const CgTreeVisitor v = { .post = remove_one, .userdata = &failed };
        int r;

        r = cg_tree_walk(top_fd, &v, deadline);
        if (r < 0)
                return r;
        return failed > 0 ? -EBUSY : 0;
}

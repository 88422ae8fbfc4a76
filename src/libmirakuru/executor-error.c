/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The executor's messages for people. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "executor-private.h"
#include "util/strv.h"

void executor_set_error(MkExecutor *e, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(e->error);
        e->error = s;
}

const char *executor_signal_name(int signo) {
        const char *d = sigabbrev_np(signo);
        return d ?: "?";
}

/* "exited with status 3", "was killed by signal 9 (KILL)" */
char *executor_describe_exit(const MkExit *x) {
        char *s = NULL;
        int r;

        if (x->code == CLD_EXITED)
                r = asprintf_safe(&s, "exited with status %d", x->status);
        else
                r = asprintf_safe(&s, "%s signal %d (SIG%s)",
                             x->code == CLD_DUMPED ? "dumped core on" : "was killed by", x->status,
                             executor_signal_name(x->status));
        return r < 0 ? NULL : s;
}

/* Appends the last lines of output to the error message. */
void executor_error_add_last_lines(MkExecutor *e) {
        _cleanup_free_ char *lines = NULL;
        char *s;

        if (mk_executor_get_last_lines(e, 10, &lines) < 0 || !*lines)
                return;
        /* Indent each line for readability. */
        size_t n = 1;
        for (const char *p = lines; *p; p++)
                n += *p == '\n' ? 3 : 1;
        _cleanup_free_ char *indented = malloc(n + 2);
        if (!indented)
                return;
        char *q = stpcpy(indented, "  ");
        for (const char *p = lines; *p; p++) {
                *q++ = *p;
                if (*p == '\n')
                        q = stpcpy(q, "  ");
        }
        *q = '\0';
        if (asprintf_safe(&s, "%s; last output:\n%s", e->error ?: "failed", indented) < 0)
                return;
        free(e->error);
        e->error = s;
}

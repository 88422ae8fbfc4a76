/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What counts as a clean end of a service (exit 0, the expected exit code,
 * death by the stop signal; a stop_with() call's own for that stop), and
 * the words for one that was not. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "executor-private.h"

int executor_stop_signal(MkExecutor *e) {
        return e->stop_override && e->override_stop_signal > 0 ? e->override_stop_signal : e->stop_signal;
}

int executor_expected_exit(MkExecutor *e) {
        return e->stop_override && e->override_expected_exit != MK_EXPECTED_EXIT_CONFIGURED
                       ? e->override_expected_exit
                       : e->expected_exit;
}

bool executor_exit_is_clean(MkExecutor *e, const MkExit *x) {
        if (x->code == CLD_EXITED)
                return x->status == 0 || x->status == executor_expected_exit(e);
        return x->code == CLD_KILLED && x->status == executor_stop_signal(e);
}

/* The error of a stop that found an unclean exit: what the exit was and
 * what would have been clean. */
void executor_explain_unclean_exit(MkExecutor *e) {
        _cleanup_free_ char *how = executor_describe_exit(&e->exit);
        int expected = executor_expected_exit(e);
        char also[32] = "";

        if (expected >= 0)
                (void) snprintf(also, sizeof also, " or %d", expected);
        executor_set_error(e, "%s %s; a clean stop is exit status 0%s or death by the stop signal "
                           "%d (SIG%s)", e->name, how ?: "exited", also, executor_stop_signal(e),
                           executor_signal_name(executor_stop_signal(e)));
        executor_error_add_last_lines(e);
}

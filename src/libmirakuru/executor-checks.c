/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Before a start: the caller's pre-start check, the probes' pre-checks (is
 * something already there?), and each probe made ready for a new run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor-private.h"
#include "probe/probe.h"

int executor_run_pre_checks(MkExecutor *e) {
        if (e->pre_start_check) {
                int r = e->pre_start_check(e, e->pre_start_userdata);
                if (r < 0) {
                        executor_set_error(e, "%s: the pre-start check failed: %s", e->name, strerror(-r));
                        return r;
                }
                if (r > 0) {
                        executor_set_error(e, "%s: the pre-start check says it already runs; not started",
                                           e->name);
                        return -EADDRINUSE;
                }
        }
        for (size_t i = 0; e->pre_check && i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                int r;
                if (!p->ops->pre_check)
                        continue;
                r = p->ops->pre_check(p);
                if (r < 0) {
                        executor_set_error(e, "%s: %s pre-check failed: %s", e->name, p->ops->name, strerror(-r));
                        return r;
                }
                if (r > 0) {
                        executor_set_error(e, "%s: something already answers where the %s probe looks%s%s%s; not started",
                                           e->name, p->ops->name, p->status ? " (" : "",
                                           p->status ?: "", p->status ? ")" : "");
                        return -EADDRINUSE;
                }
        }
        return 0;
}

int executor_prepare_probes(MkExecutor *e) {
        for (size_t i = 0; i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                int r;
                free(p->status);
                p->status = NULL;
                p->passed = false;
                if (!p->ops->prepare)
                        continue;
                r = p->ops->prepare(p);
                if (r < 0) {
                        if (!e->error)
                                executor_set_error(e, "%s: %s probe: %s%s%s%s", e->name, p->ops->name,
                                                   strerror(-r), p->status ? " (" : "",
                                                   p->status ?: "", p->status ? ")" : "");
                        return r;
                }
        }
        return 0;
}

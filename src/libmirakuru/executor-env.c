/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The environment a service gets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor-private.h"
#include "util/strv.h"

extern char **environ;

/* Variables meant for the supervising process itself, never inherited. */
static const char *const supervisor_only_env[] = {
        "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC",
};

/* Applies "NAME=VALUE" entries to ENV. */
static int env_apply(char ***env, char *const *entries) {
        for (char *const *i = entries; i && *i; i++) {
                _cleanup_free_ char *name = strndup(*i, strcspn(*i, "="));
                int r;
                if (!name)
                        return -ENOMEM;
                r = env_set(env, name, *i + strlen(name) + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The caller's environment (unless clean), less removals, plus overrides,
 * plus what the probes add. */
int executor_build_env(MkExecutor *e, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        int r;

        if (e->clean_env) {
                env = calloc(1, sizeof(char *));
                if (!env)
                        return -ENOMEM;
        } else {
                r = strv_copy((const char *const *) environ, &env);
                if (r < 0)
                        return r;
                /* What systemd handed to us is ours, not the service's: a service
                 * must not notify our manager or take our sockets. */
                for (size_t i = 0; i < ELEMENTSOF(supervisor_only_env); i++)
                        (void) env_set(&env, supervisor_only_env[i], NULL);
        }
        for (char **i = e->env_removals; i && *i; i++)
                (void) env_set(&env, *i, NULL);
        r = env_apply(&env, e->env_overrides);
        if (r < 0)
                return r;
        r = env_apply(&env, e->child_env);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A read compose file -> an MkGroup: the selected services and, transitively,
 * what they depend on (compose.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose-model.h"
#include "compose.h"
#include "log.h"
#include "options.h"
#include "util/macro.h"

static Service *find_service(Compose *c, const char *name) {
        for (size_t i = 0; i < c->n_services; i++)
                if (strcmp(c->services[i].name, name) == 0)
                        return c->services + i;
        return NULL;
}

/* Marks S and, transitively, what it depends on. */
static int want(Compose *c, Service *s) {
        if (s->wanted)
                return 0;
        s->wanted = true;
        for (size_t i = 0; i < s->n_deps; i++) {
                Service *d = find_service(c, s->deps[i].name);
                if (!d) {
                        log_error("%s:%u: process %s depends on unknown process %s", c->file, s->deps[i].line,
                                  s->name, s->deps[i].name);
                        return -ENOENT;
                }
                int r = want(c, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int compose_make_group(Compose *c, char *const *selected, MkGroup **ret) {
        _cleanup_(mk_group_unrefp) MkGroup *g = NULL;
        int r;

        for (char *const *i = selected; i && *i; i++) {
                Service *s = find_service(c, *i);
                if (!s) {
                        log_error("%s: no process named %s", c->file, *i);
                        return EXIT_USAGE;
                }
                if (want(c, s) < 0)
                        return EXIT_USAGE;
        }
        if (!selected || !*selected)
                for (size_t i = 0; i < c->n_services; i++)
                        if (!c->services[i].disabled && want(c, c->services + i) < 0)
                                return EXIT_USAGE;

        r = mk_group_new(&g);
        for (size_t i = 0; r >= 0 && i < c->n_services; i++)
                if (c->services[i].wanted)
                        r = mk_group_add(g, c->services[i].name, c->services[i].e);
        for (size_t i = 0; r >= 0 && i < c->n_services; i++)
                for (size_t k = 0; r >= 0 && c->services[i].wanted && k < c->services[i].n_deps; k++)
                        r = mk_group_add_dependency(g, c->services[i].name, c->services[i].deps[k].name,
                                                    c->services[i].deps[k].condition);
        if (r < 0) {
                log_error("could not set up the group: %s", strerror(-r));
                return EXIT_INTERNAL;
        }
        if (mk_group_get_n_services(g) == 0) {
                log_error("%s: every process is disabled; name one to start it", c->file);
                return EXIT_USAGE;
        }
        r = mk_group_check(g);
        if (r < 0) {
                log_error("%s: %s", c->file, mk_group_get_error(g) ?: strerror(-r));
                return EXIT_USAGE;
        }
        *ret = TAKE_PTR(g);
        return 0;
}

bool compose_has_log_file(Compose *c, const char *name) {
        Service *s = c ? find_service(c, name) : NULL;
        return s && s->has_log_file;
}

Compose *compose_free(Compose *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_services; i++) {
                Service *s = c->services + i;
                for (size_t k = 0; k < s->n_deps; k++)
                        free(s->deps[k].name);
                free(s->deps);
                mk_executor_unref(s->e);
                free(s->name);
        }
        free(c->services);
        free(c->file);
        free(c);
        return NULL;
}

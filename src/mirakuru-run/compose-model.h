/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a compose file holds once read (compose.c reads it, compose-group.c
 * makes the group from it and frees it). Internal to mirakuru-run. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mirakuru.h"

typedef struct Dep {
        char *name;
        MkCondition condition;
        unsigned line;
} Dep;

typedef struct Service {
        char *name;
        unsigned line;
        MkExecutor *e;
        bool has_command;
        bool disabled;
        bool has_log_file;
        bool timeout_set;
        Dep *deps;
        size_t n_deps;
        bool wanted; /* selection */
} Service;

struct Compose {
        char *file;
        Service *services;
        size_t n_services;
};

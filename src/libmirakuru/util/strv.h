/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string vectors, and environment blocks built from them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
int strv_copy(const char *const *l, char ***ret);
/* Appends S (taking ownership on success). */
int strv_push(char ***l, char *s);
int strv_push_dup(char ***l, const char *s);
bool strv_contains(char *const *l, const char *s);
/* Joins with SEPARATOR, quoting nothing. */
char *strv_join(char *const *l, const char *separator);

/* The entry NAME=... in an environment block, or NULL. */
const char *env_get(char *const *env, const char *name);
/* Sets NAME=VALUE in *ENV (replacing an existing entry); VALUE NULL removes it. */
int env_set(char ***env, const char *name, const char *value);
/* True if NAME can be an environment variable name here: non-empty, no '='. */
bool env_name_is_valid(const char *name);

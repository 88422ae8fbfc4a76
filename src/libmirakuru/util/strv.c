/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (l) {
                for (char **i = l; *i; i++)
                        free(*i);
                free(l);
        }
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

/* gcc 12's -fanalyzer reports the strings leaked: its writes to a symbolic
 * index (c[i] in the next round) drop what it knew of c[i] before, so it
 * loses them. The cleanup of c frees every one of them. */
ANALYZER_IGNORE_LEAK_BEGIN
int strv_copy(const char *const *l, char ***ret) {
        size_t n = strv_length((char *const *) l);
        _cleanup_strv_free_ char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(c);
        return 0;
}
ANALYZER_IGNORE_END

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c)
                return -ENOMEM;
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_push_dup(char ***l, const char *s) {
        char *d = strdup(s);
        int r;
        if (!d)
                return -ENOMEM;
        r = strv_push(l, d);
        if (r < 0)
                free(d);
        return r;
}

bool strv_contains(char *const *l, const char *s) {
        if (l)
                for (char *const *i = l; *i; i++)
                        if (strcmp(*i, s) == 0)
                                return true;
        return false;
}

char *strv_join(char *const *l, const char *separator) {
        size_t n = 0, k = strlen(separator);
        char *s, *p;

        for (char *const *i = l; i && *i; i++)
                n += strlen(*i) + k;
        s = p = malloc(n + 1);
        if (!s)
                return NULL;
        for (char *const *i = l; i && *i; i++) {
                if (i != l)
                        p = stpcpy(p, separator);
                p = stpcpy(p, *i);
        }
        *p = '\0';
        return s;
}

static char **env_find(char *const *env, const char *name) {
        size_t n = strlen(name);
        for (char *const *i = env; i && *i; i++)
                if (strncmp(*i, name, n) == 0 && (*i)[n] == '=')
                        return (char **) i;
        return NULL;
}

const char *env_get(char *const *env, const char *name) {
        char **i = env_find(env, name);
        return i ? *i + strlen(name) + 1 : NULL;
}

int env_set(char ***env, const char *name, const char *value) {
        char **i = env_find(*env, name);
        char *entry;

        if (!value) {
                if (!i)
                        return 0;
                free(*i);
                /* Shift the rest down, keeping the order. */
                for (; *i; i++)
                        i[0] = i[1];
                return 0;
        }
        if (asprintf_safe(&entry, "%s=%s", name, value) < 0)
                return -ENOMEM;
        if (i) {
                free(*i);
                *i = entry;
                return 0;
        }
        int r = strv_push(env, entry);
        if (r < 0)
                free(entry);
        return r;
}

bool env_name_is_valid(const char *name) {
        return name && *name && !strchr(name, '=');
}

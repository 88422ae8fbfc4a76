/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "shell-split.h"
#include "strv.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n';
}

int shell_split(const char *s, char ***ret) {
        _cleanup_strv_free_ char **words = calloc(1, sizeof(char *));
        _cleanup_free_ char *word = NULL;
        size_t n = 0;
        bool in_word = false;
        int r;

        if (!words)
                return -ENOMEM;
        /* No word is longer than the input. */
        word = malloc(strlen(s) + 1);
        if (!word)
                return -ENOMEM;

        for (const char *p = s;; p++) {
                char c = *p;

                if (c == '\0' || is_blank(c)) {
                        if (in_word) {
                                word[n] = '\0';
                                r = strv_push_dup(&words, word);
                                if (r < 0)
                                        return r;
                                n = 0;
                                in_word = false;
                        }
                        if (c == '\0')
                                break;
                        continue;
                }

                in_word = true;
                if (c == '\\') {
                        p++;
                        if (*p == '\0')
                                return -EINVAL;
                        if (*p != '\n') /* backslash-newline: a line continuation */
                                word[n++] = *p;
                        else if (n == 0)
                                in_word = false;
                } else if (c == '\'') {
                        const char *end = strchr(p + 1, '\'');
                        if (!end)
                                return -EINVAL;
                        memcpy(word + n, p + 1, (size_t) (end - p - 1));
                        n += (size_t) (end - p - 1);
                        p = end;
                } else if (c == '"') {
                        for (p++;; p++) {
                                if (*p == '\0')
                                        return -EINVAL;
                                if (*p == '"')
                                        break;
                                if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1])) {
                                        p++;
                                        if (*p == '\n')
                                                continue;
                                }
                                word[n++] = *p;
                        }
                } else
                        word[n++] = c;
        }

        *ret = TAKE_PTR(words);
        return 0;
}

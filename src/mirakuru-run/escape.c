/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

/* The escape for C, in BUF (at least 5 bytes); its length. */
static size_t escape_one(unsigned char c, char *buf) {
        switch (c) {
        case '\n':
                return (size_t) snprintf(buf, 5, "\\n");
        case '\r':
                return (size_t) snprintf(buf, 5, "\\r");
        case '\t':
                return (size_t) snprintf(buf, 5, "\\t");
        default:
                return (size_t) snprintf(buf, 5, "\\x%02x", c);
        }
}

size_t escape_control(const char *s, size_t n, bool keep_newline, char *out, size_t size) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char e[5];
                size_t l = 1;

                if (is_control(c) && !(keep_newline && c == '\n'))
                        l = escape_one(c, e);
                else
                        e[0] = (char) c;
                if (k + l > size)
                        break;
                memcpy(out + k, e, l);
                k += l;
        }
        return k;
}

char *escape_string(const char *s, size_t n) {
        char *out = malloc(n * 4 + 1);
        size_t k;

        if (!out)
                return NULL;
        k = escape_control(s, n, false, out, n * 4);
        out[k] = '\0';
        return out;
}

static bool is_plain(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-", *s))
                        return false;
        return true;
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if (is_control((unsigned char) *s))
                        return true;
        return false;
}

/* Appends the quoted form of S at OUT; returns the end. OUT has room for
 * 4 bytes per byte of S plus 3. */
static char *quote_one(const char *s, char *out) {
        if (is_plain(s))
                return stpcpy(out, s);
        if (!has_control(s)) {
                *out++ = '\'';
                for (; *s; s++)
                        out = *s == '\'' ? stpcpy(out, "'\\''") : (*out = *s, out + 1);
                *out++ = '\'';
                return out;
        }
        out = stpcpy(out, "$'");
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (is_control(c))
                        out += escape_one(c, out);
                else if (c == '\'' || c == '\\') {
                        *out++ = '\\';
                        *out++ = (char) c;
                } else
                        *out++ = (char) c;
        }
        *out++ = '\'';
        return out;
}

char *shell_quote_argv(char *const *argv) {
        size_t size = 1;
        char *out, *p;

        for (char *const *i = argv; *i; i++)
                size += strlen(*i) * 4 + 4;
        out = malloc(size);
        if (!out)
                return NULL;
        p = out;
        for (char *const *i = argv; *i; i++) {
                if (i != argv)
                        *p++ = ' ';
                p = quote_one(*i, p);
        }
        *p = '\0';
        return out;
}

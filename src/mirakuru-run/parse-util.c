/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse-util.h"
#include "util/macro.h"
#include "util/regex-util.h"

int parse_seconds(const char *s, uint64_t *ret) {
        char *end;
        double d;

        /* strtod() also takes "inf", "nan", hex and leading blanks: only plain decimals here. */
        if (!s || !*s || strspn(s, "0123456789.") != strlen(s))
                return -EINVAL;
        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || *end || end == s || !isfinite(d) || d < 0 || d > 1e9)
                return -EINVAL;
        /* Rounded to the microsecond (0 <= d <= 1e9: no llround(), which
         * would make mirakuru-run load libm, ~330 KiB of its peak RSS). */
        *ret = (uint64_t) (d * 1e6 + 0.5);
        return 0;
}

int parse_int_range(const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_signal(const char *s, int *ret) {
        const char *name = s;
        long n;

        if (!s || !*s)
                return -EINVAL;
        if (isdigit((unsigned char) *s)) {
                if (parse_int_range(s, 1, SIGRTMAX, &n) < 0)
                        return -EINVAL;
                *ret = (int) n;
                return 0;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (int i = 1; i < NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(abbrev, name) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_host_port(const char *s, unsigned min_port, char **ret_host, uint16_t *ret_port,
                    const char **ret_why) {
        const char *port_s, *why = NULL;
        char *host = NULL;
        size_t host_len = 0;
        bool have_host = false;
        long port;

        if (!s || !*s) {
                why = "empty address";
                goto fail;
        }
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close == s + 1 || close[1] != ':') {
                        why = "want [IPV6]:PORT";
                        goto fail;
                }
                have_host = true;
                s++;
                host_len = (size_t) (close - s);
                port_s = close + 2;
        } else {
                const char *colon = strrchr(s, ':');
                if (colon && strchr(s, ':') != colon) {
                        why = "put an IPv6 address in brackets, as in [::1]:8080";
                        goto fail;
                }
                if (colon) {
                        if (colon == s) {
                                why = "empty host before ':'";
                                goto fail;
                        }
                        have_host = true;
                        host_len = (size_t) (colon - s);
                        port_s = colon + 1;
                } else
                        port_s = s;
        }
        if (parse_int_range(port_s, min_port, 65535, &port) < 0) {
                why = min_port == 0 ? "the port must be a number from 0 to 65535"
                                    : "the port must be a number from 1 to 65535";
                goto fail;
        }
        if (have_host && !(host = strndup(s, host_len)))
                return -ENOMEM;
        *ret_host = host;
        *ret_port = (uint16_t) port;
        return 0;

fail:
        if (ret_why)
                *ret_why = why;
        return -EINVAL;
}

int check_regex(const char *regex, char *why, size_t why_size) {
        _cleanup_free_ char *message = NULL;
        regex_t re;
        int r;

        /* Bounded: a pattern glibc would expand exponentially is refused first. */
        r = regex_compile(&re, regex, REG_EXTENDED | REG_NOSUB, &message);
        if (r < 0) {
                snprintf(why, why_size, "%s", message ?: strerror(-r));
                return -EINVAL;
        }
        regfree(&re);
        return 0;
}

int check_url(const char *url, const char **ret_why) {
        static const char *const schemes[] = { "http://", "https://", "http+unix://" };
        const char *rest = NULL;

        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
                if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0) {
                        rest = url + strlen(schemes[i]);
                        break;
                }
        if (!rest) {
                *ret_why = strstr(url, "://") ? "the scheme must be http, https or http+unix"
                                              : "no scheme (want http://HOST[:PORT]/PATH)";
                return -EINVAL;
        }
        if (strcspn(rest, "/?#") == 0 || rest[0] == ':' || rest[0] == '@') {
                *ret_why = "no host";
                return -EINVAL;
        }
        if (strpbrk(url, " \t\r\n")) {
                *ret_why = "blanks in the URL";
                return -EINVAL;
        }
        /* The rest (a host libcurl accepts, ...) is checked by the library
         * when the probe is added, before anything starts: libcurl is only
         * loaded when an HTTP probe is used. */
        return 0;
}

char *url_without_secret_shown(const char *url) {
        const char *s = strstr(url, "://"), *at;
        char *r;

        /* Without a scheme, the authority starts the string. */
        s = s ? s + 3 : url;
        at = memrchr(s, '@', strcspn(s, "/?#"));
        if (!at)
                return strdup(url);
        if (asprintf_safe(&r, "%.*s***%s", (int) (s - url), url, at) < 0)
                return NULL;
        return r;
}

bool env_name_is_valid(const char *s) {
        return s && *s && !strchr(s, '=');
}

bool env_assignment_is_valid(const char *s) {
        const char *eq = s ? strchr(s, '=') : NULL;
        return eq && eq != s;
}

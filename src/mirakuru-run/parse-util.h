/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsers for mirakuru-run's option values: numbers, signals, addresses,
 * regular expressions and URLs. Each returns 0 or -EINVAL and writes its
 * ret_* parameters only on success. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "1.5" -> 1500000 usec; -EINVAL for negative, non-numeric or too large values. */
int parse_seconds(const char *s, uint64_t *ret);
/* A decimal number in [MIN, MAX], nothing else. */
int parse_int_range(const char *s, long min, long max, long *ret);
/* "TERM", "SIGTERM", "term" or "15" -> SIGTERM. */
int parse_signal(const char *s, int *ret);
/* "[HOST:]PORT"; IPv6 addresses in brackets ("[::1]:8080"). *RET_HOST is
 * malloc'd, or NULL when no host was given. Ports in [MIN_PORT, 65535].
 * On -EINVAL, *RET_WHY (if not NULL) says what is wrong. */
int parse_host_port(const char *s, unsigned min_port, char **ret_host, uint16_t *ret_port,
                    const char **ret_why);
/* Compiles REGEX as a POSIX extended regular expression within the bounds of
 * regex_compile() (libmirakuru/util/regex-util.h); on failure writes what is
 * wrong (our message, or regerror()'s text) into WHY (WHY_SIZE bytes) and
 * returns -EINVAL. */
int check_regex(const char *regex, char *why, size_t why_size);
/* An http://, https:// or http+unix:// URL with a host; on -EINVAL,
 * *RET_WHY says what is wrong. */
int check_url(const char *url, const char **ret_why);
/* URL with the user[:password]@ part of its authority (a secret) shown as
 * "***@", for messages; malloc'd, NULL on allocation failure. */
char *url_without_secret_shown(const char *url);
/* A "NAME=VALUE" environment entry with a non-empty NAME. */
bool env_assignment_is_valid(const char *s);
/* A NAME usable in the environment: not empty, no '='. */
bool env_name_is_valid(const char *s);

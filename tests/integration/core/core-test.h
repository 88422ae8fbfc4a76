/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the core integration tests: building executors that run
 * tests/helpers/core-service with a list of actions. */
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mirakuru.h"
#include "test-util.h"

/* Probes are written by another part of the project; link to the custom
 * probe only if the library has it, so these tests build either way. */
#pragma weak mk_executor_add_custom_probe
static inline bool have_custom_probe(void) {
        return mk_executor_add_custom_probe != NULL;
}

#ifndef _cleanup_
#define _cleanup_(f) __attribute__((cleanup(f)))
#endif
static inline void test_freep(void *p) {
        free(*(void **) p);
}
#ifndef _cleanup_free_
#define _cleanup_free_ _cleanup_(test_freep)
#endif

#define MAX_ARGS 64

/* An executor running core-service with the given actions (NULL-terminated). */
static inline MkExecutor *service_v(const char *first, va_list ap) {
        const char *argv[MAX_ARGS];
        MkExecutor *e = NULL;
        size_t n = 0;

        argv[n++] = test_helper("core-service");
        for (const char *a = first; a && n < MAX_ARGS - 1; a = va_arg(ap, const char *))
                argv[n++] = a;
        argv[n] = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        free((char *) argv[0]);
        return e;
}

static inline MkExecutor *service(const char *first, ...) {
        va_list ap;
        va_start(ap, first);
        MkExecutor *e = service_v(first, ap);
        va_end(ap);
        return e;
}

/* What the service printed on STREAM, as a malloc'd string. */
static inline char *output_of(MkExecutor *e, MkStream stream) {
        char *s = NULL;
        assert_int_equal(mk_executor_get_output(e, stream, &s, NULL), 0);
        return s;
}

#define WAIT_USEC (30 * MK_USEC_PER_SEC)

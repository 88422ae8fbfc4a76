/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the group tests: executors running tests/helpers/group-service. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirakuru.h"
#include "test-util.h"

#ifndef _cleanup_
#define _cleanup_(f) __attribute__((cleanup(f)))
#endif
static inline void group_test_freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_str_ _cleanup_(group_test_freep)

#define WAIT_USEC (30 * MK_USEC_PER_SEC)


/* An executor running group-service with the given actions (NULL-terminated). */
static inline MkExecutor *gservice(const char *first, ...) {
        const char *argv[64];
        MkExecutor *e = NULL;
        size_t n = 0;
        va_list ap;

        argv[n++] = test_helper("group-service");
        va_start(ap, first);
        for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_argv(e, argv), 0);
        free((char *) argv[0]);
        return e;
}

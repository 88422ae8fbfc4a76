/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The extension's Service object (one MkExecutor on a loop of its own),
 * shared by _mirakuru.c (life, configuration, blocking calls, state) and
 * service-probes.c (the readiness probes). */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mirakuru.h>

typedef struct Service {
        PyObject_HEAD
        MkExecutor *executor;
        sd_event *event;
        /* One thread at a time (the library is not thread safe); the owner
         * may re-enter from a callback. */
        PyThread_type_lock lock;
        unsigned long owner;
        unsigned depth;
        /* Callbacks */
        PyObject *line_callable; /* (stream, str) -> truthy when the banner is seen */
        unsigned line_streams;
        bool line_matched;
        PyObject *line_partial[2]; /* bytes of a line not yet ended, per stream */
        PyObject *check_callable; /* wait_for's check */
        PyObject *pending_type, *pending_value, *pending_traceback;
} Service;

#define RESULT(r) PyLong_FromLong((long) (r))

uint64_t seconds_to_usec(PyObject *seconds, int *error);
bool service_ready(Service *s);
void service_lock(Service *s);
void service_unlock(Service *s);
void keep_exception(Service *s);
void clear_line_probe(Service *s);

PyObject *service_clear_probes(Service *s, PyObject *unused);
PyObject *service_add_tcp_probe(Service *s, PyObject *args);
PyObject *service_add_unix_probe(Service *s, PyObject *args);
PyObject *service_add_pid_file_probe(Service *s, PyObject *args);
PyObject *service_add_http_probe(Service *s, PyObject *args);
PyObject *service_add_line_probe(Service *s, PyObject *args);

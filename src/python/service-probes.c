/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Service's readiness probes: libmirakuru's TCP, Unix socket, pid file
 * and HTTP probes, and the banner probe (a Python callable asked about
 * each line of output). */
#include "service.h"

PyObject *service_clear_probes(Service *s, PyObject *unused) {
        int r;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        r = mk_executor_clear_probes(s->executor);
        /* Our own probes: mirakuru's pre_start_check runs in Python. */
        if (r >= 0)
                r = mk_executor_set_pre_check(s->executor, false);
        clear_line_probe(s);
        service_unlock(s);
        return RESULT(r);
}

PyObject *service_add_tcp_probe(Service *s, PyObject *args) {
        const char *host;
        int port, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "si:add_tcp_probe", &host, &port))
                return NULL;
        if (port < 1 || port > 65535)
                return RESULT(-EINVAL);
        service_lock(s);
        r = mk_executor_add_tcp_probe(s->executor, host, (uint16_t) port);
        service_unlock(s);
        return RESULT(r);
}

PyObject *service_add_unix_probe(Service *s, PyObject *args) {
        const char *path;
        int r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "s:add_unix_probe", &path))
                return NULL;
        service_lock(s);
        r = mk_executor_add_unix_probe(s->executor, path);
        service_unlock(s);
        return RESULT(r);
}

PyObject *service_add_pid_file_probe(Service *s, PyObject *args) {
        const char *path;
        int r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "s:add_pid_file_probe", &path))
                return NULL;
        service_lock(s);
        r = mk_executor_add_pid_file_probe(s->executor, path, false);
        service_unlock(s);
        return RESULT(r);
}

/* add_http_probe(url, method, status_regex, headers: list[str], body: str|None) */
PyObject *service_add_http_probe(Service *s, PyObject *args) {
        const char *url, *method, *status, *body = NULL;
        PyObject *headers, *body_obj, *seq;
        const char **strv;
        Py_ssize_t n;
        int r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "sssOO:add_http_probe", &url, &method, &status, &headers, &body_obj))
                return NULL;
        if (body_obj != Py_None && !(body = PyUnicode_AsUTF8(body_obj)))
                return NULL;
        seq = PySequence_Fast(headers, "headers must be a sequence of str");
        if (!seq)
                return NULL;
        n = PySequence_Fast_GET_SIZE(seq);
        strv = calloc((size_t) n + 1, sizeof(char *));
        if (!strv) {
                Py_DECREF(seq);
                return PyErr_NoMemory();
        }
        for (Py_ssize_t i = 0; i < n; i++)
                if (!(strv[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i)))) {
                        free(strv);
                        Py_DECREF(seq);
                        return NULL;
                }
        MkHttpProbe probe = {
                .url = url,
                .method = method,
                .status = status,
                .headers = strv,
                .body = body,
        };
        service_lock(s);
        r = mk_executor_add_http_probe(s->executor, &probe);
        service_unlock(s);
        free(strv);
        Py_DECREF(seq);
        return RESULT(r);
}

/* The banner's probe: a custom probe run on output. It reads what the
 * service printed since its last call (mk_executor_read_output(): the
 * capture already holds every line the loop delivers) and asks
 * CALLABLE(stream, line) about each complete line of STREAMS, keeping a
 * partial last line for the next call; ready once it says yes. */
static int ask_about_lines(Service *s, int i, const char *data, size_t size) {
        PyObject *joined = NULL;
        const char *p = data, *end = data + size;
        int matched = 0;

        if (s->line_partial[i] && size > 0) {
                /* The partial line of the last call goes first. */
                PyObject *more = PyBytes_FromStringAndSize(data, (Py_ssize_t) size);
                if (!more)
                        return -1;
                joined = s->line_partial[i];
                s->line_partial[i] = NULL;
                PyBytes_ConcatAndDel(&joined, more);
                if (!joined)
                        return -1;
                p = PyBytes_AS_STRING(joined);
                end = p + PyBytes_GET_SIZE(joined);
        }
        while (!matched && p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                PyObject *text, *result;
                if (!nl)
                        break;
                text = PyUnicode_DecodeUTF8(p, (Py_ssize_t) (nl - p), "replace");
                result = text ? PyObject_CallFunction(s->line_callable, "iO", i + 1, text) : NULL;
                Py_XDECREF(text);
                if (!result) {
                        Py_XDECREF(joined);
                        return -1;
                }
                matched = PyObject_IsTrue(result);
                Py_DECREF(result);
                if (matched < 0) {
                        Py_XDECREF(joined);
                        return -1;
                }
                p = nl + 1;
        }
        if (!matched && p < end) {
                Py_XSETREF(s->line_partial[i], PyBytes_FromStringAndSize(p, (Py_ssize_t) (end - p)));
                if (!s->line_partial[i]) {
                        Py_XDECREF(joined);
                        return -1;
                }
        }
        Py_XDECREF(joined);
        return matched;
}

static int line_matched(MkExecutor *e, void *userdata) {
        Service *s = userdata;
        PyGILState_STATE gil;
        int result = 0;

        if (s->pending_type)
                return -ECANCELED; /* the line callable raised */
        if (s->line_matched || !s->line_callable)
                return s->line_matched ? 1 : 0;
        gil = PyGILState_Ensure();
        for (int i = 0; i < 2 && result == 0; i++) {
                char *data = NULL;
                size_t size = 0;
                int r;

                if (!(s->line_streams & (1u << i)))
                        continue;
                r = mk_executor_read_output(e, (MkStream) (1 << i), &data, &size);
                if (r < 0) {
                        result = r;
                        break;
                }
                if (r > 0)
                        Py_CLEAR(s->line_partial[i]); /* its continuation is gone */
                r = ask_about_lines(s, i, data, size);
                free(data);
                if (r < 0) {
                        keep_exception(s);
                        result = -ECANCELED;
                } else if (r > 0) {
                        s->line_matched = true;
                        result = 1;
                }
        }
        PyGILState_Release(gil);
        return result;
}

void clear_line_probe(Service *s) {
        Py_CLEAR(s->line_callable);
        Py_CLEAR(s->line_partial[0]);
        Py_CLEAR(s->line_partial[1]);
        s->line_matched = false;
}

PyObject *service_add_line_probe(Service *s, PyObject *args) {
        PyObject *callable;
        int streams, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "Oi:add_line_probe", &callable, &streams))
                return NULL;
        if (!PyCallable_Check(callable)) {
                PyErr_SetString(PyExc_TypeError, "add_line_probe needs a callable");
                return NULL;
        }
        service_lock(s);
        clear_line_probe(s);
        Py_INCREF(callable);
        s->line_callable = callable;
        s->line_streams = (unsigned) streams;
        r = mk_executor_add_custom_probe(s->executor, line_matched, s, 0, true);
        service_unlock(s);
        return RESULT(r);
}


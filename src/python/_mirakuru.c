/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * _mirakuru: the CPython extension under the `mirakuru` package, a thin
 * client of mirakuru.h. One Service object is one MkExecutor on a loop of
 * its own. Blocking calls release the GIL; the Python callables given to
 * wait_for() and add_line_probe() are called back with the GIL taken again.
 * An exception raised by such a callable ends the call and is raised by it.
 * Everything else reports the library's negative errno as an int, and the
 * Python layer decides what it means (mirakuru's exceptions live there).
 */
#include "service.h"

uint64_t seconds_to_usec(PyObject *seconds, int *error) {
        double d;

        *error = 0;
        if (seconds == Py_None)
                return MK_USEC_INFINITY;
        d = PyFloat_AsDouble(seconds);
        if (d == -1.0 && PyErr_Occurred()) {
                *error = 1;
                return 0;
        }
        if (d < 0)
                return 0;
        if (d >= 1e12)
                return MK_USEC_INFINITY;
        return (uint64_t) (d * 1e6);
}

/* ---- the per-object lock ---- */

void service_lock(Service *s) {
        unsigned long me = PyThread_get_thread_ident();

        if (s->depth > 0 && s->owner == me) {
                s->depth++;
                return;
        }
        if (!PyThread_acquire_lock(s->lock, NOWAIT_LOCK)) {
                Py_BEGIN_ALLOW_THREADS
                PyThread_acquire_lock(s->lock, WAIT_LOCK);
                Py_END_ALLOW_THREADS
        }
        s->owner = me;
        s->depth = 1;
}

void service_unlock(Service *s) {
        if (--s->depth == 0) {
                s->owner = 0;
                PyThread_release_lock(s->lock);
        }
}

/* ---- exceptions raised inside callbacks ---- */

void keep_exception(Service *s) {
        if (s->pending_type) {
                PyErr_Clear(); /* the first one wins */
                return;
        }
        PyErr_Fetch(&s->pending_type, &s->pending_value, &s->pending_traceback);
}

static bool raise_pending(Service *s) {
        if (!s->pending_type)
                return false;
        PyErr_Restore(s->pending_type, s->pending_value, s->pending_traceback);
        s->pending_type = s->pending_value = s->pending_traceback = NULL;
        return true;
}

/* ---- object life ---- */

static int service_init(Service *s, PyObject *args, PyObject *kwds) {
        int r;

        if (!PyArg_ParseTuple(args, ":Service"))
                return -1;
        if (s->executor)
                return 0;
        s->lock = PyThread_allocate_lock();
        if (!s->lock) {
                PyErr_NoMemory();
                return -1;
        }
        r = mk_executor_new(&s->executor);
        if (r >= 0)
                r = sd_event_new(&s->event);
        if (r >= 0)
                r = mk_executor_attach_event(s->executor, s->event, 0);
        if (r < 0) {
                errno = -r;
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
        }
        return 0;
}

static void service_dealloc(Service *s) {
        if (s->executor) {
                /* The last unref stops what still runs (blocking); no
                 * callback of ours runs from it. */
                MkExecutor *e = s->executor;
                s->executor = NULL;
                Py_BEGIN_ALLOW_THREADS
                mk_executor_unref(e);
                Py_END_ALLOW_THREADS
        }
        s->event = sd_event_unref(s->event);
        if (s->lock)
                PyThread_free_lock(s->lock);
        clear_line_probe(s);
        Py_CLEAR(s->check_callable);
        Py_CLEAR(s->pending_type);
        Py_CLEAR(s->pending_value);
        Py_CLEAR(s->pending_traceback);
        Py_TYPE(s)->tp_free((PyObject *) s);
}

bool service_ready(Service *s) {
        if (!s->executor) {
                PyErr_SetString(PyExc_RuntimeError, "Service not initialised");
                return false;
        }
        return true;
}

/* ---- configuration ---- */

static PyObject *service_set_argv(Service *s, PyObject *arg) {
        PyObject *seq;
        Py_ssize_t n;
        const char **argv;
        int r;

        if (!service_ready(s))
                return NULL;
        seq = PySequence_Fast(arg, "argv must be a sequence of str");
        if (!seq)
                return NULL;
        n = PySequence_Fast_GET_SIZE(seq);
        argv = calloc((size_t) n + 1, sizeof(char *));
        if (!argv) {
                Py_DECREF(seq);
                return PyErr_NoMemory();
        }
        for (Py_ssize_t i = 0; i < n; i++) {
                argv[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
                if (!argv[i]) {
                        free(argv);
                        Py_DECREF(seq);
                        return NULL;
                }
        }
        service_lock(s);
        r = mk_executor_set_argv(s->executor, argv);
        service_unlock(s);
        free(argv);
        Py_DECREF(seq);
        return RESULT(r);
}

static PyObject *service_set_shell(Service *s, PyObject *arg) {
        const char *script = PyUnicode_AsUTF8(arg);
        int r;

        if (!service_ready(s) || !script)
                return NULL;
        service_lock(s);
        r = mk_executor_set_shell_command(s->executor, script);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_cwd(Service *s, PyObject *arg) {
        const char *cwd = NULL;
        int r;

        if (!service_ready(s))
                return NULL;
        if (arg != Py_None && !(cwd = PyUnicode_AsUTF8(arg)))
                return NULL;
        service_lock(s);
        r = mk_executor_set_cwd(s->executor, cwd);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_name(Service *s, PyObject *arg) {
        const char *name = PyUnicode_AsUTF8(arg);
        int r;

        if (!service_ready(s) || !name)
                return NULL;
        service_lock(s);
        r = mk_executor_set_name(s->executor, name);
        service_unlock(s);
        return RESULT(r);
}

/* The whole environment of the service, as a dict of str to str. */
static PyObject *service_set_environment(Service *s, PyObject *arg) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        int r;

        if (!service_ready(s))
                return NULL;
        if (!PyDict_Check(arg)) {
                PyErr_SetString(PyExc_TypeError, "environment must be a dict");
                return NULL;
        }
        service_lock(s);
        r = mk_executor_set_clean_env(s->executor, true);
        while (r >= 0 && PyDict_Next(arg, &pos, &key, &value)) {
                const char *k = PyUnicode_AsUTF8(key), *v = PyUnicode_AsUTF8(value);
                if (!k || !v) {
                        service_unlock(s);
                        return NULL;
                }
                r = mk_executor_set_env(s->executor, k, v);
        }
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_stdin_fd(Service *s, PyObject *args) {
        int fd, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "i:set_stdin_fd", &fd))
                return NULL;
        service_lock(s);
        r = mk_executor_set_stdin_fd(s->executor, fd);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_output_fd(Service *s, PyObject *args) {
        int streams, fd, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "ii:set_output_fd", &streams, &fd))
                return NULL;
        service_lock(s);
        r = mk_executor_set_output_fd(s->executor, (MkStream) streams, fd);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_hand_output_fd(Service *s, PyObject *args) {
        int streams, fd, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "ii:hand_output_fd", &streams, &fd))
                return NULL;
        service_lock(s);
        r = mk_executor_hand_output_fd(s->executor, (MkStream) streams, fd);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_timeouts(Service *s, PyObject *args) {
        PyObject *start, *stop;
        uint64_t start_usec, stop_usec;
        int error, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "OO:set_timeouts", &start, &stop))
                return NULL;
        start_usec = seconds_to_usec(start, &error);
        if (error)
                return NULL;
        stop_usec = seconds_to_usec(stop, &error);
        if (error)
                return NULL;
        service_lock(s);
        r = mk_executor_set_timeout(s->executor, start_usec);
        if (r >= 0)
                r = mk_executor_set_stop_timeout(s->executor, stop_usec);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_probe_retry(Service *s, PyObject *args) {
        PyObject *first, *max;
        uint64_t first_usec, max_usec;
        int error, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "OO:set_probe_retry", &first, &max))
                return NULL;
        first_usec = seconds_to_usec(first, &error);
        if (error)
                return NULL;
        max_usec = seconds_to_usec(max, &error);
        if (error)
                return NULL;
        service_lock(s);
        r = mk_executor_set_probe_retry(s->executor, first_usec, max_usec);
        service_unlock(s);
        return RESULT(r);
}

static PyObject *service_set_signals(Service *s, PyObject *args) {
        int stop_signal, kill_signal, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "ii:set_signals", &stop_signal, &kill_signal))
                return NULL;
        service_lock(s);
        r = mk_executor_set_stop_signal(s->executor, stop_signal);
        if (r >= 0)
                r = mk_executor_set_kill_signal(s->executor, kill_signal);
        service_unlock(s);
        return RESULT(r);
}

/* ---- life cycle: the blocking calls ---- */

static PyObject *finish_blocking(Service *s, int r) {
        if (raise_pending(s))
                return NULL;
        return RESULT(r);
}

static PyObject *service_start(Service *s, PyObject *unused) {
        int r;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        s->line_matched = false;
        Py_CLEAR(s->line_partial[0]);
        Py_CLEAR(s->line_partial[1]);
        Py_BEGIN_ALLOW_THREADS
        r = mk_executor_start(s->executor);
        Py_END_ALLOW_THREADS
        /* The banner's callable is needed only until ready (and would keep
         * its executor alive: a cycle through this object). */
        Py_CLEAR(s->line_callable);
        service_unlock(s);
        return finish_blocking(s, r);
}

static PyObject *service_stop(Service *s, PyObject *args) {
        int stop_signal = 0, expected = MK_EXPECTED_EXIT_CONFIGURED, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "|ii:stop", &stop_signal, &expected))
                return NULL;
        service_lock(s);
        Py_BEGIN_ALLOW_THREADS
        r = mk_executor_stop_with(s->executor, stop_signal, expected);
        Py_END_ALLOW_THREADS
        service_unlock(s);
        return finish_blocking(s, r);
}

static PyObject *service_kill(Service *s, PyObject *args) {
        int signo = 0, wait = 1, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "|ip:kill", &signo, &wait))
                return NULL;
        service_lock(s);
        if (wait) {
                Py_BEGIN_ALLOW_THREADS
                r = mk_executor_kill(s->executor, signo, true);
                Py_END_ALLOW_THREADS
        } else
                r = mk_executor_kill(s->executor, signo, false);
        service_unlock(s);
        return finish_blocking(s, r);
}

static PyObject *service_wait(Service *s, PyObject *args) {
        PyObject *timeout = Py_None;
        uint64_t usec;
        int error, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "|O:wait", &timeout))
                return NULL;
        usec = seconds_to_usec(timeout, &error);
        if (error)
                return NULL;
        service_lock(s);
        Py_BEGIN_ALLOW_THREADS
        r = mk_executor_wait(s->executor, usec);
        Py_END_ALLOW_THREADS
        service_unlock(s);
        return finish_blocking(s, r);
}

static int call_check(MkExecutor *e, void *userdata) {
        Service *s = userdata;
        PyGILState_STATE gil;
        PyObject *result;
        int r = 0;

        if (s->pending_type || !s->check_callable)
                return -ECANCELED;
        gil = PyGILState_Ensure();
        result = PyObject_CallNoArgs(s->check_callable);
        if (!result) {
                keep_exception(s);
                r = -ECANCELED;
        } else {
                if (PyLong_Check(result) && !PyBool_Check(result)) {
                        /* A negative errno ends the wait with it. */
                        long v = PyLong_AsLong(result);
                        r = v < 0 ? (int) v : v > 0;
                } else {
                        int truth = PyObject_IsTrue(result);
                        if (truth < 0) {
                                keep_exception(s);
                                r = -ECANCELED;
                        } else
                                r = truth;
                }
                Py_DECREF(result);
        }
        PyGILState_Release(gil);
        return r;
}

/* wait_for(check, interval): mk_executor_wait_for() with a Python check;
 * the check may return a negative int (an errno) to end the wait. */
static PyObject *service_wait_for(Service *s, PyObject *args) {
        PyObject *check, *interval;
        uint64_t usec;
        int error, r;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "OO:wait_for", &check, &interval))
                return NULL;
        usec = seconds_to_usec(interval, &error);
        if (error)
                return NULL;
        if (usec == 0)
                usec = 1;
        service_lock(s);
        if (s->check_callable) {
                service_unlock(s);
                return RESULT(-EALREADY);
        }
        Py_INCREF(check);
        s->check_callable = check;
        Py_BEGIN_ALLOW_THREADS
        r = mk_executor_wait_for(s->executor, call_check, s, usec);
        Py_END_ALLOW_THREADS
        Py_CLEAR(s->check_callable);
        service_unlock(s);
        return finish_blocking(s, r);
}

/* ---- state ---- */

static PyObject *service_is_running(Service *s, PyObject *unused) {
        bool running;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        running = mk_executor_is_running(s->executor);
        service_unlock(s);
        return PyBool_FromLong(running);
}

/* The command exited 0 and handed the service over to what it left (a
 * daemonizing launcher): Popen's view of it is an exit 0. */
static PyObject *service_launcher_exited(Service *s, PyObject *unused) {
        bool exited;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        exited = mk_executor_get_launcher_exited(s->executor);
        service_unlock(s);
        return PyBool_FromLong(exited);
}

static PyObject *service_state(Service *s, PyObject *unused) {
        MkState state;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        state = mk_executor_get_state(s->executor);
        service_unlock(s);
        return RESULT(state);
}

static PyObject *service_pid(Service *s, PyObject *unused) {
        pid_t pid;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        pid = mk_executor_get_pid(s->executor);
        service_unlock(s);
        return RESULT(pid);
}

/* Popen's returncode: the exit code, or -N for death by signal N; None
 * while the main process has not exited. */
static PyObject *service_returncode(Service *s, PyObject *unused) {
        MkExit x;
        int r;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        r = mk_executor_get_exit(s->executor, &x);
        service_unlock(s);
        if (r < 0)
                Py_RETURN_NONE;
        return RESULT(x.code == CLD_EXITED ? x.status : -x.status);
}

static PyObject *string_or_none(const char *s) {
        if (!s)
                Py_RETURN_NONE;
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "replace");
}

static PyObject *service_error(Service *s, PyObject *unused) {
        PyObject *o;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        o = string_or_none(mk_executor_get_error(s->executor));
        service_unlock(s);
        return o;
}

static PyObject *service_cgroup(Service *s, PyObject *unused) {
        PyObject *o;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        o = string_or_none(mk_executor_get_cgroup(s->executor));
        service_unlock(s);
        return o;
}

static PyObject *service_containment(Service *s, PyObject *unused) {
        PyObject *o;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        o = string_or_none(mk_containment_to_string(mk_executor_get_containment(s->executor)));
        service_unlock(s);
        return o;
}

static PyObject *bytes_result(int r, char *data, size_t size) {
        PyObject *o;

        if (r < 0) {
                errno = -r;
                return PyErr_SetFromErrno(PyExc_OSError);
        }
        o = PyBytes_FromStringAndSize(data, (Py_ssize_t) size);
        free(data);
        return o;
}

static PyObject *service_get_output(Service *s, PyObject *args) {
        int stream, r;
        char *data = NULL;
        size_t size = 0;

        if (!service_ready(s) || !PyArg_ParseTuple(args, "i:get_output", &stream))
                return NULL;
        service_lock(s);
        r = mk_executor_get_output(s->executor, (MkStream) stream, &data, &size);
        service_unlock(s);
        return bytes_result(r, data, size);
}

static PyObject *service_leftovers(Service *s, PyObject *unused) {
        char *text = NULL;
        PyObject *o;
        int r;

        if (!service_ready(s))
                return NULL;
        service_lock(s);
        r = mk_executor_get_leftovers(s->executor, &text);
        service_unlock(s);
        if (r < 0) {
                errno = -r;
                return PyErr_SetFromErrno(PyExc_OSError);
        }
        o = string_or_none(text);
        free(text);
        return o;
}

static PyMethodDef service_methods[] = {
        { "set_argv", (PyCFunction) service_set_argv, METH_O, "set_argv(list of str) -> int" },
        { "set_shell", (PyCFunction) service_set_shell, METH_O, "set_shell(script) -> int: /bin/sh -c SCRIPT" },
        { "set_cwd", (PyCFunction) service_set_cwd, METH_O, "set_cwd(str or None) -> int" },
        { "set_name", (PyCFunction) service_set_name, METH_O, "set_name(str) -> int" },
        { "set_environment", (PyCFunction) service_set_environment, METH_O,
          "set_environment(dict) -> int: exactly this environment" },
        { "set_stdin_fd", (PyCFunction) service_set_stdin_fd, METH_VARARGS, "set_stdin_fd(fd) -> int; -1: /dev/null" },
        { "set_output_fd", (PyCFunction) service_set_output_fd, METH_VARARGS,
          "set_output_fd(streams, fd) -> int: copy the streams to fd; -1 stops" },
        { "hand_output_fd", (PyCFunction) service_hand_output_fd, METH_VARARGS,
          "hand_output_fd(streams, fd) -> int: copy the streams to fd for the next run only (EOF at their end)" },
        { "set_timeouts", (PyCFunction) service_set_timeouts, METH_VARARGS,
          "set_timeouts(start, stop) -> int: seconds, None: no limit" },
        { "set_probe_retry", (PyCFunction) service_set_probe_retry, METH_VARARGS,
          "set_probe_retry(first, max) -> int: seconds between tcp/unix connection attempts" },
        { "set_signals", (PyCFunction) service_set_signals, METH_VARARGS, "set_signals(stop, kill) -> int" },
        { "clear_probes", (PyCFunction) service_clear_probes, METH_NOARGS, "clear_probes() -> int" },
        { "add_tcp_probe", (PyCFunction) service_add_tcp_probe, METH_VARARGS, "add_tcp_probe(host, port) -> int" },
        { "add_unix_probe", (PyCFunction) service_add_unix_probe, METH_VARARGS, "add_unix_probe(path) -> int" },
        { "add_pid_file_probe", (PyCFunction) service_add_pid_file_probe, METH_VARARGS,
          "add_pid_file_probe(path) -> int" },
        { "add_http_probe", (PyCFunction) service_add_http_probe, METH_VARARGS,
          "add_http_probe(url, method, status_regex, headers, body) -> int" },
        { "add_line_probe", (PyCFunction) service_add_line_probe, METH_VARARGS,
          "add_line_probe(callable(stream, line) -> bool, streams) -> int: ready once it says True" },
        { "start", (PyCFunction) service_start, METH_NOARGS, "start() -> int (GIL released)" },
        { "stop", (PyCFunction) service_stop, METH_VARARGS, "stop([signal[, expected_exit]]) -> int" },
        { "kill", (PyCFunction) service_kill, METH_VARARGS, "kill([signal[, wait]]) -> int" },
        { "wait", (PyCFunction) service_wait, METH_VARARGS, "wait([timeout]) -> int" },
        { "wait_for", (PyCFunction) service_wait_for, METH_VARARGS, "wait_for(check, interval) -> int" },
        { "is_running", (PyCFunction) service_is_running, METH_NOARGS, "is_running() -> bool" },
        { "launcher_exited", (PyCFunction) service_launcher_exited, METH_NOARGS,
          "launcher_exited() -> bool: the command exited 0 and left the service running" },
        { "state", (PyCFunction) service_state, METH_NOARGS, "state() -> int (STATE_*)" },
        { "pid", (PyCFunction) service_pid, METH_NOARGS, "pid() -> int" },
        { "returncode", (PyCFunction) service_returncode, METH_NOARGS, "returncode() -> int or None" },
        { "error", (PyCFunction) service_error, METH_NOARGS, "error() -> str or None" },
        { "cgroup", (PyCFunction) service_cgroup, METH_NOARGS, "cgroup() -> str or None" },
        { "containment", (PyCFunction) service_containment, METH_NOARGS, "containment() -> str" },
        { "get_output", (PyCFunction) service_get_output, METH_VARARGS, "get_output(stream) -> bytes" },
        { "leftovers", (PyCFunction) service_leftovers, METH_NOARGS, "leftovers() -> str" },
        { NULL, NULL, 0, NULL },
};

static PyTypeObject service_type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "mirakuru._mirakuru.Service",
        .tp_doc = "One libmirakuru executor (MkExecutor) on a loop of its own.",
        .tp_basicsize = sizeof(Service),
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_new = PyType_GenericNew,
        .tp_init = (initproc) service_init,
        .tp_dealloc = (destructor) service_dealloc,
        .tp_methods = service_methods,
};

static struct PyModuleDef module = {
        PyModuleDef_HEAD_INIT,
        .m_name = "mirakuru._mirakuru",
        .m_doc = "libmirakuru for the mirakuru package (a thin client of mirakuru.h).",
        .m_size = -1,
};

PyMODINIT_FUNC PyInit__mirakuru(void);
PyMODINIT_FUNC PyInit__mirakuru(void) {
        PyObject *m;

        if (PyType_Ready(&service_type) < 0)
                return NULL;
        m = PyModule_Create(&module);
        if (!m)
                return NULL;
        Py_INCREF(&service_type);
        if (PyModule_AddObject(m, "Service", (PyObject *) &service_type) < 0 ||
            PyModule_AddIntConstant(m, "STREAM_STDOUT", MK_STREAM_STDOUT) < 0 ||
            PyModule_AddIntConstant(m, "STREAM_STDERR", MK_STREAM_STDERR) < 0 ||
            PyModule_AddIntConstant(m, "STREAM_BOTH", MK_STREAM_BOTH) < 0 ||
            PyModule_AddIntConstant(m, "STATE_IDLE", MK_STATE_IDLE) < 0 ||
            PyModule_AddIntConstant(m, "STATE_STARTING", MK_STATE_STARTING) < 0 ||
            PyModule_AddIntConstant(m, "STATE_READY", MK_STATE_READY) < 0 ||
            PyModule_AddIntConstant(m, "STATE_STOPPING", MK_STATE_STOPPING) < 0 ||
            PyModule_AddIntConstant(m, "STATE_EXITED", MK_STATE_EXITED) < 0 ||
            PyModule_AddIntConstant(m, "EXPECTED_EXIT_CONFIGURED", MK_EXPECTED_EXIT_CONFIGURED) < 0) {
                Py_DECREF(m);
                return NULL;
        }
        return m;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Probes and backends land one by one; the benchmark is built against
 * whatever the library exports today. Weak references resolve to NULL when
 * a function is missing, and the benchmark then reports "not measured". */
#pragma once

#include "mirakuru.h"

#pragma weak mk_executor_add_output_probe
#pragma weak mk_executor_add_tcp_probe
#pragma weak mk_executor_add_unix_probe
#pragma weak mk_executor_add_http_probe
#pragma weak mk_executor_add_pid_file_probe
#pragma weak mk_executor_add_notify_probe
#pragma weak mk_executor_add_listen_tcp
#pragma weak mk_executor_set_probe_retry

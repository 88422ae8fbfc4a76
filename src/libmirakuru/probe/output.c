/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output probe: a line the service prints matches a POSIX extended
 * regular expression (regcomp(3) with REG_EXTENDED | REG_NEWLINE, within the
 * bounds of util/regex-util.h), searched
 * anywhere in the line as grep does. Lines come whole from capture (split
 * writes joined, lines up to CAPTURE_LINE_MAX), so nothing here buffers. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "executor-private.h"
#include "probe.h"
#include "util/regex-util.h"

typedef struct OutputProbe {
        Probe probe;
        char *pattern;
        regex_t regex;
        MkStream streams;
        unsigned long lines_seen;
} OutputProbe;

static int output_start(Probe *p) {
        OutputProbe *o = (OutputProbe *) p;

        o->lines_seen = 0;
        probe_set_status(p, "no line matched /%s/ yet", o->pattern);
        return 0;
}

static void output_line(Probe *p, MkStream stream, const char *line, size_t length) {
        OutputProbe *o = (OutputProbe *) p;
        /* REG_STARTEND: the line may hold NULs. Capture also ends it with a
         * NUL at LENGTH, for regexec()s (and sanitizers) that ignore the end. */
        regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t) length };

        if (!(o->streams & stream))
                return;
        o->lines_seen++;
        if (regexec(&o->regex, line, 1, &m, REG_STARTEND) == 0) {
                probe_set_status(p, "matched");
                probe_passed(p);
                return;
        }
        probe_set_status(p, "no line matched /%s/ (%lu line%s seen on %s)", o->pattern, o->lines_seen,
                         o->lines_seen == 1 ? "" : "s",
                         o->streams == MK_STREAM_BOTH ? "stdout and stderr"
                         : o->streams == MK_STREAM_STDOUT ? "stdout" : "stderr");
}

static void output_done(Probe *p) {
        OutputProbe *o = (OutputProbe *) p;

        regfree(&o->regex);
        free(o->pattern);
}

static const ProbeOps output_ops = {
        .name = "output",
        .size = sizeof(OutputProbe),
        .start = output_start,
        .line = output_line,
        .done = output_done, /* nothing to cancel: lines stop coming once passed */
};

int mk_executor_add_output_probe(MkExecutor *e, const char *regex, MkStream streams) {
        OutputProbe *o;
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (streams == 0)
                streams = MK_STREAM_BOTH;
        if (!regex || (streams & ~MK_STREAM_BOTH)) {
                executor_set_error(e, "output probe: %s", !regex ? "no regular expression" : "unknown stream");
                return -EINVAL;
        }
        o = (OutputProbe *) probe_alloc(&output_ops);
        if (!o)
                return -ENOMEM;
        o->streams = streams;
        o->pattern = strdup(regex);
        if (!o->pattern) {
                free(o);
                return -ENOMEM;
        }
        /* Bounded (util/regex-util.h): the pattern is the caller's input. */
        _cleanup_free_ char *msg = NULL;
        r = regex_compile(&o->regex, regex, REG_EXTENDED | REG_NEWLINE | REG_NOSUB, &msg);
        if (r < 0) {
                if (msg)
                        executor_set_error(e, "output probe: invalid regular expression /%s/: %s", regex, msg);
                free(o->pattern);
                free(o);
                return r;
        }
        r = executor_add_probe(e, &o->probe);
        if (r < 0)
                probe_free(&o->probe);
        return r;
}

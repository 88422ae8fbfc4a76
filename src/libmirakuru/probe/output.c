/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output probe: a line the service prints matches a POSIX extended
 * regular expression (regcomp(3) with REG_EXTENDED | REG_NEWLINE, within the
 * bounds of util/regex-util.h), searched
 * anywhere in the line as grep does. Lines come whole from capture (split
 * writes joined, lines up to CAPTURE_LINE_MAX). A line whose matching could
 * take long goes to a matcher thread (line-matcher.h), so that no pattern
 * and no flood holds up the loop: the deadline and signals keep their time. */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "executor-private.h"
#include "probe.h"
#include "line-matcher.h"
#include "util/regex-util.h"

typedef struct OutputProbe {
        Probe probe;
        char *pattern;
        LineMatcher *matcher;
        sd_event_source *match_source; /* the matcher thread found a match */
        MkStream streams;
        unsigned long lines_seen;
} OutputProbe;

static void set_waiting_status(OutputProbe *o) {
        unsigned long dropped = line_matcher_dropped(o->matcher);
        char extra[128] = "";

        if (dropped > 0)
                snprintf(extra, sizeof extra, "; %lu not matched: matching could not keep up with the output",
                         dropped);
        probe_set_status(&o->probe, "no line matched /" REGEX_SHOWN_FMT "/ (%lu line%s seen on %s%s)",
                         REGEX_SHOWN_ARGS(o->pattern), o->lines_seen,
                         o->lines_seen == 1 ? "" : "s",
                         o->streams == MK_STREAM_BOTH ? "stdout and stderr"
                         : o->streams == MK_STREAM_STDOUT ? "stdout" : "stderr", extra);
}

static void output_matched(OutputProbe *o) {
        o->match_source = sd_event_source_disable_unref(o->match_source);
        probe_set_status(&o->probe, "matched");
        probe_passed(&o->probe);
}

static int on_thread_match(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        OutputProbe *o = userdata;

        if (line_matcher_take_match(o->matcher))
                output_matched(o);
        return 0;
}

static int output_start(Probe *p) {
        OutputProbe *o = (OutputProbe *) p;

        o->lines_seen = 0;
        line_matcher_reset(o->matcher);
        probe_set_status(p, "no line matched /" REGEX_SHOWN_FMT "/ yet", REGEX_SHOWN_ARGS(o->pattern));
        return probe_add_io(p, &o->match_source, line_matcher_fd(o->matcher), EPOLLIN, on_thread_match);
}

static void output_line(Probe *p, MkStream stream, const char *line, size_t length) {
        OutputProbe *o = (OutputProbe *) p;
        int r;

        if (!(o->streams & stream))
                return;
        o->lines_seen++;
        /* Capture ends the line with a NUL at LENGTH too. */
        r = line_matcher_feed(o->matcher, line, length);
        if (r > 0) {
                output_matched(o);
                return;
        }
        if (r < 0) {
                probe_failed(p, r, "output probe: cannot match a line: %s", strerror(-r));
                return;
        }
        set_waiting_status(o);
}

static void output_cancel(Probe *p) {
        OutputProbe *o = (OutputProbe *) p;

        o->match_source = sd_event_source_disable_unref(o->match_source);
}

static void output_done(Probe *p) {
        OutputProbe *o = (OutputProbe *) p;

        o->match_source = sd_event_source_disable_unref(o->match_source);
        o->matcher = line_matcher_free(o->matcher);
        free(o->pattern);
}

static const ProbeOps output_ops = {
        .name = "output",
        .size = sizeof(OutputProbe),
        .start = output_start,
        .line = output_line,
        .cancel = output_cancel,
        .done = output_done,
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
        regex_t re;
        uint64_t states = UINT64_MAX;
        r = regex_compile(&re, regex, REG_EXTENDED | REG_NEWLINE | REG_NOSUB, &msg);
        if (r < 0) {
                if (msg)
                        executor_set_error(e, "output probe: invalid regular expression /" REGEX_SHOWN_FMT "/: %s",
                                           REGEX_SHOWN_ARGS(regex), msg);
                free(o->pattern);
                free(o);
                return r;
        }
        (void) regex_states(regex, &states);
        r = line_matcher_new(&re, regex, REG_EXTENDED | REG_NEWLINE | REG_NOSUB, states, &o->matcher);
        if (r < 0) {
                regfree(&re);
                free(o->pattern);
                free(o);
                return r;
        }
        r = executor_add_probe(e, &o->probe);
        if (r < 0)
                probe_free(&o->probe);
        return r;
}

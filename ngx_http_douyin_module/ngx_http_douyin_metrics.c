
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the "douyin_metrics" zone and the douyin_metrics
 * handler (Prometheus text exposition format, version 0.0.4).
 *
 * The zone is one ngx_http_douyin_metrics_sh_t (ngx_http_douyin_metrics.h):
 * counter words added to with ngx_atomic_fetch_add() by the event loop
 * and the threads of every worker, the last listing, and one slot per
 * running process for its gauges.  A scrape reads the words as they are
 * (each one atomically; a scrape is not a snapshot of all of them at one
 * instant, as with stub_status) and adds what only the answering worker
 * can see: the store's counts and size.
 *
 * Units: times are counted in microseconds or milliseconds and shown in
 * seconds, sizes in bytes (Prometheus base units).
 */


#include "ngx_http_douyin_metrics.h"


#define NGX_HTTP_DOUYIN_METRICS_ZONE_SIZE  (64 * 1024)
#define NGX_HTTP_DOUYIN_METRICS_TEXT_MAX   (64 * 1024)


typedef struct {
    const char                 *name;
    const char                 *help;
    ngx_uint_t                  base;       /* first counter word */
    ngx_uint_t                  nbuckets;
    const uint64_t             *bounds;     /* upper bounds, us */
    const char                 *label;      /* NULL: none */
    const char *const          *values;     /* of the label */
    ngx_uint_t                  nlabels;
} ngx_http_douyin_hist_t;


/* a counter family: one word per value of its label (or one word) */

typedef struct {
    const char                 *name;
    const char                 *help;
    const char                 *label;      /* NULL: none */
    const char *const          *values;     /* of the label */
    ngx_uint_t                  n;          /* words */
    ngx_uint_t                  base;       /* first counter word */
    ngx_uint_t                  ms;         /* counted in ms, shown in s */
} ngx_http_douyin_family_t;


static ngx_int_t ngx_http_douyin_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_douyin_metrics_alive(ngx_pid_t pid);
static ngx_uint_t ngx_http_douyin_metrics_code(const char *code);
static u_char *ngx_http_douyin_metrics_seconds(u_char *p, u_char *last,
    uint64_t us);
static u_char *ngx_http_douyin_metrics_family(u_char *p, u_char *last,
    const char *name, const char *type, const char *help);
static u_char *ngx_http_douyin_metrics_counters(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh, ngx_http_douyin_family_t *f);
static u_char *ngx_http_douyin_metrics_calls(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh, const char *name, ngx_uint_t from,
    ngx_uint_t to);
static u_char *ngx_http_douyin_metrics_histogram(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh, ngx_http_douyin_hist_t *h);
static u_char *ngx_http_douyin_metrics_store(u_char *p, u_char *last,
    ngx_http_douyin_main_conf_t *dmcf, ngx_log_t *log);
static u_char *ngx_http_douyin_metrics_gauges(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh);


static ngx_str_t  ngx_http_douyin_metrics_type =
    ngx_string("text/plain; version=0.0.4");


/*
 * The failure codes counted by name: the provider's per-file codes
 * (DashScope's asynchronous file transcription, "Per-file codes"), its
 * task and request codes that end videos, and this module's own.  Any
 * other code counts as "OTHER", so the label has a bounded set of values
 * whatever the provider answers.
 */

static const char  *ngx_http_douyin_fail_codes[] = {
    /* the provider, per file */
    "InvalidFile.DownloadFailed",
    "FILE_DOWNLOAD_FAILED",
    "FILE_404_NOT_FOUND",
    "FILE_403_FORBIDDEN",
    "REQUEST_INVALID_FILE_URL_VALUE",
    "CONTENT_LENGTH_CHECK_FAILED",
    "FILE_SERVER_ERROR",
    "FILE_TOO_LARGE",
    "AUDIO_DURATION_TOO_LONG",
    "FILE_CHECK_FAILED",
    "FILE_NORMALIZE_FAILED",
    "FILE_PARSE_FAILED",
    "MKV_PARSE_FAILED",
    "DECODE_ERROR",
    "UNSUPPORTED_FORMAT",
    "FILE_TRANS_TASK_EXPIRED",

    /* the provider, per task or request */
    "InternalError.Timeout",
    "InvalidApiKey",
    "AccessDenied",
    "InvalidParameter",
    "Arrearage",
    "Throttling",                       /* and every Throttling.* */
    "InternalError",                    /* and every other InternalError.* */

    /* this module */
    "ASR_TIMEOUT",
    "ASR_SUBMIT_UNCERTAIN",
    "ASR_BAD_RESPONSE",
    "ASR_BAD_RESULT",
    "ASR_NO_RESULT",
    "ASR_FAILED",
    "ASR_UNAVAILABLE",
    "ASR_HTTP",                         /* ASR_HTTP_<status> */
    "RESULT_DOWNLOAD_FAILED",
    "TASK_UNKNOWN",
    "TASK_CANCELED",
    "STORE_ERROR",
    "STORE_FULL",

    "OTHER"
};


static const char  *ngx_http_douyin_call_kinds[] = {
    "submit", "query", "result", "list", "metadata", "mark_read", "delete"
};

static const char  *ngx_http_douyin_outcomes[] = {
    "2xx", "3xx", "4xx", "429", "5xx", "error", "timeout"
};

static const char  *ngx_http_douyin_retry_steps[] = {
    "submit", "poll", "fail"
};

static const char  *ngx_http_douyin_rate_kinds[] = {
    "submit", "query"
};

/* as ngx_http_douyin_op_e */

/* in the order of ngx_http_douyin_op_e (OP_CLAIM keeps its label "list") */

static const char  *ngx_http_douyin_op_names[] = {
    "list", "submit", "poll", "fail", "recover", "listing", "read", "delete",
    "push", "list_pending", "lease", "lease_end", "expire_scan", "expire",
    "settle"
};


/* a video's claim to its stored outcome, and a provider task: 0.5 s..6 h */

static const uint64_t  ngx_http_douyin_video_bounds[] = {
    500000, 1000000, 2000000, 5000000, 10000000, 30000000, 60000000,
    120000000, 300000000, 600000000, 1800000000, 3600000000ULL,
    10800000000ULL, 21600000000ULL
};

/* a thread operation: 1 ms..60 s */

static const uint64_t  ngx_http_douyin_op_bounds[] = {
    1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
    5000000, 10000000, 60000000
};


/* as NGX_HTTP_DOUYIN_H_* */

static ngx_http_douyin_hist_t  ngx_http_douyin_hists[] = {

    { "douyin_video_claim_to_stored_seconds",
      "Time from a video's claim to its stored transcript or failure.",
      NGX_HTTP_DOUYIN_M_VIDEO_HIST, NGX_HTTP_DOUYIN_VIDEO_BUCKETS_N,
      ngx_http_douyin_video_bounds, NULL, NULL, 1 },

    { "douyin_provider_task_duration_seconds",
      "Time from a provider task's submit to its end.",
      NGX_HTTP_DOUYIN_M_TASK_HIST, NGX_HTTP_DOUYIN_VIDEO_BUCKETS_N,
      ngx_http_douyin_video_bounds, NULL, NULL, 1 },

    { "douyin_thread_op_duration_seconds",
      "Time a thread of the pool ran an operation, by operation.",
      NGX_HTTP_DOUYIN_M_OP_HIST, NGX_HTTP_DOUYIN_OP_BUCKETS_N,
      ngx_http_douyin_op_bounds, "op", ngx_http_douyin_op_names,
      NGX_HTTP_DOUYIN_OPS_N }
};


static ngx_http_douyin_family_t  ngx_http_douyin_families[] = {

    { "douyin_videos_claimed_total",
      "Videos claimed for transcription by a process call.",
      NULL, NULL, 1, NGX_HTTP_DOUYIN_M_CLAIMED, 0 },

    { "douyin_videos_resumed_total",
      "Videos taken over from a worker that is gone and resumed.",
      NULL, NULL, 1, NGX_HTTP_DOUYIN_M_RESUMED, 0 },

    { "douyin_videos_completed_total",
      "Videos whose transcript was stored.",
      NULL, NULL, 1, NGX_HTTP_DOUYIN_M_COMPLETED, 0 },

    { "douyin_videos_failed_total",
      "Videos stored as failed, by failure code (provider per-file codes, "
      "ours, or OTHER).",
      "code", ngx_http_douyin_fail_codes, NGX_HTTP_DOUYIN_FAIL_CODES_N + 1,
      NGX_HTTP_DOUYIN_M_FAILED, 0 },

    { "douyin_retries_total",
      "Batch steps retried after a backoff (429, 5xx, no answer, a result "
      "download or a store write that failed).",
      "step", ngx_http_douyin_retry_steps, NGX_HTTP_DOUYIN_RETRY_N,
      NGX_HTTP_DOUYIN_M_RETRIES, 0 },

    { "douyin_rate_limit_waits_total",
      "Provider requests that waited for their slot of douyin_asr_rate.",
      "kind", ngx_http_douyin_rate_kinds, 2, NGX_HTTP_DOUYIN_M_RATE_WAITS, 0 },

    { "douyin_rate_limit_wait_seconds_total",
      "Time provider requests waited for their rate slot.",
      "kind", ngx_http_douyin_rate_kinds, 2, NGX_HTTP_DOUYIN_M_RATE_WAIT_MS,
      1 },

    { "douyin_billed_audio_seconds_total",
      "Audio seconds the provider bills (its usage.duration of succeeded "
      "tasks).",
      NULL, NULL, 1, NGX_HTTP_DOUYIN_M_BILLED_MS, 1 },

    { "douyin_thread_ops_total",
      "Operations posted to the thread pool, by operation.",
      "op", ngx_http_douyin_op_names, NGX_HTTP_DOUYIN_OPS_N,
      NGX_HTTP_DOUYIN_M_OPS_POSTED, 0 }
};


/* the tables and the word layout of the header agree */

typedef char  ngx_http_douyin_metrics_check_t[
    (sizeof(ngx_http_douyin_fail_codes) / sizeof(char *)
     == NGX_HTTP_DOUYIN_FAIL_CODES_N + 1
     && sizeof(ngx_http_douyin_call_kinds) / sizeof(char *)
        == NGX_HTTP_DOUYIN_CALL_N
     && sizeof(ngx_http_douyin_outcomes) / sizeof(char *)
        == NGX_HTTP_DOUYIN_OUT_N
     && sizeof(ngx_http_douyin_op_names) / sizeof(char *)
        == NGX_HTTP_DOUYIN_OPS_N
     && NGX_HTTP_DOUYIN_OPS_N == NGX_HTTP_DOUYIN_OP_SETTLE + 1
     && sizeof(ngx_http_douyin_video_bounds) / sizeof(uint64_t)
        == NGX_HTTP_DOUYIN_VIDEO_BUCKETS_N
     && sizeof(ngx_http_douyin_op_bounds) / sizeof(uint64_t)
        == NGX_HTTP_DOUYIN_OP_BUCKETS_N
     && sizeof(ngx_http_douyin_metrics_sh_t)
        < NGX_HTTP_DOUYIN_METRICS_ZONE_SIZE / 2) ? 1 : -1];


/*
 * ngx_http_douyin_metrics_add_zone: configuration time: adds the
 * "douyin_metrics" zone (a fixed size, so that a reload reuses it with
 * its counters).  Returns NGX_OK or NGX_ERROR.
 */

ngx_int_t
ngx_http_douyin_metrics_add_zone(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf)
{
    ngx_str_t  name;

    if (dmcf->metrics_zone != NULL) {
        return NGX_OK;
    }

    ngx_str_set(&name, "douyin_metrics");

    dmcf->metrics_zone = ngx_shared_memory_add(cf, &name,
                                          NGX_HTTP_DOUYIN_METRICS_ZONE_SIZE,
                                          &ngx_http_douyin_module);
    if (dmcf->metrics_zone == NULL) {
        return NGX_ERROR;
    }

    dmcf->metrics_zone->init = ngx_http_douyin_metrics_init_zone;

    return NGX_OK;
}


/* the zone's init handler: keeps the previous cycle's counters */

static ngx_int_t
ngx_http_douyin_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    return ngx_http_douyin_zone_init(shm_zone, data,
                                     sizeof(ngx_http_douyin_metrics_sh_t));
}


/*
 * ngx_http_douyin_metrics_init_process: a worker (or the single process)
 * takes a free slot for its gauges: one never used, or one whose process
 * is gone (exited without its exit_process, e.g. killed).  Event loop.
 * Returns NGX_OK; without a slot the process's gauges are not counted
 * (logged).
 */

ngx_int_t
ngx_http_douyin_metrics_init_process(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf)
{
    ngx_uint_t                       i, g;
    ngx_atomic_uint_t                pid;
    ngx_http_douyin_metrics_sh_t    *sh;
    ngx_http_douyin_metrics_proc_t  *proc;

    if (dmcf->metrics_zone == NULL) {
        return NGX_OK;
    }

    sh = dmcf->metrics_zone->data;

    for (i = 0; i < NGX_HTTP_DOUYIN_METRICS_PROCS; i++) {
        proc = &sh->proc[i];
        pid = proc->pid;

        if (pid != 0 && ngx_http_douyin_metrics_alive((ngx_pid_t) pid)) {
            continue;
        }

        if (!ngx_atomic_cmp_set(&proc->pid, pid, (ngx_atomic_uint_t) ngx_pid))
        {
            continue;           /* another process took it just now */
        }

        for (g = 0; g < NGX_HTTP_DOUYIN_G_N; g++) {
            proc->gauge[g] = 0;
        }

        dmcf->metrics_proc = proc;

        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "douyin: no free slot in the \"douyin_metrics\" zone: "
                  "this process's videos in flight and queued are not "
                  "counted");

    return NGX_OK;
}


/* ngx_http_douyin_metrics_exit_process: frees the process's slot */

void
ngx_http_douyin_metrics_exit_process(ngx_http_douyin_main_conf_t *dmcf)
{
    ngx_uint_t                       g;
    ngx_http_douyin_metrics_proc_t  *proc;

    proc = dmcf->metrics_proc;

    if (proc == NULL) {
        return;
    }

    for (g = 0; g < NGX_HTTP_DOUYIN_G_N; g++) {
        proc->gauge[g] = 0;
    }

    proc->pid = 0;
    dmcf->metrics_proc = NULL;
}


/* a process runs (or exists under another user: alive too) */

static ngx_int_t
ngx_http_douyin_metrics_alive(ngx_pid_t pid)
{
    return kill(pid, 0) == 0 || ngx_errno == NGX_EPERM;
}


/*
 * ngx_http_douyin_metrics_call: counts one call to the provider or to
 * file-system-go: status is the HTTP status (0: no answer), timedout is
 * set when no answer came in time.  Thread side or event loop.
 */

void
ngx_http_douyin_metrics_call(ngx_http_douyin_main_conf_t *dmcf,
    ngx_http_douyin_call_e kind, long status, ngx_uint_t timedout)
{
    ngx_uint_t  out;

    if (status == 0) {
        out = timedout ? NGX_HTTP_DOUYIN_OUT_TIMEOUT
                       : NGX_HTTP_DOUYIN_OUT_ERROR;

    } else if (status == 429) {
        out = NGX_HTTP_DOUYIN_OUT_429;

    } else if (status >= 200 && status < 600) {
        out = NGX_HTTP_DOUYIN_OUT_2XX + (status / 100 - 2);

        if (out > NGX_HTTP_DOUYIN_OUT_4XX) {
            out = NGX_HTTP_DOUYIN_OUT_5XX;
        }

    } else {
        out = NGX_HTTP_DOUYIN_OUT_ERROR;    /* 1xx or out of range */
    }

    ngx_http_douyin_metric_add(dmcf, NGX_HTTP_DOUYIN_M_CALLS
                                     + kind * NGX_HTTP_DOUYIN_OUT_N + out, 1);
}


/*
 * ngx_http_douyin_metrics_observe: one observation of us microseconds in
 * histogram hist (NGX_HTTP_DOUYIN_H_*), label the index of its label
 * value (0 when it has none).  Thread side or event loop.
 */

void
ngx_http_douyin_metrics_observe(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t hist, ngx_uint_t label, uint64_t us)
{
    ngx_uint_t               b, base;
    ngx_http_douyin_hist_t  *h;

    h = &ngx_http_douyin_hists[hist];

    if (label >= h->nlabels) {
        return;
    }

    base = h->base + label * (h->nbuckets + 2);

    for (b = 0; b < h->nbuckets; b++) {
        if (us <= h->bounds[b]) {
            ngx_http_douyin_metric_add(dmcf, base + b, 1);
            break;
        }
    }

    ngx_http_douyin_metric_add(dmcf, base + h->nbuckets,
                               (ngx_atomic_int_t) us);
    ngx_http_douyin_metric_add(dmcf, base + h->nbuckets + 1, 1);
}


/*
 * ngx_http_douyin_metrics_video_end: a video's outcome was stored:
 * counts it completed or failed (by its code) and observes the time
 * from its claim (item->claimed_ms, or the stored claimed_at of a
 * resumed video) to now.  Event loop.
 */

void
ngx_http_douyin_metrics_video_end(ngx_http_douyin_main_conf_t *dmcf,
    ngx_http_douyin_item_t *item)
{
    uint64_t     now, from;
    ngx_time_t  *tp;

    if (item->outcome == NGX_HTTP_DOUYIN_COMPLETED) {
        ngx_http_douyin_metric_add(dmcf, NGX_HTTP_DOUYIN_M_COMPLETED, 1);

    } else {
        ngx_http_douyin_metric_add(dmcf, NGX_HTTP_DOUYIN_M_FAILED
                                   + ngx_http_douyin_metrics_code(item->error),
                                   1);
    }

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    from = item->claimed_ms ? item->claimed_ms
                            : (uint64_t) item->claimed_at * 1000;

    if (from == 0 || from > now) {
        return;
    }

    ngx_http_douyin_metrics_observe(dmcf, NGX_HTTP_DOUYIN_H_VIDEO, 0,
                                    (now - from) * 1000);
}


/* the index of a failure code in ngx_http_douyin_fail_codes */

static ngx_uint_t
ngx_http_douyin_metrics_code(const char *code)
{
    size_t      len;
    ngx_uint_t  i;

    if (code[0] == '\0') {
        /* a batch given up because its outcome could not be stored */
        code = "STORE_ERROR";
    }

    for (i = 0; i < NGX_HTTP_DOUYIN_FAIL_CODES_N; i++) {
        if (ngx_strcmp(code, ngx_http_douyin_fail_codes[i]) == 0) {
            return i;
        }
    }

    /* families: Throttling.*, InternalError.*, ASR_HTTP_<status> */

    for (i = 0; i < NGX_HTTP_DOUYIN_FAIL_CODES_N; i++) {
        len = ngx_strlen(ngx_http_douyin_fail_codes[i]);

        if ((ngx_strcmp(ngx_http_douyin_fail_codes[i], "Throttling") == 0
             || ngx_strcmp(ngx_http_douyin_fail_codes[i], "InternalError")
                == 0)
            && ngx_strncmp(code, ngx_http_douyin_fail_codes[i], len) == 0
            && code[len] == '.')
        {
            return i;
        }

        if (ngx_strcmp(ngx_http_douyin_fail_codes[i], "ASR_HTTP") == 0
            && ngx_strncmp(code, "ASR_HTTP_", 9) == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_DOUYIN_FAIL_CODES_N;        /* OTHER */
}


/*
 * ngx_http_douyin_metrics_rate_wait: a provider request of a kind
 * (query = 0: submit, 1: query) waits delay ms for its rate slot.
 * Event loop.
 */

void
ngx_http_douyin_metrics_rate_wait(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query, ngx_msec_t delay)
{
    ngx_http_douyin_metric_add(dmcf, NGX_HTTP_DOUYIN_M_RATE_WAITS + query, 1);
    ngx_http_douyin_metric_add(dmcf, NGX_HTTP_DOUYIN_M_RATE_WAIT_MS + query,
                               (ngx_atomic_int_t) delay);
}


/*
 * ngx_http_douyin_metrics_billed: adds the audio seconds the provider
 * bills for a task (DashScope: the query's usage.duration, integer
 * seconds, on SUCCEEDED tasks).  Kept in ms.  Thread side or event loop.
 */

void
ngx_http_douyin_metrics_billed(ngx_http_douyin_main_conf_t *dmcf,
    double seconds)
{
    if (seconds > 0 && seconds < 1e9) {
        ngx_http_douyin_metric_add(dmcf, NGX_HTTP_DOUYIN_M_BILLED_MS,
                                   (ngx_atomic_int_t) (seconds * 1000 + 0.5));
    }
}


/*
 * ngx_http_douyin_metrics_listing: a worker has a new file-system-go
 * listing: total valid WAVs, pending (no record), fetched at (Unix s).
 * Event loop.
 */

void
ngx_http_douyin_metrics_listing(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t total, ngx_uint_t pending, time_t fetched_at)
{
    ngx_http_douyin_metrics_sh_t  *sh;

    if (dmcf->metrics_zone == NULL) {
        return;
    }

    sh = dmcf->metrics_zone->data;

    sh->listing_total = total;
    sh->listing_pending = pending;
    sh->listing_fetched_at = (ngx_atomic_uint_t) fetched_at;
}


/*
 * ngx_http_douyin_metrics_op_run: thread side, at the end of an op that
 * started at "start" (CLOCK_MONOTONIC): observes its run time by its
 * kind.  The running gauge is kept by ngx_http_douyin_op_handler().
 */

void
ngx_http_douyin_metrics_op_run(ngx_http_douyin_op_t *op,
    struct timespec *start)
{
    int64_t          us;
    struct timespec  now;

    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
        return;
    }

    us = (int64_t) (now.tv_sec - start->tv_sec) * 1000000
         + (now.tv_nsec - start->tv_nsec) / 1000;

    ngx_http_douyin_metrics_observe(op->conf, NGX_HTTP_DOUYIN_H_OP, op->op,
                                    (uint64_t) ngx_max(us, 0));
}


/*
 * ngx_http_douyin_metrics_handler: douyin_metrics;  GET or HEAD: every
 * metric in the Prometheus text exposition format 0.0.4.  Event loop.
 */

ngx_int_t
ngx_http_douyin_metrics_handler(ngx_http_request_t *r)
{
    u_char                        *p, *last;
    ngx_int_t                      rc;
    ngx_buf_t                     *b;
    ngx_uint_t                     i;
    ngx_chain_t                    out;
    ngx_http_douyin_main_conf_t   *dmcf;
    ngx_http_douyin_metrics_sh_t  *sh;

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin: metrics");

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    if (dmcf->metrics_zone == NULL) {
        /* cannot happen: douyin_metrics adds the zone */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sh = dmcf->metrics_zone->data;

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_DOUYIN_METRICS_TEXT_MAX);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->pos;
    last = b->end;

    p = ngx_http_douyin_metrics_store(p, last, dmcf, r->connection->log);

    p = ngx_http_douyin_metrics_gauges(p, last, sh);

    for (i = 0; i < sizeof(ngx_http_douyin_families)
                    / sizeof(ngx_http_douyin_family_t); i++)
    {
        p = ngx_http_douyin_metrics_counters(p, last, sh,
                                             &ngx_http_douyin_families[i]);
    }

    p = ngx_http_douyin_metrics_family(p, last,
            "douyin_provider_requests_total", "counter",
            "Requests to the ASR provider by kind and outcome (HTTP status "
            "class, 429 apart from 4xx; error: no answer; timeout).");
    p = ngx_http_douyin_metrics_calls(p, last, sh,
            "douyin_provider_requests_total", 0,
            NGX_HTTP_DOUYIN_CALL_PROVIDER_N);

    p = ngx_http_douyin_metrics_family(p, last,
            "douyin_filesystem_requests_total", "counter",
            "Requests to file-system-go by kind and outcome.");
    p = ngx_http_douyin_metrics_calls(p, last, sh,
            "douyin_filesystem_requests_total",
            NGX_HTTP_DOUYIN_CALL_PROVIDER_N, NGX_HTTP_DOUYIN_CALL_N);

    for (i = 0; i < NGX_HTTP_DOUYIN_H_N; i++) {
        p = ngx_http_douyin_metrics_histogram(p, last, sh,
                                              &ngx_http_douyin_hists[i]);
    }

    if (p == last) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "douyin: the metrics text is over %uz bytes",
                      (size_t) NGX_HTTP_DOUYIN_METRICS_TEXT_MAX);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = ngx_http_douyin_metrics_type;
    r->headers_out.content_type_len = ngx_http_douyin_metrics_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* "# HELP" and "# TYPE" lines of a family */

static u_char *
ngx_http_douyin_metrics_family(u_char *p, u_char *last, const char *name,
    const char *type, const char *help)
{
    return ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                        name, help, name, type);
}


/* a counter family: # HELP, # TYPE, and name or name{label="value"} */

static u_char *
ngx_http_douyin_metrics_counters(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh, ngx_http_douyin_family_t *f)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  v;

    p = ngx_http_douyin_metrics_family(p, last, f->name, "counter", f->help);

    for (i = 0; i < f->n; i++) {
        v = sh->counter[f->base + i];

        if (f->label != NULL) {
            p = ngx_slprintf(p, last, "%s{%s=\"%s\"} ", f->name, f->label,
                             f->values[i]);

        } else {
            p = ngx_slprintf(p, last, "%s ", f->name);
        }

        if (f->ms) {
            p = ngx_http_douyin_metrics_seconds(p, last, (uint64_t) v * 1000);
            p = ngx_slprintf(p, last, "\n");

        } else {
            p = ngx_slprintf(p, last, "%uA\n", v);
        }
    }

    return p;
}


/* the samples of a call family for the kinds from..to-1, every outcome */

static u_char *
ngx_http_douyin_metrics_calls(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh, const char *name, ngx_uint_t from,
    ngx_uint_t to)
{
    ngx_uint_t  kind, out;

    for (kind = from; kind < to; kind++) {
        for (out = 0; out < NGX_HTTP_DOUYIN_OUT_N; out++) {
            p = ngx_slprintf(p, last, "%s{kind=\"%s\",outcome=\"%s\"} %uA\n",
                             name, ngx_http_douyin_call_kinds[kind],
                             ngx_http_douyin_outcomes[out],
                             sh->counter[NGX_HTTP_DOUYIN_M_CALLS
                                         + kind * NGX_HTTP_DOUYIN_OUT_N
                                         + out]);
        }
    }

    return p;
}


/* a histogram: cumulative buckets, +Inf, sum (s) and count */

static u_char *
ngx_http_douyin_metrics_histogram(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh, ngx_http_douyin_hist_t *h)
{
    u_char             lbl[64], *e;
    ngx_uint_t         l, b, base;
    ngx_atomic_uint_t  count, cum;

    p = ngx_http_douyin_metrics_family(p, last, h->name, "histogram",
                                       h->help);

    for (l = 0; l < h->nlabels; l++) {
        base = h->base + l * (h->nbuckets + 2);

        /* lbl: 'op="poll"' (or nothing); e: where a ',' may follow */

        e = lbl;

        if (h->label != NULL) {
            e = ngx_snprintf(lbl, sizeof(lbl) - 2, "%s=\"%s\"", h->label,
                             h->values[l]);
        }

        *e = '\0';

        /* the count first: buckets read after it never exceed it */

        count = sh->counter[base + h->nbuckets + 1];
        cum = 0;

        for (b = 0; b < h->nbuckets; b++) {
            cum += sh->counter[base + b];
            p = ngx_slprintf(p, last, "%s_bucket{%s%sle=\"", h->name, lbl,
                             e > lbl ? "," : "");
            p = ngx_http_douyin_metrics_seconds(p, last, h->bounds[b]);
            p = ngx_slprintf(p, last, "\"} %uA\n", ngx_min(cum, count));
        }

        p = ngx_slprintf(p, last, "%s_bucket{%s%sle=\"+Inf\"} %uA\n",
                         h->name, lbl, e > lbl ? "," : "", count);

        p = ngx_slprintf(p, last, e > lbl ? "%s_sum{%s} " : "%s_sum%s ",
                         h->name, lbl);
        p = ngx_http_douyin_metrics_seconds(p, last,
                                        sh->counter[base + h->nbuckets]);

        p = ngx_slprintf(p, last, e > lbl ? "\n%s_count{%s} %uA\n"
                                          : "\n%s_count%s %uA\n",
                         h->name, lbl, count);
    }

    return p;
}


/* us as seconds, without trailing zeros in the fraction */

static u_char *
ngx_http_douyin_metrics_seconds(u_char *p, u_char *last, uint64_t us)
{
    if (us % 1000000 == 0) {
        return ngx_slprintf(p, last, "%uL", us / 1000000);
    }

    p = ngx_slprintf(p, last, "%uL.%06uL", us / 1000000, us % 1000000);

    /* a non-zero digit comes before the '.' is reached */

    while (p[-1] == '0') {
        p--;
    }

    return p;
}


/*
 * What the answering worker reads from the store: the videos per status
 * (the counts kept with the records) and the store's size.  Left out
 * when the store is not open here.
 */

static u_char *
ngx_http_douyin_metrics_store(u_char *p, u_char *last,
    ngx_http_douyin_main_conf_t *dmcf, ngx_log_t *log)
{
    int                        err;
    int64_t                    counts[NGX_HTTP_DOUYIN_NSTATUS][2];
    MDB_stat                   st;
    ngx_uint_t                 s;
    MDB_envinfo                info;
    ngx_http_douyin_runner_t  *runner;

    runner = dmcf->runner;

    p = ngx_http_douyin_metrics_family(p, last, "douyin_videos", "gauge",
            "Videos in the store by status (pending ones have no record: "
            "see douyin_listing_pending_videos).");

    if (runner != NULL && runner->store_ok) {
        err = ngx_http_douyin_store_counts(&runner->store, counts);

        if (err == 0) {
            /* the statuses a record may have: pending has none */

            for (s = NGX_HTTP_DOUYIN_PROCESSING; s < NGX_HTTP_DOUYIN_NSTATUS;
                 s++)
            {
                p = ngx_slprintf(p, last,
                                 "douyin_videos{status=\"%V\"} %L\n",
                                 &ngx_http_douyin_statuses[s].name,
                                 counts[s][0] + counts[s][1]);
            }

        } else {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "douyin: reading the store's counts failed: %s",
                          mdb_strerror(err));
        }
    }

    p = ngx_http_douyin_metrics_family(p, last, "douyin_store_size_bytes",
            "gauge", "The store's map size (douyin_store map_size=): the "
            "most it can grow to.");

    if (runner != NULL && runner->store_ok
        && mdb_env_info(runner->store.env, &info) == 0)
    {
        p = ngx_slprintf(p, last, "douyin_store_size_bytes %uz\n",
                         info.me_mapsize);

        p = ngx_http_douyin_metrics_family(p, last,
                "douyin_store_used_bytes", "gauge",
                "Bytes of the store's map in use (its last page).");

        if (mdb_env_stat(runner->store.env, &st) == 0) {
            p = ngx_slprintf(p, last, "douyin_store_used_bytes %uz\n",
                             (info.me_last_pgno + 1) * (size_t) st.ms_psize);
        }

    } else {
        p = ngx_http_douyin_metrics_family(p, last,
                "douyin_store_used_bytes", "gauge",
                "Bytes of the store's map in use (its last page).");
    }

    return p;
}


/* the listing's gauges and the per-process gauges summed over processes */

static u_char *
ngx_http_douyin_metrics_gauges(u_char *p, u_char *last,
    ngx_http_douyin_metrics_sh_t *sh)
{
    time_t                           fetched;
    ngx_uint_t                       i, g;
    ngx_atomic_uint_t                pid;
    ngx_atomic_int_t                 sum[NGX_HTTP_DOUYIN_G_N];
    ngx_http_douyin_metrics_proc_t  *proc;

    fetched = (time_t) sh->listing_fetched_at;

    p = ngx_http_douyin_metrics_family(p, last, "douyin_listing_videos",
            "gauge", "Valid WAVs in the last file-system-go listing.");

    if (fetched != 0) {
        p = ngx_slprintf(p, last, "douyin_listing_videos %uA\n",
                         sh->listing_total);
    }

    p = ngx_http_douyin_metrics_family(p, last,
            "douyin_listing_pending_videos", "gauge",
            "WAVs of the last listing without a record (never processed).");

    if (fetched != 0) {
        p = ngx_slprintf(p, last, "douyin_listing_pending_videos %uA\n",
                         sh->listing_pending);
    }

    p = ngx_http_douyin_metrics_family(p, last,
            "douyin_listing_age_seconds", "gauge",
            "Seconds since the last file-system-go listing.");

    if (fetched != 0) {
        p = ngx_slprintf(p, last, "douyin_listing_age_seconds %T\n",
                         ngx_max(ngx_time() - fetched, 0));
    }

    ngx_memzero(sum, sizeof(sum));

    for (i = 0; i < NGX_HTTP_DOUYIN_METRICS_PROCS; i++) {
        proc = &sh->proc[i];
        pid = proc->pid;

        if (pid == 0 || !ngx_http_douyin_metrics_alive((ngx_pid_t) pid)) {
            continue;
        }

        for (g = 0; g < NGX_HTTP_DOUYIN_G_N; g++) {
            sum[g] += (ngx_atomic_int_t) proc->gauge[g];
        }
    }

    p = ngx_http_douyin_metrics_family(p, last, "douyin_videos_in_flight",
            "gauge", "Videos submitted to the provider and not yet ended, "
            "in all worker processes.");
    p = ngx_slprintf(p, last, "douyin_videos_in_flight %A\n",
                     sum[NGX_HTTP_DOUYIN_G_INFLIGHT]);

    p = ngx_http_douyin_metrics_family(p, last, "douyin_videos_queued",
            "gauge", "Videos claimed and waiting for room "
            "(douyin_max_inflight), in all worker processes.");
    p = ngx_slprintf(p, last, "douyin_videos_queued %A\n",
                     sum[NGX_HTTP_DOUYIN_G_QUEUED]);

    p = ngx_http_douyin_metrics_family(p, last, "douyin_thread_ops_running",
            "gauge", "Operations running in a thread of the pool now.");
    p = ngx_slprintf(p, last, "douyin_thread_ops_running %A\n",
                     sum[NGX_HTTP_DOUYIN_G_OPS_RUNNING]);

    return p;
}

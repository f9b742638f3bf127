
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: metrics in the shared memory zone
 * "douyin_metrics", served in the Prometheus text format by the
 * douyin_metrics handler.
 *
 * Counters and histograms are words in the zone that every worker
 * process, and every thread of its pool, adds to with
 * ngx_atomic_fetch_add(): no lock on the path that counts, as nginx's
 * stub_status counts connections and requests.  The zone is kept across
 * reloads (same name, size and tag), so counters only restart with nginx.
 *
 * Gauges that belong to one process (videos in flight and queued, thread
 * operations running) live in a per-process slot of the zone, claimed at
 * the worker's start by its pid and released at its exit; a scrape adds
 * up the slots of processes that still run, so a worker killed by
 * SIGKILL leaves no phantom videos in flight.
 *
 * Every metric, its labels and units: README "Metrics".
 */


#ifndef _NGX_HTTP_DOUYIN_METRICS_H_INCLUDED_
#define _NGX_HTTP_DOUYIN_METRICS_H_INCLUDED_


#include "ngx_http_douyin_module.h"


/* what a call to another server was: the "kind" label of its family */

typedef enum {
    NGX_HTTP_DOUYIN_CALL_SUBMIT = 0,    /* provider: submit a task */
    NGX_HTTP_DOUYIN_CALL_QUERY,         /* provider: query a task */
    NGX_HTTP_DOUYIN_CALL_RESULT,        /* provider: download a result */
    NGX_HTTP_DOUYIN_CALL_LIST,          /* file-system-go: list WAVs */
    NGX_HTTP_DOUYIN_CALL_METADATA,      /* file-system-go: metadata */
    NGX_HTTP_DOUYIN_CALL_MARK_READ,     /* file-system-go: mark read */
    NGX_HTTP_DOUYIN_CALL_DELETE,        /* file-system-go: delete a WAV */
    NGX_HTTP_DOUYIN_CALL_N
} ngx_http_douyin_call_e;

#define NGX_HTTP_DOUYIN_CALL_PROVIDER_N  3


/* the outcome label of a call */

typedef enum {
    NGX_HTTP_DOUYIN_OUT_2XX = 0,
    NGX_HTTP_DOUYIN_OUT_3XX,
    NGX_HTTP_DOUYIN_OUT_4XX,            /* other than 429 */
    NGX_HTTP_DOUYIN_OUT_429,
    NGX_HTTP_DOUYIN_OUT_5XX,
    NGX_HTTP_DOUYIN_OUT_ERROR,          /* no HTTP answer: transport error */
    NGX_HTTP_DOUYIN_OUT_TIMEOUT,        /* no HTTP answer in time */
    NGX_HTTP_DOUYIN_OUT_N
} ngx_http_douyin_outcome_e;


/* the step of a batch that is retried after a backoff */

typedef enum {
    NGX_HTTP_DOUYIN_RETRY_SUBMIT = 0,
    NGX_HTTP_DOUYIN_RETRY_POLL,
    NGX_HTTP_DOUYIN_RETRY_FAIL,         /* storing failed outcomes */
    NGX_HTTP_DOUYIN_RETRY_N
} ngx_http_douyin_retry_e;


/* the failure codes counted by name; any other one is "OTHER" */

#define NGX_HTTP_DOUYIN_FAIL_CODES_N     36

/* thread operations: as ngx_http_douyin_op_e */

#define NGX_HTTP_DOUYIN_OPS_N            15

/* histogram buckets (upper bounds in ms) */

#define NGX_HTTP_DOUYIN_VIDEO_BUCKETS_N  14
#define NGX_HTTP_DOUYIN_OP_BUCKETS_N     12


/*
 * Counter words of the zone, by index.  A labelled family takes one
 * word per label value (per pair of values for two labels); a histogram
 * takes one word per bucket (observations up to that bound and above
 * the previous one), then its sum in ms and its count.
 */

#define NGX_HTTP_DOUYIN_M_CLAIMED       0
#define NGX_HTTP_DOUYIN_M_RESUMED       1
#define NGX_HTTP_DOUYIN_M_COMPLETED     2
#define NGX_HTTP_DOUYIN_M_FAILED        3
#define NGX_HTTP_DOUYIN_M_CALLS                                               \
    (NGX_HTTP_DOUYIN_M_FAILED + NGX_HTTP_DOUYIN_FAIL_CODES_N + 1)
#define NGX_HTTP_DOUYIN_M_RETRIES                                             \
    (NGX_HTTP_DOUYIN_M_CALLS + NGX_HTTP_DOUYIN_CALL_N * NGX_HTTP_DOUYIN_OUT_N)
#define NGX_HTTP_DOUYIN_M_RATE_WAITS                                          \
    (NGX_HTTP_DOUYIN_M_RETRIES + NGX_HTTP_DOUYIN_RETRY_N)
#define NGX_HTTP_DOUYIN_M_RATE_WAIT_MS  (NGX_HTTP_DOUYIN_M_RATE_WAITS + 2)
#define NGX_HTTP_DOUYIN_M_BILLED_MS     (NGX_HTTP_DOUYIN_M_RATE_WAIT_MS + 2)
#define NGX_HTTP_DOUYIN_M_OPS_POSTED    (NGX_HTTP_DOUYIN_M_BILLED_MS + 1)
#define NGX_HTTP_DOUYIN_M_VIDEO_HIST                                          \
    (NGX_HTTP_DOUYIN_M_OPS_POSTED + NGX_HTTP_DOUYIN_OPS_N)
#define NGX_HTTP_DOUYIN_M_TASK_HIST                                           \
    (NGX_HTTP_DOUYIN_M_VIDEO_HIST + NGX_HTTP_DOUYIN_VIDEO_BUCKETS_N + 2)
#define NGX_HTTP_DOUYIN_M_OP_HIST                                             \
    (NGX_HTTP_DOUYIN_M_TASK_HIST + NGX_HTTP_DOUYIN_VIDEO_BUCKETS_N + 2)
#define NGX_HTTP_DOUYIN_M_N                                                   \
    (NGX_HTTP_DOUYIN_M_OP_HIST                                                \
     + NGX_HTTP_DOUYIN_OPS_N * (NGX_HTTP_DOUYIN_OP_BUCKETS_N + 2))


/* histograms */

#define NGX_HTTP_DOUYIN_H_VIDEO         0   /* claim to stored outcome */
#define NGX_HTTP_DOUYIN_H_TASK          1   /* provider task, submit to end */
#define NGX_HTTP_DOUYIN_H_OP            2   /* thread op run time, by op */
#define NGX_HTTP_DOUYIN_H_N             3


/* per-process gauges, by index */

#define NGX_HTTP_DOUYIN_G_INFLIGHT      0   /* videos in batches */
#define NGX_HTTP_DOUYIN_G_QUEUED        1   /* claimed, waiting for room */
#define NGX_HTTP_DOUYIN_G_OPS_RUNNING   2   /* thread ops running now */
#define NGX_HTTP_DOUYIN_G_N             3

/* processes that may count at once: old and new workers on a reload */
#define NGX_HTTP_DOUYIN_METRICS_PROCS   256


struct ngx_http_douyin_metrics_proc_s {
    ngx_atomic_t                pid;        /* 0: free */
    ngx_atomic_t                gauge[NGX_HTTP_DOUYIN_G_N];
};


typedef struct {
    ngx_atomic_t                counter[NGX_HTTP_DOUYIN_M_N];

    /* the last file-system-go listing, of whichever worker fetched it */
    ngx_atomic_t                listing_total;
    ngx_atomic_t                listing_pending;
    ngx_atomic_t                listing_fetched_at;     /* Unix s, 0: none */

    ngx_http_douyin_metrics_proc_t  proc[NGX_HTTP_DOUYIN_METRICS_PROCS];
} ngx_http_douyin_metrics_sh_t;


ngx_int_t ngx_http_douyin_metrics_add_zone(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf);
ngx_int_t ngx_http_douyin_metrics_init_process(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
void ngx_http_douyin_metrics_exit_process(ngx_http_douyin_main_conf_t *dmcf);
ngx_int_t ngx_http_douyin_metrics_handler(ngx_http_request_t *r);

void ngx_http_douyin_metrics_call(ngx_http_douyin_main_conf_t *dmcf,
    ngx_http_douyin_call_e kind, long status, ngx_uint_t timedout);
void ngx_http_douyin_metrics_observe(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t hist, ngx_uint_t label, uint64_t us);
void ngx_http_douyin_metrics_video_end(ngx_http_douyin_main_conf_t *dmcf,
    ngx_http_douyin_item_t *item);
void ngx_http_douyin_metrics_rate_wait(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query, ngx_msec_t delay);
void ngx_http_douyin_metrics_billed(ngx_http_douyin_main_conf_t *dmcf,
    double seconds);
void ngx_http_douyin_metrics_listing(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t total, ngx_uint_t pending, time_t fetched_at);
void ngx_http_douyin_metrics_op_run(ngx_http_douyin_op_t *op,
    struct timespec *start);


/*
 * ngx_http_douyin_metric_add: adds n to the counter word m (an
 * NGX_HTTP_DOUYIN_M_* index plus a label offset).  Any thread of any
 * worker; nothing happens when the module runs without a zone (no
 * douyin_store).
 */

static ngx_inline void
ngx_http_douyin_metric_add(ngx_http_douyin_main_conf_t *dmcf, ngx_uint_t m,
    ngx_atomic_int_t n)
{
    ngx_http_douyin_metrics_sh_t  *sh;

    if (dmcf->metrics_zone == NULL || m >= NGX_HTTP_DOUYIN_M_N) {
        return;
    }

    sh = dmcf->metrics_zone->data;

    (void) ngx_atomic_fetch_add(&sh->counter[m], n);
}


/*
 * ngx_http_douyin_gauge_add: adds n (may be negative) to this process's
 * gauge g (NGX_HTTP_DOUYIN_G_*).  Any thread of the process, after its
 * init_process.
 */

static ngx_inline void
ngx_http_douyin_gauge_add(ngx_http_douyin_main_conf_t *dmcf, ngx_uint_t g,
    ngx_atomic_int_t n)
{
    if (dmcf->metrics_proc == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&dmcf->metrics_proc->gauge[g], n);
}


#endif /* _NGX_HTTP_DOUYIN_METRICS_H_INCLUDED_ */


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the shared memory zone "douyin_asr_rate".
 *
 * It holds, for all worker processes of one nginx, the provider's
 * per-account request rates (DashScope: "rate limits are per Alibaba
 * Cloud main account, summed over all keys", as DashScope's
 * documentation of rate limits says), per kind (submit, query), in two
 * steps that book nothing ahead:
 *
 *   - admission (event loop): a worker's waiting requests queue in the
 *     worker (ngx_http_douyin_runner.c); the head of its queue asks the
 *     zone, which admits it when the previous admission of any worker is
 *     one interval old, and else says how long to wait.  A worker that
 *     exits (reload, quit, crash) leaves at most one interval behind it,
 *     never the slots of all the videos it had queued;
 *   - pacing (thread): right before an admitted request leaves, once its
 *     connection is made, the thread that sends it waits until one
 *     interval has passed since the previous request of that kind left,
 *     from any process.  The spacing is thus measured where requests go
 *     out, on a fresh clock, not where they were admitted: a request that
 *     waited in the thread pool's queue cannot bunch with the next one.
 *
 * The interval is 1050/R ms for R requests per second (5 % wider, to
 * absorb what happens between leaving and arriving), so that no 1 s
 * window at the provider sees more than R requests.
 *
 * Also the init of every zone of ours (ngx_http_douyin_zone_init()),
 * which "douyin_metrics" shares.
 */


#include "ngx_http_douyin_module.h"


/*
 * nothing is booked further ahead than about one interval: a time further
 * than this is from a clock that jumped, and is not waited for
 */
#define NGX_HTTP_DOUYIN_RATE_GUARD  60000


typedef struct {
    ngx_msec_t                  tat[2];         /* next admission, submit
                                                   and query, the event
                                                   loop's clock */
    ngx_msec_t                  sent[2];        /* earliest next send, the
                                                   threads' clock */
} ngx_http_douyin_shctx_t;


static ngx_msec_t ngx_http_douyin_rate_interval(
    ngx_http_douyin_main_conf_t *dmcf, ngx_uint_t query);
static ngx_msec_t ngx_http_douyin_rate_clock(void);


/*
 * ngx_http_douyin_rate_init_zone: the zone's init handler; keeps the
 * state of the previous cycle on reload.
 */

ngx_int_t
ngx_http_douyin_rate_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    return ngx_http_douyin_zone_init(shm_zone, data,
                                     sizeof(ngx_http_douyin_shctx_t));
}


/*
 * ngx_http_douyin_zone_init: for a zone's init handler: the zone's state,
 * size bytes, into shm_zone->data: the previous cycle's (data) on reload,
 * the one in the slab pool when the memory exists already, else a new
 * zeroed one.  Returns NGX_OK or NGX_ERROR.
 */

ngx_int_t
ngx_http_douyin_zone_init(ngx_shm_zone_t *shm_zone, void *data, size_t size)
{
    void             *sh;
    ngx_slab_pool_t  *shpool;

    if (data != NULL) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/* the spacing of a kind in ms, 0: no limit */

static ngx_msec_t
ngx_http_douyin_rate_interval(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query)
{
    ngx_uint_t  rate;

    rate = query ? dmcf->query_rate : dmcf->submit_rate;

    if (rate == 0 || dmcf->rate_zone == NULL) {
        return 0;
    }

    /* rate is per 1000 s; 1050000 / rate is the spacing in ms */

    return 1050000 / rate;
}


/*
 * ngx_http_douyin_rate_admit: asks whether one provider request of a
 * kind (query = 0: submit, 1: query) may be posted to a thread now.
 * Returns 0 when it may (the admission is taken: the next one comes one
 * interval later), else the delay in ms after which to ask again; then
 * nothing is booked.  A rate of 0 means no limit.  Event loop: a worker
 * asks for the head of its queue of waiting requests only.
 */

ngx_msec_t
ngx_http_douyin_rate_admit(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query)
{
    ngx_msec_t                now, wait, interval;
    ngx_slab_pool_t          *shpool;
    ngx_http_douyin_shctx_t  *sh;

    interval = ngx_http_douyin_rate_interval(dmcf, query);

    if (interval == 0) {
        return 0;
    }

    shpool = (ngx_slab_pool_t *) dmcf->rate_zone->shm.addr;
    sh = dmcf->rate_zone->data;

    now = ngx_current_msec;

    ngx_shmtx_lock(&shpool->mutex);

    wait = sh->tat[query] - now;

    /*
     * wait can exceed one interval a little: another worker's cached
     * clock may be ahead of ours by what its event loop iteration took
     */

    if ((ngx_msec_int_t) wait > 0 && wait <= NGX_HTTP_DOUYIN_RATE_GUARD) {
        ngx_shmtx_unlock(&shpool->mutex);
        return wait;
    }

    sh->tat[query] = now + interval;

    ngx_shmtx_unlock(&shpool->mutex);

    return 0;
}


/*
 * ngx_http_douyin_rate_pace: called by a thread right before an admitted
 * provider request of a kind leaves (libcurl's pre-request callback):
 * sleeps until one interval after the previous request of that kind left
 * from any process (at most one interval or so: admissions are spaced
 * as much), then notes this one.  Thread side.
 */

void
ngx_http_douyin_rate_pace(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query)
{
    ngx_msec_t                now, at, wait, interval;
    ngx_slab_pool_t          *shpool;
    ngx_http_douyin_shctx_t  *sh;

    interval = ngx_http_douyin_rate_interval(dmcf, query);

    if (interval == 0) {
        return;
    }

    shpool = (ngx_slab_pool_t *) dmcf->rate_zone->shm.addr;
    sh = dmcf->rate_zone->data;

    now = ngx_http_douyin_rate_clock();

    ngx_shmtx_lock(&shpool->mutex);

    at = sh->sent[query];

    if ((ngx_msec_int_t) (at - now) <= 0
        || at - now > NGX_HTTP_DOUYIN_RATE_GUARD)
    {
        at = now;
    }

    sh->sent[query] = at + interval;

    ngx_shmtx_unlock(&shpool->mutex);

    if (at != now) {
        wait = at - now;        /* ngx_msleep() does not bracket its arg */
        ngx_msleep(wait);
    }
}


/* CLOCK_MONOTONIC in ms: system-wide, so comparable across processes */

static ngx_msec_t
ngx_http_douyin_rate_clock(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

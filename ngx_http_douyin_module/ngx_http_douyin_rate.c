
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the shared memory zone "douyin_asr_rate".
 *
 * It holds, for all worker processes of one nginx, the provider's
 * per-account request rates (DashScope: "rate limits are per Alibaba
 * Cloud main account, summed over all keys", as DashScope's
 * documentation of rate limits says), as one theoretical arrival time
 * per kind (submit, query), in the manner of limit_req but with
 * reservations: a caller gets the delay after which its request may go,
 * and requests queue for their turn instead of being refused.
 *
 * Also the init of every zone of ours (ngx_http_douyin_zone_init()),
 * which "douyin_metrics" shares.
 */


#include "ngx_http_douyin_module.h"


typedef struct {
    ngx_msec_t                  tat[2];         /* submit, query */
} ngx_http_douyin_shctx_t;


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


/*
 * ngx_http_douyin_rate_reserve: reserves the next slot for one provider
 * request of a kind (query = 0: submit, 1: query) and returns the delay
 * in ms after which it may be sent (0: now).  Slots are spaced 1000/R ms
 * apart plus 5 % to absorb timer and network jitter, so that no 1 s
 * window ever sees more than R requests.  A rate of 0 means no limit.
 * Event loop.
 */

ngx_msec_t
ngx_http_douyin_rate_reserve(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query)
{
    ngx_uint_t                rate;
    ngx_msec_t                now, slot, interval;
    ngx_slab_pool_t          *shpool;
    ngx_http_douyin_shctx_t  *sh;

    rate = query ? dmcf->query_rate : dmcf->submit_rate;

    if (rate == 0 || dmcf->rate_zone == NULL) {
        return 0;
    }

    /* rate is per 1000 s; 1050000 / rate is the spacing in ms */

    interval = 1050000 / rate;

    shpool = (ngx_slab_pool_t *) dmcf->rate_zone->shm.addr;
    sh = dmcf->rate_zone->data;

    now = ngx_current_msec;

    ngx_shmtx_lock(&shpool->mutex);

    slot = ((ngx_msec_int_t) (sh->tat[query] - now) > 0) ? sh->tat[query]
                                                          : now;
    sh->tat[query] = slot + interval;

    ngx_shmtx_unlock(&shpool->mutex);

    return slot - now;
}

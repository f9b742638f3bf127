
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the per-worker listing cache (event loop).
 *
 * The file-system-go listing behind stats.total, stats.pending and
 * status=pending: the WAVs listed and which of them have no record yet.
 * It is kept for douyin_listing_cache; a request that needs it after that
 * waits (a waiter) while one OP_LISTING thread op refreshes it for all.
 * A process call refreshes it too (every listed video has a record once
 * claimed), and a delete makes it stale.
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


typedef struct {
    ngx_queue_t                 queue;
    ngx_http_request_t         *request;
    ngx_http_douyin_listing_pt  handler;
    ngx_http_douyin_runner_t   *runner;
} ngx_http_douyin_waiter_t;


static ngx_int_t ngx_http_douyin_listing_refresh(
    ngx_http_douyin_runner_t *runner);
static void ngx_http_douyin_listing_done(ngx_event_t *ev);
static void ngx_http_douyin_listing_store(ngx_http_douyin_runner_t *runner,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_listing_answer(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler);
static void ngx_http_douyin_waiter_cleanup(void *data);




/*
 * ngx_http_douyin_listing_wait: calls handler(r) once the cached listing
 * is fresh (at once when it is; a stale listing is used when a refresh
 * fails), and the handler finalizes r; when file-system-go failed and
 * nothing is cached, answers 502 instead.  Returns NGX_DONE.
 */

ngx_int_t
ngx_http_douyin_listing_wait(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_douyin_waiter_t    *w;
    ngx_http_douyin_listing_t   *listing;

    listing = &runner->listing;

    r->main->count++;

    if (listing->fetched_at != 0
        && ngx_current_msec - listing->fetched
           < runner->conf->listing_cache)
    {
        handler(r);
        return NGX_DONE;
    }

    w = ngx_palloc(r->pool, sizeof(ngx_http_douyin_waiter_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (w == NULL || cln == NULL) {
        r->main->count--;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->request = r;
    w->handler = handler;
    w->runner = runner;

    cln->handler = ngx_http_douyin_waiter_cleanup;
    cln->data = w;

    ngx_queue_insert_tail(&listing->waiters, &w->queue);

    if (ngx_http_douyin_listing_refresh(runner) != NGX_OK) {
        ngx_queue_remove(&w->queue);
        cln->handler = NULL;
        ngx_http_douyin_listing_answer(r, runner, handler);
    }

    return NGX_DONE;
}


/*
 * Posts the OP_LISTING thread op, unless it is on its way already.
 * Returns NGX_OK, or NGX_ERROR when it cannot be posted.
 */

static ngx_int_t
ngx_http_douyin_listing_refresh(ngx_http_douyin_runner_t *runner)
{
    ngx_http_douyin_op_t       *op;
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    if (listing->task == NULL) {
        listing->task = ngx_thread_task_alloc(ngx_cycle->pool,
                                              sizeof(ngx_http_douyin_op_t));
        if (listing->task == NULL) {
            return NGX_ERROR;
        }

        listing->task->handler = ngx_http_douyin_op_handler;
        listing->task->event.handler = ngx_http_douyin_listing_done;
        listing->task->event.data = runner;
        listing->task->event.log = runner->log;
    }

    if (listing->task->event.active) {
        return NGX_OK;            /* a refresh is on its way */
    }

    op = listing->task->ctx;
    ngx_memzero(op, sizeof(ngx_http_douyin_op_t));

    op->op = NGX_HTTP_DOUYIN_OP_LISTING;
    op->conf = runner->conf;
    op->store = &runner->store;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin listing refresh");

    return ngx_http_douyin_task_post(runner->conf->thread_pool,
                                     listing->task);
}


/* the OP_LISTING op is done: keep what it found, answer the waiters */

static void
ngx_http_douyin_listing_done(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_queue_t                *q;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_douyin_op_t       *op;
    ngx_http_douyin_waiter_t   *w;
    ngx_http_douyin_listing_t  *listing;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    listing = &runner->listing;
    op = listing->task->ctx;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin listing done, rc %ui", (ngx_uint_t) op->rc);

    if (op->rc == NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_http_douyin_listing_store(runner, op);

    } else {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0, "douyin: %s: %s",
                      op->code, op->detail);
    }

    ngx_http_douyin_op_free(op);

    while (!ngx_queue_empty(&listing->waiters)) {
        q = ngx_queue_head(&listing->waiters);
        w = ngx_queue_data(q, ngx_http_douyin_waiter_t, queue);
        ngx_queue_remove(q);

        /* the cleanup sees a removed waiter as done */
        ngx_queue_init(q);

        r = w->request;
        c = r->connection;

        ngx_http_set_log_request(c->log, r);
        ngx_http_douyin_listing_answer(r, runner, w->handler);
        ngx_http_run_posted_requests(c);
    }
}


/* caches the ids of the op's items: the listed videos without record */

static void
ngx_http_douyin_listing_store(ngx_http_douyin_runner_t *runner,
    ngx_http_douyin_op_t *op)
{
    ngx_uint_t                  i;
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    ngx_http_douyin_listing_free(listing);

    listing->pending = ngx_alloc(ngx_max(op->nitems, 1)
                                 * sizeof(*listing->pending), runner->log);
    if (listing->pending == NULL) {
        return;
    }

    /* items come sorted by id, descending */

    for (i = 0; i < op->nitems; i++) {
        ngx_memcpy(listing->pending[i], op->items[i].aweme_id,
                   sizeof(op->items[i].aweme_id));
    }

    /* tombstones are not counted, though their WAV may be listed */

    listing->npending = op->nitems;
    listing->total = op->u.listing.listed - op->u.listing.deleted;
    listing->fetched = ngx_current_msec;
    listing->fetched_at = ngx_time();

    ngx_http_douyin_metrics_listing(runner->conf, listing->total,
                                    listing->npending, listing->fetched_at);
}


/* r's answer: handler(r) when a listing is cached, else 502 */

static void
ngx_http_douyin_listing_answer(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler)
{
    if (runner->listing.fetched_at != 0) {
        handler(r);
        return;
    }

    ngx_http_finalize_request(r,
                   ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_LISTING));
}


/* the request is gone before the listing came: forget it */

static void
ngx_http_douyin_waiter_cleanup(void *data)
{
    ngx_http_douyin_waiter_t *w = data;

    if (w->queue.next != NULL && w->queue.next != &w->queue) {
        ngx_queue_remove(&w->queue);
        ngx_queue_init(&w->queue);
    }
}


/*
 * ngx_http_douyin_listing_update: fresh = 1: a listing of "total" WAVs
 * was just fetched and every one of them has a record now (a process
 * call claimed them), so the cache becomes fresh with no pending video;
 * fresh = 0: the cache is stale (a delete), the next use refreshes it.
 */

void
ngx_http_douyin_listing_update(ngx_http_douyin_runner_t *runner,
    ngx_uint_t fresh, ngx_uint_t total)
{
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    if (!fresh) {
        listing->fetched = ngx_current_msec - runner->conf->listing_cache
                           - 1;
        return;
    }

    ngx_http_douyin_listing_free(listing);

    listing->total = total;
    listing->fetched = ngx_current_msec;
    listing->fetched_at = ngx_time();

    ngx_http_douyin_metrics_listing(runner->conf, total, 0,
                                    listing->fetched_at);
}


/* ngx_http_douyin_listing_free: frees the cached pending ids */

void
ngx_http_douyin_listing_free(ngx_http_douyin_listing_t *listing)
{
    if (listing->pending != NULL) {
        ngx_free(listing->pending);
        listing->pending = NULL;
    }

    listing->npending = 0;
}

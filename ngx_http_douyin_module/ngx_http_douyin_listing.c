
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
static void ngx_http_douyin_listing_name(ngx_http_douyin_listing_t *listing,
    ngx_uint_t i, u_char *name);




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
    char                       *ext;
    ngx_uint_t                  i;
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    ngx_http_douyin_listing_free(listing);

    listing->pending = ngx_alloc(ngx_max(op->nitems, 1)
                                 * sizeof(*listing->pending), runner->log);
    listing->upper = ngx_alloc(ngx_max(op->nitems, 1), runner->log);

    if (listing->pending == NULL || listing->upper == NULL) {
        ngx_http_douyin_listing_free(listing);
        return;
    }

    /* items come sorted by id, descending */

    for (i = 0; i < op->nitems; i++) {
        ngx_memcpy(listing->pending[i], op->items[i].aweme_id,
                   sizeof(op->items[i].aweme_id));

        /* "<id>.WAV": the file's own name, for its audio_url */

        ext = op->items[i].filename + ngx_strlen(op->items[i].aweme_id) + 1;

        listing->upper[i] = (ext[0] == 'W') | (ext[1] == 'A') << 1
                            | (ext[2] == 'V') << 2;
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

    if (listing->upper != NULL) {
        ngx_free(listing->upper);
        listing->upper = NULL;
    }

    listing->npending = 0;
}


/*
 * ngx_http_douyin_listing_record: what stands for the record of the i-th
 * pending video (listed, no record) in ngx_http_douyin_video_item(): NULL
 * when its file is "<id>.wav", which a video without record is taken
 * for; else a new {"status":"pending","filename":"<id>.WAV"} with the
 * name as listed (the caller deletes it), so that its audio_url names
 * the file that is there.  NULL too when out of memory.
 */

cJSON *
ngx_http_douyin_listing_record(ngx_http_douyin_listing_t *listing,
    ngx_uint_t i)
{
    u_char  name[NGX_HTTP_DOUYIN_ID_MAX + sizeof(".wav")];
    cJSON  *rec;

    if (listing->upper == NULL || listing->upper[i] == 0) {
        return NULL;
    }

    ngx_http_douyin_listing_name(listing, i, name);

    rec = cJSON_CreateObject();

    if (cJSON_AddStringToObject(rec, "status", "pending") == NULL
        || cJSON_AddStringToObject(rec, "filename", (char *) name) == NULL)
    {
        cJSON_Delete(rec);
        return NULL;
    }

    return rec;
}


/*
 * ngx_http_douyin_listing_file: the file name of the video id when the
 * cached listing has it pending under another name than "<id>.wav"
 * ("<id>.WAV"), into name (NGX_HTTP_DOUYIN_ID_MAX + 5 bytes at least):
 * NGX_OK; else NGX_DECLINED.  For the calls to file-system-go about a
 * video without record (a delete).
 */

ngx_int_t
ngx_http_douyin_listing_file(ngx_http_douyin_listing_t *listing,
    const char *id, u_char *name)
{
    ngx_uint_t  i;

    if (listing->upper == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < listing->npending; i++) {
        if (ngx_strcmp(listing->pending[i], id) == 0) {
            if (listing->upper[i] == 0) {
                return NGX_DECLINED;
            }

            ngx_http_douyin_listing_name(listing, i, name);
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* "<id>.wav" of the i-th pending video, its letters' case as listed */

static void
ngx_http_douyin_listing_name(ngx_http_douyin_listing_t *listing,
    ngx_uint_t i, u_char *name)
{
    u_char  *p;

    p = ngx_cpymem(name, listing->pending[i], ngx_strlen(listing->pending[i]));

    *p++ = '.';
    *p++ = (listing->upper[i] & 1) ? 'W' : 'w';
    *p++ = (listing->upper[i] & 2) ? 'A' : 'a';
    *p++ = (listing->upper[i] & 4) ? 'V' : 'v';
    *p = '\0';
}

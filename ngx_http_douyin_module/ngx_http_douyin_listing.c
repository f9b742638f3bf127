
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the per-worker listing cache (event loop).
 *
 * The file-system-go listing behind stats.total, stats.pending and
 * status=pending: the WAVs listed and which of them have no record yet.
 * Listing 100k files takes a second or more, so no request waits for it
 * once a listing is cached: a listing older than douyin_listing_cache is
 * still used (stats say its age, listing_age) while one OP_LISTING thread
 * op refreshes it for all (stale-while-revalidate).  Only the very first
 * listing of a worker is waited for (a waiter), as there is nothing to
 * answer with; and a delete, whose answer must show in the stats that
 * follow it, waits for a listing taken after it when the cache cannot be
 * corrected in place (ngx_http_douyin_listing_renew()).
 *
 * A change this worker makes to what the listing says is applied to the
 * cache at once where it is known exactly (a push or a delete of a listed
 * video without record: ngx_http_douyin_listing_recorded(); a process
 * call: every listed video has a record); a refresh in flight then may
 * have read the store before the change, so the next use lists again.
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


typedef struct {
    ngx_queue_t                 queue;
    ngx_http_request_t         *request;
    ngx_http_douyin_listing_pt  handler;
    ngx_http_douyin_runner_t   *runner;
    ngx_uint_t                  need;           /* answered by the end of
                                                   refresh number >= need */
} ngx_http_douyin_waiter_t;


static ngx_int_t ngx_http_douyin_listing_queue(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler,
    ngx_uint_t need);
static ngx_int_t ngx_http_douyin_listing_refresh(
    ngx_http_douyin_runner_t *runner);
static void ngx_http_douyin_listing_done(ngx_event_t *ev);
static void ngx_http_douyin_listing_answer_waiters(
    ngx_http_douyin_runner_t *runner, ngx_uint_t upto);
static ngx_int_t ngx_http_douyin_listing_store(
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_op_t *op);
static void ngx_http_douyin_listing_answer(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler);
static void ngx_http_douyin_waiter_cleanup(void *data);
static void ngx_http_douyin_listing_name(ngx_http_douyin_listing_t *listing,
    ngx_uint_t i, u_char *name);




/*
 * ngx_http_douyin_listing_wait: calls handler(r), and the handler
 * finalizes r: at once when a listing is cached (one older than
 * douyin_listing_cache, or made stale by a change, is used all the same
 * and refreshed meanwhile); else once the first listing has come, or 502
 * when file-system-go failed.  Returns NGX_DONE (r->main->count is held
 * until the handler's finalize), or a status code to finalize r with.
 */

ngx_int_t
ngx_http_douyin_listing_wait(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler)
{
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    if (listing->fetched_at == 0) {
        /* any refresh's end will do: the first is #1 */
        return ngx_http_douyin_listing_queue(r, runner, handler, 1);
    }

    if (listing->stale
        || ngx_current_msec - listing->fetched >= runner->conf->listing_cache)
    {
        /* a failure is logged; the cached listing serves meanwhile */
        (void) ngx_http_douyin_listing_refresh(runner);
    }

    r->main->count++;

    handler(r);

    return NGX_DONE;
}


/*
 * ngx_http_douyin_listing_renew: calls handler(r) once a listing taken
 * after this call is cached (a refresh on its way may have read
 * file-system-go or the store before a change r made or needs to see),
 * or with the cached one when that refresh fails, or 502 when none is
 * cached; the handler finalizes r.  Returns as
 * ngx_http_douyin_listing_wait() does.
 */

ngx_int_t
ngx_http_douyin_listing_renew(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler)
{
    return ngx_http_douyin_listing_queue(r, runner, handler,
                                         runner->listing.posted + 1);
}


/* r waits for the end of refresh number "need" or a later one */

static ngx_int_t
ngx_http_douyin_listing_queue(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler,
    ngx_uint_t need)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_douyin_waiter_t  *w;

    w = ngx_palloc(r->pool, sizeof(ngx_http_douyin_waiter_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (w == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    w->request = r;
    w->handler = handler;
    w->runner = runner;
    w->need = need;

    cln->handler = ngx_http_douyin_waiter_cleanup;
    cln->data = w;

    ngx_queue_insert_tail(&runner->listing.waiters, &w->queue);

    /*
     * a refresh on its way posted before r came ends with a new one
     * posted for r (ngx_http_douyin_listing_done())
     */

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

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin listing refresh #%ui", listing->posted + 1);

    if (ngx_http_douyin_task_post(runner->conf->thread_pool, listing->task)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    listing->posted++;

    return NGX_OK;
}


/*
 * the OP_LISTING op is done: keep what it found (and list again at the
 * next use when this worker changed a record meanwhile), answer the
 * waiters it was for, and post another refresh for those it was not
 */

static void
ngx_http_douyin_listing_done(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_int_t                   rc;
    ngx_uint_t                  done;
    ngx_http_douyin_op_t       *op;
    ngx_http_douyin_listing_t  *listing;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    listing = &runner->listing;
    op = listing->task->ctx;
    done = listing->posted;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin listing #%ui done, rc %ui",
                   done, (ngx_uint_t) op->rc);

    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {

        /* the waiters get the cached listing, or a 502 without one */

        ngx_log_error(NGX_LOG_ERR, runner->log, 0, "douyin: %s: %s",
                      op->code, op->detail);

    } else {
        rc = ngx_http_douyin_listing_store(runner, op);

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, runner->log, 0,
                          "douyin: no memory for the listing of %ui "
                          "files: the previous one is kept",
                          (ngx_uint_t) op->nitems);

        } else if (done <= listing->changed) {

            /*
             * it may have read the store before a change this worker
             * made meanwhile: it is kept (dropping it would let changes
             * that come faster than a listing keep the cache old
             * forever), and the next use lists again
             */

            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                           "douyin listing changed meanwhile");

            listing->stale = 1;
        }
    }

    ngx_http_douyin_op_free(op);

    ngx_http_douyin_listing_answer_waiters(runner, done);

    if (ngx_queue_empty(&listing->waiters)) {
        return;
    }

    /* waiters that came after this refresh was posted */

    if (ngx_http_douyin_listing_refresh(runner) != NGX_OK) {
        ngx_http_douyin_listing_answer_waiters(runner, (ngx_uint_t) -1);
    }
}


/* answers the waiters whose refresh is done: need <= upto */

static void
ngx_http_douyin_listing_answer_waiters(ngx_http_douyin_runner_t *runner,
    ngx_uint_t upto)
{
    ngx_queue_t                *q, *next, ready;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_douyin_waiter_t   *w;
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    ngx_queue_init(&ready);

    for (q = ngx_queue_head(&listing->waiters);
         q != ngx_queue_sentinel(&listing->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_douyin_waiter_t, queue);

        if (w->need <= upto) {
            ngx_queue_remove(q);
            ngx_queue_insert_tail(&ready, q);
        }
    }

    /*
     * one at a time from the head: a request that goes away meanwhile
     * takes itself out of "ready" (ngx_http_douyin_waiter_cleanup())
     */

    while (!ngx_queue_empty(&ready)) {
        q = ngx_queue_head(&ready);
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


/*
 * caches the ids of the op's items, the listed videos without record:
 * the new array is allocated before the old one is freed, so that an
 * allocation that fails leaves the previous listing whole.  Returns NGX_OK
 * or NGX_ERROR (nothing changed).
 */

static ngx_int_t
ngx_http_douyin_listing_store(ngx_http_douyin_runner_t *runner,
    ngx_http_douyin_op_t *op)
{
    char                       *ext;
    u_char                     *upper;
    char                      (*pending)[NGX_HTTP_DOUYIN_ID_MAX + 1];
    ngx_uint_t                  i;
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    pending = ngx_alloc(ngx_max(op->nitems, 1) * sizeof(*pending),
                        runner->log);
    if (pending == NULL) {
        return NGX_ERROR;
    }

    upper = ngx_alloc(ngx_max(op->nitems, 1), runner->log);
    if (upper == NULL) {
        ngx_free(pending);
        return NGX_ERROR;
    }

    /* items come sorted by id, descending */

    for (i = 0; i < op->nitems; i++) {
        ngx_memcpy(pending[i], op->items[i].aweme_id,
                   sizeof(op->items[i].aweme_id));

        /* "<id>.WAV": the file's own name, for its audio_url */

        ext = op->items[i].filename + ngx_strlen(op->items[i].aweme_id) + 1;

        upper[i] = (ext[0] == 'W') | (ext[1] == 'A') << 1
                   | (ext[2] == 'V') << 2;
    }

    ngx_http_douyin_listing_free(listing);

    listing->pending = pending;
    listing->upper = upper;

    /* tombstones are not counted, though their WAV may be listed */

    listing->npending = op->nitems;
    listing->total = op->u.listing.listed - op->u.listing.deleted;
    listing->fetched = ngx_current_msec;
    listing->fetched_at = ngx_time();
    listing->stale = 0;

    ngx_http_douyin_metrics_listing(runner->conf, listing->total,
                                    listing->npending, listing->fetched_at);

    return NGX_OK;
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
 * fresh = 0: the cache may be wrong now, it is refreshed at its next use
 * (which still answers from it).  Either way a refresh on its way is
 * followed by another at the next use: it may have read the store before
 * the change.
 */

void
ngx_http_douyin_listing_update(ngx_http_douyin_runner_t *runner,
    ngx_uint_t fresh, ngx_uint_t total)
{
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    listing->changed = listing->posted;

    if (!fresh) {
        listing->stale = 1;
        return;
    }

    ngx_http_douyin_listing_free(listing);

    listing->total = total;
    listing->fetched = ngx_current_msec;
    listing->fetched_at = ngx_time();
    listing->stale = 0;

    ngx_http_douyin_metrics_listing(runner->conf, total, 0,
                                    listing->fetched_at);
}


/*
 * ngx_http_douyin_listing_recorded: the video id has a record now (a
 * push, deleted = 0) or is a tombstone (a delete, deleted = 1).  When the
 * cached listing has it among the listed videos without record, it is
 * taken out of them, and out of total for a tombstone: the cache is then
 * exact again, NGX_OK.  NGX_DECLINED: it was not there, and whether its
 * WAV is in the listing is not known here (for a push, nothing changes).
 * A refresh on its way is followed by another at the next use.
 */

ngx_int_t
ngx_http_douyin_listing_recorded(ngx_http_douyin_runner_t *runner,
    const char *id, ngx_uint_t deleted)
{
    ngx_uint_t                  i;
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    listing->changed = listing->posted;

    for (i = 0; i < listing->npending; i++) {
        if (ngx_strcmp(listing->pending[i], id) == 0) {
            break;
        }
    }

    if (i == listing->npending) {
        return NGX_DECLINED;
    }

    ngx_memmove(listing->pending[i], listing->pending[i + 1],
                (listing->npending - i - 1) * sizeof(*listing->pending));

    if (listing->upper != NULL) {
        ngx_memmove(&listing->upper[i], &listing->upper[i + 1],
                    listing->npending - i - 1);
    }

    listing->npending--;

    if (deleted && listing->total > 0) {
        listing->total--;
    }

    ngx_http_douyin_metrics_listing(runner->conf, listing->total,
                                    listing->npending, listing->fetched_at);

    return NGX_OK;
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

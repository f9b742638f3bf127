
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the thread ops, the boundary between the event
 * loop and the thread pool.
 *
 * Event loop: ngx_http_douyin_task_post() posts a thread task with a
 * watchdog, ngx_http_douyin_task_timedout() is the first call of every
 * completion handler, ngx_http_douyin_op_free() frees what a thread
 * malloc()ed into an op.
 *
 * Thread: ngx_http_douyin_op_handler() runs one ngx_http_douyin_op_t:
 * the calls to file-system-go (ngx_http_douyin_fsgo.c) and DashScope
 * (ngx_http_douyin_dashscope.c), then the LMDB write transaction that
 * records the outcome (ngx_http_douyin_claim.c, ngx_http_douyin_store.c),
 * in that order: never a write transaction around network I/O.  It reads
 * the op's inputs and the (immutable) configuration, writes only the op's
 * outputs, uses malloc() and never logs.
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


#define NGX_HTTP_DOUYIN_WATCHDOG          60000


static void ngx_http_douyin_op_claim(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_submit(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_poll(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_failing(ngx_http_douyin_op_t *op,
    const char *message);
static void ngx_http_douyin_op_fail(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_recover(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_listing(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_read(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_delete(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_push(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_claim_pending(ngx_http_douyin_op_t *op);
static int ngx_libc_cdecl ngx_http_douyin_name_cmp(const void *one,
    const void *two);
static void ngx_http_douyin_op_lease(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_lease_end(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_expire_scan(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_expire(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_store_error(ngx_http_douyin_op_t *op,
    int err, const char *what);
static void ngx_http_douyin_op_stored(ngx_http_douyin_op_t *op, int err,
    const char *what);
static void ngx_http_douyin_store_outcome(ngx_http_douyin_op_t *op,
    cJSON **records);




/*
 * ngx_http_douyin_task_post: posts task to the pool tp with a watchdog
 * timer on its event (not cancelable: a worker that shuts down waits for
 * its threads, as for nginx's own thread tasks).  Returns what
 * ngx_thread_task_post() returns (NGX_ERROR: the queue is full, logged).
 */

ngx_int_t
ngx_http_douyin_task_post(ngx_thread_pool_t *tp, ngx_thread_task_t *task)
{
    ngx_http_douyin_op_t  *op;

    if (ngx_thread_task_post(tp, task) != NGX_OK) {
        return NGX_ERROR;
    }

    op = task->ctx;
    ngx_http_douyin_metric_add(op->conf, NGX_HTTP_DOUYIN_M_OPS_POSTED + op->op,
                               1);

    ngx_add_timer(&task->event, NGX_HTTP_DOUYIN_WATCHDOG);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, task->event.log, 0,
                   "douyin thread task #%ui posted", task->id);

    return NGX_OK;
}


/*
 * ngx_http_douyin_task_timedout: called first by every completion
 * handler; returns 1 when it is the watchdog that fired (the task is
 * still running: logged ALERT once, the handler returns and waits), 0
 * when the task is done (the watchdog is removed).
 */

ngx_int_t
ngx_http_douyin_task_timedout(ngx_event_t *ev)
{
    if (ev->timedout) {
        ev->timedout = 0;

        /*
         * ALERT once per run of the task: ev->delayed marks that it was
         * said (nginx uses no "delayed" flag on thread task events)
         */

        if (!ev->delayed) {
            ev->delayed = 1;
            ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                          "douyin: a thread task is still running after "
                          "%M ms", (ngx_msec_t) NGX_HTTP_DOUYIN_WATCHDOG);
        }

        ngx_add_timer(ev, NGX_HTTP_DOUYIN_WATCHDOG);
        return 1;
    }

    ev->delayed = 0;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "douyin thread task done");

    return 0;
}


/*
 * ngx_http_douyin_op_free: frees what the thread side malloc()ed into the
 * op (items and their strings, task ids, listed names) and the fields of
 * a push.  Event loop.
 */

void
ngx_http_douyin_op_free(ngx_http_douyin_op_t *op)
{
    ngx_uint_t  i;

    for (i = 0; i < op->nitems; i++) {
        free(op->items[i].file_url);
        free(op->items[i].filename);

        if (op->u.recover.task_ids != NULL) {
            free(op->u.recover.task_ids[i]);
        }
    }

    free(op->items);
    free(op->u.recover.task_ids);
    cJSON_Delete(op->u.lease.summary);

    for (i = 0; i < op->u.listing.nnames; i++) {
        free(op->u.listing.names[i].name);
        free(op->u.listing.names[i].url);
    }

    free(op->u.listing.names);
    cJSON_Delete(op->u.video.fields);

    op->u.lease.summary = NULL;
    op->items = NULL;
    op->u.recover.task_ids = NULL;
    op->nitems = 0;
    op->u.listing.names = NULL;
    op->u.listing.nnames = 0;
    op->u.video.fields = NULL;
}


/*
 * ngx_http_douyin_op_handler: the thread task handler of every op;
 * data is an ngx_http_douyin_op_t.  Sets op->rc and the op's outputs.
 * Runs in a thread.
 */

void
ngx_http_douyin_op_handler(void *data, ngx_log_t *log)
{
    ngx_http_douyin_op_t  *op = data;

    struct timespec        start;

    (void) clock_gettime(CLOCK_MONOTONIC, &start);
    ngx_http_douyin_gauge_add(op->conf, NGX_HTTP_DOUYIN_G_OPS_RUNNING, 1);

    op->rc = NGX_HTTP_DOUYIN_RC_ERROR;
    op->err = NGX_HTTP_DOUYIN_OK;
    op->http_status = 0;
    op->code[0] = '\0';
    op->detail[0] = '\0';
    op->key_rejected = 0;

    switch (op->op) {

    case NGX_HTTP_DOUYIN_OP_CLAIM:
        ngx_http_douyin_op_claim(op);
        break;

    case NGX_HTTP_DOUYIN_OP_SUBMIT:
        ngx_http_douyin_op_submit(op);
        break;

    case NGX_HTTP_DOUYIN_OP_POLL:
        ngx_http_douyin_op_poll(op);
        break;

    case NGX_HTTP_DOUYIN_OP_FAIL:
        ngx_http_douyin_op_fail(op);
        break;

    case NGX_HTTP_DOUYIN_OP_RECOVER:
        ngx_http_douyin_op_recover(op);
        break;

    case NGX_HTTP_DOUYIN_OP_LISTING:
        ngx_http_douyin_op_listing(op);
        break;

    case NGX_HTTP_DOUYIN_OP_READ:
        ngx_http_douyin_op_read(op);
        break;

    case NGX_HTTP_DOUYIN_OP_DELETE:
        ngx_http_douyin_op_delete(op);
        break;

    case NGX_HTTP_DOUYIN_OP_PUSH:
        ngx_http_douyin_op_push(op);
        break;

    case NGX_HTTP_DOUYIN_OP_CLAIM_PENDING:
        ngx_http_douyin_op_claim_pending(op);
        break;

    case NGX_HTTP_DOUYIN_OP_LEASE:
        ngx_http_douyin_op_lease(op);
        break;

    case NGX_HTTP_DOUYIN_OP_LEASE_END:
        ngx_http_douyin_op_lease_end(op);
        break;

    case NGX_HTTP_DOUYIN_OP_EXPIRE_SCAN:
        ngx_http_douyin_op_expire_scan(op);
        break;

    case NGX_HTTP_DOUYIN_OP_EXPIRE:
        ngx_http_douyin_op_expire(op);
        break;
    }

    ngx_http_douyin_metrics_op_run(op, &start);
    ngx_http_douyin_gauge_add(op->conf, NGX_HTTP_DOUYIN_G_OPS_RUNNING, -1);
}


/* OP_CLAIM: list file-system-go and claim what is to be transcribed */

static void
ngx_http_douyin_op_claim(ngx_http_douyin_op_t *op)
{
    int         err;
    ngx_uint_t  claimed, i;

    if (ngx_http_douyin_fsgo_list(op) != NGX_OK) {
        return;
    }

    if (op->nitems == 0) {
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    err = ngx_http_douyin_claim(op->store, op->items, op->nitems, &claimed,
                                &op->owner);
    if (err != 0) {
        ngx_http_douyin_op_store_error(op, err, "claiming videos");
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        op->u.listing.deleted += (op->items[i].outcome == NGX_HTTP_DOUYIN_DELETED);
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_CLAIM_PENDING (POST /api/process/pending): the listing, the pending
 * (pushed) records, and the claim of those whose audio_filename is
 * listed.  A pushed video whose file is not listed (yet) stays pending;
 * when the listing fails nothing is claimed and nothing changes (the
 * op's error).  op->items are the pending videos listed, with their
 * claim flags; op->u.listing.listed counts them.
 */

static void
ngx_http_douyin_op_claim_pending(ngx_http_douyin_op_t *op)
{
    int                      err;
    ngx_uint_t               i, k, claimed, np;
    ngx_http_douyin_name_t   key, *nm;
    ngx_http_douyin_item_t  *pending;

    if (ngx_http_douyin_fsgo_list(op) != NGX_OK) {
        return;
    }

    /* the "<aweme_id>.wav" items of the listing are not needed here */

    for (i = 0; i < op->nitems; i++) {
        free(op->items[i].file_url);
        free(op->items[i].filename);
    }

    free(op->items);
    op->items = NULL;
    op->nitems = 0;

    if (op->u.listing.nnames > 1) {
        ngx_qsort(op->u.listing.names, op->u.listing.nnames, sizeof(ngx_http_douyin_name_t),
                  ngx_http_douyin_name_cmp);
    }

    err = ngx_http_douyin_store_pending(op->store, (ngx_uint_t) -1,
                                        &pending, &np);
    if (err != 0) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_STORE);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "reading the pending videos failed: %s%Z",
                     mdb_strerror(err));
        return;
    }

    op->items = pending;
    op->nitems = np;

    for (i = 0, k = 0; i < np; i++) {
        key.name = pending[i].filename;

        nm = (op->u.listing.nnames > 0)
             ? bsearch(&key, op->u.listing.names, op->u.listing.nnames,
                       sizeof(ngx_http_douyin_name_t),
                       ngx_http_douyin_name_cmp)
             : NULL;

        if (nm == NULL) {
            free(pending[i].filename);      /* not listed (yet): stays */
            pending[i].filename = NULL;
            continue;
        }

        /* the listing's url is not escaped: a name may hold a space */

        pending[i].file_url = (nm->url != NULL)
            ? ngx_http_douyin_join(op->conf->audio_base_url.data, "",
                                   nm->url, NGX_ESCAPE_URI)
            : ngx_http_douyin_join(op->conf->audio_base_url.data,
                                   "/audio/", nm->name,
                                   NGX_ESCAPE_URI_COMPONENT);

        pending[k++] = pending[i];

        if (pending[k - 1].file_url == NULL) {
            for (i++; i < np; i++) {
                free(pending[i].filename);
            }

            op->nitems = k;
            ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
            return;
        }
    }

    op->nitems = k;
    op->u.listing.listed = k;

    if (k == 0) {
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    err = ngx_http_douyin_claim(op->store, op->items, op->nitems, &claimed,
                                &op->owner);
    if (err != 0) {
        ngx_http_douyin_op_store_error(op, err, "claiming videos");
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


static int ngx_libc_cdecl
ngx_http_douyin_name_cmp(const void *one, const void *two)
{
    const ngx_http_douyin_name_t  *a = one, *b = two;

    return ngx_strcmp(a->name, b->name);
}


/*
 * OP_SUBMIT: submit the items as one provider task, then store its
 * task_id with them (the task runs anyway when that fails: it is polled,
 * and op->detail says so)
 */

static void
ngx_http_douyin_op_submit(ngx_http_douyin_op_t *op)
{
    int          err;
    const char  *fail;

    switch (ngx_http_douyin_dashscope_submit(op, &fail)) {

    case NGX_AGAIN:
        return;

    case NGX_DECLINED:
        ngx_http_douyin_op_failing(op, fail);
        return;

    default: /* NGX_OK */
        break;
    }

    err = ngx_http_douyin_claim_set_task(op->store, op->items, op->nitems,
                                         op->u.batch.task_id, &op->owner);
    if (err != 0) {
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "storing task_id failed: %s%Z", mdb_strerror(err));
    }

    op->rc = NGX_HTTP_DOUYIN_RC_NEXT;
}


/*
 * OP_POLL: query the provider task.  PENDING and RUNNING give RC_NEXT.
 * Once it has ended, each item's record (its transcription fetched and
 * parsed, with its metadata from file-system-go, or its failure) is
 * stored, all in one write transaction.
 */

static void
ngx_http_douyin_op_poll(ngx_http_douyin_op_t *op)
{
    cJSON        *answer, **records;
    double        billed;
    ngx_int_t     rc;
    ngx_uint_t    i;
    const char   *fail;

    switch (ngx_http_douyin_dashscope_query(op, &answer, &fail)) {

    case NGX_HTTP_DOUYIN_TASK_RUNNING:
        op->rc = NGX_HTTP_DOUYIN_RC_NEXT;
        return;

    case NGX_HTTP_DOUYIN_TASK_RETRY:
        return;

    case NGX_HTTP_DOUYIN_TASK_FAIL:
        ngx_http_douyin_op_failing(op, fail);
        return;

    case NGX_HTTP_DOUYIN_TASK_ENDED:
        break;
    }

    records = calloc(op->nitems, sizeof(cJSON *));
    if (records == NULL) {
        cJSON_Delete(answer);
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        rc = ngx_http_douyin_dashscope_record(op, answer, &op->items[i],
                                              &records[i]);
        if (rc == NGX_AGAIN) {
            goto done;
        }

        if (rc == NGX_OK && records[i] != NULL) {
            ngx_http_douyin_fsgo_metadata(op, &op->items[i], records[i]);
        }
    }

    /* the task's billed seconds, shared out to its completed records */
    billed = ngx_http_douyin_dashscope_usage(answer, records, op->nitems);

    ngx_http_douyin_store_outcome(op, records);

    /* counted once, when stored: a failed write retries the whole step */

    if (op->rc == NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_http_douyin_metrics_billed(op->conf, billed);
    }

done:

    for (i = 0; i < op->nitems; i++) {
        cJSON_Delete(records[i]);
    }

    free(records);
    cJSON_Delete(answer);
}


/*
 * the provider refused the items, or answered what we cannot use: they
 * are to fail with op->code and message; the event loop logs why and
 * posts OP_FAIL (a submit is never resent)
 */

static void
ngx_http_douyin_op_failing(ngx_http_douyin_op_t *op, const char *message)
{
    ngx_http_douyin_set(op->u.batch.fail_code, sizeof(op->u.batch.fail_code), op->code);
    ngx_http_douyin_set(op->u.batch.fail_message, sizeof(op->u.batch.fail_message), message);

    op->rc = NGX_HTTP_DOUYIN_RC_FAIL;
}


/* OP_FAIL: every item fails with fail_code and fail_message */

static void
ngx_http_douyin_op_fail(ngx_http_douyin_op_t *op)
{
    cJSON       **records;
    ngx_uint_t    i;

    records = calloc(op->nitems ? op->nitems : 1, sizeof(cJSON *));
    if (records == NULL) {
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        records[i] = ngx_http_douyin_failed_record(op->u.batch.fail_code,
                                                   op->u.batch.fail_message);
    }

    ngx_http_douyin_store_outcome(op, records);

    for (i = 0; i < op->nitems; i++) {
        cJSON_Delete(records[i]);
    }

    free(records);
}


/* OP_RECOVER: take over the claims of workers that are gone */

static void
ngx_http_douyin_op_recover(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_claim_recover(op->store, &op->owner, op->u.recover.limit,
                                        &op->items, &op->u.recover.task_ids,
                                        &op->nitems);
    if (err != 0) {
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "recovery failed: %s%Z",
                     mdb_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_LISTING: the listing, and of the listed videos those without a
 * record: op->items keeps only these (in order), op->u.listing.listed counts all,
 * op->u.listing.deleted the listed tombstones.
 */

static void
ngx_http_douyin_op_listing(ngx_http_douyin_op_t *op)
{
    int          err;
    char       **ids;
    u_char      *found;
    ngx_uint_t   i, n;

    if (ngx_http_douyin_fsgo_list(op) != NGX_OK) {
        return;
    }

    ids = malloc((op->nitems + 1) * sizeof(char *));
    found = malloc(op->nitems + 1);

    if (ids == NULL || found == NULL) {
        free(ids);
        free(found);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        ids[i] = op->items[i].aweme_id;
    }

    err = ngx_http_douyin_store_has(op->store, ids, op->nitems, found);

    if (err != 0) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_STORE);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "reading the store failed: %s%Z", mdb_strerror(err));
        free(ids);
        free(found);
        return;
    }

    for (i = 0, n = 0; i < op->nitems; i++) {
        op->u.listing.deleted += (found[i] == 1 + NGX_HTTP_DOUYIN_DELETED);

        if (found[i]) {
            free(op->items[i].file_url);
            free(op->items[i].filename);
            continue;
        }

        op->items[n++] = op->items[i];
    }

    op->nitems = n;
    op->rc = NGX_HTTP_DOUYIN_RC_DONE;

    free(ids);
    free(found);
}


/*
 * OP_READ: when marking read, tell file-system-go first (version 1.5
 * only); only when it agrees is the record changed.  Marking unread only
 * changes the record.
 */

static void
ngx_http_douyin_op_read(ngx_http_douyin_op_t *op)
{
    int  err;

    /* the newer file-system-go (douyin_filesystem_api 2) has no read routes */

    if (op->u.video.is_read && op->conf->filesystem_api != 2
        && ngx_http_douyin_fsgo_mark_read(op) != NGX_OK)
    {
        return;
    }

    err = ngx_http_douyin_store_set_read(op->store, op->items[0].aweme_id,
                                         op->u.video.is_read, time(NULL));
    if (err == MDB_NOTFOUND) {
        op->u.video.not_found = 1;
        err = 0;
    }

    ngx_http_douyin_op_stored(op, err, "storing the read flag");
}


/*
 * OP_DELETE: unless keep_file, delete the WAV on file-system-go first (a
 * 404 means it is gone already); only then is the record made a
 * tombstone (ngx_http_douyin_store_tombstone()).  Without a record, a
 * tombstone is written when the file was there or op->u.video.create says so
 * (keep_file of a listed video); else not_found is set.
 */

static void
ngx_http_douyin_op_delete(ngx_http_douyin_op_t *op)
{
    int         err;
    ngx_uint_t  file_gone, create;

    file_gone = 0;
    create = op->u.video.create;

    if (!op->u.video.keep_file) {
        if (ngx_http_douyin_fsgo_delete(op, &file_gone) != NGX_OK) {
            return;
        }

        create = !file_gone;
    }

    err = ngx_http_douyin_store_tombstone(op->store, op->items[0].aweme_id,
                                          op->items[0].filename, create,
                                          time(NULL));
    if (err == MDB_NOTFOUND) {
        op->u.video.not_found = 1;
        err = 0;
    }

    ngx_http_douyin_op_stored(op, err, "writing the tombstone");
}


/* OP_PUSH: the collector's push, stored (ngx_http_douyin_store_push()) */

static void
ngx_http_douyin_op_push(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_store_push(op->store, op->items[0].aweme_id,
                                     op->u.video.fields, time(NULL), op->u.video.was);
    ngx_http_douyin_op_stored(op, err, "storing the push");
}


/* OP_LEASE: take the lease of op->u.lease.name for op->u.lease.slot (op->u.lease.found) */

static void
ngx_http_douyin_op_lease(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_lease_take(op->store, op->u.lease.name, op->u.lease.slot,
                                     op->u.lease.trigger, op->u.lease.now, &op->owner,
                                     &op->u.lease.found);
    ngx_http_douyin_op_stored(op, err, "taking the lease");
}


/* OP_LEASE_END: the run has ended: store op->u.lease.summary in its lease */

static void
ngx_http_douyin_op_lease_end(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_lease_end(op->store, op->u.lease.name, op->u.lease.now,
                                    &op->owner, op->u.lease.summary);
    ngx_http_douyin_op_stored(op, err, "storing the run's summary");
}


/* OP_EXPIRE_SCAN: the completed videos processed before op->u.expire.cutoff */

static void
ngx_http_douyin_op_expire_scan(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_expire_scan(op->store, op->u.expire.cutoff, &op->items,
                                      &op->nitems);
    if (err != 0) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_STORE);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "reading the store failed: %s%Z", mdb_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_EXPIRE: removes one video, op->items[0]: its WAV is deleted on
 * file-system-go first (a 404 means it is gone already); only then is
 * its record dropped, if it is still completed and older than op->u.expire.cutoff
 * (op->u.expire.removed).  A failed delete leaves the record for the next run.
 */

static void
ngx_http_douyin_op_expire(ngx_http_douyin_op_t *op)
{
    int         err;
    ngx_uint_t  gone;

    op->u.expire.removed = 0;

    if (ngx_http_douyin_fsgo_delete(op, &gone) != NGX_OK) {
        return;
    }

    err = ngx_http_douyin_expire_record(op->store, op->items[0].aweme_id,
                                        op->u.expire.cutoff, &op->u.expire.removed);
    if (err != 0) {
        ngx_http_douyin_op_store_error(op, err, "dropping the record");
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * the end of an op that is one write transaction: done when err is 0,
 * else the error kind of err and what failed
 */

static void
ngx_http_douyin_op_stored(ngx_http_douyin_op_t *op, int err,
    const char *what)
{
    if (err == 0) {
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    ngx_http_douyin_op_store_error(op, err, what);
}


/* a write transaction failed: the error kind of err, and what failed */

static void
ngx_http_douyin_op_store_error(ngx_http_douyin_op_t *op, int err,
    const char *what)
{
    ngx_http_douyin_op_error(op, ngx_http_douyin_store_error(err));
    ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                 "%s failed: %s%Z", what, mdb_strerror(err));
}


/* stores records[] and sets the items' outcomes and op->rc */

static void
ngx_http_douyin_store_outcome(ngx_http_douyin_op_t *op, cJSON **records)
{
    int                        err;
    cJSON                     *error;
    ngx_uint_t                 i;
    ngx_http_douyin_status_e   status;

    err = ngx_http_douyin_claim_finish(op->store, op->items, records,
                                       op->nitems, &op->owner);
    if (err != 0) {
        ngx_http_douyin_op_store_error(op, err, "storing the outcome");
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        status = ngx_http_douyin_status_of(records[i]);

        op->items[i].outcome = (status == NGX_HTTP_DOUYIN_COMPLETED)
                               ? status : NGX_HTTP_DOUYIN_FAILED;

        /* the failure code, for the metrics */

        error = cJSON_GetObjectItemCaseSensitive(records[i], "error");
        ngx_http_douyin_set(op->items[i].error, sizeof(op->items[i].error),
                            (status != NGX_HTTP_DOUYIN_COMPLETED
                             && cJSON_IsString(error))
                            ? error->valuestring : "");
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}

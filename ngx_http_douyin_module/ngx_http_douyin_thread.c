
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

/* completed videos whose missing metadata one listing fetches again */
#define NGX_HTTP_DOUYIN_META_RETRY_MAX    64


static void ngx_http_douyin_op_claim(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_list_metadata(ngx_http_douyin_op_t *op);
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
static void ngx_http_douyin_op_unknown(ngx_http_douyin_op_t *op);
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

    /* the ops counted by name (a later op would count in the next family) */

    if ((ngx_uint_t) op->op < NGX_HTTP_DOUYIN_OPS_N) {
        ngx_http_douyin_metric_add(op->conf,
                                   NGX_HTTP_DOUYIN_M_OPS_POSTED + op->op, 1);
    }

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
 * op (items and their strings, task ids, listed names, the tasks a
 * settle found to be another's) and what the op owns (the fields of a
 * push, the summary of a run), by op->op: the union holds only its
 * family's.  Event loop.
 */

void
ngx_http_douyin_op_free(ngx_http_douyin_op_t *op)
{
    ngx_uint_t  i;

    switch (op->op) {

    case NGX_HTTP_DOUYIN_OP_CLAIM:
    case NGX_HTTP_DOUYIN_OP_CLAIM_PENDING:
    case NGX_HTTP_DOUYIN_OP_LISTING:

        for (i = 0; i < op->u.listing.nnames; i++) {
            free(op->u.listing.names[i].name);
            free(op->u.listing.names[i].url);
        }

        free(op->u.listing.names);
        op->u.listing.names = NULL;
        op->u.listing.nnames = 0;
        break;

    case NGX_HTTP_DOUYIN_OP_RECOVER:

        for (i = 0; op->u.recover.task_ids != NULL && i < op->nitems; i++) {
            free(op->u.recover.task_ids[i]);
        }

        free(op->u.recover.task_ids);
        op->u.recover.task_ids = NULL;
        break;

    case NGX_HTTP_DOUYIN_OP_READ:
    case NGX_HTTP_DOUYIN_OP_DELETE:
    case NGX_HTTP_DOUYIN_OP_PUSH:
        cJSON_Delete(op->u.video.fields);
        op->u.video.fields = NULL;
        break;

    case NGX_HTTP_DOUYIN_OP_LEASE:
    case NGX_HTTP_DOUYIN_OP_LEASE_END:
        cJSON_Delete(op->u.lease.summary);
        op->u.lease.summary = NULL;
        break;

    case NGX_HTTP_DOUYIN_OP_SUBMIT:
    case NGX_HTTP_DOUYIN_OP_POLL:
    case NGX_HTTP_DOUYIN_OP_FAIL:
        free(op->u.batch.others);
        op->u.batch.others = NULL;
        op->u.batch.nothers = 0;
        op->u.batch.cothers = 0;
        break;

    default: /* u.expire, u.settle: nothing malloc()ed */
        break;
    }

    for (i = 0; i < op->nitems; i++) {
        free(op->items[i].file_url);
        free(op->items[i].filename);
    }

    free(op->items);
    op->items = NULL;
    op->nitems = 0;
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

    case NGX_HTTP_DOUYIN_OP_SETTLE:
        ngx_http_douyin_settle_run(op);
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

    /* a delete left unknown whose WAV is no longer listed is done */
    ngx_http_douyin_settle_listed(op);

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
        op->u.listing.deleted += (op->items[i].outcome
                                  == NGX_HTTP_DOUYIN_DELETED);
    }

    ngx_http_douyin_op_list_metadata(op);

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_CLAIM, after the claims: the completed videos whose record is marked
 * "metadata_missing" (file-system-go failed when they completed; the
 * claim's look at the store set META_MISSING) get their metadata fetched
 * again, at most NGX_HTTP_DOUYIN_META_RETRY_MAX of them, and stored
 * without transcribing them again (ngx_http_douyin_claim_metadata()).
 * The first fetch that fails ends the pass (file-system-go still fails:
 * the next listing tries again) and is META_FAILED, for the log.
 */

static void
ngx_http_douyin_op_list_metadata(ngx_http_douyin_op_t *op)
{
    int                      err;
    cJSON                  **metas;
    ngx_uint_t               i, n;
    ngx_http_douyin_item_t  *it;

    if (op->conf->filesystem_api == 2) {
        return;
    }

    metas = NULL;

    for (i = 0, n = 0; i < op->nitems && n < NGX_HTTP_DOUYIN_META_RETRY_MAX;
         i++)
    {
        it = &op->items[i];

        if (it->meta != NGX_HTTP_DOUYIN_META_MISSING
            || it->outcome != NGX_HTTP_DOUYIN_COMPLETED)
        {
            continue;
        }

        if (metas == NULL) {
            metas = calloc(op->nitems, sizeof(cJSON *));
            if (metas == NULL) {
                return;
            }
        }

        metas[i] = cJSON_CreateObject();
        if (metas[i] == NULL) {
            break;
        }

        n++;

        if (ngx_http_douyin_fsgo_metadata(op, it, metas[i]) != NGX_OK) {
            cJSON_Delete(metas[i]);
            metas[i] = NULL;
            break;
        }
    }

    if (metas == NULL) {
        return;
    }

    err = ngx_http_douyin_claim_metadata(op->store, op->items, metas,
                                         op->nitems);

    for (i = 0; i < op->nitems; i++) {
        if (err != 0 && metas[i] != NULL) {
            op->items[i].meta = NGX_HTTP_DOUYIN_META_FAILED;
            ngx_snprintf((u_char *) op->items[i].meta_error,
                         sizeof(op->items[i].meta_error) - 1,
                         "storing it failed: %s%Z", mdb_strerror(err));
        }

        cJSON_Delete(metas[i]);
    }

    free(metas);
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
        ngx_qsort(op->u.listing.names, op->u.listing.nnames,
                  sizeof(ngx_http_douyin_name_t), ngx_http_douyin_name_cmp);
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
 * and op->detail says so).  The submit time is stored first
 * (ngx_http_douyin_claim_submitting()), so that a submit whose answer is
 * lost, here or with a worker that dies, is never sent again blindly:
 * items with a submit_ms are settled first (ngx_http_douyin_dashscope_
 * settle()): the task found is adopted (op->u.batch.adopted), or, when the
 * provider does not have it, the items are submitted (op->u.batch.resubmitted),
 * or, when that is not known yet, RC_UNKNOWN: nothing is sent.
 */

static void
ngx_http_douyin_op_submit(ngx_http_douyin_op_t *op)
{
    int              err;
    uint64_t         now;
    ngx_uint_t       i;
    const char      *fail;
    struct timeval   tv;

    op->u.batch.adopted = 0;
    op->u.batch.resubmitted = 0;

    if (op->items[0].submit_ms != 0) {

        switch (ngx_http_douyin_dashscope_settle(op)) {

        case NGX_OK:
            op->u.batch.adopted = 1;
            goto submitted;

        case NGX_AGAIN:
            op->rc = NGX_HTTP_DOUYIN_RC_UNKNOWN;
            return;

        default: /* NGX_DECLINED: the provider does not have it */
            op->u.batch.resubmitted = 1;
            break;
        }
    }

    ngx_gettimeofday(&tv);
    now = (uint64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;

    err = ngx_http_douyin_claim_submitting(op->store, op->items, op->nitems,
                                           now, &op->owner);
    if (err != 0) {
        ngx_http_douyin_op_store_error(op, err, "storing the submit time");
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        op->items[i].submit_ms = now;
    }

    switch (ngx_http_douyin_dashscope_submit(op, &fail)) {

    case NGX_BUSY:
        /* sent, no answer: the items keep submit_ms, to be settled */
        op->rc = NGX_HTTP_DOUYIN_RC_UNKNOWN;
        return;

    case NGX_AGAIN:

        /* refused for now, or not sent: this submit made no task */

        for (i = 0; i < op->nitems; i++) {
            op->items[i].submit_ms = 0;
        }

        return;

    case NGX_DECLINED:

        for (i = 0; i < op->nitems; i++) {
            op->items[i].submit_ms = 0;
        }

        ngx_http_douyin_op_failing(op, fail);
        return;

    default: /* NGX_OK */
        break;
    }

submitted:

    for (i = 0; i < op->nitems; i++) {
        op->items[i].submit_ms = 0;
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

        if (records[i] == NULL) {

            /*
             * out of memory: store nothing (the record would stay
             * processing while the video counted as failed); the whole
             * step is tried again
             */

            ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
            ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                         "building the record of %s: out of memory%Z",
                         op->items[i].aweme_id);
            op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
            goto done;
        }

        op->items[i].meta = NGX_HTTP_DOUYIN_META_NONE;

        /*
         * metadata that file-system-go failed to give is marked missing:
         * the next listing fetches it again (the event loop logs why)
         */

        if (rc == NGX_OK
            && ngx_http_douyin_fsgo_metadata(op, &op->items[i], records[i])
               != NGX_OK)
        {
            (void) cJSON_AddTrueToObject(records[i], "metadata_missing");
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
    ngx_http_douyin_op_batch_t  *batch = &op->u.batch;

    ngx_http_douyin_set(batch->fail_code, sizeof(batch->fail_code), op->code);
    ngx_http_douyin_set(batch->fail_message, sizeof(batch->fail_message),
                        message);

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

        if (records[i] == NULL) {
            /* as in OP_POLL: nothing stored, tried again */
            ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
            ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                         "building the failed record of %s: out of "
                         "memory%Z", op->items[i].aweme_id);
            op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
            goto done;
        }
    }

    ngx_http_douyin_store_outcome(op, records);

done:

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

    err = ngx_http_douyin_claim_recover(op->store, &op->owner,
                                        op->u.recover.limit, &op->items,
                                        &op->u.recover.task_ids,
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
 * record: op->items keeps only these (in order), op->u.listing.listed
 * counts all, op->u.listing.deleted the listed tombstones.
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

    /*
     * a delete left unknown whose WAV is no longer listed is done: its
     * tombstone is written before the stats read the counts
     */
    ngx_http_douyin_settle_listed(op);

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
 * OP_READ: tell file-system-go first (version 1.5 only): marking read
 * makes its read record, marking unread removes it
 * (ngx_http_douyin_fsgo_read()); only when it agrees is the record
 * changed.
 */

static void
ngx_http_douyin_op_read(ngx_http_douyin_op_t *op)
{
    int  err;

    /* the newer file-system-go (douyin_filesystem_api 2) has no read routes */

    if (op->conf->filesystem_api != 2) {
        if (ngx_http_douyin_fsgo_read(op) != NGX_OK) {

            /*
             * only a mark-read left unknown is settled: the settle pass
             * knows how to see a read record, not its absence
             */

            if (op->u.video.is_read) {
                ngx_http_douyin_op_unknown(op);
            }

            return;
        }

        op->u.video.acted = 1;
    }

    /* what the user asks now wins over a mark-read left unknown */

    err = ngx_http_douyin_settle_forget(op->store, op->op,
                                        op->items[0].aweme_id);

    if (err == 0) {
        err = ngx_http_douyin_store_set_read(op->store,
                                             op->items[0].aweme_id,
                                             op->u.video.is_read, time(NULL));
    }

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
            ngx_http_douyin_op_unknown(op);
            return;
        }

        /* the WAV is not on file-system-go any more */
        op->u.video.acted = 1;
        create = !file_gone;
    }

    err = ngx_http_douyin_settle_forget(op->store, op->op,
                                        op->items[0].aweme_id);

    if (err == 0) {
        err = ngx_http_douyin_store_tombstone(op->store,
                                              op->items[0].aweme_id,
                                              op->items[0].filename, create,
                                              time(NULL));
    }

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
                                     op->u.video.fields, time(NULL),
                                     op->u.video.was);
    ngx_http_douyin_op_stored(op, err, "storing the push");
}


/* OP_LEASE: take the lease of u.lease.name for its slot (u.lease.found) */

static void
ngx_http_douyin_op_lease(ngx_http_douyin_op_t *op)
{
    ngx_http_douyin_op_lease_t  *lease = &op->u.lease;

    int  err;

    err = ngx_http_douyin_lease_take(op->store, lease->name, lease->slot,
                                     lease->trigger, lease->now, &op->owner,
                                     &lease->found);
    ngx_http_douyin_op_stored(op, err, "taking the lease");
}


/* OP_LEASE_END: the run has ended: store u.lease.summary in its lease */

static void
ngx_http_douyin_op_lease_end(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_lease_end(op->store, op->u.lease.name,
                                    op->u.lease.now, &op->owner,
                                    op->u.lease.summary);
    ngx_http_douyin_op_stored(op, err, "storing the run's summary");
}


/* OP_EXPIRE_SCAN: the completed videos processed before u.expire.cutoff */

static void
ngx_http_douyin_op_expire_scan(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_expire_scan(op->store, op->u.expire.cutoff,
                                      &op->items, &op->nitems);
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
 * its record dropped, if it is still completed and older than
 * u.expire.cutoff (u.expire.removed).  A failed delete leaves the record
 * for the next run.
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
                                        op->u.expire.cutoff,
                                        &op->u.expire.removed);
    if (err != 0) {
        ngx_http_douyin_op_store_error(op, err, "dropping the record");
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_READ, OP_DELETE: file-system-go failed; when it took the call and
 * gave no answer (FILESYSTEM_OUTCOME_UNKNOWN), the call is noted in the
 * store to be settled (ngx_http_douyin_settle.c): op->u.video.settling
 */

static void
ngx_http_douyin_op_unknown(ngx_http_douyin_op_t *op)
{
    if (op->err != NGX_HTTP_DOUYIN_ERR_FS_UNKNOWN) {
        return;
    }

    op->u.video.settling =
        (ngx_http_douyin_settle_remember(op->store, op->op,
                                         op->items[0].aweme_id,
                                         op->items[0].filename, time(NULL))
         == 0);
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


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the per-worker runner (event loop).
 *
 * A job is one /api/process (or /api/process/async) call: an OP_CLAIM
 * thread task lists file-system-go and claims the videos to transcribe
 * in the store; the claimed videos wait in the job until the runner has
 * room (douyin_max_inflight) and then go, douyin_asr_batch at a time, into
 * batches.  A batch is one provider task: OP_SUBMIT, then OP_POLL at
 * growing intervals until the task ends, each provider call waiting for
 * its slot in the shared rate zone.  Between steps a batch is only an
 * nginx timer: no thread waits for the provider.  When a batch ends, its
 * videos count as ended in their jobs; the waiting request of a job is
 * answered when all of its videos have ended.
 *
 * Every few seconds the runner also posts OP_RECOVER, which takes over
 * "processing" videos whose worker is gone and resumes them from their
 * stored task_id (or submits them when none was stored yet; a submit
 * that was sent but never answered is settled through the provider's
 * task list first, as one whose answer was lost here).
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


#define NGX_HTTP_DOUYIN_RECOVER_INTERVAL  3000
/*
 * in its first seconds a worker looks for orphans more often: after a
 * reload the old workers exit a moment after the new ones start, and
 * what they leave is to be resumed at once
 */
#define NGX_HTTP_DOUYIN_RECOVER_EARLY     500
#define NGX_HTTP_DOUYIN_RECOVER_YOUNG     10000
#define NGX_HTTP_DOUYIN_BACKOFF_MAX       30000
#define NGX_HTTP_DOUYIN_WATCH             500


static ngx_int_t ngx_http_douyin_runner_processing(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner);
static ngx_http_douyin_job_t *ngx_http_douyin_job_create(
    ngx_http_douyin_main_conf_t *dmcf, ngx_flag_t async, ngx_flag_t pending,
    ngx_http_douyin_err_e *err);
static void ngx_http_douyin_job_list_done(ngx_event_t *ev);
static void ngx_http_douyin_job_respond(ngx_http_douyin_job_t *job,
    ngx_http_douyin_err_e err, cJSON *json);
static cJSON *ngx_http_douyin_job_listed(ngx_http_douyin_job_t *job,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_job_check(ngx_http_douyin_job_t *job);
static void ngx_http_douyin_job_free(ngx_http_douyin_job_t *job);
static void ngx_http_douyin_job_request_cleanup(void *data);
static void ngx_http_douyin_dispatch(ngx_http_douyin_runner_t *runner);
static ngx_http_douyin_batch_t *ngx_http_douyin_batch_create(
    ngx_http_douyin_runner_t *runner, ngx_uint_t n);
static void ngx_http_douyin_batch_schedule(ngx_http_douyin_batch_t *batch,
    ngx_msec_t delay);
static void ngx_http_douyin_batch_timer(ngx_event_t *ev);
static void ngx_http_douyin_batch_post(ngx_http_douyin_batch_t *batch);
static void ngx_http_douyin_rate_timer(ngx_event_t *ev);
static void ngx_http_douyin_batch_done(ngx_event_t *ev);
static void ngx_http_douyin_batch_submitted(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_batch_running(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_batch_retry(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_batch_unknown(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_batch_refused(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_batch_fail(ngx_http_douyin_batch_t *batch,
    const char *code, const char *message);
static void ngx_http_douyin_batch_end(ngx_http_douyin_batch_t *batch);
static void ngx_http_douyin_metadata_log(ngx_http_douyin_runner_t *runner,
    ngx_http_douyin_item_t *item);
static void ngx_http_douyin_hand_over(ngx_http_douyin_runner_t *runner);
static void ngx_http_douyin_watch(ngx_event_t *ev);
static void ngx_http_douyin_dispatch_timer(ngx_event_t *ev);
static void ngx_http_douyin_batch_unstored(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op);
static ngx_msec_t ngx_http_douyin_backoff(ngx_http_douyin_runner_t *runner,
    ngx_uint_t attempt);
static void ngx_http_douyin_recover_timer(ngx_event_t *ev);
static void ngx_http_douyin_recover_done(ngx_event_t *ev);
static ngx_int_t ngx_http_douyin_recover_batch(
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_op_t *op,
    ngx_uint_t from, ngx_uint_t to);


/*
 * ngx_http_douyin_runner_init: init_process part: opens this worker's
 * store, and when a process handler is configured, initialises libcurl,
 * reads the key from the environment, registers the worker in the
 * shared zone and arms the recovery timer.  Errors are logged; the
 * handlers then answer 503.  Returns NGX_OK when the runner can start
 * background work (ngx_http_douyin_schedule_init() follows), NGX_DECLINED
 * when it cannot (no file-system-go handler, or libcurl failed), or
 * NGX_ERROR when out of memory.
 */

ngx_int_t
ngx_http_douyin_runner_init(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf)
{
    char                      *path;
    ngx_uint_t                 i;
    ngx_http_douyin_runner_t  *runner;

    runner = ngx_pcalloc(cycle->pool, sizeof(ngx_http_douyin_runner_t));
    if (runner == NULL) {
        return NGX_ERROR;
    }

    dmcf->runner = runner;

    runner->conf = dmcf;
    runner->log = cycle->log;
    ngx_queue_init(&runner->jobs);
    ngx_queue_init(&runner->listing_jobs);
    ngx_queue_init(&runner->live_jobs);
    ngx_queue_init(&runner->batches);
    ngx_queue_init(&runner->listing.waiters);

    runner->watch.handler = ngx_http_douyin_watch;
    runner->watch.data = runner;
    runner->watch.log = cycle->log;

    runner->dispatch_timer.handler = ngx_http_douyin_dispatch_timer;
    runner->dispatch_timer.data = runner;
    runner->dispatch_timer.log = cycle->log;
    runner->dispatch_timer.cancelable = 1;

    runner->started = ngx_current_msec;

    for (i = 0; i < 2; i++) {
        ngx_queue_init(&runner->rate_waiting[i]);
        runner->rate_timer[i].handler = ngx_http_douyin_rate_timer;
        runner->rate_timer[i].data = runner;
        runner->rate_timer[i].log = cycle->log;
        runner->rate_timer[i].cancelable = 1;
    }

    runner->owner.pid = ngx_pid;
    /*
     * the run id tells this worker from an earlier process with the same
     * pid; an integer below 2^31, so that it survives the JSON of the
     * records exactly (cJSON prints such numbers with %d)
     */

    runner->owner.run = (double) (ngx_random() % 2000000000 + 1);

    path = ngx_pnalloc(cycle->pool, dmcf->store->name.len + 1);
    if (path == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn((u_char *) path, dmcf->store->name.data,
                dmcf->store->name.len + 1);

    if (ngx_http_douyin_store_open(&runner->store, path, dmcf->map_size,
                                   ngx_http_douyin_video_texts, cycle->log)
        == NGX_OK)
    {
        runner->store_ok = 1;
    }

    if (!(dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_FSGO)) {
        return NGX_DECLINED;
    }

    if (ngx_http_douyin_curl_global_init(cycle->log, dmcf) != NGX_OK) {
        runner->store_ok = 0;
        return NGX_DECLINED;
    }

    if (dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_KEY) {
        if (ngx_http_douyin_runner_processing(cycle, runner) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (runner->store_ok) {

        /* a retention run's lease names its worker, as a claim does */

        if (ngx_http_douyin_claim_register(&runner->store, &runner->owner, 1)
            == 0)
        {
            runner->registered = 1;
        }
    }

    return NGX_OK;
}


/*
 * the part of init_process for the process handlers: the key from the
 * environment, this worker in the store's registry, the recovery timer
 */

static ngx_int_t
ngx_http_douyin_runner_processing(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner)
{
    int                           rc;
    char                         *key;
    size_t                        len;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = runner->conf;

    key = getenv((char *) dmcf->asr_key_env.data);

    if (key == NULL || key[0] == '\0') {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "douyin: environment variable \"%V\" is not set in "
                      "the worker (add \"env %V;\" to nginx.conf); "
                      "processing answers 503",
                      &dmcf->asr_key_env, &dmcf->asr_key_env);

    } else {
        len = sizeof("Authorization: Bearer ") + ngx_strlen(key);

        runner->auth_header = ngx_pnalloc(cycle->pool, len);
        if (runner->auth_header == NULL) {
            return NGX_ERROR;
        }

        ngx_snprintf((u_char *) runner->auth_header, len,
                     "Authorization: Bearer %s%Z", key);
    }

    if (runner->store_ok) {
        rc = ngx_http_douyin_claim_register(&runner->store, &runner->owner,
                                            1);
        if (rc != 0) {

            /* unregistered, its claims would look orphaned to others */

            ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                          "douyin: registering the worker in the store "
                          "failed: %s; processing answers 503",
                          mdb_strerror(rc));
            runner->store_ok = 0;

        } else {
            runner->registered = 1;
        }
    }

    runner->recover_task = ngx_thread_task_alloc(cycle->pool,
                                                 sizeof(ngx_http_douyin_op_t));
    if (runner->recover_task == NULL) {
        return NGX_ERROR;
    }

    runner->recover_task->handler = ngx_http_douyin_op_handler;
    runner->recover_task->event.handler = ngx_http_douyin_recover_done;
    runner->recover_task->event.data = runner;
    runner->recover_task->event.log = cycle->log;

    runner->recover_timer.handler = ngx_http_douyin_recover_timer;
    runner->recover_timer.data = runner;
    runner->recover_timer.log = cycle->log;
    runner->recover_timer.cancelable = 1;

    /* without a key, resumed videos could only fail: leave them */

    if (runner->store_ok && runner->auth_header != NULL) {
        ngx_add_timer(&runner->recover_timer, 1);
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_runner_exit: exit_process: frees what the runner owns
 * and closes the store.  What is in flight when a worker exits (its
 * batches and their items, the jobs still listing or waiting for their
 * videos, the ops of the recovery and listing tasks) is not lost: its
 * videos stay "processing" in the store, with their task ids, and the
 * next workers resume them; only the memory goes.  No thread uses an op
 * any more: nginx's thread pool module, a static module, runs its
 * exit_process before any dynamic module's, and it returns once the
 * threads have run every task queued.  Requests still open (a fast
 * shutdown) are not answered, only detached from their jobs.
 */

void
ngx_http_douyin_runner_exit(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_http_douyin_job_t     *job;
    ngx_http_douyin_batch_t   *batch;
    ngx_http_douyin_runner_t  *runner;

    runner = dmcf->runner;

    if (runner == NULL) {
        return;
    }

    if (runner->dispatch_timer.timer_set) {
        ngx_del_timer(&runner->dispatch_timer);
    }

    while (!ngx_queue_empty(&runner->batches)) {
        q = ngx_queue_head(&runner->batches);
        batch = ngx_queue_data(q, ngx_http_douyin_batch_t, queue);
        ngx_queue_remove(q);

        if (batch->timer.timer_set) {
            ngx_del_timer(&batch->timer);
        }

        if (batch->task->event.timer_set) {
            ngx_del_timer(&batch->task->event);
        }

        ngx_http_douyin_op_free(batch->task->ctx);
        ngx_free(batch);
    }

    runner->inflight = 0;

    while (!ngx_queue_empty(&runner->listing_jobs)
           || !ngx_queue_empty(&runner->live_jobs))
    {
        q = ngx_queue_empty(&runner->listing_jobs)
            ? ngx_queue_head(&runner->live_jobs)
            : ngx_queue_head(&runner->listing_jobs);
        job = ngx_queue_data(q, ngx_http_douyin_job_t, live);

        if (job->request != NULL) {
            job->request_cleanup->handler = NULL;
            job->request = NULL;
        }

        if (job->task->event.timer_set) {
            ngx_del_timer(&job->task->event);
        }

        /* off its queues; its op's items, its pool */
        ngx_http_douyin_job_free(job);
    }

    if (runner->recover_task != NULL) {
        if (runner->recover_task->event.timer_set) {
            ngx_del_timer(&runner->recover_task->event);
        }

        ngx_http_douyin_op_free(runner->recover_task->ctx);
    }

    if (runner->listing.task != NULL) {
        if (runner->listing.task->event.timer_set) {
            ngx_del_timer(&runner->listing.task->event);
        }

        ngx_http_douyin_op_free(runner->listing.task->ctx);
    }

    if (runner->watch.timer_set) {
        ngx_del_timer(&runner->watch);
    }

    for (i = 0; i < 2; i++) {
        if (runner->rate_timer[i].timer_set) {
            ngx_del_timer(&runner->rate_timer[i]);
        }
    }

    ngx_http_douyin_listing_free(&runner->listing);

    if (runner->store_ok) {
        if (runner->registered) {
            (void) ngx_http_douyin_claim_register(&runner->store,
                                                  &runner->owner, 0);
        }

        ngx_http_douyin_store_close(&runner->store);
        runner->store_ok = 0;
    }
}


/*
 * ngx_http_douyin_job_start: starts a job for the POST request r (async:
 * answer once listed, else when every claimed video has ended; pending:
 * POST /api/process/pending, which transcribes the pushed videos that
 * are listed and answers at once): posts its OP_CLAIM (OP_CLAIM_PENDING)
 * thread op.  For pending, while videos are being transcribed (a record
 * is processing, in any worker) the job is not started and r gets, at
 * once, 200 {"success":false,...,"data":{"pending":0}}, what the later
 * front end reads as "a run is already going".  The job answers r once,
 * through respond(r, err, json) (for that answer too, before this
 * returns); the caller holds a reference of r for it.  Returns
 * NGX_HTTP_DOUYIN_OK, or the error to answer now (the store, the key or
 * the thread pool is unavailable).
 */

ngx_http_douyin_err_e
ngx_http_douyin_job_start(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_flag_t async, ngx_flag_t pending,
    ngx_http_douyin_respond_pt respond)
{
    int                     rc;
    cJSON                  *json, *data;
    int64_t                 counts[NGX_HTTP_DOUYIN_NSTATUS][2];
    ngx_pool_cleanup_t     *cln;
    ngx_http_douyin_err_e   err;
    ngx_http_douyin_job_t  *job;

    if (!ngx_http_douyin_store_ready(dmcf)) {
        return NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
    }

    if (dmcf->runner->auth_header == NULL) {
        return NGX_HTTP_DOUYIN_ERR_KEY_MISSING;
    }

    if (pending) {
        rc = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);
        if (rc != 0) {
            return NGX_HTTP_DOUYIN_ERR_STORE_READ;
        }

        if (counts[NGX_HTTP_DOUYIN_PROCESSING][0]
            + counts[NGX_HTTP_DOUYIN_PROCESSING][1] > 0)
        {
            json = cJSON_CreateObject();
            cJSON_AddFalseToObject(json, "success");
            cJSON_AddStringToObject(json, "message",
                                    "A run is already going; try again "
                                    "when it has ended.");
            data = cJSON_AddObjectToObject(json, "data");
            cJSON_AddNumberToObject(data, "pending", 0);

            respond(r, NGX_HTTP_DOUYIN_OK, json);
            return NGX_HTTP_DOUYIN_OK;
        }
    }

    job = ngx_http_douyin_job_create(dmcf, async, pending, &err);
    if (job == NULL) {
        return err;
    }

    job->respond = respond;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(job->pool);
        return NGX_HTTP_DOUYIN_ERR_INTERNAL;
    }

    if (ngx_http_douyin_task_post(dmcf->thread_pool, job->task) != NGX_OK) {
        ngx_destroy_pool(job->pool);
        return NGX_HTTP_DOUYIN_ERR_THREAD_POOL;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin job %p: listing posted", job);

    cln->handler = ngx_http_douyin_job_request_cleanup;
    cln->data = job;

    job->request = r;
    job->request_cleanup = cln;

    /* the runner holds the job from now on (and frees it at exit) */
    ngx_queue_insert_tail(&job->runner->listing_jobs, &job->live);

    /* a new call tries the key again */
    job->runner->key_rejected = 0;

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * ngx_http_douyin_job_run: starts a job that no request waits for (a
 * scheduled run): the work of POST /api/process/async, or with pending
 * that of POST /api/process/pending (the pushed videos that are listed).
 * done(job, err, 1) is called once listed (err: why the listing failed,
 * or OK), then done(job, OK, 0) once when the job ends (job->total,
 * claimed, success, failed, handed_over say how it went); data is kept
 * in job->data.  Returns NGX_HTTP_DOUYIN_OK, or the error that kept it
 * from starting (done is not called then).
 */

ngx_http_douyin_err_e
ngx_http_douyin_job_run(ngx_http_douyin_main_conf_t *dmcf,
    ngx_flag_t pending, ngx_http_douyin_job_done_pt done, void *data)
{
    ngx_http_douyin_err_e   err;
    ngx_http_douyin_job_t  *job;

    job = ngx_http_douyin_job_create(dmcf, 1, pending, &err);
    if (job == NULL) {
        return err;
    }

    job->done = done;
    job->data = data;

    if (ngx_http_douyin_task_post(dmcf->thread_pool, job->task) != NGX_OK) {
        ngx_destroy_pool(job->pool);
        return NGX_HTTP_DOUYIN_ERR_THREAD_POOL;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, job->runner->log, 0,
                   "douyin job %p: scheduled, listing posted", job);

    /* the runner holds the job from now on (and frees it at exit) */
    ngx_queue_insert_tail(&job->runner->listing_jobs, &job->live);

    job->runner->key_rejected = 0;

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * a job with its OP_CLAIM (OP_CLAIM_PENDING) thread task, not posted yet;
 * NULL and *err
 */

static ngx_http_douyin_job_t *
ngx_http_douyin_job_create(ngx_http_douyin_main_conf_t *dmcf,
    ngx_flag_t async, ngx_flag_t pending, ngx_http_douyin_err_e *err)
{
    ngx_pool_t                *pool;
    ngx_http_douyin_op_t      *op;
    ngx_http_douyin_job_t     *job;
    ngx_http_douyin_runner_t  *runner;

    if (!ngx_http_douyin_store_ready(dmcf)) {
        *err = NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
        return NULL;
    }

    runner = dmcf->runner;

    if (runner->auth_header == NULL) {
        *err = NGX_HTTP_DOUYIN_ERR_KEY_MISSING;
        return NULL;
    }

    *err = NGX_HTTP_DOUYIN_ERR_INTERNAL;

    pool = ngx_create_pool(4096, runner->log);
    if (pool == NULL) {
        return NULL;
    }

    job = ngx_pcalloc(pool, sizeof(ngx_http_douyin_job_t));
    if (job == NULL) {
        goto failed;
    }

    job->pool = pool;
    job->runner = runner;
    job->async = pending ? 1 : async;
    job->pending = pending;

    job->task = ngx_thread_task_alloc(pool, sizeof(ngx_http_douyin_op_t));
    if (job->task == NULL) {
        goto failed;
    }

    op = job->task->ctx;
    op->op = pending ? NGX_HTTP_DOUYIN_OP_CLAIM_PENDING
                     : NGX_HTTP_DOUYIN_OP_CLAIM;
    op->conf = dmcf;
    op->store = &runner->store;
    op->owner = runner->owner;

    job->task->handler = ngx_http_douyin_op_handler;
    job->task->event.handler = ngx_http_douyin_job_list_done;
    job->task->event.data = job;
    job->task->event.log = runner->log;

    return job;

failed:

    ngx_destroy_pool(pool);
    return NULL;
}


/* the listing and the claims are done: answer or queue the videos */

static void
ngx_http_douyin_job_list_done(ngx_event_t *ev)
{
    ngx_http_douyin_job_t *job = ev->data;

    uint64_t                   now;
    ngx_uint_t                 i;
    ngx_time_t                *tp;
    ngx_http_douyin_op_t      *op;
    ngx_http_douyin_runner_t  *runner;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    op = job->task->ctx;
    runner = job->runner;

    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                      "douyin: %s: %s", op->code, op->detail);

        if (job->done != NULL) {
            job->done(job, op->err, 1);
        }

        ngx_http_douyin_job_respond(job, op->err, NULL);
        ngx_http_douyin_job_free(job);
        return;
    }

    job->total = op->u.listing.listed;
    job->claimed = 0;

    if (job->pending) {
        /* pushed videos became processing: pending has changed */
        ngx_http_douyin_listing_update(runner, 0, 0);

    } else {
        /* every listed video has a record now: none is pending */
        ngx_http_douyin_listing_update(runner, 1, op->u.listing.listed
                                                  - op->u.listing.deleted);
    }

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    for (i = 0; i < op->nitems; i++) {
        job->claimed += op->items[i].claimed;
        op->items[i].claimed_ms = now;
        ngx_http_douyin_metadata_log(runner, &op->items[i]);
    }

    job->next = 0;

    ngx_http_douyin_metric_add(runner->conf, NGX_HTTP_DOUYIN_M_CLAIMED,
                               job->claimed);

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin job %p: listed %ui, ignored %ui, claimed %ui, "
                   "async %i", job, op->u.listing.listed,
                   op->u.listing.ignored, job->claimed, job->async);

    /*
     * what an operator follows at the shipped "notice" level: a process
     * call that has work, and its end (ngx_http_douyin_job_check());
     * each video's end is at "info".  A scheduled run says the same
     * through its done handler.
     */

    if (job->done != NULL) {
        job->done(job, NGX_HTTP_DOUYIN_OK, 1);

    } else {
        if (job->claimed) {
            ngx_log_error(NGX_LOG_NOTICE, runner->log, 0,
                          "douyin: a process call claimed %ui of %ui videos",
                          job->claimed, job->total);
        }

        if (job->async || job->claimed == 0) {
            ngx_http_douyin_job_respond(job, NGX_HTTP_DOUYIN_OK,
                                        ngx_http_douyin_job_listed(job, op));
        }
    }

    if (job->claimed == 0) {
        ngx_http_douyin_job_free(job);
        return;
    }

    ngx_queue_insert_tail(&runner->jobs, &job->queue);
    job->queued = 1;

    ngx_http_douyin_gauge_add(runner->conf, NGX_HTTP_DOUYIN_G_QUEUED,
                              job->claimed);

    ngx_queue_remove(&job->live);
    ngx_queue_insert_tail(&runner->live_jobs, &job->live);

    if ((job->request != NULL || job->done != NULL)
        && !runner->watch.timer_set)
    {
        ngx_add_timer(&runner->watch, NGX_HTTP_DOUYIN_WATCH);
    }

    ngx_http_douyin_dispatch(runner);
}


/* the answer once listed: pending, async, or nothing to process */

static cJSON *
ngx_http_douyin_job_listed(ngx_http_douyin_job_t *job,
    ngx_http_douyin_op_t *op)
{
    u_char   msg[96];
    cJSON   *json, *data;

    json = cJSON_CreateObject();
    cJSON_AddTrueToObject(json, "success");

    if (job->pending) {
        if (job->claimed) {
            ngx_snprintf(msg, sizeof(msg), "Transcribing %ui pending "
                         "video(s).%Z", job->claimed);

        } else {
            ngx_snprintf(msg, sizeof(msg), "Nothing to process: no pending "
                         "video is listed on file-system-go.%Z");
        }

        cJSON_AddStringToObject(json, "message", (char *) msg);
        data = cJSON_AddObjectToObject(json, "data");
        cJSON_AddNumberToObject(data, "pending", job->claimed);

        return json;
    }

    if (job->async) {
        cJSON_AddStringToObject(json, "message",
                                job->claimed ? "Processing started."
                                             : "Nothing to process.");
        data = cJSON_AddObjectToObject(json, "data");
        cJSON_AddNumberToObject(data, "total", job->total);
        cJSON_AddNumberToObject(data, "pending", job->claimed);
        cJSON_AddNumberToObject(data, "skip", job->total - job->claimed);

    } else {
        cJSON_AddStringToObject(json, "message", "Nothing to process.");
        data = cJSON_AddObjectToObject(json, "data");
        cJSON_AddNumberToObject(data, "total", job->total);
        cJSON_AddNumberToObject(data, "processed", 0);
        cJSON_AddNumberToObject(data, "success", 0);
        cJSON_AddNumberToObject(data, "failed", 0);
    }

    cJSON_AddNumberToObject(data, "ignored", op->u.listing.ignored);

    return json;
}


/*
 * the job's answer (err, or json, deleted here) to its waiting request,
 * if any, through the job's respond handler
 */

static void
ngx_http_douyin_job_respond(ngx_http_douyin_job_t *job,
    ngx_http_douyin_err_e err, cJSON *json)
{
    ngx_http_request_t  *r;

    r = job->request;

    if (r == NULL) {
        cJSON_Delete(json);
        return;
    }

    job->request = NULL;
    job->request_cleanup->handler = NULL;

    job->respond(r, err, json);
}


/* answers and frees the job when every claimed video has ended */

static void
ngx_http_douyin_job_check(ngx_http_douyin_job_t *job)
{
    u_char                 msg[320];
    cJSON                 *json, *data;
    ngx_http_douyin_op_t  *op;

    if (job->ended + job->handed_over + job->unstored < job->claimed) {
        return;
    }

    if (job->unstored) {

        /*
         * what the store says: those videos are still processing, not
         * failed; the answer is the store's error, with the counts
         */

        ngx_snprintf(msg, sizeof(msg),
                     "Processed %ui of %ui videos: %ui completed, %ui "
                     "failed; %ui whose outcome could not be stored (%s) "
                     "stay processing and are stored by the module once "
                     "the store takes them.%Z",
                     job->ended, job->total, job->success, job->failed,
                     job->unstored,
                     job->unstored_err == NGX_HTTP_DOUYIN_ERR_STORE_FULL
                     ? "the transcript store is full"
                     : job->unstored_err == NGX_HTTP_DOUYIN_ERR_NO_MEMORY
                       ? "out of memory" : "the transcript store failed");

    } else if (job->handed_over) {
        ngx_snprintf(msg, sizeof(msg),
                     "Processed %ui of %ui videos: %ui completed, %ui "
                     "failed; nginx is reloading or stopping, %ui go on in "
                     "the next worker processes.%Z",
                     job->ended, job->total, job->success, job->failed,
                     job->handed_over);

    } else {
        ngx_snprintf(msg, sizeof(msg),
                     "Processed %ui of %ui videos: %ui completed, %ui "
                     "failed.%Z",
                     job->ended, job->total, job->success, job->failed);
    }

    /* a scheduled run logs its own end (its done handler) */

    if (job->done == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, job->runner->log, 0,
                      "douyin: a process call ended: %s", msg);
    }

    if (job->unstored) {
        json = cJSON_CreateObject();
        cJSON_AddFalseToObject(json, "success");
        cJSON_AddStringToObject(json, "error",
                           ngx_http_douyin_errors[job->unstored_err].code);
        cJSON_AddStringToObject(json, "detail", (char *) msg);

        ngx_http_douyin_job_respond(job, job->unstored_err, json);
        ngx_http_douyin_job_free(job);
        return;
    }

    json = cJSON_CreateObject();
    cJSON_AddTrueToObject(json, "success");
    cJSON_AddStringToObject(json, "message", (char *) msg);
    data = cJSON_AddObjectToObject(json, "data");
    cJSON_AddNumberToObject(data, "total", job->total);
    cJSON_AddNumberToObject(data, "processed", job->ended);
    cJSON_AddNumberToObject(data, "success", job->success);
    cJSON_AddNumberToObject(data, "failed", job->failed);
    op = job->task->ctx;
    cJSON_AddNumberToObject(data, "ignored", op->u.listing.ignored);

    ngx_http_douyin_job_respond(job, NGX_HTTP_DOUYIN_OK, json);
    ngx_http_douyin_job_free(job);
}


static void
ngx_http_douyin_job_free(ngx_http_douyin_job_t *job)
{
    if (job->done != NULL) {
        job->done(job, NGX_HTTP_DOUYIN_OK, 0);
        job->done = NULL;
    }

    if (job->request != NULL) {
        /* never answered: cannot happen, but never leave r hanging */
        ngx_http_douyin_job_respond(job, NGX_HTTP_DOUYIN_OK, NULL);
    }

    if (job->queued) {
        ngx_queue_remove(&job->queue);
        job->queued = 0;
    }

    if (job->live.next != NULL) {
        ngx_queue_remove(&job->live);
        job->live.next = NULL;
    }

    ngx_http_douyin_op_free(job->task->ctx);
    ngx_destroy_pool(job->pool);
}


/* the request went away (terminated): nobody waits for the job now */

static void
ngx_http_douyin_job_request_cleanup(void *data)
{
    ngx_http_douyin_job_t *job = data;

    job->request = NULL;
}


/* moves waiting videos into batches while the runner has room */

static void
ngx_http_douyin_dispatch(ngx_http_douyin_runner_t *runner)
{
    ngx_uint_t                  n, room;
    ngx_queue_t                *q;
    ngx_http_douyin_op_t       *op, *bop;
    ngx_http_douyin_job_t      *job;
    ngx_http_douyin_batch_t    *batch;
    ngx_http_douyin_item_t     *it;

    if (ngx_exiting || ngx_terminate || ngx_quit) {

        /*
         * a worker that is shutting down submits nothing new: the claims
         * it leaves are resumed by the next workers
         */

        ngx_http_douyin_hand_over(runner);
        return;
    }

    while (!ngx_queue_empty(&runner->jobs)
           && runner->inflight < runner->conf->max_inflight)
    {
        q = ngx_queue_head(&runner->jobs);
        job = ngx_queue_data(q, ngx_http_douyin_job_t, queue);
        op = job->task->ctx;

        room = runner->conf->max_inflight - runner->inflight;
        n = ngx_min(runner->conf->asr_batch, room);

        batch = ngx_http_douyin_batch_create(runner, n);
        if (batch == NULL) {

            /*
             * out of memory, logged: a batch that ends dispatches again,
             * but none may be in flight, so a timer tries again too
             */

            if (!runner->dispatch_timer.timer_set) {
                ngx_add_timer(&runner->dispatch_timer, 1000);
            }

            return;
        }

        bop = batch->task->ctx;
        bop->op = NGX_HTTP_DOUYIN_OP_SUBMIT;

        while (bop->nitems < n && job->next < op->nitems) {
            it = &op->items[job->next++];

            if (!it->claimed) {
                continue;
            }

            batch->jobs[bop->nitems] = job;
            bop->items[bop->nitems++] = *it;

            ngx_http_douyin_gauge_add(runner->conf, NGX_HTTP_DOUYIN_G_QUEUED,
                                      -1);

            /* the batch owns the strings now */
            it->file_url = NULL;
            it->filename = NULL;
        }

        /* unclaimed items left at the end: the job has nothing to send */

        while (job->next < op->nitems && !op->items[job->next].claimed) {
            job->next++;
        }

        if (job->next >= op->nitems) {
            ngx_queue_remove(&job->queue);
            job->queued = 0;
        }

        if (bop->nitems == 0) {
            ngx_http_douyin_batch_end(batch);
            continue;
        }

        runner->inflight += bop->nitems;
        ngx_http_douyin_gauge_add(runner->conf, NGX_HTTP_DOUYIN_G_INFLIGHT,
                                  bop->nitems);

        if (runner->key_rejected) {
            ngx_http_douyin_batch_fail(batch, runner->key_code,
                                       "The ASR provider rejected the key.");
            continue;
        }

        ngx_http_douyin_batch_schedule(batch, 0);
    }
}


/* a batch could not be made: try to dispatch again */

static void
ngx_http_douyin_dispatch_timer(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_http_douyin_dispatch(runner);
}


/* a batch with room for n items, its thread task and timer (heap) */

static ngx_http_douyin_batch_t *
ngx_http_douyin_batch_create(ngx_http_douyin_runner_t *runner, ngx_uint_t n)
{
    ngx_http_douyin_op_t     *op;
    ngx_http_douyin_batch_t  *batch;

    batch = ngx_calloc(sizeof(ngx_http_douyin_batch_t)
                       + sizeof(ngx_thread_task_t)
                       + sizeof(ngx_http_douyin_op_t), runner->log);
    if (batch == NULL) {
        return NULL;
    }

    batch->task = (ngx_thread_task_t *) (batch + 1);
    op = (ngx_http_douyin_op_t *) (batch->task + 1);

    op->items = ngx_calloc(ngx_max(n, 1) * sizeof(ngx_http_douyin_item_t),
                           runner->log);
    if (op->items == NULL) {
        ngx_free(batch);
        return NULL;
    }

    op->conf = runner->conf;
    op->store = &runner->store;
    op->auth_header = runner->auth_header;
    op->owner = runner->owner;

    batch->runner = runner;
    batch->started = ngx_current_msec;

    ngx_queue_insert_tail(&runner->batches, &batch->queue);

    batch->task->ctx = op;
    batch->task->handler = ngx_http_douyin_op_handler;
    batch->task->event.handler = ngx_http_douyin_batch_done;
    batch->task->event.data = batch;
    batch->task->event.log = runner->log;

    batch->timer.handler = ngx_http_douyin_batch_timer;
    batch->timer.data = batch;
    batch->timer.log = runner->log;

    /* a worker that shuts down does not wait for the provider */
    batch->timer.cancelable = 1;

    return batch;
}


/* runs the batch's op after delay ms (and after its rate admission) */

static void
ngx_http_douyin_batch_schedule(ngx_http_douyin_batch_t *batch,
    ngx_msec_t delay)
{
    if (delay == 0) {
        ngx_http_douyin_batch_timer(&batch->timer);
        return;
    }

    ngx_add_timer(&batch->timer, delay);
}


/*
 * A provider request (submit, query) first waits in this worker's queue
 * of its kind, first come first served; only the head of the queue asks
 * the douyin_asr_rate zone for admission (ngx_http_douyin_rate_admit()),
 * which books nothing ahead.  So the zone never holds slots for the
 * videos a worker has queued, and a worker that exits takes its queue
 * with it; the next workers resume those videos from the store.
 */

static void
ngx_http_douyin_batch_timer(ngx_event_t *ev)
{
    ngx_http_douyin_batch_t *batch = ev->data;

    ngx_uint_t                 query;
    ngx_msec_t                 delay;
    ngx_http_douyin_op_t      *op;
    ngx_http_douyin_runner_t  *runner;

    if (ngx_exiting || ngx_quit || ngx_terminate) {

        /* shutting down: no new step; the next workers resume the batch */
        return;
    }

    op = batch->task->ctx;
    runner = batch->runner;

    if (op->op != NGX_HTTP_DOUYIN_OP_SUBMIT
        && op->op != NGX_HTTP_DOUYIN_OP_POLL)
    {
        ngx_http_douyin_batch_post(batch);
        return;
    }

    query = (op->op == NGX_HTTP_DOUYIN_OP_POLL);

    if (ngx_queue_empty(&runner->rate_waiting[query])) {
        delay = ngx_http_douyin_rate_admit(runner->conf, query);

        if (delay == 0) {
            ngx_http_douyin_batch_post(batch);
            return;
        }

        ngx_add_timer(&runner->rate_timer[query], delay);
    }

    ngx_queue_insert_tail(&runner->rate_waiting[query], &batch->rate_queue);
    batch->rate_waiting = 1;
    batch->rate_since = ngx_current_msec;
}


/* the head of a queue of waiting provider requests asks again */

static void
ngx_http_douyin_rate_timer(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_uint_t                query;
    ngx_msec_t                delay;
    ngx_queue_t              *q;
    ngx_http_douyin_batch_t  *batch;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    query = (ev == &runner->rate_timer[1]);

    while (!ngx_queue_empty(&runner->rate_waiting[query])) {

        delay = ngx_http_douyin_rate_admit(runner->conf, query);

        if (delay > 0) {
            ngx_add_timer(ev, delay);
            return;
        }

        q = ngx_queue_head(&runner->rate_waiting[query]);
        ngx_queue_remove(q);

        batch = ngx_queue_data(q, ngx_http_douyin_batch_t, rate_queue);
        batch->rate_waiting = 0;

        ngx_http_douyin_metrics_rate_wait(runner->conf, query,
                                          ngx_current_msec
                                          - batch->rate_since);

        ngx_http_douyin_batch_post(batch);
    }
}


/* the batch's op goes to the thread pool */

static void
ngx_http_douyin_batch_post(ngx_http_douyin_batch_t *batch)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, batch->runner->log, 0,
                   "douyin batch %p: posting op %ui", batch,
                   (ngx_uint_t) ((ngx_http_douyin_op_t *)
                                 batch->task->ctx)->op);

    if (ngx_http_douyin_task_post(batch->runner->conf->thread_pool,
                                  batch->task)
        != NGX_OK)
    {
        /* the queue is full (logged by nginx): try again in a while */
        ngx_add_timer(&batch->timer, 1000);
    }
}


/* a step of the batch is done: the event loop decides the next one */

static void
ngx_http_douyin_batch_done(ngx_event_t *ev)
{
    ngx_http_douyin_batch_t *batch = ev->data;

    ngx_http_douyin_op_t  *op;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    op = batch->task->ctx;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, batch->runner->log, 0,
                   "douyin batch %p: op %ui done, rc %ui", batch,
                   (ngx_uint_t) op->op, (ngx_uint_t) op->rc);

    switch (op->rc) {

    case NGX_HTTP_DOUYIN_RC_NEXT:

        if (op->op == NGX_HTTP_DOUYIN_OP_SUBMIT) {
            ngx_http_douyin_batch_submitted(batch, op);

        } else {
            ngx_http_douyin_batch_running(batch, op);
        }

        return;

    case NGX_HTTP_DOUYIN_RC_RETRY:
    case NGX_HTTP_DOUYIN_RC_ERROR:
        ngx_http_douyin_batch_retry(batch, op);
        return;

    case NGX_HTTP_DOUYIN_RC_FAIL:
        ngx_http_douyin_batch_refused(batch, op);
        return;

    case NGX_HTTP_DOUYIN_RC_UNKNOWN:
        ngx_http_douyin_batch_unknown(batch, op);
        return;

    case NGX_HTTP_DOUYIN_RC_DONE:

        if (op->op == NGX_HTTP_DOUYIN_OP_POLL) {

            /* the provider task ended (SUCCEEDED or FAILED) */

            ngx_http_douyin_metrics_observe(batch->runner->conf,
                        NGX_HTTP_DOUYIN_H_TASK, 0,
                        (uint64_t) (ngx_current_msec - batch->started) * 1000);
        }

        ngx_http_douyin_batch_end(batch);
        return;
    }
}


/* submitted: poll the provider task, first after douyin_poll_interval */

static void
ngx_http_douyin_batch_submitted(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op)
{
    ngx_http_douyin_runner_t  *runner;

    runner = batch->runner;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin: submitted %ui file(s) as task %s (first %s)",
                   op->nitems, op->u.batch.task_id, op->items[0].aweme_id);

    if (op->u.batch.adopted) {
        ngx_log_error(NGX_LOG_NOTICE, runner->log, 0,
                      "douyin: the submit of %ui video(s) (first %s) whose "
                      "answer was lost reached DashScope as task %s (found "
                      "in its task list): polling it, not submitting again",
                      op->nitems, op->items[0].aweme_id, op->u.batch.task_id);

    } else if (op->u.batch.resubmitted) {
        ngx_log_error(NGX_LOG_NOTICE, runner->log, 0,
                      "douyin: the submit of %ui video(s) (first %s) whose "
                      "answer was lost is not in DashScope's task list: "
                      "submitted again as task %s",
                      op->nitems, op->items[0].aweme_id, op->u.batch.task_id);
    }

    if (op->detail[0] != '\0') {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                      "douyin: task %s: %s", op->u.batch.task_id, op->detail);
    }

    op->op = NGX_HTTP_DOUYIN_OP_POLL;
    op->attempt = 0;
    batch->polls = 0;

    /* douyin_asr_timeout counts from the submit */
    batch->started = ngx_current_msec;
    ngx_http_douyin_batch_schedule(batch, runner->conf->poll_interval);
}


/* the provider task is still PENDING or RUNNING: poll again, or give up */

static void
ngx_http_douyin_batch_running(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op)
{
    ngx_uint_t                    shift;
    ngx_msec_t                    delay;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = batch->runner->conf;

    op->attempt = 0;
    batch->polls++;

    if (ngx_current_msec - batch->started >= dmcf->asr_timeout) {
        ngx_log_error(NGX_LOG_ERR, batch->runner->log, 0,
                      "douyin: task %s did not end within "
                      "douyin_asr_timeout", op->u.batch.task_id);
        ngx_http_douyin_batch_fail(batch, "ASR_TIMEOUT",
                                   "The ASR provider did not finish in "
                                   "time.");
        return;
    }

    /* as the official SDK: doubling every 3 polls, up to the max */

    shift = ngx_min(batch->polls / 3, 16);
    delay = ngx_min(dmcf->poll_interval << shift, dmcf->poll_max);

    ngx_http_douyin_batch_schedule(batch, delay);
}


/*
 * a transient failure: the same step again after a backoff (growing to
 * 30 s); a provider call that keeps failing is tried until
 * douyin_asr_timeout after the batch started, a store write that keeps
 * failing NGX_HTTP_DOUYIN_MAX_ATTEMPTS times
 */

static void
ngx_http_douyin_batch_retry(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op)
{
    ngx_http_douyin_runner_t  *runner;

    runner = batch->runner;

    if (op->attempt + 1 >= NGX_HTTP_DOUYIN_MAX_ATTEMPTS
        && !batch->detached
        && (op->err == NGX_HTTP_DOUYIN_ERR_STORE
            || op->err == NGX_HTTP_DOUYIN_ERR_STORE_FULL
            || op->err == NGX_HTTP_DOUYIN_ERR_NO_MEMORY))
    {
        ngx_http_douyin_batch_unstored(batch, op);
    }

    if ((op->op == NGX_HTTP_DOUYIN_OP_SUBMIT
         || op->op == NGX_HTTP_DOUYIN_OP_POLL)
        && op->err == NGX_HTTP_DOUYIN_OK
        && ngx_current_msec - batch->started >= runner->conf->asr_timeout)
    {
        /* the provider kept failing (429, 5xx, no answer) for too long */

        ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                      "douyin: %s; still failing douyin_asr_timeout after "
                      "the batch started: failing its %ui video(s)",
                      op->detail[0] ? op->detail : op->code, op->nitems);
        ngx_http_douyin_batch_fail(batch, op->code,
                                   "The ASR provider kept failing the "
                                   "request until douyin_asr_timeout.");
        return;
    }

    ngx_log_error(NGX_LOG_WARN, runner->log, 0,
                  "douyin: %s (attempt %ui), retrying",
                  op->detail[0] ? op->detail : op->code, op->attempt + 1);

    if (op->attempt + 1 < NGX_HTTP_DOUYIN_MAX_ATTEMPTS) {
        op->attempt++;
    }

    ngx_http_douyin_metric_add(runner->conf, NGX_HTTP_DOUYIN_M_RETRIES
                               + (op->op == NGX_HTTP_DOUYIN_OP_SUBMIT
                                  ? NGX_HTTP_DOUYIN_RETRY_SUBMIT
                                  : op->op == NGX_HTTP_DOUYIN_OP_POLL
                                    ? NGX_HTTP_DOUYIN_RETRY_POLL
                                    : NGX_HTTP_DOUYIN_RETRY_FAIL), 1);

    ngx_http_douyin_batch_schedule(batch,
                                   ngx_http_douyin_backoff(runner,
                                                           op->attempt));
}


/*
 * The outcome of the batch could not be stored, attempt after attempt
 * (the store is full, failing, or memory is short): the records stay
 * "processing", held by this worker.  The callers learn it now, as such
 * (never as failures: the store does not say failed), and the batch goes
 * on retrying the same step at the longest backoff, without its jobs,
 * until the store takes the outcome (room again: no reload needed).  If
 * the worker exits first, the next workers resume the videos from their
 * task id.
 */

static void
ngx_http_douyin_batch_unstored(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op)
{
    ngx_uint_t              i;
    ngx_http_douyin_job_t  *job;

    ngx_log_error(NGX_LOG_ERR, batch->runner->log, 0,
                  "douyin: %s; %ui video(s) stay processing, their "
                  "outcome is stored once the store takes it",
                  op->detail, op->nitems);

    batch->detached = 1;

    for (i = 0; i < op->nitems; i++) {
        job = batch->jobs[i];

        if (job == NULL) {
            continue;
        }

        job->unstored++;
        job->unstored_err = op->err;
        batch->jobs[i] = NULL;

        if (i + 1 == op->nitems || batch->jobs[i + 1] != job) {
            ngx_http_douyin_job_check(job);
        }
    }
}


/*
 * The outcome of the batch's submit is not known: its answer was lost,
 * and the provider's task list cannot tell yet whether it arrived (the
 * list failed, or a task of that time has not ended).  Nothing is sent:
 * the videos stay "processing" with their submit_at (a worker that
 * takes them over settles them the same way), and the list is read
 * again after a backoff.  Only when that lasts douyin_asr_timeout from
 * the submit do they fail ASR_SUBMIT_UNCERTAIN.
 */

static void
ngx_http_douyin_batch_unknown(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op)
{
    int64_t                    age;
    ngx_msec_t                 delay;
    ngx_time_t                *tp;
    ngx_http_douyin_runner_t  *runner;

    runner = batch->runner;

    tp = ngx_timeofday();
    age = (int64_t) tp->sec * 1000 + (int64_t) tp->msec
          - (int64_t) op->items[0].submit_ms;

    if (age >= (int64_t) runner->conf->asr_timeout) {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                      "douyin: %s; whether the submit of %ui video(s) "
                      "(first %s) reached DashScope was still not known "
                      "after douyin_asr_timeout: failing them",
                      op->detail, op->nitems, op->items[0].aweme_id);
        ngx_http_douyin_batch_fail(batch, "ASR_SUBMIT_UNCERTAIN",
                                   "The submit to the ASR provider got no "
                                   "answer, and its task list never told "
                                   "whether it arrived.");
        return;
    }

    batch->polls++;
    op->attempt = 0;

    delay = ngx_http_douyin_backoff(runner,
                                    ngx_min(batch->polls,
                                            NGX_HTTP_DOUYIN_MAX_ATTEMPTS - 1));

    ngx_log_error(NGX_LOG_WARN, runner->log, 0,
                  "douyin: %s; the submit of %ui video(s) (first %s) may "
                  "have reached DashScope: not sent again; its task list "
                  "is read again in %M ms",
                  op->detail[0] ? op->detail : op->code, op->nitems,
                  op->items[0].aweme_id, delay);

    ngx_http_douyin_metric_add(runner->conf, NGX_HTTP_DOUYIN_M_RETRIES
                               + NGX_HTTP_DOUYIN_RETRY_SUBMIT, 1);

    ngx_http_douyin_batch_schedule(batch, delay);
}


/* the provider refused the batch: log why, then store the failure */

static void
ngx_http_douyin_batch_refused(ngx_http_douyin_batch_t *batch,
    ngx_http_douyin_op_t *op)
{
    ngx_http_douyin_runner_t  *runner;

    runner = batch->runner;

    if (op->key_rejected) {
        if (!runner->key_rejected) {
            ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                          "douyin: the ASR provider rejected the key from "
                          "\"%V\": HTTP %l %s; failing queued videos",
                          &runner->conf->asr_key_env, op->http_status,
                          op->code);
        }

        runner->key_rejected = 1;
        ngx_cpystrn((u_char *) runner->key_code, (u_char *) op->code,
                    sizeof(runner->key_code));

    } else {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                      "douyin: %s", op->detail[0] ? op->detail : op->code);
    }

    ngx_http_douyin_batch_fail(batch, NULL, NULL);
}


/*
 * every item of the batch fails with code and message (stored by an
 * OP_FAIL thread op); NULL: with the op's fail_code and fail_message
 */

static void
ngx_http_douyin_batch_fail(ngx_http_douyin_batch_t *batch, const char *code,
    const char *message)
{
    ngx_http_douyin_op_t  *op;

    op = batch->task->ctx;

    op->op = NGX_HTTP_DOUYIN_OP_FAIL;
    op->attempt = 0;

    if (code != NULL) {
        ngx_cpystrn((u_char *) op->u.batch.fail_code, (u_char *) code,
                    sizeof(op->u.batch.fail_code));
        ngx_cpystrn((u_char *) op->u.batch.fail_message, (u_char *) message,
                    sizeof(op->u.batch.fail_message));
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, batch->runner->log, 0,
                   "douyin batch %p: failing with %s", batch,
                   op->u.batch.fail_code);

    ngx_http_douyin_batch_schedule(batch, 0);
}


/* the batch's videos have ended: count them in their jobs, free it */

static void
ngx_http_douyin_batch_end(ngx_http_douyin_batch_t *batch)
{
    ngx_uint_t                 i;
    ngx_http_douyin_op_t      *op;
    ngx_http_douyin_job_t     *job;
    ngx_http_douyin_runner_t  *runner;

    op = batch->task->ctx;
    runner = batch->runner;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                   "douyin batch %p: ended, %ui video(s)", batch, op->nitems);

    if (batch->timer.timer_set) {
        ngx_del_timer(&batch->timer);
    }

    if (batch->rate_waiting) {
        ngx_queue_remove(&batch->rate_queue);
        batch->rate_waiting = 0;
    }

    runner->inflight -= op->nitems;
    ngx_http_douyin_gauge_add(runner->conf, NGX_HTTP_DOUYIN_G_INFLIGHT,
                              -(ngx_atomic_int_t) op->nitems);

    for (i = 0; i < op->nitems; i++) {
        ngx_log_error(NGX_LOG_INFO, runner->log, 0, "douyin: video %s %V",
                      op->items[i].aweme_id,
                      &ngx_http_douyin_statuses[op->items[i].outcome].name);

        ngx_http_douyin_metadata_log(runner, &op->items[i]);

        if (op->items[i].outcome == NGX_HTTP_DOUYIN_COMPLETED
            || op->items[i].outcome == NGX_HTTP_DOUYIN_FAILED)
        {
            ngx_http_douyin_metrics_video_end(runner->conf, &op->items[i]);
        }

        job = batch->jobs[i];

        if (job == NULL) {
            continue;
        }

        job->ended++;

        if (op->items[i].outcome == NGX_HTTP_DOUYIN_COMPLETED) {
            job->success++;

        } else {
            job->failed++;
        }
    }

    for (i = 0; i < op->nitems; i++) {
        job = batch->jobs[i];

        if (job != NULL && (i + 1 == op->nitems || batch->jobs[i + 1] != job))
        {
            ngx_http_douyin_job_check(job);
        }
    }

    ngx_queue_remove(&batch->queue);

    ngx_http_douyin_op_free(op);
    ngx_free(batch);

    ngx_http_douyin_dispatch(runner);
}


/*
 * what became of a video's metadata in a thread op (item->meta): a fetch
 * that failed is a warning (the record is marked, the next listing
 * fetches it again), missing metadata fetched again a notice
 */

static void
ngx_http_douyin_metadata_log(ngx_http_douyin_runner_t *runner,
    ngx_http_douyin_item_t *item)
{
    if (item->meta == NGX_HTTP_DOUYIN_META_FAILED) {
        ngx_log_error(NGX_LOG_WARN, runner->log, 0,
                      "douyin: video %s: file-system-go metadata of \"%s\" "
                      "failed: %s; stored without it, the next process "
                      "call fetches it again", item->aweme_id,
                      item->filename ? item->filename : "",
                      item->meta_error);

    } else if (item->meta == NGX_HTTP_DOUYIN_META_REPAIRED) {
        ngx_log_error(NGX_LOG_NOTICE, runner->log, 0,
                      "douyin: video %s: its missing metadata was fetched "
                      "again and stored", item->aweme_id);
    }
}


/*
 * The worker is shutting down (reload, upgrade, stop).  Batch timers are
 * cancelable, so the worker does not wait for the provider: what it
 * holds stays in the store ("processing", its task id kept), the worker
 * leaves the workers database when it exits, and the next workers'
 * recovery resumes it.  Callers still waiting get their answer now, with
 * what has ended and how many videos were handed over; batches forget
 * their jobs.  Called by the watch timer, which runs while a caller
 * waits.
 */

static void
ngx_http_douyin_hand_over(ngx_http_douyin_runner_t *runner)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q, *next;
    ngx_http_douyin_op_t      *op;
    ngx_http_douyin_job_t     *job;
    ngx_http_douyin_batch_t   *batch;

    for (q = ngx_queue_head(&runner->batches);
         q != ngx_queue_sentinel(&runner->batches);
         q = ngx_queue_next(q))
    {
        batch = ngx_queue_data(q, ngx_http_douyin_batch_t, queue);
        op = batch->task->ctx;

        for (i = 0; i < op->nitems; i++) {
            if (batch->jobs[i] != NULL) {
                batch->jobs[i]->handed_over++;
                batch->jobs[i] = NULL;
            }
        }
    }

    while (!ngx_queue_empty(&runner->jobs)) {
        q = ngx_queue_head(&runner->jobs);
        job = ngx_queue_data(q, ngx_http_douyin_job_t, queue);
        op = job->task->ctx;

        for ( /* void */ ; job->next < op->nitems; job->next++) {
            job->handed_over += op->items[job->next].claimed;
            ngx_http_douyin_gauge_add(runner->conf, NGX_HTTP_DOUYIN_G_QUEUED,
                                      -(ngx_atomic_int_t)
                                       op->items[job->next].claimed);
        }

        ngx_queue_remove(q);
        job->queued = 0;
    }

    for (q = ngx_queue_head(&runner->live_jobs);
         q != ngx_queue_sentinel(&runner->live_jobs);
         q = next)
    {
        next = ngx_queue_next(q);
        job = ngx_queue_data(q, ngx_http_douyin_job_t, live);
        ngx_http_douyin_job_check(job);
    }
}


/* while a caller waits: hand over when the worker starts shutting down */

static void
ngx_http_douyin_watch(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_douyin_hand_over(runner);
        return;
    }

    if (!ngx_queue_empty(&runner->live_jobs)) {
        ngx_add_timer(ev, NGX_HTTP_DOUYIN_WATCH);
    }
}


/* exponential backoff with jitter: interval * 2^attempt * [0.5, 1.5) */

static ngx_msec_t
ngx_http_douyin_backoff(ngx_http_douyin_runner_t *runner, ngx_uint_t attempt)
{
    ngx_msec_t  delay;

    delay = runner->conf->poll_interval << ngx_min(attempt, 16);
    delay = ngx_min(delay, NGX_HTTP_DOUYIN_BACKOFF_MAX);

    return delay / 2 + (ngx_msec_t) (ngx_random() % (delay + 1));
}


/* every few seconds: take over claims of workers that are gone */

static void
ngx_http_douyin_recover_timer(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_http_douyin_op_t  *op;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (runner->recover_task->event.active) {
        ngx_add_timer(ev, NGX_HTTP_DOUYIN_RECOVER_INTERVAL);
        return;
    }

    op = runner->recover_task->ctx;
    ngx_memzero(op, sizeof(ngx_http_douyin_op_t));

    op->op = NGX_HTTP_DOUYIN_OP_RECOVER;
    op->conf = runner->conf;
    op->store = &runner->store;
    op->owner = runner->owner;

    /* what there is room for (douyin_max_inflight); the rest next time */

    if (runner->inflight >= runner->conf->max_inflight) {
        ngx_add_timer(ev, NGX_HTTP_DOUYIN_RECOVER_INTERVAL);
        return;
    }

    op->u.recover.limit = runner->conf->max_inflight - runner->inflight;

    if (ngx_http_douyin_task_post(runner->conf->thread_pool,
                                  runner->recover_task)
        != NGX_OK)
    {
        ngx_add_timer(ev, NGX_HTTP_DOUYIN_RECOVER_INTERVAL);
    }
}


/* resume what was taken over: poll stored task ids, submit the rest */

static void
ngx_http_douyin_recover_done(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    char                 **ids;
    ngx_uint_t             i, j;
    ngx_http_douyin_op_t  *op;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    op = runner->recover_task->ctx;
    ids = op->u.recover.task_ids;

    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0, "douyin: %s", op->detail);
        goto next;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {

        /* taken over just now: the next workers resume them */
        goto next;
    }

    if (op->nitems > 0) {
        ngx_log_error(NGX_LOG_NOTICE, runner->log, 0,
                      "douyin: resuming %ui video(s) left processing by a "
                      "worker that is gone", op->nitems);
    }

    for (i = 0; i < op->nitems; i = j) {

        /*
         * one batch: the same task id, or up to asr_batch without one
         * and with the same submit time (the records of one submit that
         * may have reached the provider, settled together; or none)
         */

        for (j = i + 1; j < op->nitems && j - i < NGX_HTTP_DOUYIN_BATCH_MAX;
             j++)
        {
            if (ids[i] == NULL) {
                if (ids[j] != NULL || j - i >= runner->conf->asr_batch
                    || op->items[j].submit_ms != op->items[i].submit_ms)
                {
                    break;
                }

            } else if (ids[j] == NULL || ngx_strcmp(ids[i], ids[j]) != 0) {
                break;
            }
        }

        if (ngx_http_douyin_recover_batch(runner, op, i, j) != NGX_OK) {
            break;      /* the records stay ours; a restart resumes them */
        }
    }

next:

    ngx_http_douyin_op_free(op);

    if (!(ngx_exiting || ngx_terminate || ngx_quit)) {
        ngx_add_timer(&runner->recover_timer,
                      ngx_current_msec - runner->started
                      < NGX_HTTP_DOUYIN_RECOVER_YOUNG
                      ? NGX_HTTP_DOUYIN_RECOVER_EARLY
                      : NGX_HTTP_DOUYIN_RECOVER_INTERVAL);
    }
}


/*
 * one batch of the videos op->items[from .. to - 1] taken over by the
 * recovery, which share one provider task id (poll it) or have none
 * (submit them); NGX_ERROR when out of memory
 */

static ngx_int_t
ngx_http_douyin_recover_batch(ngx_http_douyin_runner_t *runner,
    ngx_http_douyin_op_t *op, ngx_uint_t from, ngx_uint_t to)
{
    ngx_uint_t                n;
    ngx_msec_t                age;
    ngx_http_douyin_op_t     *bop;
    ngx_http_douyin_batch_t  *batch;

    n = to - from;

    batch = ngx_http_douyin_batch_create(runner, n);
    if (batch == NULL) {
        return NGX_ERROR;
    }

    bop = batch->task->ctx;

    for (bop->nitems = 0; bop->nitems < n; bop->nitems++) {
        bop->items[bop->nitems] = op->items[from + bop->nitems];
        op->items[from + bop->nitems].file_url = NULL;
        op->items[from + bop->nitems].filename = NULL;
    }

    runner->inflight += n;
    ngx_http_douyin_gauge_add(runner->conf, NGX_HTTP_DOUYIN_G_INFLIGHT, n);
    ngx_http_douyin_metric_add(runner->conf, NGX_HTTP_DOUYIN_M_RESUMED, n);

    if (op->u.recover.task_ids[from] == NULL) {

        /* with a submit_ms, the submit is settled before it is sent */

        bop->op = NGX_HTTP_DOUYIN_OP_SUBMIT;
        ngx_http_douyin_batch_schedule(batch, 0);
        return NGX_OK;
    }

    /* a resumed provider task: its time limit counts from the claim */

    age = (ngx_msec_t) (ngx_time() - op->items[from].claimed_at) * 1000;
    batch->started = ngx_current_msec - ngx_min(age, 86400000);

    bop->op = NGX_HTTP_DOUYIN_OP_POLL;
    ngx_cpystrn((u_char *) bop->u.batch.task_id,
                (u_char *) op->u.recover.task_ids[from],
                sizeof(bop->u.batch.task_id));

    ngx_http_douyin_batch_schedule(batch, 0);

    return NGX_OK;
}


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: scheduled jobs (event loop).
 *
 * douyin_process_schedule and douyin_retention name local times of day.
 * Every worker arms one cancelable nginx timer per job for its next
 * occurrence (its "slot": the Unix second it is due, the same in every
 * worker and generation), and re-arms it when it fires.  When it fires,
 * the worker takes the job's lease in the store (OP_LEASE,
 * ngx_http_douyin_lease.c): one write transaction at a time across all
 * processes decides which worker runs the slot; the others find it
 * taken.  A slot that passed while nginx was down is not run late: a
 * worker only arms future slots.
 *
 * Transcription runs a job of the runner without a request
 * (ngx_http_douyin_job_run(): what POST /api/process/async starts).
 * Retention finds the completed videos older than its age
 * (OP_EXPIRE_SCAN), then removes them one at a time (OP_EXPIRE: the WAV
 * on file-system-go first, then the record), once at start (worker 0 of
 * each generation), daily at its time, and for POST /api/aweme/cleanup.
 * Each run ends by storing its summary in the lease (OP_LEASE_END),
 * which GET /health shows.
 *
 * Settling: worker 0 looks every second for deletes and mark-reads that
 * file-system-go left unknown, and posts OP_SETTLE when one waits
 * (ngx_http_douyin_settle.c says how a note is settled).
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_SCHED_PROCESS    "process"
#define NGX_HTTP_DOUYIN_SCHED_RETENTION  "retention"

/* settling: how often worker 0 looks, in ms; how many douyin_http_timeout
 * a note waits before "not done" is final */
#define NGX_HTTP_DOUYIN_SETTLE_INTERVAL  1000
#define NGX_HTTP_DOUYIN_SETTLE_WAIT      10


struct ngx_http_douyin_sched_s {
    ngx_http_douyin_runner_t   *runner;
    const char                 *name;           /* the lease's */
    const char                 *what;           /* for the log */
    ngx_uint_t                 *at;             /* minutes after midnight */
    ngx_uint_t                  nat;

    ngx_event_t                 timer;          /* the next slot */
    time_t                      next;           /* its Unix s, 0: none */
    ngx_event_t                 start;          /* retention at start */

    ngx_flag_t                  running;        /* a run of ours */
    const char                 *trigger;
    time_t                      age;            /* retention: s */
    time_t                      cutoff;         /* retention: Unix s */

    /* a retention run */
    ngx_http_douyin_item_t     *items;          /* malloc()ed */
    ngx_uint_t                  nitems;
    ngx_uint_t                  next_item;
    ngx_uint_t                  removed;
    ngx_uint_t                  failed;
    cJSON                      *failed_files;   /* names, for the caller */
    ngx_http_douyin_err_e       err;

    /* POST /api/aweme/cleanup waiting for the run */
    ngx_http_request_t         *request;
    ngx_pool_cleanup_t         *request_cleanup;
    ngx_http_douyin_respond_pt  respond;
};


static ngx_http_douyin_sched_t *ngx_http_douyin_sched_create(
    ngx_cycle_t *cycle, ngx_http_douyin_runner_t *runner, const char *name,
    const char *what, ngx_uint_t *at, ngx_uint_t nat);
static void ngx_http_douyin_sched_arm(ngx_http_douyin_sched_t *sched,
    time_t after);
static void ngx_http_douyin_sched_loaded(ngx_http_douyin_sched_t *sched,
    const char *params);
static void ngx_http_douyin_sched_timer(ngx_event_t *ev);
static void ngx_http_douyin_sched_start_timer(ngx_event_t *ev);
static ngx_int_t ngx_http_douyin_sched_post(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_e kind, ngx_http_douyin_op_t **opp);
static ngx_int_t ngx_http_douyin_sched_send(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_sched_take(ngx_http_douyin_sched_t *sched,
    time_t slot, const char *trigger);
static void ngx_http_douyin_sched_done(ngx_event_t *ev);
static void ngx_http_douyin_sched_leased(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_sched_end(ngx_http_douyin_sched_t *sched,
    cJSON *summary);
static void ngx_http_douyin_process_run(ngx_http_douyin_sched_t *sched);
static void ngx_http_douyin_process_done(ngx_http_douyin_job_t *job,
    ngx_http_douyin_err_e err, ngx_uint_t listed);
static void ngx_http_douyin_retention_run(ngx_http_douyin_sched_t *sched);
static void ngx_http_douyin_retention_scanned(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_retention_next(ngx_http_douyin_sched_t *sched);
static void ngx_http_douyin_retention_expired(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op);
static void ngx_http_douyin_retention_end(ngx_http_douyin_sched_t *sched);
static void ngx_http_douyin_retention_respond(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_err_e err, cJSON *json);
static void ngx_http_douyin_cleanup_request_cleanup(void *data);
static void ngx_http_douyin_sched_free_items(ngx_http_douyin_sched_t *sched);
static void ngx_http_douyin_sched_settle_init(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner);
static void ngx_http_douyin_sched_settle_exit(
    ngx_http_douyin_runner_t *runner);
static void ngx_http_douyin_sched_settle_timer(ngx_event_t *ev);
static void ngx_http_douyin_sched_settle_done(ngx_event_t *ev);
static u_char *ngx_http_douyin_local_time(u_char *buf, time_t t);
static cJSON *ngx_http_douyin_sched_json(ngx_http_douyin_main_conf_t *dmcf,
    const char *name, ngx_uint_t *at, ngx_uint_t nat);


/*
 * ngx_http_douyin_schedule_init: init_process part: arms the timers of
 * douyin_process_schedule and douyin_retention (and retention's run at
 * start, in worker 0), and prepares the state of POST
 * /api/aweme/cleanup.  Returns NGX_OK, or NGX_ERROR when out of memory.
 */

ngx_int_t
ngx_http_douyin_schedule_init(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner)
{
    u_char                        params[64];
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = runner->conf;

    /*
     * the local time zone is the one of the worker's environment (nginx's
     * "env TZ=...;" sets it before init_process): read it now
     */

    tzset();

    /* deletes and mark-reads that file-system-go left unknown */
    ngx_http_douyin_sched_settle_init(cycle, runner);

    if (dmcf->nprocess_at > 0) {
        runner->process = ngx_http_douyin_sched_create(cycle, runner,
                                                 NGX_HTTP_DOUYIN_SCHED_PROCESS,
                                                 "transcription",
                                                 dmcf->process_at,
                                                 dmcf->nprocess_at);
        if (runner->process == NULL) {
            return NGX_ERROR;
        }

        ngx_http_douyin_sched_loaded(runner->process,
                                     dmcf->process_pending ? "scope=pending"
                                                           : "scope=all");
        ngx_http_douyin_sched_arm(runner->process, ngx_time());
    }

    runner->retention = ngx_http_douyin_sched_create(cycle, runner,
                                               NGX_HTTP_DOUYIN_SCHED_RETENTION,
                                               "retention",
                                               &dmcf->retention_at, 1);
    if (runner->retention == NULL) {
        return NGX_ERROR;
    }

    if (dmcf->retention == 0) {
        return NGX_OK;
    }

    ngx_snprintf(params, sizeof(params), "age %T s%Z", dmcf->retention);
    ngx_http_douyin_sched_loaded(runner->retention, (char *) params);
    ngx_http_douyin_sched_arm(runner->retention, ngx_time());

    if (ngx_worker == 0) {
        ngx_add_timer(&runner->retention->start, 1);
    }

    return NGX_OK;
}


static ngx_http_douyin_sched_t *
ngx_http_douyin_sched_create(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner, const char *name, const char *what,
    ngx_uint_t *at, ngx_uint_t nat)
{
    ngx_http_douyin_sched_t  *sched;

    sched = ngx_pcalloc(cycle->pool, sizeof(ngx_http_douyin_sched_t));
    if (sched == NULL) {
        return NULL;
    }

    sched->runner = runner;
    sched->name = name;
    sched->what = what;
    sched->at = at;
    sched->nat = nat;

    sched->timer.handler = ngx_http_douyin_sched_timer;
    sched->timer.data = sched;
    sched->timer.log = cycle->log;

    /* a worker that shuts down does not wait for the next slot */
    sched->timer.cancelable = 1;

    sched->start.handler = ngx_http_douyin_sched_start_timer;
    sched->start.data = sched;
    sched->start.log = cycle->log;
    sched->start.cancelable = 1;

    return sched;
}


/*
 * ngx_http_douyin_schedule_exit: exit_process part: frees what a
 * retention run cut by the exit still holds (its timers are cancelable).
 */

void
ngx_http_douyin_schedule_exit(ngx_http_douyin_runner_t *runner)
{
    ngx_http_douyin_sched_settle_exit(runner);

    if (runner->retention != NULL) {
        ngx_http_douyin_sched_free_items(runner->retention);
        cJSON_Delete(runner->retention->failed_files);
        runner->retention->failed_files = NULL;
    }
}


/*
 * ngx_http_douyin_schedule_next: the first of the local times of day
 * at[0 .. n - 1] (minutes after midnight) that comes after "now", as
 * Unix s; the time zone is the process's (TZ).
 */

time_t
ngx_http_douyin_schedule_next(time_t now, ngx_uint_t *at, ngx_uint_t n)
{
    time_t      best, t;
    ngx_tm_t    tm, day;
    ngx_uint_t  i, d;

    best = 0;

    ngx_libc_localtime(now, &tm);

    for (i = 0; i < n; i++) {
        for (d = 0; d < 3; d++) {
            day = tm;
            day.tm_mday += d;
            day.tm_hour = at[i] / 60;
            day.tm_min = at[i] % 60;
            day.tm_sec = 0;
            day.tm_isdst = -1;

            t = mktime(&day);

            if (t != (time_t) -1 && t > now) {
                if (best == 0 || t < best) {
                    best = t;
                }

                break;
            }
        }
    }

    return best;
}


/* arms the timer for the first slot after "after" */

static void
ngx_http_douyin_sched_arm(ngx_http_douyin_sched_t *sched, time_t after)
{
    ngx_msec_t   delay;
    ngx_time_t  *tp;

    sched->next = ngx_http_douyin_schedule_next(after, sched->at,
                                                sched->nat);
    if (sched->next == 0) {
        return;
    }

    tp = ngx_timeofday();

    if (sched->next <= tp->sec) {
        delay = 1;

    } else {
        delay = (ngx_msec_t) (sched->next - tp->sec) * 1000 - tp->msec;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sched->timer.log, 0,
                   "douyin %s: next slot %T in %M ms",
                   sched->what, sched->next, delay);

    ngx_add_timer(&sched->timer, delay);
}


/* the "schedule loaded" notice, once per generation (worker 0) */

static void
ngx_http_douyin_sched_loaded(ngx_http_douyin_sched_t *sched,
    const char *params)
{
    u_char      times[NGX_HTTP_DOUYIN_TIMES_MAX * 6 + 1], *p;
    u_char      next[32];
    time_t      t;
    ngx_uint_t  i;

    if (ngx_worker != 0) {
        return;
    }

    p = times;

    for (i = 0; i < sched->nat; i++) {
        p = ngx_sprintf(p, "%s%02ui:%02ui", i ? " " : "",
                        sched->at[i] / 60, sched->at[i] % 60);
    }

    *p = '\0';

    t = ngx_http_douyin_schedule_next(ngx_time(), sched->at, sched->nat);
    *ngx_http_douyin_local_time(next, t) = '\0';

    ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                  "douyin: %s scheduled daily at %s local time (%s); "
                  "next at %s", sched->what, times, params, next);
}


/* a slot is due: take its lease; then arm the next one */

static void
ngx_http_douyin_sched_timer(ngx_event_t *ev)
{
    ngx_http_douyin_sched_t *sched = ev->data;

    time_t  slot;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    slot = sched->next;

    if (ngx_time() < slot) {

        /* the monotonic clock ran ahead of the wall clock: not yet */
        ngx_add_timer(ev, (ngx_msec_t) (slot - ngx_time()) * 1000);
        return;
    }

    ngx_http_douyin_sched_arm(sched, slot);

    ngx_http_douyin_sched_take(sched, slot, "schedule");
}


/* retention's run at start (worker 0 of each generation) */

static void
ngx_http_douyin_sched_start_timer(ngx_event_t *ev)
{
    ngx_http_douyin_sched_t *sched = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_http_douyin_sched_take(sched, 0, "start");
}


/*
 * an op of kind for sched, on a thread task of its own (heap; freed by
 * ngx_http_douyin_sched_done()), in *opp for the caller to fill; then
 * ngx_http_douyin_sched_send() posts it
 */

static ngx_int_t
ngx_http_douyin_sched_post(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_e kind, ngx_http_douyin_op_t **opp)
{
    ngx_thread_task_t         *task;
    ngx_http_douyin_op_t      *op;
    ngx_http_douyin_runner_t  *runner;

    runner = sched->runner;

    task = ngx_calloc(sizeof(ngx_thread_task_t)
                      + sizeof(ngx_http_douyin_op_t), runner->log);
    if (task == NULL) {
        return NGX_ERROR;
    }

    op = (ngx_http_douyin_op_t *) (task + 1);

    task->ctx = op;
    task->handler = ngx_http_douyin_op_handler;
    task->event.handler = ngx_http_douyin_sched_done;
    task->event.data = sched;
    task->event.log = runner->log;

    op->op = kind;
    op->conf = runner->conf;
    op->store = &runner->store;
    op->owner = runner->owner;

    if (kind == NGX_HTTP_DOUYIN_OP_EXPIRE_SCAN
        || kind == NGX_HTTP_DOUYIN_OP_EXPIRE)
    {
        op->u.expire.cutoff = sched->cutoff;

    } else {
        op->u.lease.name = sched->name;
        op->u.lease.now = ngx_time();
    }

    *opp = op;

    return NGX_OK;
}


/* posts the op filled since ngx_http_douyin_sched_post(); frees on error */

static ngx_int_t
ngx_http_douyin_sched_send(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op)
{
    ngx_thread_task_t  *task;

    task = (ngx_thread_task_t *) op - 1;

    if (ngx_http_douyin_task_post(sched->runner->conf->thread_pool, task)
        != NGX_OK)
    {
        ngx_http_douyin_op_free(op);
        ngx_free(task);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* takes the lease of sched's job for slot (0: not scheduled) */

static void
ngx_http_douyin_sched_take(ngx_http_douyin_sched_t *sched, time_t slot,
    const char *trigger)
{
    ngx_http_douyin_op_t  *op;

    if (!sched->runner->store_ok) {
        ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                      "douyin: %s skipped: the store is not open",
                      sched->what);
        return;
    }

    if (sched->running) {
        ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                      "douyin: %s (%s) skipped: this worker's run is "
                      "still going", sched->what, trigger);
        return;
    }

    if (ngx_http_douyin_sched_post(sched, NGX_HTTP_DOUYIN_OP_LEASE, &op)
        != NGX_OK)
    {
        return;
    }

    op->u.lease.slot = slot;
    op->u.lease.trigger = trigger;

    /* the run is ours until the lease says otherwise */
    sched->running = 1;
    sched->trigger = trigger;

    if (ngx_http_douyin_sched_send(sched, op) != NGX_OK) {
        sched->running = 0;
        ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                      "douyin: %s (%s) skipped: the thread pool queue is "
                      "full", sched->what, trigger);
    }
}


/* an op of sched is done: the event loop decides what comes next */

static void
ngx_http_douyin_sched_done(ngx_event_t *ev)
{
    ngx_http_douyin_sched_t *sched = ev->data;

    ngx_thread_task_t     *task;
    ngx_http_douyin_op_t  *op;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    task = (ngx_thread_task_t *) ((u_char *) ev
                                  - offsetof(ngx_thread_task_t, event));
    op = task->ctx;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "douyin %s: op %ui done, rc %ui", sched->what,
                   (ngx_uint_t) op->op, (ngx_uint_t) op->rc);

    switch (op->op) {

    case NGX_HTTP_DOUYIN_OP_LEASE:
        ngx_http_douyin_sched_leased(sched, op);
        break;

    case NGX_HTTP_DOUYIN_OP_LEASE_END:
        if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0, "douyin: %s: %s",
                          sched->what, op->detail);
        }
        break;

    case NGX_HTTP_DOUYIN_OP_EXPIRE_SCAN:
        ngx_http_douyin_retention_scanned(sched, op);
        break;

    case NGX_HTTP_DOUYIN_OP_EXPIRE:
        ngx_http_douyin_retention_expired(sched, op);
        break;

    default:
        break;
    }

    ngx_http_douyin_op_free(op);
    ngx_free(task);
}


/* the lease is taken, or found taken */

static void
ngx_http_douyin_sched_leased(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op)
{
    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                      "douyin: %s (%s) skipped: %s", sched->what,
                      sched->trigger, op->detail);
        sched->running = 0;
        ngx_http_douyin_retention_respond(sched, op->err, NULL);
        return;
    }

    switch (op->u.lease.found) {

    case NGX_HTTP_DOUYIN_LEASE_DONE:
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sched->timer.log, 0,
                       "douyin %s: slot %T run by another worker",
                       sched->what, op->u.lease.slot);
        sched->running = 0;
        return;

    case NGX_HTTP_DOUYIN_LEASE_BUSY:
        ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                      "douyin: %s (%s) skipped: the last run is still "
                      "going", sched->what, sched->trigger);
        sched->running = 0;
        ngx_http_douyin_retention_respond(sched,
                                          NGX_HTTP_DOUYIN_ERR_CLEANUP_BUSY,
                                          NULL);
        return;

    case NGX_HTTP_DOUYIN_LEASE_TAKEN:
        break;
    }

    if (sched == sched->runner->process) {
        ngx_http_douyin_process_run(sched);

    } else {
        ngx_http_douyin_retention_run(sched);
    }
}


/* the run has ended: its summary into the lease (consumed), not ours */

static void
ngx_http_douyin_sched_end(ngx_http_douyin_sched_t *sched, cJSON *summary)
{
    ngx_http_douyin_op_t  *op;

    sched->running = 0;

    if (ngx_http_douyin_sched_post(sched, NGX_HTTP_DOUYIN_OP_LEASE_END, &op)
        != NGX_OK)
    {
        cJSON_Delete(summary);
        return;
    }

    op->u.lease.summary = summary;

    if (ngx_http_douyin_sched_send(sched, op) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                      "douyin: %s: the run's summary could not be stored: "
                      "the thread pool queue is full", sched->what);
    }
}


/* ---- transcription ------------------------------------------------- */


static void
ngx_http_douyin_process_run(ngx_http_douyin_sched_t *sched)
{
    cJSON                  *summary;
    ngx_http_douyin_err_e   err;

    err = ngx_http_douyin_job_run(sched->runner->conf,
                                  sched->runner->conf->process_pending,
                                  ngx_http_douyin_process_done, sched);
    if (err == NGX_HTTP_DOUYIN_OK) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                  "douyin: scheduled transcription did not start: %s",
                  ngx_http_douyin_errors[err].code);

    summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "error",
                            ngx_http_douyin_errors[err].code);

    ngx_http_douyin_sched_end(sched, summary);
}


/* the scheduled job's news: listed (listed = 1), then ended */

static void
ngx_http_douyin_process_done(ngx_http_douyin_job_t *job,
    ngx_http_douyin_err_e err, ngx_uint_t listed)
{
    ngx_http_douyin_sched_t *sched = job->data;

    cJSON  *summary;

    if (listed) {
        if (err != NGX_HTTP_DOUYIN_OK) {

            /* the job ends now: its summary says why */
            ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                          "douyin: scheduled transcription: the listing "
                          "failed (%s)", ngx_http_douyin_errors[err].code);
            sched->err = err;
            return;
        }

        sched->err = NGX_HTTP_DOUYIN_OK;

        ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                      "douyin: scheduled transcription started: %ui "
                      "video(s) listed, %ui to transcribe",
                      job->total, job->claimed);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                  "douyin: scheduled transcription ended: %ui listed, "
                  "%ui started, %ui completed, %ui failed, %ui handed over, "
                  "%ui not stored yet (still processing)",
                  job->total, job->claimed, job->success, job->failed,
                  job->handed_over, job->unstored);

    summary = cJSON_CreateObject();
    cJSON_AddNumberToObject(summary, "listed", job->total);
    cJSON_AddNumberToObject(summary, "started", job->claimed);
    cJSON_AddNumberToObject(summary, "completed", job->success);
    cJSON_AddNumberToObject(summary, "failed", job->failed);
    cJSON_AddNumberToObject(summary, "handed_over", job->handed_over);
    cJSON_AddNumberToObject(summary, "unstored", job->unstored);

    if (sched->err != NGX_HTTP_DOUYIN_OK) {
        cJSON_AddStringToObject(summary, "error",
                                ngx_http_douyin_errors[sched->err].code);

    } else {
        cJSON_AddNullToObject(summary, "error");
    }

    sched->err = NGX_HTTP_DOUYIN_OK;

    ngx_http_douyin_sched_end(sched, summary);
}


/* ---- retention ----------------------------------------------------- */


/*
 * ngx_http_douyin_cleanup_start: POST /api/aweme/cleanup: a retention run
 * now with "age" (s) for the request r, answered once through respond(r,
 * err, json) (the caller holds a reference of r for it):
 * {"success":true,"deleted":N,"failed":["<file>",...]}, or the error
 * CLEANUP_BUSY when another worker's run is going.  Returns
 * NGX_HTTP_DOUYIN_OK, or the error to answer now (CLEANUP_BUSY when a run
 * of this worker is going).
 */

ngx_http_douyin_err_e
ngx_http_douyin_cleanup_start(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, time_t age,
    ngx_http_douyin_respond_pt respond)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_douyin_sched_t  *sched;

    if (!ngx_http_douyin_store_ready(dmcf)) {
        return NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
    }

    sched = dmcf->runner->retention;

    if (sched == NULL) {
        return NGX_HTTP_DOUYIN_ERR_INTERNAL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_DOUYIN_ERR_INTERNAL;
    }

    if (sched->running || sched->request != NULL) {
        return NGX_HTTP_DOUYIN_ERR_CLEANUP_BUSY;
    }

    sched->age = age;

    ngx_http_douyin_sched_take(sched, 0, "manual");

    if (!sched->running) {
        return NGX_HTTP_DOUYIN_ERR_THREAD_POOL;
    }

    cln->handler = ngx_http_douyin_cleanup_request_cleanup;
    cln->data = sched;

    sched->request = r;
    sched->request_cleanup = cln;
    sched->respond = respond;

    return NGX_HTTP_DOUYIN_OK;
}


static void
ngx_http_douyin_cleanup_request_cleanup(void *data)
{
    ngx_http_douyin_sched_t *sched = data;

    sched->request = NULL;
}


/* the lease is ours: find what is too old */

static void
ngx_http_douyin_retention_run(ngx_http_douyin_sched_t *sched)
{
    ngx_http_douyin_op_t  *op;

    sched->removed = 0;
    sched->failed = 0;
    sched->err = NGX_HTTP_DOUYIN_OK;

    /* a manual run has its own age, even if its caller went away */

    if (ngx_strcmp(sched->trigger, "manual") != 0) {
        sched->age = sched->runner->conf->retention;
    }

    if (sched->age <= 0) {
        ngx_log_error(NGX_LOG_ALERT, sched->timer.log, 0,
                      "douyin: retention without an age");
        sched->err = NGX_HTTP_DOUYIN_ERR_INTERNAL;
        ngx_http_douyin_retention_end(sched);
        return;
    }

    sched->cutoff = ngx_time() - sched->age;

    cJSON_Delete(sched->failed_files);
    sched->failed_files = cJSON_CreateArray();

    if (sched->failed_files == NULL
        || ngx_http_douyin_sched_post(sched, NGX_HTTP_DOUYIN_OP_EXPIRE_SCAN,
                                      &op)
           != NGX_OK)
    {
        sched->err = NGX_HTTP_DOUYIN_ERR_INTERNAL;
        ngx_http_douyin_retention_end(sched);
        return;
    }

    if (ngx_http_douyin_sched_send(sched, op) != NGX_OK) {
        sched->err = NGX_HTTP_DOUYIN_ERR_THREAD_POOL;
        ngx_http_douyin_retention_end(sched);
    }
}


static void
ngx_http_douyin_retention_scanned(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op)
{
    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                      "douyin: retention: %s", op->detail);
        sched->err = op->err;
        ngx_http_douyin_retention_end(sched);
        return;
    }

    /* the items are the run's now */

    sched->items = op->items;
    sched->nitems = op->nitems;
    sched->next_item = 0;

    op->items = NULL;
    op->nitems = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sched->timer.log, 0,
                   "douyin retention: %ui video(s) due", sched->nitems);

    ngx_http_douyin_retention_next(sched);
}


/* removes the next video, or ends the run */

static void
ngx_http_douyin_retention_next(ngx_http_douyin_sched_t *sched)
{
    ngx_http_douyin_op_t    *op;
    ngx_http_douyin_item_t  *it;

    if (sched->next_item >= sched->nitems
        || ngx_exiting || ngx_quit || ngx_terminate)
    {
        ngx_http_douyin_retention_end(sched);
        return;
    }

    if (ngx_http_douyin_sched_post(sched, NGX_HTTP_DOUYIN_OP_EXPIRE, &op)
        != NGX_OK)
    {
        sched->err = NGX_HTTP_DOUYIN_ERR_INTERNAL;
        ngx_http_douyin_retention_end(sched);
        return;
    }

    it = ngx_calloc(sizeof(ngx_http_douyin_item_t), sched->timer.log);
    if (it == NULL) {
        ngx_free((ngx_thread_task_t *) op - 1);
        sched->err = NGX_HTTP_DOUYIN_ERR_INTERNAL;
        ngx_http_douyin_retention_end(sched);
        return;
    }

    /* the op owns the item's file name now */

    *it = sched->items[sched->next_item];
    sched->items[sched->next_item].filename = NULL;
    sched->next_item++;

    op->items = it;
    op->nitems = 1;

    if (ngx_http_douyin_sched_send(sched, op) != NGX_OK) {
        sched->err = NGX_HTTP_DOUYIN_ERR_THREAD_POOL;
        ngx_http_douyin_retention_end(sched);
    }
}


static void
ngx_http_douyin_retention_expired(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_op_t *op)
{
    if (op->rc == NGX_HTTP_DOUYIN_RC_DONE) {
        sched->removed += op->u.expire.removed;

        if (op->u.expire.removed) {
            /* its WAV and record are gone: the listing's total too */
            ngx_http_douyin_listing_update(sched->runner, 0, 0);
        }

    } else {
        sched->failed++;

        ngx_log_error(NGX_LOG_ERR, sched->timer.log, 0,
                      "douyin: retention: %s: %s; the record of %s is kept "
                      "and tried again at the next run", op->code,
                      op->detail, op->items[0].aweme_id);

        cJSON_AddItemToArray(sched->failed_files,
                             cJSON_CreateString(op->items[0].filename));
    }

    ngx_http_douyin_retention_next(sched);
}


/* the run has ended: log, store and answer its summary */

static void
ngx_http_douyin_retention_end(ngx_http_douyin_sched_t *sched)
{
    cJSON       *summary, *json;
    ngx_uint_t   due;

    due = sched->nitems;

    ngx_http_douyin_sched_free_items(sched);

    ngx_log_error(NGX_LOG_NOTICE, sched->timer.log, 0,
                  "douyin: retention (%s) ended: %ui of %ui completed "
                  "video(s) processed more than %T s ago removed, %ui "
                  "failed%s%s", sched->trigger, sched->removed, due,
                  sched->age, sched->failed,
                  sched->err ? ", error " : "",
                  sched->err ? ngx_http_douyin_errors[sched->err].code : "");

    summary = cJSON_CreateObject();
    cJSON_AddNumberToObject(summary, "age", (double) sched->age);
    cJSON_AddNumberToObject(summary, "due", due);
    cJSON_AddNumberToObject(summary, "removed", sched->removed);
    cJSON_AddNumberToObject(summary, "failed", sched->failed);

    if (sched->err != NGX_HTTP_DOUYIN_OK) {
        cJSON_AddStringToObject(summary, "error",
                                ngx_http_douyin_errors[sched->err].code);

    } else {
        cJSON_AddNullToObject(summary, "error");
    }

    ngx_http_douyin_sched_end(sched, summary);

    if (sched->request != NULL) {
        if (sched->err != NGX_HTTP_DOUYIN_OK) {
            ngx_http_douyin_retention_respond(sched, sched->err, NULL);

        } else {
            json = cJSON_CreateObject();
            cJSON_AddTrueToObject(json, "success");
            cJSON_AddNumberToObject(json, "deleted", sched->removed);
            cJSON_AddItemToObject(json, "failed", sched->failed_files);
            sched->failed_files = NULL;

            ngx_http_douyin_retention_respond(sched, NGX_HTTP_DOUYIN_OK,
                                              json);
        }
    }

    cJSON_Delete(sched->failed_files);
    sched->failed_files = NULL;
}


/* answers the waiting cleanup request, if any (json is deleted here) */

static void
ngx_http_douyin_retention_respond(ngx_http_douyin_sched_t *sched,
    ngx_http_douyin_err_e err, cJSON *json)
{
    ngx_http_request_t  *r;

    r = sched->request;

    if (r == NULL) {
        cJSON_Delete(json);
        return;
    }

    sched->request = NULL;
    sched->request_cleanup->handler = NULL;

    sched->respond(r, err, json);
}


static void
ngx_http_douyin_sched_free_items(ngx_http_douyin_sched_t *sched)
{
    ngx_uint_t  i;

    for (i = 0; i < sched->nitems; i++) {
        free(sched->items[i].filename);
    }

    free(sched->items);

    sched->items = NULL;
    sched->nitems = 0;
    sched->next_item = 0;
}


/* ---- settling ------------------------------------------------------ */


/*
 * settling what file-system-go left unknown (ngx_http_douyin_settle.c):
 * at init_process, after the store is open and file-system-go is
 * configured, worker 0 arms the settle timer.  Errors (out of memory) are
 * logged; nothing is settled then.
 */

static void
ngx_http_douyin_sched_settle_init(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner)
{
    ngx_thread_task_t  *task;

    if (ngx_worker != 0 || !runner->store_ok) {
        return;
    }

    task = ngx_thread_task_alloc(cycle->pool, sizeof(ngx_http_douyin_op_t));
    if (task == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "douyin: no memory for the settle task");
        return;
    }

    task->handler = ngx_http_douyin_op_handler;
    task->event.handler = ngx_http_douyin_sched_settle_done;
    task->event.data = runner;
    task->event.log = cycle->log;

    runner->settle_task = task;

    runner->settle_timer.handler = ngx_http_douyin_sched_settle_timer;
    runner->settle_timer.data = runner;
    runner->settle_timer.log = cycle->log;
    runner->settle_timer.cancelable = 1;

    ngx_add_timer(&runner->settle_timer, NGX_HTTP_DOUYIN_SETTLE_INTERVAL);
}


/* exit_process: what the settle task's op still holds */

static void
ngx_http_douyin_sched_settle_exit(ngx_http_douyin_runner_t *runner)
{
    if (runner->settle_task == NULL) {
        return;
    }

    if (runner->settle_task->event.timer_set) {
        ngx_del_timer(&runner->settle_task->event);
    }

    if (runner->settle_timer.timer_set) {
        ngx_del_timer(&runner->settle_timer);
    }

    ngx_http_douyin_op_free(runner->settle_task->ctx);
}


/* every second: post OP_SETTLE when a note is waiting */

static void
ngx_http_douyin_sched_settle_timer(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_http_douyin_op_t  *op;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (runner->settle_task->event.active
        || !ngx_http_douyin_settle_waiting(&runner->store))
    {
        ngx_add_timer(ev, NGX_HTTP_DOUYIN_SETTLE_INTERVAL);
        return;
    }

    op = runner->settle_task->ctx;
    ngx_memzero(op, sizeof(ngx_http_douyin_op_t));

    op->op = NGX_HTTP_DOUYIN_OP_SETTLE;
    op->conf = runner->conf;
    op->store = &runner->store;
    op->owner = runner->owner;
    op->u.settle.now = ngx_time();
    op->u.settle.cutoff = op->u.settle.now
                          - (time_t) (NGX_HTTP_DOUYIN_SETTLE_WAIT
                                      * runner->conf->http_timeout / 1000);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0, "douyin settle posted");

    if (ngx_http_douyin_task_post(runner->conf->thread_pool,
                                  runner->settle_task)
        != NGX_OK)
    {
        ngx_add_timer(ev, NGX_HTTP_DOUYIN_SETTLE_INTERVAL);
    }
}


/* OP_SETTLE is done: log what was settled, arm the timer again */

static void
ngx_http_douyin_sched_settle_done(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_uint_t             i, changed;
    ngx_http_douyin_op_t  *op;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    op = runner->settle_task->ctx;
    changed = 0;

    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0,
                      "douyin: settling: %s: %s", op->code, op->detail);

    } else if (op->detail[0] != '\0') {

        /* file-system-go did not answer a check: the note waits */

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, runner->log, 0,
                       "douyin settle: %s", op->detail);
    }

    for (i = 0; i < op->nitems; i++) {
        if (op->items[i].error[0] == '\0') {
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, runner->log, 0,
                      "douyin: video %s: the %s that file-system-go left "
                      "unanswered is settled: %s", op->items[i].aweme_id,
                      op->items[i].claimed ? "delete" : "mark-read",
                      op->items[i].error);

        changed = 1;
    }

    if (changed) {
        /* total and pending may have changed */
        ngx_http_douyin_listing_update(runner, 0, 0);
    }

    ngx_http_douyin_op_free(op);

    if (!(ngx_exiting || ngx_terminate || ngx_quit)) {
        ngx_add_timer(&runner->settle_timer,
                      NGX_HTTP_DOUYIN_SETTLE_INTERVAL);
    }
}


/* ---- GET /health --------------------------------------------------- */


/*
 * ngx_http_douyin_schedule_status: what GET /health shows of the
 * scheduled jobs: {"process":{"times":["HH:MM",...],"scope":"all",
 * "next":"<local ISO 8601>","next_at":<Unix s>,"last_run":{...}|null},
 * "retention":{"age":<s>,"times":["HH:MM"],"next","next_at",
 * "last_run"}}, each only when configured; NULL when none is.  The last
 * run comes from the store (every worker shows the same).
 */

cJSON *
ngx_http_douyin_schedule_status(ngx_http_douyin_main_conf_t *dmcf)
{
    cJSON  *json, *job;

    if (dmcf->nprocess_at == 0 && dmcf->retention == 0) {
        return NULL;
    }

    json = cJSON_CreateObject();
    if (json == NULL) {
        return NULL;
    }

    if (dmcf->nprocess_at > 0) {
        job = ngx_http_douyin_sched_json(dmcf, NGX_HTTP_DOUYIN_SCHED_PROCESS,
                                         dmcf->process_at, dmcf->nprocess_at);
        cJSON_AddStringToObject(job, "scope",
                                dmcf->process_pending ? "pending" : "all");
        cJSON_AddItemToObject(json, "process", job);
    }

    if (dmcf->retention > 0) {
        job = ngx_http_douyin_sched_json(dmcf,
                                         NGX_HTTP_DOUYIN_SCHED_RETENTION,
                                         &dmcf->retention_at, 1);
        cJSON_AddNumberToObject(job, "age", (double) dmcf->retention);
        cJSON_AddItemToObject(json, "retention", job);
    }

    return json;
}


static cJSON *
ngx_http_douyin_sched_json(ngx_http_douyin_main_conf_t *dmcf,
    const char *name, ngx_uint_t *at, ngx_uint_t nat)
{
    u_char      buf[32];
    cJSON      *job, *times, *last;
    time_t      next;
    ngx_uint_t  i;

    static const char  *hidden[] = { "owner", "run", "slot", NULL };

    job = cJSON_CreateObject();
    times = cJSON_AddArrayToObject(job, "times");

    for (i = 0; i < nat; i++) {
        ngx_sprintf(buf, "%02ui:%02ui%Z", at[i] / 60, at[i] % 60);
        cJSON_AddItemToArray(times, cJSON_CreateString((char *) buf));
    }

    next = ngx_http_douyin_schedule_next(ngx_time(), at, nat);

    *ngx_http_douyin_local_time(buf, next) = '\0';
    cJSON_AddStringToObject(job, "next", (char *) buf);
    cJSON_AddNumberToObject(job, "next_at", (double) next);

    last = ngx_http_douyin_store_ready(dmcf)
           ? ngx_http_douyin_lease_read(&dmcf->runner->store, name) : NULL;

    if (last == NULL) {
        cJSON_AddNullToObject(job, "last_run");
        return job;
    }

    for (i = 0; hidden[i] != NULL; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(last, hidden[i]);
    }

    cJSON_AddItemToObject(job, "last_run", last);

    return job;
}


/* "YYYY-MM-DDTHH:MM:SS+HH:MM", local time; returns the end */

static u_char *
ngx_http_douyin_local_time(u_char *buf, time_t t)
{
    long      off;
    ngx_tm_t  tm;

    ngx_libc_localtime(t, &tm);

    off = tm.tm_gmtoff / 60;

    return ngx_sprintf(buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02l:%02l",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec,
                       off < 0 ? '-' : '+',
                       (off < 0 ? -off : off) / 60,
                       (off < 0 ? -off : off) % 60);
}


/*
 * ngx_http_douyin_module: shared types and prototypes.
 *
 * Boundary (see README "Design"):
 *  - event loop: HTTP handlers, LMDB read transactions, the per-worker
 *    runner (queues, timers, rate-limit reservations, job accounting);
 *  - thread pool (douyin_thread_pool): every libcurl call, cJSON parsing
 *    of remote answers and every LMDB write transaction, as one "op" per
 *    thread task over a plain struct (ngx_http_douyin_op_t) that holds
 *    copies of everything it needs and malloc()ed results;
 *  - LMDB (douyin_store): every video record, the processing index and
 *    the format version (layout in ngx_http_douyin_store.c);
 *  - shared memory ("douyin_asr_rate" zone): the provider's per-account
 *    request rates, reserved by every worker process.
 *
 * Every thread task posted has a watchdog timer on its event
 * (ngx_http_douyin_task_post()): a worker that is shutting down waits
 * for its threads, as nginx's own thread tasks make it do.
 */


#ifndef _NGX_HTTP_DOUYIN_MODULE_H_INCLUDED_
#define _NGX_HTTP_DOUYIN_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <cjson/cJSON.h>
#include <lmdb.h>


#if !(NGX_THREADS)
#error ngx_http_douyin_module requires thread pools: configure --with-threads
#endif


#define NGX_HTTP_DOUYIN_VERSION        "0.1.0"

/* api.md: an aweme_id is a decimal string of 1 to 32 digits */
#define NGX_HTTP_DOUYIN_ID_MAX         32
#define NGX_HTTP_DOUYIN_TASK_ID_MAX    127
#define NGX_HTTP_DOUYIN_CODE_MAX       63
#define NGX_HTTP_DOUYIN_BATCH_MAX      100

/* api.md: a pushed audio_filename is 1 to 255 bytes */
#define NGX_HTTP_DOUYIN_FILENAME_MAX   255

/* attempts of one provider call on 429, 5xx or a transport error */
#define NGX_HTTP_DOUYIN_MAX_ATTEMPTS   6


typedef struct ngx_http_douyin_job_s     ngx_http_douyin_job_t;
typedef struct ngx_http_douyin_batch_s   ngx_http_douyin_batch_t;
typedef struct ngx_http_douyin_runner_s  ngx_http_douyin_runner_t;


/* a NUL-terminated configuration string, for libcurl and LMDB */
typedef struct {
    size_t                      len;
    char                       *data;
} ngx_http_douyin_cstr_t;


typedef struct {
    ngx_path_t                 *store;          /* douyin_store PATH */
    size_t                      map_size;       /* map_size=, bytes */

    ngx_http_douyin_cstr_t      filesystem_url; /* no trailing slash */
    ngx_uint_t                  filesystem_api; /* 15 (1.5) or 2 */
    ngx_http_douyin_cstr_t      audio_base_url;
    ngx_http_douyin_cstr_t      asr_url;
    ngx_http_douyin_cstr_t      asr_model;
    ngx_str_t                   asr_key_env;

    ngx_uint_t                  asr_batch;      /* 1..100 */
    ngx_uint_t                  submit_rate;    /* per 1000 s, 0: off */
    ngx_uint_t                  query_rate;     /* per 1000 s, 0: off */
    ngx_uint_t                  max_inflight;   /* videos per worker */

    ngx_msec_t                  poll_interval;  /* first poll delay */
    ngx_msec_t                  poll_max;       /* its ceiling */
    ngx_msec_t                  asr_timeout;    /* per provider task */
    ngx_msec_t                  http_timeout;   /* per HTTP call */
    ngx_msec_t                  listing_cache;  /* listing reuse time */

    ngx_thread_pool_t          *thread_pool;

    ngx_flag_t                  ssl_verify;     /* douyin_ssl_verify */
    ngx_str_t                   ssl_trusted_certificate;  /* NUL-ended */

    ngx_shm_zone_t             *rate_zone;
    ngx_flag_t                  processing;     /* a process handler is on */
    ngx_flag_t                  filesystem;     /* a handler calls fsgo */
    ngx_flag_t                  stored;         /* a handler reads the store */

    ngx_http_douyin_runner_t   *runner;         /* per worker, after fork */
} ngx_http_douyin_main_conf_t;


typedef struct {
    ngx_http_handler_pt         handler;
    ngx_http_complex_value_t   *id;             /* douyin_result ID */
    ngx_flag_t                  async;          /* douyin_process_async */
    ngx_flag_t                  pending;        /* douyin_process_pending */
    ngx_uint_t                  methods;        /* douyin_video(_delete) */
} ngx_http_douyin_loc_conf_t;


/* the store: one LMDB environment per worker process */

typedef struct {
    MDB_env                    *env;
    MDB_dbi                     videos;
    MDB_dbi                     processing;
    MDB_dbi                     by_time;
    MDB_dbi                     by_status;
    MDB_dbi                     workers;
    MDB_dbi                     meta;
} ngx_http_douyin_store_t;


/* who holds a claim: a worker process and the run id drawn at its start */

typedef struct {
    ngx_pid_t                   pid;
    double                      run;
} ngx_http_douyin_owner_t;


/* a listed file name and its relative URL (OP_LIST_PENDING) */

typedef struct {
    char                       *name;           /* malloc()ed */
    char                       *url;            /* malloc()ed, or NULL */
} ngx_http_douyin_name_t;


/* one video handled by an op (thread side in, thread side out) */

typedef struct {
    char                        aweme_id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    char                       *file_url;       /* malloc()ed */
    char                       *filename;       /* malloc()ed */
    time_t                      claimed_at;     /* Unix s */
    ngx_uint_t                  claimed;        /* OP_LIST: claimed here */

    /* out: NGX_HTTP_DOUYIN_COMPLETED or NGX_HTTP_DOUYIN_FAILED, or 0 */
    ngx_uint_t                  outcome;
    char                        error[NGX_HTTP_DOUYIN_CODE_MAX + 1];
} ngx_http_douyin_item_t;


#define NGX_HTTP_DOUYIN_PENDING      1
#define NGX_HTTP_DOUYIN_PROCESSING   2
#define NGX_HTTP_DOUYIN_COMPLETED    3
#define NGX_HTTP_DOUYIN_FAILED       4
#define NGX_HTTP_DOUYIN_DELETED      5


/*
 * the statuses of the store's indexes and counts, in this order (the
 * bits of a status mask): processing, completed, failed, pending (pushed
 * by the collector), deleted (a tombstone)
 */

#define NGX_HTTP_DOUYIN_NSTATUS      5
#define NGX_HTTP_DOUYIN_S_PROCESSING 0
#define NGX_HTTP_DOUYIN_S_COMPLETED  1
#define NGX_HTTP_DOUYIN_S_FAILED     2
#define NGX_HTTP_DOUYIN_S_PENDING    3
#define NGX_HTTP_DOUYIN_S_DELETED    4


typedef enum {
    NGX_HTTP_DOUYIN_OP_LIST = 0,      /* list file-system-go, claim */
    NGX_HTTP_DOUYIN_OP_SUBMIT,        /* submit a batch, store task_id */
    NGX_HTTP_DOUYIN_OP_POLL,          /* query, fetch results, store */
    NGX_HTTP_DOUYIN_OP_FAIL,          /* store items as failed */
    NGX_HTTP_DOUYIN_OP_RECOVER,       /* claim orphaned processing records */
    NGX_HTTP_DOUYIN_OP_LISTING,       /* list file-system-go, find pending */
    NGX_HTTP_DOUYIN_OP_READ,          /* mark read on file-system-go, store */
    NGX_HTTP_DOUYIN_OP_DELETE,        /* delete the WAV, write a tombstone */
    NGX_HTTP_DOUYIN_OP_PUSH,          /* store the collector's push */
    NGX_HTTP_DOUYIN_OP_LIST_PENDING   /* list, claim pushed listed videos */
} ngx_http_douyin_op_e;


typedef enum {
    NGX_HTTP_DOUYIN_RC_DONE = 0,      /* items have their outcome stored */
    NGX_HTTP_DOUYIN_RC_NEXT,          /* step done, go on (e.g. polling) */
    NGX_HTTP_DOUYIN_RC_RETRY,         /* transient: retry after backoff */
    NGX_HTTP_DOUYIN_RC_ERROR          /* the op failed; nothing changed */
} ngx_http_douyin_rc_e;


/*
 * One thread-side operation: everything the thread reads is set before
 * the task is posted and stays untouched by the event loop until the
 * completion handler runs.
 */

typedef struct {
    ngx_http_douyin_op_e        op;
    ngx_http_douyin_main_conf_t *conf;          /* read only */
    ngx_http_douyin_store_t    *store;
    const char                 *auth_header;    /* "Authorization: ..." */
    ngx_http_douyin_owner_t     owner;
    ngx_uint_t                  attempt;        /* 0 on the first try */

    ngx_http_douyin_item_t     *items;
    ngx_uint_t                  nitems;

    char                        task_id[NGX_HTTP_DOUYIN_TASK_ID_MAX + 1];
    char                        fail_code[NGX_HTTP_DOUYIN_CODE_MAX + 1];
    char                        fail_message[160];  /* OP_FAIL */
    char                      **task_ids;       /* OP_RECOVER, per item */

    /* out */
    ngx_http_douyin_rc_e        rc;
    long                        http_status;    /* last provider status */
    char                        code[NGX_HTTP_DOUYIN_CODE_MAX + 1];
    char                        detail[256];    /* for the log, no secret */
    ngx_uint_t                  listed;         /* OP_LIST: valid WAVs */
    ngx_uint_t                  ignored;        /* OP_LIST: other files */
    ngx_uint_t                  deleted;        /* OP_LIST(ING): listed
                                                   tombstones */
    ngx_uint_t                  key_rejected;   /* 401/403 from provider */

    ngx_uint_t                  is_read;        /* OP_READ: the new flag */
    ngx_uint_t                  keep_file;      /* OP_DELETE */
    ngx_uint_t                  not_found;      /* OP_READ, OP_DELETE */
    ngx_uint_t                  limit;          /* OP_RECOVER: at most */

    cJSON                      *fields;         /* OP_PUSH: what was sent */
    ngx_http_douyin_name_t     *names;          /* OP_LIST_PENDING */
    ngx_uint_t                  nnames;
    char                        was[16];        /* OP_PUSH: status after */
    ngx_uint_t                  create;         /* OP_DELETE: no record */
    ngx_uint_t                  pushed;         /* OP_LISTING: pending
                                                   records */
} ngx_http_douyin_op_t;


struct ngx_http_douyin_job_s {
    ngx_pool_t                 *pool;
    ngx_http_request_t         *request;        /* NULL: nobody waits */
    ngx_pool_cleanup_t         *request_cleanup;
    ngx_http_douyin_runner_t   *runner;
    ngx_flag_t                  async;
    ngx_flag_t                  pending;        /* /api/process/pending */

    ngx_thread_task_t          *task;           /* OP_LIST */

    ngx_queue_t                 queue;          /* in runner->jobs */
    ngx_flag_t                  queued;
    ngx_queue_t                 live;           /* in runner->live_jobs */
    ngx_uint_t                  next;           /* next item to submit */

    ngx_uint_t                  total;
    ngx_uint_t                  claimed;
    ngx_uint_t                  ended;
    ngx_uint_t                  success;
    ngx_uint_t                  failed;
    ngx_uint_t                  handed_over;    /* left to the next workers */
};


struct ngx_http_douyin_batch_s {
    ngx_http_douyin_runner_t   *runner;
    ngx_queue_t                 queue;          /* in runner->batches */
    ngx_http_douyin_job_t      *jobs[NGX_HTTP_DOUYIN_BATCH_MAX];
    ngx_thread_task_t          *task;           /* ctx: ngx_http_douyin_op_t */
    ngx_event_t                 timer;          /* next step */
    ngx_msec_t                  started;        /* ngx_current_msec */
    ngx_uint_t                  polls;
    ngx_uint_t                  reserved;       /* a rate slot is held */
};


/* the cached file-system-go listing behind stats and status=pending */

typedef struct {
    time_t                      fetched_at;     /* Unix s, 0: never */
    ngx_msec_t                  fetched;        /* ngx_current_msec */
    ngx_uint_t                  total;          /* valid WAVs listed, but
                                                   tombstones */
    ngx_uint_t                  npending;       /* of those, no record */
    char                      (*pending)[NGX_HTTP_DOUYIN_ID_MAX + 1];
    ngx_thread_task_t          *task;           /* OP_LISTING */
    ngx_queue_t                 waiters;
} ngx_http_douyin_listing_t;


struct ngx_http_douyin_runner_s {
    ngx_http_douyin_main_conf_t *conf;
    ngx_http_douyin_store_t     store;
    ngx_flag_t                  store_ok;
    char                       *auth_header;    /* NULL: no key */
    ngx_http_douyin_owner_t     owner;
    ngx_log_t                  *log;

    ngx_queue_t                 jobs;           /* with items to submit */
    ngx_queue_t                 live_jobs;      /* listed, not yet ended */
    ngx_queue_t                 batches;
    ngx_event_t                 watch;          /* while a caller waits */
    ngx_uint_t                  inflight;       /* videos in batches */
    ngx_flag_t                  key_rejected;
    char                        key_code[NGX_HTTP_DOUYIN_CODE_MAX + 1];

    ngx_event_t                 recover_timer;
    ngx_thread_task_t          *recover_task;

    ngx_http_douyin_listing_t   listing;
};


extern ngx_module_t  ngx_http_douyin_module;


/* ngx_http_douyin_handler.c */

ngx_int_t ngx_http_douyin_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_process_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_result_handler(ngx_http_request_t *r);

ngx_int_t ngx_http_douyin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_http_douyin_send_cjson(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *json);
ngx_int_t ngx_http_douyin_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail);
ngx_int_t ngx_http_douyin_method_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);
ngx_int_t ngx_http_douyin_accept(ngx_http_request_t *r, ngx_uint_t methods);
ngx_int_t ngx_http_douyin_valid_id(ngx_str_t *id);
ngx_int_t ngx_http_douyin_get_id(ngx_http_request_t *r, char *id);
ngx_int_t ngx_http_douyin_ready(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf);
ngx_int_t ngx_http_douyin_load(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, char *id, cJSON **rec,
    ngx_uint_t *what);
ngx_int_t ngx_http_douyin_refuse(ngx_http_request_t *r, ngx_int_t rc,
    ngx_uint_t what);
ngx_int_t ngx_http_douyin_open_video(ngx_http_request_t *r,
    ngx_uint_t methods, char *id, cJSON **rec);

#define NGX_HTTP_DOUYIN_BAD_ID        0
#define NGX_HTTP_DOUYIN_STORE_CLOSED  1
#define NGX_HTTP_DOUYIN_BAD_QUERY     2
#define NGX_HTTP_DOUYIN_STORE_ERROR   3


/* ngx_http_douyin_aweme.c: the collector-fed routes (api.md) */

ngx_int_t ngx_http_douyin_aweme_pending_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_aweme_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_video_unread_handler(ngx_http_request_t *r);


/* ngx_http_douyin_api.c: list, detail, read, delete, stats, info, docs */

ngx_int_t ngx_http_douyin_request_task(ngx_http_request_t *r,
    ngx_http_douyin_op_e kind, const char *id, cJSON *rec,
    ngx_uint_t flag);
ngx_int_t ngx_http_douyin_read_body(ngx_http_request_t *r, size_t max,
    u_char **body, size_t *len);

ngx_int_t ngx_http_douyin_videos_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_video_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_video_read_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_stats_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_info_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_docs_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_openapi_handler(ngx_http_request_t *r);
void ngx_http_douyin_listing_free(ngx_http_douyin_listing_t *listing);
void ngx_http_douyin_listing_update(ngx_http_douyin_runner_t *runner,
    ngx_uint_t fresh, ngx_uint_t total);


/* ngx_http_douyin_docs.c: generated by scripts/embed-docs.py */

extern const u_char  ngx_http_douyin_docs_html[];
extern const size_t  ngx_http_douyin_docs_html_len;
extern const u_char  ngx_http_douyin_openapi_json[];
extern const size_t  ngx_http_douyin_openapi_json_len;


/* ngx_http_douyin_job.c: the per-worker runner, event loop side */

ngx_int_t ngx_http_douyin_runner_init(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
void ngx_http_douyin_runner_exit(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
ngx_int_t ngx_http_douyin_job_start(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_flag_t async, ngx_flag_t pending);


/* ngx_http_douyin_task.c: thread side, runs an ngx_http_douyin_op_t */

void ngx_http_douyin_op_handler(void *data, ngx_log_t *log);
ngx_int_t ngx_http_douyin_task_post(ngx_thread_pool_t *tp,
    ngx_thread_task_t *task);
ngx_int_t ngx_http_douyin_task_timedout(ngx_event_t *ev);
void ngx_http_douyin_op_free(ngx_http_douyin_op_t *op);
char *ngx_http_douyin_join(const char *a, const char *b, const char *c,
    ngx_uint_t type);


/* ngx_http_douyin_fetch.c: libcurl, thread side */

typedef struct {
    long                        status;         /* HTTP status, 0: none */
    char                       *body;           /* malloc()ed, NUL-ended */
    size_t                      len;
    char                        error[200];     /* transport error text */
    ngx_uint_t                  not_sent;       /* nothing was sent */
} ngx_http_douyin_fetch_t;

ngx_int_t ngx_http_douyin_fetch_global_init(ngx_log_t *log,
    ngx_http_douyin_main_conf_t *dmcf);
ngx_int_t ngx_http_douyin_fetch(ngx_http_douyin_fetch_t *f, const char *method,
    const char *url, const char *const *headers, const char *body,
    ngx_msec_t timeout, size_t max_size);
void ngx_http_douyin_fetch_free(ngx_http_douyin_fetch_t *f);


/* ngx_http_douyin_store.c: LMDB */

ngx_int_t ngx_http_douyin_store_open(ngx_http_douyin_store_t *store,
    const char *path, size_t map_size, ngx_log_t *log);
void ngx_http_douyin_store_close(ngx_http_douyin_store_t *store);
cJSON *ngx_http_douyin_store_get(ngx_http_douyin_store_t *store,
    const char *aweme_id, int *err);
int ngx_http_douyin_store_claim(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, ngx_uint_t *claimed,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_store_set_task(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, const char *task_id,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_store_finish(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, cJSON **records, ngx_uint_t n,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_store_recover(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t limit,
    ngx_http_douyin_item_t **items, char ***task_ids, ngx_uint_t *n);
int ngx_http_douyin_store_register(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t add);
const char *ngx_http_douyin_store_strerror(int err);
time_t ngx_http_douyin_parse_iso8601(const char *s);
int ngx_http_douyin_store_counts(ngx_http_douyin_store_t *store,
    int64_t counts[NGX_HTTP_DOUYIN_NSTATUS][2]);
int ngx_http_douyin_store_list(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t offset,
    ngx_uint_t limit, cJSON **page);
int ngx_http_douyin_store_set_read(ngx_http_douyin_store_t *store,
    const char *aweme_id, ngx_uint_t is_read, time_t now);
int ngx_http_douyin_store_delete(ngx_http_douyin_store_t *store,
    const char *aweme_id);
int ngx_http_douyin_store_has(ngx_http_douyin_store_t *store, char **ids,
    ngx_uint_t n, u_char *found);
int ngx_http_douyin_store_push(ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON *fields, time_t now, char *was);
int ngx_http_douyin_store_tombstone(ngx_http_douyin_store_t *store,
    const char *aweme_id, const char *filename, ngx_uint_t create,
    time_t now);
int ngx_http_douyin_store_pending(ngx_http_douyin_store_t *store,
    ngx_uint_t limit, ngx_http_douyin_item_t **items, ngx_uint_t *n);


/* ngx_http_douyin_rate.c: per-account rates in shared memory */

ngx_int_t ngx_http_douyin_rate_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_msec_t ngx_http_douyin_rate_reserve(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query);


#endif /* _NGX_HTTP_DOUYIN_MODULE_H_INCLUDED_ */


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the types every room shares and each room's
 * exported functions, grouped by the side they run on.
 *
 * Glossary:
 *  - video: one WAV on file-system-go named "<aweme_id>.wav", and its
 *    record in the store; its status is pending (no record, or pushed by
 *    the collector), processing, completed, failed or deleted (a
 *    tombstone) (ngx_http_douyin_status_e);
 *  - push: the collector's registration of a video it uploaded, with its
 *    metadata (POST /api/aweme/{id}/pending, ngx_http_douyin_aweme.c);
 *  - claim: making a video "processing", owned by one worker, in a write
 *    transaction before it is submitted, so that it is never submitted
 *    twice (ngx_http_douyin_claim.c);
 *  - listing: the file-system-go listing of WAVs; the per-worker listing
 *    cache behind stats and status=pending (ngx_http_douyin_listing.c);
 *    a "page" is one page of the video list (ngx_http_douyin_list.c);
 *  - job: one POST /api/process call: a listing, its claims and the
 *    videos it waits for (ngx_http_douyin_runner.c);
 *  - batch: up to douyin_asr_batch videos sent as one provider task;
 *  - provider task: DashScope's asynchronous transcription task, known by
 *    its task_id (ngx_http_douyin_dashscope.c);
 *  - thread op: one step run in a thread of the pool over an
 *    ngx_http_douyin_op_t (ngx_http_douyin_thread.c); nginx's own
 *    ngx_thread_task_t carries it;
 *  - scheduled job: transcription (douyin_process_schedule) or retention
 *    (douyin_retention) started by an nginx timer at a local time of
 *    day; a "slot" is one occurrence of it, the Unix second it is due
 *    (ngx_http_douyin_schedule.c);
 *  - lease: the store's mark of a scheduled job's last run (its slot, the
 *    worker running it, its summary), taken in a write transaction so
 *    that exactly one worker of all generations runs a slot
 *    (ngx_http_douyin_lease.c);
 *  - retention: removing completed videos older than an age, WAV first
 *    then record (also POST /api/aweme/cleanup);
 *  - metrics: counters in the "douyin_metrics" shared zone that every
 *    worker and thread adds to, served by douyin_metrics
 *    (ngx_http_douyin_metrics.h).
 *  - feed: the RSS feed of completed transcripts, from the store's feed
 *    index, with a version kept in the write transactions for its ETag
 *    (ngx_http_douyin_rss.c).
 *
 * The boundary (README "Design"):
 *  - event loop: response, handler, video, list, listing, rss, runner,
 *    rate, and the read transactions of the store;
 *  - thread pool (douyin_thread_pool): thread (the ops), fsgo, dashscope,
 *    curl, claim, and the write transactions of the store.  A thread op
 *    holds copies of everything it needs and malloc()ed results; it never
 *    logs and never touches a pool: the event loop logs op->code and
 *    op->detail when the op completes.
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

/* an aweme_id is a decimal string of 1 to 32 digits */
#define NGX_HTTP_DOUYIN_ID_MAX         32
#define NGX_HTTP_DOUYIN_TASK_ID_MAX    127
#define NGX_HTTP_DOUYIN_CODE_MAX       63
#define NGX_HTTP_DOUYIN_BATCH_MAX      100

/* a pushed audio_filename is 1 to 255 bytes */
#define NGX_HTTP_DOUYIN_FILENAME_MAX   255

/*
 * attempts of a store write and of a result download; the backoff of
 * any retry stops growing at the last one (a provider call on 429, 5xx
 * or no answer is retried until douyin_asr_timeout)
 */
#define NGX_HTTP_DOUYIN_MAX_ATTEMPTS   6


typedef struct ngx_http_douyin_job_s     ngx_http_douyin_job_t;
typedef struct ngx_http_douyin_batch_s   ngx_http_douyin_batch_t;
typedef struct ngx_http_douyin_runner_s  ngx_http_douyin_runner_t;
typedef struct ngx_http_douyin_sched_s   ngx_http_douyin_sched_t;
typedef struct ngx_http_douyin_metrics_proc_s  ngx_http_douyin_metrics_proc_t;


/*
 * A video's status.  One table (ngx_http_douyin_statuses[], in
 * ngx_http_douyin_store.c) gives each its name (records and JSON), its
 * letter (the store's index keys and counts) and its bit (status masks).
 */

typedef enum {
    NGX_HTTP_DOUYIN_PENDING = 0,      /* listed, no record; or pushed */
    NGX_HTTP_DOUYIN_PROCESSING,       /* claimed by a worker */
    NGX_HTTP_DOUYIN_COMPLETED,        /* a transcript is stored */
    NGX_HTTP_DOUYIN_FAILED,           /* an error is stored */
    NGX_HTTP_DOUYIN_DELETED           /* a tombstone: never again */
} ngx_http_douyin_status_e;

#define NGX_HTTP_DOUYIN_NSTATUS        5

typedef struct {
    ngx_str_t                   name;
    u_char                      letter;         /* index keys, counts */
    ngx_uint_t                  bit;
} ngx_http_douyin_status_t;

/*
 * the list without a status filter (and the "by_time" index): neither
 * the pending videos nor the tombstones
 */
#define NGX_HTTP_DOUYIN_STORED                                               \
    ((1 << NGX_HTTP_DOUYIN_PROCESSING) | (1 << NGX_HTTP_DOUYIN_COMPLETED)    \
     | (1 << NGX_HTTP_DOUYIN_FAILED))

/* read masks: bit 0 unread, bit 1 read */
#define NGX_HTTP_DOUYIN_UNREAD         1
#define NGX_HTTP_DOUYIN_READ           2


/*
 * An error kind.  One table (ngx_http_douyin_errors[], in
 * ngx_http_douyin_response.c) maps each to its HTTP status, its code
 * and its detail: {"success":false,"error":code,"detail":detail}.
 */

typedef enum {
    NGX_HTTP_DOUYIN_OK = 0,
    NGX_HTTP_DOUYIN_ERR_BAD_ID,
    NGX_HTTP_DOUYIN_ERR_BAD_PAGE,
    NGX_HTTP_DOUYIN_ERR_BAD_PAGE_SIZE,
    NGX_HTTP_DOUYIN_ERR_BAD_STATUS,
    NGX_HTTP_DOUYIN_ERR_BAD_IS_READ,
    NGX_HTTP_DOUYIN_ERR_BAD_KEEP_FILE,
    NGX_HTTP_DOUYIN_ERR_BAD_BODY,
    NGX_HTTP_DOUYIN_ERR_TWICE_IS_READ,
    NGX_HTTP_DOUYIN_ERR_BAD_PUSH,     /* the detail names the field */
    NGX_HTTP_DOUYIN_ERR_NOT_FOUND,
    NGX_HTTP_DOUYIN_ERR_NOT_PROCESSED,
    NGX_HTTP_DOUYIN_ERR_NOT_ALLOWED,
    NGX_HTTP_DOUYIN_ERR_TOO_LARGE,
    NGX_HTTP_DOUYIN_ERR_PUSH_TOO_LARGE,
    NGX_HTTP_DOUYIN_ERR_LISTING,
    NGX_HTTP_DOUYIN_ERR_FS_UNAVAILABLE,
    NGX_HTTP_DOUYIN_ERR_FS_BAD_RESPONSE,
    NGX_HTTP_DOUYIN_ERR_FS_UNKNOWN,   /* sent, no answer: outcome unknown */
    NGX_HTTP_DOUYIN_ERR_STORE_CLOSED,
    NGX_HTTP_DOUYIN_ERR_STORE_READ,
    NGX_HTTP_DOUYIN_ERR_STORE,
    NGX_HTTP_DOUYIN_ERR_STORE_FULL,
    NGX_HTTP_DOUYIN_ERR_NO_MEMORY,
    NGX_HTTP_DOUYIN_ERR_KEY_MISSING,
    NGX_HTTP_DOUYIN_ERR_THREAD_POOL,
    NGX_HTTP_DOUYIN_ERR_BAD_LIMIT,          /* the feed's query */
    NGX_HTTP_DOUYIN_ERR_BAD_INCLUDE_READ,
    NGX_HTTP_DOUYIN_ERR_TOKEN,              /* the feed's token */
    NGX_HTTP_DOUYIN_ERR_TOKEN_MISSING,
    NGX_HTTP_DOUYIN_ERR_FEED_URL_MISSING,
    NGX_HTTP_DOUYIN_ERR_BAD_FORMAT,   /* subtitles: not srt, vtt, txt */
    NGX_HTTP_DOUYIN_ERR_BAD_MAX_CHARS,
    NGX_HTTP_DOUYIN_ERR_BAD_WORDS,
    NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_PENDING,  /* subtitles */
    NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_PROCESSING,
    NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_FAILED,
    NGX_HTTP_DOUYIN_ERR_BAD_DAYS,
    NGX_HTTP_DOUYIN_ERR_CLEANUP_BUSY,
    NGX_HTTP_DOUYIN_ERR_INTERNAL      /* nginx's own 500 page */
} ngx_http_douyin_err_e;

typedef struct {
    ngx_uint_t                  status;         /* NGX_HTTP_* */
    const char                 *code;           /* NULL: no body of ours */
    const char                 *detail;
} ngx_http_douyin_error_t;


/* the most times of day one douyin_process_schedule may list */
#define NGX_HTTP_DOUYIN_TIMES_MAX      24


/* a NUL-terminated configuration string, for libcurl and LMDB */
typedef struct {
    size_t                      len;
    char                       *data;
} ngx_http_douyin_cstr_t;


/* configuration (ngx_http_douyin_module.c) */

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

    /* douyin_process_schedule: minutes after local midnight */
    ngx_uint_t                  process_at[NGX_HTTP_DOUYIN_TIMES_MAX];
    ngx_uint_t                  nprocess_at;    /* 0: no schedule */
    ngx_flag_t                  process_pending; /* scope=pending */

    time_t                      retention;      /* AGE in s, 0: off */
    ngx_uint_t                  retention_at;   /* minutes after midnight */
    /* DashScope's recognition options (submit "parameters"), when set */
    ngx_str_t                   asr_language;   /* language_hints[0] */
    ngx_str_t                   asr_vocabulary; /* vocabulary_id */
    ngx_flag_t                  asr_diarization; /* diarization_enabled */
    ngx_uint_t                  asr_speakers;   /* speaker_count, 0: auto */
    ngx_str_t                   asr_word_filter; /* special_word_filter */
    ngx_array_t                *asr_channels;   /* channel_id, ngx_uint_t */
    u_char                     *asr_language_file;
    ngx_uint_t                  asr_language_line;

    ngx_thread_pool_t          *thread_pool;

    ngx_flag_t                  ssl_verify;     /* douyin_ssl_verify */
    ngx_str_t                   ssl_trusted_certificate;  /* NUL-ended */

    ngx_shm_zone_t             *rate_zone;
    ngx_shm_zone_t             *metrics_zone;   /* "douyin_metrics" */
    ngx_http_douyin_metrics_proc_t *metrics_proc;  /* per worker */
    ngx_uint_t                  needs;          /* NGX_HTTP_DOUYIN_NEEDS_* */

    ngx_http_douyin_runner_t   *runner;         /* per worker, after fork */

    /* the RSS feed (ngx_http_douyin_rss.c) */
    ngx_str_t                   rss_token_env;  /* NUL-terminated */
    ngx_http_douyin_cstr_t      public_url;     /* no trailing slash */
    ngx_str_t                   rss_item_link;  /* "$id": the aweme_id */
    uint32_t                    rss_crc;        /* of what shapes the body */
} ngx_http_douyin_main_conf_t;


/* what a location handler needs, declared per directive */
#define NGX_HTTP_DOUYIN_NEEDS_STORE    0x01
#define NGX_HTTP_DOUYIN_NEEDS_FSGO     0x02
#define NGX_HTTP_DOUYIN_NEEDS_KEY      0x04
#define NGX_HTTP_DOUYIN_NEEDS_METRICS  0x08   /* the "douyin_metrics" zone */
#define NGX_HTTP_DOUYIN_NEEDS_FEED     0x10   /* the RSS feed's settings */


typedef struct {
    ngx_http_handler_pt         handler;
    ngx_http_complex_value_t   *id;             /* douyin_result ID */
    ngx_http_complex_value_t   *format;         /* douyin_subtitles */
    ngx_flag_t                  async;          /* douyin_process_async */
    ngx_flag_t                  pending;        /* douyin_process_pending */
    ngx_uint_t                  methods;        /* douyin_video(_delete) */
} ngx_http_douyin_loc_conf_t;


/*
 * the texts the read routes send for a record (the result's "data"
 * object, the list item), which the store keeps beside it since format 3:
 * made by ngx_http_douyin_video_texts(), given to the store when it is
 * opened, so that the store does not call up into the routes' files
 */

typedef ngx_int_t (*ngx_http_douyin_texts_pt)(const char *id, cJSON *rec,
    char **data, char **item);


/* the store: one LMDB environment per worker process */

typedef struct {
    MDB_env                    *env;
    MDB_dbi                     videos;
    MDB_dbi                     processing;
    MDB_dbi                     by_time;
    MDB_dbi                     by_status;
    MDB_dbi                     workers;
    MDB_dbi                     meta;
    MDB_dbi                     feed;
    MDB_dbi                     views;          /* format 3 */
    MDB_dbi                     pages;          /* format 3 */
    MDB_txn                    *rtxn;           /* reset, for the loop */
    ngx_http_douyin_texts_pt    texts;          /* read only once open */
} ngx_http_douyin_store_t;


/* the RSS feed's state: [0] every item, [1] unread items (store.c) */

typedef struct {
    uint64_t                    version[2];     /* one more per change */
    int64_t                     changed_at[2];  /* Unix s of that change */
} ngx_http_douyin_feed_state_t;


/* who holds a claim: a worker process and the run id drawn at its start */

typedef struct {
    ngx_pid_t                   pid;
    double                      run;
} ngx_http_douyin_owner_t;


/* a listed file name and its relative URL (OP_CLAIM_PENDING) */

typedef struct {
    char                       *name;           /* malloc()ed */
    char                       *url;            /* malloc()ed, or NULL */
} ngx_http_douyin_name_t;


/* one video handled by a thread op (thread side in, thread side out) */

typedef struct {
    char                        aweme_id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    char                       *file_url;       /* malloc()ed */
    char                       *filename;       /* malloc()ed */
    time_t                      claimed_at;     /* Unix s */
    uint64_t                    claimed_ms;     /* Unix ms, 0: claimed_at */
    ngx_uint_t                  claimed;        /* OP_CLAIM: claimed here */

    /*
     * Unix ms just before a submit of this item was sent whose answer
     * never came (it may have reached the provider): OP_SUBMIT settles
     * it through the provider's task list before sending again; 0: none
     */
    uint64_t                    submit_ms;

    /* out: the status the op last saw or stored, a failure's code */
    ngx_http_douyin_status_e    outcome;
    char                        error[NGX_HTTP_DOUYIN_CODE_MAX + 1];

    /* file-system-go's metadata of the video: NGX_HTTP_DOUYIN_META_* */
    ngx_uint_t                  meta;
    char                        meta_error[64]; /* META_FAILED: why */
} ngx_http_douyin_item_t;


/*
 * item->meta: the stored record of a completed video lacks its metadata
 * (OP_CLAIM fetches it again), the fetch failed (logged by the event
 * loop, and the record is marked "metadata_missing"), or the fetch of
 * missing metadata succeeded and was stored
 */
#define NGX_HTTP_DOUYIN_META_NONE      0
#define NGX_HTTP_DOUYIN_META_MISSING   1
#define NGX_HTTP_DOUYIN_META_FAILED    2
#define NGX_HTTP_DOUYIN_META_REPAIRED  3


typedef enum {
    NGX_HTTP_DOUYIN_OP_CLAIM = 0,     /* list file-system-go, claim */
    NGX_HTTP_DOUYIN_OP_SUBMIT,        /* submit a batch, store task_id */
    NGX_HTTP_DOUYIN_OP_POLL,          /* query, fetch results, store */
    NGX_HTTP_DOUYIN_OP_FAIL,          /* store items as failed */
    NGX_HTTP_DOUYIN_OP_RECOVER,       /* claim orphaned processing records */
    NGX_HTTP_DOUYIN_OP_LISTING,       /* list file-system-go, find pending */
    NGX_HTTP_DOUYIN_OP_READ,          /* mark read on file-system-go, store */
    NGX_HTTP_DOUYIN_OP_DELETE,        /* delete the WAV, write a tombstone */
    NGX_HTTP_DOUYIN_OP_PUSH,          /* store the collector's push */
    NGX_HTTP_DOUYIN_OP_CLAIM_PENDING, /* list, claim pushed listed videos */
    NGX_HTTP_DOUYIN_OP_LEASE,         /* take a scheduled job's lease */
    NGX_HTTP_DOUYIN_OP_LEASE_END,     /* store the run's summary */
    NGX_HTTP_DOUYIN_OP_EXPIRE_SCAN,   /* find completed videos too old */
    NGX_HTTP_DOUYIN_OP_EXPIRE,        /* delete one's WAV, then record */
    NGX_HTTP_DOUYIN_OP_SETTLE         /* settle unknown fsgo outcomes */
} ngx_http_douyin_op_e;


/* what taking a lease found (OP_LEASE) */

typedef enum {
    NGX_HTTP_DOUYIN_LEASE_TAKEN = 0,  /* ours: run the job */
    NGX_HTTP_DOUYIN_LEASE_DONE,       /* this slot was run already */
    NGX_HTTP_DOUYIN_LEASE_BUSY        /* a run is still going: skip it */
} ngx_http_douyin_lease_e;


/*
 * What a thread op asks the event loop for; the loop alone decides which
 * op runs next.
 */

typedef enum {
    NGX_HTTP_DOUYIN_RC_DONE = 0,      /* items have their outcome stored */
    NGX_HTTP_DOUYIN_RC_NEXT,          /* step done, go on (e.g. polling) */
    NGX_HTTP_DOUYIN_RC_RETRY,         /* transient: retry after backoff */
    NGX_HTTP_DOUYIN_RC_FAIL,          /* fail the items: fail_code, ... */
    NGX_HTTP_DOUYIN_RC_ERROR,         /* the op failed; nothing changed */
    NGX_HTTP_DOUYIN_RC_UNKNOWN        /* a submit's outcome is not known:
                                         settle it later, never resend */
} ngx_http_douyin_rc_e;


/*
 * One thread op, ngx_http_douyin_op_t, is the thread's whole world, as
 * nginx's ngx_thread_file_ctx_t is for a thread read: the event loop sets
 * its inputs ("in") before it posts the task and touches nothing until
 * the completion handler runs; the thread writes only its outputs
 * ("out") and what it malloc()s, which ngx_http_douyin_op_free() frees.
 * What every op has is in the op itself; what one family of ops has is
 * in its union u, chosen by op->op:
 *
 *   u.listing   OP_CLAIM, OP_CLAIM_PENDING, OP_LISTING
 *   u.batch     OP_SUBMIT, OP_POLL, OP_FAIL
 *   u.recover   OP_RECOVER
 *   u.video     OP_READ, OP_DELETE, OP_PUSH
 *   u.lease     OP_LEASE, OP_LEASE_END
 *   u.expire    OP_EXPIRE_SCAN, OP_EXPIRE
 *   u.settle    OP_SETTLE
 *
 * Only the event loop changes op->op, and only within a family (a batch
 * goes SUBMIT, POLL, then FAIL when the provider refuses it).
 */


/* u.listing: a file-system-go listing (ngx_http_douyin_fsgo_list()) */

typedef struct {
    ngx_uint_t                  listed;         /* out: the valid WAVs;
                                                   OP_CLAIM_PENDING: the
                                                   pushed videos listed */
    ngx_uint_t                  ignored;        /* out: other files */
    ngx_uint_t                  deleted;        /* out: OP_CLAIM, OP_LISTING:
                                                   listed tombstones */
    ngx_http_douyin_name_t     *names;          /* OP_CLAIM_PENDING: every
                                                   listed name, the thread's
                                                   own (malloc()ed) */
    ngx_uint_t                  nnames;
} ngx_http_douyin_op_listing_t;


/* u.batch: op->items sent as one provider task (ngx_http_douyin_runner.c) */

typedef struct {
    /* OP_SUBMIT out; OP_POLL in (from the submit, or the recovery) */
    char                        task_id[NGX_HTTP_DOUYIN_TASK_ID_MAX + 1];
    /* OP_FAIL in (set by the loop or by RC_FAIL); RC_FAIL out */
    char                        fail_code[NGX_HTTP_DOUYIN_CODE_MAX + 1];
    char                        fail_message[160];
    ngx_uint_t                  adopted;        /* OP_SUBMIT out: an earlier
                                                   submit's task was found */
    ngx_uint_t                  resubmitted;    /* OP_SUBMIT out: it was not
                                                   there: sent again */
    /* OP_SUBMIT: listed tasks found to be another's while settling */
    char                      (*others)[NGX_HTTP_DOUYIN_TASK_ID_MAX + 1];
    ngx_uint_t                  nothers;
    ngx_uint_t                  cothers;
} ngx_http_douyin_op_batch_t;


/* u.recover: the claims of workers that are gone (OP_RECOVER) */

typedef struct {
    ngx_uint_t                  limit;          /* in: videos at most */
    char                      **task_ids;       /* out: per item, malloc()ed;
                                                   NULL: never submitted */
} ngx_http_douyin_op_recover_t;


/* u.video: one video for a request, op->items[0] (ngx_http_douyin_video.c) */

typedef struct {
    ngx_uint_t                  is_read;        /* OP_READ in: the new flag */
    ngx_uint_t                  keep_file;      /* OP_DELETE in */
    ngx_uint_t                  create;         /* OP_DELETE in: a tombstone
                                                   without a record */
    cJSON                      *fields;         /* OP_PUSH in: what was sent,
                                                   owned by the op */
    ngx_uint_t                  not_found;      /* OP_READ, OP_DELETE out */
    ngx_uint_t                  acted;          /* OP_READ, OP_DELETE out:
                                                   file-system-go did it */
    ngx_uint_t                  settling;       /* OP_READ, OP_DELETE out:
                                                   the unknown outcome is
                                                   noted to be settled */
    char                        was[16];        /* OP_PUSH out: the status
                                                   after the push */
} ngx_http_douyin_op_video_t;


/* u.lease: a scheduled job's lease (ngx_http_douyin_lease.c) */

typedef struct {
    const char                 *name;           /* in: the job's name */
    time_t                      now;            /* in: Unix s */
    time_t                      slot;           /* OP_LEASE in: Unix s,
                                                   0: not scheduled */
    const char                 *trigger;        /* OP_LEASE in: why it runs */
    ngx_http_douyin_lease_e     found;          /* OP_LEASE out */
    cJSON                      *summary;        /* OP_LEASE_END in: owned by
                                                   the op */
} ngx_http_douyin_op_lease_t;


/* u.expire: retention (ngx_http_douyin_schedule.c) */

typedef struct {
    time_t                      cutoff;         /* in: Unix s; completed
                                                   before it is too old */
    ngx_uint_t                  removed;        /* OP_EXPIRE out: the record
                                                   was dropped */
} ngx_http_douyin_op_expire_t;


/* u.settle: outcomes left unknown (ngx_http_douyin_settle.c) */

typedef struct {
    time_t                      now;            /* in: Unix s */
    time_t                      cutoff;         /* in: Unix s; a note taken
                                                   before it is old enough
                                                   for a final "not done" */
} ngx_http_douyin_op_settle_t;


typedef struct {
    ngx_http_douyin_op_e        op;             /* in */
    ngx_http_douyin_main_conf_t *conf;          /* in, read only */
    ngx_http_douyin_store_t    *store;          /* in */
    const char                 *auth_header;    /* in: "Authorization: ..." */
    ngx_http_douyin_owner_t     owner;          /* in */
    ngx_uint_t                  attempt;        /* in: 0 on the first try */

    /* in, or out (a listing, a scan, the recovery): malloc()ed */
    ngx_http_douyin_item_t     *items;
    ngx_uint_t                  nitems;

    union {
        ngx_http_douyin_op_listing_t  listing;
        ngx_http_douyin_op_batch_t    batch;
        ngx_http_douyin_op_recover_t  recover;
        ngx_http_douyin_op_video_t    video;
        ngx_http_douyin_op_lease_t    lease;
        ngx_http_douyin_op_expire_t   expire;
        ngx_http_douyin_op_settle_t   settle;
    } u;

    /* out, every op: set by ngx_http_douyin_op_handler() and the op */
    ngx_http_douyin_rc_e        rc;
    ngx_http_douyin_err_e       err;            /* ours, or OK */
    long                        http_status;    /* of the last HTTP call */
    char                        code[NGX_HTTP_DOUYIN_CODE_MAX + 1];
    char                        detail[256];    /* for the log, no secret */
    ngx_uint_t                  key_rejected;   /* 401/403 from provider */
} ngx_http_douyin_op_t;


/* the answer of a job to its waiting request (ngx_http_douyin_handler.c) */

typedef void (*ngx_http_douyin_respond_pt)(ngx_http_request_t *r,
    ngx_http_douyin_err_e err, cJSON *json);

/*
 * a job started without a request (a scheduled run) says how it went:
 * once listed (listed = 1, err the listing's error or OK) and once every
 * claimed video has ended (listed = 0)
 */

typedef void (*ngx_http_douyin_job_done_pt)(ngx_http_douyin_job_t *job,
    ngx_http_douyin_err_e err, ngx_uint_t listed);


struct ngx_http_douyin_job_s {
    ngx_pool_t                 *pool;
    ngx_http_request_t         *request;        /* NULL: nobody waits */
    ngx_pool_cleanup_t         *request_cleanup;
    ngx_http_douyin_respond_pt  respond;
    ngx_http_douyin_runner_t   *runner;
    ngx_flag_t                  async;
    ngx_flag_t                  pending;        /* /api/process/pending */

    ngx_thread_task_t          *task;           /* OP_CLAIM */

    ngx_queue_t                 queue;          /* in runner->jobs */
    ngx_flag_t                  queued;
    ngx_queue_t                 live;           /* in runner->listing_jobs,
                                                   then runner->live_jobs */
    ngx_uint_t                  next;           /* next item to submit */

    ngx_uint_t                  total;
    ngx_uint_t                  claimed;
    ngx_uint_t                  ended;
    ngx_uint_t                  success;
    ngx_uint_t                  failed;
    ngx_uint_t                  handed_over;    /* left to the next workers */
    ngx_uint_t                  unstored;       /* ended, but the outcome
                                                   could not be stored yet:
                                                   still processing */
    ngx_http_douyin_err_e       unstored_err;   /* why (STORE_FULL, ...) */

    ngx_http_douyin_job_done_pt done;           /* NULL: a request's job */
    void                       *data;           /* done's */
};


struct ngx_http_douyin_batch_s {
    ngx_http_douyin_runner_t   *runner;
    ngx_queue_t                 queue;          /* in runner->batches */
    ngx_http_douyin_job_t      *jobs[NGX_HTTP_DOUYIN_BATCH_MAX];
    ngx_thread_task_t          *task;           /* ctx: ngx_http_douyin_op_t */
    ngx_event_t                 timer;          /* next step */
    ngx_msec_t                  started;        /* ngx_current_msec */
    ngx_uint_t                  polls;
    ngx_queue_t                 rate_queue;     /* in runner->rate_waiting */
    ngx_uint_t                  rate_waiting;   /* in that queue */
    ngx_msec_t                  rate_since;     /* there since */
    ngx_uint_t                  detached;       /* its jobs were answered:
                                                   the store kept failing */
};


/* the cached file-system-go listing behind stats and status=pending */

typedef struct {
    time_t                      fetched_at;     /* Unix s, 0: never */
    ngx_msec_t                  fetched;        /* ngx_current_msec */
    ngx_uint_t                  total;          /* valid WAVs listed, but
                                                   tombstones */
    ngx_uint_t                  npending;       /* of those, no record */
    char                      (*pending)[NGX_HTTP_DOUYIN_ID_MAX + 1];
    u_char                     *upper;          /* per pending video: the
                                                   upper-case letters of
                                                   its ".wav" (bits 0-2:
                                                   w, a, v), 0: ".wav" */
    ngx_thread_task_t          *task;           /* OP_LISTING */
    ngx_queue_t                 waiters;
    ngx_uint_t                  posted;         /* refreshes posted: the
                                                   one in flight is the
                                                   last */
    ngx_uint_t                  changed;        /* "posted" at the last
                                                   change this worker made:
                                                   a refresh up to it is
                                                   followed by another */
    ngx_flag_t                  stale;          /* refresh at the next use */
} ngx_http_douyin_listing_t;


struct ngx_http_douyin_runner_s {
    ngx_http_douyin_main_conf_t *conf;
    ngx_http_douyin_store_t     store;
    ngx_flag_t                  store_ok;
    char                       *auth_header;    /* NULL: no key */
    ngx_http_douyin_owner_t     owner;
    ngx_log_t                  *log;

    ngx_queue_t                 jobs;           /* with items to submit */
    ngx_queue_t                 listing_jobs;   /* OP_CLAIM not yet done */
    ngx_queue_t                 live_jobs;      /* listed, not yet ended */
    ngx_queue_t                 batches;
    ngx_event_t                 watch;          /* while a caller waits */
    ngx_uint_t                  inflight;       /* videos in batches */
    ngx_flag_t                  key_rejected;
    char                        key_code[NGX_HTTP_DOUYIN_CODE_MAX + 1];

    ngx_event_t                 recover_timer;
    ngx_thread_task_t          *recover_task;
    ngx_event_t                 dispatch_timer; /* a batch could not be
                                                   made: dispatch again */

    ngx_event_t                 settle_timer;   /* worker 0 only */
    ngx_thread_task_t          *settle_task;

    ngx_msec_t                  started;        /* ngx_current_msec */

    /* provider requests waiting for admission, submit and query */
    ngx_queue_t                 rate_waiting[2];
    ngx_event_t                 rate_timer[2];

    ngx_http_douyin_listing_t   listing;

    ngx_flag_t                  registered;     /* in the "workers" db */
    ngx_http_douyin_sched_t    *process;        /* douyin_process_schedule */
    ngx_http_douyin_sched_t    *retention;      /* douyin_retention, cleanup */
};


extern ngx_module_t  ngx_http_douyin_module;


/* is this worker's store open? */
#define ngx_http_douyin_store_ready(dmcf)                                    \
    ((dmcf)->runner != NULL && (dmcf)->runner->store_ok)


/* ---- event loop ---------------------------------------------------- */


/* ngx_http_douyin_response.c: JSON bodies, the error table, 405s */

extern const ngx_http_douyin_error_t  ngx_http_douyin_errors[];

ngx_int_t ngx_http_douyin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_http_douyin_send_cjson(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *json);
ngx_int_t ngx_http_douyin_send_error(ngx_http_request_t *r,
    ngx_http_douyin_err_e err);
ngx_int_t ngx_http_douyin_send_error_detail(ngx_http_request_t *r,
    ngx_http_douyin_err_e err, const char *detail);
ngx_int_t ngx_http_douyin_send_message(ngx_http_request_t *r,
    const char *message);
ngx_int_t ngx_http_douyin_send_static(ngx_http_request_t *r,
    const char *type, const u_char *data, size_t len);
ngx_int_t ngx_http_douyin_method_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);
ngx_int_t ngx_http_douyin_accept(ngx_http_request_t *r, ngx_uint_t methods);
ngx_int_t ngx_http_douyin_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);
ngx_int_t ngx_http_douyin_error_handler(ngx_http_request_t *r);


/* ngx_http_douyin_handler.c: health, info, docs, openapi, process */

ngx_int_t ngx_http_douyin_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_info_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_docs_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_openapi_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_process_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_cleanup_handler(ngx_http_request_t *r);


/* ngx_http_douyin_video.c: one video's routes and their checks */

ngx_int_t ngx_http_douyin_result_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_video_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_video_read_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_video_unread_handler(ngx_http_request_t *r);
cJSON *ngx_http_douyin_video_item(ngx_http_douyin_main_conf_t *dmcf,
    const char *id, cJSON *rec, ngx_uint_t detail);
ngx_http_douyin_err_e ngx_http_douyin_video_id(ngx_http_request_t *r,
    char *id);
ngx_int_t ngx_http_douyin_video_open(ngx_http_request_t *r,
    ngx_uint_t methods, char *id, cJSON **rec);
ngx_int_t ngx_http_douyin_video_op(ngx_http_request_t *r,
    ngx_http_douyin_op_e kind, const char *id, cJSON *rec,
    ngx_uint_t flag);
ngx_int_t ngx_http_douyin_words_arg(ngx_http_request_t *r, ngx_uint_t *on);
ngx_int_t ngx_http_douyin_add_words(cJSON *segments, cJSON *rec);
ngx_int_t ngx_http_douyin_detail_extras(ngx_http_request_t *r, cJSON *item,
    cJSON *rec, ngx_uint_t words);


/* ngx_http_douyin_aweme.c: the collector's push and status */

ngx_int_t ngx_http_douyin_aweme_pending_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_aweme_status_handler(ngx_http_request_t *r);


/* ngx_http_douyin_list.c: the video list and the stats */

ngx_int_t ngx_http_douyin_videos_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_douyin_stats_handler(ngx_http_request_t *r);


/* ngx_http_douyin_rss.c: the RSS feed */

ngx_int_t ngx_http_douyin_rss_handler(ngx_http_request_t *r);
char *ngx_http_douyin_rss_item_link(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_douyin_rss_init_main_conf(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf);
void ngx_http_douyin_rss_init_module(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
/* ngx_http_douyin_subtitles.c: subtitles */

ngx_int_t ngx_http_douyin_subtitles_handler(ngx_http_request_t *r);


/* ngx_http_douyin_listing.c: the per-worker listing cache */

typedef void (*ngx_http_douyin_listing_pt)(ngx_http_request_t *r);

ngx_int_t ngx_http_douyin_listing_wait(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler);
ngx_int_t ngx_http_douyin_listing_renew(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler);
ngx_int_t ngx_http_douyin_listing_recorded(ngx_http_douyin_runner_t *runner,
    const char *id, ngx_uint_t deleted);
void ngx_http_douyin_listing_update(ngx_http_douyin_runner_t *runner,
    ngx_uint_t fresh, ngx_uint_t total);
void ngx_http_douyin_listing_free(ngx_http_douyin_listing_t *listing);
cJSON *ngx_http_douyin_listing_record(ngx_http_douyin_listing_t *listing,
    ngx_uint_t i);
ngx_int_t ngx_http_douyin_listing_file(ngx_http_douyin_listing_t *listing,
    const char *id, u_char *name);


/* ngx_http_douyin_runner.c: jobs, batches, recovery, hand-over */

ngx_int_t ngx_http_douyin_runner_init(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
void ngx_http_douyin_runner_exit(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
ngx_http_douyin_err_e ngx_http_douyin_job_start(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_flag_t async, ngx_flag_t pending,
    ngx_http_douyin_respond_pt respond);
ngx_http_douyin_err_e ngx_http_douyin_job_run(
    ngx_http_douyin_main_conf_t *dmcf, ngx_flag_t pending,
    ngx_http_douyin_job_done_pt done, void *data);


/* ngx_http_douyin_settle.c (event loop part): is a note waiting */

ngx_uint_t ngx_http_douyin_settle_waiting(ngx_http_douyin_store_t *store);


/* ngx_http_douyin_schedule.c: scheduled jobs, retention, cleanup */

ngx_int_t ngx_http_douyin_schedule_init(ngx_cycle_t *cycle,
    ngx_http_douyin_runner_t *runner);
void ngx_http_douyin_schedule_exit(ngx_http_douyin_runner_t *runner);
cJSON *ngx_http_douyin_schedule_status(ngx_http_douyin_main_conf_t *dmcf);
ngx_http_douyin_err_e ngx_http_douyin_cleanup_start(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, time_t age,
    ngx_http_douyin_respond_pt respond);
time_t ngx_http_douyin_schedule_next(time_t now, ngx_uint_t *at,
    ngx_uint_t n);


/* ngx_http_douyin_rate.c: per-account rates in shared memory, zone init */

ngx_int_t ngx_http_douyin_rate_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_douyin_zone_init(ngx_shm_zone_t *shm_zone, void *data,
    size_t size);
ngx_msec_t ngx_http_douyin_rate_admit(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query);


/* ngx_http_douyin_docs.c: generated by scripts/embed-docs.py */

extern const u_char  ngx_http_douyin_docs_html[];
extern const size_t  ngx_http_douyin_docs_html_len;
extern const u_char  ngx_http_douyin_openapi_json[];
extern const size_t  ngx_http_douyin_openapi_json_len;
extern const u_char  ngx_http_douyin_openapi_mounted_head[];
extern const size_t  ngx_http_douyin_openapi_mounted_head_len;
extern const u_char  ngx_http_douyin_openapi_mounted_tail[];
extern const size_t  ngx_http_douyin_openapi_mounted_tail_len;


/* ---- the boundary -------------------------------------------------- */


/* ngx_http_douyin_thread.c: posting ops, the watchdog, the ops */

ngx_int_t ngx_http_douyin_task_post(ngx_thread_pool_t *tp,
    ngx_thread_task_t *task);
ngx_int_t ngx_http_douyin_task_timedout(ngx_event_t *ev);
void ngx_http_douyin_op_handler(void *data, ngx_log_t *log);
void ngx_http_douyin_op_free(ngx_http_douyin_op_t *op);


/* ---- thread side --------------------------------------------------- */


/* a bounded, NUL-terminated copy */

static ngx_inline void
ngx_http_douyin_set(char *dst, size_t size, const char *src)
{
    ngx_cpystrn((u_char *) dst, (u_char *) src, size);
}


/* the op failed with one of our error kinds: op->err and op->code */

static ngx_inline void
ngx_http_douyin_op_error(ngx_http_douyin_op_t *op, ngx_http_douyin_err_e err)
{
    op->err = err;
    ngx_http_douyin_set(op->code, sizeof(op->code),
                        ngx_http_douyin_errors[err].code);
}


/* ngx_http_douyin_fsgo.c: the file-system-go client */

ngx_int_t ngx_http_douyin_fsgo_list(ngx_http_douyin_op_t *op);
char *ngx_http_douyin_join(const char *a, const char *b, const char *c,
    ngx_uint_t type);
ngx_int_t ngx_http_douyin_fsgo_read(ngx_http_douyin_op_t *op);
ngx_int_t ngx_http_douyin_fsgo_delete(ngx_http_douyin_op_t *op,
    ngx_uint_t *gone);
ngx_int_t ngx_http_douyin_fsgo_metadata(ngx_http_douyin_op_t *op,
    ngx_http_douyin_item_t *item, cJSON *rec);
ngx_int_t ngx_http_douyin_fsgo_exists(ngx_http_douyin_op_t *op,
    const char *filename, ngx_uint_t *exists);
ngx_int_t ngx_http_douyin_fsgo_read_state(ngx_http_douyin_op_t *op,
    const char *filename, ngx_uint_t *is_read);


/* ngx_http_douyin_settle.c (thread part): outcomes left unknown */

int ngx_http_douyin_settle_remember(ngx_http_douyin_store_t *store,
    ngx_http_douyin_op_e kind, const char *aweme_id, const char *filename,
    time_t now);
int ngx_http_douyin_settle_forget(ngx_http_douyin_store_t *store,
    ngx_http_douyin_op_e kind, const char *aweme_id);
void ngx_http_douyin_settle_run(ngx_http_douyin_op_t *op);
void ngx_http_douyin_settle_listed(ngx_http_douyin_op_t *op);


/* ngx_http_douyin_dashscope.c: the DashScope client */

/* what a query says of a provider task */
typedef enum {
    NGX_HTTP_DOUYIN_TASK_RUNNING = 0,   /* PENDING or RUNNING */
    NGX_HTTP_DOUYIN_TASK_ENDED,         /* SUCCEEDED or FAILED: results */
    NGX_HTTP_DOUYIN_TASK_RETRY,         /* no answer yet: query again */
    NGX_HTTP_DOUYIN_TASK_FAIL           /* fail the videos: op->code */
} ngx_http_douyin_task_status_e;

ngx_int_t ngx_http_douyin_dashscope_submit(ngx_http_douyin_op_t *op,
    const char **fail);
ngx_int_t ngx_http_douyin_dashscope_settle(ngx_http_douyin_op_t *op);
ngx_http_douyin_task_status_e ngx_http_douyin_dashscope_query(
    ngx_http_douyin_op_t *op, cJSON **answer, const char **fail);
ngx_int_t ngx_http_douyin_dashscope_record(ngx_http_douyin_op_t *op,
    cJSON *answer, ngx_http_douyin_item_t *item, cJSON **rec);
cJSON *ngx_http_douyin_failed_record(const char *code, const char *message);
double ngx_http_douyin_dashscope_usage(cJSON *answer, cJSON **records,
    ngx_uint_t n);


/* ngx_http_douyin_curl.c: one HTTP call with libcurl */

typedef struct {
    long                        status;         /* HTTP status, 0: none */
    char                       *body;           /* malloc()ed, NUL-ended */
    size_t                      len;
    char                        error[200];     /* transport error text */
    ngx_uint_t                  not_sent;       /* nothing was sent */
    ngx_uint_t                  timedout;       /* no answer in time */
} ngx_http_douyin_curl_t;

ngx_int_t ngx_http_douyin_curl_global_init(ngx_log_t *log,
    ngx_http_douyin_main_conf_t *dmcf);
/* a provider request paced by the douyin_asr_rate zone as it leaves */
typedef struct {
    ngx_http_douyin_main_conf_t *conf;
    ngx_uint_t                  query;          /* 0: submit, 1: query */
} ngx_http_douyin_pace_t;

ngx_int_t ngx_http_douyin_curl_request(ngx_http_douyin_curl_t *f,
    const char *method, const char *url, const char *const *headers,
    const char *body, ngx_msec_t timeout, size_t max_size);
ngx_int_t ngx_http_douyin_curl_paced(ngx_http_douyin_curl_t *f,
    ngx_http_douyin_pace_t *pace, const char *method, const char *url,
    const char *const *headers, const char *body, ngx_msec_t timeout,
    size_t max_size);
void ngx_http_douyin_curl_free(ngx_http_douyin_curl_t *f);


/* ngx_http_douyin_claim.c: claims, task ids, outcomes, recovery, workers */

int ngx_http_douyin_claim(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, ngx_uint_t *claimed,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_claim_set_task(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, const char *task_id,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_claim_submitting(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, uint64_t ms,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_claim_finish(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, cJSON **records, ngx_uint_t n,
    ngx_http_douyin_owner_t *owner);
int ngx_http_douyin_claim_metadata(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, cJSON **metas, ngx_uint_t n);
int ngx_http_douyin_claim_recover(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t limit,
    ngx_http_douyin_item_t **items, char ***task_ids, ngx_uint_t *n);
int ngx_http_douyin_claim_register(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t add);
ngx_int_t ngx_http_douyin_claim_alive(MDB_txn *txn,
    ngx_http_douyin_store_t *store, cJSON *rec,
    ngx_http_douyin_owner_t *owner);


/* ngx_http_douyin_lease.c: scheduled jobs' leases, retention's writes */

int ngx_http_douyin_lease_take(ngx_http_douyin_store_t *store,
    const char *name, time_t slot, const char *trigger, time_t now,
    ngx_http_douyin_owner_t *owner, ngx_http_douyin_lease_e *result);
int ngx_http_douyin_lease_end(ngx_http_douyin_store_t *store,
    const char *name, time_t now, ngx_http_douyin_owner_t *owner,
    cJSON *summary);
int ngx_http_douyin_expire_scan(ngx_http_douyin_store_t *store,
    time_t cutoff, ngx_http_douyin_item_t **items, ngx_uint_t *n);
int ngx_http_douyin_expire_record(ngx_http_douyin_store_t *store,
    const char *aweme_id, time_t cutoff, ngx_uint_t *removed);


/* ngx_http_douyin_rate.c (thread side): pacing as requests leave */

void ngx_http_douyin_rate_pace(ngx_http_douyin_main_conf_t *dmcf,
    ngx_uint_t query);



/* ---- both sides ---------------------------------------------------- */


/*
 * ngx_http_douyin_store.c: LMDB.  Read transactions run on either side;
 * write transactions only in threads (ngx_http_douyin_store_write() is
 * also the claim room's way to write a record).
 */

extern const ngx_http_douyin_status_t  ngx_http_douyin_statuses[];

ngx_http_douyin_status_e ngx_http_douyin_status_of(cJSON *rec);
ngx_http_douyin_err_e ngx_http_douyin_store_error(int rc);
ngx_int_t ngx_http_douyin_store_open(ngx_http_douyin_store_t *store,
    const char *path, size_t map_size, ngx_http_douyin_texts_pt texts,
    ngx_log_t *log);
void ngx_http_douyin_store_close(ngx_http_douyin_store_t *store);
cJSON *ngx_http_douyin_store_get(ngx_http_douyin_store_t *store,
    const char *aweme_id, int *err);
int ngx_http_douyin_store_read(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON **rec);
int ngx_http_douyin_store_write(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON *rec);
int ngx_http_douyin_store_counts(ngx_http_douyin_store_t *store,
    int64_t counts[NGX_HTTP_DOUYIN_NSTATUS][2]);
int ngx_http_douyin_store_asr(ngx_http_douyin_store_t *store, time_t now,
    double *total, double *recent);
int ngx_http_douyin_store_page(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t offset,
    ngx_uint_t limit, cJSON **page);
int ngx_http_douyin_store_result(ngx_http_douyin_store_t *store,
    const char *aweme_id, ngx_pool_t *pool, ngx_str_t *body);
int ngx_http_douyin_store_list(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t page,
    ngx_uint_t page_size, const char *base, ngx_pool_t *pool,
    ngx_str_t *body);
int ngx_http_douyin_store_set_read(ngx_http_douyin_store_t *store,
    const char *aweme_id, ngx_uint_t is_read, time_t now);
int ngx_http_douyin_store_has(ngx_http_douyin_store_t *store, char **ids,
    ngx_uint_t n, u_char *found);
int ngx_http_douyin_store_push(ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON *fields, time_t now, char *was);
int ngx_http_douyin_store_tombstone(ngx_http_douyin_store_t *store,
    const char *aweme_id, const char *filename, ngx_uint_t create,
    time_t now);
int ngx_http_douyin_store_pending(ngx_http_douyin_store_t *store,
    ngx_uint_t limit, ngx_http_douyin_item_t **items, ngx_uint_t *n);
int ngx_http_douyin_store_item(ngx_http_douyin_item_t **items, ngx_uint_t *n,
    ngx_uint_t *cap, const char *id, cJSON *rec);
ngx_int_t ngx_http_douyin_store_pushed_keeps(cJSON *rec, cJSON *field);
int ngx_http_douyin_store_feed_state(ngx_http_douyin_store_t *store,
    ngx_http_douyin_feed_state_t *st);
int ngx_http_douyin_store_feed(ngx_http_douyin_store_t *store,
    ngx_uint_t unread_only, ngx_uint_t limit, cJSON **items,
    ngx_http_douyin_feed_state_t *st);
time_t ngx_http_douyin_parse_iso8601(const char *s);
cJSON *ngx_http_douyin_lease_read(ngx_http_douyin_store_t *store,
    const char *name);

/* ngx_http_douyin_video.c: the texts the read routes send, at write time */

ngx_int_t ngx_http_douyin_video_texts(const char *id, cJSON *rec,
    char **data, char **item);


#endif /* _NGX_HTTP_DOUYIN_MODULE_H_INCLUDED_ */


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the LMDB store (both sides).
 *
 * One environment per worker process (opened in init_process, after
 * fork, with MDB_NOTLS so read transactions may run on the event loop
 * and write transactions on any thread of the pool).  Write transactions
 * run only in thread tasks and never around network I/O.
 *
 * Layout, format version 3 (key -> value):
 *
 *   "meta"        "format_version" -> "3"
 *   "videos"      aweme_id -> the video record, a JSON object (UTF-8):
 *                   status        "processing" | "completed" | "failed"
 *                                 | "pending" | "deleted" (see below)
 *                   owner         pid of the worker that claimed it
 *                   claimed_at    Unix s of the claim
 *                   task_id       the provider's task id, once known
 *                   file_url      the URL the provider fetches
 *                   filename      "<aweme_id>.wav" as listed
 *                   processed_at  Unix s when it ended
 *                   error, message            failed only
 *                   text, segments[{start_time,end_time,text,confidence,
 *                   speaker_id (diarization only)}], confidence,
 *                   audio_duration, asr_seconds (billed s), words
 *                   (per segment: [[begin_ms,end_ms,text,punctuation]],
 *                   absent in records of older releases), language
 *                   (when the provider gives it)          completed only
 *                   title, author, description, upload_time (metadata)
 *                   metadata_missing  true while file-system-go has
 *                                 failed to give the metadata (completed
 *                                 only; each listing fetches it again,
 *                                 ngx_http_douyin_claim_metadata())
 *                   is_read, read_at
 *                 and, from the collector-fed workflow (format 2):
 *                   pending_at    Unix s of the collector's push
 *                   video_publish_time  the pushed ISO 8601 string or null
 *                   deleted_at    Unix s of a user's delete (tombstone)
 *   "processing"  aweme_id -> "" for every record whose status is
 *                 "processing", so recovery never scans every record;
 *   "by_time"     sort key -> aweme_id, newest upload_time first (see
 *                 ngx_http_douyin_store_index()), for the video list:
 *                 the records the unfiltered list shows (processing,
 *                 completed, failed), not pending or deleted ones;
 *   "by_status"   status letter + read flag + sort key -> aweme_id, for
 *                 the filtered list, every record;
 *   "workers"     pid (decimal) -> {run id, process start time} (a
 *                 struct, host order) of every worker process that has
 *                 the store open: a claim is alive while its (owner, run)
 *                 is here and that very process runs (same start time:
 *                 a later process with the same pid, after a crash or a
 *                 reboot, does not count); old and new binaries of an
 *                 upgrade see each other;
 *   "meta"        "count:<s><r>" -> int64 (host order), the number of
 *                 records per status letter (q pending, p, c, f, d
 *                 deleted) and read flag (0, 1), for the stats;
 *                 "asr:total" -> double (host order), the sum of the
 *                 records' asr_seconds (the seconds DashScope billed);
 *                 "asr:day:<n>" -> double, the same for the records
 *                 processed on UTC day n (8 decimal digits, days since
 *                 1970-01-01), for the stats' last 30 days.
 *   "feed"        read flag + sort key -> aweme_id, one entry per
 *                 completed record with a non-empty text, newest
 *                 processed_at first (see ngx_http_douyin_store_feed_key()),
 *                 for the RSS feed (since format 2);
 *   "meta"        "feed" -> ngx_http_douyin_feed_state_t (host order):
 *                 per feed variant (every item, unread items) a version
 *                 that grows by one in each write transaction that
 *                 changes an item of that variant, and the Unix s of that
 *                 change: the feed's ETag and Last-Modified (since
 *                 format 2).
 *   "meta"        "lease:<job>" -> a JSON object, the lease of a scheduled
 *                 job ("process", "retention"): its last slot and run
 *                 (ngx_http_douyin_lease.c).  Added without a format
 *                 change: an older module ignores these keys.
 *   "meta"        "settle:<aweme_id>" -> a JSON object, a delete or
 *                 mark-read whose file-system-go outcome is unknown, to
 *                 be settled (ngx_http_douyin_settle.c); likewise added
 *                 without a format change.
 *   "views"       aweme_id -> the JSON texts the read routes send for the
 *                 record (since format 3), made by the write that stores
 *                 the record (store->texts: ngx_http_douyin_video_texts()),
 *                 so that a GET copies them out of the map without a JSON
 *                 parse or print: two uint32_t (host order), the lengths of the
 *                 first two texts, then the result's "data" object, then
 *                 the list item in two parts: up to the opening quote of
 *                 the "audio_url" value, then the rest (the value without
 *                 douyin_audio_base_url, which the reader puts between);
 *   "pages"       tag + anchor -> uint32_t (host order): the page index of
 *                 "by_time" (tag 't') and "by_status" (tag 's') (since
 *                 format 3).  Each index, and each 2-byte prefix of
 *                 "by_status", is cut into chunks of consecutive entries;
 *                 a chunk's anchor is a key at or below its first entry
 *                 (the first chunk's is the bare prefix) and its value
 *                 the number of entries from the anchor up to the next
 *                 anchor.  A chunk that grows beyond
 *                 2 x NGX_HTTP_DOUYIN_PAGE_CHUNK entries is split, one
 *                 left empty is dropped, in the write that changes the
 *                 index: a page's offset is found by adding counts, one
 *                 per chunk, and walking the rest of one chunk per
 *                 cursor, not by walking every entry before it.
 *
 * The collector-fed workflow (format 2) adds two stored statuses:
 * "pending", a video the collector pushed (POST /api/aweme/{id}/pending)
 * that nobody has transcribed yet, and "deleted", a tombstone: the user
 * deleted the video, its transcript is dropped, its metadata kept, and
 * nothing ever claims it again (ngx_http_douyin_claim() skips it), whether
 * its WAV is still listed or the collector pushes it again.  Their
 * functions are at the end of this file (ngx_http_douyin_store_push(),
 * ngx_http_douyin_store_tombstone()).
 *
 * Format 1 stores (no pending or deleted record, so every index and count
 * of theirs is already right in format 2; no "feed" index) are upgraded in
 * place by the first worker that opens them, in one write transaction that
 * reads every record once to build the feed index
 * (ngx_http_douyin_store_feed_open()); a module that reads only format 1
 * then refuses the store instead of claiming its tombstones or writing
 * records without their feed entries.  Format 2 stores (and format 1
 * ones, after that) are upgraded to format 3 in the same transaction:
 * every record is read once to store its texts in "views", and every
 * index walked once to make its "pages" anchors
 * (ngx_http_douyin_store_views_open()); a module that reads only format
 * 2 then refuses the store rather than write records whose texts would
 * go stale.
 *
 * Status names and letters are those of ngx_http_douyin_statuses[].
 * Claims, task ids, outcomes, the recovery scan and the "workers"
 * database are written by ngx_http_douyin_claim.c.
 *
 * Every write goes through ngx_http_douyin_store_write(), which updates
 * the record, the indexes and the counts in one transaction, so the list,
 * the stats and the records can never disagree.
 *
 * A later release that changes the layout bumps format_version and
 * migrates in ngx_http_douyin_store_open().
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_STORE_FORMAT  "3"


/* a page index chunk: split beyond twice this many entries */
#define NGX_HTTP_DOUYIN_PAGE_CHUNK    64

/* a "pages" key: tag, "by_status" prefix, sort key */
#define NGX_HTTP_DOUYIN_PAGE_KEY_LEN                                          \
    (1 + 2 + 1 + 16 + NGX_HTTP_DOUYIN_ID_MAX + 1)


/*
 * The index entries of a record: its status letter ('q', 'p', 'c', 'f',
 * 'd'), its
 * read flag ('0', '1') and its sort key, newest upload_time first:
 *   "0" + 16 hex digits of (2^64 - 1 - Unix s of upload_time) + id key
 *   "1" + id key                               (no or unreadable time)
 * where the id key is the aweme_id left-padded with zeros to 32 digits
 * and each digit d written as 9 - d, so that ascending keys are
 * descending ids, followed by one letter for the id's length.
 */

typedef struct {
    u_char      status;
    u_char      read;
    u_char      listed;     /* in "by_time": the unfiltered list shows it */
    size_t      len;
    u_char      key[1 + 16 + NGX_HTTP_DOUYIN_ID_MAX + 1];
} ngx_http_douyin_index_t;


/* one cursor of a page: over "by_time", or one prefix of "by_status" */

typedef struct {
    MDB_cursor                 *cur;
    MDB_val                     key;
    MDB_val                     val;
    u_char                      prefix[2];      /* "": by_time */
    ngx_uint_t                  live;
} ngx_http_douyin_walk_t;


static int ngx_http_douyin_store_env(ngx_http_douyin_store_t *store,
    const char *path, size_t map_size, const char **call);
static int ngx_http_douyin_store_dbis(ngx_http_douyin_store_t *store,
    MDB_txn *txn, const char **call);
static int ngx_http_douyin_store_format(ngx_http_douyin_store_t *store,
    MDB_txn *txn, const char *path, ngx_log_t *log, const char **call);
static void ngx_http_douyin_store_index(cJSON *rec, const char *aweme_id,
    ngx_http_douyin_index_t *ix);
static int ngx_http_douyin_store_index_update(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id,
    ngx_http_douyin_index_t *ix, int delta);
static int ngx_http_douyin_store_walk(MDB_txn *txn,
    ngx_http_douyin_store_t *store, ngx_uint_t status_mask,
    ngx_uint_t read_mask, ngx_http_douyin_walk_t *walk, ngx_uint_t *n);
static ngx_uint_t ngx_http_douyin_store_next(ngx_http_douyin_walk_t *walk,
    ngx_uint_t n);
static int ngx_http_douyin_store_seek(MDB_txn *txn,
    ngx_http_douyin_store_t *store, ngx_http_douyin_walk_t *walk,
    ngx_uint_t n, ngx_uint_t offset, ngx_uint_t *skip);
static void ngx_http_douyin_store_rewind(ngx_http_douyin_walk_t *walk,
    ngx_uint_t n);
static void ngx_http_douyin_store_step(ngx_http_douyin_walk_t *w);
static int ngx_http_douyin_store_page_count(MDB_txn *txn,
    ngx_http_douyin_store_t *store, MDB_dbi dbi, u_char tag, MDB_val *ikey,
    size_t plen, int delta);
static int ngx_http_douyin_store_pages_build(MDB_txn *txn,
    ngx_http_douyin_store_t *store, MDB_dbi dbi, u_char tag, size_t plen,
    ngx_uint_t *anchors);
static int ngx_http_douyin_store_views_put(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id, const char *text,
    size_t len);
static int ngx_http_douyin_store_views_open(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *path, ngx_log_t *log);
static int ngx_http_douyin_store_view(MDB_val *val, ngx_str_t *data,
    ngx_str_t *head, ngx_str_t *tail);
static int ngx_http_douyin_store_counts_txn(MDB_txn *txn,
    ngx_http_douyin_store_t *store,
    int64_t counts[NGX_HTTP_DOUYIN_NSTATUS][2]);
static int ngx_http_douyin_store_rbegin(ngx_http_douyin_store_t *store,
    MDB_txn **txn);
static void ngx_http_douyin_store_rend(ngx_http_douyin_store_t *store,
    MDB_txn *txn);
static int ngx_http_douyin_store_add(MDB_txn *txn,
    ngx_http_douyin_store_t *store, MDB_val *val, cJSON *list);
static ngx_uint_t ngx_http_douyin_store_feed_next(MDB_val *key,
    ngx_uint_t *live, ngx_uint_t n);
static int ngx_http_douyin_store_feed_open(MDB_txn *txn,
    ngx_http_douyin_store_t *store, MDB_val *version, const char *path,
    ngx_log_t *log);
static int ngx_http_douyin_store_feed_migrate(MDB_txn *txn,
    ngx_http_douyin_store_t *store, ngx_uint_t *n);
static int ngx_http_douyin_store_feed_write(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id, cJSON *old,
    cJSON *rec);
static ngx_http_douyin_status_e ngx_http_douyin_store_status_text(
    MDB_val *val);
static int ngx_http_douyin_store_asr_update(MDB_txn *txn,
    ngx_http_douyin_store_t *store, cJSON *rec, int sign);
static int ngx_http_douyin_store_add_double(MDB_txn *txn,
    ngx_http_douyin_store_t *store, u_char *name, size_t len, double delta);
static ngx_int_t ngx_http_douyin_iso8601_fields(const char **pp, int *n);
static ngx_int_t ngx_http_douyin_iso8601_zone(const char **pp, int *offset);
static int64_t ngx_http_douyin_days_from_civil(int64_t y, int64_t m,
    int64_t d);


/* indexed by ngx_http_douyin_status_e */

const ngx_http_douyin_status_t  ngx_http_douyin_statuses[] = {
    { ngx_string("pending"),    'q', 1 << NGX_HTTP_DOUYIN_PENDING },
    { ngx_string("processing"), 'p', 1 << NGX_HTTP_DOUYIN_PROCESSING },
    { ngx_string("completed"),  'c', 1 << NGX_HTTP_DOUYIN_COMPLETED },
    { ngx_string("failed"),     'f', 1 << NGX_HTTP_DOUYIN_FAILED },
    { ngx_string("deleted"),    'd', 1 << NGX_HTTP_DOUYIN_DELETED }
};


/*
 * ngx_http_douyin_status_of: the status of the record rec: PENDING when
 * there is none (NULL), else the one its "status" names (a pushed video
 * is "pending", a tombstone "deleted"); a record whose status is none of
 * ours counts as failed.
 */

ngx_http_douyin_status_e
ngx_http_douyin_status_of(cJSON *rec)
{
    cJSON       *status;
    ngx_uint_t   s;

    if (rec == NULL) {
        return NGX_HTTP_DOUYIN_PENDING;
    }

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");

    if (cJSON_IsString(status)) {
        for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
            if (ngx_strcmp(status->valuestring,
                           ngx_http_douyin_statuses[s].name.data) == 0)
            {
                return s;
            }
        }
    }

    return NGX_HTTP_DOUYIN_FAILED;
}


/*
 * ngx_http_douyin_store_error: the error kind of an LMDB or errno code
 * from a write: STORE_FULL when the map is full or the disk under it
 * (LMDB passes write(2)'s ENOSPC and EDQUOT on), OUT_OF_MEMORY for
 * ENOMEM, else STORE_ERROR.
 */

ngx_http_douyin_err_e
ngx_http_douyin_store_error(int rc)
{
    if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT) {
        return NGX_HTTP_DOUYIN_ERR_STORE_FULL;
    }

    return (rc == ENOMEM) ? NGX_HTTP_DOUYIN_ERR_NO_MEMORY
                          : NGX_HTTP_DOUYIN_ERR_STORE;
}


/*
 * ngx_http_douyin_store_open: opens (creating) the environment in the
 * folder "path" with a map of map_size bytes, its databases and the
 * format version; texts makes the texts every record write stores
 * beside the record ("views", and an upgrade to format 3).  Event loop,
 * init_process.  Returns NGX_OK, or NGX_ERROR after logging the LMDB
 * error.
 */

ngx_int_t
ngx_http_douyin_store_open(ngx_http_douyin_store_t *store, const char *path,
    size_t map_size, ngx_http_douyin_texts_pt texts, ngx_log_t *log)
{
    int         rc, dead;
    MDB_txn    *txn;
    const char *call;

    ngx_memzero(store, sizeof(ngx_http_douyin_store_t));

    store->texts = texts;

    txn = NULL;

    rc = ngx_http_douyin_store_env(store, path, map_size, &call);
    if (rc != 0) {
        goto failed;
    }

    (void) mdb_reader_check(store->env, &dead);

    call = "mdb_txn_begin()";
    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        goto failed;
    }

    rc = ngx_http_douyin_store_dbis(store, txn, &call);
    if (rc != 0) {
        goto failed;
    }

    rc = ngx_http_douyin_store_format(store, txn, path, log, &call);
    if (rc == -1) {
        mdb_txn_abort(txn);
        mdb_env_close(store->env);
        store->env = NULL;
        return NGX_ERROR;
    }

    if (rc != 0) {
        goto failed;
    }

    call = "mdb_txn_commit()";
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0) {
        goto failed;
    }

    return NGX_OK;

failed:

    /*
     * ALERT, not EMERG: this runs in a worker's init_process, and the
     * worker lives on (answering 503 STORE_UNAVAILABLE); nginx's own
     * worker init logs what it survives at ALERT (setrlimit(), chdir()
     * in ngx_worker_process_init()), EMERG only what stops it
     */

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "douyin: store \"%s\": %s failed: %s",
                  path, call, mdb_strerror(rc));

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }

    if (store->env != NULL) {
        mdb_env_close(store->env);
        store->env = NULL;
    }

    return NGX_ERROR;
}


/* creates and opens the environment: *call names the call that failed */

static int
ngx_http_douyin_store_env(ngx_http_douyin_store_t *store, const char *path,
    size_t map_size, const char **call)
{
    int  rc;

    *call = "mdb_env_create()";
    rc = mdb_env_create(&store->env);
    if (rc != 0) {
        return rc;
    }

    *call = "mdb_env_set_mapsize()";
    rc = mdb_env_set_mapsize(store->env, map_size);
    if (rc != 0) {
        return rc;
    }

    *call = "mdb_env_set_maxdbs()";
    rc = mdb_env_set_maxdbs(store->env, 16);
    if (rc != 0) {
        return rc;
    }

    /* old and new workers overlap on reload: workers x (threads + 1) x 2 */

    *call = "mdb_env_set_maxreaders()";
    rc = mdb_env_set_maxreaders(store->env, 1024);
    if (rc != 0) {
        return rc;
    }

    *call = "mdb_env_open()";

    return mdb_env_open(store->env, path, MDB_NOTLS, 0600);
}


/* opens (creating) every database of the store, in the open txn */

static int
ngx_http_douyin_store_dbis(ngx_http_douyin_store_t *store, MDB_txn *txn,
    const char **call)
{
    int         rc;
    ngx_uint_t  i;

    static const struct {
        const char  *name;
        const char  *call;
        size_t       offset;
    } dbis[] = {
        { "videos", "mdb_dbi_open(\"videos\")",
          offsetof(ngx_http_douyin_store_t, videos) },
        { "processing", "mdb_dbi_open(\"processing\")",
          offsetof(ngx_http_douyin_store_t, processing) },
        { "by_time", "mdb_dbi_open(\"by_time\")",
          offsetof(ngx_http_douyin_store_t, by_time) },
        { "by_status", "mdb_dbi_open(\"by_status\")",
          offsetof(ngx_http_douyin_store_t, by_status) },
        { "workers", "mdb_dbi_open(\"workers\")",
          offsetof(ngx_http_douyin_store_t, workers) },
        { "meta", "mdb_dbi_open(\"meta\")",
          offsetof(ngx_http_douyin_store_t, meta) },
        { "views", "mdb_dbi_open(\"views\")",
          offsetof(ngx_http_douyin_store_t, views) },
        { "pages", "mdb_dbi_open(\"pages\")",
          offsetof(ngx_http_douyin_store_t, pages) }
    };

    for (i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
        *call = dbis[i].call;

        rc = mdb_dbi_open(txn, dbis[i].name, MDB_CREATE,
                          (MDB_dbi *) ((u_char *) store + dbis[i].offset));
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


/*
 * writes the format version into a new store, or checks it: 0, an LMDB
 * code (*call names the call), or -1 when the store has another version
 * (logged)
 */

static int
ngx_http_douyin_store_format(ngx_http_douyin_store_t *store, MDB_txn *txn,
    const char *path, ngx_log_t *log, const char **call)
{
    int      rc;
    MDB_val  key, val;

    key.mv_data = "format_version";
    key.mv_size = sizeof("format_version") - 1;

    rc = mdb_get(txn, store->meta, &key, &val);

    if (rc == 0 || rc == MDB_NOTFOUND) {
        *call = "opening the feed index";
        rc = ngx_http_douyin_store_feed_open(txn, store,
                                             rc == 0 ? &val : NULL, path, log);
        if (rc != 0 && rc != MDB_INCOMPATIBLE) {
            return rc;
        }

        rc = mdb_get(txn, store->meta, &key, &val);
    }

    if (rc == 0 && val.mv_size == 1 && *(u_char *) val.mv_data == '2') {
        *call = "upgrading to format 3";
        rc = ngx_http_douyin_store_views_open(txn, store, path, log);
        if (rc != 0) {
            return rc;
        }

        rc = mdb_get(txn, store->meta, &key, &val);
    }

    if (rc == MDB_NOTFOUND) {
        val.mv_data = NGX_HTTP_DOUYIN_STORE_FORMAT;
        val.mv_size = sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1;

        *call = "mdb_put(\"format_version\")";
        return mdb_put(txn, store->meta, &key, &val, 0);
    }

    if (rc != 0) {
        *call = "mdb_get(\"format_version\")";
        return rc;
    }

    if (val.mv_size != sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1
        || ngx_memcmp(val.mv_data, NGX_HTTP_DOUYIN_STORE_FORMAT,
                      val.mv_size) != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "douyin: store \"%s\" has format version \"%*s\", "
                      "this module reads version "
                      NGX_HTTP_DOUYIN_STORE_FORMAT,
                      path, val.mv_size, val.mv_data);
        return -1;
    }

    return 0;
}


/* ngx_http_douyin_store_close: closes the environment (exit_process) */

void
ngx_http_douyin_store_close(ngx_http_douyin_store_t *store)
{
    if (store->rtxn != NULL) {
        mdb_txn_abort(store->rtxn);
        store->rtxn = NULL;
    }

    if (store->env != NULL) {
        mdb_env_close(store->env);
        store->env = NULL;
    }
}


/*
 * ngx_http_douyin_store_get: the record of aweme_id as a new cJSON object
 * (the caller deletes it), or NULL with *err = MDB_NOTFOUND when there is
 * none, or another LMDB/errno code.  A read transaction: event loop or
 * thread.
 */

cJSON *
ngx_http_douyin_store_get(ngx_http_douyin_store_t *store,
    const char *aweme_id, int *err)
{
    int       rc;
    cJSON    *rec;
    MDB_txn  *txn;

    rec = NULL;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = ngx_http_douyin_store_read(txn, store, aweme_id, &rec);
        mdb_txn_abort(txn);
    }

    *err = rc;

    return rec;
}


/*
 * ngx_http_douyin_store_read: the record of aweme_id in txn as a new
 * cJSON object in *rec.  Returns 0, MDB_NOTFOUND, MDB_CORRUPTED when the
 * value is not a JSON object, or another LMDB code.
 */

int
ngx_http_douyin_store_read(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON **rec)
{
    int      rc;
    MDB_val  key, val;

    *rec = NULL;

    key.mv_data = (void *) aweme_id;
    key.mv_size = ngx_strlen(aweme_id);

    rc = mdb_get(txn, store->videos, &key, &val);
    if (rc != 0) {
        return rc;
    }

    *rec = cJSON_ParseWithLength(val.mv_data, val.mv_size);

    if (*rec == NULL || !cJSON_IsObject(*rec)) {
        cJSON_Delete(*rec);
        *rec = NULL;
        return MDB_CORRUPTED;
    }

    return 0;
}


/* the index entries of the record rec of aweme_id */

static void
ngx_http_douyin_store_index(cJSON *rec, const char *aweme_id,
    ngx_http_douyin_index_t *ix)
{
    u_char                    *p;
    cJSON                     *is_read, *upload;
    size_t                     len, i;
    time_t                     t;
    ngx_http_douyin_status_e   status;

    is_read = cJSON_GetObjectItemCaseSensitive(rec, "is_read");
    upload = cJSON_GetObjectItemCaseSensitive(rec, "upload_time");

    status = ngx_http_douyin_status_of(rec);

    ix->status = ngx_http_douyin_statuses[status].letter;
    ix->listed = (ngx_http_douyin_statuses[status].bit
                  & NGX_HTTP_DOUYIN_STORED) != 0;

    ix->read = cJSON_IsTrue(is_read) ? '1' : '0';

    p = ix->key;

    t = cJSON_IsString(upload)
        ? ngx_http_douyin_parse_iso8601(upload->valuestring) : (time_t) -1;

    if (t != (time_t) -1) {
        *p++ = '0';
        p = ngx_sprintf(p, "%016xL", (uint64_t) -1 - (uint64_t) t);

    } else {
        *p++ = '1';
    }

    len = ngx_strlen(aweme_id);

    for (i = len; i < NGX_HTTP_DOUYIN_ID_MAX; i++) {
        *p++ = '9';
    }

    for (i = 0; i < len; i++) {
        *p++ = (u_char) ('9' - (aweme_id[i] - '0'));
    }

    /* "1" and "01" pad alike: the length tells them apart */
    *p++ = (u_char) ('A' + len);

    ix->len = p - ix->key;
}


/* adds (delta 1) or removes (delta -1) the index entries and the count */

static int
ngx_http_douyin_store_index_update(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id,
    ngx_http_douyin_index_t *ix, int delta)
{
    int       rc;
    u_char    skey[2 + sizeof(ix->key)], ckey[sizeof("count:xx")];
    int64_t   count;
    MDB_val   key, val;

    skey[0] = ix->status;
    skey[1] = ix->read;
    ngx_memcpy(skey + 2, ix->key, ix->len);

    key.mv_data = ix->key;
    key.mv_size = ix->len;
    val.mv_data = (void *) aweme_id;
    val.mv_size = ngx_strlen(aweme_id);

    /*
     * the unfiltered list shows neither pending nor deleted videos; an
     * entry added or removed counts in its chunk of the page index
     */

    if (delta > 0) {
        rc = ix->listed ? mdb_put(txn, store->by_time, &key, &val,
                                  MDB_NOOVERWRITE)
                        : MDB_KEYEXIST;
        if (rc == 0) {
            rc = ngx_http_douyin_store_page_count(txn, store, store->by_time,
                                                  't', &key, 0, 1);
        }

        if (rc != 0 && rc != MDB_KEYEXIST) {
            return rc;
        }

        key.mv_data = skey;
        key.mv_size = ix->len + 2;
        val.mv_data = (void *) aweme_id;
        val.mv_size = ngx_strlen(aweme_id);

        rc = mdb_put(txn, store->by_status, &key, &val, MDB_NOOVERWRITE);
        if (rc == 0) {
            rc = ngx_http_douyin_store_page_count(txn, store,
                                                  store->by_status, 's', &key,
                                                  2, 1);
        }

    } else {
        rc = ix->listed ? mdb_del(txn, store->by_time, &key, NULL)
                        : MDB_NOTFOUND;
        if (rc == 0) {
            rc = ngx_http_douyin_store_page_count(txn, store, store->by_time,
                                                  't', &key, 0, -1);
        }

        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        key.mv_data = skey;
        key.mv_size = ix->len + 2;

        rc = mdb_del(txn, store->by_status, &key, NULL);
        if (rc == 0) {
            rc = ngx_http_douyin_store_page_count(txn, store,
                                                  store->by_status, 's', &key,
                                                  2, -1);
        }
    }

    if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND) {
        rc = 0;
    }

    if (rc != 0) {
        return rc;
    }

    ngx_sprintf(ckey, "count:%c%c", ix->status, ix->read);

    key.mv_data = ckey;
    key.mv_size = sizeof("count:xx") - 1;

    count = 0;

    rc = mdb_get(txn, store->meta, &key, &val);
    if (rc == 0 && val.mv_size == sizeof(int64_t)) {
        ngx_memcpy(&count, val.mv_data, sizeof(int64_t));

    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    count += delta;
    if (count < 0) {
        count = 0;
    }

    val.mv_data = &count;
    val.mv_size = sizeof(int64_t);

    return mdb_put(txn, store->meta, &key, &val, 0);
}


/*
 * ngx_http_douyin_store_write: writes rec (NULL: deletes the record of
 * aweme_id) in the write transaction txn and keeps in step, in the same
 * transaction, the "processing" index, the "by_time" and "by_status"
 * indexes and their page index, the per-status counts, the sums of
 * billed seconds and the texts the read routes send ("views").  Thread
 * side.  Returns 0 or an
 * LMDB/errno code.
 */

int
ngx_http_douyin_store_write(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON *rec)
{
    int                       rc;
    char                     *text;
    cJSON                    *old;
    MDB_val                   key, val;
    ngx_http_douyin_index_t   ix;

    rc = ngx_http_douyin_store_read(txn, store, aweme_id, &old);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    rc = ngx_http_douyin_store_feed_write(txn, store, aweme_id, old, rec);

    if (rc == 0 && old != NULL) {
        ngx_http_douyin_store_index(old, aweme_id, &ix);
        rc = ngx_http_douyin_store_asr_update(txn, store, old, -1);
    }

    if (rc == 0 && old != NULL) {
        rc = ngx_http_douyin_store_index_update(txn, store, aweme_id, &ix, -1);
    }

    cJSON_Delete(old);

    if (rc != 0) {
        return rc;
    }

    key.mv_data = (void *) aweme_id;
    key.mv_size = ngx_strlen(aweme_id);

    if (rec == NULL) {
        rc = mdb_del(txn, store->videos, &key, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        rc = mdb_del(txn, store->views, &key, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        rc = mdb_del(txn, store->processing, &key, NULL);

        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    text = cJSON_PrintUnformatted(rec);
    if (text == NULL) {
        return ENOMEM;
    }

    val.mv_data = text;
    val.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, store->videos, &key, &val, 0);

    if (rc == 0) {
        rc = ngx_http_douyin_store_views_put(txn, store, aweme_id, text,
                                             ngx_strlen(text));

        /* our own text that does not parse: out of memory */
        if (rc == MDB_CORRUPTED) {
            rc = ENOMEM;
        }
    }

    cJSON_free(text);

    if (rc != 0) {
        return rc;
    }

    ngx_http_douyin_store_index(rec, aweme_id, &ix);

    rc = ngx_http_douyin_store_index_update(txn, store, aweme_id, &ix, 1);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_asr_update(txn, store, rec, 1);
    if (rc != 0) {
        return rc;
    }

    if (ix.status
        == ngx_http_douyin_statuses[NGX_HTTP_DOUYIN_PROCESSING].letter)
    {
        val.mv_data = "";
        val.mv_size = 0;
        return mdb_put(txn, store->processing, &key, &val, 0);
    }

    rc = mdb_del(txn, store->processing, &key, NULL);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/*
 * ngx_http_douyin_store_counts: the number of records per status (the
 * pending row counts the pushed videos: listed ones without record have
 * none) and read flag (0, 1).  A read transaction.  Returns 0 or an LMDB
 * code.
 */

int
ngx_http_douyin_store_counts(ngx_http_douyin_store_t *store,
    int64_t counts[NGX_HTTP_DOUYIN_NSTATUS][2])
{
    int       rc;
    MDB_txn  *txn;

    ngx_memzero(counts, NGX_HTTP_DOUYIN_NSTATUS * sizeof(counts[0]));

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_counts_txn(txn, store, counts);

    mdb_txn_abort(txn);

    return rc;
}


/* the counts of ngx_http_douyin_store_counts() in the read txn */

static int
ngx_http_douyin_store_counts_txn(MDB_txn *txn, ngx_http_douyin_store_t *store,
    int64_t counts[NGX_HTTP_DOUYIN_NSTATUS][2])
{
    int         rc, r;
    u_char      ckey[sizeof("count:xx")];
    MDB_val     key, val;
    ngx_uint_t  s;

    ngx_memzero(counts, NGX_HTTP_DOUYIN_NSTATUS * sizeof(counts[0]));

    for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        for (r = 0; r < 2; r++) {
            ngx_sprintf(ckey, "count:%c%c", ngx_http_douyin_statuses[s].letter,
                        '0' + r);

            key.mv_data = ckey;
            key.mv_size = sizeof("count:xx") - 1;

            rc = mdb_get(txn, store->meta, &key, &val);
            if (rc == 0 && val.mv_size == sizeof(int64_t)) {
                ngx_memcpy(&counts[s][r], val.mv_data, sizeof(int64_t));

            } else if (rc != 0 && rc != MDB_NOTFOUND) {
                return rc;
            }
        }
    }

    return 0;
}


/*
 * adds (sign 1) or takes away (sign -1) a record's asr_seconds to the
 * "asr:total" sum and to the sum of the UTC day of its processed_at
 */

static int
ngx_http_douyin_store_asr_update(MDB_txn *txn,
    ngx_http_douyin_store_t *store, cJSON *rec, int sign)
{
    int       rc;
    u_char    name[sizeof("asr:day:") + NGX_INT64_LEN];
    cJSON    *secs, *at;
    int64_t   day;

    secs = cJSON_GetObjectItemCaseSensitive(rec, "asr_seconds");

    if (!cJSON_IsNumber(secs) || secs->valuedouble == 0) {
        return 0;
    }

    rc = ngx_http_douyin_store_add_double(txn, store, (u_char *) "asr:total",
                                          sizeof("asr:total") - 1,
                                          sign * secs->valuedouble);
    if (rc != 0) {
        return rc;
    }

    at = cJSON_GetObjectItemCaseSensitive(rec, "processed_at");
    day = cJSON_IsNumber(at) && at->valuedouble > 0
          ? (int64_t) at->valuedouble / 86400 : 0;

    return ngx_http_douyin_store_add_double(txn, store, name,
               ngx_sprintf(name, "asr:day:%08L", day) - name,
               sign * secs->valuedouble);
}


static int
ngx_http_douyin_store_add_double(MDB_txn *txn, ngx_http_douyin_store_t *store,
    u_char *name, size_t len, double delta)
{
    int      rc;
    double   sum;
    MDB_val  key, val;

    key.mv_data = name;
    key.mv_size = len;

    sum = 0;

    rc = mdb_get(txn, store->meta, &key, &val);
    if (rc == 0 && val.mv_size == sizeof(double)) {
        ngx_memcpy(&sum, val.mv_data, sizeof(double));

    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    /* sums of whole seconds: a removal never leaves -0.0000001 behind */

    sum += delta;
    if (sum < 0.0005) {
        sum = 0;
    }

    val.mv_data = &sum;
    val.mv_size = sizeof(double);

    return mdb_put(txn, store->meta, &key, &val, 0);
}


/*
 * ngx_http_douyin_store_asr: the seconds DashScope billed for the stored
 * videos: *total over all of them, *recent over those processed on the
 * UTC day of "now" and the 29 days before.  A read transaction.
 * Returns 0 or an LMDB code.
 */

int
ngx_http_douyin_store_asr(ngx_http_douyin_store_t *store, time_t now,
    double *total, double *recent)
{
    int          rc;
    u_char       name[sizeof("asr:day:") + NGX_INT64_LEN];
    double       v;
    MDB_val      key, val;
    MDB_txn     *txn;
    MDB_cursor  *cur;

    *total = 0;
    *recent = 0;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    key.mv_data = "asr:total";
    key.mv_size = sizeof("asr:total") - 1;

    rc = mdb_get(txn, store->meta, &key, &val);
    if (rc == 0 && val.mv_size == sizeof(double)) {
        ngx_memcpy(total, val.mv_data, sizeof(double));

    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        goto done;
    }

    rc = mdb_cursor_open(txn, store->meta, &cur);
    if (rc != 0) {
        goto done;
    }

    key.mv_data = name;
    key.mv_size = ngx_sprintf(name, "asr:day:%08L",
                              (int64_t) now / 86400 - 29) - name;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    while (rc == 0 && key.mv_size == sizeof("asr:day:00000000") - 1
           && ngx_memcmp(key.mv_data, "asr:day:", 8) == 0)
    {
        if (val.mv_size == sizeof(double)) {
            ngx_memcpy(&v, val.mv_data, sizeof(double));
            *recent += v;
        }

        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    rc = (rc == MDB_NOTFOUND) ? 0 : rc;

done:

    mdb_txn_abort(txn);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/*
 * ngx_http_douyin_store_page: the records of one page of the list, newest
 * upload_time first (ids descending without a time), restricted to the
 * statuses whose bits are in status_mask and the read flags in read_mask
 * (NGX_HTTP_DOUYIN_UNREAD, NGX_HTTP_DOUYIN_READ).  Skips "offset"
 * entries and returns at most "limit" records in *page, a new cJSON
 * array of record objects each with "aweme_id" added.  Skipping adds
 * the counts of the page index and walks the index entries of the last
 * chunks (no record is read for skipped entries).  A read transaction.
 * Returns 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_store_page(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t offset,
    ngx_uint_t limit, cJSON **page)
{
    int                      rc;
    cJSON                   *list;
    MDB_txn                 *txn;
    ngx_uint_t               n, i, best, seen, skip;
    ngx_http_douyin_walk_t   walk[2 * NGX_HTTP_DOUYIN_NSTATUS], *w;

    *page = NULL;

    list = cJSON_CreateArray();
    if (list == NULL) {
        return ENOMEM;
    }

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        cJSON_Delete(list);
        return rc;
    }

    n = 0;

    rc = ngx_http_douyin_store_walk(txn, store, status_mask, read_mask, walk,
                                    &n);

    skip = offset;

    if (rc == 0) {
        rc = ngx_http_douyin_store_seek(txn, store, walk, n, offset, &skip);
    }

    for (seen = 0;
         rc == 0 && (ngx_uint_t) cJSON_GetArraySize(list) < limit;
         seen++)
    {
        best = ngx_http_douyin_store_next(walk, n);
        if (best == n) {
            break;
        }

        w = &walk[best];

        if (seen >= skip) {
            rc = ngx_http_douyin_store_add(txn, store, &w->val, list);
            if (rc != 0) {
                break;
            }
        }

        ngx_http_douyin_store_step(w);
    }

    for (i = 0; i < n; i++) {
        mdb_cursor_close(walk[i].cur);
    }

    mdb_txn_abort(txn);

    if (rc != 0) {
        cJSON_Delete(list);
        return rc;
    }

    *page = list;

    return 0;
}


/*
 * opens the cursors of a page at their first entry: everything is the
 * one "by_time" index; else one cursor per (status, read) prefix of
 * "by_status", merged by ngx_http_douyin_store_next()
 */

static int
ngx_http_douyin_store_walk(MDB_txn *txn, ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_http_douyin_walk_t *walk,
    ngx_uint_t *n)
{
    int                      rc;
    ngx_uint_t               s, r;
    ngx_http_douyin_walk_t  *w;

    if (status_mask == NGX_HTTP_DOUYIN_STORED
        && read_mask == (NGX_HTTP_DOUYIN_UNREAD|NGX_HTTP_DOUYIN_READ))
    {
        rc = mdb_cursor_open(txn, store->by_time, &walk[0].cur);
        if (rc != 0) {
            return rc;
        }

        *n = 1;

        walk[0].prefix[0] = '\0';
        walk[0].live = (mdb_cursor_get(walk[0].cur, &walk[0].key,
                                       &walk[0].val, MDB_FIRST) == 0);
        return 0;
    }

    for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        for (r = 0; r < 2; r++) {
            if (!(status_mask & ngx_http_douyin_statuses[s].bit)
                || !(read_mask & (1 << r)))
            {
                continue;
            }

            w = &walk[*n];

            rc = mdb_cursor_open(txn, store->by_status, &w->cur);
            if (rc != 0) {
                return rc;
            }

            (*n)++;

            w->prefix[0] = ngx_http_douyin_statuses[s].letter;
            w->prefix[1] = (u_char) ('0' + r);

            w->key.mv_data = w->prefix;
            w->key.mv_size = 2;

            w->live = (mdb_cursor_get(w->cur, &w->key, &w->val,
                                      MDB_SET_RANGE) == 0
                       && w->key.mv_size >= 2
                       && ngx_memcmp(w->key.mv_data, w->prefix, 2) == 0);
        }
    }

    return 0;
}


/* the live cursor with the smallest sort key (its 2-byte prefix aside) */

static ngx_uint_t
ngx_http_douyin_store_next(ngx_http_douyin_walk_t *walk, ngx_uint_t n)
{
    int         c;
    size_t      sk, la, lb;
    ngx_uint_t  i, best;

    sk = (n > 0 && walk[0].prefix[0] != '\0') ? 2 : 0;
    best = n;

    for (i = 0; i < n; i++) {
        if (!walk[i].live) {
            continue;
        }

        if (best == n) {
            best = i;
            continue;
        }

        la = walk[i].key.mv_size - sk;
        lb = walk[best].key.mv_size - sk;

        c = ngx_memcmp((u_char *) walk[i].key.mv_data + sk,
                       (u_char *) walk[best].key.mv_data + sk,
                       ngx_min(la, lb));

        if (c < 0 || (c == 0 && la < lb)) {
            best = i;
        }
    }

    return best;
}


/* appends to list the record whose aweme_id is the index value val */

static int
ngx_http_douyin_store_add(MDB_txn *txn, ngx_http_douyin_store_t *store,
    MDB_val *val, cJSON *list)
{
    int     rc;
    char    id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON  *rec;

    if (val->mv_size == 0 || val->mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
        return MDB_CORRUPTED;
    }

    ngx_memcpy(id, val->mv_data, val->mv_size);
    id[val->mv_size] = '\0';

    rc = ngx_http_douyin_store_read(txn, store, id, &rec);
    if (rc != 0) {
        return rc;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "aweme_id");

    if (cJSON_AddStringToObject(rec, "aweme_id", id) == NULL) {
        cJSON_Delete(rec);
        return ENOMEM;
    }

    cJSON_AddItemToArray(list, rec);

    return 0;
}


/*
 * ngx_http_douyin_store_set_read: sets is_read and read_at (Unix s, or
 * null when unread) of an existing record, in a write transaction.
 * Thread side.  Returns 0, MDB_NOTFOUND when there is no record, or
 * another LMDB/errno code (nothing changed).
 */

int
ngx_http_douyin_store_set_read(ngx_http_douyin_store_t *store,
    const char *aweme_id, ngx_uint_t is_read, time_t now)
{
    int       rc;
    cJSON    *rec;
    MDB_txn  *txn;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_read(txn, store, aweme_id, &rec);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "is_read");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "read_at");

    if (cJSON_AddBoolToObject(rec, "is_read", is_read ? 1 : 0) == NULL
        || (is_read ? cJSON_AddNumberToObject(rec, "read_at", (double) now)
                    : cJSON_AddNullToObject(rec, "read_at")) == NULL)
    {
        cJSON_Delete(rec);
        mdb_txn_abort(txn);
        return ENOMEM;
    }

    rc = ngx_http_douyin_store_write(txn, store, aweme_id, rec);
    cJSON_Delete(rec);

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


/*
 * ngx_http_douyin_store_has: sets found[i] for each of the n ids[i], in
 * one read transaction: 0 when there is no record, else 1 + the
 * record's status (ngx_http_douyin_status_e; a look at the stored text).
 * Returns 0 or an LMDB code.
 */

int
ngx_http_douyin_store_has(ngx_http_douyin_store_t *store, char **ids,
    ngx_uint_t n, u_char *found)
{
    int        rc;
    MDB_val    key, val;
    MDB_txn   *txn;
    ngx_uint_t i;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        key.mv_data = ids[i];
        key.mv_size = ngx_strlen(ids[i]);

        rc = mdb_get(txn, store->videos, &key, &val);

        if (rc != 0 && rc != MDB_NOTFOUND) {
            mdb_txn_abort(txn);
            return rc;
        }

        found[i] = (rc == 0) ? 1 + ngx_http_douyin_store_status_text(&val)
                             : 0;
    }

    mdb_txn_abort(txn);

    return 0;
}


/*
 * ngx_http_douyin_parse_iso8601: "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|
 * -HH:MM|+HHMM]" (a space may replace the T; no zone means UTC) -> Unix
 * seconds, or (time_t) -1 when the text is not such a time.
 */

time_t
ngx_http_douyin_parse_iso8601(const char *s)
{
    int          n[6], offset;
    int64_t      days;
    const char  *p;

    p = s;

    if (ngx_http_douyin_iso8601_fields(&p, n) != NGX_OK
        || ngx_http_douyin_iso8601_zone(&p, &offset) != NGX_OK
        || *p != '\0')
    {
        return (time_t) -1;
    }

    days = ngx_http_douyin_days_from_civil(n[0], n[1], n[2]);

    return (time_t) (days * 86400 + n[3] * 3600 + n[4] * 60 + n[5]
                     - offset);
}


/*
 * "YYYY-MM-DDTHH:MM:SS" at *p (a space may replace the T) into n[6]:
 * year, month, day, hour, minute, second, each in its range (the day in
 * its month's, leap years counted); *p moves past them
 */

static ngx_int_t
ngx_http_douyin_iso8601_fields(const char **pp, int *n)
{
    int          i, j, mdays;
    const char  *p;

    static const int   width[6] = { 4, 2, 2, 2, 2, 2 };
    static const int   month_days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    static const char  sep[6] = { '-', '-', 'T', ':', ':', '\0' };

    p = *pp;

    for (i = 0; i < 6; i++) {
        n[i] = 0;

        for (j = 0; j < width[i]; j++, p++) {
            if (*p < '0' || *p > '9') {
                return NGX_ERROR;
            }
            n[i] = n[i] * 10 + (*p - '0');
        }

        if (i < 5) {
            if (*p != sep[i] && !(i == 2 && *p == ' ')) {
                return NGX_ERROR;
            }
            p++;
        }
    }

    *pp = p;

    if (n[1] < 1 || n[1] > 12 || n[2] < 1 || n[3] > 23 || n[4] > 59
        || n[5] > 60)
    {
        return NGX_ERROR;
    }

    mdays = month_days[n[1] - 1];

    if (n[1] == 2
        && n[0] % 4 == 0 && (n[0] % 100 != 0 || n[0] % 400 == 0))
    {
        mdays = 29;
    }

    return (n[2] > mdays) ? NGX_ERROR : NGX_OK;
}


/*
 * what follows the seconds at *p: an optional fraction (skipped), then
 * "Z", "+HH:MM", "-HH:MM", "+HHMM" or nothing (UTC), into *offset: the
 * zone's seconds east of UTC; *p moves past them
 */

static ngx_int_t
ngx_http_douyin_iso8601_zone(const char **pp, int *offset)
{
    int          sign, zh, zm;
    const char  *p;

    p = *pp;
    *offset = 0;

    if (*p == '.') {
        p++;

        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (*p == 'Z' || *p == 'z') {
        *pp = p + 1;
        return NGX_OK;
    }

    if (*p != '+' && *p != '-') {
        *pp = p;
        return NGX_OK;
    }

    sign = (*p == '-') ? -1 : 1;
    p++;

    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
        return NGX_ERROR;
    }

    zh = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;

    if (*p == ':') {
        p++;
    }

    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
        return NGX_ERROR;
    }

    zm = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;

    if (zh > 23 || zm > 59) {
        return NGX_ERROR;
    }

    *pp = p;
    *offset = sign * (zh * 3600 + zm * 60);

    return NGX_OK;
}


/* days from 1970-01-01 of a civil date (H. Hinnant's algorithm) */

static int64_t
ngx_http_douyin_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t  era, yoe, doy;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;

    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}


/* the status of a stored record from its text, without parsing it */

static ngx_http_douyin_status_e
ngx_http_douyin_store_status_text(MDB_val *val)
{
    u_char      *end;
    ngx_uint_t   s;
    u_char       pattern[sizeof("\"status\":\"processing\"")];

    end = (u_char *) val->mv_data + val->mv_size;

    for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        ngx_sprintf(pattern, "\"status\":\"%V\"%Z",
                    &ngx_http_douyin_statuses[s].name);

        if (ngx_strlcasestrn(val->mv_data, end, pattern,
                             ngx_strlen(pattern) - 1)
            != NULL)
        {
            return s;
        }
    }

    return NGX_HTTP_DOUYIN_FAILED;
}
/*
 * The collector-fed workflow: pushed (pending) records and tombstones.
 */


/*
 * ngx_http_douyin_store_pushed_keeps: does the stored record rec keep its
 * own value of the field that a finished transcription brings
 * (ngx_http_douyin_claim_finish())?  Yes for the metadata the collector
 * pushed (records with pending_at): title, author, description and
 * video_publish_time; and for its upload_time (the push time) unless
 * file-system-go gave a real one (Go's zero time "0001-01-01T00:00:00Z"
 * is no time)
 */

ngx_int_t
ngx_http_douyin_store_pushed_keeps(cJSON *rec, cJSON *field)
{
    cJSON       *mine;
    const char  *name;

    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "pending_at")))
    {
        return 0;
    }

    name = field->string;
    mine = cJSON_GetObjectItemCaseSensitive(rec, name);

    if (!cJSON_IsString(mine)) {
        return 0;
    }

    if (ngx_strcmp(name, "upload_time") == 0) {
        return !cJSON_IsString(field)
               || ngx_http_douyin_parse_iso8601(field->valuestring)
                  <= (time_t) -62135596800LL;
    }

    return ngx_strcmp(name, "title") == 0
           || ngx_strcmp(name, "author") == 0
           || ngx_strcmp(name, "description") == 0
           || ngx_strcmp(name, "video_publish_time") == 0;
}


/*
 * ngx_http_douyin_store_push: the collector's push of aweme_id, in a write
 * transaction.  fields holds what it sent (filename, and any of title,
 * author, description, video_publish_time).  A video without record, or
 * whose record is failed or pending, becomes "pending" with those fields,
 * pending_at = now and, unless it has one, upload_time = now (ISO 8601,
 * UTC); a failed record's error and end time are dropped.  A record that
 * is processing, completed or deleted is left as it is.  was (at least
 * 16 bytes) gets the status the video has after the call.  Thread side.
 * Returns 0 or an LMDB/errno code (nothing changed).
 */

int
ngx_http_douyin_store_push(ngx_http_douyin_store_t *store,
    const char *aweme_id, cJSON *fields, time_t now, char *was)
{
    int         rc;
    char        iso[sizeof("1970-01-01T00:00:00Z")];
    cJSON      *rec, *status, *field, *copy;
    MDB_txn    *txn;
    struct tm   tm;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_read(txn, store, aweme_id, &rec);

    if (rc == MDB_NOTFOUND) {
        rec = cJSON_CreateObject();
        if (rec == NULL) {
            mdb_txn_abort(txn);
            return ENOMEM;
        }

    } else if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;

    } else {
        status = cJSON_GetObjectItemCaseSensitive(rec, "status");

        if (cJSON_IsString(status)
            && (ngx_strcmp(status->valuestring, "processing") == 0
                || ngx_strcmp(status->valuestring, "completed") == 0
                || ngx_strcmp(status->valuestring, "deleted") == 0))
        {
            ngx_cpystrn((u_char *) was, (u_char *) status->valuestring, 16);
            cJSON_Delete(rec);
            mdb_txn_abort(txn);
            return 0;
        }
    }

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "status");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "error");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "message");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "task_id");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "processed_at");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "pending_at");

    if (cJSON_AddStringToObject(rec, "status", "pending") == NULL
        || cJSON_AddNumberToObject(rec, "pending_at", (double) now) == NULL)
    {
        goto nomem;
    }

    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "upload_time")))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "upload_time");

        gmtime_r(&now, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);

        if (cJSON_AddStringToObject(rec, "upload_time", iso) == NULL) {
            goto nomem;
        }
    }

    cJSON_ArrayForEach(field, fields) {
        copy = cJSON_Duplicate(field, 1);
        if (copy == NULL) {
            goto nomem;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(rec, field->string);
        cJSON_AddItemToObject(rec, field->string, copy);
    }

    rc = ngx_http_douyin_store_write(txn, store, aweme_id, rec);
    cJSON_Delete(rec);

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        ngx_cpystrn((u_char *) was, (u_char *) "pending", 16);
    }

    return rc;

nomem:

    cJSON_Delete(rec);
    mdb_txn_abort(txn);

    return ENOMEM;
}


/*
 * ngx_http_douyin_store_tombstone: makes the record of aweme_id a
 * tombstone, in a write transaction: status "deleted", deleted_at = now,
 * the transcript, the error and the claim fields dropped, the metadata,
 * filename and read flag kept.  Without a record: MDB_NOTFOUND, unless
 * "create", in which case a tombstone with filename is written.  A
 * tombstone stays as it is (its first deleted_at).  Thread side.  Returns
 * 0, MDB_NOTFOUND or another LMDB/errno code (nothing changed).
 */

int
ngx_http_douyin_store_tombstone(ngx_http_douyin_store_t *store,
    const char *aweme_id, const char *filename, ngx_uint_t create,
    time_t now)
{
    int           rc;
    cJSON        *rec, *status;
    MDB_txn      *txn;
    const char  **d;

    static const char  *drop[] = {
        "status", "owner", "run", "claimed_at", "task_id", "file_url",
        "error", "message", "text", "segments", "confidence",
        "audio_duration", "words", "language", NULL
    };

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_read(txn, store, aweme_id, &rec);

    if (rc == MDB_NOTFOUND && create) {
        rec = cJSON_CreateObject();
        if (rec == NULL
            || cJSON_AddStringToObject(rec, "filename", filename) == NULL)
        {
            cJSON_Delete(rec);
            mdb_txn_abort(txn);
            return ENOMEM;
        }

    } else if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");

    if (cJSON_IsString(status)
        && ngx_strcmp(status->valuestring, "deleted") == 0)
    {
        cJSON_Delete(rec);
        mdb_txn_abort(txn);
        return 0;
    }

    for (d = drop; *d != NULL; d++) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, *d);
    }

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "deleted_at");

    if (cJSON_AddStringToObject(rec, "status", "deleted") == NULL
        || cJSON_AddNumberToObject(rec, "deleted_at", (double) now) == NULL)
    {
        cJSON_Delete(rec);
        mdb_txn_abort(txn);
        return ENOMEM;
    }

    rc = ngx_http_douyin_store_write(txn, store, aweme_id, rec);
    cJSON_Delete(rec);

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


/*
 * ngx_http_douyin_store_pending: every pending (pushed) record, from the
 * "by_status" index, as *items (malloc()ed array of *n, each with its
 * aweme_id and a malloc()ed filename: the pushed audio_filename, else
 * "<aweme_id>.wav"), at most "limit".  A read transaction.  Returns 0 or
 * an LMDB/errno code (nothing allocated).
 */

int
ngx_http_douyin_store_pending(ngx_http_douyin_store_t *store,
    ngx_uint_t limit, ngx_http_douyin_item_t **items, ngx_uint_t *n)
{
    int                      rc;
    char                     id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON                   *rec;
    MDB_val                  key, val;
    MDB_txn                 *txn;
    MDB_cursor              *cur;
    ngx_uint_t               count, cap, i;
    ngx_http_douyin_item_t  *it;

    *items = NULL;
    *n = 0;

    it = NULL;
    count = 0;
    cap = 0;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, store->by_status, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    key.mv_data = "q";
    key.mv_size = 1;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    while (rc == 0 && count < limit
           && key.mv_size > 0 && *(u_char *) key.mv_data == 'q')
    {
        if (val.mv_size == 0 || val.mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
            rc = MDB_CORRUPTED;
            break;
        }

        ngx_memcpy(id, val.mv_data, val.mv_size);
        id[val.mv_size] = '\0';

        rc = ngx_http_douyin_store_read(txn, store, id, &rec);
        if (rc != 0) {
            break;
        }

        rc = ngx_http_douyin_store_item(&it, &count, &cap, id, rec);
        cJSON_Delete(rec);

        if (rc != 0) {
            break;
        }

        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        for (i = 0; i < count; i++) {
            free(it[i].filename);
        }

        free(it);

        return rc;
    }

    *items = it;
    *n = count;

    return 0;
}


/*
 * ngx_http_douyin_store_item: appends to *items (*n of them, room for
 * *cap; grown with realloc()) the video id, with the file name of its
 * record rec: its "filename" when that is a plain file name, else
 * "<id>.wav" (malloc()ed).  Thread or event loop, inside a scan of the
 * store.  Returns 0, or ENOMEM (*items and *n as they were).
 */

int
ngx_http_douyin_store_item(ngx_http_douyin_item_t **items, ngx_uint_t *n,
    ngx_uint_t *cap, const char *id, cJSON *rec)
{
    cJSON                   *name;
    ngx_http_douyin_item_t  *it;

    if (*n == *cap) {
        it = realloc(*items, (*cap ? *cap * 2 : 16)
                             * sizeof(ngx_http_douyin_item_t));
        if (it == NULL) {
            return ENOMEM;
        }

        *items = it;
        *cap = *cap ? *cap * 2 : 16;
    }

    it = &(*items)[*n];
    ngx_memzero(it, sizeof(ngx_http_douyin_item_t));

    ngx_cpystrn((u_char *) it->aweme_id, (u_char *) id,
                sizeof(it->aweme_id));

    name = cJSON_GetObjectItemCaseSensitive(rec, "filename");

    if (cJSON_IsString(name) && name->valuestring[0] != '\0'
        && strchr(name->valuestring, '/') == NULL)
    {
        it->filename = strdup(name->valuestring);

    } else {
        it->filename = malloc(ngx_strlen(id) + sizeof(".wav"));
        if (it->filename != NULL) {
            ngx_sprintf((u_char *) it->filename, "%s.wav%Z", id);
        }
    }

    if (it->filename == NULL) {
        return ENOMEM;
    }

    (*n)++;

    return 0;
}


/*
 * The RSS feed's index and state (format 2).
 *
 * A record is a feed item when it is "completed" with a non-empty
 * "text".  Its "feed" key is its read flag ('0', '1'), then 16 hex
 * digits of (2^64 - 1 - processed_at) and the id key of the "by_time"
 * index, so that ascending keys within a read flag are newest
 * processed_at first, ids descending on a tie.
 */

#define NGX_HTTP_DOUYIN_FEED_KEY_LEN  (1 + 16 + NGX_HTTP_DOUYIN_ID_MAX + 1)


/* the fields an item shows, besides its key's processed_at and read flag */

static const char  *ngx_http_douyin_feed_fields[] = {
    "title", "author", "description", "text", "segments", NULL
};


/*
 * the "feed" key of rec in key (NGX_HTTP_DOUYIN_FEED_KEY_LEN bytes): its
 * length, or 0 when rec is not a feed item
 */

static size_t
ngx_http_douyin_store_feed_key(cJSON *rec, const char *aweme_id, u_char *key)
{
    u_char   *p;
    cJSON    *text, *at;
    size_t    len, i;
    uint64_t  t;

    text = cJSON_GetObjectItemCaseSensitive(rec, "text");

    if (ngx_http_douyin_status_of(rec) != NGX_HTTP_DOUYIN_COMPLETED
        || !cJSON_IsString(text) || text->valuestring[0] == '\0')
    {
        return 0;
    }

    at = cJSON_GetObjectItemCaseSensitive(rec, "processed_at");

    t = (cJSON_IsNumber(at) && at->valuedouble > 0)
        ? (uint64_t) at->valuedouble : 0;

    p = key;

    *p++ = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "is_read"))
           ? '1' : '0';

    p = ngx_sprintf(p, "%016xL", (uint64_t) -1 - t);

    len = ngx_strlen(aweme_id);

    for (i = len; i < NGX_HTTP_DOUYIN_ID_MAX; i++) {
        *p++ = '9';
    }

    for (i = 0; i < len; i++) {
        *p++ = (u_char) ('9' - (aweme_id[i] - '0'));
    }

    *p++ = (u_char) ('A' + len);

    return p - key;
}


/* reads the feed state of the transaction (zeros when there is none) */

static int
ngx_http_douyin_store_feed_get(MDB_txn *txn, ngx_http_douyin_store_t *store,
    ngx_http_douyin_feed_state_t *st)
{
    int      rc;
    MDB_val  key, val;

    ngx_memzero(st, sizeof(ngx_http_douyin_feed_state_t));

    key.mv_data = "feed";
    key.mv_size = sizeof("feed") - 1;

    rc = mdb_get(txn, store->meta, &key, &val);

    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (val.mv_size != sizeof(ngx_http_douyin_feed_state_t)) {
        return MDB_CORRUPTED;
    }

    ngx_memcpy(st, val.mv_data, sizeof(ngx_http_douyin_feed_state_t));

    return 0;
}


/*
 * a new version of the variants in "changed" (bit 0: every item, bit 1:
 * unread items), changed now
 */

static int
ngx_http_douyin_store_feed_bump(MDB_txn *txn, ngx_http_douyin_store_t *store,
    ngx_uint_t changed)
{
    int                           rc;
    time_t                        now;
    MDB_val                       key, val;
    ngx_uint_t                    v;
    ngx_http_douyin_feed_state_t  st;

    rc = ngx_http_douyin_store_feed_get(txn, store, &st);
    if (rc != 0) {
        return rc;
    }

    now = time(NULL);

    for (v = 0; v < 2; v++) {
        if (changed & (1 << v)) {
            st.version[v]++;
            st.changed_at[v] = now;
        }
    }

    key.mv_data = "feed";
    key.mv_size = sizeof("feed") - 1;
    val.mv_data = &st;
    val.mv_size = sizeof(ngx_http_douyin_feed_state_t);

    return mdb_put(txn, store->meta, &key, &val, 0);
}


/*
 * Part of ngx_http_douyin_store_write(): moves the "feed" entry of
 * aweme_id from what old (NULL: no record) had to what rec (NULL: a
 * delete) has, and gives a new version to each feed variant whose items
 * changed: one entering or leaving it, or one of its items with another
 * processed_at or another text, segments, title, author or description.
 * A read flag changes the unread variant only.
 */

static int
ngx_http_douyin_store_feed_write(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id, cJSON *old,
    cJSON *rec)
{
    int           rc;
    u_char        okey[NGX_HTTP_DOUYIN_FEED_KEY_LEN];
    u_char        nkey[NGX_HTTP_DOUYIN_FEED_KEY_LEN];
    size_t        olen, nlen;
    MDB_val       key, val;
    ngx_uint_t    same, changed, o_unread, n_unread;
    const char  **f;

    olen = old ? ngx_http_douyin_store_feed_key(old, aweme_id, okey) : 0;
    nlen = rec ? ngx_http_douyin_store_feed_key(rec, aweme_id, nkey) : 0;

    if (olen == 0 && nlen == 0) {
        return 0;
    }

    /* the same item, its read flag aside? */

    same = (olen != 0 && olen == nlen
            && ngx_memcmp(okey + 1, nkey + 1, olen - 1) == 0);

    for (f = ngx_http_douyin_feed_fields; same && *f != NULL; f++) {
        cJSON  *a, *b;

        a = cJSON_GetObjectItemCaseSensitive(old, *f);
        b = cJSON_GetObjectItemCaseSensitive(rec, *f);

        if ((a == NULL) != (b == NULL)
            || (a != NULL && !cJSON_Compare(a, b, 1)))
        {
            same = 0;
        }
    }

    o_unread = (olen != 0 && okey[0] == '0');
    n_unread = (nlen != 0 && nkey[0] == '0');

    changed = 0;

    if (!same) {
        changed |= 1;
    }

    if ((o_unread || n_unread) && !(o_unread && n_unread && same)) {
        changed |= 2;
    }

    if (olen != 0 && (olen != nlen || ngx_memcmp(okey, nkey, olen) != 0)) {
        key.mv_data = okey;
        key.mv_size = olen;

        rc = mdb_del(txn, store->feed, &key, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }
    }

    if (nlen != 0) {
        key.mv_data = nkey;
        key.mv_size = nlen;
        val.mv_data = (void *) aweme_id;
        val.mv_size = ngx_strlen(aweme_id);

        rc = mdb_put(txn, store->feed, &key, &val, 0);
        if (rc != 0) {
            return rc;
        }
    }

    if (changed == 0) {
        return 0;
    }

    return ngx_http_douyin_store_feed_bump(txn, store, changed);
}


/*
 * Part of ngx_http_douyin_store_open(), in its write transaction: opens
 * the "feed" index.  version is the stored format_version (NULL: a new
 * store).  A new store gets the current format and a first feed state; a
 * format 1 store is migrated: every record is read once and the completed
 * ones are indexed, then format_version becomes 2 (and the caller goes on
 * to 3).  Returns 0, MDB_INCOMPATIBLE for another format than 1, 2 or the
 * current one (left as it is), or an LMDB/errno code.
 */

static int
ngx_http_douyin_store_feed_open(MDB_txn *txn, ngx_http_douyin_store_t *store,
    MDB_val *version, const char *path, ngx_log_t *log)
{
    int          rc;
    MDB_val      key, val;
    ngx_uint_t   migrate, n;

    migrate = 0;

    if (version != NULL) {
        if (version->mv_size == 1 && *(u_char *) version->mv_data == '1') {
            migrate = 1;

        } else if (!(version->mv_size == 1
                     && *(u_char *) version->mv_data == '2')
                   && (version->mv_size
                       != sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1
                       || ngx_memcmp(version->mv_data,
                                     NGX_HTTP_DOUYIN_STORE_FORMAT,
                                     version->mv_size) != 0))
        {
            return MDB_INCOMPATIBLE;
        }
    }

    rc = mdb_dbi_open(txn, "feed", MDB_CREATE, &store->feed);
    if (rc != 0) {
        return rc;
    }

    if (version != NULL && !migrate) {
        return 0;
    }

    n = 0;

    if (migrate) {
        rc = ngx_http_douyin_store_feed_migrate(txn, store, &n);
        if (rc != 0) {
            return rc;
        }
    }

    rc = ngx_http_douyin_store_feed_bump(txn, store, 3);
    if (rc != 0) {
        return rc;
    }

    key.mv_data = "format_version";
    key.mv_size = sizeof("format_version") - 1;
    val.mv_data = migrate ? "2" : NGX_HTTP_DOUYIN_STORE_FORMAT;
    val.mv_size = migrate ? 1 : sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1;

    rc = mdb_put(txn, store->meta, &key, &val, 0);
    if (rc != 0) {
        return rc;
    }

    if (migrate) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "douyin: store \"%s\" upgraded from format version 1 "
                      "to 2: %ui transcripts indexed for the feed", path, n);
    }

    return 0;
}


/*
 * format 1 to 2: every record of "videos" is read once and the completed
 * ones are indexed in "feed" (*n of them).  Returns 0 or an LMDB code.
 */

static int
ngx_http_douyin_store_feed_migrate(MDB_txn *txn,
    ngx_http_douyin_store_t *store, ngx_uint_t *n)
{
    int          rc;
    char         id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    u_char       fkey[NGX_HTTP_DOUYIN_FEED_KEY_LEN];
    cJSON       *rec;
    MDB_val      key, val, fval;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, store->videos, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (key.mv_size == 0 || key.mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
            continue;
        }

        ngx_memcpy(id, key.mv_data, key.mv_size);
        id[key.mv_size] = '\0';

        rec = cJSON_ParseWithLength(val.mv_data, val.mv_size);

        fval.mv_size = rec ? ngx_http_douyin_store_feed_key(rec, id, fkey)
                           : 0;
        cJSON_Delete(rec);

        if (fval.mv_size == 0) {
            continue;
        }

        /* the "videos" cursor is not moved by writes to "feed" */

        key.mv_data = fkey;
        key.mv_size = fval.mv_size;
        fval.mv_data = id;
        fval.mv_size = ngx_strlen(id);

        rc = mdb_put(txn, store->feed, &key, &fval, 0);
        if (rc != 0) {
            break;
        }

        (*n)++;
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/*
 * ngx_http_douyin_store_feed_state: the feed state (versions and times
 * of the last change, see the layout), in a read transaction: one
 * lookup, no record read.  Event loop.  Returns 0 or an LMDB code.
 */

int
ngx_http_douyin_store_feed_state(ngx_http_douyin_store_t *store,
    ngx_http_douyin_feed_state_t *st)
{
    int       rc;
    MDB_txn  *txn;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_feed_get(txn, store, st);

    mdb_txn_abort(txn);

    return rc;
}


/*
 * ngx_http_douyin_store_feed: the first "limit" feed items, newest
 * processed_at first (unread_only: the unread ones), as *items, a new
 * cJSON array of record objects each with "aweme_id" added, and the feed
 * state they belong to in *st, all from one read transaction.  Only the
 * records returned are read; the rest is the index.  Event loop.
 * Returns 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_store_feed(ngx_http_douyin_store_t *store,
    ngx_uint_t unread_only, ngx_uint_t limit, cJSON **items,
    ngx_http_douyin_feed_state_t *st)
{
    int          rc;
    cJSON       *list;
    u_char       prefix[2];
    MDB_val      key[2], val[2];
    MDB_txn     *txn;
    MDB_cursor  *cur[2];
    ngx_uint_t   n, i, best, live[2], count;

    *items = NULL;

    list = cJSON_CreateArray();
    if (list == NULL) {
        return ENOMEM;
    }

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        cJSON_Delete(list);
        return rc;
    }

    n = 0;

    rc = ngx_http_douyin_store_feed_get(txn, store, st);
    if (rc != 0) {
        goto failed;
    }

    /* one cursor per read flag, merged on the rest of the key */

    for (i = 0; i < (unread_only ? 1 : 2); i++) {
        prefix[i] = (u_char) ('0' + i);

        rc = mdb_cursor_open(txn, store->feed, &cur[i]);
        if (rc != 0) {
            goto failed;
        }

        n++;

        key[i].mv_data = &prefix[i];
        key[i].mv_size = 1;

        rc = mdb_cursor_get(cur[i], &key[i], &val[i], MDB_SET_RANGE);
        live[i] = (rc == 0 && key[i].mv_size > 1
                   && *(u_char *) key[i].mv_data == prefix[i]);
    }

    count = 0;

    while (count < limit) {
        best = ngx_http_douyin_store_feed_next(key, live, n);

        if (best == n) {
            break;
        }

        rc = ngx_http_douyin_store_add(txn, store, &val[best], list);
        if (rc != 0) {
            goto failed;
        }

        count++;

        rc = mdb_cursor_get(cur[best], &key[best], &val[best], MDB_NEXT);
        live[best] = (rc == 0 && key[best].mv_size > 1
                      && *(u_char *) key[best].mv_data == prefix[best]);
    }

    for (i = 0; i < n; i++) {
        mdb_cursor_close(cur[i]);
    }

    mdb_txn_abort(txn);

    *items = list;

    return 0;

failed:

    for (i = 0; i < n; i++) {
        mdb_cursor_close(cur[i]);
    }

    mdb_txn_abort(txn);
    cJSON_Delete(list);

    return rc;
}


/* the live feed cursor with the smallest key (its 1-byte prefix aside) */

static ngx_uint_t
ngx_http_douyin_store_feed_next(MDB_val *key, ngx_uint_t *live, ngx_uint_t n)
{
    int         c;
    size_t      la, lb;
    ngx_uint_t  i, best;

    best = n;

    for (i = 0; i < n; i++) {
        if (!live[i]) {
            continue;
        }

        if (best == n) {
            best = i;
            continue;
        }

        la = key[i].mv_size - 1;
        lb = key[best].mv_size - 1;

        c = ngx_memcmp((u_char *) key[i].mv_data + 1,
                       (u_char *) key[best].mv_data + 1,
                       ngx_min(la, lb));

        if (c < 0 || (c == 0 && la < lb)) {
            best = i;
        }
    }

    return best;
}


/*
 * Format 3: the texts the read routes send ("views") and the page index
 * ("pages"), both written by the write that changes a record, so that a
 * GET is one read transaction that copies bytes out of the map.
 */


/*
 * a read transaction for the event loop: the one this worker reset after
 * its last read, renewed (no reader slot to find, no lock), or a new one
 */

static int
ngx_http_douyin_store_rbegin(ngx_http_douyin_store_t *store, MDB_txn **txn)
{
    int  rc;

    if (store->rtxn != NULL) {
        *txn = store->rtxn;
        store->rtxn = NULL;

        rc = mdb_txn_renew(*txn);
        if (rc == 0) {
            return 0;
        }

        mdb_txn_abort(*txn);
    }

    return mdb_txn_begin(store->env, NULL, MDB_RDONLY, txn);
}


/* ends a read transaction of ngx_http_douyin_store_rbegin(), kept reset */

static void
ngx_http_douyin_store_rend(ngx_http_douyin_store_t *store, MDB_txn *txn)
{
    if (store->rtxn != NULL) {
        mdb_txn_abort(txn);
        return;
    }

    mdb_txn_reset(txn);
    store->rtxn = txn;
}


/*
 * stores the texts of the record whose JSON text is text/len (see the
 * layout, "views").  Returns 0, MDB_CORRUPTED when the text is not a
 * JSON object, ENOMEM, or an LMDB code.
 */

static int
ngx_http_douyin_store_views_put(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *aweme_id, const char *text, size_t len)
{
    int        rc;
    char      *data, *item, *url;
    cJSON     *rec;
    u_char    *p;
    size_t     dlen, ilen;
    uint32_t   lens[2];
    MDB_val    key, val;

    /* the read routes made their bodies from the stored text: so do we */

    rec = cJSON_ParseWithLength(text, len);

    if (rec == NULL || !cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        return MDB_CORRUPTED;
    }

    rc = store->texts(aweme_id, rec, &data, &item);
    cJSON_Delete(rec);

    if (rc != NGX_OK) {
        return ENOMEM;
    }

    /*
     * the item's first "audio_url" key: a quote inside a string is
     * printed escaped, so the pattern cannot start inside a value
     */

    url = ngx_strstr(item, "\"audio_url\":\"");

    if (url == NULL) {
        /* the URL could not be allocated */
        cJSON_free(data);
        cJSON_free(item);
        return ENOMEM;
    }

    dlen = ngx_strlen(data);
    ilen = ngx_strlen(item);

    lens[0] = (uint32_t) dlen;
    lens[1] = (uint32_t) (url - item + sizeof("\"audio_url\":\"") - 1);

    key.mv_data = (void *) aweme_id;
    key.mv_size = ngx_strlen(aweme_id);
    val.mv_data = NULL;
    val.mv_size = sizeof(lens) + dlen + ilen;

    rc = mdb_put(txn, store->views, &key, &val, MDB_RESERVE);

    if (rc == 0) {
        p = ngx_cpymem(val.mv_data, lens, sizeof(lens));
        p = ngx_cpymem(p, data, dlen);
        ngx_memcpy(p, item, ilen);
    }

    cJSON_free(data);
    cJSON_free(item);

    return rc;
}


/* the three texts of a "views" value, or MDB_CORRUPTED */

static int
ngx_http_douyin_store_view(MDB_val *val, ngx_str_t *data, ngx_str_t *head,
    ngx_str_t *tail)
{
    u_char    *p;
    size_t     rest;
    uint32_t   lens[2];

    if (val->mv_size < sizeof(lens)) {
        return MDB_CORRUPTED;
    }

    p = val->mv_data;
    ngx_memcpy(lens, p, sizeof(lens));

    rest = val->mv_size - sizeof(lens);

    if (lens[0] > rest || lens[1] > rest - lens[0]) {
        return MDB_CORRUPTED;
    }

    data->data = p + sizeof(lens);
    data->len = lens[0];
    head->data = data->data + data->len;
    head->len = lens[1];
    tail->data = head->data + head->len;
    tail->len = rest - lens[0] - lens[1];

    return 0;
}


/*
 * ngx_http_douyin_store_result: the body of GET .../result (without
 * ?words=true) of a stored video, {"success":true,"data":{...}}, from the
 * texts its last write stored, in body (allocated from pool): one read
 * transaction and one copy.  Event loop only (it reuses the worker's
 * read transaction).  Returns 0, MDB_NOTFOUND when there is no record or
 * no text (the caller makes the body from the record), or an
 * LMDB/errno code.
 */

int
ngx_http_douyin_store_result(ngx_http_douyin_store_t *store,
    const char *aweme_id, ngx_pool_t *pool, ngx_str_t *body)
{
    int        rc;
    u_char    *p;
    MDB_val    key, val;
    MDB_txn   *txn;
    ngx_str_t  data, head, tail;

    static const u_char  start[] = "{\"success\":true,\"data\":";

    rc = ngx_http_douyin_store_rbegin(store, &txn);
    if (rc != 0) {
        return rc;
    }

    key.mv_data = (void *) aweme_id;
    key.mv_size = ngx_strlen(aweme_id);

    rc = mdb_get(txn, store->views, &key, &val);

    if (rc == 0) {
        rc = ngx_http_douyin_store_view(&val, &data, &head, &tail);
    }

    if (rc == 0) {
        p = ngx_pnalloc(pool, sizeof(start) - 1 + data.len + 1);

        if (p == NULL) {
            rc = ENOMEM;

        } else {
            body->data = p;
            p = ngx_cpymem(p, start, sizeof(start) - 1);
            p = ngx_cpymem(p, data.data, data.len);
            *p++ = '}';
            body->len = p - body->data;
        }
    }

    ngx_http_douyin_store_rend(store, txn);

    return rc;
}


/*
 * ngx_http_douyin_store_list: the body of GET /api/videos for a page of
 * stored videos ({"total_count","videos":[item],"page","page_size"}, as
 * ngx_http_douyin_store_counts() and ngx_http_douyin_store_page() give
 * them and ngx_http_douyin_video_item() makes an item), from the counts,
 * the page index and the items' stored texts, with base (the
 * douyin_audio_base_url, NUL-terminated; NULL: none) in each audio_url,
 * into body (allocated from
 * pool): one read transaction, no JSON parse or print.  Event loop only.
 * Returns 0, MDB_NOTFOUND when an item has no text (the caller makes the
 * body from the records), or an LMDB/errno code.
 */

int
ngx_http_douyin_store_list(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t page,
    ngx_uint_t page_size, const char *base, ngx_pool_t *pool, ngx_str_t *body)
{
    int                      rc;
    u_char                  *p, *b, *esc;
    size_t                   len, elen, blen;
    int64_t                  counts[NGX_HTTP_DOUYIN_NSTATUS][2], total;
    MDB_val                  key, val;
    MDB_txn                 *txn;
    ngx_str_t               *items, data;
    ngx_uint_t               n, i, s, r, best, seen, skip, count;
    ngx_http_douyin_walk_t   walk[2 * NGX_HTTP_DOUYIN_NSTATUS], *w;

    /*
     * the base as cJSON prints it inside a string: it escapes '"', '\\'
     * and the bytes below 0x20, byte by byte, so the whole URL's text is
     * the base's text followed by the stored rest
     */

    blen = base ? ngx_strlen(base) : 0;

    esc = ngx_pnalloc(pool, 6 * blen + 1);
    items = ngx_palloc(pool, 2 * page_size * sizeof(ngx_str_t));

    if (esc == NULL || items == NULL) {
        return ENOMEM;
    }

    p = esc;

    for (b = (u_char *) base; b < (u_char *) base + blen; b++) {
        if (*b > 31 && *b != '"' && *b != '\\') {
            *p++ = *b;
            continue;
        }

        *p++ = '\\';

        switch (*b) {
        case '"':  *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        default:
            p = ngx_sprintf(p, "u%04xui", (ngx_uint_t) *b);
        }
    }

    elen = p - esc;

    rc = ngx_http_douyin_store_rbegin(store, &txn);
    if (rc != 0) {
        return rc;
    }

    n = 0;
    count = 0;

    rc = ngx_http_douyin_store_counts_txn(txn, store, counts);

    total = 0;

    for (s = 0; rc == 0 && s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        for (r = 0; r < 2; r++) {
            if ((status_mask & ngx_http_douyin_statuses[s].bit)
                && (read_mask & (1 << r)))
            {
                total += counts[s][r];
            }
        }
    }

    /* cJSON prints a whole number below 2^31 as "%d", others otherwise */

    if (rc == 0 && (total < 0 || total >= 2147483647)) {
        rc = MDB_NOTFOUND;
    }

    if (rc == 0) {
        rc = ngx_http_douyin_store_walk(txn, store, status_mask, read_mask,
                                        walk, &n);
    }

    skip = (page - 1) * page_size;

    if (rc == 0) {
        rc = ngx_http_douyin_store_seek(txn, store, walk, n,
                                        (page - 1) * page_size, &skip);
    }

    len = sizeof("{\"total_count\":,\"videos\":[],\"page\":,\"page_size\":}")
          - 1 + 3 * NGX_INT64_LEN;

    for (seen = 0; rc == 0 && count < page_size; seen++) {
        best = ngx_http_douyin_store_next(walk, n);
        if (best == n) {
            break;
        }

        w = &walk[best];

        if (seen >= skip) {
            key = w->val;

            rc = mdb_get(txn, store->views, &key, &val);

            if (rc == 0) {
                rc = ngx_http_douyin_store_view(&val, &data, &items[2 * count],
                                                &items[2 * count + 1]);
            }

            if (rc != 0) {
                break;
            }

            len += items[2 * count].len + elen + items[2 * count + 1].len + 1;
            count++;
        }

        ngx_http_douyin_store_step(w);
    }

    for (i = 0; i < n; i++) {
        mdb_cursor_close(walk[i].cur);
    }

    if (rc == 0) {
        p = ngx_pnalloc(pool, len);

        if (p == NULL) {
            rc = ENOMEM;

        } else {
            body->data = p;

            p = ngx_sprintf(p, "{\"total_count\":%L,\"videos\":[", total);

            for (i = 0; i < count; i++) {
                if (i > 0) {
                    *p++ = ',';
                }

                p = ngx_cpymem(p, items[2 * i].data, items[2 * i].len);
                p = ngx_cpymem(p, esc, elen);
                p = ngx_cpymem(p, items[2 * i + 1].data, items[2 * i + 1].len);
            }

            p = ngx_sprintf(p, "],\"page\":%ui,\"page_size\":%ui}", page,
                            page_size);

            body->len = p - body->data;
        }
    }

    ngx_http_douyin_store_rend(store, txn);

    return rc;
}


/* moves a page's cursor to its next entry (of its prefix) */

static void
ngx_http_douyin_store_step(ngx_http_douyin_walk_t *w)
{
    w->live = (mdb_cursor_get(w->cur, &w->key, &w->val, MDB_NEXT) == 0
               && (w->prefix[0] == '\0'
                   || (w->key.mv_size >= 2
                       && ngx_memcmp(w->key.mv_data, w->prefix, 2) == 0)));
}


/* puts a page's cursors back at their first entries */

static void
ngx_http_douyin_store_rewind(ngx_http_douyin_walk_t *walk, ngx_uint_t n)
{
    ngx_uint_t               i;
    ngx_http_douyin_walk_t  *w;

    for (i = 0; i < n; i++) {
        w = &walk[i];

        if (w->prefix[0] == '\0') {
            w->live = (mdb_cursor_get(w->cur, &w->key, &w->val, MDB_FIRST)
                       == 0);
            continue;
        }

        w->key.mv_data = w->prefix;
        w->key.mv_size = 2;

        w->live = (mdb_cursor_get(w->cur, &w->key, &w->val, MDB_SET_RANGE)
                   == 0
                   && w->key.mv_size >= 2
                   && ngx_memcmp(w->key.mv_data, w->prefix, 2) == 0);
    }
}


/* compares two sort keys as the index does: bytes, then length */

static int
ngx_http_douyin_store_keycmp(u_char *a, size_t la, u_char *b, size_t lb)
{
    int  c;

    c = ngx_memcmp(a, b, ngx_min(la, lb));

    if (c != 0) {
        return c;
    }

    return (la < lb) ? -1 : (la > lb);
}


/*
 * moves the cursors of a page (at their first entries, from
 * ngx_http_douyin_store_walk()) near the offset-th entry of their merge
 * with the page index: the anchors of every cursor's index are merged in
 * key order and their counts added while the sum stays within the
 * offset; the last such anchor b bounds what is skipped: every cursor
 * goes to its first entry at or after b, and *skip gets the entries left
 * to skip, offset minus the entries below b (at most a few chunks per
 * cursor).  A store whose counts disagree with its index loses nothing:
 * the cursors go back to the start and *skip = offset.
 */

static int
ngx_http_douyin_store_seek(MDB_txn *txn, ngx_http_douyin_store_t *store,
    ngx_http_douyin_walk_t *walk, ngx_uint_t n, ngx_uint_t offset,
    ngx_uint_t *skip)
{
    int                      rc;
    u_char                   tag, pfx[3];
    u_char                   best[NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    u_char                   start[NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    u_char                   last[2 * NGX_HTTP_DOUYIN_NSTATUS]
                                 [NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    size_t                   plen, blen, lastlen[2 * NGX_HTTP_DOUYIN_NSTATUS];
    uint32_t                 count, lastcount[2 * NGX_HTTP_DOUYIN_NSTATUS];
    uint64_t                 ub, below, sum[2 * NGX_HTTP_DOUYIN_NSTATUS];
    MDB_val                  akey[2 * NGX_HTTP_DOUYIN_NSTATUS];
    MDB_val                  aval[2 * NGX_HTTP_DOUYIN_NSTATUS];
    MDB_cursor              *acur[2 * NGX_HTTP_DOUYIN_NSTATUS];
    ngx_uint_t               i, x, opened, found;
    ngx_uint_t               alive[2 * NGX_HTTP_DOUYIN_NSTATUS];
    ngx_uint_t               has[2 * NGX_HTTP_DOUYIN_NSTATUS];
    ngx_http_douyin_walk_t  *w;

    *skip = offset;

    if (offset == 0 || n == 0) {
        return 0;
    }

    plen = (walk[0].prefix[0] != '\0') ? 2 : 0;
    tag = plen ? 's' : 't';

    rc = 0;
    opened = 0;

    for (i = 0; i < n; i++) {
        has[i] = 0;
        sum[i] = 0;
        lastlen[i] = 0;
        lastcount[i] = 0;

        rc = mdb_cursor_open(txn, store->pages, &acur[i]);
        if (rc != 0) {
            goto done;
        }

        opened++;

        pfx[0] = tag;
        ngx_memcpy(pfx + 1, walk[i].prefix, plen);

        akey[i].mv_data = pfx;
        akey[i].mv_size = 1 + plen;

        rc = mdb_cursor_get(acur[i], &akey[i], &aval[i], MDB_SET_RANGE);

        if (rc != 0 && rc != MDB_NOTFOUND) {
            goto done;
        }

        alive[i] = (rc == 0 && akey[i].mv_size >= 1 + plen
                    && ngx_memcmp(akey[i].mv_data, pfx, 1 + plen) == 0);
        rc = 0;
    }

    /* the anchors in key order, while the chunks before them fit */

    ub = 0;
    blen = 0;
    found = 0;

    for ( ;; ) {
        x = n;

        for (i = 0; i < n; i++) {
            if (alive[i]
                && (x == n
                    || ngx_http_douyin_store_keycmp(
                           (u_char *) akey[i].mv_data + 1 + plen,
                           akey[i].mv_size - 1 - plen,
                           (u_char *) akey[x].mv_data + 1 + plen,
                           akey[x].mv_size - 1 - plen) < 0))
            {
                x = i;
            }
        }

        if (x == n || ub > offset) {
            break;
        }

        blen = akey[x].mv_size - 1 - plen;
        ngx_memcpy(best, (u_char *) akey[x].mv_data + 1 + plen, blen);
        found = 1;

        for (i = 0; i < n; i++) {
            if (!alive[i]
                || ngx_http_douyin_store_keycmp(
                       (u_char *) akey[i].mv_data + 1 + plen,
                       akey[i].mv_size - 1 - plen, best, blen) != 0)
            {
                continue;
            }

            if (aval[i].mv_size != sizeof(uint32_t)) {
                rc = MDB_CORRUPTED;
                goto done;
            }

            ngx_memcpy(&count, aval[i].mv_data, sizeof(uint32_t));

            /* the entries of cursor i below its anchors so far */

            sum[i] += lastcount[i];
            lastcount[i] = count;
            lastlen[i] = blen;
            ngx_memcpy(last[i], best, blen);
            has[i] = 1;

            ub += count;

            pfx[0] = tag;
            ngx_memcpy(pfx + 1, walk[i].prefix, plen);

            rc = mdb_cursor_get(acur[i], &akey[i], &aval[i], MDB_NEXT);

            if (rc != 0 && rc != MDB_NOTFOUND) {
                goto done;
            }

            alive[i] = (rc == 0 && akey[i].mv_size >= 1 + plen
                        && ngx_memcmp(akey[i].mv_data, pfx, 1 + plen) == 0);
            rc = 0;
        }
    }

    if (!found) {
        goto done;
    }

    /* a cursor with entries but no anchor: leave the cursors as they are */

    for (i = 0; i < n; i++) {
        if (walk[i].live && !has[i]) {
            goto done;
        }
    }

    /* every cursor to its first entry at or after best, counting below */

    below = 0;

    for (i = 0; i < n; i++) {
        w = &walk[i];

        if (!has[i]) {
            continue;
        }

        /* the start of the chunk: its anchor (an empty one: the first) */

        ngx_memcpy(start, w->prefix, plen);
        ngx_memcpy(start + plen, last[i], lastlen[i]);

        if (plen == 0 && lastlen[i] == 0) {
            rc = mdb_cursor_get(w->cur, &w->key, &w->val, MDB_FIRST);

        } else {
            w->key.mv_data = start;
            w->key.mv_size = plen + lastlen[i];

            rc = mdb_cursor_get(w->cur, &w->key, &w->val, MDB_SET_RANGE);
        }

        while (rc == 0
               && w->key.mv_size >= plen
               && ngx_memcmp(w->key.mv_data, w->prefix, plen) == 0
               && ngx_http_douyin_store_keycmp(
                      (u_char *) w->key.mv_data + plen,
                      w->key.mv_size - plen, best, blen) < 0)
        {
            below++;
            rc = mdb_cursor_get(w->cur, &w->key, &w->val, MDB_NEXT);
        }

        if (rc != 0 && rc != MDB_NOTFOUND) {
            goto done;
        }

        w->live = (rc == 0 && w->key.mv_size >= plen
                   && ngx_memcmp(w->key.mv_data, w->prefix, plen) == 0);
        rc = 0;

        below += sum[i];
    }

    if (below > offset) {
        /* counts that disagree with the index: walk from the start */
        ngx_http_douyin_store_rewind(walk, n);

    } else {
        *skip = offset - (ngx_uint_t) below;
    }

done:

    for (i = 0; i < opened; i++) {
        mdb_cursor_close(acur[i]);
    }

    return rc;
}


/*
 * keeps the page index ("pages") of the index dbi (tag 't': "by_time",
 * 's': "by_status", whose entries have a plen-byte prefix) in step with
 * its entry ikey, just added (delta 1) or removed (delta -1): the count
 * of the chunk that holds it changes; a chunk beyond twice
 * NGX_HTTP_DOUYIN_PAGE_CHUNK entries is split at its
 * NGX_HTTP_DOUYIN_PAGE_CHUNK-th entry, an empty one (but the first of
 * its prefix) is dropped.  In the write transaction of the change.
 */

static int
ngx_http_douyin_store_page_count(MDB_txn *txn, ngx_http_douyin_store_t *store,
    MDB_dbi dbi, u_char tag, MDB_val *ikey, size_t plen, int delta)
{
    int          rc;
    u_char       pkey[NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    u_char       akey[NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    u_char       nkey[NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    size_t       alen, nlen;
    uint32_t     count, ncount;
    MDB_val      key, val;
    ngx_uint_t   i, found;
    MDB_cursor  *cur;

    if (ikey->mv_size < plen || ikey->mv_size + 1 > sizeof(pkey)) {
        return MDB_BAD_VALSIZE;
    }

    pkey[0] = tag;
    ngx_memcpy(pkey + 1, ikey->mv_data, ikey->mv_size);

    /* the chunk: the greatest anchor at or below the entry */

    rc = mdb_cursor_open(txn, store->pages, &cur);
    if (rc != 0) {
        return rc;
    }

    key.mv_data = pkey;
    key.mv_size = 1 + ikey->mv_size;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0
        && !(key.mv_size == 1 + ikey->mv_size
             && ngx_memcmp(key.mv_data, pkey, key.mv_size) == 0))
    {
        rc = mdb_cursor_get(cur, &key, &val, MDB_PREV);

    } else if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    }

    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_cursor_close(cur);
        return rc;
    }

    found = (rc == 0 && key.mv_size >= 1 + plen
             && key.mv_size <= sizeof(akey)
             && ngx_memcmp(key.mv_data, pkey, 1 + plen) == 0
             && val.mv_size == sizeof(uint32_t));

    if (found) {
        alen = key.mv_size;
        ngx_memcpy(akey, key.mv_data, alen);
        ngx_memcpy(&count, val.mv_data, sizeof(uint32_t));

    } else {
        /* the first chunk of the prefix, anchored at the bare prefix */
        alen = 1 + plen;
        ngx_memcpy(akey, pkey, alen);
        count = 0;
    }

    mdb_cursor_close(cur);

    key.mv_data = akey;
    key.mv_size = alen;
    val.mv_data = &count;
    val.mv_size = sizeof(uint32_t);

    if (delta < 0) {
        if (!found) {
            return 0;
        }

        count = count ? count - 1 : 0;

        if (count == 0 && alen > 1 + plen) {
            return mdb_del(txn, store->pages, &key, NULL);
        }

        return mdb_put(txn, store->pages, &key, &val, 0);
    }

    count++;

    if (count > 2 * NGX_HTTP_DOUYIN_PAGE_CHUNK) {

        /* split: the chunk's NGX_HTTP_DOUYIN_PAGE_CHUNK-th entry on */

        rc = mdb_cursor_open(txn, dbi, &cur);
        if (rc != 0) {
            return rc;
        }

        if (alen == 1) {
            rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);

        } else {
            key.mv_data = akey + 1;
            key.mv_size = alen - 1;
            rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        }

        for (i = 0; rc == 0 && i < NGX_HTTP_DOUYIN_PAGE_CHUNK; i++) {
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        }

        nlen = 0;

        if (rc == 0 && key.mv_size >= plen && key.mv_size + 1 <= sizeof(nkey)
            && ngx_memcmp(key.mv_data, ikey->mv_data, plen) == 0)
        {
            nkey[0] = tag;
            ngx_memcpy(nkey + 1, key.mv_data, key.mv_size);
            nlen = 1 + key.mv_size;
        }

        mdb_cursor_close(cur);

        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        if (nlen != 0) {
            ncount = count - NGX_HTTP_DOUYIN_PAGE_CHUNK;
            count = NGX_HTTP_DOUYIN_PAGE_CHUNK;

            key.mv_data = nkey;
            key.mv_size = nlen;
            val.mv_data = &ncount;
            val.mv_size = sizeof(uint32_t);

            rc = mdb_put(txn, store->pages, &key, &val, 0);
            if (rc != 0) {
                return rc;
            }
        }
    }

    key.mv_data = akey;
    key.mv_size = alen;
    val.mv_data = &count;
    val.mv_size = sizeof(uint32_t);

    return mdb_put(txn, store->pages, &key, &val, 0);
}


/*
 * makes the page index of the index dbi (tag, plen as for
 * ngx_http_douyin_store_page_count()) from scratch: a chunk every
 * NGX_HTTP_DOUYIN_PAGE_CHUNK entries of each prefix.  *anchors counts
 * the chunks made.
 */

static int
ngx_http_douyin_store_pages_build(MDB_txn *txn, ngx_http_douyin_store_t *store,
    MDB_dbi dbi, u_char tag, size_t plen, ngx_uint_t *anchors)
{
    int          rc;
    u_char       akey[NGX_HTTP_DOUYIN_PAGE_KEY_LEN];
    size_t       alen;
    uint32_t     count;
    MDB_val      key, val, pk, pv;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    alen = 0;
    count = 0;

    pv.mv_data = &count;
    pv.mv_size = sizeof(uint32_t);

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (key.mv_size < plen || key.mv_size + 1 > sizeof(akey)) {
            continue;
        }

        if (alen != 0
            && ngx_memcmp(key.mv_data, akey + 1, plen) == 0
            && count < NGX_HTTP_DOUYIN_PAGE_CHUNK)
        {
            count++;
            continue;
        }

        /* a new chunk: the first of a prefix, or a full one before */

        if (alen != 0) {
            pk.mv_data = akey;
            pk.mv_size = alen;

            rc = mdb_put(txn, store->pages, &pk, &pv, 0);
            if (rc != 0) {
                break;
            }

            (*anchors)++;
        }

        akey[0] = tag;

        if (alen != 0 && ngx_memcmp(key.mv_data, akey + 1, plen) == 0) {
            ngx_memcpy(akey + 1, key.mv_data, key.mv_size);
            alen = 1 + key.mv_size;

        } else {
            ngx_memcpy(akey + 1, key.mv_data, plen);
            alen = 1 + plen;
        }

        count = 1;
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    if (alen == 0) {
        return 0;
    }

    pk.mv_data = akey;
    pk.mv_size = alen;

    (*anchors)++;

    return mdb_put(txn, store->pages, &pk, &pv, 0);
}


/*
 * Part of ngx_http_douyin_store_open(), in its write transaction: the
 * upgrade of a format 2 store to format 3: the texts of every record
 * ("views") and the page index of "by_time" and "by_status" ("pages"),
 * both made anew, then format_version 3.  A record whose text is not a
 * JSON object gets no texts (its reads make their bodies from the record,
 * as before).  Returns 0 or an LMDB/errno code.
 */

static int
ngx_http_douyin_store_views_open(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *path, ngx_log_t *log)
{
    int          rc;
    char         id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    MDB_val      key, val;
    MDB_cursor  *cur;
    ngx_uint_t   n, anchors;

    rc = mdb_drop(txn, store->views, 0);

    if (rc == 0) {
        rc = mdb_drop(txn, store->pages, 0);
    }

    if (rc == 0) {
        rc = mdb_cursor_open(txn, store->videos, &cur);
    }

    if (rc != 0) {
        return rc;
    }

    n = 0;

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (key.mv_size == 0 || key.mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
            continue;
        }

        ngx_memcpy(id, key.mv_data, key.mv_size);
        id[key.mv_size] = '\0';

        /* the "videos" cursor is not moved by writes to "views" */

        rc = ngx_http_douyin_store_views_put(txn, store, id, val.mv_data,
                                             val.mv_size);
        if (rc == MDB_CORRUPTED) {
            continue;
        }

        if (rc != 0) {
            break;
        }

        n++;
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    anchors = 0;

    rc = ngx_http_douyin_store_pages_build(txn, store, store->by_time, 't', 0,
                                           &anchors);

    if (rc == 0) {
        rc = ngx_http_douyin_store_pages_build(txn, store, store->by_status,
                                               's', 2, &anchors);
    }

    if (rc != 0) {
        return rc;
    }

    key.mv_data = "format_version";
    key.mv_size = sizeof("format_version") - 1;
    val.mv_data = NGX_HTTP_DOUYIN_STORE_FORMAT;
    val.mv_size = sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1;

    rc = mdb_put(txn, store->meta, &key, &val, 0);
    if (rc != 0) {
        return rc;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "douyin: store \"%s\" upgraded from format version 2 to "
                  NGX_HTTP_DOUYIN_STORE_FORMAT ": the texts of %ui records "
                  "stored, %ui page index chunks", path, n, anchors);

    return 0;
}

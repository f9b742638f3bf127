
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
 * Layout, format version 2 (key -> value):
 *
 *   "meta"        "format_version" -> "2"
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
 * records without their feed entries.
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


#define NGX_HTTP_DOUYIN_STORE_FORMAT  "2"


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
 * format version.  Event loop, init_process.  Returns NGX_OK, or
 * NGX_ERROR after logging the LMDB error.
 */

ngx_int_t
ngx_http_douyin_store_open(ngx_http_douyin_store_t *store, const char *path,
    size_t map_size, ngx_log_t *log)
{
    int         rc, dead;
    MDB_txn    *txn;
    const char *call;

    ngx_memzero(store, sizeof(ngx_http_douyin_store_t));

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
          offsetof(ngx_http_douyin_store_t, meta) }
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

    /* the unfiltered list shows neither pending nor deleted videos */

    if (delta > 0) {
        rc = ix->listed ? mdb_put(txn, store->by_time, &key, &val, 0) : 0;
        if (rc != 0) {
            return rc;
        }

        key.mv_data = skey;
        key.mv_size = ix->len + 2;

        rc = mdb_put(txn, store->by_status, &key, &val, 0);

    } else {
        rc = ix->listed ? mdb_del(txn, store->by_time, &key, NULL) : 0;
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        key.mv_data = skey;
        key.mv_size = ix->len + 2;

        rc = mdb_del(txn, store->by_status, &key, NULL);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
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
 * indexes, the per-status counts and the sums of billed seconds.  Thread
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
    int         rc, r;
    u_char      ckey[sizeof("count:xx")];
    MDB_val     key, val;
    MDB_txn    *txn;
    ngx_uint_t  s;

    ngx_memzero(counts, NGX_HTTP_DOUYIN_NSTATUS * sizeof(counts[0]));

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

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
                mdb_txn_abort(txn);
                return rc;
            }
        }
    }

    mdb_txn_abort(txn);

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
 * array of record objects each with "aweme_id" added.  Skipping walks
 * the index (no record is read for skipped entries).  A read
 * transaction.  Returns 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_store_page(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t offset,
    ngx_uint_t limit, cJSON **page)
{
    int                      rc;
    cJSON                   *list;
    MDB_txn                 *txn;
    ngx_uint_t               n, i, best, seen;
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

    for (seen = 0;
         rc == 0 && (ngx_uint_t) cJSON_GetArraySize(list) < limit;
         seen++)
    {
        best = ngx_http_douyin_store_next(walk, n);
        if (best == n) {
            break;
        }

        w = &walk[best];

        if (seen >= offset) {
            rc = ngx_http_douyin_store_add(txn, store, &w->val, list);
            if (rc != 0) {
                break;
            }
        }

        w->live = (mdb_cursor_get(w->cur, &w->key, &w->val, MDB_NEXT) == 0
                   && (w->prefix[0] == '\0'
                       || (w->key.mv_size >= 2
                           && ngx_memcmp(w->key.mv_data, w->prefix, 2)
                              == 0)));
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
 * store).  A new store gets format 2 and a first feed state; a format 1
 * store is migrated: every record is read once and the completed ones
 * are indexed, then format_version becomes 2.  Returns 0,
 * MDB_INCOMPATIBLE for another format (left as it is), or an LMDB/errno
 * code.
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

        } else if (version->mv_size
                   != sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1
                   || ngx_memcmp(version->mv_data,
                                 NGX_HTTP_DOUYIN_STORE_FORMAT,
                                 version->mv_size) != 0)
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
    val.mv_data = NGX_HTTP_DOUYIN_STORE_FORMAT;
    val.mv_size = sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1;

    rc = mdb_put(txn, store->meta, &key, &val, 0);
    if (rc != 0) {
        return rc;
    }

    if (migrate) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "douyin: store \"%s\" upgraded from format version 1 "
                      "to " NGX_HTTP_DOUYIN_STORE_FORMAT ": %ui transcripts "
                      "indexed for the feed", path, n);
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

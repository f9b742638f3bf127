
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
 * Layout, format version 1 (key -> value):
 *
 *   "meta"        "format_version" -> "1"
 *   "videos"      aweme_id -> the video record, a JSON object (UTF-8):
 *                   status        "processing" | "completed" | "failed"
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
 *                   is_read, read_at
 *   "processing"  aweme_id -> "" for every record whose status is
 *                 "processing", so recovery never scans every record;
 *   "by_time"     sort key -> aweme_id, newest upload_time first (see
 *                 ngx_http_douyin_store_index()), for the video list;
 *   "by_status"   status letter + read flag + sort key -> aweme_id, for
 *                 the filtered list;
 *   "workers"     pid (decimal) -> {run id, process start time} (a
 *                 struct, host order) of every worker process that has
 *                 the store open: a claim is alive while its (owner, run)
 *                 is here and that very process runs (same start time:
 *                 a later process with the same pid, after a crash or a
 *                 reboot, does not count); old and new binaries of an
 *                 upgrade see each other;
 *   "meta"        "count:<s><r>" -> int64 (host order), the number of
 *                 records per status letter (p, c, f) and read flag
 *                 (0, 1), for the stats;
 *                 "asr:total" -> double (host order), the sum of the
 *                 records' asr_seconds (the seconds DashScope billed);
 *                 "asr:day:<n>" -> double, the same for the records
 *                 processed on UTC day n (8 decimal digits, days since
 *                 1970-01-01), for the stats' last 30 days.
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


#define NGX_HTTP_DOUYIN_STORE_FORMAT  "1"


/*
 * The index entries of a record: its status letter ('p', 'c', 'f'), its
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
static int ngx_http_douyin_store_asr_update(MDB_txn *txn,
    ngx_http_douyin_store_t *store, cJSON *rec, int sign);
static int ngx_http_douyin_store_add_double(MDB_txn *txn,
    ngx_http_douyin_store_t *store, u_char *name, size_t len, double delta);


/* indexed by ngx_http_douyin_status_e */

const ngx_http_douyin_status_t  ngx_http_douyin_statuses[] = {
    { ngx_string("pending"),    0,   1 << NGX_HTTP_DOUYIN_PENDING },
    { ngx_string("processing"), 'p', 1 << NGX_HTTP_DOUYIN_PROCESSING },
    { ngx_string("completed"),  'c', 1 << NGX_HTTP_DOUYIN_COMPLETED },
    { ngx_string("failed"),     'f', 1 << NGX_HTTP_DOUYIN_FAILED }
};


/*
 * ngx_http_douyin_status_of: the status of the record rec: PENDING when
 * there is none (NULL), else the one its "status" names; a record whose
 * status is none of ours counts as failed.
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
        for (s = NGX_HTTP_DOUYIN_PROCESSING; s < NGX_HTTP_DOUYIN_NSTATUS; s++)
        {
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
 * from a write: STORE_FULL when the map is full, else STORE_ERROR.
 */

ngx_http_douyin_err_e
ngx_http_douyin_store_error(int rc)
{
    return (rc == MDB_MAP_FULL) ? NGX_HTTP_DOUYIN_ERR_STORE_FULL
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

    ngx_log_error(NGX_LOG_EMERG, log, 0,
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
    rc = mdb_env_set_maxdbs(store->env, 8);
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
        ngx_log_error(NGX_LOG_EMERG, log, 0,
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
    u_char   *p;
    cJSON    *is_read, *upload;
    size_t    len, i;
    time_t    t;

    is_read = cJSON_GetObjectItemCaseSensitive(rec, "is_read");
    upload = cJSON_GetObjectItemCaseSensitive(rec, "upload_time");

    ix->status = ngx_http_douyin_statuses[ngx_http_douyin_status_of(rec)]
                 .letter;

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

    if (delta > 0) {
        rc = mdb_put(txn, store->by_time, &key, &val, 0);
        if (rc != 0) {
            return rc;
        }

        key.mv_data = skey;
        key.mv_size = ix->len + 2;

        rc = mdb_put(txn, store->by_status, &key, &val, 0);

    } else {
        rc = mdb_del(txn, store->by_time, &key, NULL);
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

    if (rc == 0) {
        ngx_http_douyin_store_index(old, aweme_id, &ix);
        rc = ngx_http_douyin_store_asr_update(txn, store, old, -1);
        cJSON_Delete(old);

        if (rc != 0) {
            return rc;
        }

        rc = ngx_http_douyin_store_index_update(txn, store, aweme_id, &ix, -1);
        if (rc != 0) {
            return rc;
        }

    } else if (rc != MDB_NOTFOUND) {
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
 * pending row stays 0: pending videos have no record) and read flag (0,
 * 1).  A read transaction.  Returns 0 or an LMDB code.
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

    for (s = NGX_HTTP_DOUYIN_PROCESSING; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
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

    for (s = NGX_HTTP_DOUYIN_PROCESSING; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
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
 * ngx_http_douyin_store_delete: drops the record of aweme_id with its
 * index entries, in a write transaction.  Thread side.  Returns 0,
 * MDB_NOTFOUND when there was none, or another LMDB/errno code.
 */

int
ngx_http_douyin_store_delete(ngx_http_douyin_store_t *store,
    const char *aweme_id)
{
    int       rc;
    MDB_val   key, val;
    MDB_txn  *txn;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    key.mv_data = (void *) aweme_id;
    key.mv_size = ngx_strlen(aweme_id);

    rc = mdb_get(txn, store->videos, &key, &val);
    if (rc == 0) {
        rc = ngx_http_douyin_store_write(txn, store, aweme_id, NULL);
    }

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


/*
 * ngx_http_douyin_store_has: sets found[i] to whether a record exists for
 * ids[i], for n ids, in one read transaction.  Returns 0 or an LMDB code.
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

        found[i] = (rc == 0);
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
    int         n[6], i, sign, zh, zm;
    int64_t     y, m, d, era, yoe, doy, days;
    const char *p;

    int               mdays;

    static const int  width[6] = { 4, 2, 2, 2, 2, 2 };
    static const int  month_days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    static const char sep[6] = { '-', '-', 'T', ':', ':', '\0' };

    p = s;

    for (i = 0; i < 6; i++) {
        int  j;

        n[i] = 0;

        for (j = 0; j < width[i]; j++, p++) {
            if (*p < '0' || *p > '9') {
                return (time_t) -1;
            }
            n[i] = n[i] * 10 + (*p - '0');
        }

        if (i < 5) {
            if (*p != sep[i] && !(i == 2 && *p == ' ')) {
                return (time_t) -1;
            }
            p++;
        }
    }

    if (n[1] < 1 || n[1] > 12 || n[2] < 1 || n[3] > 23 || n[4] > 59
        || n[5] > 60)
    {
        return (time_t) -1;
    }

    mdays = month_days[n[1] - 1];

    if (n[1] == 2
        && n[0] % 4 == 0 && (n[0] % 100 != 0 || n[0] % 400 == 0))
    {
        mdays = 29;
    }

    if (n[2] > mdays) {
        return (time_t) -1;
    }

    if (*p == '.') {
        p++;

        if (*p < '0' || *p > '9') {
            return (time_t) -1;
        }

        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }

    zh = 0;
    zm = 0;
    sign = 1;

    if (*p == 'Z' || *p == 'z') {
        p++;

    } else if (*p == '+' || *p == '-') {
        sign = (*p == '-') ? -1 : 1;
        p++;

        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
            return (time_t) -1;
        }

        zh = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;

        if (*p == ':') {
            p++;
        }

        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
            return (time_t) -1;
        }

        zm = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;

        if (zh > 23 || zm > 59) {
            return (time_t) -1;
        }
    }

    if (*p != '\0') {
        return (time_t) -1;
    }

    /* days from 1970-01-01 of the civil date (H. Hinnant's algorithm) */

    y = n[0];
    m = n[1];
    d = n[2];

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;

    return (time_t) (days * 86400 + n[3] * 3600 + n[4] * 60 + n[5]
                     - sign * (zh * 3600 + zm * 60));
}

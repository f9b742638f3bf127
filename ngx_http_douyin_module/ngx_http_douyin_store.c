
/*
 * ngx_http_douyin_module: the LMDB store.
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
 *                   text, segments[{start_time,end_time,text,confidence}],
 *                   confidence, audio_duration            completed only
 *                   title, author, description, upload_time (metadata)
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
 *                 records per status letter (p processing, c completed,
 *                 f failed, q pending, d deleted) and read flag (0, 1),
 *                 for the stats.
 *
 * The collector-fed workflow (format 2) adds two statuses: "pending", a
 * video the collector pushed (POST /api/aweme/{id}/pending) and nobody
 * has transcribed yet, and "deleted", a tombstone: the user deleted the
 * video, its transcript is dropped, its metadata kept, and nothing ever
 * claims it again (ngx_http_douyin_store_claim() skips it), whether its
 * WAV is still listed or the collector pushes it again.
 *
 * Format 1 stores (no pending or deleted record, so every index and count
 * of theirs is already right in format 2) are upgraded in place by
 * writing the new version; a module that reads only format 1 then
 * refuses the store instead of claiming its tombstones.
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

/* the status letters of the indexes and counts, in the order of the
 * status_mask bits of ngx_http_douyin_store_list() and of the counts */
static const u_char  ngx_http_douyin_letters[NGX_HTTP_DOUYIN_NSTATUS] = {
    'p', 'c', 'f', 'q', 'd'
};


typedef struct {
    u_char      status;
    u_char      read;
    size_t      len;
    u_char      key[1 + 16 + NGX_HTTP_DOUYIN_ID_MAX + 1];
} ngx_http_douyin_index_t;


/* a value of the "workers" database */

typedef struct {
    double                      run;
    uint64_t                    start;      /* /proc start time, 0: none */
} ngx_http_douyin_worker_t;


static int ngx_http_douyin_store_read(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id, cJSON **rec);
static int ngx_http_douyin_store_write(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id, cJSON *rec);
static ngx_int_t ngx_http_douyin_store_owner_alive(MDB_txn *txn,
    ngx_http_douyin_store_t *store, cJSON *rec,
    ngx_http_douyin_owner_t *owner);
static ngx_int_t ngx_http_douyin_store_owned(cJSON *rec,
    ngx_http_douyin_owner_t *owner);
static ngx_int_t ngx_http_douyin_store_pushed_keeps(cJSON *rec,
    cJSON *field);
static int ngx_http_douyin_store_index_update(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *aweme_id,
    ngx_http_douyin_index_t *ix, int delta);


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
    MDB_val     key, val;
    MDB_txn    *txn;
    const char *call;

    ngx_memzero(store, sizeof(ngx_http_douyin_store_t));

    txn = NULL;

    call = "mdb_env_create()";
    rc = mdb_env_create(&store->env);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_env_set_mapsize()";
    rc = mdb_env_set_mapsize(store->env, map_size);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_env_set_maxdbs()";
    rc = mdb_env_set_maxdbs(store->env, 8);
    if (rc != 0) {
        goto failed;
    }

    /* old and new workers overlap on reload: workers x (threads + 1) x 2 */

    call = "mdb_env_set_maxreaders()";
    rc = mdb_env_set_maxreaders(store->env, 1024);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_env_open()";
    rc = mdb_env_open(store->env, path, MDB_NOTLS, 0600);
    if (rc != 0) {
        goto failed;
    }

    (void) mdb_reader_check(store->env, &dead);

    call = "mdb_txn_begin()";
    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_dbi_open(\"videos\")";
    rc = mdb_dbi_open(txn, "videos", MDB_CREATE, &store->videos);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_dbi_open(\"processing\")";
    rc = mdb_dbi_open(txn, "processing", MDB_CREATE, &store->processing);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_dbi_open(\"by_time\")";
    rc = mdb_dbi_open(txn, "by_time", MDB_CREATE, &store->by_time);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_dbi_open(\"by_status\")";
    rc = mdb_dbi_open(txn, "by_status", MDB_CREATE, &store->by_status);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_dbi_open(\"workers\")";
    rc = mdb_dbi_open(txn, "workers", MDB_CREATE, &store->workers);
    if (rc != 0) {
        goto failed;
    }

    call = "mdb_dbi_open(\"meta\")";
    rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &store->meta);
    if (rc != 0) {
        goto failed;
    }

    key.mv_data = "format_version";
    key.mv_size = sizeof("format_version") - 1;

    rc = mdb_get(txn, store->meta, &key, &val);

    if (rc == MDB_NOTFOUND) {
        val.mv_data = NGX_HTTP_DOUYIN_STORE_FORMAT;
        val.mv_size = sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1;

        call = "mdb_put(\"format_version\")";
        rc = mdb_put(txn, store->meta, &key, &val, 0);
        if (rc != 0) {
            goto failed;
        }

    } else if (rc != 0) {
        call = "mdb_get(\"format_version\")";
        goto failed;

    } else if (val.mv_size == 1 && *(u_char *) val.mv_data == '1') {

        /* format 1 -> 2: nothing to migrate (see the layout above) */

        val.mv_data = NGX_HTTP_DOUYIN_STORE_FORMAT;
        val.mv_size = sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1;

        call = "mdb_put(\"format_version\")";
        rc = mdb_put(txn, store->meta, &key, &val, 0);
        if (rc != 0) {
            goto failed;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "douyin: store \"%s\" upgraded from format version 1 "
                      "to " NGX_HTTP_DOUYIN_STORE_FORMAT, path);

    } else if (val.mv_size != sizeof(NGX_HTTP_DOUYIN_STORE_FORMAT) - 1
               || ngx_memcmp(val.mv_data, NGX_HTTP_DOUYIN_STORE_FORMAT,
                             val.mv_size) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "douyin: store \"%s\" has format version \"%*s\", "
                      "this module reads version "
                      NGX_HTTP_DOUYIN_STORE_FORMAT,
                      path, val.mv_size, val.mv_data);
        mdb_txn_abort(txn);
        mdb_env_close(store->env);
        store->env = NULL;
        return NGX_ERROR;
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


/* ngx_http_douyin_store_close: closes the environment (exit_process) */

void
ngx_http_douyin_store_close(ngx_http_douyin_store_t *store)
{
    if (store->env != NULL) {
        mdb_env_close(store->env);
        store->env = NULL;
    }
}


/* ngx_http_douyin_store_strerror: the text of an LMDB or errno code */

const char *
ngx_http_douyin_store_strerror(int err)
{
    return mdb_strerror(err);
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
 * ngx_http_douyin_store_claim: in one write transaction, claims every
 * item whose video has no record, a failed one or a pending (pushed) one:
 * its record becomes
 * "processing", owned by "owner", with file_url, filename and claimed_at
 * (other fields such as is_read and metadata are kept), and the item's
 * "claimed" flag is set.  Other items get outcome COMPLETED, PROCESSING
 * when another claim holds them, or DELETED (a tombstone: never again).
 * *claimed counts the claims.  Thread side.  Returns 0 or an LMDB/errno
 * code, in which case nothing changed.
 */

int
ngx_http_douyin_store_claim(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, ngx_uint_t *claimed,
    ngx_http_douyin_owner_t *owner)
{
    int          rc;
    cJSON       *rec, *status;
    MDB_val      key, val;
    MDB_txn     *txn;
    ngx_uint_t   i, count;

    /*
     * first, in a read transaction, set aside what is completed or being
     * processed (a look at the stored text, no parsing), so that the
     * write transaction, which holds every writer of every worker, only
     * parses and claims the few candidates
     */

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        key.mv_data = items[i].aweme_id;
        key.mv_size = ngx_strlen(items[i].aweme_id);

        items[i].outcome = 0;

        rc = mdb_get(txn, store->videos, &key, &val);

        if (rc == MDB_NOTFOUND) {
            continue;
        }

        if (rc != 0) {
            mdb_txn_abort(txn);
            return rc;
        }

        if (ngx_strlcasestrn(val.mv_data, (u_char *) val.mv_data
                             + val.mv_size,
                             (u_char *) "\"status\":\"completed\"",
                             sizeof("\"status\":\"completed\"") - 2)
            != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_COMPLETED;

        } else if (ngx_strlcasestrn(val.mv_data, (u_char *) val.mv_data
                                    + val.mv_size,
                                    (u_char *) "\"status\":\"processing\"",
                                    sizeof("\"status\":\"processing\"") - 2)
                   != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_PROCESSING;

        } else if (ngx_strlcasestrn(val.mv_data, (u_char *) val.mv_data
                                    + val.mv_size,
                                    (u_char *) "\"status\":\"deleted\"",
                                    sizeof("\"status\":\"deleted\"") - 2)
                   != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_DELETED;
        }
    }

    mdb_txn_abort(txn);

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    count = 0;

    for (i = 0; i < n; i++) {
        if (items[i].outcome != 0) {
            continue;
        }

        rc = ngx_http_douyin_store_read(txn, store, items[i].aweme_id, &rec);

        if (rc == MDB_NOTFOUND) {
            rec = cJSON_CreateObject();
            if (rec == NULL) {
                rc = ENOMEM;
                goto failed;
            }

        } else if (rc != 0) {
            goto failed;

        } else {
            status = cJSON_GetObjectItemCaseSensitive(rec, "status");

            if (cJSON_IsString(status)
                && ngx_strcmp(status->valuestring, "completed") == 0)
            {
                items[i].outcome = NGX_HTTP_DOUYIN_COMPLETED;
                cJSON_Delete(rec);
                continue;
            }

            if (cJSON_IsString(status)
                && ngx_strcmp(status->valuestring, "processing") == 0)
            {
                items[i].outcome = NGX_HTTP_DOUYIN_PROCESSING;
                cJSON_Delete(rec);
                continue;
            }

            if (cJSON_IsString(status)
                && ngx_strcmp(status->valuestring, "deleted") == 0)
            {
                items[i].outcome = NGX_HTTP_DOUYIN_DELETED;
                cJSON_Delete(rec);
                continue;
            }

            cJSON_DeleteItemFromObjectCaseSensitive(rec, "error");
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "message");
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "task_id");
        }

        items[i].claimed_at = time(NULL);

        cJSON_DeleteItemFromObjectCaseSensitive(rec, "status");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "owner");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "run");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "claimed_at");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "file_url");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "filename");

        if (cJSON_AddStringToObject(rec, "status", "processing") == NULL
            || cJSON_AddNumberToObject(rec, "owner", owner->pid) == NULL
            || cJSON_AddNumberToObject(rec, "run", owner->run) == NULL
            || cJSON_AddNumberToObject(rec, "claimed_at",
                                       (double) items[i].claimed_at) == NULL
            || cJSON_AddStringToObject(rec, "file_url", items[i].file_url)
               == NULL
            || cJSON_AddStringToObject(rec, "filename", items[i].filename)
               == NULL)
        {
            cJSON_Delete(rec);
            rc = ENOMEM;
            goto failed;
        }

        rc = ngx_http_douyin_store_write(txn, store, items[i].aweme_id, rec);
        cJSON_Delete(rec);

        if (rc != 0) {
            goto failed;
        }

        items[i].outcome = NGX_HTTP_DOUYIN_PROCESSING;
        items[i].claimed = 1;
        count++;
    }

    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        for (i = 0; i < n; i++) {
            items[i].claimed = 0;
        }

        return rc;
    }

    *claimed = count;

    return 0;

failed:

    mdb_txn_abort(txn);
    return rc;
}


/*
 * ngx_http_douyin_store_set_task: stores task_id in the "processing"
 * records of the items that "owner" still holds, in one write
 * transaction.  Thread side.  Returns
 * 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_store_set_task(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, const char *task_id,
    ngx_http_douyin_owner_t *owner)
{
    int          rc;
    cJSON       *rec;
    MDB_txn     *txn;
    ngx_uint_t   i;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        rc = ngx_http_douyin_store_read(txn, store, items[i].aweme_id, &rec);
        if (rc == MDB_NOTFOUND) {
            continue;               /* deleted meanwhile */
        }

        if (rc != 0) {
            goto failed;
        }

        if (!ngx_http_douyin_store_owned(rec, owner)) {
            cJSON_Delete(rec);      /* taken over meanwhile: not ours */
            continue;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(rec, "task_id");

        if (cJSON_AddStringToObject(rec, "task_id", task_id) == NULL) {
            cJSON_Delete(rec);
            rc = ENOMEM;
            goto failed;
        }

        rc = ngx_http_douyin_store_write(txn, store, items[i].aweme_id, rec);
        cJSON_Delete(rec);

        if (rc != 0) {
            goto failed;
        }
    }

    return mdb_txn_commit(txn);

failed:

    mdb_txn_abort(txn);
    return rc;
}


/*
 * ngx_http_douyin_store_finish: in one write transaction, for each item
 * with records[i] != NULL whose record "owner" still holds (a claim
 * taken over by another worker is that worker's to finish), merges
 * records[i] (status, processed_at and
 * the transcript or the error; metadata) into the stored record, drops
 * the claim fields, and keeps is_read/read_at.  Metadata the collector
 * pushed (a record with pending_at) wins over file-system-go's: its
 * title, author and description are kept, and its upload_time (the push
 * time) gives way only to a real upload time (not Go's zero time).  Thread side.  Returns 0
 * or an LMDB/errno code, in which case nothing changed.
 */

int
ngx_http_douyin_store_finish(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, cJSON **records, ngx_uint_t n,
    ngx_http_douyin_owner_t *owner)
{
    int           rc;
    cJSON        *rec, *field, *copy;
    MDB_txn      *txn;
    ngx_uint_t    i;
    const char  **d;

    static const char  *drop[] = {
        "status", "owner", "run", "claimed_at", "task_id", "error",
        "message",
        "text", "segments", "confidence", "audio_duration", NULL
    };

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        if (records[i] == NULL) {
            continue;
        }

        rc = ngx_http_douyin_store_read(txn, store, items[i].aweme_id, &rec);

        if (rc == MDB_NOTFOUND) {
            continue;               /* deleted while processing */
        }

        if (rc != 0) {
            goto failed;
        }

        if (!ngx_http_douyin_store_owned(rec, owner)) {
            cJSON_Delete(rec);
            continue;
        }

        for (d = drop; *d != NULL; d++) {
            cJSON_DeleteItemFromObjectCaseSensitive(rec, *d);
        }

        cJSON_ArrayForEach(field, records[i]) {
            if (ngx_http_douyin_store_pushed_keeps(rec, field)) {
                continue;
            }

            copy = cJSON_Duplicate(field, 1);
            if (copy == NULL) {
                cJSON_Delete(rec);
                rc = ENOMEM;
                goto failed;
            }

            cJSON_DeleteItemFromObjectCaseSensitive(rec, field->string);
            cJSON_AddItemToObject(rec, field->string, copy);
        }

        rc = ngx_http_douyin_store_write(txn, store, items[i].aweme_id, rec);
        cJSON_Delete(rec);

        if (rc != 0) {
            goto failed;
        }
    }

    return mdb_txn_commit(txn);

failed:

    mdb_txn_abort(txn);
    return rc;
}


/*
 * ngx_http_douyin_store_recover: in one write transaction, takes over
 * every "processing" record whose owner is gone (a worker that was
 * killed, or an nginx that was restarted), as the "workers" database and
 * the process start time tell, at most "limit" of them (the rest is for
 * a later call): its owner becomes "owner".
 * Returns them as *items (malloc()ed array of *n, with malloc()ed
 * file_url and filename) and *task_ids (malloc()ed array of malloc()ed
 * strings, NULL where no task id was stored), sorted by task id.
 * Thread side.  Returns 0 or an LMDB/errno code (nothing changed, no
 * allocation left).
 */

int
ngx_http_douyin_store_recover(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t limit,
    ngx_http_douyin_item_t **items, char ***task_ids, ngx_uint_t *n)
{
    int                      rc;
    char                   **ids, *tid;
    cJSON                   *rec, *field;
    MDB_val                  key, val;
    MDB_txn                 *txn;
    MDB_cursor              *cur;
    ngx_uint_t               i, j, count, cap;
    ngx_http_douyin_item_t  *it, tmp_item;

    *items = NULL;
    *task_ids = NULL;
    *n = 0;

    it = NULL;
    ids = NULL;
    count = 0;
    cap = 0;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, store->processing, &cur);
    if (rc != 0) {
        goto failed;
    }

    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);

    while (rc == 0) {
        char  id[NGX_HTTP_DOUYIN_ID_MAX + 1];

        if (count >= limit) {
            rc = MDB_NOTFOUND;
            break;
        }

        if (key.mv_size == 0 || key.mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
            continue;
        }

        ngx_memcpy(id, key.mv_data, key.mv_size);
        id[key.mv_size] = '\0';

        rc = ngx_http_douyin_store_read(txn, store, id, &rec);
        if (rc == MDB_NOTFOUND) {
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
            continue;
        }

        if (rc != 0) {
            mdb_cursor_close(cur);
            goto failed;
        }

        field = cJSON_GetObjectItemCaseSensitive(rec, "status");

        if (!cJSON_IsString(field)
            || ngx_strcmp(field->valuestring, "processing") != 0
            || ngx_http_douyin_store_owner_alive(txn, store, rec, owner))
        {
            cJSON_Delete(rec);
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
            continue;
        }

        if (count == cap) {
            void  *p;

            cap = cap ? cap * 2 : 16;

            p = realloc(it, cap * sizeof(ngx_http_douyin_item_t));
            if (p == NULL) {
                cJSON_Delete(rec);
                mdb_cursor_close(cur);
                rc = ENOMEM;
                goto failed;
            }
            it = p;

            p = realloc(ids, cap * sizeof(char *));
            if (p == NULL) {
                cJSON_Delete(rec);
                mdb_cursor_close(cur);
                rc = ENOMEM;
                goto failed;
            }
            ids = p;
        }

        ngx_memzero(&it[count], sizeof(ngx_http_douyin_item_t));
        ngx_cpystrn((u_char *) it[count].aweme_id, (u_char *) id,
                    sizeof(it[count].aweme_id));
        ids[count] = NULL;

        field = cJSON_GetObjectItemCaseSensitive(rec, "file_url");
        it[count].file_url = strdup(cJSON_IsString(field)
                                    ? field->valuestring : "");

        field = cJSON_GetObjectItemCaseSensitive(rec, "filename");
        it[count].filename = strdup(cJSON_IsString(field)
                                    ? field->valuestring : "");

        field = cJSON_GetObjectItemCaseSensitive(rec, "claimed_at");
        it[count].claimed_at = cJSON_IsNumber(field)
                               ? (time_t) field->valuedouble : time(NULL);

        field = cJSON_GetObjectItemCaseSensitive(rec, "task_id");
        if (cJSON_IsString(field) && field->valuestring[0] != '\0') {
            ids[count] = strdup(field->valuestring);
        }

        count++;

        if (it[count - 1].file_url == NULL || it[count - 1].filename == NULL
            || (cJSON_IsString(field) && field->valuestring[0] != '\0'
                && ids[count - 1] == NULL))
        {
            cJSON_Delete(rec);
            mdb_cursor_close(cur);
            rc = ENOMEM;
            goto failed;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(rec, "owner");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "run");

        if (cJSON_AddNumberToObject(rec, "owner", owner->pid) == NULL
            || cJSON_AddNumberToObject(rec, "run", owner->run) == NULL)
        {
            cJSON_Delete(rec);
            mdb_cursor_close(cur);
            rc = ENOMEM;
            goto failed;
        }

        rc = ngx_http_douyin_store_write(txn, store, id, rec);
        cJSON_Delete(rec);

        if (rc != 0) {
            mdb_cursor_close(cur);
            goto failed;
        }

        /* the write may move the cursor's page: find the key again */

        key.mv_data = id;
        key.mv_size = ngx_strlen(id);

        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc == 0) {
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        }
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        goto failed;
    }

    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        txn = NULL;
        goto failed;
    }

    /* insertion sort by task id, so one provider task forms one batch */

    for (i = 1; i < count; i++) {
        tmp_item = it[i];
        tid = ids[i];

        for (j = i; j > 0; j--) {
            if (tid == NULL
                || (ids[j - 1] != NULL && ngx_strcmp(ids[j - 1], tid) <= 0))
            {
                break;
            }

            it[j] = it[j - 1];
            ids[j] = ids[j - 1];
        }

        it[j] = tmp_item;
        ids[j] = tid;
    }

    *items = it;
    *task_ids = ids;
    *n = count;

    return 0;

failed:

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }

    for (i = 0; i < count; i++) {
        free(it[i].file_url);
        free(it[i].filename);
        free(ids[i]);
    }

    free(it);
    free(ids);

    return rc;
}


static int
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


/*
 * The index entries of a record: its status letter ('p', 'c', 'f', 'q',
 * 'd'), its
 * read flag ('0', '1') and its sort key, newest upload_time first:
 *   "0" + 16 hex digits of (2^64 - 1 - Unix s of upload_time) + id key
 *   "1" + id key                               (no or unreadable time)
 * where the id key is the aweme_id left-padded with zeros to 32 digits
 * and each digit d written as 9 - d, so that ascending keys are
 * descending ids, followed by one letter for the id's length.
 */



static void
ngx_http_douyin_store_index(cJSON *rec, const char *aweme_id,
    ngx_http_douyin_index_t *ix)
{
    u_char   *p;
    cJSON    *status, *is_read, *upload;
    size_t    len, i;
    time_t    t;

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");
    is_read = cJSON_GetObjectItemCaseSensitive(rec, "is_read");
    upload = cJSON_GetObjectItemCaseSensitive(rec, "upload_time");

    ix->status = 'f';

    if (cJSON_IsString(status)) {
        if (ngx_strcmp(status->valuestring, "completed") == 0) {
            ix->status = 'c';

        } else if (ngx_strcmp(status->valuestring, "processing") == 0) {
            ix->status = 'p';

        } else if (ngx_strcmp(status->valuestring, "pending") == 0) {
            ix->status = 'q';

        } else if (ngx_strcmp(status->valuestring, "deleted") == 0) {
            ix->status = 'd';
        }
    }

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
    int       rc, listed;
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

    listed = (ix->status != 'q' && ix->status != 'd');

    if (delta > 0) {
        rc = listed ? mdb_put(txn, store->by_time, &key, &val, 0) : 0;
        if (rc != 0) {
            return rc;
        }

        key.mv_data = skey;
        key.mv_size = ix->len + 2;

        rc = mdb_put(txn, store->by_status, &key, &val, 0);

    } else {
        rc = listed ? mdb_del(txn, store->by_time, &key, NULL) : 0;
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
 * writes rec (NULL: deletes the record) and keeps in step, in the same
 * transaction, the "processing" index, the "by_time" and "by_status"
 * indexes and the per-status counts
 */

static int
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
        cJSON_Delete(old);

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

    if (ix.status == 'p') {
        val.mv_data = "";
        val.mv_size = 0;
        return mdb_put(txn, store->processing, &key, &val, 0);
    }

    rc = mdb_del(txn, store->processing, &key, NULL);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/*
 * the start time of process pid (clock ticks after boot, field 22 of
 * /proc/<pid>/stat), or 0 when it cannot be read (no such process, no
 * /proc): with the pid it names one process, even across pid reuse
 */

static uint64_t
ngx_http_douyin_proc_start(ngx_pid_t pid)
{
    int         fd;
    char        path[64], buf[1024], *p;
    ssize_t     n;
    uint64_t    start;
    ngx_uint_t  field;

    ngx_sprintf((u_char *) path, "/proc/%P/stat%Z", pid);

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        return 0;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 0;
    }

    buf[n] = '\0';

    /* the command name may hold spaces and parentheses: skip past it */

    p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }

    /* p + 2 is field 3 (the state); the start time is field 22 */

    for (field = 3, p += 2; field < 22 && *p != '\0'; p++) {
        if (*p == ' ') {
            field++;
        }
    }

    start = 0;

    while (*p >= '0' && *p <= '9') {
        start = start * 10 + (*p++ - '0');
    }

    return start;
}


/* is the record's claim held by us or by a live worker? */

static ngx_int_t
ngx_http_douyin_store_owner_alive(MDB_txn *txn,
    ngx_http_douyin_store_t *store, cJSON *rec,
    ngx_http_douyin_owner_t *owner)
{
    u_char                     key_data[NGX_INT64_LEN];
    cJSON                     *pid, *run;
    MDB_val                    key, val;
    ngx_pid_t                  p;
    ngx_http_douyin_worker_t   w;

    pid = cJSON_GetObjectItemCaseSensitive(rec, "owner");
    run = cJSON_GetObjectItemCaseSensitive(rec, "run");

    if (!cJSON_IsNumber(pid) || !cJSON_IsNumber(run)) {
        return 0;
    }

    p = (ngx_pid_t) pid->valuedouble;

    if (p == owner->pid && run->valuedouble == owner->run) {
        return 1;                   /* ours already */
    }

    if (p <= 0) {
        return 0;
    }

    key.mv_data = key_data;
    key.mv_size = ngx_sprintf(key_data, "%P", p) - key_data;

    if (mdb_get(txn, store->workers, &key, &val) != 0
        || val.mv_size != sizeof(ngx_http_douyin_worker_t))
    {
        return 0;                   /* its worker has left */
    }

    ngx_memcpy(&w, val.mv_data, sizeof(ngx_http_douyin_worker_t));

    if (w.run != run->valuedouble) {
        return 0;                   /* the pid is another worker's now */
    }

    if (w.start != 0) {

        /* the same process, not a later one with the same pid */
        return ngx_http_douyin_proc_start(p) == w.start;
    }

    return (kill(p, 0) == 0 || ngx_errno == NGX_EPERM);
}


/* does "owner" hold the claim of this "processing" record? */

static ngx_int_t
ngx_http_douyin_store_owned(cJSON *rec, ngx_http_douyin_owner_t *owner)
{
    cJSON  *status, *pid, *run;

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");
    pid = cJSON_GetObjectItemCaseSensitive(rec, "owner");
    run = cJSON_GetObjectItemCaseSensitive(rec, "run");

    return cJSON_IsString(status)
           && ngx_strcmp(status->valuestring, "processing") == 0
           && cJSON_IsNumber(pid) && cJSON_IsNumber(run)
           && (ngx_pid_t) pid->valuedouble == owner->pid
           && run->valuedouble == owner->run;
}


/*
 * ngx_http_douyin_store_register: adds (add = 1, init_process) or removes
 * (add = 0, exit_process) this worker in the "workers" database, in a
 * write transaction.  Returns 0 or an LMDB code.
 */

int
ngx_http_douyin_store_register(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t add)
{
    int                        rc;
    u_char                     key_data[NGX_INT64_LEN];
    MDB_val                    key, val;
    MDB_txn                   *txn;
    ngx_http_douyin_worker_t   w;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    key.mv_data = key_data;
    key.mv_size = ngx_sprintf(key_data, "%P", owner->pid) - key_data;

    if (add) {
        ngx_memzero(&w, sizeof(ngx_http_douyin_worker_t));
        w.run = owner->run;
        w.start = ngx_http_douyin_proc_start(owner->pid);

        val.mv_data = &w;
        val.mv_size = sizeof(ngx_http_douyin_worker_t);
        rc = mdb_put(txn, store->workers, &key, &val, 0);

    } else {
        rc = mdb_del(txn, store->workers, &key, NULL);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
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


/*
 * ngx_http_douyin_store_counts: the number of records per status (the
 * NGX_HTTP_DOUYIN_S_* indexes: processing, completed, failed, pending,
 * deleted) and read flag (0, 1).  A read transaction.  Returns 0 or an
 * LMDB code.
 */

int
ngx_http_douyin_store_counts(ngx_http_douyin_store_t *store,
    int64_t counts[NGX_HTTP_DOUYIN_NSTATUS][2])
{
    int        rc, s, r;
    u_char     ckey[sizeof("count:xx")];
    MDB_val    key, val;
    MDB_txn   *txn;

    const u_char  *letters = ngx_http_douyin_letters;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        for (r = 0; r < 2; r++) {
            ngx_sprintf(ckey, "count:%c%c", letters[s], '0' + r);

            key.mv_data = ckey;
            key.mv_size = sizeof("count:xx") - 1;

            counts[s][r] = 0;

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
 * ngx_http_douyin_store_list: the records of one page of the list, newest
 * upload_time first (ids descending without a time), restricted to the
 * statuses in status_mask (bit 0: processing, 1: completed, 2: failed,
 * 3: pending, 4: deleted) and the read flags in read_mask (bit 0:
 * unread, 1: read).  Skips
 * "offset" entries and returns at most "limit" records in *page, a new
 * cJSON array of record objects each with "aweme_id" added.  Skipping
 * walks the index (no record is read for skipped entries).  A read
 * transaction.  Returns 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_store_list(ngx_http_douyin_store_t *store,
    ngx_uint_t status_mask, ngx_uint_t read_mask, ngx_uint_t offset,
    ngx_uint_t limit, cJSON **page)
{
    int          rc, live[2 * NGX_HTTP_DOUYIN_NSTATUS];
    char         id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON       *list, *rec;
    MDB_val      key[2 * NGX_HTTP_DOUYIN_NSTATUS];
    MDB_val      val[2 * NGX_HTTP_DOUYIN_NSTATUS];
    MDB_txn     *txn;
    MDB_cursor  *cur[2 * NGX_HTTP_DOUYIN_NSTATUS];
    ngx_uint_t   n, i, best, s, r, seen;
    u_char       prefix[2 * NGX_HTTP_DOUYIN_NSTATUS][2];

    const u_char  *letters = ngx_http_douyin_letters;

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

    if (status_mask == 7 && read_mask == 3) {

        /* everything: the one "by_time" index */

        rc = mdb_cursor_open(txn, store->by_time, &cur[0]);
        if (rc != 0) {
            goto failed;
        }

        rc = mdb_cursor_get(cur[0], &key[0], &val[0], MDB_FIRST);
        live[0] = (rc == 0);
        prefix[0][0] = '\0';
        n = 1;

    } else {

        /* one cursor per (status, read) prefix of "by_status", merged */

        for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
            for (r = 0; r < 2; r++) {
                if (!(status_mask & (1 << s)) || !(read_mask & (1 << r))) {
                    continue;
                }

                prefix[n][0] = letters[s];
                prefix[n][1] = (u_char) ('0' + r);

                rc = mdb_cursor_open(txn, store->by_status, &cur[n]);
                if (rc != 0) {
                    goto failed;
                }

                key[n].mv_data = prefix[n];
                key[n].mv_size = 2;

                rc = mdb_cursor_get(cur[n], &key[n], &val[n], MDB_SET_RANGE);
                live[n] = (rc == 0 && key[n].mv_size >= 2
                           && ngx_memcmp(key[n].mv_data, prefix[n], 2) == 0);
                n++;
            }
        }
    }

    seen = 0;

    for ( ;; ) {
        best = n;

        for (i = 0; i < n; i++) {
            if (!live[i]) {
                continue;
            }

            if (best == n) {
                best = i;
                continue;
            }

            /* compare the sort keys, without the 2-byte prefix */

            {
                size_t   sk = prefix[0][0] ? 2 : 0;
                size_t   la = key[i].mv_size - sk, lb = key[best].mv_size - sk;
                int      c;

                c = ngx_memcmp((u_char *) key[i].mv_data + sk,
                               (u_char *) key[best].mv_data + sk,
                               ngx_min(la, lb));

                if (c < 0 || (c == 0 && la < lb)) {
                    best = i;
                }
            }
        }

        if (best == n || (ngx_uint_t) cJSON_GetArraySize(list) >= limit) {
            break;
        }

        if (seen++ >= offset) {
            if (val[best].mv_size == 0
                || val[best].mv_size > NGX_HTTP_DOUYIN_ID_MAX)
            {
                rc = MDB_CORRUPTED;
                goto failed;
            }

            ngx_memcpy(id, val[best].mv_data, val[best].mv_size);
            id[val[best].mv_size] = '\0';

            rc = ngx_http_douyin_store_read(txn, store, id, &rec);
            if (rc != 0) {
                goto failed;
            }

            cJSON_DeleteItemFromObjectCaseSensitive(rec, "aweme_id");

            if (cJSON_AddStringToObject(rec, "aweme_id", id) == NULL) {
                cJSON_Delete(rec);
                rc = ENOMEM;
                goto failed;
            }

            cJSON_AddItemToArray(list, rec);
        }

        rc = mdb_cursor_get(cur[best], &key[best], &val[best], MDB_NEXT);
        live[best] = (rc == 0
                      && (prefix[best][0] == '\0'
                          || (key[best].mv_size >= 2
                              && ngx_memcmp(key[best].mv_data,
                                            prefix[best], 2) == 0)));
    }

    for (i = 0; i < n; i++) {
        mdb_cursor_close(cur[i]);
    }

    mdb_txn_abort(txn);

    *page = list;

    return 0;

failed:

    for (i = 0; i < n; i++) {
        mdb_cursor_close(cur[i]);
    }

    mdb_txn_abort(txn);
    cJSON_Delete(list);

    return rc;
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
 * ngx_http_douyin_store_has: sets found[i] for each of the n ids[i], in
 * one read transaction: 0 when there is no record, NGX_HTTP_DOUYIN_PENDING
 * for a pending (pushed) record, NGX_HTTP_DOUYIN_DELETED for a tombstone,
 * 1 for any other record.  Returns 0 or an LMDB code.
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

        if (rc != 0) {
            found[i] = 0;

        } else if (ngx_strlcasestrn(val.mv_data, (u_char *) val.mv_data
                                    + val.mv_size,
                                    (u_char *) "\"status\":\"pending\"",
                                    sizeof("\"status\":\"pending\"") - 2)
                   != NULL)
        {
            found[i] = NGX_HTTP_DOUYIN_PENDING;

        } else if (ngx_strlcasestrn(val.mv_data, (u_char *) val.mv_data
                                    + val.mv_size,
                                    (u_char *) "\"status\":\"deleted\"",
                                    sizeof("\"status\":\"deleted\"") - 2)
                   != NULL)
        {
            found[i] = NGX_HTTP_DOUYIN_DELETED;

        } else {
            found[i] = 1;
        }
    }

    mdb_txn_abort(txn);

    return 0;
}


/*
 * The collector-fed workflow: pushed (pending) records and tombstones.
 */


/*
 * does the stored record rec keep its own value of the field that a
 * finished transcription brings?  Yes for the metadata the collector
 * pushed (records with pending_at): title, author, description and
 * video_publish_time; and for its upload_time (the push time) unless
 * file-system-go gave a real one (Go's zero time "0001-01-01T00:00:00Z"
 * is no time)
 */

static ngx_int_t
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
        "audio_duration", NULL
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
    cJSON                   *rec, *name;
    MDB_val                  key, val;
    MDB_txn                 *txn;
    MDB_cursor              *cur;
    ngx_uint_t               count, cap, i;
    ngx_http_douyin_item_t  *it;
    void                    *p;

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

        if (count == cap) {
            cap = cap ? cap * 2 : 16;

            p = realloc(it, cap * sizeof(ngx_http_douyin_item_t));
            if (p == NULL) {
                cJSON_Delete(rec);
                rc = ENOMEM;
                break;
            }

            it = p;
        }

        ngx_memzero(&it[count], sizeof(ngx_http_douyin_item_t));
        ngx_cpystrn((u_char *) it[count].aweme_id, (u_char *) id,
                    sizeof(it[count].aweme_id));

        name = cJSON_GetObjectItemCaseSensitive(rec, "filename");

        if (cJSON_IsString(name) && name->valuestring[0] != '\0') {
            it[count].filename = strdup(name->valuestring);

        } else {
            it[count].filename = malloc(val.mv_size + sizeof(".wav"));
            if (it[count].filename != NULL) {
                ngx_sprintf((u_char *) it[count].filename, "%s.wav%Z", id);
            }
        }

        cJSON_Delete(rec);

        count++;

        if (it[count - 1].filename == NULL) {
            rc = ENOMEM;
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

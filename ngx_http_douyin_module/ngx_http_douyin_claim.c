
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: claims (thread side, but for the worker
 * registry, which runs in init_process and exit_process).
 *
 * A video is claimed, in a write transaction, before it is submitted: its
 * record becomes "processing", owned by one worker process (its pid and
 * the run id drawn at its start), so that overlapping calls, on one
 * worker or several, never submit it twice.  The claim then carries the
 * provider task id, and ends when the outcome is stored.  Just before a
 * submit is sent, the claim records its time, "submit_at" (Unix ms):
 * while it has no task id, a submit may have reached the provider, and
 * whoever holds the claim (this worker after a lost answer, or the one
 * that takes it over) settles it through the provider's task list
 * before sending again (ngx_http_douyin_dashscope_settle()); the
 * records of one submit share its submit_at, and their file_url fields
 * are the submit's file URLs.  A claim whose
 * worker is gone (no longer in the "workers" database, or no longer
 * running) is taken over by the recovery scan of another worker.  The
 * layout of the store is described in ngx_http_douyin_store.c.
 */


#include "ngx_http_douyin_module.h"


/* a value of the "workers" database */

typedef struct {
    double                      run;
    uint64_t                    start;      /* /proc start time, 0: none */
} ngx_http_douyin_worker_t;


/* what the recovery scan takes over, grown as it goes */

typedef struct {
    ngx_http_douyin_item_t     *items;
    char                      **task_ids;
    ngx_uint_t                  n;
    ngx_uint_t                  cap;
} ngx_http_douyin_taken_t;


/* changes a record whose claim is still held (claim_set_task, _finish) */
typedef ngx_int_t (*ngx_http_douyin_change_pt)(cJSON *rec, ngx_uint_t i,
    void *data);


static int ngx_http_douyin_claim_prefilter(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n);
static int ngx_http_douyin_claim_one(MDB_txn *txn,
    ngx_http_douyin_store_t *store, ngx_http_douyin_item_t *item,
    ngx_http_douyin_owner_t *owner);
static ngx_int_t ngx_http_douyin_claim_task_id(cJSON *rec, ngx_uint_t i,
    void *data);
static ngx_int_t ngx_http_douyin_claim_submit_at(cJSON *rec, ngx_uint_t i,
    void *data);
static ngx_int_t ngx_http_douyin_claim_outcome(cJSON *rec, ngx_uint_t i,
    void *data);
static int ngx_http_douyin_claim_update(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n,
    ngx_http_douyin_owner_t *owner, ngx_http_douyin_change_pt change,
    void *data);
static int ngx_http_douyin_claim_scan(MDB_txn *txn,
    ngx_http_douyin_store_t *store, ngx_http_douyin_owner_t *owner,
    ngx_uint_t limit, ngx_http_douyin_taken_t *taken);
static int ngx_http_douyin_claim_take(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *id, cJSON *rec,
    ngx_http_douyin_owner_t *owner, ngx_http_douyin_taken_t *taken);
static int ngx_http_douyin_claim_keep(ngx_http_douyin_taken_t *taken,
    const char *id, cJSON *rec);
static void ngx_http_douyin_claim_sort(ngx_http_douyin_taken_t *taken);
static int ngx_http_douyin_claim_held(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *id,
    ngx_http_douyin_owner_t *owner, cJSON **rec);
static ngx_int_t ngx_http_douyin_claim_owned(cJSON *rec,
    ngx_http_douyin_owner_t *owner);
static uint64_t ngx_http_douyin_proc_start(ngx_pid_t pid);


/*
 * ngx_http_douyin_claim: in one write transaction, claims every item
 * whose video has no record, a failed one or a pending (pushed) one, but
 * never a tombstone (deleted): its record becomes
 * "processing", owned by "owner", with file_url, filename and claimed_at
 * (other fields such as is_read and metadata are kept), and the item's
 * "claimed" flag is set.  Each item's outcome is the status it has now.
 * *claimed counts the claims.  Returns 0 or an LMDB/errno code, in which
 * case nothing changed.
 */

int
ngx_http_douyin_claim(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, ngx_uint_t *claimed,
    ngx_http_douyin_owner_t *owner)
{
    int          rc;
    MDB_txn     *txn;
    ngx_uint_t   i, count;

    rc = ngx_http_douyin_claim_prefilter(store, items, n);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    count = 0;

    for (i = 0; i < n; i++) {
        if (items[i].outcome == NGX_HTTP_DOUYIN_COMPLETED
            || items[i].outcome == NGX_HTTP_DOUYIN_PROCESSING
            || items[i].outcome == NGX_HTTP_DOUYIN_DELETED)
        {
            continue;
        }

        rc = ngx_http_douyin_claim_one(txn, store, &items[i], owner);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return rc;
        }

        count += items[i].claimed;
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
}


/*
 * First, in a read transaction, set aside what is completed or being
 * processed (a look at the stored text, no parsing), so that the write
 * transaction, which holds every writer of every worker, only parses and
 * claims the few candidates: their outcome is PENDING (no record, or
 * pushed) or FAILED; a tombstone's is DELETED.  A completed record marked
 * "metadata_missing" makes its item's meta META_MISSING.
 */

static int
ngx_http_douyin_claim_prefilter(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n)
{
    int          rc;
    u_char      *end;
    MDB_val      key, val;
    MDB_txn     *txn;
    ngx_uint_t   i;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        key.mv_data = items[i].aweme_id;
        key.mv_size = ngx_strlen(items[i].aweme_id);

        items[i].outcome = NGX_HTTP_DOUYIN_PENDING;

        rc = mdb_get(txn, store->videos, &key, &val);

        if (rc == MDB_NOTFOUND) {
            continue;
        }

        if (rc != 0) {
            mdb_txn_abort(txn);
            return rc;
        }

        end = (u_char *) val.mv_data + val.mv_size;

        if (ngx_strlcasestrn(val.mv_data, end,
                             (u_char *) "\"status\":\"completed\"",
                             sizeof("\"status\":\"completed\"") - 2)
            != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_COMPLETED;

            /* file-system-go failed to give its metadata: fetch again */

            if (ngx_strlcasestrn(val.mv_data, end,
                                 (u_char *) "\"metadata_missing\":true",
                                 sizeof("\"metadata_missing\":true") - 2)
                != NULL)
            {
                items[i].meta = NGX_HTTP_DOUYIN_META_MISSING;
            }

        } else if (ngx_strlcasestrn(val.mv_data, end,
                                    (u_char *) "\"status\":\"processing\"",
                                    sizeof("\"status\":\"processing\"") - 2)
                   != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_PROCESSING;

        } else if (ngx_strlcasestrn(val.mv_data, end,
                                    (u_char *) "\"status\":\"deleted\"",
                                    sizeof("\"status\":\"deleted\"") - 2)
                   != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_DELETED;

        } else if (ngx_strlcasestrn(val.mv_data, end,
                                    (u_char *) "\"status\":\"pending\"",
                                    sizeof("\"status\":\"pending\"") - 2)
                   != NULL)
        {
            items[i].outcome = NGX_HTTP_DOUYIN_PENDING;

        } else {
            items[i].outcome = NGX_HTTP_DOUYIN_FAILED;
        }
    }

    mdb_txn_abort(txn);

    return 0;
}


/* in the write txn: claims item unless its record is taken meanwhile */

static int
ngx_http_douyin_claim_one(MDB_txn *txn, ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *item, ngx_http_douyin_owner_t *owner)
{
    int                        rc;
    cJSON                     *rec;
    ngx_uint_t                 i;
    ngx_http_douyin_status_e   status;

    static const char  *drop[] = {
        "status", "owner", "run", "claimed_at", "file_url", "filename",
        "submit_at", NULL
    };

    static const char  *drop_failure[] = {
        "error", "message", "task_id", NULL
    };

    rc = ngx_http_douyin_store_read(txn, store, item->aweme_id, &rec);

    if (rc == MDB_NOTFOUND) {
        rec = cJSON_CreateObject();
        if (rec == NULL) {
            return ENOMEM;
        }

    } else if (rc != 0) {
        return rc;

    } else {
        status = ngx_http_douyin_status_of(rec);

        if (status == NGX_HTTP_DOUYIN_COMPLETED
            || status == NGX_HTTP_DOUYIN_PROCESSING
            || status == NGX_HTTP_DOUYIN_DELETED)
        {
            item->outcome = status;
            cJSON_Delete(rec);
            return 0;
        }

        for (i = 0; drop_failure[i] != NULL; i++) {
            cJSON_DeleteItemFromObjectCaseSensitive(rec, drop_failure[i]);
        }
    }

    item->claimed_at = time(NULL);

    for (i = 0; drop[i] != NULL; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, drop[i]);
    }

    if (cJSON_AddStringToObject(rec, "status", "processing") == NULL
        || cJSON_AddNumberToObject(rec, "owner", owner->pid) == NULL
        || cJSON_AddNumberToObject(rec, "run", owner->run) == NULL
        || cJSON_AddNumberToObject(rec, "claimed_at",
                                   (double) item->claimed_at) == NULL
        || cJSON_AddStringToObject(rec, "file_url", item->file_url) == NULL
        || cJSON_AddStringToObject(rec, "filename", item->filename) == NULL)
    {
        cJSON_Delete(rec);
        return ENOMEM;
    }

    rc = ngx_http_douyin_store_write(txn, store, item->aweme_id, rec);
    cJSON_Delete(rec);

    if (rc != 0) {
        return rc;
    }

    item->outcome = NGX_HTTP_DOUYIN_PROCESSING;
    item->claimed = 1;

    return 0;
}


/*
 * ngx_http_douyin_claim_set_task: stores task_id in the "processing"
 * records of the items that "owner" still holds, in one write
 * transaction.  Returns 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_claim_set_task(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, const char *task_id,
    ngx_http_douyin_owner_t *owner)
{
    return ngx_http_douyin_claim_update(store, items, n, owner,
                                        ngx_http_douyin_claim_task_id,
                                        (void *) task_id);
}


/*
 * ngx_http_douyin_claim_submitting: stores ms (Unix ms, now) as
 * "submit_at" in the "processing" records of the items that "owner"
 * still holds, in one write transaction, before their submit is sent:
 * from then on, until a task id is stored, a submit may have reached the
 * provider.  Returns 0 or an LMDB/errno code, in which case nothing
 * changed (and nothing is to be sent).
 */

int
ngx_http_douyin_claim_submitting(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n, uint64_t ms,
    ngx_http_douyin_owner_t *owner)
{
    return ngx_http_douyin_claim_update(store, items, n, owner,
                                        ngx_http_douyin_claim_submit_at,
                                        &ms);
}


/* sets "submit_at", *(uint64_t *) data, in a held record */

static ngx_int_t
ngx_http_douyin_claim_submit_at(cJSON *rec, ngx_uint_t i, void *data)
{
    uint64_t  *ms = data;

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "submit_at");

    /* a double holds Unix ms exactly (below 2^53) */

    if (cJSON_AddNumberToObject(rec, "submit_at", (double) *ms) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * sets the provider task id, data, in a held record; the submit has
 * answered, so there is no submit_at to settle any more
 */

static ngx_int_t
ngx_http_douyin_claim_task_id(cJSON *rec, ngx_uint_t i, void *data)
{
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "task_id");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "submit_at");

    if (cJSON_AddStringToObject(rec, "task_id", data) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_claim_finish: in one write transaction, for each item
 * with records[i] != NULL whose record "owner" still holds (a claim
 * taken over by another worker is that worker's to finish), merges
 * records[i] (status, processed_at and the transcript or the error;
 * metadata) into the stored record, drops the claim fields, and keeps
 * is_read/read_at.  Returns 0 or an LMDB/errno code, in which case
 * nothing changed.
 */

int
ngx_http_douyin_claim_finish(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, cJSON **records, ngx_uint_t n,
    ngx_http_douyin_owner_t *owner)
{
    return ngx_http_douyin_claim_update(store, items, n, owner,
                                        ngx_http_douyin_claim_outcome,
                                        records);
}


/*
 * merges the outcome ((cJSON **) data)[i] into a held record; metadata
 * the collector pushed wins over file-system-go's
 * (ngx_http_douyin_store_pushed_keeps()).  A record made a tombstone
 * meanwhile is not held (no longer "processing"): it stays a tombstone.
 */

static ngx_int_t
ngx_http_douyin_claim_outcome(cJSON *rec, ngx_uint_t i, void *data)
{
    cJSON  **records = data;

    cJSON        *field, *copy;
    const char  **d;

    static const char  *drop[] = {
        "status", "owner", "run", "claimed_at", "task_id", "submit_at",
        "error", "message",
        "text", "segments", "confidence", "audio_duration", "words",
        "language", "asr_seconds", "metadata_missing", NULL
    };

    if (records[i] == NULL) {
        return NGX_DECLINED;
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
            return NGX_ERROR;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(rec, field->string);
        cJSON_AddItemToObject(rec, field->string, copy);
    }

    return NGX_OK;
}


/*
 * in one write transaction, change(rec, i, data) for each item i whose
 * record "owner" still holds, and the record written when it says
 * NGX_OK (NGX_DECLINED: left as is, NGX_ERROR: out of memory).  Returns
 * 0 or an LMDB/errno code, in which case nothing changed.
 */

static int
ngx_http_douyin_claim_update(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, ngx_uint_t n,
    ngx_http_douyin_owner_t *owner, ngx_http_douyin_change_pt change,
    void *data)
{
    int          rc;
    cJSON       *rec;
    MDB_txn     *txn;
    ngx_int_t    ch;
    ngx_uint_t   i;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        rc = ngx_http_douyin_claim_held(txn, store, items[i].aweme_id, owner,
                                        &rec);
        if (rc != 0) {
            goto failed;
        }

        if (rec == NULL) {
            continue;
        }

        ch = change(rec, i, data);

        if (ch == NGX_OK) {
            rc = ngx_http_douyin_store_write(txn, store, items[i].aweme_id,
                                             rec);

        } else {
            rc = (ch == NGX_DECLINED) ? 0 : ENOMEM;
        }

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
 * ngx_http_douyin_claim_metadata: in one write transaction, for each item
 * i with metas[i] != NULL (the metadata file-system-go gave now: title,
 * author, description, upload_time, any of them; none when it has none)
 * whose record is still completed and marked "metadata_missing": merges
 * metas[i] into the record (metadata the collector pushed wins,
 * ngx_http_douyin_store_pushed_keeps()), drops the mark and sets the
 * item's meta to META_REPAIRED.  Nothing else of the record changes: the
 * video is not transcribed again.  Returns 0 or an LMDB/errno code, in
 * which case nothing changed.
 */

int
ngx_http_douyin_claim_metadata(ngx_http_douyin_store_t *store,
    ngx_http_douyin_item_t *items, cJSON **metas, ngx_uint_t n)
{
    int          rc;
    cJSON       *rec, *field, *copy;
    MDB_txn     *txn;
    ngx_uint_t   i;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        if (metas[i] == NULL) {
            continue;
        }

        rc = ngx_http_douyin_store_read(txn, store, items[i].aweme_id, &rec);

        if (rc == MDB_NOTFOUND) {
            continue;
        }

        if (rc != 0) {
            goto failed;
        }

        if (ngx_http_douyin_status_of(rec) != NGX_HTTP_DOUYIN_COMPLETED
            || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec,
                                                       "metadata_missing")))
        {
            cJSON_Delete(rec);
            continue;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(rec, "metadata_missing");

        cJSON_ArrayForEach(field, metas[i]) {
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

        items[i].meta = NGX_HTTP_DOUYIN_META_REPAIRED;
    }

    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        return 0;
    }

    goto undone;

failed:

    mdb_txn_abort(txn);

undone:

    for (i = 0; i < n; i++) {
        if (items[i].meta == NGX_HTTP_DOUYIN_META_REPAIRED) {
            items[i].meta = NGX_HTTP_DOUYIN_META_MISSING;
        }
    }

    return rc;
}


/*
 * ngx_http_douyin_claim_recover: in one write transaction, takes over
 * every "processing" record whose owner is gone (a worker that was
 * killed, or an nginx that was restarted), as the "workers" database and
 * the process start time tell, at most "limit" of them (the rest is for
 * a later call): its owner becomes "owner".  Returns them as *items
 * (malloc()ed array of *n, with malloc()ed file_url and filename) and
 * *task_ids (malloc()ed array of malloc()ed strings, NULL where no task
 * id was stored), sorted by task id.  Returns 0 or an LMDB/errno code
 * (nothing changed, no allocation left).
 */

int
ngx_http_douyin_claim_recover(ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t limit,
    ngx_http_douyin_item_t **items, char ***task_ids, ngx_uint_t *n)
{
    int                       rc;
    MDB_txn                  *txn;
    ngx_uint_t                i;
    ngx_http_douyin_taken_t   taken;

    *items = NULL;
    *task_ids = NULL;
    *n = 0;

    ngx_memzero(&taken, sizeof(ngx_http_douyin_taken_t));

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_claim_scan(txn, store, owner, limit, &taken);

    if (rc == 0) {
        rc = mdb_txn_commit(txn);

    } else {
        mdb_txn_abort(txn);
    }

    if (rc != 0) {
        for (i = 0; i < taken.n; i++) {
            free(taken.items[i].file_url);
            free(taken.items[i].filename);
            free(taken.task_ids[i]);
        }

        free(taken.items);
        free(taken.task_ids);

        return rc;
    }

    ngx_http_douyin_claim_sort(&taken);

    *items = taken.items;
    *task_ids = taken.task_ids;
    *n = taken.n;

    return 0;
}


/* in the recovery's txn: walks the "processing" index, takes orphans */

static int
ngx_http_douyin_claim_scan(MDB_txn *txn, ngx_http_douyin_store_t *store,
    ngx_http_douyin_owner_t *owner, ngx_uint_t limit,
    ngx_http_douyin_taken_t *taken)
{
    int          rc;
    char         id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON       *rec;
    MDB_val      key, val;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, store->processing, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
         rc == 0 && taken->n < limit;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (key.mv_size == 0 || key.mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
            continue;
        }

        ngx_memcpy(id, key.mv_data, key.mv_size);
        id[key.mv_size] = '\0';

        rc = ngx_http_douyin_store_read(txn, store, id, &rec);

        if (rc == MDB_NOTFOUND) {
            continue;
        }

        if (rc != 0) {
            break;
        }

        if (ngx_http_douyin_status_of(rec) != NGX_HTTP_DOUYIN_PROCESSING
            || ngx_http_douyin_claim_alive(txn, store, rec, owner))
        {
            cJSON_Delete(rec);
            continue;
        }

        rc = ngx_http_douyin_claim_take(txn, store, id, rec, owner, taken);
        cJSON_Delete(rec);

        if (rc != 0) {
            break;
        }

        /* the write may move the cursor's page: find the key again */

        key.mv_data = id;
        key.mv_size = ngx_strlen(id);

        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/* in the recovery's txn: keeps the orphaned record rec and owns it */

static int
ngx_http_douyin_claim_take(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *id, cJSON *rec, ngx_http_douyin_owner_t *owner,
    ngx_http_douyin_taken_t *taken)
{
    int  rc;

    rc = ngx_http_douyin_claim_keep(taken, id, rec);
    if (rc != 0) {
        return rc;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "owner");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "run");

    if (cJSON_AddNumberToObject(rec, "owner", owner->pid) == NULL
        || cJSON_AddNumberToObject(rec, "run", owner->run) == NULL)
    {
        return ENOMEM;
    }

    return ngx_http_douyin_store_write(txn, store, id, rec);
}


/* appends the video id of rec to what is taken: its item and task id */

static int
ngx_http_douyin_claim_keep(ngx_http_douyin_taken_t *taken, const char *id,
    cJSON *rec)
{
    void                    *p;
    cJSON                   *field;
    ngx_http_douyin_item_t  *it;

    if (taken->n == taken->cap) {
        taken->cap = taken->cap ? taken->cap * 2 : 16;

        p = realloc(taken->items,
                    taken->cap * sizeof(ngx_http_douyin_item_t));
        if (p == NULL) {
            return ENOMEM;
        }

        taken->items = p;

        p = realloc(taken->task_ids, taken->cap * sizeof(char *));
        if (p == NULL) {
            return ENOMEM;
        }

        taken->task_ids = p;
    }

    it = &taken->items[taken->n];

    ngx_memzero(it, sizeof(ngx_http_douyin_item_t));
    ngx_cpystrn((u_char *) it->aweme_id, (u_char *) id,
                sizeof(it->aweme_id));
    taken->task_ids[taken->n] = NULL;

    field = cJSON_GetObjectItemCaseSensitive(rec, "file_url");
    it->file_url = strdup(cJSON_IsString(field) ? field->valuestring : "");

    field = cJSON_GetObjectItemCaseSensitive(rec, "filename");
    it->filename = strdup(cJSON_IsString(field) ? field->valuestring : "");

    field = cJSON_GetObjectItemCaseSensitive(rec, "claimed_at");
    it->claimed_at = cJSON_IsNumber(field) ? (time_t) field->valuedouble
                                           : time(NULL);

    /* a submit that may have reached the provider: settled, not resent */

    field = cJSON_GetObjectItemCaseSensitive(rec, "submit_at");
    if (cJSON_IsNumber(field) && field->valuedouble > 0) {
        it->submit_ms = (uint64_t) field->valuedouble;
    }

    field = cJSON_GetObjectItemCaseSensitive(rec, "task_id");
    if (cJSON_IsString(field) && field->valuestring[0] != '\0') {
        taken->task_ids[taken->n] = strdup(field->valuestring);
    }

    /* counted now, so that a failure frees what was allocated */
    taken->n++;

    if (it->file_url == NULL || it->filename == NULL
        || (cJSON_IsString(field) && field->valuestring[0] != '\0'
            && taken->task_ids[taken->n - 1] == NULL))
    {
        return ENOMEM;
    }

    return 0;
}


/* insertion sort by task id, so that one provider task forms one batch */

static void
ngx_http_douyin_claim_sort(ngx_http_douyin_taken_t *taken)
{
    char                    *tid;
    ngx_uint_t               i, j;
    ngx_http_douyin_item_t   item;

    for (i = 1; i < taken->n; i++) {
        item = taken->items[i];
        tid = taken->task_ids[i];

        for (j = i; j > 0; j--) {
            if (tid == NULL
                || (taken->task_ids[j - 1] != NULL
                    && ngx_strcmp(taken->task_ids[j - 1], tid) <= 0))
            {
                break;
            }

            taken->items[j] = taken->items[j - 1];
            taken->task_ids[j] = taken->task_ids[j - 1];
        }

        taken->items[j] = item;
        taken->task_ids[j] = tid;
    }
}


/*
 * ngx_http_douyin_claim_alive: is the claim of rec (its "owner" pid and
 * "run" id; a video's record or a lease) held by "owner" or by a live
 * worker, in txn?  Returns 1 or 0.
 */

ngx_int_t
ngx_http_douyin_claim_alive(MDB_txn *txn,
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


/*
 * the record of id in txn while "owner" still holds its claim: 0 with
 * *rec, or with *rec = NULL when it was deleted or taken over meanwhile;
 * else an LMDB code
 */

static int
ngx_http_douyin_claim_held(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *id, ngx_http_douyin_owner_t *owner, cJSON **rec)
{
    int  rc;

    rc = ngx_http_douyin_store_read(txn, store, id, rec);

    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (!ngx_http_douyin_claim_owned(*rec, owner)) {
        cJSON_Delete(*rec);
        *rec = NULL;
    }

    return 0;
}


/* does "owner" hold the claim of this "processing" record? */

static ngx_int_t
ngx_http_douyin_claim_owned(cJSON *rec, ngx_http_douyin_owner_t *owner)
{
    cJSON  *pid, *run;

    pid = cJSON_GetObjectItemCaseSensitive(rec, "owner");
    run = cJSON_GetObjectItemCaseSensitive(rec, "run");

    return ngx_http_douyin_status_of(rec) == NGX_HTTP_DOUYIN_PROCESSING
           && cJSON_IsNumber(pid) && cJSON_IsNumber(run)
           && (ngx_pid_t) pid->valuedouble == owner->pid
           && run->valuedouble == owner->run;
}


/*
 * ngx_http_douyin_claim_register: adds (add = 1, init_process) or removes
 * (add = 0, exit_process) this worker in the "workers" database, in a
 * write transaction.  Returns 0 or an LMDB code.
 */

int
ngx_http_douyin_claim_register(ngx_http_douyin_store_t *store,
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


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the leases of scheduled jobs and the writes of
 * retention (thread side, but for ngx_http_douyin_lease_read(), a read
 * transaction that the event loop runs for /health).
 *
 * A scheduled job (ngx_http_douyin_schedule.c) has one lease in the
 * store's "meta" database, key "lease:<job>" ("lease:process",
 * "lease:retention"), a JSON object:
 *
 *   slot        Unix s of the latest scheduled occurrence taken (0: none)
 *   trigger     "schedule", "start" or "manual": why the last run ran
 *   owner, run  the worker running it (as a claim: pid and run id)
 *   started_at  Unix s
 *   ended_at    Unix s, or null while it runs
 *   ...         the run's summary, written when it ends (listed, started,
 *               completed, failed; removed, failed; error)
 *
 * Every worker of every generation (after a reload, during a binary
 * upgrade, after a restart) arms a timer for the same slot; each takes
 * the lease in a write transaction, and LMDB runs one write transaction
 * at a time across processes: the first one writes the slot and runs the
 * job, the others find the slot taken and do nothing.  A run still going
 * (ended_at null, its worker alive as the "workers" database says) makes
 * the next one skip.  The store outlives nginx, so that a restart in the
 * minute of a slot does not run it again either, which shared memory
 * (gone with the master, and a new zone for a new binary) cannot promise.
 */


#include "ngx_http_douyin_module.h"


static int ngx_http_douyin_lease_get(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *name, cJSON **rec);
static int ngx_http_douyin_lease_put(MDB_txn *txn,
    ngx_http_douyin_store_t *store, const char *name, cJSON *rec);
static cJSON *ngx_http_douyin_lease_new(time_t slot, const char *trigger,
    time_t now, ngx_http_douyin_owner_t *owner);
static ngx_int_t ngx_http_douyin_expire_due(cJSON *rec, time_t cutoff);
static int ngx_http_douyin_expire_add(MDB_txn *txn,
    ngx_http_douyin_store_t *store, MDB_val *id, time_t cutoff,
    ngx_http_douyin_item_t **items, ngx_uint_t *n, ngx_uint_t *cap);


/*
 * ngx_http_douyin_lease_take: takes the lease of the job "name" for the
 * occurrence "slot" (Unix s; 0: a run that is not scheduled, such as
 * the one at start or a manual cleanup), in one write transaction; "now"
 * is the event loop's time (Unix s; the thread's time(2) may lag it by a
 * tick at a second's boundary).
 * *result: TAKEN (run it: the lease is ours, ended_at null), DONE (this
 * slot was taken already, by another worker or generation) or BUSY (a
 * run is still going; the slot is marked taken so that the others stay
 * quiet).  Returns 0 or an LMDB/errno code (nothing changed).
 */

int
ngx_http_douyin_lease_take(ngx_http_douyin_store_t *store, const char *name,
    time_t slot, const char *trigger, time_t now,
    ngx_http_douyin_owner_t *owner, ngx_http_douyin_lease_e *result)
{
    int        rc;
    cJSON     *rec, *last, *ended;
    time_t     taken;
    MDB_txn   *txn;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_lease_get(txn, store, name, &rec);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        goto failed;
    }

    taken = 0;

    if (rec != NULL) {
        last = cJSON_GetObjectItemCaseSensitive(rec, "slot");
        ended = cJSON_GetObjectItemCaseSensitive(rec, "ended_at");

        taken = cJSON_IsNumber(last) ? (time_t) last->valuedouble : 0;

        if (slot != 0 && taken >= slot) {
            cJSON_Delete(rec);
            mdb_txn_abort(txn);
            *result = NGX_HTTP_DOUYIN_LEASE_DONE;
            return 0;
        }

        if (!cJSON_IsNumber(ended)
            && ngx_http_douyin_claim_alive(txn, store, rec, owner))
        {
            *result = NGX_HTTP_DOUYIN_LEASE_BUSY;

            if (slot == 0) {
                cJSON_Delete(rec);
                mdb_txn_abort(txn);
                return 0;
            }

            cJSON_DeleteItemFromObjectCaseSensitive(rec, "slot");

            if (cJSON_AddNumberToObject(rec, "slot", (double) slot) == NULL) {
                rc = ENOMEM;
                goto failed;
            }

            rc = ngx_http_douyin_lease_put(txn, store, name, rec);
            cJSON_Delete(rec);

            if (rc != 0) {
                mdb_txn_abort(txn);
                return rc;
            }

            return mdb_txn_commit(txn);
        }

        cJSON_Delete(rec);
    }

    rec = ngx_http_douyin_lease_new(ngx_max(slot, taken), trigger, now,
                                    owner);
    if (rec == NULL) {
        rc = ENOMEM;
        goto failed;
    }

    rc = ngx_http_douyin_lease_put(txn, store, name, rec);
    cJSON_Delete(rec);

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        return rc;
    }

    *result = NGX_HTTP_DOUYIN_LEASE_TAKEN;

    return 0;

failed:

    cJSON_Delete(rec);
    mdb_txn_abort(txn);
    return rc;
}


/* a lease taken now by "owner" */

static cJSON *
ngx_http_douyin_lease_new(time_t slot, const char *trigger, time_t now,
    ngx_http_douyin_owner_t *owner)
{
    cJSON  *rec;

    rec = cJSON_CreateObject();

    if (rec == NULL
        || cJSON_AddNumberToObject(rec, "slot", (double) slot) == NULL
        || cJSON_AddStringToObject(rec, "trigger", trigger) == NULL
        || cJSON_AddNumberToObject(rec, "owner", owner->pid) == NULL
        || cJSON_AddNumberToObject(rec, "run", owner->run) == NULL
        || cJSON_AddNumberToObject(rec, "started_at", (double) now) == NULL
        || cJSON_AddNullToObject(rec, "ended_at") == NULL)
    {
        cJSON_Delete(rec);
        return NULL;
    }

    return rec;
}


/*
 * ngx_http_douyin_lease_end: the run of "owner" has ended: ended_at
 * ("now", Unix s) and the fields of summary (an object) are stored in the
 * lease of "name", when "owner" still holds it.  Returns 0 or an
 * LMDB/errno code.
 */

int
ngx_http_douyin_lease_end(ngx_http_douyin_store_t *store, const char *name,
    time_t now, ngx_http_douyin_owner_t *owner, cJSON *summary)
{
    int        rc;
    cJSON     *rec, *pid, *run, *field, *copy;
    MDB_txn   *txn;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_lease_get(txn, store, name, &rec);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    pid = cJSON_GetObjectItemCaseSensitive(rec, "owner");
    run = cJSON_GetObjectItemCaseSensitive(rec, "run");

    if (!cJSON_IsNumber(pid) || !cJSON_IsNumber(run)
        || (ngx_pid_t) pid->valuedouble != owner->pid
        || run->valuedouble != owner->run
        || cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "ended_at")))
    {
        /* not ours any more */
        cJSON_Delete(rec);
        mdb_txn_abort(txn);
        return 0;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(rec, "ended_at");

    if (cJSON_AddNumberToObject(rec, "ended_at", (double) now) == NULL) {
        rc = ENOMEM;
        goto failed;
    }

    cJSON_ArrayForEach(field, summary) {
        copy = cJSON_Duplicate(field, 1);
        if (copy == NULL) {
            rc = ENOMEM;
            goto failed;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(rec, field->string);
        cJSON_AddItemToObject(rec, field->string, copy);
    }

    rc = ngx_http_douyin_lease_put(txn, store, name, rec);
    if (rc != 0) {
        goto failed;
    }

    cJSON_Delete(rec);

    return mdb_txn_commit(txn);

failed:

    cJSON_Delete(rec);
    mdb_txn_abort(txn);
    return rc;
}


/*
 * ngx_http_douyin_lease_read: the lease of "name" as a new cJSON object
 * (the caller deletes it), with "running" added (ended_at null and its
 * worker alive), or NULL when there is none or it cannot be read.  A
 * read transaction: event loop or thread.
 */

cJSON *
ngx_http_douyin_lease_read(ngx_http_douyin_store_t *store, const char *name)
{
    cJSON                    *rec;
    MDB_txn                  *txn;
    ngx_flag_t                running;
    ngx_http_douyin_owner_t   nobody;

    if (mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn) != 0) {
        return NULL;
    }

    rec = NULL;

    if (ngx_http_douyin_lease_get(txn, store, name, &rec) == 0) {

        /* no worker is pid 0: "alive" means another live worker's */
        nobody.pid = 0;
        nobody.run = 0;

        running = !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec,
                                                                "ended_at"))
                  && ngx_http_douyin_claim_alive(txn, store, rec, &nobody);

        cJSON_AddBoolToObject(rec, "running", running);
    }

    mdb_txn_abort(txn);

    return rec;
}


/* the lease of "name" in txn: 0 and *rec, MDB_NOTFOUND, or an LMDB code */

static int
ngx_http_douyin_lease_get(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *name, cJSON **rec)
{
    int      rc;
    u_char   kbuf[64];
    MDB_val  key, val;

    *rec = NULL;

    key.mv_data = kbuf;
    key.mv_size = ngx_snprintf(kbuf, sizeof(kbuf), "lease:%s", name) - kbuf;

    rc = mdb_get(txn, store->meta, &key, &val);
    if (rc != 0) {
        return rc;
    }

    *rec = cJSON_ParseWithLength(val.mv_data, val.mv_size);

    if (*rec == NULL || !cJSON_IsObject(*rec)) {

        /* unreadable: as if there were none, the next take rewrites it */
        cJSON_Delete(*rec);
        *rec = NULL;
        return MDB_NOTFOUND;
    }

    return 0;
}


static int
ngx_http_douyin_lease_put(MDB_txn *txn, ngx_http_douyin_store_t *store,
    const char *name, cJSON *rec)
{
    int      rc;
    char    *text;
    u_char   kbuf[64];
    MDB_val  key, val;

    text = cJSON_PrintUnformatted(rec);
    if (text == NULL) {
        return ENOMEM;
    }

    key.mv_data = kbuf;
    key.mv_size = ngx_snprintf(kbuf, sizeof(kbuf), "lease:%s", name) - kbuf;

    val.mv_data = text;
    val.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, store->meta, &key, &val, 0);
    cJSON_free(text);

    return rc;
}


/*
 * ngx_http_douyin_expire_scan: the completed videos whose processed_at is
 * before "cutoff" (Unix s), found through the "by_status" index in one
 * read transaction, as *items (malloc()ed array of *n, each with its
 * aweme_id and a malloc()ed filename).  Returns 0 or an LMDB/errno code
 * (no allocation left).
 */

int
ngx_http_douyin_expire_scan(ngx_http_douyin_store_t *store, time_t cutoff,
    ngx_http_douyin_item_t **items, ngx_uint_t *n)
{
    int           rc;
    u_char        prefix[2];
    MDB_val       key, val;
    MDB_txn      *txn;
    ngx_uint_t    r, i, cap;
    MDB_cursor   *cur;

    *items = NULL;
    *n = 0;
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

    /* the completed entries, unread then read */

    for (r = 0; r < 2 && rc == 0; r++) {
        prefix[0] = ngx_http_douyin_statuses[NGX_HTTP_DOUYIN_COMPLETED].letter;
        prefix[1] = (u_char) ('0' + r);

        key.mv_data = prefix;
        key.mv_size = 2;

        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

        while (rc == 0
               && key.mv_size >= 2
               && ngx_memcmp(key.mv_data, prefix, 2) == 0)
        {
            rc = ngx_http_douyin_expire_add(txn, store, &val, cutoff, items,
                                            n, &cap);
            if (rc != 0) {
                break;
            }

            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        }

        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    if (rc != 0) {
        for (i = 0; i < *n; i++) {
            free((*items)[i].filename);
        }

        free(*items);
        *items = NULL;
        *n = 0;
    }

    return rc;
}


/* adds the video whose aweme_id is id to *items when it is due */

static int
ngx_http_douyin_expire_add(MDB_txn *txn, ngx_http_douyin_store_t *store,
    MDB_val *id, time_t cutoff, ngx_http_douyin_item_t **items,
    ngx_uint_t *n, ngx_uint_t *cap)
{
    int     rc;
    char    aweme_id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON  *rec;

    if (id->mv_size == 0 || id->mv_size > NGX_HTTP_DOUYIN_ID_MAX) {
        return MDB_CORRUPTED;
    }

    ngx_memcpy(aweme_id, id->mv_data, id->mv_size);
    aweme_id[id->mv_size] = '\0';

    rc = ngx_http_douyin_store_read(txn, store, aweme_id, &rec);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    rc = ngx_http_douyin_expire_due(rec, cutoff)
         ? ngx_http_douyin_store_item(items, n, cap, aweme_id, rec) : 0;

    cJSON_Delete(rec);

    return rc;
}


/* is rec completed, with a processed_at before cutoff? */

static ngx_int_t
ngx_http_douyin_expire_due(cJSON *rec, time_t cutoff)
{
    cJSON  *at;

    at = cJSON_GetObjectItemCaseSensitive(rec, "processed_at");

    return ngx_http_douyin_status_of(rec) == NGX_HTTP_DOUYIN_COMPLETED
           && cJSON_IsNumber(at)
           && (time_t) at->valuedouble < cutoff;
}


/*
 * ngx_http_douyin_expire_record: drops the record of aweme_id, with its
 * index entries, in a write transaction, if it is still completed with a
 * processed_at before cutoff (it may have changed since the scan):
 * *removed says whether it was.  Returns 0 or an LMDB/errno code.
 */

int
ngx_http_douyin_expire_record(ngx_http_douyin_store_t *store,
    const char *aweme_id, time_t cutoff, ngx_uint_t *removed)
{
    int       rc;
    cJSON    *rec;
    MDB_txn  *txn;

    *removed = 0;

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_douyin_store_read(txn, store, aweme_id, &rec);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    if (!ngx_http_douyin_expire_due(rec, cutoff)) {
        cJSON_Delete(rec);
        mdb_txn_abort(txn);
        return 0;
    }

    cJSON_Delete(rec);

    rc = ngx_http_douyin_store_write(txn, store, aweme_id, NULL);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        *removed = 1;
    }

    return rc;
}

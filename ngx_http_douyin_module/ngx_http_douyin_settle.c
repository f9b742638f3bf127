
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: settling what file-system-go left unknown.
 *
 * A delete or a mark-read sent to file-system-go that got no answer (a
 * timeout, a dropped connection) may have been carried out or not: the
 * client gets 504 FILESYSTEM_OUTCOME_UNKNOWN and the record is left as
 * it was.  So that the store and file-system-go agree again without the
 * user repeating the call, the op notes it in the store (thread side):
 *
 *   "meta"  "settle:<aweme_id>" -> {"op":"delete"|"read","filename":
 *           "<file>","since":<Unix s>}, one per video (the latest call
 *           whose outcome is unknown); a later delete or read of the
 *           video that file-system-go did answer drops it.
 *
 * Worker 0 settles the notes (event loop: a cancelable timer every
 * second in ngx_http_douyin_schedule.c, which posts OP_SETTLE only when
 * ngx_http_douyin_settle_waiting() says a note exists; thread: the op,
 * ngx_http_douyin_settle_run() here, asks file-system-go, then writes):
 *  - a delete: the WAV is gone (GET /api/check/<file>, version 2: the
 *    listing with the file name as prefix) -> the tombstone the delete
 *    would have written; still there -> the record stays as it is;
 *  - a mark-read: file-system-go has a read record of the file (GET
 *    /api/read/files?filename=<file>) -> the record is marked read; none
 *    -> it stays unread.
 * "Gone" and "read" are settled at once.  Their opposites are settled
 * only once the note is NGX_HTTP_DOUYIN_SETTLE_WAIT times
 * douyin_http_timeout old: a file-system-go that is still stuck on the
 * call may carry it out late, and until then the record says what it
 * said anyway.  A listing (stats, status=pending, process) also settles
 * every delete whose WAV it no longer lists, before its figures are
 * read, so that the stats never count a deleted WAV's record as
 * completed while the listing no longer has it.
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_SETTLE_MAX       32

#define NGX_HTTP_DOUYIN_SETTLE_PREFIX    "settle:"


/* one note, as the thread reads it */

typedef struct {
    char                        aweme_id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    char                        filename[NGX_HTTP_DOUYIN_FILENAME_MAX + 1];
    ngx_uint_t                  del;            /* 1: delete, 0: read */
    time_t                      since;
} ngx_http_douyin_note_t;


static int ngx_http_douyin_settle_notes(ngx_http_douyin_store_t *store,
    ngx_http_douyin_note_t *notes, ngx_uint_t *n);
static int ngx_http_douyin_settle_drop(ngx_http_douyin_store_t *store,
    ngx_http_douyin_note_t *note);
static int ngx_http_douyin_settle_apply(ngx_http_douyin_store_t *store,
    ngx_http_douyin_note_t *note, ngx_uint_t acted, ngx_uint_t waited,
    time_t now, ngx_http_douyin_item_t *item);
static size_t ngx_http_douyin_settle_key(u_char *buf, const char *aweme_id);




/* ---- event loop ---------------------------------------------------- */


/*
 * ngx_http_douyin_settle_waiting: is a note waiting to be settled?  One
 * read transaction, which the event loop may run (the store's reads do
 * not block on writers).  Returns 1 or 0 (also when the store fails).
 */

ngx_uint_t
ngx_http_douyin_settle_waiting(ngx_http_douyin_store_t *store)
{
    int          rc;
    MDB_txn     *txn;
    MDB_val      key, val;
    ngx_uint_t   found;
    MDB_cursor  *cur;

    found = 0;

    if (mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn) != 0) {
        return 0;
    }

    if (mdb_cursor_open(txn, store->meta, &cur) == 0) {
        key.mv_data = NGX_HTTP_DOUYIN_SETTLE_PREFIX;
        key.mv_size = sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX) - 1;

        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

        found = (rc == 0
                 && key.mv_size > sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX) - 1
                 && ngx_memcmp(key.mv_data, NGX_HTTP_DOUYIN_SETTLE_PREFIX,
                               sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX) - 1)
                    == 0);

        mdb_cursor_close(cur);
    }

    mdb_txn_abort(txn);

    return found;
}



/* ---- thread side --------------------------------------------------- */


/*
 * ngx_http_douyin_settle_remember: notes, in a write transaction, that
 * the OP_DELETE or OP_READ (kind) of aweme_id on file-system-go's
 * filename has an unknown outcome, since now (Unix s).  Returns 0 or an
 * LMDB/errno code.
 */

int
ngx_http_douyin_settle_remember(ngx_http_douyin_store_t *store,
    ngx_http_douyin_op_e kind, const char *aweme_id, const char *filename,
    time_t now)
{
    int       rc;
    char     *text;
    cJSON    *note;
    u_char    kbuf[sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX)
                   + NGX_HTTP_DOUYIN_ID_MAX];
    MDB_txn  *txn;
    MDB_val   key, val;

    note = cJSON_CreateObject();

    if (note == NULL
        || cJSON_AddStringToObject(note, "op",
                                   kind == NGX_HTTP_DOUYIN_OP_DELETE
                                   ? "delete" : "read") == NULL
        || cJSON_AddStringToObject(note, "filename", filename) == NULL
        || cJSON_AddNumberToObject(note, "since", (double) now) == NULL)
    {
        cJSON_Delete(note);
        return ENOMEM;
    }

    text = cJSON_PrintUnformatted(note);
    cJSON_Delete(note);

    if (text == NULL) {
        return ENOMEM;
    }

    key.mv_data = kbuf;
    key.mv_size = ngx_http_douyin_settle_key(kbuf, aweme_id);
    val.mv_data = text;
    val.mv_size = ngx_strlen(text);

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);

    if (rc == 0) {
        rc = mdb_put(txn, store->meta, &key, &val, 0);

        if (rc == 0) {
            rc = mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    cJSON_free(text);

    return rc;
}


/*
 * ngx_http_douyin_settle_forget: drops the note of aweme_id when it is
 * one of an OP_DELETE or OP_READ (kind), as the call now made: a later
 * call that file-system-go answered says what is true now.  Returns 0
 * or an LMDB code.
 */

int
ngx_http_douyin_settle_forget(ngx_http_douyin_store_t *store,
    ngx_http_douyin_op_e kind, const char *aweme_id)
{
    int           rc;
    cJSON        *json, *op;
    u_char        kbuf[sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX)
                       + NGX_HTTP_DOUYIN_ID_MAX];
    MDB_txn      *txn;
    MDB_val       key, val;
    ngx_uint_t    same;

    key.mv_data = kbuf;
    key.mv_size = ngx_http_douyin_settle_key(kbuf, aweme_id);

    /* most calls have no note: look first, without a write transaction */

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_get(txn, store->meta, &key, &val);

    same = 0;

    if (rc == 0) {
        json = cJSON_ParseWithLength(val.mv_data, val.mv_size);
        op = cJSON_GetObjectItemCaseSensitive(json, "op");

        same = (!cJSON_IsString(op)
                || (ngx_strcmp(op->valuestring, "delete") == 0)
                   == (kind == NGX_HTTP_DOUYIN_OP_DELETE));

        cJSON_Delete(json);
    }

    mdb_txn_abort(txn);

    if (rc == MDB_NOTFOUND || (rc == 0 && !same)) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_del(txn, store->meta, &key, NULL);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


/*
 * ngx_http_douyin_settle_run: OP_SETTLE.  For each note (at most
 * NGX_HTTP_DOUYIN_SETTLE_MAX a pass), asks file-system-go and settles
 * it when the answer allows (see the top of this file);
 * op->u.settle.cutoff: the Unix s before which a note has waited long
 * enough.  op->items get the
 * notes' ids, "claimed" 1 for a delete, and "error" what was settled
 * (empty: not yet), for the event loop's log.
 */

void
ngx_http_douyin_settle_run(ngx_http_douyin_op_t *op)
{
    int                      err;
    ngx_int_t                rc;
    ngx_uint_t               i, n, yes;
    ngx_http_douyin_note_t  *notes;

    notes = malloc(NGX_HTTP_DOUYIN_SETTLE_MAX
                   * sizeof(ngx_http_douyin_note_t));
    op->items = calloc(NGX_HTTP_DOUYIN_SETTLE_MAX,
                       sizeof(ngx_http_douyin_item_t));

    if (notes == NULL || op->items == NULL) {
        free(notes);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return;
    }

    n = NGX_HTTP_DOUYIN_SETTLE_MAX;

    err = ngx_http_douyin_settle_notes(op->store, notes, &n);
    if (err != 0) {
        free(notes);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_STORE_READ);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "reading the notes failed: %s%Z", mdb_strerror(err));
        return;
    }

    for (i = 0; i < n; i++) {
        ngx_http_douyin_set(op->items[i].aweme_id,
                            sizeof(op->items[i].aweme_id), notes[i].aweme_id);
        op->items[i].claimed = notes[i].del;
        op->nitems++;

        /*
         * a note of the last second or so: file-system-go has just failed
         * to answer that very call, asking it again at once tells nothing
         */

        if (op->u.settle.now - notes[i].since < 2) {
            continue;
        }

        /* no answer: the note waits for the next pass */

        yes = 0;

        if (notes[i].del) {
            rc = ngx_http_douyin_fsgo_exists(op, notes[i].filename, &yes);
            yes = !yes;

        } else {
            rc = ngx_http_douyin_fsgo_read_state(op, notes[i].filename,
                                                 &yes);
        }

        if (rc != NGX_OK) {

            /*
             * not an error of the pass: the note waits (debug log); nor
             * are the next ones asked now, so that a file-system-go that
             * does not answer holds a thread for one douyin_http_timeout
             * a pass, not one per note
             */

            op->err = NGX_HTTP_DOUYIN_OK;
            break;
        }

        err = ngx_http_douyin_settle_apply(op->store, &notes[i], yes,
                                  notes[i].since <= op->u.settle.cutoff,
                                  op->u.settle.now, &op->items[i]);
        if (err != 0) {
            ngx_http_douyin_op_error(op, ngx_http_douyin_store_error(err));
            ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                         "settling video %s failed: %s%Z",
                         notes[i].aweme_id, mdb_strerror(err));
            break;
        }
    }

    free(notes);

    if (op->err == NGX_HTTP_DOUYIN_OK) {
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
    }
}


/*
 * ngx_http_douyin_settle_listed: after a listing (op->items, the valid
 * "<aweme_id>.wav" files listed, op->nitems of them): every delete
 * noted whose "<aweme_id>.wav" is not listed any more is settled, its
 * tombstone written.  Errors leave the notes to the settle timer.
 */

void
ngx_http_douyin_settle_listed(ngx_http_douyin_op_t *op)
{
    int                      err;
    size_t                   len;
    ngx_uint_t               i, k, n;
    ngx_http_douyin_item_t   item;
    ngx_http_douyin_note_t  *notes;

    notes = malloc(NGX_HTTP_DOUYIN_SETTLE_MAX
                   * sizeof(ngx_http_douyin_note_t));
    if (notes == NULL) {
        return;
    }

    n = NGX_HTTP_DOUYIN_SETTLE_MAX;

    err = ngx_http_douyin_settle_notes(op->store, notes, &n);
    if (err != 0) {
        free(notes);
        return;
    }

    for (i = 0; i < n; i++) {

        /* only a file the listing would show: "<aweme_id>.wav", any case */

        len = ngx_strlen(notes[i].aweme_id);

        if (!notes[i].del
            || ngx_strlen(notes[i].filename) != len + 4
            || ngx_strncmp(notes[i].filename, notes[i].aweme_id, len) != 0
            || ngx_strcasecmp((u_char *) notes[i].filename + len,
                              (u_char *) ".wav") != 0)
        {
            continue;
        }

        for (k = 0; k < op->nitems; k++) {
            if (ngx_strcmp(op->items[k].aweme_id, notes[i].aweme_id) == 0) {
                break;
            }
        }

        if (k < op->nitems) {
            continue;           /* still listed */
        }

        ngx_memzero(&item, sizeof(ngx_http_douyin_item_t));

        if (ngx_http_douyin_settle_apply(op->store, &notes[i], 1, 0,
                                         time(NULL), &item)
            != 0)
        {
            break;
        }
    }

    free(notes);
}


/*
 * settles one note: acted (the WAV is gone, the file is read) writes
 * what the call would have written (at now, Unix s), then drops the
 * note; not acted drops it once it has waited long enough (waited),
 * else leaves it.  item->error says what was done.  Returns 0, or the
 * LMDB/errno code of a store failure (the note stays).
 */

static int
ngx_http_douyin_settle_apply(ngx_http_douyin_store_t *store,
    ngx_http_douyin_note_t *note, ngx_uint_t acted, ngx_uint_t waited,
    time_t now, ngx_http_douyin_item_t *item)
{
    int          err;
    const char  *what;

    err = 0;

    if (acted && note->del) {
        err = ngx_http_douyin_store_tombstone(store, note->aweme_id,
                                              note->filename, 1, now);
        what = "file-system-go no longer has the WAV, the video is deleted";

    } else if (acted) {
        err = ngx_http_douyin_store_set_read(store, note->aweme_id, 1, now);
        if (err == MDB_NOTFOUND) {
            err = 0;
        }

        what = "file-system-go has it read, so has the record";

    } else if (waited) {
        what = note->del
               ? "file-system-go still has the WAV, the record is kept"
               : "file-system-go has no read record, the video stays "
                 "unread";

    } else {
        return 0;
    }

    if (err == 0) {
        err = ngx_http_douyin_settle_drop(store, note);
    }

    if (err == 0) {
        ngx_http_douyin_set(item->error, sizeof(item->error), what);
    }

    return err;
}


/*
 * the notes, at most *n of them, into notes[] (*n: how many); a read
 * transaction.  A note that cannot be read is skipped.  Returns 0 or an
 * LMDB code.
 */

static int
ngx_http_douyin_settle_notes(ngx_http_douyin_store_t *store,
    ngx_http_douyin_note_t *notes, ngx_uint_t *n)
{
    int                      rc;
    size_t                   plen;
    cJSON                   *note, *kind, *filename, *since;
    MDB_txn                 *txn;
    MDB_val                  key, val;
    ngx_uint_t               max;
    MDB_cursor              *cur;
    ngx_http_douyin_note_t  *nt;

    max = *n;
    *n = 0;
    plen = sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX) - 1;

    rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, store->meta, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    key.mv_data = NGX_HTTP_DOUYIN_SETTLE_PREFIX;
    key.mv_size = plen;

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (key.mv_size <= plen
            || ngx_memcmp(key.mv_data, NGX_HTTP_DOUYIN_SETTLE_PREFIX, plen)
               != 0)
        {
            break;
        }

        if (key.mv_size - plen > NGX_HTTP_DOUYIN_ID_MAX) {
            continue;
        }

        note = cJSON_ParseWithLength(val.mv_data, val.mv_size);

        kind = cJSON_GetObjectItemCaseSensitive(note, "op");
        filename = cJSON_GetObjectItemCaseSensitive(note, "filename");
        since = cJSON_GetObjectItemCaseSensitive(note, "since");

        if (cJSON_IsString(kind) && cJSON_IsString(filename)
            && cJSON_IsNumber(since)
            && ngx_strlen(filename->valuestring)
               <= NGX_HTTP_DOUYIN_FILENAME_MAX)
        {
            nt = &notes[(*n)++];

            ngx_memcpy(nt->aweme_id, (u_char *) key.mv_data + plen,
                       key.mv_size - plen);
            nt->aweme_id[key.mv_size - plen] = '\0';
            ngx_http_douyin_set(nt->filename, sizeof(nt->filename),
                                filename->valuestring);
            nt->del = (ngx_strcmp(kind->valuestring, "delete") == 0);
            nt->since = (time_t) since->valuedouble;
        }

        cJSON_Delete(note);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : rc;
}


/*
 * drops the note, in a write transaction, if it is still the one read
 * (a later call may have noted another since): 0 or an LMDB code
 */

static int
ngx_http_douyin_settle_drop(ngx_http_douyin_store_t *store,
    ngx_http_douyin_note_t *note)
{
    int       rc;
    cJSON    *json, *since;
    u_char    kbuf[sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX)
                   + NGX_HTTP_DOUYIN_ID_MAX];
    MDB_txn  *txn;
    MDB_val   key, val;

    key.mv_data = kbuf;
    key.mv_size = ngx_http_douyin_settle_key(kbuf, note->aweme_id);

    rc = mdb_txn_begin(store->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_get(txn, store->meta, &key, &val);

    if (rc == 0) {
        json = cJSON_ParseWithLength(val.mv_data, val.mv_size);
        since = cJSON_GetObjectItemCaseSensitive(json, "since");

        if (!cJSON_IsNumber(since)
            || (time_t) since->valuedouble == note->since)
        {
            rc = mdb_del(txn, store->meta, &key, NULL);
        }

        cJSON_Delete(json);
    }

    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


/* "settle:<aweme_id>" into buf; its length */

static size_t
ngx_http_douyin_settle_key(u_char *buf, const char *aweme_id)
{
    u_char  *p;

    p = ngx_cpymem(buf, NGX_HTTP_DOUYIN_SETTLE_PREFIX,
                   sizeof(NGX_HTTP_DOUYIN_SETTLE_PREFIX) - 1);
    p = ngx_cpymem(p, aweme_id,
                   ngx_min(ngx_strlen(aweme_id), NGX_HTTP_DOUYIN_ID_MAX));

    return p - buf;
}

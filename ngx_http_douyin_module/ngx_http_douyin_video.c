
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the routes of one video (event loop):
 * douyin_result ID (GET /api/result/{aweme_id}), douyin_video ID (GET and
 * DELETE /api/videos/{aweme_id}), douyin_video_delete ID (DELETE
 * /api/aweme/{aweme_id}), douyin_video_read ID (POST .../read) and
 * douyin_video_unread ID (POST .../unread), their checks of the id and
 * the record, the video's JSON object, and the thread op bound to a
 * request (read, delete, the collector's push): r->main->blocked keeps
 * the request alive while a thread has the task.  A delete writes a
 * tombstone (status "deleted"): the video is never transcribed again.
 */


#include "ngx_http_douyin_module.h"


/* the formats of the subtitle routes (ngx_http_douyin_subtitles.c) */

static ngx_str_t  ngx_http_douyin_detail_subs[] = {
    ngx_string("srt"), ngx_string("vtt"), ngx_string("txt")
};


#define NGX_HTTP_DOUYIN_READ_BODY_MAX  1024


static ngx_http_douyin_err_e ngx_http_douyin_video_load(
    ngx_http_request_t *r, char *id, cJSON **rec);
static cJSON *ngx_http_douyin_result(const char *id, cJSON *rec,
    ngx_uint_t words);
static void ngx_http_douyin_video_pending(ngx_http_request_t *r);
static ngx_int_t ngx_http_douyin_video_delete(ngx_http_request_t *r,
    char *id, cJSON *rec);
static void ngx_http_douyin_video_delete_listed(ngx_http_request_t *r);
static void ngx_http_douyin_video_read_body(ngx_http_request_t *r);
static ngx_http_douyin_err_e ngx_http_douyin_video_read_flag(
    ngx_http_request_t *r, ngx_uint_t *is_read);
static void ngx_http_douyin_video_op_done(ngx_event_t *ev);
static ngx_int_t ngx_http_douyin_video_op_respond(ngx_http_request_t *r,
    ngx_http_douyin_op_t *op);
static const char *ngx_http_douyin_video_op_error(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_video_deleted(ngx_http_request_t *r);
static void ngx_http_douyin_video_audio_url(ngx_http_douyin_main_conf_t *dmcf,
    const char *id, cJSON *rec, cJSON *item);


/*
 * ngx_http_douyin_result_handler: douyin_result ID.  GET/HEAD only.  An
 * ID that is not an aweme_id is a 400; otherwise 200 with
 * {"success":true,"data":{...}}: status pending (no record, or pushed),
 * processing, deleted (a tombstone), failed (error, message) or
 * completed (text, segments, confidence, audio_duration, and
 * title/author/description/upload_time when known); a segment has
 * speaker_id with diarization, and ?words=true gives each segment its
 * "words" (400 for another value than true or false).
 * A read transaction on the event loop.
 */

ngx_int_t
ngx_http_douyin_result_handler(ngx_http_request_t *r)
{
    int                           rc_store;
    char                          id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON                        *json, *rec;
    ngx_int_t                     rc;
    ngx_str_t                     body;
    ngx_uint_t                    words;
    ngx_http_douyin_err_e         err;
    ngx_http_douyin_main_conf_t  *dmcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin result handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    err = ngx_http_douyin_video_id(r, id);

    if (err == NGX_HTTP_DOUYIN_OK && !ngx_http_douyin_store_ready(dmcf)) {
        err = NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
    }

    if (err != NGX_HTTP_DOUYIN_OK) {
        return ngx_http_douyin_send_error(r, err);
    }

    /*
     * a stored video without ?words=true: the body its last write made,
     * copied out of the map (no parse, no print); else the record is
     * read and the body made here, as for a video without record
     */

    if (ngx_http_douyin_words_arg(r, &words) == NGX_OK && !words) {
        rc_store = ngx_http_douyin_store_result(&dmcf->runner->store, id,
                                                r->pool, &body);
        if (rc_store == 0) {
            return ngx_http_douyin_send_json(r, NGX_HTTP_OK, body.data,
                                             body.len);
        }

        if (rc_store != MDB_NOTFOUND) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "douyin: reading \"%s\" failed: %s", id,
                          mdb_strerror(rc_store));
            return ngx_http_douyin_send_error(r,
                                          NGX_HTTP_DOUYIN_ERR_STORE_READ);
        }
    }

    err = ngx_http_douyin_video_load(r, id, &rec);
    if (err != NGX_HTTP_DOUYIN_OK) {
        return ngx_http_douyin_send_error(r, err);
    }

    if (ngx_http_douyin_words_arg(r, &words) != NGX_OK) {
        cJSON_Delete(rec);
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_BAD_WORDS);
    }

    json = ngx_http_douyin_result(id, rec, words);
    cJSON_Delete(rec);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/*
 * the result object of the video id with the record rec (NULL: none);
 * words: with each segment's words; NULL when out of memory
 */

static cJSON *
ngx_http_douyin_result(const char *id, cJSON *rec, ngx_uint_t words)
{
    cJSON                     *json, *data, *field;
    ngx_uint_t                 i;
    ngx_http_douyin_status_e   status;

    static const char  *completed[] = {
        "text", "segments", "confidence", "audio_duration",
        "title", "author", "description", "upload_time", NULL
    };

    json = cJSON_CreateObject();
    cJSON_AddTrueToObject(json, "success");
    data = cJSON_AddObjectToObject(json, "data");
    cJSON_AddStringToObject(data, "aweme_id", id);

    status = ngx_http_douyin_status_of(rec);

    cJSON_AddStringToObject(data, "status",
                            (char *) ngx_http_douyin_statuses[status]
                                     .name.data);

    switch (status) {

    case NGX_HTTP_DOUYIN_PENDING:
        cJSON_AddStringToObject(data, "message",
                                "The video has not been processed yet.");
        break;

    case NGX_HTTP_DOUYIN_DELETED:
        cJSON_AddStringToObject(data, "message",
                                "The video was deleted; it will not be "
                                "transcribed again.");
        break;

    case NGX_HTTP_DOUYIN_PROCESSING:

        /*
         * a submit sent and not answered yet (submit_at, no task_id):
         * settled through the provider's task list, never resent blindly
         */

        if (cJSON_GetObjectItemCaseSensitive(rec, "submit_at") != NULL
            && cJSON_GetObjectItemCaseSensitive(rec, "task_id") == NULL)
        {
            cJSON_AddStringToObject(data, "message",
                                    "The video is being transcribed; the "
                                    "ASR provider has not answered its "
                                    "submit yet, and it is not sent again "
                                    "unless the provider's task list shows "
                                    "that it never arrived.");
            break;
        }

        cJSON_AddStringToObject(data, "message",
                                "The video is being transcribed.");
        break;

    case NGX_HTTP_DOUYIN_COMPLETED:

        for (i = 0; completed[i] != NULL; i++) {
            field = cJSON_DetachItemFromObjectCaseSensitive(rec,
                                                            completed[i]);
            if (field != NULL) {
                cJSON_AddItemToObject(data, completed[i], field);

            } else if (i < 4) {
                cJSON_AddNullToObject(data, completed[i]);
            }
        }

        if (words
            && ngx_http_douyin_add_words(
                   cJSON_GetObjectItemCaseSensitive(data, "segments"), rec)
               != NGX_OK)
        {
            cJSON_Delete(json);
            return NULL;
        }

        break;

    case NGX_HTTP_DOUYIN_FAILED:

        field = cJSON_DetachItemFromObjectCaseSensitive(rec, "error");
        if (field == NULL) {
            field = cJSON_CreateString("UNKNOWN_ERROR");
        }
        cJSON_AddItemToObject(data, "error", field);

        field = cJSON_DetachItemFromObjectCaseSensitive(rec, "message");
        if (field == NULL) {
            field = cJSON_CreateString("The transcription failed.");
        }
        cJSON_AddItemToObject(data, "message", field);

        break;
    }

    return json;
}


/*
 * ngx_http_douyin_video_texts: the JSON texts the read routes send for
 * the video id with the record rec, made by the write that stores rec
 * (thread side; ngx_http_douyin_store_write()): *data the result's "data"
 * object (without words), *item the list item, whose "audio_url" has no
 * base (the reader puts douyin_audio_base_url in front: the base may
 * change with the configuration, the record does not).  Both are
 * cJSON_free()d by the caller.  rec loses the fields the result takes.
 * Returns NGX_OK, or NGX_ERROR when out of memory (nothing to free).
 */

ngx_int_t
ngx_http_douyin_video_texts(const char *id, cJSON *rec, char **data,
    char **item)
{
    cJSON  *json;

    *data = NULL;
    *item = NULL;

    json = ngx_http_douyin_video_item(NULL, id, rec, 0);
    if (json == NULL) {
        return NGX_ERROR;
    }

    *item = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);

    json = ngx_http_douyin_result(id, rec, 0);
    if (json != NULL) {
        *data = cJSON_PrintUnformatted(
                    cJSON_GetObjectItemCaseSensitive(json, "data"));
        cJSON_Delete(json);
    }

    if (*item == NULL || *data == NULL) {
        cJSON_free(*item);
        cJSON_free(*data);
        *item = NULL;
        *data = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_video_handler: douyin_video ID; and douyin_video_delete
 * ID; (DELETE only).  GET/HEAD -> the detail object (a video without
 * record is pending when file-system-go lists it, else 404
 * VIDEO_NOT_FOUND); DELETE [?keep_file=true|false] -> a tombstone (status
 * "deleted", the transcript dropped, never transcribed again) and,
 * unless keep_file, first deletes the WAV on file-system-go (502 and
 * nothing changed when that fails).
 */

ngx_int_t
ngx_http_douyin_video_handler(ngx_http_request_t *r)
{
    char                          id[NGX_HTTP_DOUYIN_ID_MAX + 1], *p;
    cJSON                        *rec, *json;
    ngx_int_t                     rc;
    ngx_uint_t                    words;
    ngx_http_douyin_loc_conf_t   *dlcf;
    ngx_http_douyin_main_conf_t  *dmcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin video handler");

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_video_open(r, dlcf->methods, id, &rec);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_douyin_video_delete(r, id, rec);
    }

    if (ngx_http_douyin_words_arg(r, &words) != NGX_OK) {
        cJSON_Delete(rec);
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_BAD_WORDS);
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    if (rec == NULL) {

        /* not processed: pending if file-system-go lists it */

        p = ngx_pnalloc(r->pool, sizeof(id));
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(p, id, sizeof(id));
        ngx_http_set_ctx(r, p, ngx_http_douyin_module);

        return ngx_http_douyin_listing_wait(r, dmcf->runner,
                                            ngx_http_douyin_video_pending);
    }

    json = ngx_http_douyin_video_item(dmcf, id, rec, 1);

    /* billed seconds, language, subtitle links and ?words=true */

    if (ngx_http_douyin_detail_extras(r, json, rec, words) != NGX_OK) {
        cJSON_Delete(json);
        json = NULL;
    }

    cJSON_Delete(rec);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/* the detail of a video without record: pending when listed, else 404 */

static void
ngx_http_douyin_video_pending(ngx_http_request_t *r)
{
    char                         *id;
    cJSON                        *json, *rec;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    id = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    for (i = 0; i < listing->npending; i++) {
        if (ngx_strcmp(listing->pending[i], id) == 0) {

            /* NULL but for "<id>.WAV": its file name, for the audio_url */
            rec = ngx_http_douyin_listing_record(listing, i);

            json = ngx_http_douyin_video_item(dmcf, id, rec, 1);
            cJSON_Delete(rec);

            if (ngx_http_douyin_detail_extras(r, json, NULL, 0) != NGX_OK) {
                cJSON_Delete(json);
                json = NULL;
            }

            rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    rc = ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_NOT_FOUND);
    ngx_http_finalize_request(r, rc);
}


/* DELETE [?keep_file=true|false]: the delete op, or 400 / 404 */

static ngx_int_t
ngx_http_douyin_video_delete(ngx_http_request_t *r, char *id, cJSON *rec)
{
    char                         *p;
    ngx_int_t                     rc;
    ngx_str_t                     value;
    ngx_uint_t                    keep_file;
    ngx_http_douyin_main_conf_t  *dmcf;

    keep_file = 0;

    rc = ngx_http_douyin_arg(r, "keep_file", &value);

    if (rc == NGX_ERROR) {
        cJSON_Delete(rec);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {

        if (value.len == 4 && ngx_strncmp(value.data, "true", 4) == 0) {
            keep_file = 1;

        } else if (!(value.len == 5
                     && ngx_strncmp(value.data, "false", 5) == 0))
        {
            cJSON_Delete(rec);
            return ngx_http_douyin_send_error(r,
                                         NGX_HTTP_DOUYIN_ERR_BAD_KEEP_FILE);
        }
    }

    if (rec == NULL && keep_file) {

        /*
         * a listed video never processed: a tombstone keeps it from being
         * transcribed; an id nobody knows is a 404.  A file uploaded since
         * the cached listing counts: list again.
         */

        dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

        p = ngx_pnalloc(r->pool, NGX_HTTP_DOUYIN_ID_MAX + 1);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(p, id, NGX_HTTP_DOUYIN_ID_MAX + 1);
        ngx_http_set_ctx(r, p, ngx_http_douyin_module);

        return ngx_http_douyin_listing_renew(r, dmcf->runner,
                                        ngx_http_douyin_video_delete_listed);
    }

    rc = ngx_http_douyin_video_op(r, NGX_HTTP_DOUYIN_OP_DELETE, id, rec,
                                  keep_file);
    cJSON_Delete(rec);

    if (rc == NGX_DONE) {
        /* finalized when the task is done */
        r->main->count++;
    }

    return rc;
}


/* DELETE ?keep_file=true of a video without record: listed or not */

static void
ngx_http_douyin_video_delete_listed(ngx_http_request_t *r)
{
    char                         *id;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    id = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    for (i = 0; i < listing->npending; i++) {
        if (ngx_strcmp(listing->pending[i], id) == 0) {
            break;
        }
    }

    if (i == listing->npending) {
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_NOT_FOUND);
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* listing_wait() holds the reference the op's completion drops */

    rc = ngx_http_douyin_video_op(r, NGX_HTTP_DOUYIN_OP_DELETE, id, NULL, 1);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * ngx_http_douyin_video_unread_handler: douyin_video_unread ID;  POST
 * (any body is dropped) -> is_read false, read_at null: 200
 * {"success":true,"message"}; 404 VIDEO_NOT_FOUND when the store has no
 * record of the video.  For POST /api/aweme/{aweme_id}/unread.
 */

ngx_int_t
ngx_http_douyin_video_unread_handler(ngx_http_request_t *r)
{
    char       id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON     *rec;
    ngx_int_t  rc;

    rc = ngx_http_douyin_video_open(r, NGX_HTTP_POST, id, &rec);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (rec == NULL) {
        return ngx_http_douyin_send_error(r,
                                          NGX_HTTP_DOUYIN_ERR_NOT_PROCESSED);
    }

    rc = ngx_http_douyin_video_op(r, NGX_HTTP_DOUYIN_OP_READ, id, rec, 0);
    cJSON_Delete(rec);

    if (rc == NGX_DONE) {
        /* finalized when the task is done */
        r->main->count++;
    }

    return rc;
}


/*
 * ngx_http_douyin_video_read_handler: douyin_video_read ID;  POST with
 * {"is_read":true|false} (at most 1 KiB: 413 beyond; 400 when not such
 * an object) -> marks the video read (telling file-system-go first: 502
 * and nothing changed when that fails) or unread.  404 when the store
 * has no record of the video.
 */

ngx_int_t
ngx_http_douyin_video_read_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin video read handler");

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_douyin_method_not_allowed(r, NGX_HTTP_POST);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_DOUYIN_READ_BODY_MAX) {
        r->keepalive = 0;
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_TOO_LARGE);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_douyin_video_read_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_douyin_video_read_body(ngx_http_request_t *r)
{
    char                   id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON                 *rec;
    ngx_int_t              rc;
    ngx_uint_t             is_read;
    ngx_http_douyin_err_e  err;

    err = ngx_http_douyin_video_id(r, id);

    if (err == NGX_HTTP_DOUYIN_OK) {
        err = ngx_http_douyin_video_read_flag(r, &is_read);
    }

    if (err == NGX_HTTP_DOUYIN_OK) {
        err = ngx_http_douyin_video_load(r, id, &rec);
    }

    if (err == NGX_HTTP_DOUYIN_OK && rec == NULL) {
        err = NGX_HTTP_DOUYIN_ERR_NOT_PROCESSED;
    }

    if (err != NGX_HTTP_DOUYIN_OK) {
        if (err == NGX_HTTP_DOUYIN_ERR_TOO_LARGE) {
            r->keepalive = 0;
        }

        ngx_http_finalize_request(r, ngx_http_douyin_send_error(r, err));
        return;
    }

    rc = ngx_http_douyin_video_op(r, NGX_HTTP_DOUYIN_OP_READ, id, rec,
                                  is_read);
    cJSON_Delete(rec);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* the body {"is_read":true|false}, at most 1 KiB, in memory */

static ngx_http_douyin_err_e
ngx_http_douyin_video_read_flag(ngx_http_request_t *r, ngx_uint_t *is_read)
{
    u_char       *p;
    cJSON        *json, *flag, *item;
    size_t        len;
    ngx_uint_t    n;
    ngx_chain_t  *cl;

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl != NULL;
         cl = cl->next)
    {
        if (cl->buf->in_file) {
            return NGX_HTTP_DOUYIN_ERR_TOO_LARGE;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if (len > NGX_HTTP_DOUYIN_READ_BODY_MAX) {
        return NGX_HTTP_DOUYIN_ERR_TOO_LARGE;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_HTTP_DOUYIN_ERR_INTERNAL;
    }

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl != NULL;
         cl = cl->next)
    {
        /*
         * a buffer without data (the last one of a chunked body) may
         * have no memory at all: memcpy() must not get its NULL
         */

        if (cl->buf->last == cl->buf->pos) {
            continue;
        }

        len = ngx_cpymem(p + len, cl->buf->pos, cl->buf->last - cl->buf->pos)
              - p;
    }

    json = cJSON_ParseWithLength((char *) p, len);
    flag = cJSON_GetObjectItemCaseSensitive(json, "is_read");

    if (!cJSON_IsObject(json) || !cJSON_IsBool(flag)) {
        cJSON_Delete(json);
        return NGX_HTTP_DOUYIN_ERR_BAD_BODY;
    }

    /*
     * JSON leaves an object's repeated name undefined (RFC 8259, 4: "the
     * behavior of software that receives such an object is
     * unpredictable"); cJSON would take the first.  A body with
     * "is_read" twice is refused rather than guessed; other keys are
     * not read, once or twice.
     */

    n = 0;

    cJSON_ArrayForEach(item, json) {
        if (item->string != NULL && ngx_strcmp(item->string, "is_read") == 0) {
            n++;
        }
    }

    if (n > 1) {
        cJSON_Delete(json);
        return NGX_HTTP_DOUYIN_ERR_TWICE_IS_READ;
    }

    *is_read = cJSON_IsTrue(flag);
    cJSON_Delete(json);

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * ngx_http_douyin_video_id: the location's ID (douyin_result ID and the
 * like) as a NUL-terminated aweme_id (1 to 32 decimal digits) in id (33
 * bytes), or BAD_ID.
 */

ngx_http_douyin_err_e
ngx_http_douyin_video_id(ngx_http_request_t *r, char *id)
{
    size_t                       i;
    ngx_str_t                    value;
    ngx_http_douyin_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);

    if (ngx_http_complex_value(r, dlcf->id, &value) != NGX_OK) {
        return NGX_HTTP_DOUYIN_ERR_INTERNAL;
    }

    if (value.len == 0 || value.len > NGX_HTTP_DOUYIN_ID_MAX) {
        return NGX_HTTP_DOUYIN_ERR_BAD_ID;
    }

    for (i = 0; i < value.len; i++) {
        if (value.data[i] < '0' || value.data[i] > '9') {
            return NGX_HTTP_DOUYIN_ERR_BAD_ID;
        }
    }

    ngx_memcpy(id, value.data, value.len);
    id[value.len] = '\0';

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * The record of id (a new cJSON object the caller deletes), or *rec =
 * NULL when there is none.  A read transaction on the event loop.
 */

static ngx_http_douyin_err_e
ngx_http_douyin_video_load(ngx_http_request_t *r, char *id, cJSON **rec)
{
    int                           err;
    ngx_http_douyin_main_conf_t  *dmcf;

    *rec = NULL;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    if (!ngx_http_douyin_store_ready(dmcf)) {
        return NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
    }

    *rec = ngx_http_douyin_store_get(&dmcf->runner->store, id, &err);

    if (*rec == NULL && err != MDB_NOTFOUND) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: reading \"%s\" failed: %s", id,
                      mdb_strerror(err));
        return NGX_HTTP_DOUYIN_ERR_STORE_READ;
    }

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * ngx_http_douyin_video_open: the start of every handler of one video
 * without a body (result, detail, delete, subtitles): the method
 * check, the location's ID and the video's record (*rec, NULL when there
 * is none; the caller deletes it).  Returns NGX_DECLINED when the
 * handler goes on (as ngx_http_douyin_accept()); anything else is what
 * the handler returns (the 405, 400 or 503 was sent).
 */

ngx_int_t
ngx_http_douyin_video_open(ngx_http_request_t *r, ngx_uint_t methods,
    char *id, cJSON **rec)
{
    ngx_int_t              rc;
    ngx_http_douyin_err_e  err;

    *rec = NULL;

    rc = ngx_http_douyin_accept(r, methods);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    err = ngx_http_douyin_video_id(r, id);

    if (err == NGX_HTTP_DOUYIN_OK) {
        err = ngx_http_douyin_video_load(r, id, rec);
    }

    if (err != NGX_HTTP_DOUYIN_OK) {
        return ngx_http_douyin_send_error(r, err);
    }

    return NGX_DECLINED;
}


/*
 * ngx_http_douyin_video_op: posts an OP_READ, OP_DELETE or OP_PUSH thread
 * op for r on the video id whose record is rec (NULL: none; its filename
 * is the one file-system-go is called with, else the name the cached
 * listing has for it when that is not "<id>.wav", else "<id>.wav").  flag:
 * is_read (OP_READ) or keep_file (OP_DELETE); for OP_PUSH, rec is the
 * object of the fields to store, which the op takes over.  Its
 * completion finalizes r once (the caller holds a reference for it).
 * Returns NGX_DONE, or the status of an error already sent (503 when the
 * thread pool queue is full).
 */

ngx_int_t
ngx_http_douyin_video_op(ngx_http_request_t *r, ngx_http_douyin_op_e kind,
    const char *id, cJSON *rec, ngx_uint_t flag)
{
    cJSON                        *filename;
    ngx_thread_task_t            *task;
    ngx_http_douyin_op_t         *op;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_douyin_op_t));
    if (task == NULL) {
        if (kind == NGX_HTTP_DOUYIN_OP_PUSH) {
            cJSON_Delete(rec);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op = task->ctx;
    op->op = kind;
    op->conf = dmcf;
    op->store = &dmcf->runner->store;

    if (kind == NGX_HTTP_DOUYIN_OP_PUSH) {
        op->u.video.fields = rec;
        rec = NULL;

    } else if (kind == NGX_HTTP_DOUYIN_OP_READ) {
        op->u.video.is_read = flag;

    } else {
        op->u.video.keep_file = flag;

        /* DELETE ?keep_file=true of a listed video without record */
        op->u.video.create = (rec == NULL);
    }

    op->items = ngx_calloc(sizeof(ngx_http_douyin_item_t),
                           r->connection->log);
    if (op->items == NULL) {
        ngx_http_douyin_op_free(op);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->nitems = 1;

    ngx_cpystrn((u_char *) op->items[0].aweme_id, (u_char *) id,
                sizeof(op->items[0].aweme_id));

    filename = cJSON_GetObjectItemCaseSensitive(rec, "filename");

    /* a pushed audio_filename is 1..255 bytes, a plain file name */

    op->items[0].filename = ngx_alloc(NGX_HTTP_DOUYIN_FILENAME_MAX + 1,
                                      r->connection->log);
    if (op->items[0].filename == NULL) {
        ngx_http_douyin_op_free(op);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cJSON_IsString(filename) && filename->valuestring[0] != '\0'
        && ngx_strlen(filename->valuestring) <= NGX_HTTP_DOUYIN_FILENAME_MAX)
    {
        ngx_cpystrn((u_char *) op->items[0].filename,
                    (u_char *) filename->valuestring,
                    NGX_HTTP_DOUYIN_FILENAME_MAX + 1);

    } else if (rec != NULL
               || ngx_http_douyin_listing_file(&dmcf->runner->listing, id,
                                        (u_char *) op->items[0].filename)
                  != NGX_OK)
    {
        /* not listed as "<id>.WAV" (or another case) */
        ngx_sprintf((u_char *) op->items[0].filename, "%s.wav%Z", id);
    }

    task->handler = ngx_http_douyin_op_handler;
    task->event.handler = ngx_http_douyin_video_op_done;
    task->event.data = r;
    task->event.log = r->connection->log;

    if (ngx_http_douyin_task_post(dmcf->thread_pool, task) != NGX_OK) {
        ngx_http_douyin_op_free(op);
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_THREAD_POOL);
    }

    ngx_http_set_ctx(r, task, ngx_http_douyin_module);

    r->main->blocked++;
    r->aio = 1;

    return NGX_DONE;
}


/* the read, delete or push op is done: answer and finalize r */

static void
ngx_http_douyin_video_op_done(ngx_event_t *ev)
{
    ngx_http_request_t *r = ev->data;

    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_thread_task_t     *task;
    ngx_http_douyin_op_t  *op;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    task = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    op = task->ctx;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "douyin video op %ui done, rc %ui",
                   (ngx_uint_t) op->op, (ngx_uint_t) op->rc);

    r->main->blocked--;
    r->aio = 0;

    if (c->error) {

        /* terminated meanwhile: let nginx close it now that it is free */

        rc = NGX_HTTP_CLIENT_CLOSED_REQUEST;

    } else {
        rc = ngx_http_douyin_video_op_respond(r, op);
    }

    ngx_http_douyin_op_free(op);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_douyin_video_op_respond(ngx_http_request_t *r,
    ngx_http_douyin_op_t *op)
{
    u_char                     *p, msg[160];
    size_t                      len;
    ngx_http_douyin_listing_t  *listing;

    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "douyin: %s: %s",
                      op->code, op->detail);

        return ngx_http_douyin_send_error_detail(r, op->err,
                                        ngx_http_douyin_video_op_error(op));
    }

    if (op->u.video.not_found) {
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_NOT_FOUND);
    }

    if (op->op == NGX_HTTP_DOUYIN_OP_READ) {
        ngx_sprintf(msg, "Video %s marked %s.%Z", op->items[0].aweme_id,
                    op->u.video.is_read ? "read" : "unread");

    } else if (op->op == NGX_HTTP_DOUYIN_OP_PUSH) {
        if (ngx_strcmp(op->u.video.was, "pending") == 0) {
            ngx_sprintf(msg, "Video %s is pending.%Z", op->items[0].aweme_id);

        } else {
            /* never reset: the push changed nothing */
            ngx_sprintf(msg, "Video %s is already %s; nothing was "
                        "changed.%Z", op->items[0].aweme_id, op->u.video.was);
        }

        /* the video has a record: pending counts it from the store now */
        (void) ngx_http_douyin_listing_recorded(op->conf->runner,
                                                op->items[0].aweme_id, 0);

    } else {
        ngx_sprintf(msg, "Video %s deleted%s; it will not be transcribed "
                    "again.%Z", op->items[0].aweme_id,
                    op->u.video.keep_file ? ", its file was kept"
                                  : " with its file");

        /*
         * total and pending have changed: the stats that follow the answer
         * must show it, so unless the cached listing could be corrected,
         * the answer waits for a listing taken after the delete
         */

        listing = &op->conf->runner->listing;

        if (listing->fetched_at != 0
            && ngx_http_douyin_listing_recorded(op->conf->runner,
                                                op->items[0].aweme_id, 1)
               != NGX_OK)
        {
            len = ngx_strlen(msg) + 1;

            p = ngx_pnalloc(r->pool, len);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(p, msg, len);
            ngx_http_set_ctx(r, p, ngx_http_douyin_module);

            return ngx_http_douyin_listing_renew(r, op->conf->runner,
                                              ngx_http_douyin_video_deleted);
        }
    }

    return ngx_http_douyin_send_message(r, (char *) msg);
}


/* the delete's answer, once a listing taken after it is cached */

static void
ngx_http_douyin_video_deleted(ngx_http_request_t *r)
{
    ngx_int_t   rc;
    char       *msg;

    msg = ngx_http_get_module_ctx(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_send_message(r, msg);
    ngx_http_finalize_request(r, rc);
}


/*
 * the detail of a failed read or delete op when the table's would not be
 * true (NULL: the table's): file-system-go acted but the store failed,
 * or file-system-go left the outcome unknown and it could not be noted
 * to be settled
 */

static const char *
ngx_http_douyin_video_op_error(ngx_http_douyin_op_t *op)
{
    if (op->err == NGX_HTTP_DOUYIN_ERR_FS_UNKNOWN
        && op->op == NGX_HTTP_DOUYIN_OP_READ && !op->u.video.is_read)
    {
        /* an unread left unknown is not noted: settling sees only reads */
        return "file-system-go took the request but gave no answer: "
               "whether it removed the read record is not known. The "
               "record was not changed and the module does not settle an "
               "unread by itself: repeat the call (it is safe).";
    }

    if (op->err == NGX_HTTP_DOUYIN_ERR_FS_UNKNOWN && !op->u.video.settling) {
        return "file-system-go took the request but gave no answer: "
               "whether it acted is not known yet. The record was not "
               "changed, and the store failed to note the call to be "
               "settled: repeat the call (a repeated delete or mark-read "
               "is safe).";
    }

    if (!op->u.video.acted) {
        return NULL;
    }

    if (op->op == NGX_HTTP_DOUYIN_OP_DELETE) {
        return (op->err == NGX_HTTP_DOUYIN_ERR_STORE_FULL)
               ? "file-system-go has deleted the WAV, but the transcript "
                 "store is full, so the record is not a tombstone yet: "
                 "repeat the delete once the store has room (it is safe)."
               : "file-system-go has deleted the WAV, but the transcript "
                 "store failed, so the record is not a tombstone yet: "
                 "repeat the delete (it is safe).";
    }

    if (!op->u.video.is_read) {
        return (op->err == NGX_HTTP_DOUYIN_ERR_STORE_FULL)
               ? "file-system-go has removed the file's read record, but "
                 "the transcript store is full, so the record still says "
                 "read: repeat the call once the store has room (it is "
                 "safe)."
               : "file-system-go has removed the file's read record, but "
                 "the transcript store failed, so the record still says "
                 "read: repeat the call (it is safe).";
    }

    return (op->err == NGX_HTTP_DOUYIN_ERR_STORE_FULL)
           ? "file-system-go has marked the file read, but the transcript "
             "store is full, so the record still says unread: repeat the "
             "call once the store has room (it is safe)."
           : "file-system-go has marked the file read, but the transcript "
             "store failed, so the record still says unread: repeat the "
             "call (it is safe).";
}


/*
 * ngx_http_douyin_video_item: the list item of the video id with the
 * record rec (NULL: a pending video without record), a new cJSON object
 * or NULL; detail adds description and error (the detail object).
 * dmcf NULL: an audio_url without base (ngx_http_douyin_video_texts()).
 */

cJSON *
ngx_http_douyin_video_item(ngx_http_douyin_main_conf_t *dmcf, const char *id,
    cJSON *rec, ngx_uint_t detail)
{
    cJSON                     *item, *field, *tr;
    ngx_uint_t                 i;
    ngx_http_douyin_status_e   status;

    static const char  *texts[] = { "title", "author", NULL };
    static const char  *transcript[] = {
        "text", "segments", "confidence", "audio_duration", NULL
    };

    item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }

    status = ngx_http_douyin_status_of(rec);

    cJSON_AddStringToObject(item, "aweme_id", id);
    cJSON_AddStringToObject(item, "status",
                            (char *) ngx_http_douyin_statuses[status]
                                     .name.data);

    for (i = 0; texts[i] != NULL; i++) {
        field = cJSON_GetObjectItemCaseSensitive(rec, texts[i]);
        cJSON_AddItemToObject(item, texts[i],
                              cJSON_IsString(field)
                              ? cJSON_CreateString(field->valuestring)
                              : cJSON_CreateNull());
    }

    ngx_http_douyin_video_audio_url(dmcf, id, rec, item);

    if (status == NGX_HTTP_DOUYIN_COMPLETED) {
        tr = cJSON_AddObjectToObject(item, "transcript");

        for (i = 0; transcript[i] != NULL; i++) {
            field = cJSON_GetObjectItemCaseSensitive(rec, transcript[i]);
            cJSON_AddItemToObject(tr, transcript[i],
                                  field ? cJSON_Duplicate(field, 1)
                                        : cJSON_CreateNull());
        }

    } else {
        cJSON_AddNullToObject(item, "transcript");
    }

    field = cJSON_GetObjectItemCaseSensitive(rec, "processed_at");
    cJSON_AddItemToObject(item, "processed_at",
                          (cJSON_IsNumber(field)
                           && status != NGX_HTTP_DOUYIN_PROCESSING)
                          ? cJSON_CreateNumber(field->valuedouble)
                          : cJSON_CreateNull());

    field = cJSON_GetObjectItemCaseSensitive(rec, "upload_time");
    cJSON_AddItemToObject(item, "upload_time",
                          cJSON_IsString(field)
                          ? cJSON_CreateString(field->valuestring)
                          : cJSON_CreateNull());

    /* the collector-fed workflow: what the push gave, and when */

    field = cJSON_GetObjectItemCaseSensitive(rec, "video_publish_time");
    cJSON_AddItemToObject(item, "video_publish_time",
                          cJSON_IsString(field)
                          ? cJSON_CreateString(field->valuestring)
                          : cJSON_CreateNull());

    field = cJSON_GetObjectItemCaseSensitive(rec, "pending_at");
    cJSON_AddItemToObject(item, "pending_at",
                          cJSON_IsNumber(field)
                          ? cJSON_CreateNumber(field->valuedouble)
                          : cJSON_CreateNull());

    field = cJSON_GetObjectItemCaseSensitive(rec, "is_read");
    cJSON_AddBoolToObject(item, "is_read", cJSON_IsTrue(field));

    field = cJSON_GetObjectItemCaseSensitive(rec, "read_at");
    cJSON_AddItemToObject(item, "read_at",
                          cJSON_IsNumber(field)
                          ? cJSON_CreateNumber(field->valuedouble)
                          : cJSON_CreateNull());

    if (detail) {
        field = cJSON_GetObjectItemCaseSensitive(rec, "description");
        cJSON_AddItemToObject(item, "description",
                              cJSON_IsString(field)
                              ? cJSON_CreateString(field->valuestring)
                              : cJSON_CreateNull());

        field = cJSON_GetObjectItemCaseSensitive(rec, "error");
        cJSON_AddItemToObject(item, "error",
                              (cJSON_IsString(field)
                               && status == NGX_HTTP_DOUYIN_FAILED)
                              ? cJSON_CreateString(field->valuestring)
                              : cJSON_CreateNull());
    }

    return item;
}


/*
 * "audio_url": the audio base URL and the listed or pushed file name
 * (escaped: a pushed one may need it), or id.wav
 */

static void
ngx_http_douyin_video_audio_url(ngx_http_douyin_main_conf_t *dmcf,
    const char *id, cJSON *rec, cJSON *item)
{
    u_char                  *url, *p;
    size_t                   len;
    cJSON                   *field;
    ngx_http_douyin_cstr_t  *base;

    static ngx_http_douyin_cstr_t  none = { 0, NULL };

    base = dmcf ? &dmcf->audio_base_url : &none;

    field = cJSON_GetObjectItemCaseSensitive(rec, "filename");

    len = base->len + sizeof("/audio/.wav")
          + 3 * NGX_HTTP_DOUYIN_FILENAME_MAX + 1;

    /* plain malloc(): a thread makes the store's texts with this too */
    url = malloc(len);
    if (url == NULL) {
        return;
    }

    if (cJSON_IsString(field) && field->valuestring[0] != '\0'
        && ngx_strlen(field->valuestring) <= NGX_HTTP_DOUYIN_FILENAME_MAX)
    {
        p = ngx_snprintf(url, len, "%s/audio/",
                         base->data ? base->data : "");
        p = (u_char *) ngx_escape_uri(p, (u_char *) field->valuestring,
                                      ngx_strlen(field->valuestring),
                                      NGX_ESCAPE_URI_COMPONENT);
        *p = '\0';

    } else {
        ngx_snprintf(url, len, "%s/audio/%s.wav%Z",
                     base->data ? base->data : "", id);
    }

    cJSON_AddStringToObject(item, "audio_url", (char *) url);
    free(url);
}


/* ---- the detail's word timings and subtitle links ------------------ */


/*
 * ngx_http_douyin_words_arg: the query's "words": NGX_OK with *on = 1
 * for "true", 0 for "false" or none; NGX_DECLINED for anything else.
 */

ngx_int_t
ngx_http_douyin_words_arg(ngx_http_request_t *r, ngx_uint_t *on)
{
    ngx_str_t  value;

    *on = 0;

    if (ngx_http_arg(r, (u_char *) "words", 5, &value) != NGX_OK) {
        return NGX_OK;
    }

    if (value.len == 4 && ngx_strncmp(value.data, "true", 4) == 0) {
        *on = 1;
        return NGX_OK;
    }

    if (value.len == 5 && ngx_strncmp(value.data, "false", 5) == 0) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * ngx_http_douyin_add_words: gives each segment of "segments" (a copy
 * going out) its words from the record as "words":[{"start_time",
 * "end_time" (s),"text","punctuation"}], or null when the record has no
 * words (transcribed before words were kept).  Returns NGX_ERROR when
 * out of memory.
 */

ngx_int_t
ngx_http_douyin_add_words(cJSON *segments, cJSON *rec)
{
    cJSON       *seg, *stored, *list, *w, *obj, *f;
    ngx_uint_t   i;

    stored = cJSON_GetObjectItemCaseSensitive(rec, "words");
    i = 0;

    cJSON_ArrayForEach(seg, segments) {
        cJSON_DeleteItemFromObjectCaseSensitive(seg, "words");

        if (!cJSON_IsArray(stored)) {
            if (cJSON_AddNullToObject(seg, "words") == NULL) {
                return NGX_ERROR;
            }

            continue;
        }

        list = cJSON_AddArrayToObject(seg, "words");
        if (list == NULL) {
            return NGX_ERROR;
        }

        cJSON_ArrayForEach(w, cJSON_GetArrayItem(stored, i)) {
            if (!cJSON_IsNumber(cJSON_GetArrayItem(w, 0))
                || !cJSON_IsNumber(cJSON_GetArrayItem(w, 1))
                || !cJSON_IsString(cJSON_GetArrayItem(w, 2)))
            {
                continue;
            }

            obj = cJSON_CreateObject();
            if (obj == NULL || !cJSON_AddItemToArray(list, obj)) {
                cJSON_Delete(obj);
                return NGX_ERROR;
            }

            f = cJSON_GetArrayItem(w, 3);

            if (cJSON_AddNumberToObject(obj, "start_time",
                    cJSON_GetArrayItem(w, 0)->valuedouble / 1000) == NULL
                || cJSON_AddNumberToObject(obj, "end_time",
                    cJSON_GetArrayItem(w, 1)->valuedouble / 1000) == NULL
                || cJSON_AddStringToObject(obj, "text",
                    cJSON_GetArrayItem(w, 2)->valuestring) == NULL
                || cJSON_AddStringToObject(obj, "punctuation",
                    cJSON_IsString(f) ? f->valuestring : "") == NULL)
            {
                return NGX_ERROR;
            }
        }

        i++;
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_detail_extras: what the subtitles add to a detail object
 * (item) of the record rec (NULL: no record): "asr_seconds" (the seconds
 * DashScope billed, or null), "language" (or null) and "subtitles"
 * ({"srt","vtt","txt"}: the paths of the three subtitle routes next to
 * the detail's own path, whatever prefix mounts it), null unless
 * completed; with words = 1 each transcript segment gets its "words".
 */

ngx_int_t
ngx_http_douyin_detail_extras(ngx_http_request_t *r, cJSON *item,
    cJSON *rec, ngx_uint_t words)
{
    u_char      *url;
    size_t       len;
    cJSON       *field, *links, *tr;
    ngx_uint_t   i, completed;

    if (item == NULL) {
        return NGX_ERROR;
    }

    completed = (ngx_http_douyin_status_of(rec)
                 == NGX_HTTP_DOUYIN_COMPLETED);

    field = cJSON_GetObjectItemCaseSensitive(rec, "asr_seconds");
    if (cJSON_AddItemToObject(item, "asr_seconds",
                              completed && cJSON_IsNumber(field)
                              ? cJSON_CreateNumber(field->valuedouble)
                              : cJSON_CreateNull())
        == 0)
    {
        return NGX_ERROR;
    }

    field = cJSON_GetObjectItemCaseSensitive(rec, "language");
    if (cJSON_AddItemToObject(item, "language",
                              completed && cJSON_IsString(field)
                              ? cJSON_CreateString(field->valuestring)
                              : cJSON_CreateNull())
        == 0)
    {
        return NGX_ERROR;
    }

    if (!completed) {
        return cJSON_AddNullToObject(item, "subtitles") ? NGX_OK : NGX_ERROR;
    }

    links = cJSON_AddObjectToObject(item, "subtitles");
    if (links == NULL) {
        return NGX_ERROR;
    }

    len = r->uri.len;

    while (len > 0 && r->uri.data[len - 1] == '/') {
        len--;
    }

    url = ngx_pnalloc(r->pool, len + sizeof("/subtitles.xxx"));
    if (url == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        ngx_sprintf(url, "%*s/subtitles.%V%Z", len, r->uri.data,
                    &ngx_http_douyin_detail_subs[i]);

        if (cJSON_AddStringToObject(links,
                               (char *) ngx_http_douyin_detail_subs[i].data,
                               (char *) url)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (words) {
        tr = cJSON_GetObjectItemCaseSensitive(item, "transcript");

        if (ngx_http_douyin_add_words(
                cJSON_GetObjectItemCaseSensitive(tr, "segments"), rec)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the collector's routes (event loop), from the
 * replaced service's later version: its push (douyin_aweme_pending ID,
 * POST /api/aweme/{aweme_id}/pending) and its question
 * (douyin_aweme_status ID, GET /api/aweme/{aweme_id}/status).
 * process/pending is a job (ngx_http_douyin_job_start()); read, unread
 * and the tombstone delete are routes of one video
 * (ngx_http_douyin_video.c) mounted under /api/aweme/.
 *
 * The push is checked whole on the event loop and stored by a thread op
 * (ngx_http_douyin_store_push()); a bad push changes nothing.
 */


#include "ngx_http_douyin_module.h"


/* a push: the file name and some metadata (a description may be long) */
#define NGX_HTTP_DOUYIN_PUSH_BODY_MAX  (64 * 1024)


/* the push's optional text fields, stored as sent */

static const char  *ngx_http_douyin_aweme_texts[] = {
    "title", "author", "description", NULL
};


static void ngx_http_douyin_aweme_pending_body(ngx_http_request_t *r);
static ngx_http_douyin_err_e ngx_http_douyin_aweme_body(
    ngx_http_request_t *r, u_char **body, size_t *len);
static ngx_int_t ngx_http_douyin_aweme_push_fields(ngx_http_request_t *r,
    u_char *body, size_t len, cJSON **fields);
static const char *ngx_http_douyin_aweme_check(u_char *body, size_t len,
    cJSON **fields);
static const char *ngx_http_douyin_aweme_invalid(cJSON *json);
static cJSON *ngx_http_douyin_aweme_fields(cJSON *json);
static ngx_int_t ngx_http_douyin_utf8(const char *s);


/*
 * ngx_http_douyin_aweme_pending_handler: douyin_aweme_pending ID;  POST
 * {"audio_filename":"<id>.wav","title","author","description",
 * "video_publish_time"} (at most 64 KiB: 413 beyond) -> the video becomes
 * pending with that metadata and pending_at = now, unless it is
 * processing, completed or deleted (then nothing changes and the message
 * says what it is): 200 {"success":true,"message"}.  audio_filename is
 * required: 1..255 bytes, no '/', no "..", no NUL, ending in ".wav"; the
 * others are optional strings (video_publish_time an ISO 8601 string or
 * null); unknown fields are ignored; anything else is a 400
 * INVALID_BODY naming the field, and nothing is stored.
 */

ngx_int_t
ngx_http_douyin_aweme_pending_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_douyin_method_not_allowed(r, NGX_HTTP_POST);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_DOUYIN_PUSH_BODY_MAX) {
        r->keepalive = 0;
        return ngx_http_douyin_send_error(r,
                                       NGX_HTTP_DOUYIN_ERR_PUSH_TOO_LARGE);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_douyin_aweme_pending_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_douyin_aweme_pending_body(ngx_http_request_t *r)
{
    char                          id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    u_char                       *body;
    cJSON                        *fields;
    size_t                        len;
    ngx_int_t                     rc;
    ngx_http_douyin_err_e         err;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    err = ngx_http_douyin_video_id(r, id);

    if (err == NGX_HTTP_DOUYIN_OK) {
        err = ngx_http_douyin_aweme_body(r, &body, &len);
    }

    if (err == NGX_HTTP_DOUYIN_OK && !ngx_http_douyin_store_ready(dmcf)) {
        err = NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
    }

    if (err != NGX_HTTP_DOUYIN_OK) {
        if (err == NGX_HTTP_DOUYIN_ERR_PUSH_TOO_LARGE) {
            r->keepalive = 0;
        }

        ngx_http_finalize_request(r, ngx_http_douyin_send_error(r, err));
        return;
    }

    rc = ngx_http_douyin_aweme_push_fields(r, body, len, &fields);
    if (fields == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* the op takes fields over */

    rc = ngx_http_douyin_video_op(r, NGX_HTTP_DOUYIN_OP_PUSH, id, fields, 0);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * the request body, at most 64 KiB, in memory, NUL-terminated.  A body
 * beyond client_body_buffer_size (16 KiB by default) was written by nginx
 * to its temporary file: it is read back here, on the event loop, as
 * nginx itself wrote it there (at most 64 KiB, just written, so from the
 * page cache).
 */

static ngx_http_douyin_err_e
ngx_http_douyin_aweme_body(ngx_http_request_t *r, u_char **body, size_t *len)
{
    u_char       *p;
    size_t        n, size;
    ssize_t       got;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    n = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl != NULL;
         cl = cl->next)
    {
        b = cl->buf;
        n += b->in_file ? (size_t) (b->file_last - b->file_pos)
                        : (size_t) (b->last - b->pos);
    }

    if (n > NGX_HTTP_DOUYIN_PUSH_BODY_MAX) {
        return NGX_HTTP_DOUYIN_ERR_PUSH_TOO_LARGE;
    }

    p = ngx_pnalloc(r->pool, n + 1);
    if (p == NULL) {
        return NGX_HTTP_DOUYIN_ERR_INTERNAL;
    }

    n = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl != NULL;
         cl = cl->next)
    {
        b = cl->buf;

        if (!b->in_file) {
            n = ngx_cpymem(p + n, b->pos, b->last - b->pos) - p;
            continue;
        }

        size = (size_t) (b->file_last - b->file_pos);

        got = ngx_read_file(b->file, p + n, size, b->file_pos);

        if (got != (ssize_t) size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "douyin: reading the push body back from \"%V\" "
                          "failed", &b->file->name);
            return NGX_HTTP_DOUYIN_ERR_INTERNAL;
        }

        n += size;
    }

    p[n] = '\0';

    *body = p;
    *len = n;

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * The push body body/len (NUL-terminated) checked: *fields is a new
 * object of what to store (filename, and title, author, description,
 * video_publish_time when sent), or NULL when the body was refused; then
 * the return value is what the 400 (or 500) sending returned.
 */

static ngx_int_t
ngx_http_douyin_aweme_push_fields(ngx_http_request_t *r, u_char *body,
    size_t len, cJSON **fields)
{
    const char  *detail;

    detail = ngx_http_douyin_aweme_check(body, len, fields);

    if (*fields != NULL) {
        return NGX_OK;
    }

    if (detail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_douyin_send_error_detail(r, NGX_HTTP_DOUYIN_ERR_BAD_PUSH,
                                             detail);
}


/*
 * the check itself: NULL with *fields set, or the detail of the 400
 * (*fields NULL), or NULL with *fields NULL when out of memory
 */

static const char *
ngx_http_douyin_aweme_check(u_char *body, size_t len, cJSON **fields)
{
    cJSON       *json;
    const char  *detail;

    *fields = NULL;

    /*
     * cJSON ends a string at an escaped NUL ("\u0000") without saying so:
     * such a body is refused before it is parsed
     */

    if (ngx_strlcasestrn(body, body + len, (u_char *) "\\u0000",
                         sizeof("\\u0000") - 2)
        != NULL)
    {
        return "A string of the body holds a NUL (\\u0000): audio_filename "
               "and the metadata must not.";
    }

    json = cJSON_ParseWithLength((char *) body, len);

    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return "The body must be a JSON object with \"audio_filename\".";
    }

    detail = ngx_http_douyin_aweme_invalid(json);

    if (detail == NULL) {
        *fields = ngx_http_douyin_aweme_fields(json);
    }

    cJSON_Delete(json);

    return detail;
}


/* what is wrong with the push object json (the 400's detail), or NULL */

static const char *
ngx_http_douyin_aweme_invalid(cJSON *json)
{
    cJSON       *name, *field;
    size_t       n;
    ngx_uint_t   i;

    name = cJSON_GetObjectItemCaseSensitive(json, "audio_filename");

    if (!cJSON_IsString(name)) {
        return "\"audio_filename\" is required: a string, the WAV's file "
               "name.";
    }

    n = ngx_strlen(name->valuestring);

    if (n < sizeof(".wav") || n > NGX_HTTP_DOUYIN_FILENAME_MAX
        || ngx_strchr(name->valuestring, '/') != NULL
        || ngx_strstr(name->valuestring, "..") != NULL
        || ngx_strcasecmp((u_char *) name->valuestring + n - 4,
                          (u_char *) ".wav") != 0
        || !ngx_http_douyin_utf8(name->valuestring))
    {
        return "\"audio_filename\" must be a plain file name ending in "
               ".wav: 1 to 255 bytes of UTF-8, no '/', no \"..\".";
    }

    for (i = 0; ngx_http_douyin_aweme_texts[i] != NULL; i++) {
        field = cJSON_GetObjectItemCaseSensitive(json,
                                                ngx_http_douyin_aweme_texts[i]);

        if (field != NULL
            && !(cJSON_IsString(field)
                 && ngx_http_douyin_utf8(field->valuestring)))
        {
            return (i == 0 ? "\"title\" must be a string of UTF-8."
                       : i == 1 ? "\"author\" must be a string of UTF-8."
                       : "\"description\" must be a string of UTF-8.");
        }
    }

    field = cJSON_GetObjectItemCaseSensitive(json, "video_publish_time");

    if (field != NULL && !cJSON_IsNull(field)
        && !(cJSON_IsString(field)
             && ngx_http_douyin_parse_iso8601(field->valuestring)
                != (time_t) -1))
    {
        return "\"video_publish_time\" must be an ISO 8601 time "
               "(2026-02-27T12:00:00+08:00) or null.";
    }

    return NULL;
}


/*
 * what is stored of the valid push object json: the known fields only,
 * unknown ones are ignored; a new object, or NULL when out of memory
 */

static cJSON *
ngx_http_douyin_aweme_fields(cJSON *json)
{
    cJSON       *fields, *name, *field;
    ngx_uint_t   i;

    name = cJSON_GetObjectItemCaseSensitive(json, "audio_filename");

    fields = cJSON_CreateObject();

    if (fields == NULL
        || cJSON_AddStringToObject(fields, "filename", name->valuestring)
           == NULL)
    {
        goto nomem;
    }

    for (i = 0; ngx_http_douyin_aweme_texts[i] != NULL; i++) {
        field = cJSON_GetObjectItemCaseSensitive(json,
                                                ngx_http_douyin_aweme_texts[i]);

        if (field != NULL
            && cJSON_AddStringToObject(fields, ngx_http_douyin_aweme_texts[i],
                                       field->valuestring)
               == NULL)
        {
            goto nomem;
        }
    }

    field = cJSON_GetObjectItemCaseSensitive(json, "video_publish_time");

    if (field != NULL
        && (cJSON_IsString(field)
            ? cJSON_AddStringToObject(fields, "video_publish_time",
                                      field->valuestring)
            : cJSON_AddNullToObject(fields, "video_publish_time"))
           == NULL)
    {
        goto nomem;
    }

    return fields;

nomem:

    cJSON_Delete(fields);

    return NULL;
}


/* is s valid UTF-8 (what every JSON body the module sends must be)? */

static ngx_int_t
ngx_http_douyin_utf8(const char *s)
{
    u_char  *p, *last;

    p = (u_char *) s;
    last = p + ngx_strlen(s);

    while (p < last) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            return 0;
        }
    }

    return 1;
}


/*
 * ngx_http_douyin_aweme_status_handler: douyin_aweme_status ID;  GET ->
 * {"known":false,"status":null,"audio_filename":null} when the store has
 * no record of the video, else {"known":true,"status":"<status>",
 * "audio_filename":"<file>"} (the pushed or listed file name, else
 * "<id>.wav").  A read transaction; file-system-go is not asked.
 */

ngx_int_t
ngx_http_douyin_aweme_status_handler(ngx_http_request_t *r)
{
    u_char     name[NGX_HTTP_DOUYIN_ID_MAX + sizeof(".wav")];
    char       id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON     *rec, *json, *status, *file;
    ngx_int_t  rc;

    rc = ngx_http_douyin_video_open(r, NGX_HTTP_GET|NGX_HTTP_HEAD, id, &rec);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    json = cJSON_CreateObject();
    if (json == NULL) {
        cJSON_Delete(rec);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rec == NULL) {
        cJSON_AddFalseToObject(json, "known");
        cJSON_AddNullToObject(json, "status");
        cJSON_AddNullToObject(json, "audio_filename");

        return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    }

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");
    file = cJSON_GetObjectItemCaseSensitive(rec, "filename");

    ngx_sprintf(name, "%s.wav%Z", id);

    cJSON_AddTrueToObject(json, "known");
    cJSON_AddStringToObject(json, "status", cJSON_IsString(status)
                                            ? status->valuestring
                                            : "pending");
    cJSON_AddStringToObject(json, "audio_filename",
                            (cJSON_IsString(file) && file->valuestring[0])
                            ? file->valuestring : (char *) name);

    cJSON_Delete(rec);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/*
 * ngx_http_douyin_module: HTTP handlers and JSON responses.
 *
 * Everything here runs on the event loop.  Bodies follow
 * ../shared/spec/api.md: application/json; charset=utf-8, errors as
 * {"success":false,"error":"<CODE>","detail":"<sentence>"}.
 */


#include "ngx_http_douyin_module.h"


static ngx_str_t  ngx_http_douyin_json_type =
    ngx_string("application/json; charset=utf-8");


/*
 * ngx_http_douyin_send_json: sends "status" with the JSON text data/len
 * (already in r->pool or static) as the whole response and returns what
 * ngx_http_output_filter() returns (or the header filter's error).  HEAD
 * gets the headers only.
 */

ngx_int_t
ngx_http_douyin_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_douyin_json_type;
    r->headers_out.content_type_len = ngx_http_douyin_json_type.len;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = (len > 0);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * ngx_http_douyin_send_cjson: prints "json" (unformatted, UTF-8 kept as
 * is), deletes it, and sends it with "status".  Returns NGX_ERROR when
 * printing or copying fails.
 */

ngx_int_t
ngx_http_douyin_send_cjson(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *json)
{
    char    *text;
    size_t   len;
    u_char  *p;

    if (json == NULL) {
        return NGX_ERROR;
    }

    text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);

    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        cJSON_free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(p, text, len);
    cJSON_free(text);

    return ngx_http_douyin_send_json(r, status, p, len);
}


/*
 * ngx_http_douyin_send_error: sends the api.md error body
 * {"success":false,"error":code,"detail":detail} with "status" (4xx/5xx).
 */

ngx_int_t
ngx_http_douyin_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail)
{
    cJSON  *json;

    json = cJSON_CreateObject();
    if (json == NULL) {
        return NGX_ERROR;
    }

    if (cJSON_AddFalseToObject(json, "success") == NULL
        || cJSON_AddStringToObject(json, "error", code) == NULL
        || cJSON_AddStringToObject(json, "detail", detail) == NULL)
    {
        cJSON_Delete(json);
        return NGX_ERROR;
    }

    return ngx_http_douyin_send_cjson(r, status, json);
}


/*
 * ngx_http_douyin_method_not_allowed: answers 405 with an Allow header
 * naming the methods in "allowed" (a mask of NGX_HTTP_GET, NGX_HTTP_HEAD,
 * NGX_HTTP_POST, NGX_HTTP_DELETE) and the METHOD_NOT_ALLOWED JSON error.
 */

ngx_int_t
ngx_http_douyin_method_not_allowed(ngx_http_request_t *r, ngx_uint_t allowed)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    static u_char     buf[sizeof("GET, HEAD, POST, DELETE, ")];

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    p = buf;

    if (allowed & NGX_HTTP_GET) {
        p = ngx_cpymem(p, "GET, ", 5);
    }

    if (allowed & NGX_HTTP_HEAD) {
        p = ngx_cpymem(p, "HEAD, ", 6);
    }

    if (allowed & NGX_HTTP_POST) {
        p = ngx_cpymem(p, "POST, ", 6);
    }

    if (allowed & NGX_HTTP_DELETE) {
        p = ngx_cpymem(p, "DELETE, ", 8);
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = buf;
    h->value.len = (p > buf) ? (size_t) (p - buf - 2) : 0;

    return ngx_http_douyin_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                      "METHOD_NOT_ALLOWED",
                                      "This method is not allowed here.");
}


/*
 * ngx_http_douyin_accept: the method check and body discard every
 * handler without a body starts with.  methods is a mask of
 * NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_POST, NGX_HTTP_DELETE.  Returns
 * NGX_DECLINED when the handler goes on; anything else is what the
 * handler returns (the 405 was sent, or discarding failed).
 */

ngx_int_t
ngx_http_douyin_accept(ngx_http_request_t *r, ngx_uint_t methods)
{
    ngx_int_t  rc;

    if (!(r->method & methods)) {
        return ngx_http_douyin_method_not_allowed(r, methods);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return NGX_DECLINED;
}


/*
 * ngx_http_douyin_health_handler: the douyin_health location handler.
 * GET/HEAD -> 200 {"status":"healthy","version":"X.Y.Z",
 * "processor_ready":true}; other methods -> 405.
 */

ngx_int_t
ngx_http_douyin_health_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    static u_char  body[] = "{\"status\":\"healthy\",\"version\":\""
                            NGX_HTTP_DOUYIN_VERSION
                            "\",\"processor_ready\":true}";

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_douyin_send_json(r, NGX_HTTP_OK, body, sizeof(body) - 1);
}


/*
 * ngx_http_douyin_process_handler: douyin_process, douyin_process_async
 * and douyin_process_pending.  POST only (405 otherwise); any body is
 * read and dropped.  Starts a job (ngx_http_douyin_job_start()).
 */

ngx_int_t
ngx_http_douyin_process_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_douyin_loc_conf_t   *dlcf;
    ngx_http_douyin_main_conf_t  *dmcf;

    rc = ngx_http_douyin_accept(r, NGX_HTTP_POST);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    return ngx_http_douyin_job_start(r, dmcf, dlcf->async, dlcf->pending);
}


/*
 * ngx_http_douyin_valid_id: is id an aweme_id (1 to 32 decimal digits,
 * api.md "Identifiers")?
 */

ngx_int_t
ngx_http_douyin_valid_id(ngx_str_t *id)
{
    size_t  i;

    if (id->len == 0 || id->len > NGX_HTTP_DOUYIN_ID_MAX) {
        return 0;
    }

    for (i = 0; i < id->len; i++) {
        if (id->data[i] < '0' || id->data[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/*
 * ngx_http_douyin_result_handler: douyin_result ID.  GET/HEAD only.  An
 * ID that is not an aweme_id is a 400; otherwise 200 with
 * {"success":true,"data":{...}}: status pending (no record, or pushed),
 * processing, deleted (a tombstone: message), failed (error, message) or
 * completed (text, segments, confidence,
 * audio_duration, and title/author/description/upload_time when known),
 * as api.md "Result object" says.  A read transaction on the event loop.
 */

ngx_int_t
ngx_http_douyin_result_handler(ngx_http_request_t *r)
{
    char                          id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON                        *json, *data, *rec, *status, *field;
    ngx_int_t                     rc;
    ngx_uint_t                    i;

    static const char  *completed[] = {
        "text", "segments", "confidence", "audio_duration",
        "title", "author", "description", "upload_time", NULL
    };

    rc = ngx_http_douyin_open_video(r, NGX_HTTP_GET|NGX_HTTP_HEAD, id, &rec);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    json = cJSON_CreateObject();
    cJSON_AddTrueToObject(json, "success");
    data = cJSON_AddObjectToObject(json, "data");
    cJSON_AddStringToObject(data, "aweme_id", id);

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");

    if (!cJSON_IsString(status)
        || ngx_strcmp(status->valuestring, "pending") == 0)
    {
        cJSON_AddStringToObject(data, "status", "pending");
        cJSON_AddStringToObject(data, "message",
                                "The video has not been processed yet.");

    } else if (ngx_strcmp(status->valuestring, "deleted") == 0) {
        cJSON_AddStringToObject(data, "status", "deleted");
        cJSON_AddStringToObject(data, "message",
                                "The video was deleted; it will not be "
                                "transcribed again.");

    } else if (ngx_strcmp(status->valuestring, "completed") == 0) {
        cJSON_AddStringToObject(data, "status", "completed");

        for (i = 0; completed[i] != NULL; i++) {
            field = cJSON_DetachItemFromObjectCaseSensitive(rec,
                                                            completed[i]);
            if (field != NULL) {
                cJSON_AddItemToObject(data, completed[i], field);

            } else if (i < 4) {
                cJSON_AddNullToObject(data, completed[i]);
            }
        }

    } else if (ngx_strcmp(status->valuestring, "failed") == 0) {
        cJSON_AddStringToObject(data, "status", "failed");

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

    } else {
        cJSON_AddStringToObject(data, "status", "processing");
        cJSON_AddStringToObject(data, "message",
                                "The video is being transcribed.");
    }

    cJSON_Delete(rec);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/*
 * ngx_http_douyin_get_id: the location's ID (douyin_result ID and the
 * like) as a NUL-terminated aweme_id in id (33 bytes): NGX_OK,
 * NGX_DECLINED when it is not an aweme_id, or
 * NGX_HTTP_INTERNAL_SERVER_ERROR.
 */

ngx_int_t
ngx_http_douyin_get_id(ngx_http_request_t *r, char *id)
{
    ngx_str_t                    value;
    ngx_http_douyin_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);

    if (ngx_http_complex_value(r, dlcf->id, &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_douyin_valid_id(&value)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(id, value.data, value.len);
    id[value.len] = '\0';

    return NGX_OK;
}


/* ngx_http_douyin_ready: NGX_OK when the store is open, else NGX_DECLINED */

ngx_int_t
ngx_http_douyin_ready(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf)
{
    if (dmcf->runner == NULL || !dmcf->runner->store_ok) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_load: the record of id (a new cJSON object the caller
 * deletes), or *rec = NULL when there is none: NGX_OK.  NGX_DECLINED
 * with *what = NGX_HTTP_DOUYIN_STORE_CLOSED or _STORE_ERROR (logged)
 * when it cannot be read.  A read transaction on the event loop.
 */

ngx_int_t
ngx_http_douyin_load(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, char *id, cJSON **rec,
    ngx_uint_t *what)
{
    int  err;

    *rec = NULL;

    if (ngx_http_douyin_ready(r, dmcf) != NGX_OK) {
        *what = NGX_HTTP_DOUYIN_STORE_CLOSED;
        return NGX_DECLINED;
    }

    *rec = ngx_http_douyin_store_get(&dmcf->runner->store, id, &err);

    if (*rec == NULL && err != MDB_NOTFOUND) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: reading \"%s\" failed: %s", id,
                      ngx_http_douyin_store_strerror(err));
        *what = NGX_HTTP_DOUYIN_STORE_ERROR;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_refuse: NGX_DECLINED from a check becomes its error,
 * sent: what is NGX_HTTP_DOUYIN_BAD_ID (400 INVALID_AWEME_ID),
 * _STORE_CLOSED (503 STORE_UNAVAILABLE), _STORE_ERROR (503 STORE_ERROR)
 * or _BAD_QUERY (400 INVALID_QUERY); any other rc is returned as is.
 */

ngx_int_t
ngx_http_douyin_refuse(ngx_http_request_t *r, ngx_int_t rc, ngx_uint_t what)
{
    if (rc != NGX_DECLINED) {
        return rc;
    }

    switch (what) {

    case NGX_HTTP_DOUYIN_BAD_ID:
        return ngx_http_douyin_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "INVALID_AWEME_ID",
                                          "An aweme_id is 1 to 32 decimal "
                                          "digits.");

    case NGX_HTTP_DOUYIN_STORE_CLOSED:
        return ngx_http_douyin_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "STORE_UNAVAILABLE",
                                          "The transcript store could not "
                                          "be opened; see the error log.");

    case NGX_HTTP_DOUYIN_STORE_ERROR:
        return ngx_http_douyin_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "STORE_ERROR",
                                          "The transcript store could not "
                                          "be read.");

    default:
        return ngx_http_douyin_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "INVALID_QUERY",
                                          "page >= 1, page_size 1..1000, "
                                          "status pending|processing|"
                                          "completed|failed|unread|read|"
                                          "deleted and is_read true|false "
                                          "are expected.");
    }
}


/*
 * ngx_http_douyin_open_video: the start of every handler of one video:
 * the method check (ngx_http_douyin_accept()), the location's ID and the
 * video's record (*rec, NULL when there is none; the caller deletes it).
 * Returns NGX_DECLINED when the handler goes on; anything else is what
 * the handler returns (the 405, 400 or 503 was sent).
 */

ngx_int_t
ngx_http_douyin_open_video(ngx_http_request_t *r, ngx_uint_t methods,
    char *id, cJSON **rec)
{
    ngx_int_t                     rc;
    ngx_uint_t                    what;
    ngx_http_douyin_main_conf_t  *dmcf;

    *rec = NULL;

    rc = ngx_http_douyin_accept(r, methods);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_douyin_get_id(r, id);
    if (rc != NGX_OK) {
        return ngx_http_douyin_refuse(r, rc, NGX_HTTP_DOUYIN_BAD_ID);
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_load(r, dmcf, id, rec, &what);
    if (rc != NGX_OK) {
        return ngx_http_douyin_refuse(r, rc, what);
    }

    return NGX_DECLINED;
}

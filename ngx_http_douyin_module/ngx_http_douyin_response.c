
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: responses (event loop).
 *
 * Every body is application/json; charset=utf-8 (the API documentation
 * in docs/ is the contract), errors are
 * {"success":false,"error":"<CODE>","detail":"<sentence>"} and come from
 * one table, ngx_http_douyin_errors[], indexed by ngx_http_douyin_err_e.
 */


#include "ngx_http_douyin_module.h"


static ngx_int_t ngx_http_douyin_send_body(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len);


static ngx_str_t  ngx_http_douyin_json_type =
    ngx_string("application/json; charset=utf-8");


#define ngx_http_douyin_error(status, code, detail)                          \
    { status, code, detail }

#define NGX_HTTP_DOUYIN_STORE_FAILED                                         \
    "The transcript store failed; nothing was changed."
#define NGX_HTTP_DOUYIN_FSGO_FAILED                                          \
    "file-system-go answered badly or not at all; nothing was changed."


/* indexed by ngx_http_douyin_err_e: keep the order of the enum */

const ngx_http_douyin_error_t  ngx_http_douyin_errors[] = {

    /* NGX_HTTP_DOUYIN_OK */
    ngx_http_douyin_error(NGX_HTTP_OK, "OK", ""),

    /* NGX_HTTP_DOUYIN_ERR_BAD_ID */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_AWEME_ID",
                          "An aweme_id is 1 to 32 decimal digits."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_PAGE */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "page must be a whole number from 1 to "
                          "1000000."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_PAGE_SIZE */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "page_size must be a whole number from 1 to "
                          "1000."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_STATUS */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "status must be pending, processing, completed, "
                          "failed, unread, read or deleted."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_IS_READ */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "is_read must be true or false."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_KEEP_FILE */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "keep_file must be true or false."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_BODY */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_BODY",
                          "The body must be a JSON object with a boolean "
                          "\"is_read\"."),

    /* NGX_HTTP_DOUYIN_ERR_TWICE_IS_READ */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_BODY",
                          "The body has \"is_read\" more than once; give "
                          "it once."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_PUSH: sent with a detail naming the field */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_BODY",
                          "The body must be a JSON object with "
                          "\"audio_filename\"."),

    /* NGX_HTTP_DOUYIN_ERR_NOT_FOUND */
    ngx_http_douyin_error(NGX_HTTP_NOT_FOUND, "VIDEO_NOT_FOUND",
                          "No video has this aweme_id."),

    /* NGX_HTTP_DOUYIN_ERR_NOT_PROCESSED */
    ngx_http_douyin_error(NGX_HTTP_NOT_FOUND, "VIDEO_NOT_FOUND",
                          "No processed video has this aweme_id."),

    /* NGX_HTTP_DOUYIN_ERR_NOT_ALLOWED */
    ngx_http_douyin_error(NGX_HTTP_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                          "This method is not allowed here."),

    /* NGX_HTTP_DOUYIN_ERR_TOO_LARGE */
    ngx_http_douyin_error(NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                          "BODY_TOO_LARGE",
                          "The body must be at most 1024 bytes."),

    /* NGX_HTTP_DOUYIN_ERR_PUSH_TOO_LARGE */
    ngx_http_douyin_error(NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                          "BODY_TOO_LARGE",
                          "The body must be at most 65536 bytes."),

    /* NGX_HTTP_DOUYIN_ERR_LISTING */
    ngx_http_douyin_error(NGX_HTTP_BAD_GATEWAY, "FILESYSTEM_UNAVAILABLE",
                          "file-system-go could not be listed."),

    /* NGX_HTTP_DOUYIN_ERR_FS_UNAVAILABLE */
    ngx_http_douyin_error(NGX_HTTP_BAD_GATEWAY, "FILESYSTEM_UNAVAILABLE",
                          NGX_HTTP_DOUYIN_FSGO_FAILED),

    /* NGX_HTTP_DOUYIN_ERR_FS_BAD_RESPONSE */
    ngx_http_douyin_error(NGX_HTTP_BAD_GATEWAY, "FILESYSTEM_BAD_RESPONSE",
                          NGX_HTTP_DOUYIN_FSGO_FAILED),

    /*
     * NGX_HTTP_DOUYIN_ERR_FS_UNKNOWN: the request reached file-system-go
     * but no answer came back (a timeout, a dropped connection), so it may
     * have acted: never "nothing was changed" here
     */
    ngx_http_douyin_error(NGX_HTTP_GATEWAY_TIME_OUT,
                          "FILESYSTEM_OUTCOME_UNKNOWN",
                          "file-system-go took the request but gave no "
                          "answer: whether it acted is not known yet. The "
                          "record was not changed; the module asks "
                          "file-system-go again by itself and settles the "
                          "record to what it finds (repeating the call is "
                          "safe too)."),

    /* NGX_HTTP_DOUYIN_ERR_STORE_CLOSED */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "STORE_UNAVAILABLE",
                          "The transcript store could not be opened; see "
                          "the error log."),

    /* NGX_HTTP_DOUYIN_ERR_STORE_READ */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "STORE_ERROR",
                          "The transcript store could not be read."),

    /* NGX_HTTP_DOUYIN_ERR_STORE */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "STORE_ERROR",
                          NGX_HTTP_DOUYIN_STORE_FAILED),

    /* NGX_HTTP_DOUYIN_ERR_STORE_FULL: the map (map_size=) or the disk */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "STORE_FULL",
                          "The transcript store is full (its map_size= or "
                          "its disk); nothing was changed."),

    /* NGX_HTTP_DOUYIN_ERR_NO_MEMORY */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "OUT_OF_MEMORY",
                          "The server ran out of memory for this request; "
                          "nothing was changed. Try again later."),

    /* NGX_HTTP_DOUYIN_ERR_KEY_MISSING */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "ASR_KEY_MISSING",
                          "The ASR key is not set in the environment of "
                          "nginx."),

    /* NGX_HTTP_DOUYIN_ERR_THREAD_POOL */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE,
                          "THREAD_POOL_UNAVAILABLE",
                          "The thread pool queue is full; try again later."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_LIMIT */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "limit must be a whole number from 1 to 200."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_INCLUDE_READ */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "include_read must be true or false."),

    /* NGX_HTTP_DOUYIN_ERR_TOKEN */
    ngx_http_douyin_error(NGX_HTTP_UNAUTHORIZED, "INVALID_TOKEN",
                          "The feed needs ?token= with the feed's token."),

    /* NGX_HTTP_DOUYIN_ERR_TOKEN_MISSING */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "RSS_TOKEN_MISSING",
                          "No feed token is configured on the server; see "
                          "douyin_rss_token_env."),

    /* NGX_HTTP_DOUYIN_ERR_FEED_URL_MISSING */
    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE, "RSS_NOT_CONFIGURED",
                          "The feed's public URL is not configured on the "
                          "server; see douyin_public_url."),
    /* NGX_HTTP_DOUYIN_ERR_BAD_FORMAT */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_FORMAT",
                          "Subtitles are served as srt, vtt or txt."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_MAX_CHARS */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "max_chars must be an integer from 8 to 200."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_WORDS */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "words must be true or false."),

    /* NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_PENDING */
    ngx_http_douyin_error(NGX_HTTP_NOT_FOUND, "VIDEO_NOT_COMPLETED",
                          "The video is pending: subtitles exist once it is "
                          "completed."),

    /* NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_PROCESSING */
    ngx_http_douyin_error(NGX_HTTP_NOT_FOUND, "VIDEO_NOT_COMPLETED",
                          "The video is processing: subtitles exist once it "
                          "is completed."),

    /* NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_FAILED */
    ngx_http_douyin_error(NGX_HTTP_NOT_FOUND, "VIDEO_NOT_COMPLETED",
                          "The video is failed: subtitles exist once it is "
                          "completed."),

    /* NGX_HTTP_DOUYIN_ERR_BAD_DAYS */
    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "INVALID_QUERY",
                          "days must be a whole number from 1 to 36500."),

    /* NGX_HTTP_DOUYIN_ERR_CLEANUP_BUSY */
    ngx_http_douyin_error(NGX_HTTP_CONFLICT, "CLEANUP_RUNNING",
                          "A cleanup is already running; try again when it "
                          "has ended."),

    /* NGX_HTTP_DOUYIN_ERR_INTERNAL */
    ngx_http_douyin_error(NGX_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL)
};




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
    return ngx_http_douyin_send_body(r, status, &ngx_http_douyin_json_type,
                                     data, len);
}


/* the whole response: status, Content-Type "type", the body data/len */

static ngx_int_t
ngx_http_douyin_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
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
 * ngx_http_douyin_send_error: sends the error body of err (its status,
 * code and detail from ngx_http_douyin_errors[]), or returns the status
 * for nginx to answer when the table has no body for it.
 */

ngx_int_t
ngx_http_douyin_send_error(ngx_http_request_t *r, ngx_http_douyin_err_e err)
{
    return ngx_http_douyin_send_error_detail(r, err, NULL);
}


/*
 * ngx_http_douyin_send_error_detail: as ngx_http_douyin_send_error(),
 * with detail instead of the table's (NULL: the table's), for an error
 * whose sentence names what was wrong (the field of a push).
 */

ngx_int_t
ngx_http_douyin_send_error_detail(ngx_http_request_t *r,
    ngx_http_douyin_err_e err, const char *detail)
{
    cJSON                          *json;
    const ngx_http_douyin_error_t  *e;

    e = &ngx_http_douyin_errors[err];

    if (e->code == NULL) {
        return e->status;
    }

    json = cJSON_CreateObject();
    if (json == NULL) {
        return NGX_ERROR;
    }

    if (cJSON_AddFalseToObject(json, "success") == NULL
        || cJSON_AddStringToObject(json, "error", e->code) == NULL
        || cJSON_AddStringToObject(json, "detail",
                                   detail ? detail : e->detail) == NULL)
    {
        cJSON_Delete(json);
        return NGX_ERROR;
    }

    return ngx_http_douyin_send_cjson(r, e->status, json);
}


/* ngx_http_douyin_send_message: 200 {"success":true,"message":message} */

ngx_int_t
ngx_http_douyin_send_message(ngx_http_request_t *r, const char *message)
{
    cJSON  *json;

    json = cJSON_CreateObject();
    if (json == NULL) {
        return NGX_ERROR;
    }

    if (cJSON_AddTrueToObject(json, "success") == NULL
        || cJSON_AddStringToObject(json, "message", message) == NULL)
    {
        cJSON_Delete(json);
        return NGX_ERROR;
    }

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
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

    return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_NOT_ALLOWED);
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
 * ngx_http_douyin_arg: the query argument "name" (the first one, as
 * ngx_http_arg() finds it), percent-decoded into r->pool when it has a
 * %XX escape, so ?page=%31 is page 1.  NGX_OK, NGX_DECLINED when the
 * query has no such argument, NGX_ERROR when out of memory.  A '+' is
 * left as it is: no value of ours has a space.
 */

ngx_int_t
ngx_http_douyin_arg(ngx_http_request_t *r, const char *name, ngx_str_t *value)
{
    u_char  *dst, *src;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_strlchr(value->data, value->data + value->len, '%') == NULL) {
        return NGX_OK;
    }

    dst = ngx_pnalloc(r->pool, value->len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    src = value->data;
    value->data = dst;

    ngx_unescape_uri(&dst, &src, value->len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}


/*
 * ngx_http_douyin_send_static: a GET/HEAD route of a static body (type
 * NULL: application/json): the method check, then the body with 200.
 */

ngx_int_t
ngx_http_douyin_send_static(ngx_http_request_t *r, const char *type,
    const u_char *data, size_t len)
{
    ngx_int_t  rc;
    ngx_str_t  t;

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (type == NULL) {
        t = ngx_http_douyin_json_type;

    } else {
        t.data = (u_char *) type;
        t.len = ngx_strlen(type);
    }

    return ngx_http_douyin_send_body(r, NGX_HTTP_OK, &t, (u_char *) data,
                                     len);
}


/*
 * The bodies of the errors nginx raises itself in front of the handlers
 * (allow/deny, auth_basic, client_max_body_size, a missing password
 * file, ...), by status; what is not listed gets HTTP_ERROR.
 */

static const ngx_http_douyin_error_t  ngx_http_douyin_nginx_errors[] = {

    ngx_http_douyin_error(NGX_HTTP_BAD_REQUEST, "BAD_REQUEST",
                          "The request is not valid HTTP."),

    ngx_http_douyin_error(NGX_HTTP_UNAUTHORIZED, "UNAUTHORIZED",
                          "This route needs the owner's user name and "
                          "password."),

    ngx_http_douyin_error(NGX_HTTP_FORBIDDEN, "FORBIDDEN",
                          "This route is not open to this address."),

    ngx_http_douyin_error(NGX_HTTP_NOT_FOUND, "NOT_FOUND",
                          "There is no such route."),

    ngx_http_douyin_error(NGX_HTTP_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                          "This method is not allowed here."),

    ngx_http_douyin_error(NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                          "BODY_TOO_LARGE",
                          "The request body is larger than this server "
                          "accepts."),

    ngx_http_douyin_error(NGX_HTTP_REQUEST_URI_TOO_LARGE, "URI_TOO_LONG",
                          "The request's URI is too long."),

    ngx_http_douyin_error(NGX_HTTP_TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS",
                          "Too many requests; try again later."),

    ngx_http_douyin_error(NGX_HTTP_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
                          "The server failed; see its error log."),

    ngx_http_douyin_error(NGX_HTTP_BAD_GATEWAY, "BAD_GATEWAY",
                          "An upstream server answered badly or not at "
                          "all."),

    ngx_http_douyin_error(NGX_HTTP_SERVICE_UNAVAILABLE,
                          "SERVICE_UNAVAILABLE",
                          "The service is unavailable; try again later."),

    ngx_http_douyin_error(NGX_HTTP_GATEWAY_TIME_OUT, "GATEWAY_TIMEOUT",
                          "An upstream server did not answer in time."),

    ngx_http_douyin_error(0, "HTTP_ERROR", "The request failed.")
};


/*
 * ngx_http_douyin_error_handler: douyin_error, the handler of the
 * location that error_page sends nginx's own errors to (error_page 403
 * 413 ... @douyin_error): the error body in the API's shape,
 * {"success":false,"error":"<CODE>","detail":"<sentence>"}, with the
 * status nginx raised (r->err_status), whatever the method (HEAD: the
 * headers only).  Headers already set for the error stay (auth_basic's
 * WWW-Authenticate).  Reached directly (no error), it is a 404.
 */

ngx_int_t
ngx_http_douyin_error_handler(ngx_http_request_t *r)
{
    size_t                          len;
    u_char                         *p;
    ngx_uint_t                      status;
    const ngx_http_douyin_error_t  *e;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    status = r->err_status ? r->err_status : NGX_HTTP_NOT_FOUND;

    for (e = ngx_http_douyin_nginx_errors; e->status != 0; e++) {
        if (e->status == status) {
            break;
        }
    }

    len = sizeof("{\"success\":false,\"error\":\"\",\"detail\":\"\"}") - 1
          + ngx_strlen(e->code) + ngx_strlen(e->detail);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* the codes and sentences are plain ASCII without '"' or '\' */

    (void) ngx_sprintf(p, "{\"success\":false,\"error\":\"%s\","
                       "\"detail\":\"%s\"}", e->code, e->detail);

    return ngx_http_douyin_send_json(r, status, p, len);
}

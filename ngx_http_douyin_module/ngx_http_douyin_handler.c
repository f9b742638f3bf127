
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the thin location handlers (event loop):
 * douyin_health, douyin_info, douyin_docs, douyin_openapi, and
 * douyin_process / douyin_process_async, which start a job in the
 * runner and answer when it says so.  The routes of one video are in
 * ngx_http_douyin_video.c, the list and the stats in
 * ngx_http_douyin_list.c.
 */


#include "ngx_http_douyin_module.h"


/* the default days of POST /api/aweme/cleanup, as the replaced service */
#define NGX_HTTP_DOUYIN_CLEANUP_DAYS  30


static void ngx_http_douyin_process_respond(ngx_http_request_t *r,
    ngx_http_douyin_err_e err, cJSON *json);
static void ngx_http_douyin_mount(ngx_http_request_t *r, ngx_str_t *mount);
static char *ngx_http_douyin_mount_path(ngx_http_request_t *r,
    ngx_str_t *mount, const char *name);




/*
 * ngx_http_douyin_health_handler: the douyin_health location handler.
 * GET/HEAD -> 200 {"status":"healthy","version":"X.Y.Z",
 * "processor_ready":true}; other methods -> 405.
 */

ngx_int_t
ngx_http_douyin_health_handler(ngx_http_request_t *r)
{
    cJSON                        *json, *schedule;
    ngx_int_t                     rc;
    ngx_http_douyin_main_conf_t  *dmcf;

    static u_char  body[] = "{\"status\":\"healthy\",\"version\":\""
                            NGX_HTTP_DOUYIN_VERSION
                            "\",\"processor_ready\":true}";

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin health handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    schedule = ngx_http_douyin_schedule_status(dmcf);

    if (schedule == NULL) {
        return ngx_http_douyin_send_json(r, NGX_HTTP_OK, body,
                                         sizeof(body) - 1);
    }

    json = cJSON_CreateObject();
    cJSON_AddStringToObject(json, "status", "healthy");
    cJSON_AddStringToObject(json, "version", NGX_HTTP_DOUYIN_VERSION);
    cJSON_AddTrueToObject(json, "processor_ready");
    cJSON_AddItemToObject(json, "schedule", schedule);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/*
 * ngx_http_douyin_info_handler: douyin_info;  GET / ->
 * {"service":"douyin-processor","version","docs","health"}, where docs
 * and health are the paths of those routes in the same mount as this
 * one (ngx_http_douyin_mount()): "/docs" and "/health" at /, as the
 * replaced service answered; "/api/douyin/docs" and "/api/douyin/health"
 * at the gateway's /api/douyin/.
 */

ngx_int_t
ngx_http_douyin_info_handler(ngx_http_request_t *r)
{
    char       *docs, *health;
    cJSON      *json;
    ngx_int_t   rc;
    ngx_str_t   mount;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin info handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_http_douyin_mount(r, &mount);

    docs = ngx_http_douyin_mount_path(r, &mount, "docs");
    health = ngx_http_douyin_mount_path(r, &mount, "health");

    if (docs == NULL || health == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json = cJSON_CreateObject();
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cJSON_AddStringToObject(json, "service", "douyin-processor") == NULL
        || cJSON_AddStringToObject(json, "version", NGX_HTTP_DOUYIN_VERSION)
           == NULL
        || cJSON_AddStringToObject(json, "docs", docs) == NULL
        || cJSON_AddStringToObject(json, "health", health) == NULL)
    {
        cJSON_Delete(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/* ngx_http_douyin_docs_handler: douyin_docs;  GET /docs -> the HTML page */

ngx_int_t
ngx_http_douyin_docs_handler(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin docs handler");

    return ngx_http_douyin_send_static(r, "text/html; charset=utf-8",
                                       ngx_http_douyin_docs_html,
                                       ngx_http_douyin_docs_html_len);
}


/*
 * ngx_http_douyin_openapi_handler: douyin_openapi;  GET /openapi.json ->
 * the OpenAPI 3 document of the API.  At the root, docs/openapi.json as
 * it is (servers "/", paths /health, /api/...).  In another mount
 * (ngx_http_douyin_mount(); the gateway's /api/douyin/), the copy whose
 * paths are relative to the mount (scripts/embed-docs.py), with the
 * mount as its server URL, so that every path of it resolves there.
 */

ngx_int_t
ngx_http_douyin_openapi_handler(ngx_http_request_t *r)
{
    u_char     *body, *p;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   mount;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin openapi handler");

    ngx_http_douyin_mount(r, &mount);

    if (mount.len == 1) {
        return ngx_http_douyin_send_static(r, NULL,
                                           ngx_http_douyin_openapi_json,
                                           ngx_http_douyin_openapi_json_len);
    }

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* the server URL without its final slash: the paths begin with one */
    mount.len--;

    len = ngx_http_douyin_openapi_mounted_head_len
          + mount.len + ngx_escape_json(NULL, mount.data, mount.len)
          + ngx_http_douyin_openapi_mounted_tail_len;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, ngx_http_douyin_openapi_mounted_head,
                   ngx_http_douyin_openapi_mounted_head_len);
    p = (u_char *) ngx_escape_json(p, mount.data, mount.len);
    p = ngx_cpymem(p, ngx_http_douyin_openapi_mounted_tail,
                   ngx_http_douyin_openapi_mounted_tail_len);

    return ngx_http_douyin_send_json(r, NGX_HTTP_OK, body, p - body);
}


/*
 * The mount of the request: its path up to and with the last slash, "/"
 * for /docs, "/api/douyin/" for /api/douyin/openapi.json.  The routes of
 * one mount are side by side (conf/nginx.conf, conf/douyin-gateway.conf),
 * so this is where the others are.
 */

static void
ngx_http_douyin_mount(ngx_http_request_t *r, ngx_str_t *mount)
{
    u_char  *p;

    p = r->uri.data + r->uri.len;

    while (p > r->uri.data && p[-1] != '/') {
        p--;
    }

    if (p == r->uri.data) {
        ngx_str_set(mount, "/");
        return;
    }

    mount->data = r->uri.data;
    mount->len = p - r->uri.data;
}


/* mount and name as a NUL-terminated path in r->pool, NULL on failure */

static char *
ngx_http_douyin_mount_path(ngx_http_request_t *r, ngx_str_t *mount,
    const char *name)
{
    size_t   len;
    u_char  *path;

    len = ngx_strlen(name);

    path = ngx_pnalloc(r->pool, mount->len + len + 1);
    if (path == NULL) {
        return NULL;
    }

    *ngx_cpymem(ngx_cpymem(path, mount->data, mount->len), name, len) = '\0';

    return (char *) path;
}


/*
 * ngx_http_douyin_process_handler: douyin_process, douyin_process_async
 * and douyin_process_pending.  POST only (405 otherwise); any body is read and
 * dropped.  Starts a job (ngx_http_douyin_job_start()): 503 when the
 * store, the key or the thread pool is unavailable; the job answers
 * through ngx_http_douyin_process_respond().
 */

ngx_int_t
ngx_http_douyin_process_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_douyin_err_e         err;
    ngx_http_douyin_loc_conf_t   *dlcf;
    ngx_http_douyin_main_conf_t  *dmcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin process handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_POST);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    /*
     * finalized by ngx_http_douyin_process_respond(), which may run
     * before ngx_http_douyin_job_start() returns (process/pending while a
     * run is going)
     */
    r->main->count++;

    err = ngx_http_douyin_job_start(r, dmcf, dlcf->async, dlcf->pending,
                                    ngx_http_douyin_process_respond);
    if (err != NGX_HTTP_DOUYIN_OK) {
        r->main->count--;
        return ngx_http_douyin_send_error(r, err);
    }

    return NGX_DONE;
}


/*
 * ngx_http_douyin_cleanup_handler: douyin_cleanup;  POST
 * ?days=N (1..36500, default 30): removes now every completed video
 * processed more than N days ago, its WAV on file-system-go first, then
 * its record; answers {"success":true,"deleted":N,"failed":["<file>",
 * ...]} (the WAVs that could not be deleted: their records are kept).
 * 400 for a bad days, 409 while a cleanup runs, 405 for other methods.
 */

ngx_int_t
ngx_http_douyin_cleanup_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc, days;
    ngx_str_t                     value;
    ngx_http_douyin_err_e         err;
    ngx_http_douyin_main_conf_t  *dmcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin cleanup handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_POST);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    days = NGX_HTTP_DOUYIN_CLEANUP_DAYS;

    rc = ngx_http_douyin_arg(r, "days", &value);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {
        days = ngx_atoi(value.data, value.len);

        if (days == NGX_ERROR || days < 1 || days > 36500) {
            return ngx_http_douyin_send_error(r,
                                              NGX_HTTP_DOUYIN_ERR_BAD_DAYS);
        }
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    err = ngx_http_douyin_cleanup_start(r, dmcf, (time_t) days * 86400,
                                        ngx_http_douyin_process_respond);
    if (err != NGX_HTTP_DOUYIN_OK) {
        return ngx_http_douyin_send_error(r, err);
    }

    /* finalized by ngx_http_douyin_process_respond() */
    r->main->count++;

    return NGX_DONE;
}


/*
 * The job's answer to the request waiting for it: the error body of err
 * (json, when given, is that body: an error whose detail has the job's
 * counts), or json (deleted here) with 200; json NULL without an error
 * finalizes r with NGX_ERROR.
 */

static void
ngx_http_douyin_process_respond(ngx_http_request_t *r,
    ngx_http_douyin_err_e err, cJSON *json)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "douyin process respond, error %ui", (ngx_uint_t) err);

    if (err != NGX_HTTP_DOUYIN_OK && json != NULL) {
        rc = ngx_http_douyin_send_cjson(r, ngx_http_douyin_errors[err].status,
                                        json);

    } else if (err != NGX_HTTP_DOUYIN_OK) {
        rc = ngx_http_douyin_send_error(r, err);

    } else {
        rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

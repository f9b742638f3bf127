
/*
 * ngx_http_douyin_module: the routes beyond process and result
 * (../shared/spec/api.md): GET /api/videos, GET and DELETE
 * /api/videos/{aweme_id}, POST /api/videos/{aweme_id}/read, GET
 * /api/stats, GET /, GET /docs and GET /openapi.json.
 *
 * Lists, details and counts are read on the event loop from the store's
 * indexes and counts (read transactions).  Calls to file-system-go and
 * writes run as thread tasks bound to the request (r->main->blocked keeps
 * the request alive while the thread has the task).  The file-system-go
 * listing behind stats.total, stats.pending and status=pending is cached
 * per worker for douyin_listing_cache.
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_READ_BODY_MAX  1024


typedef void (*ngx_http_douyin_listing_pt)(ngx_http_request_t *r,
    ngx_int_t ok);


typedef struct {
    ngx_queue_t                 queue;
    ngx_http_request_t         *request;
    ngx_http_douyin_listing_pt  handler;
    ngx_http_douyin_runner_t   *runner;
} ngx_http_douyin_waiter_t;


typedef struct {
    ngx_uint_t                  page;
    ngx_uint_t                  page_size;
    ngx_uint_t                  status_mask;    /* p, c, f bits; 8: pending */
    ngx_uint_t                  read_mask;      /* unread, read bits */
} ngx_http_douyin_query_t;


static cJSON *ngx_http_douyin_item(ngx_http_douyin_main_conf_t *dmcf,
    const char *id, cJSON *rec, ngx_uint_t detail);
static ngx_int_t ngx_http_douyin_parse_query(ngx_http_request_t *r,
    ngx_http_douyin_query_t *q);
static void ngx_http_douyin_videos_pending(ngx_http_request_t *r,
    ngx_int_t ok);
static void ngx_http_douyin_video_pending(ngx_http_request_t *r,
    ngx_int_t ok);
static ngx_int_t ngx_http_douyin_video_delete(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, char *id, cJSON *rec);
static void ngx_http_douyin_video_delete_listed(ngx_http_request_t *r,
    ngx_int_t ok);
static void ngx_http_douyin_video_read_body(ngx_http_request_t *r);
static void ngx_http_douyin_request_task_done(ngx_event_t *ev);
static void ngx_http_douyin_stats_send(ngx_http_request_t *r, ngx_int_t ok);
static ngx_int_t ngx_http_douyin_listing_wait(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler);
static void ngx_http_douyin_listing_done(ngx_event_t *ev);
static void ngx_http_douyin_waiter_cleanup(void *data);
static void ngx_http_douyin_listing_failed(ngx_http_request_t *r);
static ngx_int_t ngx_http_douyin_send_static(ngx_http_request_t *r,
    const char *type, const u_char *data, size_t len);


/*
 * ngx_http_douyin_videos_handler: douyin_videos;  GET /api/videos?page=
 * &page_size=&status=&is_read= -> {"total_count","videos":[item],"page",
 * "page_size"}.  400 on a bad query.  status=pending comes from the
 * cached listing (and may wait for it); other lists from the store.
 */

ngx_int_t
ngx_http_douyin_videos_handler(ngx_http_request_t *r)
{
    int                           err;
    cJSON                        *json, *list, *page, *rec, *id;
    int64_t                       counts[NGX_HTTP_DOUYIN_NSTATUS][2], total;
    ngx_int_t                     rc;
    ngx_uint_t                    s, rd;
    ngx_http_douyin_query_t       q, *qp;
    ngx_http_douyin_main_conf_t  *dmcf;

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_douyin_parse_query(r, &q);
    if (rc != NGX_OK) {
        return ngx_http_douyin_refuse(r, rc, NGX_HTTP_DOUYIN_BAD_QUERY);
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_ready(r, dmcf);
    if (rc != NGX_OK) {
        return ngx_http_douyin_refuse(r, rc, NGX_HTTP_DOUYIN_STORE_CLOSED);
    }

    if (q.status_mask == (1 << NGX_HTTP_DOUYIN_S_PENDING)) {
        qp = ngx_palloc(r->pool, sizeof(ngx_http_douyin_query_t));
        if (qp == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *qp = q;
        ngx_http_set_ctx(r, qp, ngx_http_douyin_module);

        return ngx_http_douyin_listing_wait(r, dmcf->runner,
                                            ngx_http_douyin_videos_pending);
    }

    err = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);

    if (err == 0) {
        err = ngx_http_douyin_store_list(&dmcf->runner->store, q.status_mask,
                                         q.read_mask,
                                         (q.page - 1) * q.page_size,
                                         q.page_size, &page);
    }

    if (err != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: listing the store failed: %s",
                      ngx_http_douyin_store_strerror(err));
        return ngx_http_douyin_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "STORE_ERROR",
                                          "The transcript store could not "
                                          "be read.");
    }

    total = 0;

    for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        for (rd = 0; rd < 2; rd++) {
            if ((q.status_mask & (1 << s)) && (q.read_mask & (1 << rd))) {
                total += counts[s][rd];
            }
        }
    }

    json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "total_count", (double) total);
    list = cJSON_AddArrayToObject(json, "videos");

    cJSON_ArrayForEach(rec, page) {
        id = cJSON_GetObjectItemCaseSensitive(rec, "aweme_id");
        cJSON_AddItemToArray(list,
                             ngx_http_douyin_item(dmcf, id->valuestring, rec,
                                                  0));
    }

    cJSON_Delete(page);

    cJSON_AddNumberToObject(json, "page", q.page);
    cJSON_AddNumberToObject(json, "page_size", q.page_size);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/*
 * status=pending: a page of the pending videos: first those the collector
 * pushed (records, newest push first), then the listed videos without a
 * record (ids descending)
 */

static void
ngx_http_douyin_videos_pending(ngx_http_request_t *r, ngx_int_t ok)
{
    int                           err;
    cJSON                        *json, *list, *page, *rec, *id;
    int64_t                       counts[NGX_HTTP_DOUYIN_NSTATUS][2];
    ngx_int_t                     rc;
    ngx_uint_t                    i, from, total, pushed, listed;
    ngx_http_douyin_query_t      *q;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    q = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    if (!ok) {
        ngx_http_douyin_listing_failed(r);
        return;
    }

    page = NULL;
    from = (q->page - 1) * q->page_size;

    err = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);

    pushed = 0;

    if (err == 0) {
        pushed = ((q->read_mask & 1)
                  ? counts[NGX_HTTP_DOUYIN_S_PENDING][0] : 0)
                 + ((q->read_mask & 2)
                    ? counts[NGX_HTTP_DOUYIN_S_PENDING][1] : 0);

        err = ngx_http_douyin_store_list(&dmcf->runner->store,
                                         q->status_mask, q->read_mask,
                                         from, q->page_size, &page);
    }

    if (err != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: listing the store failed: %s",
                      ngx_http_douyin_store_strerror(err));
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "STORE_ERROR",
                                        "The transcript store could not "
                                        "be read.");
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* listed videos without a record have never been read */
    listed = (q->read_mask & 1) ? listing->npending : 0;
    total = pushed + listed;

    json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "total_count", total);
    list = cJSON_AddArrayToObject(json, "videos");

    cJSON_ArrayForEach(rec, page) {
        id = cJSON_GetObjectItemCaseSensitive(rec, "aweme_id");
        cJSON_AddItemToArray(list,
                             ngx_http_douyin_item(dmcf, id->valuestring, rec,
                                                  0));
    }

    cJSON_Delete(page);

    from = (from > pushed) ? from - pushed : 0;

    for (i = from;
         i < listed
         && (ngx_uint_t) cJSON_GetArraySize(list) < q->page_size;
         i++)
    {
        cJSON_AddItemToArray(list,
                             ngx_http_douyin_item(dmcf, listing->pending[i],
                                                  NULL, 0));
    }

    cJSON_AddNumberToObject(json, "page", q->page);
    cJSON_AddNumberToObject(json, "page_size", q->page_size);

    rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    ngx_http_finalize_request(r, rc);
}


/*
 * ngx_http_douyin_video_handler: douyin_video ID; and douyin_video_delete
 * ID; (DELETE only).  GET/HEAD -> the detail object (a video without
 * record is pending when file-system-go lists it, else 404
 * VIDEO_NOT_FOUND); DELETE [?keep_file=true|false] -> a tombstone
 * (status "deleted", the transcript dropped, never transcribed again)
 * and, unless keep_file, first deletes the WAV on file-system-go (502
 * and nothing changed when that fails).
 */

ngx_int_t
ngx_http_douyin_video_handler(ngx_http_request_t *r)
{
    char                          id[NGX_HTTP_DOUYIN_ID_MAX + 1], *p;
    cJSON                        *rec, *json;
    ngx_int_t                     rc;
    ngx_http_douyin_loc_conf_t   *dlcf;
    ngx_http_douyin_main_conf_t  *dmcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_open_video(r, dlcf->methods, id, &rec);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_douyin_video_delete(r, dmcf, id, rec);
    }

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

    json = ngx_http_douyin_item(dmcf, id, rec, 1);
    cJSON_Delete(rec);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/* the detail of a video without record: pending when listed, else 404 */

static void
ngx_http_douyin_video_pending(ngx_http_request_t *r, ngx_int_t ok)
{
    char                         *id;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    id = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    if (!ok) {
        ngx_http_douyin_listing_failed(r);
        return;
    }

    for (i = 0; i < listing->npending; i++) {
        if (ngx_strcmp(listing->pending[i], id) == 0) {
            rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK,
                     ngx_http_douyin_item(dmcf, id, NULL, 1));
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    rc = ngx_http_douyin_send_error(r, NGX_HTTP_NOT_FOUND, "VIDEO_NOT_FOUND",
                                    "No video has this aweme_id.");
    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_douyin_video_delete(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, char *id, cJSON *rec)
{
    char       *p;
    ngx_int_t   rc;
    ngx_str_t   value;
    ngx_uint_t  keep_file;

    keep_file = 0;

    if (ngx_http_arg(r, (u_char *) "keep_file", 9, &value) == NGX_OK) {

        if (value.len == 4 && ngx_strncmp(value.data, "true", 4) == 0) {
            keep_file = 1;

        } else if (!(value.len == 5
                     && ngx_strncmp(value.data, "false", 5) == 0))
        {
            cJSON_Delete(rec);
            return ngx_http_douyin_send_error(r, NGX_HTTP_BAD_REQUEST,
                                              "INVALID_QUERY",
                                              "keep_file must be true or "
                                              "false.");
        }
    }

    if (rec == NULL && keep_file) {

        /*
         * a listed video never processed: a tombstone keeps it from
         * being transcribed; an id nobody knows is a 404
         */

        p = ngx_pnalloc(r->pool, NGX_HTTP_DOUYIN_ID_MAX + 1);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(p, id, NGX_HTTP_DOUYIN_ID_MAX + 1);
        ngx_http_set_ctx(r, p, ngx_http_douyin_module);

        /* a file uploaded since the cached listing counts: list again */
        ngx_http_douyin_listing_update(dmcf->runner, 0, 0);

        return ngx_http_douyin_listing_wait(r, dmcf->runner,
                                        ngx_http_douyin_video_delete_listed);
    }

    rc = ngx_http_douyin_request_task(r, NGX_HTTP_DOUYIN_OP_DELETE, id, rec,
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
ngx_http_douyin_video_delete_listed(ngx_http_request_t *r, ngx_int_t ok)
{
    char                         *id;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    id = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    if (!ok) {
        ngx_http_douyin_listing_failed(r);
        return;
    }

    for (i = 0; i < listing->npending; i++) {
        if (ngx_strcmp(listing->pending[i], id) == 0) {
            break;
        }
    }

    if (i == listing->npending) {
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_NOT_FOUND,
                                        "VIDEO_NOT_FOUND",
                                        "No video has this aweme_id.");
        ngx_http_finalize_request(r, rc);
        return;
    }

    rc = ngx_http_douyin_request_task(r, NGX_HTTP_DOUYIN_OP_DELETE, id, NULL,
                                      1);

    /* listing_wait() holds the reference the task's completion drops */

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
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

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_douyin_method_not_allowed(r, NGX_HTTP_POST);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_DOUYIN_READ_BODY_MAX) {
        r->keepalive = 0;
        return ngx_http_douyin_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "BODY_TOO_LARGE",
                                          "The body must be at most 1024 "
                                          "bytes.");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_douyin_video_read_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * ngx_http_douyin_read_body: the request body read by
 * ngx_http_read_client_request_body() as one buffer in r->pool (*body,
 * *len; NUL-terminated).  NGX_OK; NGX_DECLINED when it is longer than max
 * bytes (or went to a file); NGX_ERROR when out of memory.
 */

ngx_int_t
ngx_http_douyin_read_body(ngx_http_request_t *r, size_t max, u_char **body,
    size_t *len_out)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl != NULL;
         cl = cl->next)
    {
        b = cl->buf;

        if (b->in_file) {
            return NGX_DECLINED;
        }

        len += b->last - b->pos;
    }

    if (len > max) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl != NULL;
         cl = cl->next)
    {
        len = ngx_cpymem(p + len, cl->buf->pos, cl->buf->last - cl->buf->pos)
              - p;
    }

    p[len] = '\0';

    *body = p;
    *len_out = len;

    return NGX_OK;
}


static void
ngx_http_douyin_video_read_body(ngx_http_request_t *r)
{
    char                          id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    u_char                       *p;
    cJSON                        *json, *is_read, *rec;
    size_t                        len;
    ngx_int_t                     rc;
    ngx_uint_t                    what;
    ngx_http_douyin_main_conf_t  *dmcf;

    rc = ngx_http_douyin_get_id(r, id);
    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, ngx_http_douyin_refuse(r, rc, NGX_HTTP_DOUYIN_BAD_ID));
        return;
    }

    rc = ngx_http_douyin_read_body(r, NGX_HTTP_DOUYIN_READ_BODY_MAX, &p,
                                   &len);

    if (rc == NGX_DECLINED) {
        r->keepalive = 0;
        ngx_http_finalize_request(r,
            ngx_http_douyin_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "BODY_TOO_LARGE",
                                       "The body must be at most 1024 "
                                       "bytes."));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = cJSON_ParseWithLength((char *) p, len);
    is_read = cJSON_GetObjectItemCaseSensitive(json, "is_read");

    if (!cJSON_IsObject(json) || !cJSON_IsBool(is_read)) {
        cJSON_Delete(json);
        ngx_http_finalize_request(r,
            ngx_http_douyin_send_error(r, NGX_HTTP_BAD_REQUEST,
                                       "INVALID_BODY",
                                       "The body must be a JSON object with "
                                       "a boolean \"is_read\"."));
        return;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_load(r, dmcf, id, &rec, &what);
    if (rc != NGX_OK) {
        cJSON_Delete(json);
        ngx_http_finalize_request(r, ngx_http_douyin_refuse(r, rc, what));
        return;
    }

    if (rec == NULL) {
        cJSON_Delete(json);
        ngx_http_finalize_request(r,
            ngx_http_douyin_send_error(r, NGX_HTTP_NOT_FOUND,
                                       "VIDEO_NOT_FOUND",
                                       "No processed video has this "
                                       "aweme_id."));
        return;
    }

    rc = ngx_http_douyin_request_task(r, NGX_HTTP_DOUYIN_OP_READ, id, rec,
                                      cJSON_IsTrue(is_read));
    cJSON_Delete(rec);
    cJSON_Delete(json);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * ngx_http_douyin_request_task: posts an OP_READ, OP_DELETE or OP_PUSH
 * task for r on the video id whose record is rec (NULL: none; its
 * filename is the one file-system-go is called with, else
 * "<id>.wav").  flag: is_read (OP_READ) or keep_file (OP_DELETE); for
 * OP_PUSH, rec is the cJSON object of the fields to store, which the op
 * takes over.  Its completion finalizes r once (the caller holds a
 * reference for it).  Returns NGX_DONE, or the status of an error
 * already sent (503 when the thread pool queue is full).
 */

ngx_int_t
ngx_http_douyin_request_task(ngx_http_request_t *r, ngx_http_douyin_op_e kind,
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
        op->fields = rec;
        rec = NULL;

    } else if (kind == NGX_HTTP_DOUYIN_OP_READ) {
        op->is_read = flag;

    } else {
        op->keep_file = flag;

        /* DELETE ?keep_file=true of a listed video without record */
        op->create = (rec == NULL);
    }

    op->items = ngx_calloc(sizeof(ngx_http_douyin_item_t),
                           r->connection->log);
    if (op->items == NULL) {
        cJSON_Delete(op->fields);
        op->fields = NULL;
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

    } else {
        ngx_sprintf((u_char *) op->items[0].filename, "%s.wav%Z", id);
    }

    task->handler = ngx_http_douyin_op_handler;
    task->event.handler = ngx_http_douyin_request_task_done;
    task->event.data = r;
    task->event.log = r->connection->log;

    if (ngx_http_douyin_task_post(dmcf->thread_pool, task) != NGX_OK) {
        ngx_http_douyin_op_free(op);
        return ngx_http_douyin_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "THREAD_POOL_UNAVAILABLE",
                                          "The thread pool queue is full; "
                                          "try again later.");
    }

    ngx_http_set_ctx(r, task, ngx_http_douyin_module);

    r->main->blocked++;
    r->aio = 1;

    return NGX_DONE;
}


static void
ngx_http_douyin_request_task_done(ngx_event_t *ev)
{
    ngx_http_request_t *r = ev->data;

    u_char                 msg[160];
    ngx_int_t              rc;
    ngx_uint_t             status;
    ngx_connection_t      *c;
    ngx_thread_task_t     *task;
    ngx_http_douyin_op_t  *op;
    cJSON                 *json;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    task = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    op = task->ctx;

    r->main->blocked--;
    r->aio = 0;

    cJSON_Delete(op->fields);
    op->fields = NULL;

    if (c->error) {

        /* terminated meanwhile: let nginx close it now that it is free */

        ngx_http_douyin_op_free(op);
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (op->rc != NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "douyin: %s: %s",
                      op->code, op->detail);

        status = (ngx_strncmp(op->code, "FILESYSTEM", 10) == 0)
                 ? NGX_HTTP_BAD_GATEWAY : NGX_HTTP_SERVICE_UNAVAILABLE;

        rc = ngx_http_douyin_send_error(r, status, op->code,
                                        status == NGX_HTTP_BAD_GATEWAY
                                        ? "file-system-go answered badly or "
                                          "not at all; nothing was changed."
                                        : "The transcript store failed; the "
                                          "record was not changed, try "
                                          "again.");

    } else if (op->not_found) {
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_NOT_FOUND,
                                        "VIDEO_NOT_FOUND",
                                        "No video has this aweme_id.");

    } else {
        if (op->op == NGX_HTTP_DOUYIN_OP_READ) {
            ngx_sprintf(msg, "Video %s marked %s.%Z", op->items[0].aweme_id,
                        op->is_read ? "read" : "unread");

        } else if (op->op == NGX_HTTP_DOUYIN_OP_PUSH) {
            if (ngx_strcmp(op->was, "pending") == 0) {
                ngx_sprintf(msg, "Video %s is pending.%Z",
                            op->items[0].aweme_id);

            } else {
                /* never reset: the push changed nothing */
                ngx_sprintf(msg, "Video %s is already %s; nothing was "
                            "changed.%Z", op->items[0].aweme_id, op->was);
            }

            ngx_http_douyin_listing_update(op->conf->runner, 0, 0);

        } else {
            ngx_sprintf(msg, "Video %s deleted%s; it will not be "
                        "transcribed again.%Z", op->items[0].aweme_id,
                        op->keep_file ? ", its file was kept"
                                      : " with its file");

            /* total and pending have changed */
            ngx_http_douyin_listing_update(op->conf->runner, 0, 0);
        }

        json = cJSON_CreateObject();
        cJSON_AddTrueToObject(json, "success");
        cJSON_AddStringToObject(json, "message", (char *) msg);

        rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    }

    ngx_http_douyin_op_free(op);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * ngx_http_douyin_stats_handler: douyin_stats;  GET /api/stats ->
 * {"total","completed","processing","failed","pending","success_rate",
 * "listing_age"}: total and pending are the WAVs on file-system-go and
 * those without a record, from the listing fetched listing_age seconds
 * ago (kept douyin_listing_cache); the other counts are the store's.
 * 502 when file-system-go cannot be listed and no listing is cached.
 */

ngx_int_t
ngx_http_douyin_stats_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_douyin_main_conf_t  *dmcf;

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_ready(r, dmcf);
    if (rc != NGX_OK) {
        return ngx_http_douyin_refuse(r, rc, NGX_HTTP_DOUYIN_STORE_CLOSED);
    }

    return ngx_http_douyin_listing_wait(r, dmcf->runner,
                                        ngx_http_douyin_stats_send);
}


static void
ngx_http_douyin_stats_send(ngx_http_request_t *r, ngx_int_t ok)
{
    int                           err;
    cJSON                        *json;
    int64_t                       counts[NGX_HTTP_DOUYIN_NSTATUS][2];
    int64_t                       c, p, f, q;
    ngx_int_t                     rc;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    if (!ok) {
        ngx_http_douyin_listing_failed(r);
        return;
    }

    err = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);
    if (err != 0) {
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "STORE_ERROR",
                                        "The transcript store could not be "
                                        "read.");
        ngx_http_finalize_request(r, rc);
        return;
    }

    p = counts[NGX_HTTP_DOUYIN_S_PROCESSING][0]
        + counts[NGX_HTTP_DOUYIN_S_PROCESSING][1];
    c = counts[NGX_HTTP_DOUYIN_S_COMPLETED][0]
        + counts[NGX_HTTP_DOUYIN_S_COMPLETED][1];
    f = counts[NGX_HTTP_DOUYIN_S_FAILED][0]
        + counts[NGX_HTTP_DOUYIN_S_FAILED][1];
    q = counts[NGX_HTTP_DOUYIN_S_PENDING][0]
        + counts[NGX_HTTP_DOUYIN_S_PENDING][1];

    /* tombstones count nowhere; pending: listed without record, pushed */

    json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "total", listing->total);
    cJSON_AddNumberToObject(json, "completed", (double) c);
    cJSON_AddNumberToObject(json, "processing", (double) p);
    cJSON_AddNumberToObject(json, "failed", (double) f);
    cJSON_AddNumberToObject(json, "pending",
                            (double) (listing->npending + q));
    cJSON_AddNumberToObject(json, "success_rate",
                            (c + f) ? (double) ((c * 100 + (c + f) / 2)
                                                / (c + f)) / 100
                                    : 0);
    cJSON_AddNumberToObject(json, "listing_age",
                            (double) (ngx_time() - listing->fetched_at));

    rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    ngx_http_finalize_request(r, rc);
}


/*
 * Calls handler(r, ok) once the cached listing is fresh (at once when it
 * is): ok = 0 when file-system-go failed and nothing is cached (a stale
 * listing is used when a refresh fails).  Returns NGX_DONE; the handler
 * finalizes r.
 */

static ngx_int_t
ngx_http_douyin_listing_wait(ngx_http_request_t *r,
    ngx_http_douyin_runner_t *runner, ngx_http_douyin_listing_pt handler)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_douyin_op_t        *op;
    ngx_http_douyin_waiter_t    *w;
    ngx_http_douyin_listing_t   *listing;

    listing = &runner->listing;

    r->main->count++;

    if (listing->fetched_at != 0
        && ngx_current_msec - listing->fetched
           < runner->conf->listing_cache)
    {
        handler(r, 1);
        return NGX_DONE;
    }

    w = ngx_palloc(r->pool, sizeof(ngx_http_douyin_waiter_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (w == NULL || cln == NULL) {
        r->main->count--;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->request = r;
    w->handler = handler;
    w->runner = runner;

    cln->handler = ngx_http_douyin_waiter_cleanup;
    cln->data = w;

    ngx_queue_insert_tail(&listing->waiters, &w->queue);

    if (listing->task == NULL) {
        listing->task = ngx_thread_task_alloc(ngx_cycle->pool,
                                              sizeof(ngx_http_douyin_op_t));
        if (listing->task == NULL) {
            ngx_queue_remove(&w->queue);
            cln->handler = NULL;
            handler(r, listing->fetched_at != 0);
            return NGX_DONE;
        }

        listing->task->handler = ngx_http_douyin_op_handler;
        listing->task->event.handler = ngx_http_douyin_listing_done;
        listing->task->event.data = runner;
        listing->task->event.log = runner->log;
    }

    if (listing->task->event.active) {
        return NGX_DONE;          /* a refresh is on its way */
    }

    op = listing->task->ctx;
    ngx_memzero(op, sizeof(ngx_http_douyin_op_t));

    op->op = NGX_HTTP_DOUYIN_OP_LISTING;
    op->conf = runner->conf;
    op->store = &runner->store;

    if (ngx_http_douyin_task_post(runner->conf->thread_pool, listing->task)
        != NGX_OK)
    {
        ngx_queue_remove(&w->queue);
        cln->handler = NULL;
        handler(r, listing->fetched_at != 0);
    }

    return NGX_DONE;
}


static void
ngx_http_douyin_listing_done(ngx_event_t *ev)
{
    ngx_http_douyin_runner_t *runner = ev->data;

    ngx_int_t                   ok;
    ngx_uint_t                  i, n;
    ngx_queue_t                *q;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_douyin_op_t       *op;
    ngx_http_douyin_waiter_t   *w;
    ngx_http_douyin_listing_t  *listing;

    if (ngx_http_douyin_task_timedout(ev)) {
        return;
    }

    listing = &runner->listing;
    op = listing->task->ctx;

    if (op->rc == NGX_HTTP_DOUYIN_RC_DONE) {
        ngx_http_douyin_listing_free(listing);

        /* tombstones are not counted, though their WAV may be listed */

        n = 0;
        for (i = 0; i < op->nitems; i++) {
            n += (op->items[i].outcome == NGX_HTTP_DOUYIN_PENDING);
        }

        listing->pending = ngx_alloc(ngx_max(n, 1)
                                     * sizeof(*listing->pending), runner->log);

        if (listing->pending != NULL) {
            n = 0;

            /* items come sorted by id, descending */

            for (i = 0; i < op->nitems; i++) {
                if (op->items[i].outcome == NGX_HTTP_DOUYIN_PENDING) {
                    ngx_memcpy(listing->pending[n++], op->items[i].aweme_id,
                               sizeof(op->items[i].aweme_id));
                }
            }

            listing->npending = n;
            listing->total = op->listed - op->deleted;
            listing->fetched = ngx_current_msec;
            listing->fetched_at = ngx_time();
        }

    } else {
        ngx_log_error(NGX_LOG_ERR, runner->log, 0, "douyin: %s: %s",
                      op->code, op->detail);
    }

    ngx_http_douyin_op_free(op);

    ok = (listing->fetched_at != 0);

    while (!ngx_queue_empty(&listing->waiters)) {
        q = ngx_queue_head(&listing->waiters);
        w = ngx_queue_data(q, ngx_http_douyin_waiter_t, queue);
        ngx_queue_remove(q);

        /* the cleanup sees a removed waiter as done */
        ngx_queue_init(q);

        r = w->request;
        c = r->connection;

        ngx_http_set_log_request(c->log, r);
        w->handler(r, ok);
        ngx_http_run_posted_requests(c);
    }
}


/* answers 502: file-system-go could not be listed, nothing is cached */

static void
ngx_http_douyin_listing_failed(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r,
        ngx_http_douyin_send_error(r, NGX_HTTP_BAD_GATEWAY,
                                   "FILESYSTEM_UNAVAILABLE",
                                   "file-system-go could not be listed."));
}


/* the request is gone before the listing came: forget it */

static void
ngx_http_douyin_waiter_cleanup(void *data)
{
    ngx_http_douyin_waiter_t *w = data;

    if (w->queue.next != NULL && w->queue.next != &w->queue) {
        ngx_queue_remove(&w->queue);
        ngx_queue_init(&w->queue);
    }
}


/*
 * ngx_http_douyin_listing_update: fresh = 1: a listing of "total" WAVs
 * was just fetched and every one of them has a record now (a process
 * call claimed them), so the cache becomes fresh with no pending video;
 * fresh = 0: the cache is stale (a delete), the next use refreshes it.
 */

void
ngx_http_douyin_listing_update(ngx_http_douyin_runner_t *runner,
    ngx_uint_t fresh, ngx_uint_t total)
{
    ngx_http_douyin_listing_t  *listing;

    listing = &runner->listing;

    if (!fresh) {
        listing->fetched = ngx_current_msec - runner->conf->listing_cache
                           - 1;
        return;
    }

    ngx_http_douyin_listing_free(listing);

    listing->total = total;
    listing->fetched = ngx_current_msec;
    listing->fetched_at = ngx_time();
}


/* ngx_http_douyin_listing_free: frees the cached pending ids */

void
ngx_http_douyin_listing_free(ngx_http_douyin_listing_t *listing)
{
    if (listing->pending != NULL) {
        ngx_free(listing->pending);
        listing->pending = NULL;
    }

    listing->npending = 0;
}


/*
 * ngx_http_douyin_info_handler: douyin_info;  GET / ->
 * {"service":"douyin-processor","version","docs":"/docs",
 * "health":"/health"}.
 */

ngx_int_t
ngx_http_douyin_info_handler(ngx_http_request_t *r)
{
    static u_char  body[] = "{\"service\":\"douyin-processor\",\"version\":\""
                            NGX_HTTP_DOUYIN_VERSION "\",\"docs\":\"/docs\","
                            "\"health\":\"/health\"}";

    return ngx_http_douyin_send_static(r, NULL, body, sizeof(body) - 1);
}


/* ngx_http_douyin_docs_handler: douyin_docs;  GET /docs -> the HTML page */

ngx_int_t
ngx_http_douyin_docs_handler(ngx_http_request_t *r)
{
    return ngx_http_douyin_send_static(r, "text/html; charset=utf-8",
                                       ngx_http_douyin_docs_html,
                                       ngx_http_douyin_docs_html_len);
}


/*
 * ngx_http_douyin_openapi_handler: douyin_openapi;  GET /openapi.json ->
 * the OpenAPI 3 document of the API (docs/openapi.json).
 */

ngx_int_t
ngx_http_douyin_openapi_handler(ngx_http_request_t *r)
{
    return ngx_http_douyin_send_static(r, NULL, ngx_http_douyin_openapi_json,
                                       ngx_http_douyin_openapi_json_len);
}


/* GET/HEAD of a static body; type NULL: application/json */

static ngx_int_t
ngx_http_douyin_send_static(ngx_http_request_t *r, const char *type,
    const u_char *data, size_t len)
{
    ngx_int_t  rc;

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (type != NULL) {
        r->headers_out.content_type.data = (u_char *) type;
        r->headers_out.content_type.len = ngx_strlen(type);
        r->headers_out.content_type_len = r->headers_out.content_type.len;
        r->headers_out.status = NGX_HTTP_OK;
        r->headers_out.content_length_n = len;

        rc = ngx_http_send_header(r);
        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            return rc;
        }

        {
            ngx_buf_t    *b;
            ngx_chain_t   out;

            b = ngx_calloc_buf(r->pool);
            if (b == NULL) {
                return NGX_ERROR;
            }

            b->pos = (u_char *) data;
            b->last = (u_char *) data + len;
            b->memory = 1;
            b->last_buf = (r == r->main) ? 1 : 0;
            b->last_in_chain = 1;

            out.buf = b;
            out.next = NULL;

            return ngx_http_output_filter(r, &out);
        }
    }

    return ngx_http_douyin_send_json(r, NGX_HTTP_OK, (u_char *) data, len);
}


/*
 * A list item (api.md "List item and detail object") of the record rec
 * (NULL: a pending video without record); detail adds description and
 * error.
 */

static cJSON *
ngx_http_douyin_item(ngx_http_douyin_main_conf_t *dmcf, const char *id,
    cJSON *rec, ngx_uint_t detail)
{
    u_char      *url;
    size_t       len;
    cJSON       *item, *status, *field, *tr;
    ngx_uint_t   i;

    static const char  *texts[] = { "title", "author", NULL };
    static const char  *transcript[] = {
        "text", "segments", "confidence", "audio_duration", NULL
    };

    item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }

    status = cJSON_GetObjectItemCaseSensitive(rec, "status");

    cJSON_AddStringToObject(item, "aweme_id", id);
    cJSON_AddStringToObject(item, "status", cJSON_IsString(status)
                                            ? status->valuestring
                                            : "pending");

    for (i = 0; texts[i] != NULL; i++) {
        field = cJSON_GetObjectItemCaseSensitive(rec, texts[i]);
        cJSON_AddItemToObject(item, texts[i],
                              cJSON_IsString(field)
                              ? cJSON_CreateString(field->valuestring)
                              : cJSON_CreateNull());
    }

    field = cJSON_GetObjectItemCaseSensitive(rec, "filename");

    /* a pushed audio_filename may need escaping (at most 3 bytes each) */

    len = dmcf->audio_base_url.len + sizeof("/audio/.wav")
          + 3 * NGX_HTTP_DOUYIN_FILENAME_MAX + 1;

    url = ngx_alloc(len, ngx_cycle->log);
    if (url != NULL) {
        if (cJSON_IsString(field) && field->valuestring[0] != '\0'
            && ngx_strlen(field->valuestring) <= NGX_HTTP_DOUYIN_FILENAME_MAX)
        {
            u_char  *p;

            p = ngx_snprintf(url, len, "%s/audio/",
                             dmcf->audio_base_url.data
                             ? dmcf->audio_base_url.data : "");
            p = (u_char *) ngx_escape_uri(p, (u_char *) field->valuestring,
                                          ngx_strlen(field->valuestring),
                                          NGX_ESCAPE_URI_COMPONENT);
            *p = '\0';

        } else {
            ngx_snprintf(url, len, "%s/audio/%s.wav%Z",
                         dmcf->audio_base_url.data
                         ? dmcf->audio_base_url.data : "", id);
        }

        cJSON_AddStringToObject(item, "audio_url", (char *) url);
        ngx_free(url);
    }

    if (cJSON_IsString(status)
        && ngx_strcmp(status->valuestring, "completed") == 0)
    {
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
                           && !(cJSON_IsString(status)
                                && ngx_strcmp(status->valuestring,
                                              "processing") == 0))
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
                              (cJSON_IsString(field) && cJSON_IsString(status)
                               && ngx_strcmp(status->valuestring, "failed")
                                  == 0)
                              ? cJSON_CreateString(field->valuestring)
                              : cJSON_CreateNull());
    }

    return item;
}


/*
 * page >= 1 (default 1), page_size 1..1000 (default 20), status one of
 * pending, processing, completed, failed, deleted, unread (completed and
 * not read), read (completed and read), is_read true or false: NGX_OK,
 * else NGX_DECLINED.  Without status the list leaves out pending and
 * deleted videos.
 */

static ngx_int_t
ngx_http_douyin_parse_query(ngx_http_request_t *r, ngx_http_douyin_query_t *q)
{
    ngx_int_t   n;
    ngx_str_t   value;
    ngx_uint_t  i;

    /* name, status bit, read mask (api.md: unread and read are completed) */

    static struct {
        ngx_str_t   name;
        ngx_uint_t  status;
        ngx_uint_t  read;
    } statuses[] = {
        { ngx_string("processing"), NGX_HTTP_DOUYIN_S_PROCESSING, 3 },
        { ngx_string("completed"), NGX_HTTP_DOUYIN_S_COMPLETED, 3 },
        { ngx_string("failed"), NGX_HTTP_DOUYIN_S_FAILED, 3 },
        { ngx_string("pending"), NGX_HTTP_DOUYIN_S_PENDING, 3 },
        { ngx_string("deleted"), NGX_HTTP_DOUYIN_S_DELETED, 3 },
        { ngx_string("unread"), NGX_HTTP_DOUYIN_S_COMPLETED, 1 },
        { ngx_string("read"), NGX_HTTP_DOUYIN_S_COMPLETED, 2 }
    };

    q->page = 1;
    q->page_size = 20;
    q->status_mask = (1 << NGX_HTTP_DOUYIN_S_PROCESSING)
                     | (1 << NGX_HTTP_DOUYIN_S_COMPLETED)
                     | (1 << NGX_HTTP_DOUYIN_S_FAILED);
    q->read_mask = 3;

    if (ngx_http_arg(r, (u_char *) "page", 4, &value) == NGX_OK) {
        n = ngx_atoi(value.data, value.len);
        if (n < 1 || n > 1000000) {
            goto invalid;
        }
        q->page = n;
    }

    if (ngx_http_arg(r, (u_char *) "page_size", 9, &value) == NGX_OK) {
        n = ngx_atoi(value.data, value.len);
        if (n < 1 || n > 1000) {
            goto invalid;
        }
        q->page_size = n;
    }

    if (ngx_http_arg(r, (u_char *) "status", 6, &value) == NGX_OK) {
        for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
            if (value.len == statuses[i].name.len
                && ngx_strncmp(value.data, statuses[i].name.data, value.len)
                   == 0)
            {
                break;
            }
        }

        if (i == sizeof(statuses) / sizeof(statuses[0])) {
            goto invalid;
        }

        q->status_mask = 1 << statuses[i].status;
        q->read_mask = statuses[i].read;
    }

    /* is_read narrows what status gave (status=read&is_read=false: none) */

    if (ngx_http_arg(r, (u_char *) "is_read", 7, &value) == NGX_OK) {
        if (value.len == 4 && ngx_strncmp(value.data, "true", 4) == 0) {
            q->read_mask &= 2;

        } else if (value.len == 5 && ngx_strncmp(value.data, "false", 5) == 0)
        {
            q->read_mask &= 1;

        } else {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    return NGX_DECLINED;
}


/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the video list and the stats (event loop):
 * douyin_videos (GET /api/videos) and douyin_stats (GET /api/stats).
 *
 * Pages and counts are read from the store's indexes and counts (read
 * transactions); listed videos never processed have no record, so
 * status=pending (besides the pushed videos, which have one) and the
 * stats' total and pending come from the listing cache
 * (ngx_http_douyin_listing.c).  Tombstones (deleted) are left out of the
 * list but with status=deleted, and out of the stats.
 */


#include "ngx_http_douyin_module.h"


typedef struct {
    ngx_uint_t                  page;
    ngx_uint_t                  page_size;
    ngx_uint_t                  status_mask;    /* of status bits */
    ngx_uint_t                  read_mask;      /* UNREAD, READ */
} ngx_http_douyin_query_t;


static ngx_http_douyin_err_e ngx_http_douyin_parse_query(
    ngx_http_request_t *r, ngx_http_douyin_query_t *q);
static ngx_int_t ngx_http_douyin_videos_stored(ngx_http_request_t *r,
    ngx_http_douyin_query_t *q);
static void ngx_http_douyin_videos_pending(ngx_http_request_t *r);
static cJSON *ngx_http_douyin_videos_page(ngx_http_douyin_query_t *q,
    ngx_uint_t total);
static void ngx_http_douyin_stats_send(ngx_http_request_t *r);


/*
 * ngx_http_douyin_videos_handler: douyin_videos;  GET /api/videos?page=
 * &page_size=&status=&is_read= -> {"total_count","videos":[item],"page",
 * "page_size"}.  400 on a bad query.  status=pending comes from the
 * cached listing (only a worker's first listing is waited for); other
 * lists from the store.
 */

ngx_int_t
ngx_http_douyin_videos_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_douyin_err_e         err;
    ngx_http_douyin_query_t       q, *qp;
    ngx_http_douyin_main_conf_t  *dmcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin videos handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    err = ngx_http_douyin_parse_query(r, &q);

    if (err == NGX_HTTP_DOUYIN_OK && !ngx_http_douyin_store_ready(dmcf)) {
        err = NGX_HTTP_DOUYIN_ERR_STORE_CLOSED;
    }

    if (err != NGX_HTTP_DOUYIN_OK) {
        return ngx_http_douyin_send_error(r, err);
    }

    if (q.status_mask != ngx_http_douyin_statuses[NGX_HTTP_DOUYIN_PENDING]
                         .bit)
    {
        return ngx_http_douyin_videos_stored(r, &q);
    }

    qp = ngx_palloc(r->pool, sizeof(ngx_http_douyin_query_t));
    if (qp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *qp = q;
    ngx_http_set_ctx(r, qp, ngx_http_douyin_module);

    return ngx_http_douyin_listing_wait(r, dmcf->runner,
                                        ngx_http_douyin_videos_pending);
}


/* a page of stored videos: the counts and the page, from the store */

static ngx_int_t
ngx_http_douyin_videos_stored(ngx_http_request_t *r,
    ngx_http_douyin_query_t *q)
{
    int                           err;
    cJSON                        *json, *list, *page, *rec, *id;
    int64_t                       counts[NGX_HTTP_DOUYIN_NSTATUS][2], total;
    ngx_str_t                     body;
    ngx_uint_t                    s, rd;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    /*
     * the counts, the page index and the items' stored texts, copied
     * out of one read transaction; a store with an item without texts
     * gets the page made from its records below
     */

    err = ngx_http_douyin_store_list(&dmcf->runner->store, q->status_mask,
                                     q->read_mask, q->page, q->page_size,
                                     dmcf->audio_base_url.data, r->pool,
                                     &body);
    if (err == 0) {
        return ngx_http_douyin_send_json(r, NGX_HTTP_OK, body.data, body.len);
    }

    if (err != MDB_NOTFOUND) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: listing the store failed: %s",
                      mdb_strerror(err));
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_STORE_READ);
    }

    err = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);

    if (err == 0) {
        err = ngx_http_douyin_store_page(&dmcf->runner->store,
                                         q->status_mask, q->read_mask,
                                         (q->page - 1) * q->page_size,
                                         q->page_size, &page);
    }

    if (err != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: listing the store failed: %s",
                      mdb_strerror(err));
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_STORE_READ);
    }

    total = 0;

    for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
        for (rd = 0; rd < 2; rd++) {
            if ((q->status_mask & ngx_http_douyin_statuses[s].bit)
                && (q->read_mask & (1 << rd)))
            {
                total += counts[s][rd];
            }
        }
    }

    json = ngx_http_douyin_videos_page(q, (ngx_uint_t) total);
    list = cJSON_GetObjectItemCaseSensitive(json, "videos");

    cJSON_ArrayForEach(rec, page) {
        id = cJSON_GetObjectItemCaseSensitive(rec, "aweme_id");
        cJSON_AddItemToArray(list,
                             ngx_http_douyin_video_item(dmcf, id->valuestring,
                                                        rec, 0));
    }

    cJSON_Delete(page);

    return ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
}


/*
 * status=pending: a page of the pending videos: first those the collector
 * pushed (records, newest push first), then the listed videos without a
 * record (ids descending, never read)
 */

static void
ngx_http_douyin_videos_pending(ngx_http_request_t *r)
{
    int                           err;
    cJSON                        *json, *list, *page, *rec, *id;
    int64_t                       counts[NGX_HTTP_DOUYIN_NSTATUS][2];
    ngx_int_t                     rc;
    ngx_uint_t                    i, from, pushed, listed;
    ngx_http_douyin_query_t      *q;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    q = ngx_http_get_module_ctx(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    from = (q->page - 1) * q->page_size;
    page = NULL;
    pushed = 0;

    err = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);

    if (err == 0) {
        pushed = ((q->read_mask & NGX_HTTP_DOUYIN_UNREAD)
                  ? counts[NGX_HTTP_DOUYIN_PENDING][0] : 0)
                 + ((q->read_mask & NGX_HTTP_DOUYIN_READ)
                    ? counts[NGX_HTTP_DOUYIN_PENDING][1] : 0);

        err = ngx_http_douyin_store_page(&dmcf->runner->store,
                                         q->status_mask, q->read_mask,
                                         from, q->page_size, &page);
    }

    if (err != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "douyin: listing the store failed: %s",
                      mdb_strerror(err));
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_STORE_READ);
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* listed videos without a record have never been read */
    listed = (q->read_mask & NGX_HTTP_DOUYIN_UNREAD) ? listing->npending : 0;

    json = ngx_http_douyin_videos_page(q, pushed + listed);
    list = cJSON_GetObjectItemCaseSensitive(json, "videos");

    cJSON_ArrayForEach(rec, page) {
        id = cJSON_GetObjectItemCaseSensitive(rec, "aweme_id");
        cJSON_AddItemToArray(list,
                             ngx_http_douyin_video_item(dmcf, id->valuestring,
                                                        rec, 0));
    }

    cJSON_Delete(page);

    for (i = (from > pushed) ? from - pushed : 0;
         i < listed && (ngx_uint_t) cJSON_GetArraySize(list) < q->page_size;
         i++)
    {
        /* NULL but for "<id>.WAV": its file name, for the audio_url */
        rec = ngx_http_douyin_listing_record(listing, i);

        cJSON_AddItemToArray(list,
                             ngx_http_douyin_video_item(dmcf,
                                                        listing->pending[i],
                                                        rec, 0));
        cJSON_Delete(rec);
    }

    rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    ngx_http_finalize_request(r, rc);
}


/* {"total_count","videos":[],"page","page_size"}, videos to be filled */

static cJSON *
ngx_http_douyin_videos_page(ngx_http_douyin_query_t *q, ngx_uint_t total)
{
    cJSON  *json;

    json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "total_count", total);
    cJSON_AddArrayToObject(json, "videos");
    cJSON_AddNumberToObject(json, "page", q->page);
    cJSON_AddNumberToObject(json, "page_size", q->page_size);

    return json;
}


/*
 * ngx_http_douyin_stats_handler: douyin_stats;  GET /api/stats ->
 * {"total","completed","processing","failed","pending","success_rate",
 * "listing_age","asr_seconds","asr_seconds_30d"}: total is the WAVs on
 * file-system-go but those of tombstones, and pending those without a
 * record plus the pushed videos not transcribed yet, from the listing
 * fetched listing_age seconds ago and the store; the other counts are the
 * store's, and so are the seconds DashScope billed for the stored videos
 * (all; processed in the last 30 UTC days).  Once a worker has a listing,
 * stats never wait for file-system-go: a listing older than
 * douyin_listing_cache is answered with while it is refreshed.
 * 502 when file-system-go cannot be listed and no listing is cached.
 */

ngx_int_t
ngx_http_douyin_stats_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_douyin_main_conf_t  *dmcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin stats handler");

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    if (!ngx_http_douyin_store_ready(dmcf)) {
        return ngx_http_douyin_send_error(r,
                                          NGX_HTTP_DOUYIN_ERR_STORE_CLOSED);
    }

    return ngx_http_douyin_listing_wait(r, dmcf->runner,
                                        ngx_http_douyin_stats_send);
}


static void
ngx_http_douyin_stats_send(ngx_http_request_t *r)
{
    int                           err;
    cJSON                        *json;
    double                        asr, asr30;
    int64_t                       counts[NGX_HTTP_DOUYIN_NSTATUS][2];
    int64_t                       c, p, f, q;
    ngx_int_t                     rc;
    ngx_http_douyin_listing_t    *listing;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);
    listing = &dmcf->runner->listing;

    err = ngx_http_douyin_store_counts(&dmcf->runner->store, counts);

    if (err == 0) {
        err = ngx_http_douyin_store_asr(&dmcf->runner->store, ngx_time(),
                                        &asr, &asr30);
    }

    if (err != 0) {
        rc = ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_STORE_READ);
        ngx_http_finalize_request(r, rc);
        return;
    }

    p = counts[NGX_HTTP_DOUYIN_PROCESSING][0]
        + counts[NGX_HTTP_DOUYIN_PROCESSING][1];
    c = counts[NGX_HTTP_DOUYIN_COMPLETED][0]
        + counts[NGX_HTTP_DOUYIN_COMPLETED][1];
    f = counts[NGX_HTTP_DOUYIN_FAILED][0] + counts[NGX_HTTP_DOUYIN_FAILED][1];
    q = counts[NGX_HTTP_DOUYIN_PENDING][0]
        + counts[NGX_HTTP_DOUYIN_PENDING][1];

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
    cJSON_AddNumberToObject(json, "asr_seconds", asr);
    cJSON_AddNumberToObject(json, "asr_seconds_30d", asr30);

    rc = ngx_http_douyin_send_cjson(r, NGX_HTTP_OK, json);
    ngx_http_finalize_request(r, rc);
}


/*
 * page 1..1000000 (default 1), page_size 1..1000 (default 20), status one
 * of pending, processing, completed, failed, deleted, unread (completed
 * and not read), read (completed and read), is_read true or false (it
 * narrows what status gave), each percent-decoded.  Without status the
 * list leaves out pending and deleted videos.  A bad value is the error
 * that names its parameter and what it takes.
 */

static ngx_http_douyin_err_e
ngx_http_douyin_parse_query(ngx_http_request_t *r, ngx_http_douyin_query_t *q)
{
    ngx_int_t         n, rc;
    ngx_str_t         value;
    ngx_uint_t        s;
    const ngx_str_t  *name;

    /* the later version's filters: completed, by read flag */

    static const struct {
        ngx_str_t   name;
        ngx_uint_t  read_mask;
    } reads[] = {
        { ngx_string("unread"), NGX_HTTP_DOUYIN_UNREAD },
        { ngx_string("read"), NGX_HTTP_DOUYIN_READ }
    };

    q->page = 1;
    q->page_size = 20;
    q->status_mask = NGX_HTTP_DOUYIN_STORED;
    q->read_mask = NGX_HTTP_DOUYIN_UNREAD|NGX_HTTP_DOUYIN_READ;

    rc = ngx_http_douyin_arg(r, "page", &value);

    if (rc == NGX_OK) {
        n = ngx_atoi(value.data, value.len);
        if (n < 1 || n > 1000000) {
            return NGX_HTTP_DOUYIN_ERR_BAD_PAGE;
        }

        q->page = n;
    }

    if (rc != NGX_ERROR) {
        rc = ngx_http_douyin_arg(r, "page_size", &value);
    }

    if (rc == NGX_OK) {
        n = ngx_atoi(value.data, value.len);
        if (n < 1 || n > 1000) {
            return NGX_HTTP_DOUYIN_ERR_BAD_PAGE_SIZE;
        }

        q->page_size = n;
    }

    if (rc != NGX_ERROR) {
        rc = ngx_http_douyin_arg(r, "status", &value);
    }

    if (rc == NGX_OK) {
        for (s = 0; s < NGX_HTTP_DOUYIN_NSTATUS; s++) {
            name = &ngx_http_douyin_statuses[s].name;

            if (value.len == name->len
                && ngx_strncmp(value.data, name->data, value.len) == 0)
            {
                q->status_mask = ngx_http_douyin_statuses[s].bit;
                break;
            }
        }

        if (s == NGX_HTTP_DOUYIN_NSTATUS) {
            for (s = 0; s < sizeof(reads) / sizeof(reads[0]); s++) {
                if (value.len == reads[s].name.len
                    && ngx_strncmp(value.data, reads[s].name.data, value.len)
                       == 0)
                {
                    break;
                }
            }

            if (s == sizeof(reads) / sizeof(reads[0])) {
                return NGX_HTTP_DOUYIN_ERR_BAD_STATUS;
            }

            q->status_mask =
                ngx_http_douyin_statuses[NGX_HTTP_DOUYIN_COMPLETED].bit;
            q->read_mask = reads[s].read_mask;
        }
    }

    if (rc != NGX_ERROR) {
        rc = ngx_http_douyin_arg(r, "is_read", &value);
    }

    if (rc == NGX_OK) {
        if (value.len == 4 && ngx_strncmp(value.data, "true", 4) == 0) {
            q->read_mask &= NGX_HTTP_DOUYIN_READ;

        } else if (value.len == 5 && ngx_strncmp(value.data, "false", 5) == 0)
        {
            q->read_mask &= NGX_HTTP_DOUYIN_UNREAD;

        } else {
            return NGX_HTTP_DOUYIN_ERR_BAD_IS_READ;
        }
    }

    return (rc == NGX_ERROR) ? NGX_HTTP_DOUYIN_ERR_INTERNAL
                             : NGX_HTTP_DOUYIN_OK;
}

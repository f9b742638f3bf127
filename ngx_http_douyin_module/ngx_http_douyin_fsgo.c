
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the file-system-go client (thread side).
 *
 * file-system-go serves the WAVs and their metadata (douyin_filesystem_api
 * 1.5; version 2 lists with /api/files/query, deletes with
 * /api/files/<filename>, has no metadata and no read routes, and the
 * module never falls back from one version's routes to the other's):
 *   POST {url}/api/videos/query {"filters":{"suffix":".wav"}} -> the
 *        listing {"success":true,"videos":[{"id","filename","size",
 *        "url"}]} ("videos" left out when nothing matches; no "id" in 2);
 *   GET {url}/api/metadata/<filename> -> {"metadata":{"title","author",
 *        "description","upload_time"}}, 404 when there is none;
 *   POST {url}/api/read/mark {"filename"} -> {"success":true};
 *   DELETE {url}/api/videos/<filename> -> 200, 404 when gone already.
 * Each call runs in a thread op over ngx_http_douyin_curl_request(); failures
 * set op->err (FILESYSTEM_UNAVAILABLE: no answer, FILESYSTEM_BAD_RESPONSE:
 * an answer we cannot use) and op->detail for the log.
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


#define NGX_HTTP_DOUYIN_LIST_MAX     (64 * 1024 * 1024)
#define NGX_HTTP_DOUYIN_ANSWER_MAX   (4 * 1024 * 1024)


static cJSON *ngx_http_douyin_fsgo_query(ngx_http_douyin_op_t *op);
static ngx_int_t ngx_http_douyin_fsgo_item(ngx_http_douyin_op_t *op,
    cJSON *v, ngx_http_douyin_item_t *it);
static void ngx_http_douyin_fsgo_unique(ngx_http_douyin_op_t *op);
static ngx_int_t ngx_http_douyin_fsgo_name(ngx_http_douyin_op_t *op,
    cJSON *v);
static int ngx_libc_cdecl ngx_http_douyin_item_cmp(const void *one,
    const void *two);
static void ngx_http_douyin_fsgo_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_curl_t *f, ngx_int_t rc, const char *what);




/*
 * ngx_http_douyin_fsgo_list: the listing into op->items (op->nitems of
 * them, malloc()ed), sorted by id, descending; op->u.listing.listed counts them.
 * Only files named "<aweme_id>.wav" (any case) are taken; others are
 * counted in op->u.listing.ignored.  Returns NGX_OK, or NGX_ERROR with op->err and
 * op->detail set.
 */

ngx_int_t
ngx_http_douyin_fsgo_list(ngx_http_douyin_op_t *op)
{
    cJSON       *json, *videos, *v;
    ngx_uint_t   n;

    json = ngx_http_douyin_fsgo_query(op);
    if (json == NULL) {
        return NGX_ERROR;
    }

    videos = cJSON_GetObjectItemCaseSensitive(json, "videos");
    n = (videos != NULL) ? (ngx_uint_t) cJSON_GetArraySize(videos) : 0;

    op->items = calloc(n ? n : 1, sizeof(ngx_http_douyin_item_t));
    if (op->items == NULL) {
        cJSON_Delete(json);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return NGX_ERROR;
    }

    op->nitems = 0;
    op->u.listing.ignored = 0;

    /* OP_CLAIM_PENDING: every listed name (a pushed one may be any) */

    if (op->op == NGX_HTTP_DOUYIN_OP_CLAIM_PENDING) {
        op->u.listing.names = calloc(n ? n : 1, sizeof(ngx_http_douyin_name_t));
        if (op->u.listing.names == NULL) {
            cJSON_Delete(json);
            ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
            return NGX_ERROR;
        }
    }

    cJSON_ArrayForEach(v, videos) {
        if (op->u.listing.names != NULL
            && ngx_http_douyin_fsgo_name(op, v) != NGX_OK)
        {
            cJSON_Delete(json);
            ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
            return NGX_ERROR;
        }

        switch (ngx_http_douyin_fsgo_item(op, v, &op->items[op->nitems])) {

        case NGX_OK:
            op->nitems++;
            break;

        case NGX_DECLINED:
            op->u.listing.ignored++;
            break;

        default: /* NGX_ERROR */
            op->nitems++;
            cJSON_Delete(json);
            ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
            return NGX_ERROR;
        }
    }

    cJSON_Delete(json);

    ngx_http_douyin_fsgo_unique(op);

    op->u.listing.listed = op->nitems;

    return NGX_OK;
}


/*
 * POST {filesystem}/api/videos/query (version 2: /api/files/query): the
 * answer, a JSON object whose "videos" is an array or missing, or NULL
 * with op->err and op->detail
 */

static cJSON *
ngx_http_douyin_fsgo_query(ngx_http_douyin_op_t *op)
{
    char                     *url;
    size_t                    len;
    cJSON                    *json, *videos, *success;
    ngx_int_t                 rc;
    ngx_http_douyin_curl_t   f;

    static const char  *headers[] = {
        "Content-Type: application/json", NULL
    };

    len = op->conf->filesystem_url.len + sizeof("/api/videos/query");
    url = malloc(len);
    if (url == NULL) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return NULL;
    }

    /* never the other version's route: a 404 there is an error */

    ngx_snprintf((u_char *) url, len, "%s/api/%s/query%Z",
                 op->conf->filesystem_url.data,
                 op->conf->filesystem_api == 2 ? "files" : "videos");

    rc = ngx_http_douyin_curl_request(&f, "POST", url, headers,
                               "{\"filters\":{\"suffix\":\".wav\"}}",
                               op->conf->http_timeout,
                               NGX_HTTP_DOUYIN_LIST_MAX);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_LIST,
                                 f.status, f.timedout);

    if (rc != NGX_OK) {
        free(url);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_FS_UNAVAILABLE);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go listing failed: %s%Z", f.error);
        return NULL;
    }

    free(url);

    op->http_status = f.status;

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_curl_free(&f);

    success = cJSON_GetObjectItemCaseSensitive(json, "success");
    videos = cJSON_GetObjectItemCaseSensitive(json, "videos");

    if (op->http_status != 200 || !cJSON_IsObject(json)
        || !cJSON_IsTrue(success)
        || (videos != NULL && !cJSON_IsArray(videos)))
    {
        cJSON_Delete(json);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_FS_BAD_RESPONSE);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go listing answered HTTP %l "
                     "without a valid video list%Z", op->http_status);
        return NULL;
    }

    return json;
}


/*
 * One entry v of the listing into it: NGX_OK, NGX_DECLINED when it is
 * not "<aweme_id>.wav", NGX_ERROR when out of memory (it then holds what
 * was allocated).
 */

static ngx_int_t
ngx_http_douyin_fsgo_item(ngx_http_douyin_op_t *op, cJSON *v,
    ngx_http_douyin_item_t *it)
{
    char    *p;
    size_t   len, i, base_len;
    cJSON   *name, *rel;

    name = cJSON_GetObjectItemCaseSensitive(v, "filename");
    rel = cJSON_GetObjectItemCaseSensitive(v, "url");

    if (!cJSON_IsString(name)) {
        return NGX_DECLINED;
    }

    len = ngx_strlen(name->valuestring);

    if (len < 5 || len - 4 > NGX_HTTP_DOUYIN_ID_MAX
        || ngx_strcasecmp((u_char *) name->valuestring + len - 4,
                          (u_char *) ".wav") != 0)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < len - 4; i++) {
        if (name->valuestring[i] < '0' || name->valuestring[i] > '9') {
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(it->aweme_id, name->valuestring, len - 4);
    it->aweme_id[len - 4] = '\0';

    it->filename = strdup(name->valuestring);

    base_len = op->conf->audio_base_url.len;

    /* the listing's url is relative ("/audio/<filename>") */

    if (cJSON_IsString(rel) && rel->valuestring[0] == '/') {
        it->file_url = malloc(base_len + ngx_strlen(rel->valuestring) + 1);
        if (it->file_url != NULL) {
            p = (char *) ngx_cpymem(it->file_url,
                                    op->conf->audio_base_url.data, base_len);
            ngx_cpystrn((u_char *) p, (u_char *) rel->valuestring,
                        ngx_strlen(rel->valuestring) + 1);
        }

    } else {
        it->file_url = malloc(base_len + sizeof("/audio/") + len);
        if (it->file_url != NULL) {
            ngx_snprintf((u_char *) it->file_url,
                         base_len + sizeof("/audio/") + len,
                         "%s/audio/%s%Z", op->conf->audio_base_url.data,
                         name->valuestring);
        }
    }

    if (it->filename == NULL || it->file_url == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the name and url of the listing's entry v into op->u.listing.names */

static ngx_int_t
ngx_http_douyin_fsgo_name(ngx_http_douyin_op_t *op, cJSON *v)
{
    cJSON                   *name, *rel;
    ngx_http_douyin_name_t  *nm;

    name = cJSON_GetObjectItemCaseSensitive(v, "filename");
    rel = cJSON_GetObjectItemCaseSensitive(v, "url");

    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        return NGX_OK;
    }

    nm = &op->u.listing.names[op->u.listing.nnames++];

    nm->name = strdup(name->valuestring);

    if (cJSON_IsString(rel) && rel->valuestring[0] == '/') {
        nm->url = strdup(rel->valuestring);
        if (nm->url == NULL) {
            return NGX_ERROR;
        }
    }

    return (nm->name != NULL) ? NGX_OK : NGX_ERROR;
}


/* sorts op->items by id; a video listed twice (a.wav, a.WAV) is kept once */

static void
ngx_http_douyin_fsgo_unique(ngx_http_douyin_op_t *op)
{
    ngx_uint_t               i, n;
    ngx_http_douyin_item_t  *items;

    if (op->nitems < 2) {
        return;
    }

    items = op->items;

    ngx_qsort(items, op->nitems, sizeof(ngx_http_douyin_item_t),
              ngx_http_douyin_item_cmp);

    for (i = 1, n = 1; i < op->nitems; i++) {
        if (ngx_strcmp(items[i].aweme_id, items[n - 1].aweme_id) == 0) {
            free(items[i].file_url);
            free(items[i].filename);
            op->u.listing.ignored++;
            continue;
        }

        items[n++] = items[i];
    }

    op->nitems = n;
}


/* ids in descending numeric order: longer first, then by digits */

static int ngx_libc_cdecl
ngx_http_douyin_item_cmp(const void *one, const void *two)
{
    const ngx_http_douyin_item_t  *a = one, *b = two;

    size_t  la, lb;

    la = ngx_strlen(a->aweme_id);
    lb = ngx_strlen(b->aweme_id);

    if (la != lb) {
        return (la < lb) ? 1 : -1;
    }

    return -ngx_strcmp(a->aweme_id, b->aweme_id);
}


/*
 * ngx_http_douyin_fsgo_metadata: GET {filesystem}/api/metadata/<filename>
 * adds title, author,
 * description and upload_time to rec when file-system-go has them.  A
 * 404 (no metadata) or any failure adds nothing: metadata is optional.
 */

void
ngx_http_douyin_fsgo_metadata(ngx_http_douyin_op_t *op,
    ngx_http_douyin_item_t *item, cJSON *rec)
{
    char                     *url;
    size_t                    len;
    cJSON                    *json, *meta, *field;
    ngx_int_t                 rc;
    ngx_uint_t                i;
    ngx_http_douyin_curl_t   f;

    static const char  *names[] = {
        "title", "author", "description", "upload_time", NULL
    };

    /* the newer file-system-go has no metadata: the collector pushes it */

    if (op->conf->filesystem_api == 2) {
        return;
    }

    len = op->conf->filesystem_url.len + sizeof("/api/metadata/")
          + ngx_strlen(item->filename);
    url = malloc(len);
    if (url == NULL) {
        return;
    }

    ngx_snprintf((u_char *) url, len, "%s/api/metadata/%s%Z",
                 op->conf->filesystem_url.data, item->filename);

    rc = ngx_http_douyin_curl_request(&f, "GET", url, NULL, NULL,
                               op->conf->http_timeout,
                               NGX_HTTP_DOUYIN_ANSWER_MAX);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_METADATA,
                                 f.status, f.timedout);

    if (rc != NGX_OK) {
        free(url);
        return;
    }

    free(url);

    json = (f.status == 200) ? cJSON_ParseWithLength(f.body, f.len) : NULL;
    ngx_http_douyin_curl_free(&f);

    meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");

    for (i = 0; names[i] != NULL; i++) {
        field = cJSON_GetObjectItemCaseSensitive(meta, names[i]);

        if (cJSON_IsString(field)) {
            cJSON_AddStringToObject(rec, names[i], field->valuestring);
        }
    }

    cJSON_Delete(json);
}


/*
 * ngx_http_douyin_fsgo_mark_read: POST {filesystem}/api/read/mark
 * {"filename":"<file>"} for op->items[0]; only 200 {"success":true}
 * counts.  Returns NGX_OK, or NGX_ERROR with op->err and op->detail set.
 */

ngx_int_t
ngx_http_douyin_fsgo_mark_read(ngx_http_douyin_op_t *op)
{
    char                     *url, *body;
    size_t                    len;
    cJSON                    *req, *json;
    ngx_int_t                 rc;
    ngx_http_douyin_curl_t   f;

    static const char  *headers[] = {
        "Content-Type: application/json", NULL
    };

    req = cJSON_CreateObject();
    if (cJSON_AddStringToObject(req, "filename", op->items[0].filename)
        == NULL)
    {
        cJSON_Delete(req);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return NGX_ERROR;
    }

    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);

    len = op->conf->filesystem_url.len + sizeof("/api/read/mark");
    url = malloc(len);

    if (body == NULL || url == NULL) {
        free(url);
        cJSON_free(body);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return NGX_ERROR;
    }

    ngx_snprintf((u_char *) url, len, "%s/api/read/mark%Z",
                 op->conf->filesystem_url.data);

    rc = ngx_http_douyin_curl_request(&f, "POST", url, headers, body,
                               op->conf->http_timeout,
                               NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);
    cJSON_free(body);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_MARK_READ,
                                 f.status, f.timedout);

    json = (rc == NGX_OK && f.status == 200)
           ? cJSON_ParseWithLength(f.body, f.len) : NULL;

    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "success"))) {
        cJSON_Delete(json);
        ngx_http_douyin_fsgo_error(op, &f, rc, "mark read");
        ngx_http_douyin_curl_free(&f);
        return NGX_ERROR;
    }

    cJSON_Delete(json);
    ngx_http_douyin_curl_free(&f);

    return NGX_OK;
}


/*
 * ngx_http_douyin_fsgo_delete: DELETE {filesystem}/api/videos/<file>
 * (version 2: /api/files/<file>) of op->items[0], the name escaped;
 * *gone = 1 when file-system-go had no such file (404: never a reason to
 * try the other version's route).  Returns NGX_OK, or NGX_ERROR with
 * op->err and op->detail set.
 */

ngx_int_t
ngx_http_douyin_fsgo_delete(ngx_http_douyin_op_t *op, ngx_uint_t *gone)
{
    char                     *url;
    ngx_int_t                 rc;
    ngx_http_douyin_curl_t   f;

    url = ngx_http_douyin_join(op->conf->filesystem_url.data,
                               op->conf->filesystem_api == 2
                               ? "/api/files/" : "/api/videos/",
                               op->items[0].filename,
                               NGX_ESCAPE_URI_COMPONENT);
    if (url == NULL) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        return NGX_ERROR;
    }

    rc = ngx_http_douyin_curl_request(&f, "DELETE", url, NULL, NULL,
                               op->conf->http_timeout,
                               NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_DELETE,
                                 f.status, f.timedout);

    if (rc != NGX_OK || (f.status != 200 && f.status != 404)) {
        ngx_http_douyin_fsgo_error(op, &f, rc, "delete");
        ngx_http_douyin_curl_free(&f);
        return NGX_ERROR;
    }

    *gone = (f.status == 404);
    ngx_http_douyin_curl_free(&f);

    return NGX_OK;
}


/* a failed or bad file-system-go answer: op->code, op->detail */

static void
ngx_http_douyin_fsgo_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_curl_t *f, ngx_int_t rc, const char *what)
{
    if (rc != NGX_OK && !f->not_sent) {

        /* it may have deleted or marked the file: the outcome is unknown */

        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_FS_UNKNOWN);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go %s sent, no answer: %s%Z", what,
                     f->error);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_FS_UNAVAILABLE);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go %s failed: %s%Z", what, f->error);
        return;
    }

    ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_FS_BAD_RESPONSE);
    ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                 "file-system-go %s answered HTTP %l%Z", what, f->status);
}


/*
 * ngx_http_douyin_join: a malloc()ed "<a><b><c>" where c is escaped with
 * ngx_escape_uri() of the given type (NGX_ESCAPE_URI_COMPONENT for a
 * file name, which may hold any byte but '/' and NUL); NULL when out of
 * memory.  Thread side.
 */

char *
ngx_http_douyin_join(const char *a, const char *b, const char *c,
    ngx_uint_t type)
{
    char    *url;
    u_char  *p;
    size_t   la, lb, lc;

    la = ngx_strlen(a);
    lb = ngx_strlen(b);
    lc = ngx_strlen(c);

    url = malloc(la + lb + 3 * lc + 1);
    if (url == NULL) {
        return NULL;
    }

    p = ngx_cpymem(url, a, la);
    p = ngx_cpymem(p, b, lb);
    p = (u_char *) ngx_escape_uri(p, (u_char *) c, lc, type);

    *p = '\0';

    return url;
}

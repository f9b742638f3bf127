
/*
 * ngx_http_douyin_module: the thread side.
 *
 * ngx_http_douyin_op_handler() runs one ngx_http_douyin_op_t in a thread
 * of the pool: libcurl calls, cJSON parsing of what file-system-go and
 * DashScope answer, and the LMDB write transaction that records the
 * outcome, in that order (never a write transaction around network I/O).
 * It reads the op's inputs and the (immutable) configuration, writes only
 * the op's outputs, uses malloc() and never logs: the event loop logs
 * op->code and op->detail when the task completes.
 *
 * Wire formats: ../shared/spec/file-system-go.md and
 * ../shared/spec/asr-providers.md section 1 (DashScope asynchronous file
 * transcription: submit 1.2, query 1.3, result file 1.5, errors 1.6).
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_LIST_MAX     (64 * 1024 * 1024)
#define NGX_HTTP_DOUYIN_ANSWER_MAX   (4 * 1024 * 1024)
#define NGX_HTTP_DOUYIN_RESULT_MAX   (32 * 1024 * 1024)


static void ngx_http_douyin_op_list(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_submit(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_poll(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_fail(ngx_http_douyin_op_t *op,
    const char *code, const char *message);
static void ngx_http_douyin_op_recover(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_listing(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_read(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_delete(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_push(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_op_list_pending(ngx_http_douyin_op_t *op);
static char *ngx_http_douyin_filesystem_file_url(ngx_http_douyin_op_t *op,
    const char *route, const char *filename);
static int ngx_libc_cdecl ngx_http_douyin_name_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_douyin_fetch_list(ngx_http_douyin_op_t *op);
static int ngx_libc_cdecl ngx_http_douyin_item_cmp(const void *one,
    const void *two);
static void ngx_http_douyin_filesystem_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_fetch_t *f, ngx_int_t rc, const char *what);
static ngx_int_t ngx_http_douyin_provider_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_fetch_t *f, const char *what);
static cJSON *ngx_http_douyin_parse_result(const char *body, size_t len);
static void ngx_http_douyin_add_metadata(ngx_http_douyin_op_t *op,
    ngx_http_douyin_item_t *item, cJSON *rec);
static void ngx_http_douyin_store_outcome(ngx_http_douyin_op_t *op,
    cJSON **records);
static cJSON *ngx_http_douyin_failed_record(const char *code,
    const char *message);
static void ngx_http_douyin_set(char *dst, size_t size, const char *src);
static ngx_int_t ngx_http_douyin_no_speech(const char *code);


/*
 * ngx_http_douyin_op_handler: the thread task handler; data is an
 * ngx_http_douyin_op_t.  Sets op->rc and the op's outputs.
 */

void
ngx_http_douyin_op_handler(void *data, ngx_log_t *log)
{
    ngx_http_douyin_op_t  *op = data;

    op->rc = NGX_HTTP_DOUYIN_RC_ERROR;
    op->http_status = 0;
    op->code[0] = '\0';
    op->detail[0] = '\0';
    op->key_rejected = 0;

    switch (op->op) {

    case NGX_HTTP_DOUYIN_OP_LIST:
        ngx_http_douyin_op_list(op);
        break;

    case NGX_HTTP_DOUYIN_OP_SUBMIT:
        ngx_http_douyin_op_submit(op);
        break;

    case NGX_HTTP_DOUYIN_OP_POLL:
        ngx_http_douyin_op_poll(op);
        break;

    case NGX_HTTP_DOUYIN_OP_FAIL:
        ngx_http_douyin_op_fail(op, op->fail_code, op->fail_message);
        break;

    case NGX_HTTP_DOUYIN_OP_RECOVER:
        ngx_http_douyin_op_recover(op);
        break;

    case NGX_HTTP_DOUYIN_OP_LISTING:
        ngx_http_douyin_op_listing(op);
        break;

    case NGX_HTTP_DOUYIN_OP_READ:
        ngx_http_douyin_op_read(op);
        break;

    case NGX_HTTP_DOUYIN_OP_DELETE:
        ngx_http_douyin_op_delete(op);
        break;

    case NGX_HTTP_DOUYIN_OP_PUSH:
        ngx_http_douyin_op_push(op);
        break;

    case NGX_HTTP_DOUYIN_OP_LIST_PENDING:
        ngx_http_douyin_op_list_pending(op);
        break;
    }
}


/*
 * ngx_http_douyin_op_free: frees what the thread side malloc()ed into the
 * op (items and their strings, task ids).  Event loop.
 */

void
ngx_http_douyin_op_free(ngx_http_douyin_op_t *op)
{
    ngx_uint_t  i;

    for (i = 0; i < op->nitems; i++) {
        free(op->items[i].file_url);
        free(op->items[i].filename);

        if (op->task_ids != NULL) {
            free(op->task_ids[i]);
        }
    }

    free(op->items);
    free(op->task_ids);

    for (i = 0; i < op->nnames; i++) {
        free(op->names[i].name);
        free(op->names[i].url);
    }

    free(op->names);
    cJSON_Delete(op->fields);

    op->items = NULL;
    op->task_ids = NULL;
    op->nitems = 0;
    op->names = NULL;
    op->nnames = 0;
    op->fields = NULL;
}


/*
 * POST {filesystem}/api/videos/query (douyin_filesystem_api 1.5) or
 * /api/files/query (2) {"filters":{"suffix":".wav"}} into op->items
 * (OP_LIST then claims every listed video that is not completed;
 * OP_LISTING finds the pending ones).  file-system-go answers
 * {"success":true,"videos":[{"id","filename","size","url"}]} (version 2
 * without "id") and leaves "videos" out when nothing matches.  Only
 * files named "<aweme_id>.wav" (any case) are taken; others are counted
 * in ignored.  OP_LIST_PENDING also gets every listed name with its URL
 * in op->names, sorted by name (a pushed audio_filename may be any plain
 * name).  Returns NGX_OK, or NGX_ERROR with op->code and op->detail set.
 */

static ngx_int_t
ngx_http_douyin_fetch_list(ngx_http_douyin_op_t *op)
{
    char                     *url, *p;
    size_t                    len, base_len;
    cJSON                    *json, *videos, *v, *name, *rel, *success;
    ngx_uint_t                n, i;
    ngx_http_douyin_item_t   *items, *it;
    ngx_http_douyin_fetch_t   f;

    static const char  *headers[] = {
        "Content-Type: application/json", NULL
    };

    len = op->conf->filesystem_url.len + sizeof("/api/videos/query");
    url = malloc(len);
    if (url == NULL) {
        ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
        return NGX_ERROR;
    }

    /* never the other version's route: a 404 there is an error */

    ngx_snprintf((u_char *) url, len, "%s/api/%s/query%Z",
                 op->conf->filesystem_url.data,
                 op->conf->filesystem_api == 2 ? "files" : "videos");

    if (ngx_http_douyin_fetch(&f, "POST", url, headers,
                              "{\"filters\":{\"suffix\":\".wav\"}}",
                              op->conf->http_timeout,
                              NGX_HTTP_DOUYIN_LIST_MAX)
        != NGX_OK)
    {
        free(url);
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "FILESYSTEM_UNAVAILABLE");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go listing failed: %s%Z", f.error);
        return NGX_ERROR;
    }

    free(url);

    op->http_status = f.status;

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_fetch_free(&f);

    success = cJSON_GetObjectItemCaseSensitive(json, "success");
    videos = cJSON_GetObjectItemCaseSensitive(json, "videos");

    if (op->http_status != 200 || !cJSON_IsObject(json)
        || !cJSON_IsTrue(success)
        || (videos != NULL && !cJSON_IsArray(videos)))
    {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "FILESYSTEM_BAD_RESPONSE");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go listing answered HTTP %l "
                     "without a valid video list%Z", op->http_status);
        return NGX_ERROR;
    }

    n = (videos != NULL) ? (ngx_uint_t) cJSON_GetArraySize(videos) : 0;

    items = calloc(n ? n : 1, sizeof(ngx_http_douyin_item_t));
    if (items == NULL) {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
        return NGX_ERROR;
    }

    op->items = items;
    op->nitems = 0;
    op->ignored = 0;

    base_len = op->conf->audio_base_url.len;

    if (op->op == NGX_HTTP_DOUYIN_OP_LIST_PENDING) {
        op->names = calloc(n ? n : 1, sizeof(ngx_http_douyin_name_t));
        if (op->names == NULL) {
            cJSON_Delete(json);
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            return NGX_ERROR;
        }
    }

    cJSON_ArrayForEach(v, videos) {
        name = cJSON_GetObjectItemCaseSensitive(v, "filename");
        rel = cJSON_GetObjectItemCaseSensitive(v, "url");

        if (!cJSON_IsString(name)) {
            op->ignored++;
            continue;
        }

        len = ngx_strlen(name->valuestring);

        if (op->names != NULL && len > 0) {
            ngx_http_douyin_name_t  *nm = &op->names[op->nnames++];

            nm->name = strdup(name->valuestring);
            nm->url = (cJSON_IsString(rel) && rel->valuestring[0] == '/')
                      ? strdup(rel->valuestring) : NULL;

            if (nm->name == NULL
                || (cJSON_IsString(rel) && rel->valuestring[0] == '/'
                    && nm->url == NULL))
            {
                cJSON_Delete(json);
                ngx_http_douyin_set(op->code, sizeof(op->code),
                                    "OUT_OF_MEMORY");
                return NGX_ERROR;
            }
        }

        if (len < 5 || len - 4 > NGX_HTTP_DOUYIN_ID_MAX
            || ngx_strcasecmp((u_char *) name->valuestring + len - 4,
                              (u_char *) ".wav") != 0)
        {
            op->ignored++;
            continue;
        }

        for (i = 0; i < len - 4; i++) {
            if (name->valuestring[i] < '0' || name->valuestring[i] > '9') {
                break;
            }
        }

        if (i != len - 4) {
            op->ignored++;
            continue;
        }

        it = &items[op->nitems];

        ngx_memcpy(it->aweme_id, name->valuestring, len - 4);
        it->aweme_id[len - 4] = '\0';

        it->filename = strdup(name->valuestring);

        /* the listing's url is relative ("/audio/<filename>") */

        if (cJSON_IsString(rel) && rel->valuestring[0] == '/') {
            it->file_url = malloc(base_len + ngx_strlen(rel->valuestring)
                                  + 1);
            if (it->file_url != NULL) {
                p = (char *) ngx_cpymem(it->file_url,
                                        op->conf->audio_base_url.data,
                                        base_len);
                ngx_cpystrn((u_char *) p, (u_char *) rel->valuestring,
                            ngx_strlen(rel->valuestring) + 1);
            }

        } else {
            it->file_url = malloc(base_len + sizeof("/audio/") + len);
            if (it->file_url != NULL) {
                ngx_snprintf((u_char *) it->file_url,
                             base_len + sizeof("/audio/") + len,
                             "%s/audio/%s%Z",
                             op->conf->audio_base_url.data,
                             name->valuestring);
            }
        }

        op->nitems++;

        if (it->filename == NULL || it->file_url == NULL) {
            cJSON_Delete(json);
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            return NGX_ERROR;
        }
    }

    cJSON_Delete(json);

    /* by id, and a video listed twice (a.wav, a.WAV) is taken once */

    if (op->nitems > 1) {
        ngx_qsort(items, op->nitems, sizeof(ngx_http_douyin_item_t),
                  ngx_http_douyin_item_cmp);

        for (i = 1, n = 1; i < op->nitems; i++) {
            if (ngx_strcmp(items[i].aweme_id, items[n - 1].aweme_id) == 0) {
                free(items[i].file_url);
                free(items[i].filename);
                op->ignored++;
                continue;
            }

            items[n++] = items[i];
        }

        op->nitems = n;
    }

    op->listed = op->nitems;

    if (op->nnames > 1) {
        ngx_qsort(op->names, op->nnames, sizeof(ngx_http_douyin_name_t),
                  ngx_http_douyin_name_cmp);
    }

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_douyin_name_cmp(const void *one, const void *two)
{
    const ngx_http_douyin_name_t  *a = one, *b = two;

    return ngx_strcmp(a->name, b->name);
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


static void
ngx_http_douyin_op_list(ngx_http_douyin_op_t *op)
{
    int         err;
    ngx_uint_t  claimed, i;

    if (ngx_http_douyin_fetch_list(op) != NGX_OK) {
        return;
    }

    if (op->nitems == 0) {
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    err = ngx_http_douyin_store_claim(op->store, op->items, op->nitems,
                                      &claimed, &op->owner);
    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            err == MDB_MAP_FULL ? "STORE_FULL"
                                                : "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "claiming videos failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        op->deleted += (op->items[i].outcome == NGX_HTTP_DOUYIN_DELETED);
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_LIST_PENDING (POST /api/process/pending): the listing, the pending
 * (pushed) records, and the claim of those whose audio_filename is
 * listed.  A pushed video whose file is not listed (yet) stays pending;
 * when the listing fails nothing is claimed and nothing changes (the
 * error is the op's).  op->items are the pending videos listed, with
 * their claim flags; op->listed counts them.
 */

static void
ngx_http_douyin_op_list_pending(ngx_http_douyin_op_t *op)
{
    int                      err;
    ngx_uint_t               i, k, claimed, np;
    ngx_http_douyin_name_t   key, *nm;
    ngx_http_douyin_item_t  *pending;

    if (ngx_http_douyin_fetch_list(op) != NGX_OK) {
        return;
    }

    /* the digit-named items of the listing are not needed here */

    for (i = 0; i < op->nitems; i++) {
        free(op->items[i].file_url);
        free(op->items[i].filename);
    }

    free(op->items);
    op->items = NULL;
    op->nitems = 0;

    err = ngx_http_douyin_store_pending(op->store, (ngx_uint_t) -1,
                                        &pending, &np);
    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code), "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "reading the pending videos failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    op->items = pending;
    op->nitems = np;

    for (i = 0, k = 0; i < np; i++) {
        key.name = pending[i].filename;

        nm = (op->nnames > 0)
             ? bsearch(&key, op->names, op->nnames,
                       sizeof(ngx_http_douyin_name_t),
                       ngx_http_douyin_name_cmp)
             : NULL;

        if (nm == NULL) {
            free(pending[i].filename);      /* not listed (yet): stays */
            pending[i].filename = NULL;
            continue;
        }

        /* the listing's url is not escaped: a name may hold a space */

        pending[i].file_url = (nm->url != NULL)
            ? ngx_http_douyin_join(op->conf->audio_base_url.data, "",
                                   nm->url, NGX_ESCAPE_URI)
            : ngx_http_douyin_join(op->conf->audio_base_url.data,
                                   "/audio/", nm->name,
                                   NGX_ESCAPE_URI_COMPONENT);

        pending[k++] = pending[i];

        if (pending[k - 1].file_url == NULL) {
            for (i++; i < np; i++) {
                free(pending[i].filename);
            }

            op->nitems = k;
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            return;
        }
    }

    op->nitems = k;
    op->listed = k;

    if (k == 0) {
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    err = ngx_http_douyin_store_claim(op->store, op->items, op->nitems,
                                      &claimed, &op->owner);
    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            err == MDB_MAP_FULL ? "STORE_FULL"
                                                : "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "claiming videos failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_SUBMIT: POST {asr}/api/v1/services/audio/asr/transcription with
 * X-DashScope-Async: enable and {"model","input":{"file_urls"},
 * "parameters":{}} (parameters always sent: workspace hosts need it),
 * then store output.task_id with the items.
 */

static void
ngx_http_douyin_op_submit(ngx_http_douyin_op_t *op)
{
    int                       err;
    char                     *url, *body;
    size_t                    len;
    cJSON                    *req, *input, *urls, *json, *output, *task_id;
    ngx_uint_t                i;
    ngx_http_douyin_fetch_t   f;

    const char  *headers[] = {
        op->auth_header,
        "Content-Type: application/json",
        "X-DashScope-Async: enable",
        NULL
    };

    req = cJSON_CreateObject();
    input = cJSON_AddObjectToObject(req, "input");
    urls = cJSON_AddArrayToObject(input, "file_urls");

    if (req == NULL || urls == NULL
        || cJSON_AddStringToObject(req, "model",
                                   op->conf->asr_model.data) == NULL
        || cJSON_AddObjectToObject(req, "parameters") == NULL)
    {
        cJSON_Delete(req);
        ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        if (!cJSON_AddItemToArray(urls,
                                  cJSON_CreateString(op->items[i].file_url)))
        {
            cJSON_Delete(req);
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
            return;
        }
    }

    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);

    len = op->conf->asr_url.len
          + sizeof("/api/v1/services/audio/asr/transcription");
    url = malloc(len);

    if (body == NULL || url == NULL) {
        free(url);
        cJSON_free(body);
        ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    ngx_snprintf((u_char *) url, len,
                 "%s/api/v1/services/audio/asr/transcription%Z",
                 op->conf->asr_url.data);

    (void) ngx_http_douyin_fetch(&f, "POST", url, headers, body,
                                 op->conf->http_timeout,
                                 NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);
    cJSON_free(body);

    op->http_status = f.status;

    if (f.status == 0 && !f.not_sent) {

        /*
         * the request may have reached the provider: a submit is not
         * idempotent (asr-providers.md 1.6), so it is not sent again;
         * the videos fail and a later /api/process retries them
         */

        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "ASR_SUBMIT_UNCERTAIN");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope submit failed after sending: %s%Z", f.error);
        ngx_http_douyin_op_fail(op, op->code,
                                "The submit to the ASR provider got no "
                                "answer; the video was not resubmitted.");
        ngx_http_douyin_fetch_free(&f);
        return;
    }

    if (f.status != 200) {
        if (ngx_http_douyin_provider_error(op, &f, "submit") == NGX_OK) {
            ngx_http_douyin_op_fail(op, op->code,
                                    "The ASR provider refused the task.");
        }

        ngx_http_douyin_fetch_free(&f);
        return;
    }

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_fetch_free(&f);

    output = cJSON_GetObjectItemCaseSensitive(json, "output");
    task_id = cJSON_GetObjectItemCaseSensitive(output, "task_id");

    if (!cJSON_IsString(task_id) || task_id->valuestring[0] == '\0'
        || ngx_strlen(task_id->valuestring) > NGX_HTTP_DOUYIN_TASK_ID_MAX)
    {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope submit answered 200 without a task_id");
        ngx_http_douyin_op_fail(op, "ASR_BAD_RESPONSE",
                                "The ASR provider answered the submit "
                                "without a task id.");
        if (op->rc == NGX_HTTP_DOUYIN_RC_DONE) {
            ngx_http_douyin_set(op->code, sizeof(op->code),
                                "ASR_BAD_RESPONSE");
        }
        return;
    }

    ngx_http_douyin_set(op->task_id, sizeof(op->task_id),
                        task_id->valuestring);
    cJSON_Delete(json);

    err = ngx_http_douyin_store_set_task(op->store, op->items, op->nitems,
                                         op->task_id, &op->owner);
    if (err != 0) {
        /* the task runs anyway: keep polling it, and say so */
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "storing task_id failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
    }

    op->rc = NGX_HTTP_DOUYIN_RC_NEXT;
}


/*
 * OP_POLL: GET {asr}/api/v1/tasks/{task_id}.  PENDING and RUNNING give
 * RC_NEXT.  On a terminal task_status every results[i].subtask_status is
 * read (never task_status alone, 1.3): a succeeded file's
 * transcription_url is fetched (no Authorization) and parsed (1.5), its
 * metadata fetched from file-system-go, and all outcomes are stored in
 * one write transaction.
 */

static void
ngx_http_douyin_op_poll(ngx_http_douyin_op_t *op)
{
    char                     *url, *status_text;
    size_t                    len;
    cJSON                    *json, *output, *status, *results, *res;
    cJSON                    *file_url, *sub, *code, *message, *turl;
    cJSON                    *rec, **records;
    ngx_uint_t                i, matched;
    ngx_http_douyin_fetch_t   f, rf;

    const char  *headers[] = { op->auth_header, NULL };

    len = op->conf->asr_url.len + sizeof("/api/v1/tasks/")
          + ngx_strlen(op->task_id);
    url = malloc(len);
    if (url == NULL) {
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    ngx_snprintf((u_char *) url, len, "%s/api/v1/tasks/%s%Z",
                 op->conf->asr_url.data, op->task_id);

    (void) ngx_http_douyin_fetch(&f, "GET", url, headers, NULL,
                                 op->conf->http_timeout,
                                 NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);

    op->http_status = f.status;

    if (f.status != 200) {
        if (ngx_http_douyin_provider_error(op, &f, "query") == NGX_OK) {
            ngx_http_douyin_op_fail(op, op->code,
                                    "The ASR provider refused the query.");
        }

        ngx_http_douyin_fetch_free(&f);
        return;
    }

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_fetch_free(&f);

    output = cJSON_GetObjectItemCaseSensitive(json, "output");
    status = cJSON_GetObjectItemCaseSensitive(output, "task_status");

    if (!cJSON_IsString(status)) {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope query answered without task_status");
        ngx_http_douyin_op_fail(op, "ASR_BAD_RESPONSE",
                                "The ASR provider answered the query "
                                "without a task status.");
        return;
    }

    status_text = status->valuestring;

    if (ngx_strcmp(status_text, "PENDING") == 0
        || ngx_strcmp(status_text, "RUNNING") == 0)
    {
        cJSON_Delete(json);
        op->rc = NGX_HTTP_DOUYIN_RC_NEXT;
        return;
    }

    if (ngx_strcmp(status_text, "UNKNOWN") == 0
        || ngx_strcmp(status_text, "CANCELED") == 0)
    {
        cJSON_Delete(json);
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope task %s is %s%Z", op->task_id,
                     status_text[0] == 'U' ? "UNKNOWN (expired or never "
                     "existed)" : "CANCELED");
        ngx_http_douyin_op_fail(op, status_text[0] == 'U' ? "TASK_UNKNOWN"
                                                          : "TASK_CANCELED",
                                "The ASR provider no longer knows the "
                                "task.");
        return;
    }

    if (ngx_strcmp(status_text, "SUCCEEDED") != 0
        && ngx_strcmp(status_text, "FAILED") != 0)
    {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope query answered an unknown "
                            "task_status");
        ngx_http_douyin_op_fail(op, "ASR_BAD_RESPONSE",
                                "The ASR provider answered an unknown "
                                "task status.");
        return;
    }

    records = calloc(op->nitems, sizeof(cJSON *));
    if (records == NULL) {
        cJSON_Delete(json);
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    results = cJSON_GetObjectItemCaseSensitive(output, "results");

    for (i = 0; i < op->nitems; i++) {

        /* the result for this file: by file_url, or the only one */

        matched = 0;
        res = NULL;

        cJSON_ArrayForEach(res, results) {
            file_url = cJSON_GetObjectItemCaseSensitive(res, "file_url");

            if (cJSON_IsString(file_url)
                && ngx_strcmp(file_url->valuestring, op->items[i].file_url)
                   == 0)
            {
                matched = 1;
                break;
            }
        }

        if (!matched && op->nitems == 1 && cJSON_GetArraySize(results) == 1)
        {
            res = cJSON_GetArrayItem(results, 0);
            matched = 1;
        }

        if (!matched) {
            code = cJSON_GetObjectItemCaseSensitive(output, "code");
            message = cJSON_GetObjectItemCaseSensitive(output, "message");

            records[i] = ngx_http_douyin_failed_record(
                             cJSON_IsString(code) ? code->valuestring
                                                  : "ASR_NO_RESULT",
                             cJSON_IsString(message) ? message->valuestring
                             : "The ASR provider returned no result for "
                               "this file.");
            continue;
        }

        sub = cJSON_GetObjectItemCaseSensitive(res, "subtask_status");
        code = cJSON_GetObjectItemCaseSensitive(res, "code");
        message = cJSON_GetObjectItemCaseSensitive(res, "message");
        turl = cJSON_GetObjectItemCaseSensitive(res, "transcription_url");

        if (cJSON_IsString(sub)
            && ngx_strcmp(sub->valuestring, "SUCCEEDED") == 0
            && cJSON_IsString(turl))
        {
            if (ngx_http_douyin_fetch(&rf, "GET", turl->valuestring, NULL,
                                      NULL, op->conf->http_timeout,
                                      NGX_HTTP_DOUYIN_RESULT_MAX)
                != NGX_OK
                || rf.status >= 500)
            {
                /* transient: the whole step is tried again */

                ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                             "fetching the transcription of %s failed: "
                             "%s%Z", op->items[i].aweme_id,
                             rf.status ? "HTTP 5xx" : rf.error);
                ngx_http_douyin_fetch_free(&rf);

                if (op->attempt + 1 < NGX_HTTP_DOUYIN_MAX_ATTEMPTS) {
                    ngx_http_douyin_set(op->code, sizeof(op->code),
                                        "RESULT_DOWNLOAD_FAILED");
                    op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
                    goto done;
                }

                records[i] = ngx_http_douyin_failed_record(
                                 "RESULT_DOWNLOAD_FAILED",
                                 "The transcription result could not be "
                                 "downloaded.");
                continue;
            }

            rec = (rf.status == 200)
                  ? ngx_http_douyin_parse_result(rf.body, rf.len) : NULL;
            ngx_http_douyin_fetch_free(&rf);

            if (rec == NULL) {
                records[i] = ngx_http_douyin_failed_record(
                                 "ASR_BAD_RESULT",
                                 "The transcription result could not be "
                                 "read.");
                continue;
            }

            ngx_http_douyin_add_metadata(op, &op->items[i], rec);
            records[i] = rec;
            continue;
        }

        if (cJSON_IsString(code) && ngx_http_douyin_no_speech(code->valuestring))
        {
            /* no speech: an empty transcript, not an error (1.5) */

            rec = ngx_http_douyin_parse_result("{}", 2);
            if (rec != NULL) {
                ngx_http_douyin_add_metadata(op, &op->items[i], rec);
            }

            records[i] = rec;
            continue;
        }

        records[i] = ngx_http_douyin_failed_record(
                         cJSON_IsString(code) ? code->valuestring
                                              : "ASR_FAILED",
                         cJSON_IsString(message) ? message->valuestring
                         : "The ASR provider could not transcribe the file.");
    }

    ngx_http_douyin_store_outcome(op, records);

done:

    for (i = 0; i < op->nitems; i++) {
        cJSON_Delete(records[i]);
    }

    free(records);
    cJSON_Delete(json);
}


/*
 * OP_LISTING: the listing, and for each listed video whether the store
 * has a record (items[i].outcome = NGX_HTTP_DOUYIN_PENDING when not);
 * op->deleted counts the listed tombstones.
 */

static void
ngx_http_douyin_op_listing(ngx_http_douyin_op_t *op)
{
    int          err;
    char       **ids;
    u_char      *found;
    ngx_uint_t   i;

    if (ngx_http_douyin_fetch_list(op) != NGX_OK) {
        return;
    }

    ids = malloc((op->nitems + 1) * sizeof(char *));
    found = malloc(op->nitems + 1);

    if (ids == NULL || found == NULL) {
        free(ids);
        free(found);
        ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        ids[i] = op->items[i].aweme_id;
    }

    err = ngx_http_douyin_store_has(op->store, ids, op->nitems, found);

    if (err == 0) {
        for (i = 0; i < op->nitems; i++) {
            op->items[i].outcome = (found[i] == 0) ? NGX_HTTP_DOUYIN_PENDING
                                                   : 0;
            op->deleted += (found[i] == NGX_HTTP_DOUYIN_DELETED);
        }

        op->rc = NGX_HTTP_DOUYIN_RC_DONE;

    } else {
        ngx_http_douyin_set(op->code, sizeof(op->code), "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "reading the store failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
    }

    free(ids);
    free(found);
}


/*
 * OP_READ: when marking read, POST {filesystem}/api/read/mark
 * {"filename":"<file>"} first (douyin_filesystem_api 1.5 only); only when
 * file-system-go answers 200 {"success":true} is the record changed.
 * Marking unread only changes the record.
 */

static void
ngx_http_douyin_op_read(ngx_http_douyin_op_t *op)
{
    int                       err;
    char                     *url, *body;
    size_t                    len;
    cJSON                    *req, *json;
    ngx_int_t                 rc;
    ngx_http_douyin_fetch_t   f;

    static const char  *headers[] = {
        "Content-Type: application/json", NULL
    };

    /* the newer file-system-go (douyin_filesystem_api 2) has no read routes */

    if (op->is_read && op->conf->filesystem_api != 2) {
        req = cJSON_CreateObject();
        if (cJSON_AddStringToObject(req, "filename", op->items[0].filename)
            == NULL)
        {
            cJSON_Delete(req);
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            return;
        }

        body = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);

        len = op->conf->filesystem_url.len + sizeof("/api/read/mark");
        url = malloc(len);

        if (body == NULL || url == NULL) {
            free(url);
            cJSON_free(body);
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            return;
        }

        ngx_snprintf((u_char *) url, len, "%s/api/read/mark%Z",
                     op->conf->filesystem_url.data);

        rc = ngx_http_douyin_fetch(&f, "POST", url, headers, body,
                                   op->conf->http_timeout,
                                   NGX_HTTP_DOUYIN_ANSWER_MAX);
        free(url);
        cJSON_free(body);

        json = (rc == NGX_OK && f.status == 200)
               ? cJSON_ParseWithLength(f.body, f.len) : NULL;

        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "success")))
        {
            cJSON_Delete(json);
            ngx_http_douyin_filesystem_error(op, &f, rc, "mark read");
            ngx_http_douyin_fetch_free(&f);
            return;
        }

        cJSON_Delete(json);
        ngx_http_douyin_fetch_free(&f);
    }

    err = ngx_http_douyin_store_set_read(op->store, op->items[0].aweme_id,
                                         op->is_read, time(NULL));
    if (err == MDB_NOTFOUND) {
        op->not_found = 1;
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            err == MDB_MAP_FULL ? "STORE_FULL"
                                                : "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "storing the read flag failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * OP_DELETE: unless keep_file, DELETE {filesystem}/api/videos/<file>
 * (douyin_filesystem_api 1.5) or /api/files/<file> (2) first: a 404
 * means the file is gone already (never a reason to try the other
 * version's route); only then is the record made a tombstone
 * (ngx_http_douyin_store_tombstone()).  Without a record, a tombstone is
 * written when the file was there (the WAV existed) or op->create says
 * so (keep_file of a listed video); else not_found is set.
 */

static void
ngx_http_douyin_op_delete(ngx_http_douyin_op_t *op)
{
    int                       err;
    char                     *url;
    ngx_int_t                 rc, file_gone, create;
    ngx_http_douyin_fetch_t   f;

    file_gone = 0;
    create = op->create;

    if (!op->keep_file) {
        url = ngx_http_douyin_filesystem_file_url(op,
                  op->conf->filesystem_api == 2 ? "/api/files/"
                                                : "/api/videos/",
                  op->items[0].filename);
        if (url == NULL) {
            ngx_http_douyin_set(op->code, sizeof(op->code), "OUT_OF_MEMORY");
            return;
        }

        rc = ngx_http_douyin_fetch(&f, "DELETE", url, NULL, NULL,
                                   op->conf->http_timeout,
                                   NGX_HTTP_DOUYIN_ANSWER_MAX);
        free(url);

        if (rc != NGX_OK || (f.status != 200 && f.status != 404)) {
            ngx_http_douyin_filesystem_error(op, &f, rc, "delete");
            ngx_http_douyin_fetch_free(&f);
            return;
        }

        file_gone = (f.status == 404);
        create = !file_gone;
        ngx_http_douyin_fetch_free(&f);
    }

    err = ngx_http_douyin_store_tombstone(op->store, op->items[0].aweme_id,
                                          op->items[0].filename, create,
                                          time(NULL));

    if (err == MDB_NOTFOUND) {
        op->not_found = 1;
        op->rc = NGX_HTTP_DOUYIN_RC_DONE;
        return;
    }

    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            err == MDB_MAP_FULL ? "STORE_FULL"
                                                : "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "writing the tombstone failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/* OP_PUSH: the collector's push, stored (ngx_http_douyin_store_push()) */

static void
ngx_http_douyin_op_push(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_store_push(op->store, op->items[0].aweme_id,
                                     op->fields, time(NULL), op->was);
    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            err == MDB_MAP_FULL ? "STORE_FULL"
                                                : "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "storing the push failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/* {filesystem}{route}<filename escaped>, malloc()ed, or NULL */

static char *
ngx_http_douyin_filesystem_file_url(ngx_http_douyin_op_t *op,
    const char *route, const char *filename)
{
    return ngx_http_douyin_join(op->conf->filesystem_url.data, route,
                                filename, NGX_ESCAPE_URI_COMPONENT);
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
    lc = (c != NULL) ? ngx_strlen(c) : 0;

    url = malloc(la + lb + 3 * lc + 1);
    if (url == NULL) {
        return NULL;
    }

    p = ngx_cpymem(url, a, la);
    p = ngx_cpymem(p, b, lb);

    if (c != NULL) {
        p = (u_char *) ngx_escape_uri(p, (u_char *) c, lc, type);
    }

    *p = '\0';

    return url;
}


/* a failed or bad file-system-go answer: op->code, op->detail */

static void
ngx_http_douyin_filesystem_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_fetch_t *f, ngx_int_t rc, const char *what)
{
    if (rc != NGX_OK) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "FILESYSTEM_UNAVAILABLE");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "file-system-go %s failed: %s%Z", what, f->error);
        return;
    }

    ngx_http_douyin_set(op->code, sizeof(op->code), "FILESYSTEM_BAD_RESPONSE");
    ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                 "file-system-go %s answered HTTP %l%Z", what, f->status);
}


/* OP_FAIL and fatal provider errors: every item fails with code */

static void
ngx_http_douyin_op_fail(ngx_http_douyin_op_t *op, const char *code,
    const char *message)
{
    cJSON       **records;
    ngx_uint_t    i, asked;
    char          saved[NGX_HTTP_DOUYIN_CODE_MAX + 1];

    ngx_http_douyin_set(saved, sizeof(saved), code);

    /* an OP_FAIL the event loop asked for: it has logged why already */
    asked = (op->op == NGX_HTTP_DOUYIN_OP_FAIL);

    /*
     * from now on the step is an OP_FAIL: should storing the failure
     * fail, the retry repeats the write only (a submit is never resent)
     */

    if (op->op != NGX_HTTP_DOUYIN_OP_FAIL) {
        ngx_http_douyin_set(op->fail_code, sizeof(op->fail_code), saved);
        ngx_http_douyin_set(op->fail_message, sizeof(op->fail_message),
                            message);
        op->op = NGX_HTTP_DOUYIN_OP_FAIL;
        message = op->fail_message;
    }

    records = calloc(op->nitems ? op->nitems : 1, sizeof(cJSON *));
    if (records == NULL) {
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        records[i] = ngx_http_douyin_failed_record(saved, message);
    }

    ngx_http_douyin_store_outcome(op, records);

    for (i = 0; i < op->nitems; i++) {
        cJSON_Delete(records[i]);
    }

    free(records);

    if (op->rc == NGX_HTTP_DOUYIN_RC_DONE && op->code[0] == '\0'
        && !asked)
    {
        ngx_http_douyin_set(op->code, sizeof(op->code), saved);
    }
}


/* OP_RECOVER: take over the claims of workers that are gone */

static void
ngx_http_douyin_op_recover(ngx_http_douyin_op_t *op)
{
    int  err;

    err = ngx_http_douyin_store_recover(op->store, &op->owner, op->limit,
                                        &op->items, &op->task_ids,
                                        &op->nitems);
    if (err != 0) {
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "recovery failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        return;
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


/*
 * A non-200 provider answer or a transport failure (1.6): sets op->code
 * (the provider's "code", else ASR_HTTP_<status> or ASR_UNAVAILABLE) and
 * op->detail.  Returns NGX_DECLINED when the call is to be retried later
 * (op->rc = RC_RETRY: 429, 5xx, no answer, while attempts remain), and
 * NGX_OK when the items are to fail now (also sets key_rejected on 401
 * and 403).
 */

static ngx_int_t
ngx_http_douyin_provider_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_fetch_t *f, const char *what)
{
    cJSON  *json, *code;

    json = (f->status != 0 && f->body != NULL)
           ? cJSON_ParseWithLength(f->body, f->len) : NULL;
    code = cJSON_GetObjectItemCaseSensitive(json, "code");

    if (cJSON_IsString(code) && code->valuestring[0] != '\0') {
        ngx_http_douyin_set(op->code, sizeof(op->code), code->valuestring);

    } else if (f->status != 0) {
        ngx_snprintf((u_char *) op->code, sizeof(op->code) - 1,
                     "ASR_HTTP_%l%Z", f->status);

    } else {
        ngx_http_douyin_set(op->code, sizeof(op->code), "ASR_UNAVAILABLE");
    }

    cJSON_Delete(json);

    if (f->status == 0) {
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope %s failed: %s%Z", what, f->error);

    } else {
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope %s answered HTTP %l %s%Z", what, f->status,
                     op->code);
    }

    if ((f->status == 0 || f->status == 429 || f->status >= 500)
        && op->attempt + 1 < NGX_HTTP_DOUYIN_MAX_ATTEMPTS)
    {
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return NGX_DECLINED;
    }

    if (f->status == 401 || f->status == 403) {
        op->key_rejected = 1;
    }

    return NGX_OK;
}


/*
 * The transcription result file (1.5) -> a completed record:
 * {"status":"completed","processed_at","text","segments":[{"start_time",
 * "end_time","text","confidence":null}],"confidence":null,
 * "audio_duration"}.  Times ms -> s.  DashScope reports no confidence,
 * so it is null.  Returns NULL when the body is not a result object.
 */

static cJSON *
ngx_http_douyin_parse_result(const char *body, size_t len)
{
    cJSON   *json, *rec, *segments, *seg, *tr, *sentences, *s, *text;
    cJSON   *begin, *end, *props, *dur;
    double   duration;
    size_t   tlen, n;
    char    *all, *p;

    json = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return NULL;
    }

    rec = cJSON_CreateObject();
    segments = cJSON_CreateArray();

    if (rec == NULL || segments == NULL) {
        goto failed;
    }

    /* the text of every channel, joined */

    tlen = 1;

    cJSON_ArrayForEach(tr, cJSON_GetObjectItemCaseSensitive(json,
                                                            "transcripts"))
    {
        text = cJSON_GetObjectItemCaseSensitive(tr, "text");
        if (cJSON_IsString(text)) {
            tlen += ngx_strlen(text->valuestring) + 1;
        }
    }

    all = malloc(tlen);
    if (all == NULL) {
        goto failed;
    }

    p = all;
    duration = 0;

    cJSON_ArrayForEach(tr, cJSON_GetObjectItemCaseSensitive(json,
                                                            "transcripts"))
    {
        text = cJSON_GetObjectItemCaseSensitive(tr, "text");
        if (cJSON_IsString(text) && text->valuestring[0] != '\0') {
            if (p != all) {
                *p++ = ' ';
            }

            n = ngx_strlen(text->valuestring);
            p = (char *) ngx_cpymem(p, text->valuestring, n);
        }

        sentences = cJSON_GetObjectItemCaseSensitive(tr, "sentences");

        cJSON_ArrayForEach(s, sentences) {
            begin = cJSON_GetObjectItemCaseSensitive(s, "begin_time");
            end = cJSON_GetObjectItemCaseSensitive(s, "end_time");
            text = cJSON_GetObjectItemCaseSensitive(s, "text");

            if (!cJSON_IsNumber(begin) || !cJSON_IsNumber(end)
                || !cJSON_IsString(text))
            {
                free(all);
                goto failed;
            }

            seg = cJSON_CreateObject();
            if (seg == NULL) {
                free(all);
                goto failed;
            }

            cJSON_AddItemToArray(segments, seg);

            if (cJSON_AddNumberToObject(seg, "start_time",
                                        begin->valuedouble / 1000) == NULL
                || cJSON_AddNumberToObject(seg, "end_time",
                                           end->valuedouble / 1000) == NULL
                || cJSON_AddStringToObject(seg, "text", text->valuestring)
                   == NULL
                || cJSON_AddNullToObject(seg, "confidence") == NULL)
            {
                free(all);
                goto failed;
            }

            if (end->valuedouble / 1000 > duration) {
                duration = end->valuedouble / 1000;
            }
        }
    }

    *p = '\0';

    props = cJSON_GetObjectItemCaseSensitive(json, "properties");
    dur = cJSON_GetObjectItemCaseSensitive(props,
                                       "original_duration_in_milliseconds");
    if (cJSON_IsNumber(dur)) {
        duration = dur->valuedouble / 1000;
    }

    if (cJSON_AddStringToObject(rec, "status", "completed") == NULL
        || cJSON_AddNumberToObject(rec, "processed_at",
                                   (double) time(NULL)) == NULL
        || cJSON_AddStringToObject(rec, "text", all) == NULL
        || !cJSON_AddItemToObject(rec, "segments", segments)
        || cJSON_AddNullToObject(rec, "confidence") == NULL
        || cJSON_AddNumberToObject(rec, "audio_duration", duration) == NULL)
    {
        free(all);
        segments = NULL;
        goto failed;
    }

    free(all);
    cJSON_Delete(json);

    return rec;

failed:

    cJSON_Delete(segments);
    cJSON_Delete(rec);
    cJSON_Delete(json);

    return NULL;
}


/*
 * GET {filesystem}/api/metadata/<filename>: adds title, author,
 * description and upload_time to rec when file-system-go has them.  A
 * 404 (no metadata) or any failure adds nothing: metadata is optional.
 */

static void
ngx_http_douyin_add_metadata(ngx_http_douyin_op_t *op,
    ngx_http_douyin_item_t *item, cJSON *rec)
{
    char                     *url;
    size_t                    len;
    cJSON                    *json, *meta, *field;
    ngx_uint_t                i;
    ngx_http_douyin_fetch_t   f;

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

    if (ngx_http_douyin_fetch(&f, "GET", url, NULL, NULL,
                              op->conf->http_timeout,
                              NGX_HTTP_DOUYIN_ANSWER_MAX)
        != NGX_OK)
    {
        free(url);
        return;
    }

    free(url);

    json = (f.status == 200) ? cJSON_ParseWithLength(f.body, f.len) : NULL;
    ngx_http_douyin_fetch_free(&f);

    meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");

    for (i = 0; names[i] != NULL; i++) {
        field = cJSON_GetObjectItemCaseSensitive(meta, names[i]);

        if (cJSON_IsString(field)) {
            cJSON_AddStringToObject(rec, names[i], field->valuestring);
        }
    }

    cJSON_Delete(json);
}


/* stores records[] and sets the items' outcomes and op->rc */

static void
ngx_http_douyin_store_outcome(ngx_http_douyin_op_t *op, cJSON **records)
{
    int          err;
    cJSON       *status, *error;
    ngx_uint_t   i;

    err = ngx_http_douyin_store_finish(op->store, op->items, records,
                                       op->nitems, &op->owner);
    if (err != 0) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            err == MDB_MAP_FULL ? "STORE_FULL"
                                                : "STORE_ERROR");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "storing the outcome failed: %s%Z",
                     ngx_http_douyin_store_strerror(err));
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return;
    }

    for (i = 0; i < op->nitems; i++) {
        status = cJSON_GetObjectItemCaseSensitive(records[i], "status");
        error = cJSON_GetObjectItemCaseSensitive(records[i], "error");

        if (cJSON_IsString(status)
            && ngx_strcmp(status->valuestring, "completed") == 0)
        {
            op->items[i].outcome = NGX_HTTP_DOUYIN_COMPLETED;

        } else {
            op->items[i].outcome = NGX_HTTP_DOUYIN_FAILED;
            ngx_http_douyin_set(op->items[i].error,
                                sizeof(op->items[i].error),
                                cJSON_IsString(error) ? error->valuestring
                                                      : "STORE_ERROR");
        }
    }

    op->rc = NGX_HTTP_DOUYIN_RC_DONE;
}


static cJSON *
ngx_http_douyin_failed_record(const char *code, const char *message)
{
    cJSON  *rec;

    rec = cJSON_CreateObject();

    if (cJSON_AddStringToObject(rec, "status", "failed") == NULL
        || cJSON_AddNumberToObject(rec, "processed_at",
                                   (double) time(NULL)) == NULL
        || cJSON_AddStringToObject(rec, "error", code) == NULL
        || cJSON_AddStringToObject(rec, "message", message) == NULL)
    {
        cJSON_Delete(rec);
        return NULL;
    }

    return rec;
}


/* SUCCESS_WITH_NO_VALID_FRAGMENT, ASR_RESPONSE_HAVE_NO_WORDS: no speech */

static ngx_int_t
ngx_http_douyin_no_speech(const char *code)
{
    return ngx_strcmp(code, "SUCCESS_WITH_NO_VALID_FRAGMENT") == 0
           || ngx_strcmp(code, "ASR_RESPONSE_HAVE_NO_WORDS") == 0;
}


/* a bounded, NUL-terminated copy */

static void
ngx_http_douyin_set(char *dst, size_t size, const char *src)
{
    ngx_cpystrn((u_char *) dst, (u_char *) src, size);
}

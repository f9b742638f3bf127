
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the DashScope client (thread side).
 *
 * DashScope's asynchronous file transcription (fun-asr):
 *   submit  POST {asr}/api/v1/services/audio/asr/transcription with
 *           X-DashScope-Async: enable -> {"output":{"task_id"}};
 *   query   GET {asr}/api/v1/tasks/{task_id} -> {"output":{"task_status",
 *           "results":[{"file_url","subtask_status","transcription_url",
 *           "code","message"}]}}; a terminal task_status is never read
 *           alone: every file has its subtask_status;
 *   result  GET transcription_url (no Authorization) -> {"transcripts":
 *           [{"text","sentences":[{"begin_time","end_time","text"}]}],
 *           "properties":{"original_duration_in_milliseconds"}}, ms;
 *   list    GET {asr}/api/v1/tasks?start_time=&end_time=&model_name=
 *           &page_no=&page_size= -> {"total_page","data":[{"task_id",
 *           "gmt_create"}]}: the tasks submitted in the last 24 h (times
 *           epoch ms; no file URLs);
 *   errors  a non-200 answer carries {"code","message"}: 429, 5xx and no
 *           answer are retried with backoff, 401/403 mean the key was
 *           rejected, anything else fails the videos.  A submit is not
 *           idempotent: one that may have been sent is never resent
 *           blindly; it is settled through the list first (as DashScope
 *           advises: "after a timeout, check the list API before
 *           resubmitting").
 * Every function here fills the thread op: op->code (the provider's
 * code, or ours), op->detail for the log, op->http_status.
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


#define NGX_HTTP_DOUYIN_ANSWER_MAX   (4 * 1024 * 1024)
#define NGX_HTTP_DOUYIN_RESULT_MAX   (32 * 1024 * 1024)

/*
 * settling a submit whose answer was lost: the provider's clock may
 * differ from ours by this much (ms); the list is read 100 tasks a page,
 * at most this many pages, and at most this many listed tasks are
 * queried in one try (the tasks found to be another's are remembered in
 * op->u.batch.others, so the next try goes on with the rest)
 */
#define NGX_HTTP_DOUYIN_SETTLE_SKEW     60000
#define NGX_HTTP_DOUYIN_SETTLE_PAGE     100
#define NGX_HTTP_DOUYIN_SETTLE_PAGES    20
#define NGX_HTTP_DOUYIN_SETTLE_QUERIES  50

/* DashScope's list takes its times in Beijing time, UTC+8 (both regions) */
#define NGX_HTTP_DOUYIN_LIST_TZ         (8 * 3600)


/* a task of the provider's list that may be the lost submit's */

typedef struct {
    char                        id[NGX_HTTP_DOUYIN_TASK_ID_MAX + 1];
    int64_t                     distance;   /* ms from the submit */
} ngx_http_douyin_candidate_t;


/* what one query says of a candidate */

typedef enum {
    NGX_HTTP_DOUYIN_CANDIDATE_OURS = 0, /* its results name every file */
    NGX_HTTP_DOUYIN_CANDIDATE_OTHER,    /* ended, not ours */
    NGX_HTTP_DOUYIN_CANDIDATE_OPEN,     /* not ended: files not known yet */
    NGX_HTTP_DOUYIN_CANDIDATE_ERROR     /* no usable answer */
} ngx_http_douyin_candidate_e;


static char *ngx_http_douyin_dashscope_body(ngx_http_douyin_op_t *op);
static ngx_int_t ngx_http_douyin_dashscope_task_id(ngx_http_douyin_op_t *op,
    ngx_http_douyin_curl_t *f, const char **fail);
static ngx_http_douyin_task_status_e ngx_http_douyin_dashscope_status(
    ngx_http_douyin_op_t *op, cJSON *output, const char **fail);
static cJSON *ngx_http_douyin_dashscope_match(ngx_http_douyin_op_t *op,
    cJSON *results, ngx_http_douyin_item_t *item);
static ngx_int_t ngx_http_douyin_dashscope_download(ngx_http_douyin_op_t *op,
    ngx_http_douyin_item_t *item, const char *url, cJSON **rec);
static ngx_int_t ngx_http_douyin_provider_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_curl_t *f, const char *what);
static cJSON *ngx_http_douyin_parse_result(const char *body, size_t len);
static char *ngx_http_douyin_parse_text(cJSON *json);
static ngx_int_t ngx_http_douyin_parse_transcript(cJSON *tr,
    cJSON *segments, cJSON *words, cJSON **lang, char *all, char **p,
    double *duration);
static ngx_int_t ngx_http_douyin_parse_sentence(cJSON *s, cJSON *seg,
    cJSON *words);
static ngx_int_t ngx_http_douyin_parse_words(cJSON *s, cJSON *words);
static ngx_int_t ngx_http_douyin_dashscope_parameters(
    ngx_http_douyin_main_conf_t *conf, cJSON *params);
static ngx_int_t ngx_http_douyin_no_speech(const char *code);
static ngx_int_t ngx_http_douyin_lost_list(ngx_http_douyin_op_t *op,
    int64_t from, int64_t to, ngx_http_douyin_candidate_t **cands,
    ngx_uint_t *n);
static ngx_int_t ngx_http_douyin_lost_page(ngx_http_douyin_op_t *op,
    const char *url, int64_t from, int64_t to,
    ngx_http_douyin_candidate_t **cands, ngx_uint_t *n, ngx_uint_t *cap,
    ngx_uint_t *pages);
static ngx_http_douyin_candidate_e ngx_http_douyin_lost_query(
    ngx_http_douyin_op_t *op, const char *task_id);
static void ngx_http_douyin_lost_pace(ngx_http_douyin_op_t *op);
static void ngx_http_douyin_lost_other(ngx_http_douyin_op_t *op,
    const char *task_id);
static int ngx_libc_cdecl ngx_http_douyin_candidate_cmp(const void *one,
    const void *two);


/*
 * ngx_http_douyin_dashscope_submit: submits the op's items as one
 * provider task: {"model","input":{"file_urls"},"parameters":{}}
 * (parameters always sent: workspace hosts need it).  Returns NGX_OK
 * with op->u.batch.task_id set; NGX_AGAIN when it is to be tried again
 * (op->rc = RC_RETRY: the provider refused it for now, or nothing was
 * sent); NGX_DECLINED when the videos are to fail now with op->code and
 * the message *fail; NGX_BUSY when the request went out and no answer
 * came (a timeout, a connection cut): the task may exist, so it is to be
 * settled (ngx_http_douyin_dashscope_settle()), never sent again blindly
 * (op->code ASR_SUBMIT_UNCERTAIN, op->detail says what happened).
 */

ngx_int_t
ngx_http_douyin_dashscope_submit(ngx_http_douyin_op_t *op, const char **fail)
{
    char                     *url, *body;
    size_t                    len;
    ngx_int_t                 rc;
    ngx_http_douyin_pace_t    pace;
    ngx_http_douyin_curl_t    f;

    const char  *headers[] = {
        op->auth_header,
        "Content-Type: application/json",
        "X-DashScope-Async: enable",
        NULL
    };

    body = ngx_http_douyin_dashscope_body(op);

    len = op->conf->asr_url.len
          + sizeof("/api/v1/services/audio/asr/transcription");
    url = malloc(len);

    if (body == NULL || url == NULL) {
        free(url);
        cJSON_free(body);
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return NGX_AGAIN;
    }

    ngx_snprintf((u_char *) url, len,
                 "%s/api/v1/services/audio/asr/transcription%Z",
                 op->conf->asr_url.data);

    pace.conf = op->conf;
    pace.query = 0;

    (void) ngx_http_douyin_curl_paced(&f, &pace, "POST", url, headers, body,
                                      op->conf->http_timeout,
                                      NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);
    cJSON_free(body);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_SUBMIT,
                                 f.status, f.timedout);

    op->http_status = f.status;

    if (f.status == 0 && !f.not_sent) {

        /*
         * the request may have reached the provider: a submit is not
         * idempotent, so it is not sent again before the task list says
         * that the provider does not have it
         */

        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "ASR_SUBMIT_UNCERTAIN");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope submit got no answer after sending: %s%Z",
                     f.error);
        ngx_http_douyin_curl_free(&f);
        return NGX_BUSY;
    }

    if (f.status != 200) {
        if (ngx_http_douyin_provider_error(op, &f, "submit") != NGX_OK) {
            ngx_http_douyin_curl_free(&f);
            return NGX_AGAIN;
        }

        ngx_http_douyin_curl_free(&f);
        *fail = "The ASR provider refused the task.";
        return NGX_DECLINED;
    }

    rc = ngx_http_douyin_dashscope_task_id(op, &f, fail);
    ngx_http_douyin_curl_free(&f);

    return rc;
}


/* output.task_id of a submit's 200 answer into op->u.batch.task_id */

static ngx_int_t
ngx_http_douyin_dashscope_task_id(ngx_http_douyin_op_t *op,
    ngx_http_douyin_curl_t *f, const char **fail)
{
    cJSON  *json, *output, *task_id;

    json = cJSON_ParseWithLength(f->body, f->len);

    output = cJSON_GetObjectItemCaseSensitive(json, "output");
    task_id = cJSON_GetObjectItemCaseSensitive(output, "task_id");

    if (!cJSON_IsString(task_id) || task_id->valuestring[0] == '\0'
        || ngx_strlen(task_id->valuestring) > NGX_HTTP_DOUYIN_TASK_ID_MAX)
    {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->code, sizeof(op->code), "ASR_BAD_RESPONSE");
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope submit answered 200 without a task_id");
        *fail = "The ASR provider answered the submit without a task id.";
        return NGX_DECLINED;
    }

    ngx_http_douyin_set(op->u.batch.task_id, sizeof(op->u.batch.task_id),
                        task_id->valuestring);
    cJSON_Delete(json);

    return NGX_OK;
}


/*
 * ngx_http_douyin_dashscope_settle: settles an earlier submit of the
 * op's items whose answer never came: it went out at items[].submit_ms
 * (Unix ms) and may have reached the provider.  The provider's task list
 * gives the tasks created from that time less the clock skew to that
 * time plus douyin_http_timeout (the longest the request could still
 * have been on its way) plus the skew; it names no file URL, so those
 * tasks are queried, nearest to the submit first, for one whose results
 * name every file URL of the items.  Returns
 *   NGX_OK        that task exists: op->u.batch.task_id is it (poll it);
 *   NGX_DECLINED  the provider does not have it: the list answered and
 *                 every task in it has ended without being ours (send
 *                 the submit now);
 *   NGX_AGAIN     not known yet: the list or a query failed, or a task
 *                 has not ended (its results, and with them its files,
 *                 are not known before that); op->code is
 *                 ASR_SUBMIT_UNCERTAIN and op->detail says why.
 * The calls are paced at douyin_asr_rate query= (the thread sleeps
 * between them).  A task that ended without results (CANCELED, UNKNOWN,
 * or FAILED with only a task-level code) cannot be told apart and is
 * taken as another's: we never cancel, and a failed task bills nothing.
 */

ngx_int_t
ngx_http_douyin_dashscope_settle(ngx_http_douyin_op_t *op)
{
    int64_t                       from, to;
    uint64_t                      lo, hi;
    ngx_uint_t                    i, k, n, open, failed, asked;
    ngx_http_douyin_candidate_t  *cands;

    lo = 0;
    hi = 0;

    for (i = 0; i < op->nitems; i++) {
        if (op->items[i].submit_ms == 0) {
            continue;
        }

        lo = (lo == 0) ? op->items[i].submit_ms
                       : ngx_min(lo, op->items[i].submit_ms);
        hi = ngx_max(hi, op->items[i].submit_ms);
    }

    from = (int64_t) lo - NGX_HTTP_DOUYIN_SETTLE_SKEW;
    to = (int64_t) hi + (int64_t) op->conf->http_timeout
         + NGX_HTTP_DOUYIN_SETTLE_SKEW;

    if (ngx_http_douyin_lost_list(op, from, to, &cands, &n) != NGX_OK) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "ASR_SUBMIT_UNCERTAIN");
        return NGX_AGAIN;
    }

    open = 0;
    failed = 0;
    asked = 0;

    for (i = 0; i < n; i++) {

        /* known from an earlier try to be another's */

        for (k = 0; k < op->u.batch.nothers; k++) {
            if (ngx_strcmp(op->u.batch.others[k], cands[i].id) == 0) {
                break;
            }
        }

        if (k < op->u.batch.nothers) {
            continue;
        }

        if (asked == NGX_HTTP_DOUYIN_SETTLE_QUERIES) {
            failed++;           /* not read in this try */
            continue;
        }

        asked++;

        ngx_http_douyin_lost_pace(op);

        switch (ngx_http_douyin_lost_query(op, cands[i].id)) {

        case NGX_HTTP_DOUYIN_CANDIDATE_OURS:
            ngx_http_douyin_set(op->u.batch.task_id,
                                sizeof(op->u.batch.task_id), cands[i].id);
            free(cands);
            op->code[0] = '\0';
            op->detail[0] = '\0';
            return NGX_OK;

        case NGX_HTTP_DOUYIN_CANDIDATE_OTHER:
            ngx_http_douyin_lost_other(op, cands[i].id);
            break;

        case NGX_HTTP_DOUYIN_CANDIDATE_OPEN:
            open++;
            break;

        default:
            failed++;
            break;
        }
    }

    free(cands);

    if (open || failed) {
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            "ASR_SUBMIT_UNCERTAIN");
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope's task list has %ui task(s) from the time "
                     "of the submit, none known to be ours yet: %ui not "
                     "ended, %ui not read%Z", n, open, failed);
        return NGX_AGAIN;
    }

    op->code[0] = '\0';
    op->detail[0] = '\0';

    return NGX_DECLINED;
}


/*
 * the tasks of the provider's list created from "from" to "to" (Unix
 * ms), nearest to the submit (from + the skew) first, in *cands
 * (malloc()ed, *n of them); NGX_ERROR (op->detail) when the list did not
 * answer in full
 */

static ngx_int_t
ngx_http_douyin_lost_list(ngx_http_douyin_op_t *op, int64_t from,
    int64_t to, ngx_http_douyin_candidate_t **cands, ngx_uint_t *n)
{
    char        *url, *model;
    u_char       start[16], end[16];
    size_t       len, esc;
    ngx_tm_t     tm;
    ngx_int_t    rc;
    ngx_uint_t   page, pages, cap;

    *cands = NULL;
    *n = 0;
    cap = 0;

    /* the list's start_time and end_time: YYYYMMDDhhmmss, UTC+8 */

    ngx_gmtime((time_t) (from / 1000) + NGX_HTTP_DOUYIN_LIST_TZ, &tm);
    ngx_sprintf(start, "%4d%02d%02d%02d%02d%02d%Z", tm.ngx_tm_year,
                tm.ngx_tm_mon, tm.ngx_tm_mday, tm.ngx_tm_hour,
                tm.ngx_tm_min, tm.ngx_tm_sec);

    ngx_gmtime((time_t) ((to + 999) / 1000) + NGX_HTTP_DOUYIN_LIST_TZ, &tm);
    ngx_sprintf(end, "%4d%02d%02d%02d%02d%02d%Z", tm.ngx_tm_year,
                tm.ngx_tm_mon, tm.ngx_tm_mday, tm.ngx_tm_hour,
                tm.ngx_tm_min, tm.ngx_tm_sec);

    esc = 2 * ngx_escape_uri(NULL, (u_char *) op->conf->asr_model.data,
                             op->conf->asr_model.len, NGX_ESCAPE_ARGS);

    model = malloc(op->conf->asr_model.len + esc + 1);

    len = op->conf->asr_url.len + op->conf->asr_model.len + esc
          + sizeof("/api/v1/tasks?start_time=&end_time=&model_name="
                   "&page_no=&page_size=")
          + 2 * sizeof(start) + 2 * NGX_INT_T_LEN;
    url = malloc(len);

    if (model == NULL || url == NULL) {
        free(model);
        free(url);
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "reading DashScope's task list failed: out of "
                            "memory");
        return NGX_ERROR;
    }

    *(u_char *) ngx_escape_uri((u_char *) model,
                               (u_char *) op->conf->asr_model.data,
                               op->conf->asr_model.len, NGX_ESCAPE_ARGS)
        = '\0';

    rc = NGX_OK;
    pages = 1;

    for (page = 1; page <= pages; page++) {

        if (page > NGX_HTTP_DOUYIN_SETTLE_PAGES) {
            ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                         "DashScope's task list has more than %d pages "
                         "from the time of the submit%Z",
                         NGX_HTTP_DOUYIN_SETTLE_PAGES);
            rc = NGX_ERROR;
            break;
        }

        ngx_http_douyin_lost_pace(op);

        ngx_snprintf((u_char *) url, len,
                     "%s/api/v1/tasks?start_time=%s&end_time=%s"
                     "&model_name=%s&page_no=%ui&page_size=%d%Z",
                     op->conf->asr_url.data, start, end, model, page,
                     NGX_HTTP_DOUYIN_SETTLE_PAGE);

        rc = ngx_http_douyin_lost_page(op, url, from, to, cands, n, &cap,
                                       &pages);
        if (rc != NGX_OK) {
            break;
        }
    }

    free(model);
    free(url);

    if (rc != NGX_OK) {
        free(*cands);
        *cands = NULL;
        *n = 0;
        return NGX_ERROR;
    }

    if (*n > 1) {
        ngx_qsort(*cands, *n, sizeof(ngx_http_douyin_candidate_t),
                  ngx_http_douyin_candidate_cmp);
    }

    return NGX_OK;
}


/*
 * one page of the list at url: its tasks created from "from" to "to"
 * (gmt_create, epoch ms; a task without it is kept, last) appended to
 * *cands (*n of *cap), *pages set from its total_page
 */

static ngx_int_t
ngx_http_douyin_lost_page(ngx_http_douyin_op_t *op, const char *url,
    int64_t from, int64_t to, ngx_http_douyin_candidate_t **cands,
    ngx_uint_t *n, ngx_uint_t *cap, ngx_uint_t *pages)
{
    void                         *p;
    cJSON                        *json, *data, *task, *id, *created, *total;
    int64_t                       at, c;
    ngx_http_douyin_curl_t       f;
    ngx_http_douyin_candidate_t  *cand;

    const char  *headers[] = { op->auth_header, NULL };

    (void) ngx_http_douyin_curl_request(&f, "GET", url, headers, NULL,
                                        op->conf->http_timeout,
                                        NGX_HTTP_DOUYIN_ANSWER_MAX);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_QUERY,
                                 f.status, f.timedout);

    op->http_status = f.status;

    if (f.status != 200) {
        if (f.status == 0) {
            ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                         "reading DashScope's task list failed: %s%Z",
                         f.error);

        } else {
            ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                         "DashScope's task list answered HTTP %l%Z",
                         f.status);
        }

        ngx_http_douyin_curl_free(&f);
        return NGX_ERROR;
    }

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_curl_free(&f);

    data = cJSON_GetObjectItemCaseSensitive(json, "data");

    if (!cJSON_IsArray(data)) {
        cJSON_Delete(json);
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope's task list answered without "
                            "\"data\"");
        return NGX_ERROR;
    }

    total = cJSON_GetObjectItemCaseSensitive(json, "total_page");

    if (cJSON_IsNumber(total) && total->valuedouble > (double) *pages) {
        *pages = (total->valuedouble > NGX_HTTP_DOUYIN_SETTLE_PAGES + 1)
                 ? NGX_HTTP_DOUYIN_SETTLE_PAGES + 1
                 : (ngx_uint_t) total->valuedouble;
    }

    at = from + NGX_HTTP_DOUYIN_SETTLE_SKEW;

    cJSON_ArrayForEach(task, data) {
        id = cJSON_GetObjectItemCaseSensitive(task, "task_id");
        created = cJSON_GetObjectItemCaseSensitive(task, "gmt_create");

        if (!cJSON_IsString(id) || id->valuestring[0] == '\0'
            || ngx_strlen(id->valuestring) > NGX_HTTP_DOUYIN_TASK_ID_MAX)
        {
            continue;
        }

        c = cJSON_IsNumber(created) ? (int64_t) created->valuedouble : -1;

        if (c != -1 && (c < from || c > to)) {
            continue;
        }

        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;

            p = realloc(*cands, *cap * sizeof(ngx_http_douyin_candidate_t));
            if (p == NULL) {
                cJSON_Delete(json);
                ngx_http_douyin_set(op->detail, sizeof(op->detail),
                                    "reading DashScope's task list failed: "
                                    "out of memory");
                return NGX_ERROR;
            }

            *cands = p;
        }

        cand = &(*cands)[(*n)++];

        ngx_http_douyin_set(cand->id, sizeof(cand->id), id->valuestring);
        cand->distance = (c == -1) ? INT64_MAX
                                   : (c > at ? c - at : at - c);
    }

    cJSON_Delete(json);

    return NGX_OK;
}


/* queries the listed task task_id: is it the submit of the op's items? */

static ngx_http_douyin_candidate_e
ngx_http_douyin_lost_query(ngx_http_douyin_op_t *op, const char *task_id)
{
    char                     *url;
    size_t                    len;
    cJSON                    *json, *output, *status, *res, *file_url;
    ngx_uint_t                i, found;
    ngx_http_douyin_curl_t   f;

    const char  *headers[] = { op->auth_header, NULL };

    len = op->conf->asr_url.len + sizeof("/api/v1/tasks/")
          + ngx_strlen(task_id);
    url = malloc(len);
    if (url == NULL) {
        return NGX_HTTP_DOUYIN_CANDIDATE_ERROR;
    }

    ngx_snprintf((u_char *) url, len, "%s/api/v1/tasks/%s%Z",
                 op->conf->asr_url.data, task_id);

    (void) ngx_http_douyin_curl_request(&f, "GET", url, headers, NULL,
                                        op->conf->http_timeout,
                                        NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_QUERY,
                                 f.status, f.timedout);

    if (f.status != 200) {
        ngx_http_douyin_curl_free(&f);
        return NGX_HTTP_DOUYIN_CANDIDATE_ERROR;
    }

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_curl_free(&f);

    output = cJSON_GetObjectItemCaseSensitive(json, "output");
    status = cJSON_GetObjectItemCaseSensitive(output, "task_status");

    if (!cJSON_IsString(status)) {
        cJSON_Delete(json);
        return NGX_HTTP_DOUYIN_CANDIDATE_ERROR;
    }

    if (ngx_strcmp(status->valuestring, "PENDING") == 0
        || ngx_strcmp(status->valuestring, "RUNNING") == 0)
    {
        cJSON_Delete(json);
        return NGX_HTTP_DOUYIN_CANDIDATE_OPEN;
    }

    /* ended: ours when its results name every file of the submit */

    for (i = 0; i < op->nitems; i++) {
        found = 0;

        cJSON_ArrayForEach(res,
                           cJSON_GetObjectItemCaseSensitive(output, "results"))
        {
            file_url = cJSON_GetObjectItemCaseSensitive(res, "file_url");

            if (cJSON_IsString(file_url)
                && ngx_strcmp(file_url->valuestring, op->items[i].file_url)
                   == 0)
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            cJSON_Delete(json);
            return NGX_HTTP_DOUYIN_CANDIDATE_OTHER;
        }
    }

    cJSON_Delete(json);

    return NGX_HTTP_DOUYIN_CANDIDATE_OURS;
}


/*
 * remembers task_id as another's (ended, not ours) in op->u.batch.others, so
 * that later tries do not query it again; without memory it is queried
 * again, which costs a query and nothing else
 */

static void
ngx_http_douyin_lost_other(ngx_http_douyin_op_t *op, const char *task_id)
{
    void                        *p;
    ngx_uint_t                   n;
    ngx_http_douyin_op_batch_t  *b;

    b = &op->u.batch;

    if (b->nothers == b->cothers) {
        n = b->cothers ? b->cothers * 2 : 64;

        p = realloc(b->others, n * sizeof(*b->others));
        if (p == NULL) {
            return;
        }

        b->others = p;
        b->cothers = n;
    }

    ngx_http_douyin_set(b->others[b->nothers++], sizeof(*b->others), task_id);
}


/*
 * between two calls of a settle: the account's query rate, shared with
 * every worker's polls through the douyin_asr_rate zone (thread side)
 */

static void
ngx_http_douyin_lost_pace(ngx_http_douyin_op_t *op)
{
    ngx_http_douyin_rate_pace(op->conf, 1);
}


static int ngx_libc_cdecl
ngx_http_douyin_candidate_cmp(const void *one, const void *two)
{
    const ngx_http_douyin_candidate_t  *a = one, *b = two;

    return (a->distance > b->distance) - (a->distance < b->distance);
}


/* the submit's body, for cJSON_free(), or NULL when out of memory */

static char *
ngx_http_douyin_dashscope_body(ngx_http_douyin_op_t *op)
{
    char        *body;
    cJSON       *req, *input, *urls;
    ngx_uint_t   i;

    req = cJSON_CreateObject();
    input = cJSON_AddObjectToObject(req, "input");
    urls = cJSON_AddArrayToObject(input, "file_urls");

    if (req == NULL || urls == NULL
        || cJSON_AddStringToObject(req, "model",
                                   op->conf->asr_model.data) == NULL
        || ngx_http_douyin_dashscope_parameters(op->conf,
               cJSON_AddObjectToObject(req, "parameters")) != NGX_OK)
    {
        cJSON_Delete(req);
        return NULL;
    }

    for (i = 0; i < op->nitems; i++) {
        if (!cJSON_AddItemToArray(urls,
                                  cJSON_CreateString(op->items[i].file_url)))
        {
            cJSON_Delete(req);
            return NULL;
        }
    }

    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);

    return body;
}


/*
 * The submit's "parameters" from the douyin_asr_* directives, each
 * only when it is set: language_hints [CODE], vocabulary_id,
 * diarization_enabled and speaker_count, special_word_filter (a string
 * holding the JSON) and channel_id [N, ...].  params NULL (out of
 * memory) or a failed addition: NGX_ERROR.
 */

static ngx_int_t
ngx_http_douyin_dashscope_parameters(ngx_http_douyin_main_conf_t *conf,
    cJSON *params)
{
    char        buf[257];
    cJSON      *list;
    ngx_uint_t  i, *ch;

    if (params == NULL) {
        return NGX_ERROR;
    }

    if (conf->asr_language.data != NULL) {
        ngx_cpystrn((u_char *) buf, conf->asr_language.data,
                    ngx_min(conf->asr_language.len + 1, sizeof(buf)));

        list = cJSON_AddArrayToObject(params, "language_hints");
        if (list == NULL
            || !cJSON_AddItemToArray(list, cJSON_CreateString(buf)))
        {
            return NGX_ERROR;
        }
    }

    if (conf->asr_vocabulary.data != NULL) {
        ngx_cpystrn((u_char *) buf, conf->asr_vocabulary.data,
                    ngx_min(conf->asr_vocabulary.len + 1, sizeof(buf)));

        if (cJSON_AddStringToObject(params, "vocabulary_id", buf) == NULL) {
            return NGX_ERROR;
        }
    }

    if (conf->asr_diarization != NGX_CONF_UNSET) {
        if (cJSON_AddBoolToObject(params, "diarization_enabled",
                                  conf->asr_diarization ? 1 : 0) == NULL)
        {
            return NGX_ERROR;
        }

        if (conf->asr_speakers
            && cJSON_AddNumberToObject(params, "speaker_count",
                                       (double) conf->asr_speakers) == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (conf->asr_word_filter.data != NULL
        && cJSON_AddStringToObject(params, "special_word_filter",
                                   (char *) conf->asr_word_filter.data)
           == NULL)
    {
        return NGX_ERROR;
    }

    if (conf->asr_channels != NULL) {
        list = cJSON_AddArrayToObject(params, "channel_id");
        if (list == NULL) {
            return NGX_ERROR;
        }

        ch = conf->asr_channels->elts;

        for (i = 0; i < conf->asr_channels->nelts; i++) {
            if (!cJSON_AddItemToArray(list,
                                      cJSON_CreateNumber((double) ch[i])))
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_dashscope_query: queries the provider task
 * op->u.batch.task_id.  On TASK_ENDED *answer is the parsed answer (the caller
 * deletes it); TASK_RETRY sets
 * op->rc = RC_RETRY; TASK_FAIL sets op->code and the message *fail.
 */

ngx_http_douyin_task_status_e
ngx_http_douyin_dashscope_query(ngx_http_douyin_op_t *op, cJSON **answer,
    const char **fail)
{
    char                            *url;
    size_t                           len;
    cJSON                           *json;
    ngx_http_douyin_pace_t           pace;
    ngx_http_douyin_curl_t           f;
    ngx_http_douyin_task_status_e    task;

    const char  *headers[] = { op->auth_header, NULL };

    *answer = NULL;

    len = op->conf->asr_url.len + sizeof("/api/v1/tasks/")
          + ngx_strlen(op->u.batch.task_id);
    url = malloc(len);
    if (url == NULL) {
        ngx_http_douyin_op_error(op, NGX_HTTP_DOUYIN_ERR_NO_MEMORY);
        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return NGX_HTTP_DOUYIN_TASK_RETRY;
    }

    ngx_snprintf((u_char *) url, len, "%s/api/v1/tasks/%s%Z",
                 op->conf->asr_url.data, op->u.batch.task_id);

    pace.conf = op->conf;
    pace.query = 1;

    (void) ngx_http_douyin_curl_paced(&f, &pace, "GET", url, headers, NULL,
                                      op->conf->http_timeout,
                                      NGX_HTTP_DOUYIN_ANSWER_MAX);
    free(url);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_QUERY,
                                 f.status, f.timedout);

    op->http_status = f.status;

    if (f.status != 200) {
        task = (ngx_http_douyin_provider_error(op, &f, "query") == NGX_OK)
               ? NGX_HTTP_DOUYIN_TASK_FAIL : NGX_HTTP_DOUYIN_TASK_RETRY;
        ngx_http_douyin_curl_free(&f);
        *fail = "The ASR provider refused the query.";
        return task;
    }

    json = cJSON_ParseWithLength(f.body, f.len);
    ngx_http_douyin_curl_free(&f);

    task = ngx_http_douyin_dashscope_status(op,
               cJSON_GetObjectItemCaseSensitive(json, "output"), fail);

    if (task == NGX_HTTP_DOUYIN_TASK_ENDED) {
        *answer = json;

    } else {
        cJSON_Delete(json);
    }

    return task;
}


/* output.task_status of a query's answer */

static ngx_http_douyin_task_status_e
ngx_http_douyin_dashscope_status(ngx_http_douyin_op_t *op, cJSON *output,
    const char **fail)
{
    char   *text;
    cJSON  *status;

    status = cJSON_GetObjectItemCaseSensitive(output, "task_status");

    if (!cJSON_IsString(status)) {
        ngx_http_douyin_set(op->code, sizeof(op->code), "ASR_BAD_RESPONSE");
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope query answered without task_status");
        *fail = "The ASR provider answered the query without a task status.";
        return NGX_HTTP_DOUYIN_TASK_FAIL;
    }

    text = status->valuestring;

    if (ngx_strcmp(text, "PENDING") == 0 || ngx_strcmp(text, "RUNNING") == 0)
    {
        return NGX_HTTP_DOUYIN_TASK_RUNNING;
    }

    if (ngx_strcmp(text, "UNKNOWN") == 0
        || ngx_strcmp(text, "CANCELED") == 0)
    {
        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "DashScope task %s is %s%Z", op->u.batch.task_id,
                     text[0] == 'U' ? "UNKNOWN (expired or never existed)"
                                    : "CANCELED");
        ngx_http_douyin_set(op->code, sizeof(op->code),
                            text[0] == 'U' ? "TASK_UNKNOWN"
                                           : "TASK_CANCELED");
        *fail = "The ASR provider no longer knows the task.";
        return NGX_HTTP_DOUYIN_TASK_FAIL;
    }

    if (ngx_strcmp(text, "SUCCEEDED") != 0 && ngx_strcmp(text, "FAILED") != 0)
    {
        ngx_http_douyin_set(op->code, sizeof(op->code), "ASR_BAD_RESPONSE");
        ngx_http_douyin_set(op->detail, sizeof(op->detail),
                            "DashScope query answered an unknown "
                            "task_status");
        *fail = "The ASR provider answered an unknown task status.";
        return NGX_HTTP_DOUYIN_TASK_FAIL;
    }

    return NGX_HTTP_DOUYIN_TASK_ENDED;
}


/*
 * ngx_http_douyin_dashscope_record: the record of item in the answer of
 * an ended provider task, in *rec (NULL when out of memory): a
 * transcript (NGX_OK: metadata may be added), or a failure with the
 * provider's code (NGX_DECLINED).  NGX_AGAIN when the transcription
 * could not be downloaded and the whole step is to be tried again
 * (op->rc = RC_RETRY).
 */

ngx_int_t
ngx_http_douyin_dashscope_record(ngx_http_douyin_op_t *op, cJSON *answer,
    ngx_http_douyin_item_t *item, cJSON **rec)
{
    cJSON      *output, *res, *sub, *code, *message, *turl;
    ngx_int_t   rc;

    output = cJSON_GetObjectItemCaseSensitive(answer, "output");

    res = ngx_http_douyin_dashscope_match(op,
              cJSON_GetObjectItemCaseSensitive(output, "results"), item);

    if (res == NULL) {
        code = cJSON_GetObjectItemCaseSensitive(output, "code");
        message = cJSON_GetObjectItemCaseSensitive(output, "message");

        *rec = ngx_http_douyin_failed_record(
                   cJSON_IsString(code) ? code->valuestring
                                        : "ASR_NO_RESULT",
                   cJSON_IsString(message) ? message->valuestring
                   : "The ASR provider returned no result for this file.");
        return NGX_DECLINED;
    }

    sub = cJSON_GetObjectItemCaseSensitive(res, "subtask_status");
    code = cJSON_GetObjectItemCaseSensitive(res, "code");
    message = cJSON_GetObjectItemCaseSensitive(res, "message");
    turl = cJSON_GetObjectItemCaseSensitive(res, "transcription_url");

    if (cJSON_IsString(sub) && ngx_strcmp(sub->valuestring, "SUCCEEDED") == 0
        && cJSON_IsString(turl))
    {
        return ngx_http_douyin_dashscope_download(op, item, turl->valuestring,
                                                  rec);
    }

    if (cJSON_IsString(code) && ngx_http_douyin_no_speech(code->valuestring))
    {
        /*
         * no speech: an empty transcript, not an error.  When the
         * provider links a result, it is read all the same: its
         * properties give the audio's real length (a silent file lasts);
         * without one, or when it cannot be read, the length is unknown
         * and 0.
         */

        if (cJSON_IsString(turl)) {
            rc = ngx_http_douyin_dashscope_download(op, item,
                                                    turl->valuestring, rec);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            cJSON_Delete(*rec);
        }

        *rec = ngx_http_douyin_parse_result("{}", 2);
        return NGX_OK;
    }

    *rec = ngx_http_douyin_failed_record(
               cJSON_IsString(code) ? code->valuestring : "ASR_FAILED",
               cJSON_IsString(message) ? message->valuestring
               : "The ASR provider could not transcribe the file.");

    return NGX_DECLINED;
}


/* the result of item among results: by file_url, or the only one */

static cJSON *
ngx_http_douyin_dashscope_match(ngx_http_douyin_op_t *op, cJSON *results,
    ngx_http_douyin_item_t *item)
{
    cJSON  *res, *file_url;

    cJSON_ArrayForEach(res, results) {
        file_url = cJSON_GetObjectItemCaseSensitive(res, "file_url");

        if (cJSON_IsString(file_url)
            && ngx_strcmp(file_url->valuestring, item->file_url) == 0)
        {
            return res;
        }
    }

    if (op->nitems == 1 && cJSON_GetArraySize(results) == 1) {
        return cJSON_GetArrayItem(results, 0);
    }

    return NULL;
}


/* downloads and parses a succeeded file's transcription */

static ngx_int_t
ngx_http_douyin_dashscope_download(ngx_http_douyin_op_t *op,
    ngx_http_douyin_item_t *item, const char *url, cJSON **rec)
{
    ngx_int_t                rc;
    ngx_http_douyin_curl_t   f;

    rc = ngx_http_douyin_curl_request(&f, "GET", url, NULL, NULL,
                                      op->conf->http_timeout,
                                      NGX_HTTP_DOUYIN_RESULT_MAX);

    ngx_http_douyin_metrics_call(op->conf, NGX_HTTP_DOUYIN_CALL_RESULT,
                                 f.status, f.timedout);

    if (rc != NGX_OK || f.status >= 500) {
        /* transient: the whole step is tried again */

        ngx_snprintf((u_char *) op->detail, sizeof(op->detail) - 1,
                     "fetching the transcription of %s failed: %s%Z",
                     item->aweme_id, f.status ? "HTTP 5xx" : f.error);
        ngx_http_douyin_curl_free(&f);

        if (op->attempt + 1 < NGX_HTTP_DOUYIN_MAX_ATTEMPTS) {
            ngx_http_douyin_set(op->code, sizeof(op->code),
                                "RESULT_DOWNLOAD_FAILED");
            op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
            return NGX_AGAIN;
        }

        *rec = ngx_http_douyin_failed_record("RESULT_DOWNLOAD_FAILED",
                                             "The transcription result "
                                             "could not be downloaded.");
        return NGX_DECLINED;
    }

    *rec = (f.status == 200) ? ngx_http_douyin_parse_result(f.body, f.len)
                             : NULL;
    ngx_http_douyin_curl_free(&f);

    if (*rec == NULL) {
        *rec = ngx_http_douyin_failed_record("ASR_BAD_RESULT",
                                             "The transcription result "
                                             "could not be read.");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A non-200 provider answer or a transport failure: sets op->code
 * (the provider's "code", else ASR_HTTP_<status> or ASR_UNAVAILABLE) and
 * op->detail.  Returns NGX_DECLINED when the call is to be retried later
 * (op->rc = RC_RETRY: 429, 5xx, no answer), and NGX_OK when the items
 * are to fail now (also sets key_rejected on 401 and 403).
 */

static ngx_int_t
ngx_http_douyin_provider_error(ngx_http_douyin_op_t *op,
    ngx_http_douyin_curl_t *f, const char *what)
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

    if (f->status == 0 || f->status == 429 || f->status >= 500) {

        /*
         * transient, as DashScope documents 429 and 5xx: tried again,
         * however often, until douyin_asr_timeout after the batch
         * started (ngx_http_douyin_batch_retry()); a fixed number of
         * attempts failed videos whose task had simply met a few 429s
         */

        op->rc = NGX_HTTP_DOUYIN_RC_RETRY;
        return NGX_DECLINED;
    }

    if (f->status == 401 || f->status == 403) {
        op->key_rejected = 1;
    }

    return NGX_OK;
}


/*
 * The transcription result file -> a completed record:
 * {"status":"completed","processed_at","text","segments":[{"start_time",
 * "end_time","text","confidence":null[,"speaker_id"]}],"confidence":null,
 * "audio_duration"[,"words"][,"language"]}.  Times ms -> s.  DashScope
 * reports no confidence, so it is null.  speaker_id (from 0) is there
 * with diarization.  "words" runs parallel to "segments": for each
 * sentence an array of its words as [begin_ms, end_ms, "text",
 * "punctuation"] (compact: a transcript has one word per CJK character),
 * left out when no sentence has words.  "language" is the transcript's
 * or a sentence's "language" when the provider gives one.  Returns NULL
 * when the body is not a result object.
 */

static cJSON *
ngx_http_douyin_parse_result(const char *body, size_t len)
{
    char    *all, *p;
    cJSON   *json, *rec, *segments, *tr, *props, *dur, *words, *lang;
    double   duration;

    json = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return NULL;
    }

    rec = cJSON_CreateObject();
    segments = cJSON_CreateArray();
    words = cJSON_CreateArray();
    lang = NULL;
    all = ngx_http_douyin_parse_text(json);

    if (rec == NULL || segments == NULL || words == NULL || all == NULL) {
        goto failed;
    }

    p = all;
    duration = 0;

    cJSON_ArrayForEach(tr, cJSON_GetObjectItemCaseSensitive(json,
                                                            "transcripts"))
    {
        if (ngx_http_douyin_parse_transcript(tr, segments, words, &lang, all,
                                             &p, &duration)
            != NGX_OK)
        {
            goto failed;
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
        || !cJSON_AddItemToObject(rec, "segments", segments))
    {
        goto failed;
    }

    segments = NULL;

    if (cJSON_AddNullToObject(rec, "confidence") == NULL
        || cJSON_AddNumberToObject(rec, "audio_duration", duration) == NULL)
    {
        goto failed;
    }

    /* words only when some sentence has them */

    cJSON_ArrayForEach(tr, words) {
        if (cJSON_GetArraySize(tr) > 0) {
            break;
        }
    }

    if (tr != NULL) {
        if (!cJSON_AddItemToObject(rec, "words", words)) {
            goto failed;
        }

    } else {
        cJSON_Delete(words);
    }

    words = NULL;

    if (lang != NULL
        && cJSON_AddStringToObject(rec, "language", lang->valuestring) == NULL)
    {
        goto failed;
    }

    free(all);
    cJSON_Delete(json);

    return rec;

failed:

    free(all);
    cJSON_Delete(words);
    cJSON_Delete(segments);
    cJSON_Delete(rec);
    cJSON_Delete(json);

    return NULL;
}


/* a buffer for the text of every channel, joined by spaces (malloc()) */

static char *
ngx_http_douyin_parse_text(cJSON *json)
{
    cJSON   *tr, *text;
    size_t   len;

    len = 1;

    cJSON_ArrayForEach(tr, cJSON_GetObjectItemCaseSensitive(json,
                                                            "transcripts"))
    {
        text = cJSON_GetObjectItemCaseSensitive(tr, "text");
        if (cJSON_IsString(text)) {
            len += ngx_strlen(text->valuestring) + 1;
        }
    }

    return malloc(len);
}


/*
 * One channel tr of a result: appends its text at *p (after a space
 * unless *p is still all, the start of the text buffer), its sentences
 * to segments (s) and their words to words (one array a sentence), sets
 * *lang to the first "language" seen (of the channel or a sentence), and
 * raises *duration to its last end.
 */

static ngx_int_t
ngx_http_douyin_parse_transcript(cJSON *tr, cJSON *segments, cJSON *words,
    cJSON **lang, char *all, char **p, double *duration)
{
    cJSON   *text, *s, *seg, *begin, *end, *l;
    size_t   n;

    l = cJSON_GetObjectItemCaseSensitive(tr, "language");
    if (*lang == NULL && cJSON_IsString(l)) {
        *lang = l;
    }

    text = cJSON_GetObjectItemCaseSensitive(tr, "text");

    if (cJSON_IsString(text) && text->valuestring[0] != '\0') {
        if (*p != all) {
            *(*p)++ = ' ';
        }

        n = ngx_strlen(text->valuestring);
        *p = (char *) ngx_cpymem(*p, text->valuestring, n);
    }

    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(tr, "sentences")) {
        begin = cJSON_GetObjectItemCaseSensitive(s, "begin_time");
        end = cJSON_GetObjectItemCaseSensitive(s, "end_time");
        text = cJSON_GetObjectItemCaseSensitive(s, "text");

        if (!cJSON_IsNumber(begin) || !cJSON_IsNumber(end)
            || !cJSON_IsString(text))
        {
            return NGX_ERROR;
        }

        seg = cJSON_CreateObject();
        if (seg == NULL) {
            return NGX_ERROR;
        }

        cJSON_AddItemToArray(segments, seg);

        if (cJSON_AddNumberToObject(seg, "start_time",
                                    begin->valuedouble / 1000) == NULL
            || cJSON_AddNumberToObject(seg, "end_time",
                                       end->valuedouble / 1000) == NULL
            || cJSON_AddStringToObject(seg, "text", text->valuestring)
               == NULL
            || cJSON_AddNullToObject(seg, "confidence") == NULL
            || ngx_http_douyin_parse_sentence(s, seg, words) != NGX_OK)
        {
            return NGX_ERROR;
        }

        l = cJSON_GetObjectItemCaseSensitive(s, "language");
        if (*lang == NULL && cJSON_IsString(l)) {
            *lang = l;
        }

        if (end->valuedouble / 1000 > *duration) {
            *duration = end->valuedouble / 1000;
        }
    }

    return NGX_OK;
}


/*
 * One sentence of a result file beside its segment: adds
 * "speaker_id" to seg when the sentence has one (diarization), and the
 * sentence's words to "words" as one array (empty when it has none).
 * Returns NGX_OK, or NGX_ERROR when out of memory.
 */

static ngx_int_t
ngx_http_douyin_parse_sentence(cJSON *s, cJSON *seg, cJSON *words)
{
    cJSON  *speaker;

    speaker = cJSON_GetObjectItemCaseSensitive(s, "speaker_id");

    if (cJSON_IsNumber(speaker) && speaker->valuedouble >= 0
        && speaker->valuedouble < 1000000
        && cJSON_AddNumberToObject(seg, "speaker_id",
                                   (double) (ngx_uint_t) speaker->valuedouble)
           == NULL)
    {
        return NGX_ERROR;
    }

    return ngx_http_douyin_parse_words(s, words);
}


/*
 * The "words" of a sentence, each {"begin_time","end_time" (ms),"text",
 * "punctuation"}, appended to "words" as one array of [begin, end, text,
 * punctuation].  A word without numeric times or text is left out; the
 * times are kept as given (the subtitle builder orders and bounds them).
 */

static ngx_int_t
ngx_http_douyin_parse_words(cJSON *s, cJSON *words)
{
    cJSON  *list, *w, *begin, *end, *text, *punct, *word;

    list = cJSON_CreateArray();
    if (list == NULL || !cJSON_AddItemToArray(words, list)) {
        cJSON_Delete(list);
        return NGX_ERROR;
    }

    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(s, "words")) {
        begin = cJSON_GetObjectItemCaseSensitive(w, "begin_time");
        end = cJSON_GetObjectItemCaseSensitive(w, "end_time");
        text = cJSON_GetObjectItemCaseSensitive(w, "text");
        punct = cJSON_GetObjectItemCaseSensitive(w, "punctuation");

        if (!cJSON_IsNumber(begin) || !cJSON_IsNumber(end)
            || !cJSON_IsString(text))
        {
            continue;
        }

        word = cJSON_CreateArray();

        if (word == NULL || !cJSON_AddItemToArray(list, word)
            || !cJSON_AddItemToArray(word,
                                     cJSON_CreateNumber(begin->valuedouble))
            || !cJSON_AddItemToArray(word,
                                     cJSON_CreateNumber(end->valuedouble))
            || !cJSON_AddItemToArray(word,
                                     cJSON_CreateString(text->valuestring))
            || !cJSON_AddItemToArray(word,
                     cJSON_CreateString(cJSON_IsString(punct)
                                        ? punct->valuestring : "")))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_dashscope_usage: the billed seconds of a succeeded
 * task (the query answer's usage.duration, integer seconds) shared out
 * to its completed records as "asr_seconds": in proportion to their
 * audio_duration, in whole seconds by largest remainder, so that the
 * records' seconds add up to what DashScope billed for the task.  No
 * usage: nothing is added.  Returns the task's billed seconds (0 when
 * none).  Thread side.
 */

double
ngx_http_douyin_dashscope_usage(cJSON *answer, cJSON **records,
    ngx_uint_t n)
{
    cJSON       *usage, *dur, *status, *ad;
    double       total, weight, share[NGX_HTTP_DOUYIN_BATCH_MAX];
    int64_t      billed, given, secs[NGX_HTTP_DOUYIN_BATCH_MAX];
    ngx_uint_t   i, k, best, done[NGX_HTTP_DOUYIN_BATCH_MAX], m;

    usage = cJSON_GetObjectItemCaseSensitive(answer, "usage");
    dur = cJSON_GetObjectItemCaseSensitive(usage, "duration");

    if (!cJSON_IsNumber(dur) || dur->valuedouble < 0 || n == 0
        || n > NGX_HTTP_DOUYIN_BATCH_MAX)
    {
        return 0;
    }

    billed = (int64_t) (dur->valuedouble + 0.5);
    total = 0;
    m = 0;

    for (i = 0; i < n; i++) {
        status = cJSON_GetObjectItemCaseSensitive(records[i], "status");
        done[i] = cJSON_IsString(status)
                  && ngx_strcmp(status->valuestring, "completed") == 0;

        if (done[i]) {
            ad = cJSON_GetObjectItemCaseSensitive(records[i],
                                                  "audio_duration");
            share[i] = cJSON_IsNumber(ad) && ad->valuedouble > 0
                       ? ad->valuedouble : 0;
            total += share[i];
            m++;
        }
    }

    if (m == 0) {
        return (double) billed;
    }

    given = 0;

    for (i = 0; i < n; i++) {
        secs[i] = 0;

        if (!done[i]) {
            continue;
        }

        weight = (total > 0) ? share[i] / total : 1.0 / m;
        share[i] = billed * weight;
        secs[i] = (int64_t) share[i];
        share[i] -= (double) secs[i];
        given += secs[i];
    }

    /* the seconds left by rounding down go to the largest remainders */

    for (k = 0; given < billed && k < m; k++, given++) {
        best = n;

        for (i = 0; i < n; i++) {
            if (done[i] && (best == n || share[i] > share[best])) {
                best = i;
            }
        }

        secs[best]++;
        share[best] = -1;
    }

    for (i = 0; i < n; i++) {
        if (done[i]) {
            cJSON_DeleteItemFromObjectCaseSensitive(records[i],
                                                    "asr_seconds");
            cJSON_AddNumberToObject(records[i], "asr_seconds",
                                    (double) secs[i]);
        }
    }

    return (double) billed;
}


/*
 * ngx_http_douyin_failed_record: a failed record {"status":"failed",
 * "processed_at","error":code,"message"}, or NULL when out of memory.
 */

cJSON *
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

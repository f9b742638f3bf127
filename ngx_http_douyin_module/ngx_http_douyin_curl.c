
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: HTTP calls with libcurl (the libcurl wrapper).
 *
 * Thread side: ngx_http_douyin_curl_request() runs in a thread pool task with one
 * easy handle per call (libcurl-thread(3)); it never logs and never
 * touches nginx pools.  ngx_http_douyin_curl_global_init() runs once per
 * worker on the event loop before any task is posted, and sets the TLS
 * settings every call uses (douyin_ssl_verify, douyin_ssl_trusted_
 * certificate): read only from then on.
 */


#include "ngx_http_douyin_module.h"

#include <curl/curl.h>


static size_t ngx_http_douyin_curl_write(char *ptr, size_t size,
    size_t nmemb, void *userdata);


/* the worker's TLS settings for every upstream (file-system-go, ASR) */

static long         ngx_http_douyin_ssl_verify = 1;
static const char  *ngx_http_douyin_ssl_ca;


typedef struct {
    ngx_http_douyin_curl_t    *fetch;
    size_t                      cap;
    size_t                      max_size;
    ngx_uint_t                  too_big;
} ngx_http_douyin_curl_ctx_t;


/*
 * ngx_http_douyin_curl_global_init: curl_global_init(CURL_GLOBAL_ALL),
 * and the TLS settings of dmcf for every call of this worker.  Returns
 * NGX_OK or NGX_ERROR (logged).
 */

ngx_int_t
ngx_http_douyin_curl_global_init(ngx_log_t *log,
    ngx_http_douyin_main_conf_t *dmcf)
{
    CURLcode  code;

    ngx_http_douyin_ssl_verify = dmcf->ssl_verify ? 1 : 0;
    ngx_http_douyin_ssl_ca =
        dmcf->ssl_trusted_certificate.len
        ? (const char *) dmcf->ssl_trusted_certificate.data : NULL;

    code = curl_global_init(CURL_GLOBAL_ALL);
    if (code != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "douyin: curl_global_init() failed: %s",
                      curl_easy_strerror(code));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * ngx_http_douyin_curl_request: one HTTP request.
 *   method   "GET", "POST" or "DELETE";
 *   url      NUL-terminated absolute URL;
 *   headers  NULL-terminated array of "Name: value" lines, or NULL;
 *   body     NUL-terminated request body (POST), or NULL;
 *   timeout  connect + transfer limit, ms;
 *   max_size largest response body accepted, bytes.
 * https URLs are verified (peer and host name) unless douyin_ssl_verify
 * is off, against douyin_ssl_trusted_certificate when set, else the
 * system's CA store.
 * Fills f: status (0 when no HTTP answer came), body (malloc()ed and
 * NUL-terminated, also on non-2xx answers; free with
 * ngx_http_douyin_curl_free()) and, on a transport failure, error,
 * timedout (douyin_http_timeout passed) and not_sent (no byte of the
 * request left: the name did not resolve, the connection or the TLS
 * handshake failed or timed out).
 * Returns NGX_OK when an HTTP answer came, NGX_ERROR otherwise.
 */

ngx_int_t
ngx_http_douyin_curl_request(ngx_http_douyin_curl_t *f, const char *method,
    const char *url, const char *const *headers, const char *body,
    ngx_msec_t timeout, size_t max_size)
{
    CURL                         *curl;
    CURLcode                      code;
    struct curl_slist            *list, *tmp;
    ngx_http_douyin_curl_ctx_t   ctx;
    char                          errbuf[CURL_ERROR_SIZE];

    ngx_memzero(f, sizeof(ngx_http_douyin_curl_t));

    f->not_sent = 1;

    curl = curl_easy_init();
    if (curl == NULL) {
        ngx_cpystrn((u_char *) f->error, (u_char *) "curl_easy_init() failed",
                    sizeof(f->error));
        return NGX_ERROR;
    }

    list = NULL;

    for ( /* void */ ; headers != NULL && *headers != NULL; headers++) {
        tmp = curl_slist_append(list, *headers);
        if (tmp == NULL) {
            curl_slist_free_all(list);
            curl_easy_cleanup(curl);
            ngx_cpystrn((u_char *) f->error,
                        (u_char *) "curl_slist_append() failed",
                        sizeof(f->error));
            return NGX_ERROR;
        }

        list = tmp;
    }

    ctx.fetch = f;
    ctx.cap = 0;
    ctx.max_size = max_size;
    ctx.too_big = 0;

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) timeout);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ngx_http_douyin_curl_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(curl, CURLOPT_USERAGENT,
                     "ngx_http_douyin_module/" NGX_HTTP_DOUYIN_VERSION);

    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, ngx_http_douyin_ssl_verify);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST,
                     ngx_http_douyin_ssl_verify ? 2L : 0L);

    if (ngx_http_douyin_ssl_ca != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, ngx_http_douyin_ssl_ca);
    }

    if (list != NULL) {
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    }

    if (ngx_strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");

    } else if (ngx_strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }

    code = curl_easy_perform(curl);

    if (code == CURLE_OK) {
        f->not_sent = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f->status);

    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        f->timedout = 1;
        ngx_cpystrn((u_char *) f->error,
                    (u_char *) curl_easy_strerror(code), sizeof(f->error));

    } else if (ctx.too_big) {
        ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                     "response larger than %uz bytes%Z", max_size);

    } else if (code == CURLE_PEER_FAILED_VERIFICATION
               || code == CURLE_SSL_CACERT_BADFILE)
    {
        /* say what failed and what to configure, not only "not OK" */

        ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                     "TLS certificate verification failed (%s); trust its "
                     "CA with douyin_ssl_trusted_certificate%Z",
                     errbuf[0] ? errbuf : curl_easy_strerror(code));

    } else {
        ngx_cpystrn((u_char *) f->error,
                    (u_char *) curl_easy_strerror(code), sizeof(f->error));
    }

    if (code != CURLE_OK) {
        long  sent = 0;

        curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
        f->not_sent = (sent == 0);
    }

    curl_slist_free_all(list);
    curl_easy_cleanup(curl);

    if (code != CURLE_OK) {
        ngx_http_douyin_curl_free(f);
        return NGX_ERROR;
    }

    if (f->body == NULL) {
        f->body = malloc(1);
        if (f->body == NULL) {
            return NGX_ERROR;
        }

        f->body[0] = '\0';
    }

    return NGX_OK;
}


/* ngx_http_douyin_curl_free: frees f->body; f may be reused after */

void
ngx_http_douyin_curl_free(ngx_http_douyin_curl_t *f)
{
    free(f->body);
    f->body = NULL;
    f->len = 0;
}


static size_t
ngx_http_douyin_curl_write(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_douyin_curl_ctx_t *ctx = userdata;

    char                     *p;
    size_t                    n, cap;
    ngx_http_douyin_curl_t  *f;

    f = ctx->fetch;
    n = size * nmemb;

    if (f->len + n > ctx->max_size) {
        ctx->too_big = 1;
        return 0;
    }

    if (f->len + n + 1 > ctx->cap) {
        cap = ngx_max(ctx->cap * 2, f->len + n + 1);
        cap = ngx_max(cap, 4096);

        p = realloc(f->body, cap);
        if (p == NULL) {
            return 0;
        }

        f->body = p;
        ctx->cap = cap;
    }

    ngx_memcpy(f->body + f->len, ptr, n);
    f->len += n;
    f->body[f->len] = '\0';

    return n;
}

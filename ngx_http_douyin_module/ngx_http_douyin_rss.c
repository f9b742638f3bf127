
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: the RSS feed of transcripts (GET /api/rss.xml,
 * README "douyin_rss").
 *
 * RSS 2.0 with the content and atom namespaces: one item per completed
 * video with a non-empty text, newest processed_at first, built from the
 * store's "feed" index, so that only the records shown are read.  The
 * store keeps a version of the feed in the same write transactions as
 * the records (ngx_http_douyin_store.c): it is the ETag, and its time
 * the Last-Modified, so an unchanged feed is a 304 after one lookup, with
 * no record read and no JSON parsed.
 *
 * Everything here runs on the event loop (LMDB read transactions).
 *
 * Text comes from the ASR provider and file-system-go and may hold
 * anything: every string is made well-formed XML here (invalid UTF-8
 * becomes U+FFFD, characters XML 1.0 does not allow are dropped, and
 * & < > " are escaped), so a feed reader never fails on it.
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_RSS_LIMIT_MAX      200
#define NGX_HTTP_DOUYIN_RSS_LIMIT_DEFAULT  50
#define NGX_HTTP_DOUYIN_RSS_TITLE_CHARS    30
#define NGX_HTTP_DOUYIN_RSS_DESC_CHARS     200
#define NGX_HTTP_DOUYIN_RSS_CATEGORIES     5

/*
 * the paragraph rule (README "douyin_rss"): a gap over 1.5 s between one
 * sentence's end and the next one's start, or 120 characters, ends it
 */
#define NGX_HTTP_DOUYIN_RSS_PARA_GAP       1.5
#define NGX_HTTP_DOUYIN_RSS_PARA_CHARS     120


/*
 * The body is written twice by the same code: first with p == NULL,
 * which only counts the bytes, then into a buffer of that size.
 */

typedef struct {
    u_char                     *p;
    size_t                      len;
} ngx_http_douyin_rss_out_t;


static ngx_int_t ngx_http_douyin_rss_token(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_douyin_rss_auth(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_str_t *token);
static void ngx_http_douyin_rss_mask(ngx_http_request_t *r, ngx_str_t *s);
static ngx_http_douyin_err_e ngx_http_douyin_rss_query(
    ngx_http_request_t *r, ngx_uint_t *limit, ngx_uint_t *unread_only);
static ngx_int_t ngx_http_douyin_rss_validators(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_http_douyin_feed_state_t *st,
    ngx_uint_t limit, ngx_uint_t unread_only, ngx_str_t *etag);
static ngx_int_t ngx_http_douyin_rss_headers(ngx_http_request_t *r,
    ngx_str_t *etag);
static ngx_int_t ngx_http_douyin_rss_not_modified(ngx_http_request_t *r,
    ngx_str_t *etag, time_t last_modified);
static ngx_int_t ngx_http_douyin_rss_header(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_douyin_rss_send(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, cJSON *items, time_t built);
static void ngx_http_douyin_rss_body(ngx_http_douyin_rss_out_t *out,
    ngx_http_douyin_main_conf_t *dmcf, cJSON *items, time_t built);
static void ngx_http_douyin_rss_item(ngx_http_douyin_rss_out_t *out,
    ngx_http_douyin_main_conf_t *dmcf, cJSON *rec);
static void ngx_http_douyin_rss_paragraphs(ngx_http_douyin_rss_out_t *out,
    cJSON *text, cJSON *segments);
static void ngx_http_douyin_rss_categories(ngx_http_douyin_rss_out_t *out,
    const u_char *s);
static void ngx_http_douyin_rss_raw(ngx_http_douyin_rss_out_t *out,
    const void *s, size_t len);
static ngx_uint_t ngx_http_douyin_rss_text(ngx_http_douyin_rss_out_t *out,
    const u_char *s, size_t len, ngx_uint_t max);


#define ngx_http_douyin_rss_lit(out, s)                                       \
    ngx_http_douyin_rss_raw(out, s, sizeof(s) - 1)


/*
 * ngx_http_douyin_rss_handler: douyin_rss;  GET/HEAD
 * ?token=T[&limit=1..200][&include_read=true|false] -> the feed,
 * application/rss+xml; or 304 when If-None-Match / If-Modified-Since
 * name the current version.  401 INVALID_TOKEN (no or a wrong token),
 * 503 RSS_TOKEN_MISSING (no secret in the douyin_rss_token_env
 * variable) or RSS_NOT_CONFIGURED (no douyin_public_url), 400
 * INVALID_QUERY naming the parameter, 503 STORE_* when the store cannot
 * be read.
 */

ngx_int_t
ngx_http_douyin_rss_handler(ngx_http_request_t *r)
{
    int                            rc_store;
    cJSON                         *items;
    time_t                         built;
    ngx_int_t                      rc;
    ngx_str_t                      etag, token;
    ngx_uint_t                     limit, unread_only;
    ngx_http_douyin_err_e          err;
    ngx_http_douyin_main_conf_t   *dmcf;
    ngx_http_douyin_feed_state_t   st;

    /* first of all, the token out of what nginx logs */

    if (ngx_http_douyin_rss_token(r, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_douyin_accept(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_douyin_module);

    rc = ngx_http_douyin_rss_auth(r, dmcf, &token);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    err = ngx_http_douyin_rss_query(r, &limit, &unread_only);
    if (err != NGX_HTTP_DOUYIN_OK) {
        return ngx_http_douyin_send_error(r, err);
    }

    if (!ngx_http_douyin_store_ready(dmcf)) {
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_STORE_CLOSED);
    }

    /* a poll with nothing new: one lookup, then 304 */

    rc_store = ngx_http_douyin_store_feed_state(&dmcf->runner->store, &st);
    if (rc_store != 0) {
        goto store_error;
    }

    if (ngx_http_douyin_rss_validators(r, dmcf, &st, limit, unread_only,
                                       &etag)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_douyin_rss_not_modified(r, &etag,
                                         r->headers_out.last_modified_time))
    {
        if (ngx_http_douyin_rss_headers(r, &etag) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.status = NGX_HTTP_NOT_MODIFIED;
        r->headers_out.content_length_n = -1;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    /* the items, and the state they go with (a write may have come) */

    rc_store = ngx_http_douyin_store_feed(&dmcf->runner->store, unread_only,
                                          limit, &items, &st);
    if (rc_store != 0) {
        goto store_error;
    }

    if (ngx_http_douyin_rss_validators(r, dmcf, &st, limit, unread_only,
                                       &etag)
        != NGX_OK
        || ngx_http_douyin_rss_headers(r, &etag) != NGX_OK)
    {
        cJSON_Delete(items);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    built = (time_t) st.changed_at[unread_only ? 1 : 0];

    return ngx_http_douyin_rss_send(r, dmcf, items, built);

store_error:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "douyin: reading the feed from the store failed: %s",
                  mdb_strerror(rc_store));

    return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_STORE_READ);
}


/*
 * 200 with the feed of items (deleted here), built at built (Unix s): the
 * body is sized first, then written into one buffer; the headers
 * (validators) are set already
 */

static ngx_int_t
ngx_http_douyin_rss_send(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, cJSON *items, time_t built)
{
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_chain_t                 out;
    ngx_http_douyin_rss_out_t   body;

    static ngx_str_t  type = ngx_string("application/rss+xml; charset=utf-8");

    ngx_memzero(&body, sizeof(ngx_http_douyin_rss_out_t));

    ngx_http_douyin_rss_body(&body, dmcf, items, built);

    b = NULL;

    if (!r->header_only) {
        b = ngx_calloc_buf(r->pool);
        body.p = ngx_pnalloc(r->pool, body.len);

        if (b == NULL || body.p == NULL) {
            cJSON_Delete(items);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->pos = body.p;
        body.len = 0;

        ngx_http_douyin_rss_body(&body, dmcf, items, built);

        b->last = body.p;
        b->memory = 1;
        b->last_buf = (r == r->main) ? 1 : 0;
        b->last_in_chain = 1;
    }

    cJSON_Delete(items);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_length_n = body.len;

    /* the validators were checked above */
    r->disable_not_modified = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The "token" argument, unescaped, in *token (empty when there is none);
 * then the argument is masked in the request line, URI and arguments
 * that nginx logs (the error log's "request:", the access log), leaving
 * at most its first 4 characters.
 */

static ngx_int_t
ngx_http_douyin_rss_token(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char     *dst, *src;
    ngx_str_t   arg;

    token->len = 0;
    token->data = NULL;

    if (ngx_http_arg(r, (u_char *) "token", 5, &arg) != NGX_OK) {
        return NGX_OK;
    }

    if (arg.len > 0) {
        token->data = ngx_pnalloc(r->pool, arg.len);
        if (token->data == NULL) {
            return NGX_ERROR;
        }

        dst = token->data;
        src = arg.data;
        ngx_unescape_uri(&dst, &src, arg.len, 0);
        token->len = dst - token->data;
    }

    ngx_http_douyin_rss_mask(r, &r->request_line);
    ngx_http_douyin_rss_mask(r, &r->unparsed_uri);
    ngx_http_douyin_rss_mask(r, &r->args);

    return NGX_OK;
}


/*
 * The secret must be configured (503 otherwise), as must
 * douyin_public_url, and the token must equal the secret (401
 * otherwise).  Returns NGX_DECLINED when the request goes on.
 */

static ngx_int_t
ngx_http_douyin_rss_auth(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_str_t *token)
{
    char        *secret;
    u_char       diff;
    size_t       slen, i;

    secret = getenv((char *) dmcf->rss_token_env.data);

    if (secret == NULL || secret[0] == '\0') {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "douyin: the feed has no token: the environment "
                      "variable \"%V\" is not set (pass it with \"env %V;\")",
                      &dmcf->rss_token_env, &dmcf->rss_token_env);

        return ngx_http_douyin_send_error(r,
                                          NGX_HTTP_DOUYIN_ERR_TOKEN_MISSING);
    }

    if (dmcf->public_url.data == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "douyin: the feed needs \"douyin_public_url\"");

        return ngx_http_douyin_send_error(r,
                                        NGX_HTTP_DOUYIN_ERR_FEED_URL_MISSING);
    }

    slen = ngx_strlen(secret);

    /*
     * constant time over the secret's length: every byte is compared
     * whatever the first difference is; only the length can leak
     */

    diff = (token->len != slen);

    for (i = 0; i < slen; i++) {
        diff |= (u_char) secret[i]
                ^ (i < token->len ? token->data[i] : 0);
    }

    if (token->len > 0 && diff == 0) {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "douyin: feed request with %s token",
                  token->len ? "a wrong" : "no");

    return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_TOKEN);
}


/*
 * replaces, in a copy of s, the value of every "token=" argument by its
 * first 4 characters (none for a value of 8 or fewer) and "***"
 */

static void
ngx_http_douyin_rss_mask(ngx_http_request_t *r, ngx_str_t *s)
{
    u_char  *p, *q, *end, *copy, *v;
    size_t   keep;

    if (s->len == 0
        || ngx_strlcasestrn(s->data, s->data + s->len, (u_char *) "token=",
                            6 - 1) == NULL)
    {
        return;
    }

    /* a value grows by 2 bytes at most ("x" -> "***"), after 6 bytes */

    copy = ngx_pnalloc(r->pool, 2 * s->len + 3);
    if (copy == NULL) {
        s->len = 0;             /* better nothing than the token */
        return;
    }

    p = s->data;
    end = s->data + s->len;
    q = copy;

    while (p < end) {
        if ((p == s->data || p[-1] == '?' || p[-1] == '&')
            && end - p >= 6 && ngx_strncasecmp(p, (u_char *) "token=", 6)
                               == 0)
        {
            q = ngx_cpymem(q, p, 6);
            p += 6;

            for (v = p; v < end && *v != '&' && *v != ' ' && *v != '#'; v++) {
                /* void */
            }

            keep = (v - p > 8) ? 4 : 0;

            q = ngx_cpymem(q, p, keep);

            if (v > p) {
                q = ngx_cpymem(q, "***", 3);
            }

            p = v;
            continue;
        }

        *q++ = *p++;
    }

    s->data = copy;
    s->len = q - copy;
}


/*
 * limit 1..200 (default 50), include_read true|false (default true):
 * NGX_HTTP_DOUYIN_OK, or the error naming the parameter
 */

static ngx_http_douyin_err_e
ngx_http_douyin_rss_query(ngx_http_request_t *r, ngx_uint_t *limit,
    ngx_uint_t *unread_only)
{
    ngx_int_t  n;
    ngx_str_t  value;

    *limit = NGX_HTTP_DOUYIN_RSS_LIMIT_DEFAULT;
    *unread_only = 0;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &value) == NGX_OK) {
        n = ngx_atoi(value.data, value.len);

        if (n < 1 || n > NGX_HTTP_DOUYIN_RSS_LIMIT_MAX) {
            return NGX_HTTP_DOUYIN_ERR_BAD_LIMIT;
        }

        *limit = n;
    }

    if (ngx_http_arg(r, (u_char *) "include_read", 12, &value) == NGX_OK) {

        if (value.len == 5 && ngx_strncmp(value.data, "false", 5) == 0) {
            *unread_only = 1;

        } else if (!(value.len == 4
                     && ngx_strncmp(value.data, "true", 4) == 0))
        {
            return NGX_HTTP_DOUYIN_ERR_BAD_INCLUDE_READ;
        }
    }

    return NGX_HTTP_DOUYIN_OK;
}


/*
 * The validators of the feed version in st: *etag, and
 * r->headers_out.last_modified_time.
 *
 * The ETag names the version and the time of the variant asked for (so
 * a store made anew does not repeat an old ETag), limit, the variant,
 * and a checksum of the configuration that shapes the body.
 * Last-Modified is left out while the change is in the current second:
 * another change in that same second would have the same date.
 */

static ngx_int_t
ngx_http_douyin_rss_validators(ngx_http_request_t *r,
    ngx_http_douyin_main_conf_t *dmcf, ngx_http_douyin_feed_state_t *st,
    ngx_uint_t limit, ngx_uint_t unread_only, ngx_str_t *etag)
{
    u_char      *p;
    time_t       changed;
    ngx_uint_t   v;

    v = unread_only ? 1 : 0;
    changed = (time_t) st->changed_at[v];

    p = ngx_pnalloc(r->pool, 2 + 4 * NGX_INT64_LEN + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    etag->data = p;
    etag->len = ngx_sprintf(p, "\"%uL-%L-%ui%c-%08xD\"",
                            st->version[v], st->changed_at[v], limit,
                            unread_only ? 'u' : 'a', dmcf->rss_crc)
                - p;

    r->headers_out.last_modified_time = (changed > 0 && changed < ngx_time())
                                        ? changed : -1;

    return NGX_OK;
}


/* ETag, Cache-Control and X-Robots-Tag, of a 200 and of a 304 */

static ngx_int_t
ngx_http_douyin_rss_headers(ngx_http_request_t *r, ngx_str_t *etag)
{
    if (ngx_http_douyin_rss_header(r, "ETag", etag->data, etag->len)
        != NGX_OK
        || ngx_http_douyin_rss_header(r, "Cache-Control",
                                      (u_char *) "public, max-age=300",
                                      sizeof("public, max-age=300") - 1)
           != NGX_OK
        || ngx_http_douyin_rss_header(r, "X-Robots-Tag",
                                      (u_char *) "noindex",
                                      sizeof("noindex") - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Does the request's copy match (RFC 9110 13.2.2)?  If-None-Match, when
 * there, decides alone (weak comparison: a gzip'ed answer has W/);
 * else If-Modified-Since at or after Last-Modified.
 */

static ngx_int_t
ngx_http_douyin_rss_not_modified(ngx_http_request_t *r, ngx_str_t *etag,
    time_t last_modified)
{
    u_char           *p, *end, *start;
    time_t            since;
    ngx_table_elt_t  *h;

    h = r->headers_in.if_none_match;

    if (h != NULL) {
        p = h->value.data;
        end = p + h->value.len;

        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
                p++;
            }

            if (p < end && *p == '*') {
                return 1;
            }

            if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
                p += 2;
            }

            start = p;

            if (p < end && *p == '"') {
                p++;

                while (p < end && *p != '"') {
                    p++;
                }

                if (p < end) {
                    p++;
                }
            }

            if ((size_t) (p - start) == etag->len
                && ngx_strncmp(start, etag->data, etag->len) == 0)
            {
                return 1;
            }

            while (p < end && *p != ',') {
                p++;
            }
        }

        return 0;
    }

    h = r->headers_in.if_modified_since;

    if (h == NULL || last_modified == -1) {
        return 0;
    }

    since = ngx_parse_http_time(h->value.data, h->value.len);

    return (since != NGX_ERROR && last_modified <= since);
}


static ngx_int_t
ngx_http_douyin_rss_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;
#if (nginx_version >= 1023000)
    h->next = NULL;             /* nginx.h comes with ngx_module.h */
#endif

    if (name[0] == 'E') {
        r->headers_out.etag = h;
    }

    return NGX_OK;
}


/* the whole document; built: the feed's last change (lastBuildDate) */

static void
ngx_http_douyin_rss_body(ngx_http_douyin_rss_out_t *out,
    ngx_http_douyin_main_conf_t *dmcf, cJSON *items, time_t built)
{
    u_char   date[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];
    cJSON   *rec;

    ngx_http_douyin_rss_lit(out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<rss version=\"2.0\" "
        "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
        "xmlns:atom=\"http://www.w3.org/2005/Atom\">\n"
        "<channel>\n"
        "<title>Douyin transcripts</title>\n"
        "<link>");
    ngx_http_douyin_rss_text(out, (u_char *) dmcf->public_url.data,
                             dmcf->public_url.len, 0);
    ngx_http_douyin_rss_lit(out,
        "/</link>\n"
        "<description>Transcripts of Douyin videos, newest first"
        "</description>\n"
        "<language>zh-CN</language>\n"
        "<ttl>300</ttl>\n"
        "<generator>ngx_http_douyin_module/" NGX_HTTP_DOUYIN_VERSION
        "</generator>\n"
        "<lastBuildDate>");
    ngx_http_douyin_rss_raw(out, date,
                            ngx_http_time(date, built > 0 ? built : 0)
                            - date);
    ngx_http_douyin_rss_lit(out,
        "</lastBuildDate>\n"
        "<atom:link href=\"");
    ngx_http_douyin_rss_text(out, (u_char *) dmcf->public_url.data,
                             dmcf->public_url.len, 0);
    ngx_http_douyin_rss_lit(out,
        "/rss.xml\" rel=\"self\" type=\"application/rss+xml\"/>\n");

    cJSON_ArrayForEach(rec, items) {
        ngx_http_douyin_rss_item(out, dmcf, rec);
    }

    ngx_http_douyin_rss_lit(out, "</channel>\n</rss>\n");
}


static void
ngx_http_douyin_rss_item(ngx_http_douyin_rss_out_t *out,
    ngx_http_douyin_main_conf_t *dmcf, cJSON *rec)
{
    u_char      date[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];
    u_char     *p, *q, *end;
    cJSON      *id, *title, *text, *author, *desc, *at;
    size_t      idlen;
    time_t      t;

    id = cJSON_GetObjectItemCaseSensitive(rec, "aweme_id");
    title = cJSON_GetObjectItemCaseSensitive(rec, "title");
    text = cJSON_GetObjectItemCaseSensitive(rec, "text");
    author = cJSON_GetObjectItemCaseSensitive(rec, "author");
    desc = cJSON_GetObjectItemCaseSensitive(rec, "description");
    at = cJSON_GetObjectItemCaseSensitive(rec, "processed_at");

    if (!cJSON_IsString(id) || !cJSON_IsString(text)) {
        return;
    }

    idlen = ngx_strlen(id->valuestring);

    /* title: the video's, else the first 30 characters of the text */

    ngx_http_douyin_rss_lit(out, "<item>\n<title>");

    if (!cJSON_IsString(title)
        || ngx_http_douyin_rss_text(out, (u_char *) title->valuestring,
                                    ngx_strlen(title->valuestring), 0)
           == 0)
    {
        ngx_http_douyin_rss_text(out, (u_char *) text->valuestring,
                                 ngx_strlen(text->valuestring),
                                 NGX_HTTP_DOUYIN_RSS_TITLE_CHARS);
    }

    /* link: the pattern with "$id" replaced, or the detail route */

    ngx_http_douyin_rss_lit(out, "</title>\n<link>");

    if (dmcf->rss_item_link.len) {
        p = dmcf->rss_item_link.data;
        end = p + dmcf->rss_item_link.len;

        for ( ;; ) {
            q = ngx_strlcasestrn(p, end, (u_char *) "$id", 3 - 1);

            ngx_http_douyin_rss_text(out, p, (q ? q : end) - p, 0);

            if (q == NULL) {
                break;
            }

            ngx_http_douyin_rss_raw(out, id->valuestring, idlen);
            p = q + 3;
        }

    } else {
        ngx_http_douyin_rss_text(out, (u_char *) dmcf->public_url.data,
                                 dmcf->public_url.len, 0);
        ngx_http_douyin_rss_lit(out, "/videos/");
        ngx_http_douyin_rss_raw(out, id->valuestring, idlen);
    }

    ngx_http_douyin_rss_lit(out, "</link>\n<guid isPermaLink=\"false\">");
    ngx_http_douyin_rss_raw(out, id->valuestring, idlen);
    ngx_http_douyin_rss_lit(out, "</guid>\n");

    if (cJSON_IsString(author) && author->valuestring[0] != '\0') {
        ngx_http_douyin_rss_lit(out, "<author>");
        ngx_http_douyin_rss_text(out, (u_char *) author->valuestring,
                                 ngx_strlen(author->valuestring), 0);
        ngx_http_douyin_rss_lit(out, "</author>\n");
    }

    /* RFC 822 in GMT: the instant does not depend on the server's zone */

    t = (cJSON_IsNumber(at) && at->valuedouble > 0)
        ? (time_t) at->valuedouble : 0;

    ngx_http_douyin_rss_lit(out, "<pubDate>");
    ngx_http_douyin_rss_raw(out, date, ngx_http_time(date, t) - date);
    ngx_http_douyin_rss_lit(out, "</pubDate>\n");

    if (cJSON_IsString(desc)) {
        ngx_http_douyin_rss_categories(out, (u_char *) desc->valuestring);
    }

    ngx_http_douyin_rss_lit(out, "<description>");
    ngx_http_douyin_rss_text(out, (u_char *) text->valuestring,
                             ngx_strlen(text->valuestring),
                             NGX_HTTP_DOUYIN_RSS_DESC_CHARS);

    /*
     * the paragraphs are HTML, in CDATA: their text is HTML-escaped, so
     * it holds no ">" and can never close the CDATA section
     */

    ngx_http_douyin_rss_lit(out, "</description>\n"
                                 "<content:encoded><![CDATA[");
    ngx_http_douyin_rss_paragraphs(out, text,
                                   cJSON_GetObjectItemCaseSensitive(rec,
                                                                "segments"));
    ngx_http_douyin_rss_lit(out, "]]></content:encoded>\n</item>\n");
}


/*
 * The paragraph rule: consecutive segments are joined with a space until
 * the gap between one's end_time and the next one's start_time exceeds
 * 1.5 s or the paragraph holds 120 characters or more.  Without a
 * segment with text, the text is one paragraph.
 */

static void
ngx_http_douyin_rss_paragraphs(ngx_http_douyin_rss_out_t *out, cJSON *text,
    cJSON *segments)
{
    cJSON       *seg, *t, *start, *end;
    double       prev_end;
    ngx_uint_t   open, chars;

    open = 0;
    chars = 0;
    prev_end = 0;

    if (!cJSON_IsArray(segments)) {
        segments = NULL;
    }

    cJSON_ArrayForEach(seg, segments) {
        t = cJSON_GetObjectItemCaseSensitive(seg, "text");
        start = cJSON_GetObjectItemCaseSensitive(seg, "start_time");
        end = cJSON_GetObjectItemCaseSensitive(seg, "end_time");

        if (!cJSON_IsString(t) || t->valuestring[0] == '\0') {
            continue;
        }

        if (!open) {
            ngx_http_douyin_rss_lit(out, "<p>");
            open = 1;

        } else if ((cJSON_IsNumber(start)
                    && start->valuedouble - prev_end
                       > NGX_HTTP_DOUYIN_RSS_PARA_GAP)
                   || chars >= NGX_HTTP_DOUYIN_RSS_PARA_CHARS)
        {
            ngx_http_douyin_rss_lit(out, "</p><p>");
            chars = 0;

        } else {
            ngx_http_douyin_rss_lit(out, " ");
            chars++;
        }

        chars += ngx_http_douyin_rss_text(out, (u_char *) t->valuestring,
                                          ngx_strlen(t->valuestring), 0);

        if (cJSON_IsNumber(end)) {
            prev_end = end->valuedouble;
        }
    }

    if (open) {
        ngx_http_douyin_rss_lit(out, "</p>");
        return;
    }

    ngx_http_douyin_rss_lit(out, "<p>");
    ngx_http_douyin_rss_text(out, (u_char *) text->valuestring,
                             ngx_strlen(text->valuestring), 0);
    ngx_http_douyin_rss_lit(out, "</p>");
}


/*
 * One <category> per "#hashtag" of the description, at most 5 different
 * ones: a tag runs from "#" to a space (ASCII or U+3000), "#", "@", ","
 * or the full-width "，" and "。".
 */

static void
ngx_http_douyin_rss_categories(ngx_http_douyin_rss_out_t *out,
    const u_char *s)
{
    size_t         len[NGX_HTTP_DOUYIN_RSS_CATEGORIES], n;
    ngx_uint_t     found, i;
    const u_char  *tag[NGX_HTTP_DOUYIN_RSS_CATEGORIES], *p;

    found = 0;

    for (p = s; *p != '\0' && found < NGX_HTTP_DOUYIN_RSS_CATEGORIES; ) {

        if (*p++ != '#') {
            continue;
        }

        for (n = 0; p[n] != '\0'; n++) {
            if (p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '\r'
                || p[n] == '#' || p[n] == '@' || p[n] == ',')
            {
                break;
            }

            /* U+3000 (E3 80 80), U+3002 "。" (E3 80 82), U+FF0C "，" */

            if ((p[n] == 0xe3 && p[n + 1] == 0x80
                 && (p[n + 2] == 0x80 || p[n + 2] == 0x82))
                || (p[n] == 0xef && p[n + 1] == 0xbc && p[n + 2] == 0x8c))
            {
                break;
            }
        }

        if (n == 0 || n > 255) {
            p += n;
            continue;
        }

        for (i = 0; i < found; i++) {
            if (len[i] == n && ngx_strncmp(tag[i], p, n) == 0) {
                break;
            }
        }

        if (i == found) {
            tag[found] = p;
            len[found] = n;
            found++;
        }

        p += n;
    }

    for (i = 0; i < found; i++) {
        ngx_http_douyin_rss_lit(out, "<category>");
        ngx_http_douyin_rss_text(out, tag[i], len[i], 0);
        ngx_http_douyin_rss_lit(out, "</category>\n");
    }
}


static void
ngx_http_douyin_rss_raw(ngx_http_douyin_rss_out_t *out, const void *s,
    size_t len)
{
    if (out->p != NULL) {
        out->p = ngx_cpymem(out->p, s, len);
    }

    out->len += len;
}


/*
 * Writes len bytes of s as XML character data, at most max characters
 * (0: all): a byte sequence that is not UTF-8 (RFC 3629: no overlong
 * form, no surrogate, at most U+10FFFF) becomes U+FFFD; a character XML
 * 1.0 does not allow (controls other than tab, newline and carriage
 * return; U+FFFE, U+FFFF) is dropped; & < > " are escaped.  Returns the
 * number of characters written.
 */

static ngx_uint_t
ngx_http_douyin_rss_text(ngx_http_douyin_rss_out_t *out, const u_char *s,
    size_t len, ngx_uint_t max)
{
    u_char         c;
    uint32_t       cp, min;
    ngx_uint_t     chars, n, i;
    const u_char  *end;

    end = s + len;
    chars = 0;

    while (s < end && (max == 0 || chars < max)) {
        c = *s;

        if (c < 0x80) {
            s++;

            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                continue;
            }

            switch (c) {
            case '&':
                ngx_http_douyin_rss_lit(out, "&amp;");
                break;
            case '<':
                ngx_http_douyin_rss_lit(out, "&lt;");
                break;
            case '>':
                ngx_http_douyin_rss_lit(out, "&gt;");
                break;
            case '"':
                ngx_http_douyin_rss_lit(out, "&quot;");
                break;
            default:
                ngx_http_douyin_rss_raw(out, &c, 1);
            }

            chars++;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;

        } else {
            goto invalid;
        }

        if ((size_t) (end - s) <= n) {
            goto invalid;
        }

        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                goto invalid;
            }

            cp = (cp << 6) | (s[i] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            goto invalid;
        }

        if (cp != 0xfffe && cp != 0xffff) {
            ngx_http_douyin_rss_raw(out, s, n + 1);
            chars++;
        }

        s += n + 1;
        continue;

    invalid:

        /* one U+FFFD per byte that starts no character */

        ngx_http_douyin_rss_lit(out, "\xef\xbf\xbd");
        chars++;
        s++;
    }

    return chars;
}


/*
 * douyin_rss_item_link PATTERN;  an http(s) URL in which every "$id" is
 * the item's aweme_id (a plain replacement, not an nginx variable).
 */

char *
ngx_http_douyin_rss_item_link(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t  *value;

    if (dmcf->rss_item_link.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!(value[1].len > 7
          && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) == 0)
        && !(value[1].len > 8
             && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8)
                == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid link \"%V\": an http:// or https:// URL "
                           "is expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strlcasestrn(value[1].data, value[1].data + value[1].len,
                         (u_char *) "$id", 3 - 1)
        == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid link \"%V\": \"$id\" (the aweme_id) is "
                           "expected in it", &value[1]);
        return NGX_CONF_ERROR;
    }

    dmcf->rss_item_link = value[1];

    return NGX_CONF_OK;
}


/*
 * From init_main_conf: the default token variable (DOUYIN_RSS_TOKEN),
 * a NUL-terminated copy of it for getenv(), and the checksum of what
 * shapes the body (for the ETag).
 */

char *
ngx_http_douyin_rss_init_main_conf(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf)
{
    u_char     *p;
    uint32_t    crc;
    ngx_str_t   s;

    if (dmcf->rss_token_env.data == NULL) {
        ngx_str_set(&dmcf->rss_token_env, "DOUYIN_RSS_TOKEN");

    } else {
        s = dmcf->rss_token_env;

        p = ngx_pnalloc(cf->pool, s.len + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(p, s.data, s.len + 1);
        dmcf->rss_token_env.data = p;
    }

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) NGX_HTTP_DOUYIN_VERSION,
                     sizeof(NGX_HTTP_DOUYIN_VERSION) - 1);

    if (dmcf->public_url.data != NULL) {
        ngx_crc32_update(&crc, (u_char *) dmcf->public_url.data,
                         dmcf->public_url.len);
    }

    ngx_crc32_update(&crc, (u_char *) "\n", 1);
    ngx_crc32_update(&crc, dmcf->rss_item_link.data,
                     dmcf->rss_item_link.len);
    ngx_crc32_final(crc);

    dmcf->rss_crc = crc;

    return NGX_CONF_OK;
}


/*
 * From init_module, when a location has douyin_rss: warn when
 * douyin_public_url is missing or the token's variable is not passed to
 * the workers by an "env" directive: the feed answers 503 then.  Not an
 * error: a gateway that includes the shipped locations keeps starting
 * before it sets up the feed.
 */

void
ngx_http_douyin_rss_init_module(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf)
{
    ngx_str_t        *var;
    ngx_uint_t        i;
    ngx_core_conf_t  *ccf;

    if (dmcf->public_url.data == NULL) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "douyin: \"douyin_rss\" needs \"douyin_public_url\" "
                      "in the http block (the public address of the feed's "
                      "links), or the feed answers 503");
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);
    var = ccf->env.elts;

    for (i = 0; i < ccf->env.nelts; i++) {
        if (var[i].len >= dmcf->rss_token_env.len
            && ngx_strncmp(var[i].data, dmcf->rss_token_env.data,
                           dmcf->rss_token_env.len) == 0
            && (var[i].len == dmcf->rss_token_env.len
                || var[i].data[dmcf->rss_token_env.len] == '='))
        {
            return;
        }
    }

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "douyin: add \"env %V;\" to the main context, or the feed "
                  "answers 503 (no token)", &dmcf->rss_token_env);
}

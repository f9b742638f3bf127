
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: subtitles and plain text of a transcript (the
 * word timings and subtitle links of the result and detail objects are
 * ngx_http_douyin_video.c's).
 *
 * GET /api/videos/{aweme_id}/subtitles.{srt,vtt,txt} (douyin_subtitles
 * ID FORMAT) turns a completed record into SRT, WebVTT or paragraphs of
 * plain text, on the event loop: one read transaction, then pool memory
 * only.  The record keeps DashScope's sentences as "segments" (seconds)
 * and, beside them, each sentence's words as "words" ([begin_ms, end_ms,
 * text, punctuation], see ngx_http_douyin_parse_result()).
 *
 * Cues: one per sentence; a sentence longer than max_chars characters
 * (Unicode code points; the query's max_chars, 8..200, default 32) or
 * 7 s is split between words.  A record of an older release has no
 * words: its sentences are cut into words here (a CJK character, a Latin
 * word, punctuation going with the word before it) timed in proportion
 * to their length within the sentence.
 *
 * What a provider gives is not trusted to be ordered: sentences and
 * their words are sorted by time (stably), times past the audio's end
 * are brought back to it, and cues are made monotonic: a cue that starts
 * inside the one before cuts that one short, or, when it starts no later
 * than it, is moved after it, keeping the length the provider gave it
 * while the audio lasts; a cue past the audio's end takes the last
 * moments before it; a cue with no time left at all joins the one
 * before.  So cues never overlap, never go backwards, last at least 1 ms
 * and end by the audio's end, and every word is in exactly one cue.
 */


#include "ngx_http_douyin_module.h"


#define NGX_HTTP_DOUYIN_CUE_CHARS     32        /* default max_chars */
#define NGX_HTTP_DOUYIN_CUE_MSEC      7000      /* longest cue, ms */
#define NGX_HTTP_DOUYIN_PARA_GAP      1500      /* paragraph break, ms */
#define NGX_HTTP_DOUYIN_PARA_CHARS    120       /* paragraph length */


typedef enum {
    NGX_HTTP_DOUYIN_SRT = 0,
    NGX_HTTP_DOUYIN_VTT,
    NGX_HTTP_DOUYIN_TXT
} ngx_http_douyin_format_e;


typedef struct {
    int64_t                     begin;          /* ms */
    int64_t                     end;            /* ms */
    int64_t                     given_begin;    /* before the audio's end */
    int64_t                     given_end;      /* was brought to bear */
    u_char                     *text;           /* text + punctuation */
    size_t                      len;
    size_t                      chars;          /* without trailing ws */
    size_t                      trail;          /* trailing spaces */
} ngx_http_douyin_word_t;


typedef struct {
    int64_t                     begin;          /* ms */
    int64_t                     end;
    int64_t                     key;            /* sort key: first word */
    ngx_int_t                   speaker;        /* -1: none */
    ngx_uint_t                  index;          /* in the record */
    u_char                     *text;           /* cleaned */
    size_t                      len;
    ngx_http_douyin_word_t     *words;
    ngx_uint_t                  nwords;
} ngx_http_douyin_sentence_t;


typedef struct {
    int64_t                     begin;
    int64_t                     end;
    int64_t                     length;         /* as the provider gave */
    ngx_int_t                   speaker;
    u_char                     *text;
    size_t                      len;
} ngx_http_douyin_cue_t;


typedef struct {
    ngx_pool_t                 *pool;
    ngx_http_douyin_sentence_t *sentences;
    ngx_uint_t                  nsentences;
    int64_t                     limit;          /* audio end, ms */
    ngx_array_t                 cues;           /* ngx_http_douyin_cue_t */
} ngx_http_douyin_subs_t;


static ngx_int_t ngx_http_douyin_subs_load(ngx_http_douyin_subs_t *st,
    cJSON *rec);
static ngx_int_t ngx_http_douyin_subs_words(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_sentence_t *s, cJSON *words);
static ngx_int_t ngx_http_douyin_subs_split(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_sentence_t *s);
static void ngx_http_douyin_subs_order(ngx_http_douyin_subs_t *st);
static ngx_int_t ngx_http_douyin_subs_cues(ngx_http_douyin_subs_t *st,
    ngx_uint_t max_chars);
static ngx_int_t ngx_http_douyin_subs_cue(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_sentence_t *s, ngx_uint_t first, ngx_uint_t last);
static ngx_int_t ngx_http_douyin_subs_monotonic(ngx_http_douyin_subs_t *st);
static ngx_int_t ngx_http_douyin_subs_join(ngx_pool_t *pool,
    ngx_http_douyin_cue_t *to, ngx_http_douyin_cue_t *cue);
static ngx_str_t *ngx_http_douyin_subs_print(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_format_e format);
static ngx_str_t *ngx_http_douyin_subs_text(ngx_http_douyin_subs_t *st,
    cJSON *rec);
static u_char *ngx_http_douyin_subs_time(u_char *p, int64_t ms, u_char sep);
static u_char *ngx_http_douyin_subs_escape(u_char *p, u_char *text,
    size_t len, ngx_http_douyin_format_e format);
static ngx_int_t ngx_http_douyin_subs_clean(ngx_pool_t *pool, u_char *src,
    size_t len, u_char **dst, size_t *dst_len);
static uint32_t ngx_http_douyin_utf8(u_char **p, u_char *last);
static size_t ngx_http_douyin_chars(u_char *p, size_t len, size_t *trail);
static void ngx_http_douyin_trim(u_char **p, size_t *len);
static ngx_int_t ngx_http_douyin_is_cjk(uint32_t cp);
static ngx_int_t ngx_http_douyin_is_wordch(uint32_t cp);
static ngx_int_t ngx_http_douyin_sentence_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_douyin_word_cmp(const void *one, const void *two);
static ngx_int_t ngx_http_douyin_subs_send(ngx_http_request_t *r,
    ngx_http_douyin_format_e format, const char *id, ngx_str_t *body);
static int64_t ngx_http_douyin_msec(cJSON *seconds);


static ngx_str_t  ngx_http_douyin_subs_ext[] = {
    ngx_string("srt"), ngx_string("vtt"), ngx_string("txt")
};

static ngx_str_t  ngx_http_douyin_subs_type[] = {
    ngx_string("application/x-subrip; charset=utf-8"),
    ngx_string("text/vtt; charset=utf-8"),
    ngx_string("text/plain; charset=utf-8")
};


/*
 * ngx_http_douyin_subtitles_handler: douyin_subtitles ID FORMAT;
 * GET/HEAD [?max_chars=8..200] -> the transcript of a completed video as
 * SRT, WebVTT or plain text (FORMAT srt, vtt, txt), inline with the file
 * name "<id>.<format>".  400 INVALID_AWEME_ID, INVALID_FORMAT or
 * INVALID_QUERY; 404 VIDEO_NOT_COMPLETED naming the video's status (an
 * unknown video is "pending", as the result object says).
 */

ngx_int_t
ngx_http_douyin_subtitles_handler(ngx_http_request_t *r)
{
    char                        id[NGX_HTTP_DOUYIN_ID_MAX + 1];
    cJSON                      *rec;
    ngx_int_t                   rc, n;
    ngx_str_t                   value, *body;
    ngx_uint_t                  format, max_chars;
    ngx_http_douyin_subs_t      st;
    ngx_http_douyin_loc_conf_t *dlcf;

    rc = ngx_http_douyin_video_open(r, NGX_HTTP_GET|NGX_HTTP_HEAD, id, &rec);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "douyin subtitles of \"%s\"", id);

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);

    if (ngx_http_complex_value(r, dlcf->format, &value) != NGX_OK) {
        cJSON_Delete(rec);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (format = 0; format < 3; format++) {
        if (value.len == 3
            && ngx_strncmp(value.data, ngx_http_douyin_subs_ext[format].data,
                           3) == 0)
        {
            break;
        }
    }

    if (format == 3) {
        cJSON_Delete(rec);
        return ngx_http_douyin_send_error(r, NGX_HTTP_DOUYIN_ERR_BAD_FORMAT);
    }

    max_chars = NGX_HTTP_DOUYIN_CUE_CHARS;

    if (ngx_http_arg(r, (u_char *) "max_chars", 9, &value) == NGX_OK) {
        n = ngx_atoi(value.data, value.len);

        if (n < 8 || n > 200) {
            cJSON_Delete(rec);
            return ngx_http_douyin_send_error(r,
                                          NGX_HTTP_DOUYIN_ERR_BAD_MAX_CHARS);
        }

        max_chars = (ngx_uint_t) n;
    }

    switch (ngx_http_douyin_status_of(rec)) {

    case NGX_HTTP_DOUYIN_COMPLETED:
        break;

    case NGX_HTTP_DOUYIN_PENDING:
        cJSON_Delete(rec);
        return ngx_http_douyin_send_error(r,
                                  NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_PENDING);

    case NGX_HTTP_DOUYIN_PROCESSING:
        cJSON_Delete(rec);
        return ngx_http_douyin_send_error(r,
                               NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_PROCESSING);

    default: /* NGX_HTTP_DOUYIN_FAILED */
        cJSON_Delete(rec);
        return ngx_http_douyin_send_error(r,
                                   NGX_HTTP_DOUYIN_ERR_NOT_COMPLETED_FAILED);
    }

    ngx_memzero(&st, sizeof(ngx_http_douyin_subs_t));
    st.pool = r->pool;

    rc = ngx_http_douyin_subs_load(&st, rec);

    if (rc == NGX_OK) {
        ngx_http_douyin_subs_order(&st);

        if (format == NGX_HTTP_DOUYIN_TXT) {
            body = ngx_http_douyin_subs_text(&st, rec);

        } else {
            body = NULL;

            if (ngx_http_douyin_subs_cues(&st, max_chars) == NGX_OK
                && ngx_http_douyin_subs_monotonic(&st) == NGX_OK)
            {
                body = ngx_http_douyin_subs_print(&st, format);
            }
        }

        rc = (body != NULL) ? NGX_OK : NGX_ERROR;
    }

    cJSON_Delete(rec);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_douyin_subs_send(r, format, id, body);
}


static ngx_int_t
ngx_http_douyin_subs_send(ngx_http_request_t *r,
    ngx_http_douyin_format_e format, const char *id, ngx_str_t *body)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");

    h->value.data = ngx_pnalloc(r->pool, sizeof("inline; filename=\".xxx\"")
                                         + NGX_HTTP_DOUYIN_ID_MAX);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "inline; filename=\"%s.%V\"",
                               id, &ngx_http_douyin_subs_ext[format])
                   - h->value.data;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = ngx_http_douyin_subs_type[format];
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = body->len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = (body->len > 0);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The record's sentences ("segments", with "words" beside them) into
 * st->sentences, cleaned; a transcript without segments but with a text
 * is one sentence over the whole audio.  The audio's end (audio_duration)
 * becomes st->limit.
 */

static ngx_int_t
ngx_http_douyin_subs_load(ngx_http_douyin_subs_t *st, cJSON *rec)
{
    cJSON                       *segments, *words, *seg, *field;
    int64_t                      audio;
    ngx_uint_t                   i, n;
    ngx_http_douyin_sentence_t  *s;

    segments = cJSON_GetObjectItemCaseSensitive(rec, "segments");
    words = cJSON_GetObjectItemCaseSensitive(rec, "words");

    audio = ngx_http_douyin_msec(cJSON_GetObjectItemCaseSensitive(rec,
                                                         "audio_duration"));

    n = cJSON_IsArray(segments) ? (ngx_uint_t) cJSON_GetArraySize(segments)
                                : 0;

    st->sentences = ngx_pcalloc(st->pool,
                                (n + 1) * sizeof(ngx_http_douyin_sentence_t));
    if (st->sentences == NULL) {
        return NGX_ERROR;
    }

    i = 0;

    if (n == 0) {
        segments = NULL;
    }

    cJSON_ArrayForEach(seg, segments) {
        s = &st->sentences[st->nsentences];

        ngx_memzero(s, sizeof(ngx_http_douyin_sentence_t));
        s->index = i;
        s->begin = ngx_http_douyin_msec(
                       cJSON_GetObjectItemCaseSensitive(seg, "start_time"));
        s->end = ngx_http_douyin_msec(
                       cJSON_GetObjectItemCaseSensitive(seg, "end_time"));
        s->speaker = -1;

        field = cJSON_GetObjectItemCaseSensitive(seg, "speaker_id");
        if (cJSON_IsNumber(field) && field->valuedouble >= 0
            && field->valuedouble < 1000000)
        {
            s->speaker = (ngx_int_t) field->valuedouble;
        }

        field = cJSON_GetObjectItemCaseSensitive(seg, "text");
        if (cJSON_IsString(field)) {
            if (ngx_http_douyin_subs_clean(st->pool,
                                           (u_char *) field->valuestring,
                                           ngx_strlen(field->valuestring),
                                           &s->text, &s->len)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (ngx_http_douyin_subs_words(st, s, cJSON_GetArrayItem(words, i))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        i++;

        if (s->nwords > 0) {
            st->nsentences++;
        }
    }

    if (n == 0) {
        field = cJSON_GetObjectItemCaseSensitive(rec, "text");

        if (cJSON_IsString(field) && field->valuestring[0] != '\0') {
            s = &st->sentences[0];

            s->begin = 0;
            s->end = ngx_max(audio, 1000);
            s->speaker = -1;

            if (ngx_http_douyin_subs_clean(st->pool,
                                           (u_char *) field->valuestring,
                                           ngx_strlen(field->valuestring),
                                           &s->text, &s->len)
                != NGX_OK
                || ngx_http_douyin_subs_split(st, s) != NGX_OK)
            {
                return NGX_ERROR;
            }

            st->nsentences = (s->nwords > 0);
        }
    }

    st->limit = audio;

    return NGX_OK;
}


/*
 * The stored words of one sentence ([begin_ms, end_ms, text,
 * punctuation] each); none stored (an older record) or none usable: the
 * sentence's text is split instead.
 */

static ngx_int_t
ngx_http_douyin_subs_words(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_sentence_t *s, cJSON *words)
{
    u_char                  *p, *raw;
    size_t                   len, tlen, plen;
    cJSON                   *w, *begin, *end, *text, *punct;
    ngx_uint_t               n;
    ngx_http_douyin_word_t  *word;

    n = cJSON_IsArray(words) ? (ngx_uint_t) cJSON_GetArraySize(words) : 0;

    if (n == 0) {
        return ngx_http_douyin_subs_split(st, s);
    }

    s->words = ngx_palloc(st->pool, n * sizeof(ngx_http_douyin_word_t));
    if (s->words == NULL) {
        return NGX_ERROR;
    }

    cJSON_ArrayForEach(w, words) {
        begin = cJSON_GetArrayItem(w, 0);
        end = cJSON_GetArrayItem(w, 1);
        text = cJSON_GetArrayItem(w, 2);
        punct = cJSON_GetArrayItem(w, 3);

        if (!cJSON_IsNumber(begin) || !cJSON_IsNumber(end)
            || !cJSON_IsString(text))
        {
            continue;
        }

        tlen = ngx_strlen(text->valuestring);
        plen = cJSON_IsString(punct) ? ngx_strlen(punct->valuestring) : 0;

        raw = ngx_pnalloc(st->pool, tlen + plen + 1);
        if (raw == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(raw, text->valuestring, tlen);

        if (plen) {
            p = ngx_cpymem(p, punct->valuestring, plen);
        }

        word = &s->words[s->nwords];

        if (ngx_http_douyin_subs_clean(st->pool, raw, p - raw, &word->text,
                                       &len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        word->len = len;
        word->chars = ngx_http_douyin_chars(word->text, len, &word->trail);

        if (word->chars == 0) {
            continue;               /* only spaces: nothing to show */
        }

        word->begin = begin->valuedouble > 0
                      ? (int64_t) (begin->valuedouble + 0.5) : 0;
        word->end = end->valuedouble > 0
                    ? (int64_t) (end->valuedouble + 0.5) : 0;

        s->nwords++;
    }

    if (s->nwords == 0) {
        return ngx_http_douyin_subs_split(st, s);
    }

    return NGX_OK;
}


/*
 * A sentence without words: its text cut into words (a CJK character, a
 * run of Latin letters and digits, punctuation and spaces going with the
 * word before), each timed in proportion to its characters between the
 * sentence's begin and end.
 */

static ngx_int_t
ngx_http_douyin_subs_split(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_sentence_t *s)
{
    u_char                  *p, *last, *start;
    int64_t                  span;
    uint32_t                 cp;
    ngx_uint_t               n, total, before, latin;
    ngx_http_douyin_word_t  *w;

    s->nwords = 0;

    if (s->len == 0) {
        return NGX_OK;
    }

    /* at most one word per character */

    s->words = ngx_palloc(st->pool, s->len * sizeof(ngx_http_douyin_word_t));
    if (s->words == NULL) {
        return NGX_ERROR;
    }

    p = s->text;
    last = s->text + s->len;
    w = NULL;
    latin = 0;
    total = 0;

    while (p < last) {
        start = p;
        cp = ngx_http_douyin_utf8(&p, last);
        total++;

        if (cp == ' ') {
            latin = 0;

            if (w == NULL) {
                continue;
            }

        } else if (ngx_http_douyin_is_cjk(cp)
                   || (ngx_http_douyin_is_wordch(cp) && !latin)
                   || w == NULL)
        {
            w = &s->words[s->nwords++];
            w->text = start;
            w->len = 0;
            w->chars = 0;
            latin = ngx_http_douyin_is_wordch(cp);

        } else if (!ngx_http_douyin_is_wordch(cp)) {
            latin = 0;
        }

        w->len = p - w->text;
        w->chars++;
    }

    /* times by characters; then the trailing spaces of each word */

    span = ngx_max(s->end - s->begin, 0);
    before = 0;

    for (n = 0; n < s->nwords; n++) {
        w = &s->words[n];

        w->begin = s->begin + span * before / ngx_max(total, 1);
        before += w->chars;
        w->end = s->begin + span * before / ngx_max(total, 1);

        w->chars = ngx_http_douyin_chars(w->text, w->len, &w->trail);
    }

    return NGX_OK;
}


/*
 * Sorts the words of each sentence by begin time, then the sentences by
 * their first word (both stably, ngx_sort() being an insertion sort), and
 * brings every time past the audio's end back to it.  When even the
 * first word starts at or after that end, audio_duration is the wrong
 * one and no time is changed.
 */

static void
ngx_http_douyin_subs_order(ngx_http_douyin_subs_t *st)
{
    int64_t                      limit;
    ngx_uint_t                   i, j;
    ngx_http_douyin_word_t      *w;
    ngx_http_douyin_sentence_t  *s;

    for (i = 0; i < st->nsentences; i++) {
        s = &st->sentences[i];

        ngx_sort(s->words, s->nwords, sizeof(ngx_http_douyin_word_t),
                 ngx_http_douyin_word_cmp);

        s->key = s->words[0].begin;
    }

    ngx_sort(st->sentences, st->nsentences,
             sizeof(ngx_http_douyin_sentence_t), ngx_http_douyin_sentence_cmp);

    limit = st->limit;

    if (limit <= 0 || st->nsentences == 0
        || st->sentences[0].key >= limit)
    {
        limit = INT64_MAX;
    }

    st->limit = limit;

    for (i = 0; i < st->nsentences; i++) {
        s = &st->sentences[i];

        s->begin = ngx_min(ngx_max(s->begin, 0), limit);
        s->end = ngx_min(ngx_max(s->end, s->begin), limit);

        for (j = 0; j < s->nwords; j++) {
            w = &s->words[j];

            w->given_begin = w->begin;
            w->given_end = ngx_max(w->end, w->begin);

            w->begin = ngx_min(w->begin, limit);
            w->end = ngx_min(ngx_max(w->end, w->begin), limit);
        }
    }
}


/* one cue per sentence, split between words by max_chars and 7 s */

static ngx_int_t
ngx_http_douyin_subs_cues(ngx_http_douyin_subs_t *st, ngx_uint_t max_chars)
{
    size_t                       chars, trail;
    int64_t                      begin;
    ngx_uint_t                   i, j, first;
    ngx_http_douyin_word_t      *w;
    ngx_http_douyin_sentence_t  *s;

    if (ngx_array_init(&st->cues, st->pool, ngx_max(st->nsentences, 1),
                       sizeof(ngx_http_douyin_cue_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < st->nsentences; i++) {
        s = &st->sentences[i];

        first = 0;
        chars = 0;
        trail = 0;
        begin = s->words[0].begin;

        for (j = 0; j < s->nwords; j++) {
            w = &s->words[j];

            if (j > first
                && (chars + trail + w->chars > max_chars
                    || w->end - begin > NGX_HTTP_DOUYIN_CUE_MSEC))
            {
                if (ngx_http_douyin_subs_cue(st, s, first, j - 1) != NGX_OK) {
                    return NGX_ERROR;
                }

                first = j;
                chars = 0;
                trail = 0;
                begin = w->begin;
            }

            chars += trail + w->chars;
            trail = w->trail;
        }

        if (ngx_http_douyin_subs_cue(st, s, first, s->nwords - 1) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a cue of the words first..last of sentence s, its text trimmed */

static ngx_int_t
ngx_http_douyin_subs_cue(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_sentence_t *s, ngx_uint_t first, ngx_uint_t last)
{
    u_char                 *p;
    size_t                  len;
    int64_t                 given;
    ngx_uint_t              j;
    ngx_http_douyin_cue_t  *cue;

    len = 0;

    for (j = first; j <= last; j++) {
        len += s->words[j].len;
    }

    cue = ngx_array_push(&st->cues);
    if (cue == NULL) {
        return NGX_ERROR;
    }

    cue->text = ngx_pnalloc(st->pool, len);
    if (cue->text == NULL) {
        return NGX_ERROR;
    }

    p = cue->text;
    cue->begin = s->words[first].begin;
    cue->end = cue->begin;
    given = s->words[first].given_begin;

    for (j = first; j <= last; j++) {
        p = ngx_cpymem(p, s->words[j].text, s->words[j].len);
        cue->end = ngx_max(cue->end, s->words[j].end);
        given = ngx_max(given, s->words[j].given_end);
    }

    cue->len = len;
    ngx_http_douyin_trim(&cue->text, &cue->len);

    cue->length = given - s->words[first].given_begin;
    cue->speaker = s->speaker;

    return NGX_OK;
}


/*
 * Makes the cues monotonic and non-overlapping (see the top of the
 * file), in place: a cue starting inside the previous one cuts it; one
 * starting no later than the previous one is moved after it; a cue left
 * with no time before the audio's end joins the previous one.
 */

static ngx_int_t
ngx_http_douyin_subs_monotonic(ngx_http_douyin_subs_t *st)
{
    int64_t                 begin, end, length, floor;
    ngx_uint_t              i, n;
    ngx_http_douyin_cue_t  *cues, *prev, *cue;

    cues = st->cues.elts;
    n = 0;

    for (i = 0; i < st->cues.nelts; i++) {
        cue = &cues[i];
        prev = (n > 0) ? &cues[n - 1] : NULL;

        begin = cue->begin;
        end = cue->end;

        if (prev != NULL && begin < prev->end) {
            if (begin > prev->begin) {
                prev->end = begin;

            } else {
                begin = prev->end;
            }
        }

        if (end <= begin) {
            length = ngx_max(cue->length, 1);

            /* past the audio's end: the last moment(s) before it */

            if (begin >= st->limit) {
                floor = (prev != NULL) ? prev->end : 0;
                begin = ngx_max(floor, st->limit - length);
            }

            end = ngx_min(begin + length, st->limit);
        }

        if (end <= begin) {
            if (prev == NULL) {
                end = begin + 1;    /* cannot happen: see subs_order() */

            } else {
                if (ngx_http_douyin_subs_join(st->pool, prev, cue) != NGX_OK)
                {
                    return NGX_ERROR;
                }

                continue;
            }
        }

        cues[n] = *cue;
        cues[n].begin = begin;
        cues[n].end = end;
        n++;
    }

    st->cues.nelts = n;

    return NGX_OK;
}


/* appends the text of cue to the cue "to" (with a space between) */

static ngx_int_t
ngx_http_douyin_subs_join(ngx_pool_t *pool, ngx_http_douyin_cue_t *to,
    ngx_http_douyin_cue_t *cue)
{
    u_char  *text, *p;

    text = ngx_pnalloc(pool, to->len + 1 + cue->len);
    if (text == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(text, to->text, to->len);
    *p++ = ' ';
    p = ngx_cpymem(p, cue->text, cue->len);

    to->text = text;
    to->len = p - text;

    return NGX_OK;
}


/*
 * SRT ("1\n00:00:00,100 --> 00:00:03,820\n说话人1：text\n\n") or WebVTT
 * ("WEBVTT\n\n00:00:00.100 --> 00:00:03.820\n<v Speaker 1>text\n\n").
 */

static ngx_str_t *
ngx_http_douyin_subs_print(ngx_http_douyin_subs_t *st,
    ngx_http_douyin_format_e format)
{
    u_char                 *p;
    size_t                  size;
    ngx_str_t              *out;
    ngx_uint_t              i;
    ngx_http_douyin_cue_t  *cues;

    cues = st->cues.elts;

    /* number, times, label, text escaped (at most 5 bytes a byte), \n\n */

    size = sizeof("WEBVTT\n\n");

    for (i = 0; i < st->cues.nelts; i++) {
        size += NGX_INT_T_LEN + 2 * (NGX_INT64_LEN + sizeof(":00:00.000"))
                + sizeof(" --> \n\n\n") + sizeof("<v Speaker >")
                + sizeof("说话人：") + NGX_INT_T_LEN + cues[i].len * 5;
    }

    out = ngx_palloc(st->pool, sizeof(ngx_str_t));
    if (out == NULL) {
        return NULL;
    }

    out->data = ngx_pnalloc(st->pool, size);
    if (out->data == NULL) {
        return NULL;
    }

    p = out->data;

    if (format == NGX_HTTP_DOUYIN_VTT) {
        p = ngx_cpymem(p, "WEBVTT\n\n", sizeof("WEBVTT\n\n") - 1);
    }

    for (i = 0; i < st->cues.nelts; i++) {
        if (format == NGX_HTTP_DOUYIN_SRT) {
            p = ngx_sprintf(p, "%ui\n", i + 1);
        }

        p = ngx_http_douyin_subs_time(p, cues[i].begin,
                                      format == NGX_HTTP_DOUYIN_SRT
                                      ? ',' : '.');
        p = ngx_cpymem(p, " --> ", sizeof(" --> ") - 1);
        p = ngx_http_douyin_subs_time(p, cues[i].end,
                                      format == NGX_HTTP_DOUYIN_SRT
                                      ? ',' : '.');
        *p++ = '\n';

        if (cues[i].speaker >= 0) {
            p = (format == NGX_HTTP_DOUYIN_SRT)
                ? ngx_sprintf(p, "说话人%i：", cues[i].speaker + 1)
                : ngx_sprintf(p, "<v Speaker %i>", cues[i].speaker + 1);
        }

        p = ngx_http_douyin_subs_escape(p, cues[i].text, cues[i].len,
                                        format);
        *p++ = '\n';
        *p++ = '\n';
    }

    out->len = p - out->data;

    return out;
}


/*
 * Plain text: one paragraph a line.  Consecutive sentences are joined
 * (a space between) until the gap between one sentence's end and the
 * next one's start exceeds 1.5 s or the paragraph holds 120 characters
 * or more.  Without sentences the text is one paragraph.
 */

static ngx_str_t *
ngx_http_douyin_subs_text(ngx_http_douyin_subs_t *st, cJSON *rec)
{
    u_char                      *p;
    size_t                       size, chars, trail;
    int64_t                      end;
    ngx_str_t                   *out;
    ngx_uint_t                   i, started;
    ngx_http_douyin_sentence_t  *s;

    out = ngx_palloc(st->pool, sizeof(ngx_str_t));
    if (out == NULL) {
        return NULL;
    }

    size = 1;

    for (i = 0; i < st->nsentences; i++) {
        size += st->sentences[i].len + 1;
    }

    out->data = ngx_pnalloc(st->pool, size);
    if (out->data == NULL) {
        return NULL;
    }

    p = out->data;
    started = 0;
    chars = 0;
    end = 0;

    for (i = 0; i < st->nsentences; i++) {
        s = &st->sentences[i];

        if (s->len == 0) {
            continue;
        }

        if (started) {
            if (s->begin - end > NGX_HTTP_DOUYIN_PARA_GAP
                || chars >= NGX_HTTP_DOUYIN_PARA_CHARS)
            {
                *p++ = '\n';
                chars = 0;

            } else {
                *p++ = ' ';
                chars++;
            }
        }

        p = ngx_cpymem(p, s->text, s->len);
        chars += ngx_http_douyin_chars(s->text, s->len, &trail) + trail;
        end = ngx_max(end, s->end);
        started = 1;
    }

    if (started) {
        *p++ = '\n';
    }

    out->len = p - out->data;

    return out;
}


/* HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (WebVTT) */

static u_char *
ngx_http_douyin_subs_time(u_char *p, int64_t ms, u_char sep)
{
    ms = ngx_max(ms, 0);

    return ngx_sprintf(p, "%02L:%02L:%02L%c%03L", ms / 3600000,
                       ms / 60000 % 60, ms / 1000 % 60, sep, ms % 1000);
}


/*
 * Cue text: WebVTT escapes &, < and > (so no tag and no "-->" comes from
 * a transcript); SRT has no escapes, so a "-->" in a transcript, which a
 * reader could take for a timing line, is written "->".
 */

static u_char *
ngx_http_douyin_subs_escape(u_char *p, u_char *text, size_t len,
    ngx_http_douyin_format_e format)
{
    u_char  *last;

    last = text + len;

    for ( /* void */ ; text < last; text++) {

        if (format == NGX_HTTP_DOUYIN_VTT) {
            switch (*text) {
            case '&':
                p = ngx_cpymem(p, "&amp;", 5);
                continue;
            case '<':
                p = ngx_cpymem(p, "&lt;", 4);
                continue;
            case '>':
                p = ngx_cpymem(p, "&gt;", 4);
                continue;
            }

        } else if (*text == '-' && last - text >= 3 && text[1] == '-'
                   && text[2] == '>')
        {
            continue;
        }

        *p++ = *text;
    }

    return p;
}


/*
 * A copy of src that is valid UTF-8 on one line: an invalid byte becomes
 * U+FFFD, control characters (line breaks included) and U+2028/2029
 * become spaces.
 */

static ngx_int_t
ngx_http_douyin_subs_clean(ngx_pool_t *pool, u_char *src, size_t len,
    u_char **dst, size_t *dst_len)
{
    u_char    *p, *q, *last, *start;
    uint32_t   cp;

    *dst = ngx_pnalloc(pool, len * 3 + 1);
    if (*dst == NULL) {
        return NGX_ERROR;
    }

    p = src;
    last = src + len;
    q = *dst;

    while (p < last) {
        start = p;
        cp = ngx_http_douyin_utf8(&p, last);

        if (cp == 0xfffd && !(p - start == 3 && start[0] == 0xef)) {
            q = ngx_cpymem(q, "\xef\xbf\xbd", 3);

        } else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
            *q++ = ' ';

        } else {
            q = ngx_cpymem(q, start, p - start);
        }
    }

    *dst_len = q - *dst;

    return NGX_OK;
}


/*
 * The code point at *p, advancing *p; an invalid or truncated sequence,
 * an overlong form or a surrogate is U+FFFD over one byte.
 */

static uint32_t
ngx_http_douyin_utf8(u_char **p, u_char *last)
{
    u_char    *s;
    size_t     n, i;
    uint32_t   cp, min;

    s = *p;

    if (s[0] < 0x80) {
        (*p)++;
        return s[0];
    }

    if ((s[0] & 0xe0) == 0xc0) {
        n = 2; cp = s[0] & 0x1f; min = 0x80;

    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3; cp = s[0] & 0x0f; min = 0x800;

    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4; cp = s[0] & 0x07; min = 0x10000;

    } else {
        goto invalid;
    }

    if ((size_t) (last - s) < n) {
        goto invalid;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            goto invalid;
        }

        cp = (cp << 6) | (s[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        goto invalid;
    }

    *p += n;
    return cp;

invalid:

    (*p)++;
    return 0xfffd;
}


/* code points of valid UTF-8 text, *trail of them trailing spaces */

static size_t
ngx_http_douyin_chars(u_char *p, size_t len, size_t *trail)
{
    size_t   n;
    u_char  *last;

    n = 0;
    *trail = 0;
    last = p + len;

    while (p < last) {
        if (*p == ' ') {
            (*trail)++;

        } else {
            n += *trail + 1;
            *trail = 0;
        }

        (void) ngx_http_douyin_utf8(&p, last);
    }

    return n;
}


static void
ngx_http_douyin_trim(u_char **p, size_t *len)
{
    while (*len > 0 && **p == ' ') {
        (*p)++;
        (*len)--;
    }

    while (*len > 0 && (*p)[*len - 1] == ' ') {
        (*len)--;
    }
}


/* Han, kana and Hangul: one word per character, as DashScope gives */

static ngx_int_t
ngx_http_douyin_is_cjk(uint32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf)
           || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff)
           || (cp >= 0xac00 && cp <= 0xd7af)
           || (cp >= 0x20000 && cp <= 0x3ffff);
}


/* letters and digits of a Latin word (with ' _ -), Latin-1 and Extended */

static ngx_int_t
ngx_http_douyin_is_wordch(uint32_t cp)
{
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z')
           || (cp >= 'A' && cp <= 'Z') || cp == '\'' || cp == '_'
           || cp == '-' || (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7
                            && cp != 0xf7);
}


static ngx_int_t
ngx_http_douyin_sentence_cmp(const void *one, const void *two)
{
    const ngx_http_douyin_sentence_t  *a = one, *b = two;

    return a->key > b->key;
}


static ngx_int_t
ngx_http_douyin_word_cmp(const void *one, const void *two)
{
    const ngx_http_douyin_word_t  *a = one, *b = two;

    return a->begin > b->begin;
}


/* seconds (a JSON number) -> ms, 0 for anything else */

static int64_t
ngx_http_douyin_msec(cJSON *seconds)
{
    if (!cJSON_IsNumber(seconds) || !(seconds->valuedouble > 0)) {
        return 0;
    }

    if (seconds->valuedouble > 1e12) {
        return (int64_t) 1e15;
    }

    return (int64_t) (seconds->valuedouble * 1000 + 0.5);
}

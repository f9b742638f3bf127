
/*
 * Copyright (C) 2026 ngx_http_douyin_module authors
 */


/*
 * ngx_http_douyin_module: module definition, directives and configuration.
 *
 * Every directive is documented in README.md (Syntax / Default /
 * Context).  Service settings live in the http block (one transcription
 * service per nginx, shared by every location that mounts a handler);
 * the handlers are enabled per location.
 */


#include "ngx_http_douyin_module.h"
#include "ngx_http_douyin_metrics.h"


static void *ngx_http_douyin_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_douyin_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_douyin_init_strings(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf);
static ngx_int_t ngx_http_douyin_needs_check(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf);
static void *ngx_http_douyin_create_loc_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_douyin_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_douyin_error_rewrite(ngx_http_request_t *r);
static char *ngx_http_douyin_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_douyin_store(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_set_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_asr_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_poll_interval(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_douyin_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_asr_language(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_asr_vocabulary(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_douyin_asr_diarization(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_douyin_asr_word_filter(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_douyin_word_list(ngx_conf_t *cf, cJSON *json,
    const char *name);
static char *ngx_http_douyin_asr_channels(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_asr_options_check(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf);
static char *ngx_http_douyin_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_douyin_process_schedule(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_douyin_retention(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_douyin_time_of_day(ngx_str_t *s);
static char *ngx_http_douyin_filesystem_api(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_douyin_ssl_trusted_certificate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_douyin_cstr(ngx_conf_t *cf,
    ngx_http_douyin_cstr_t *dst, ngx_str_t *src);
static void ngx_http_douyin_audio_url_check(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf);
static ngx_uint_t ngx_http_douyin_url_private(ngx_http_douyin_cstr_t *url);
static ngx_int_t ngx_http_douyin_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_douyin_init_process(ngx_cycle_t *cycle);
static void ngx_http_douyin_exit_process(ngx_cycle_t *cycle);


/*
 * A location handler directive's post: the handler and what it needs
 * (NGX_HTTP_DOUYIN_NEEDS_*), which init_main_conf checks and
 * init_process prepares.
 */

typedef struct {
    ngx_http_handler_pt         handler;
    ngx_uint_t                  needs;
    ngx_flag_t                  async;
    ngx_flag_t                  pending;        /* douyin_process_pending */
    ngx_uint_t                  methods;        /* douyin_video(_delete) */
} ngx_http_douyin_route_t;


#define NGX_HTTP_DOUYIN_NEEDS_LISTING                                        \
    (NGX_HTTP_DOUYIN_NEEDS_STORE|NGX_HTTP_DOUYIN_NEEDS_FSGO)
#define NGX_HTTP_DOUYIN_NEEDS_PROCESS                                        \
    (NGX_HTTP_DOUYIN_NEEDS_LISTING|NGX_HTTP_DOUYIN_NEEDS_KEY)

static ngx_http_douyin_route_t  ngx_http_douyin_health_route =
    { ngx_http_douyin_health_handler, 0, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_process_route =
    { ngx_http_douyin_process_handler, NGX_HTTP_DOUYIN_NEEDS_PROCESS, 0,
      0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_process_async_route =
    { ngx_http_douyin_process_handler, NGX_HTTP_DOUYIN_NEEDS_PROCESS, 1,
      0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_result_route =
    { ngx_http_douyin_result_handler, NGX_HTTP_DOUYIN_NEEDS_STORE, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_videos_route =
    { ngx_http_douyin_videos_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_video_route =
    { ngx_http_douyin_video_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0, 0,
      NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE };
static ngx_http_douyin_route_t  ngx_http_douyin_video_delete_route =
    { ngx_http_douyin_video_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0, 0,
      NGX_HTTP_DELETE };
static ngx_http_douyin_route_t  ngx_http_douyin_video_unread_route =
    { ngx_http_douyin_video_unread_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0,
      0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_process_pending_route =
    { ngx_http_douyin_process_handler, NGX_HTTP_DOUYIN_NEEDS_PROCESS, 1, 1,
      0 };
static ngx_http_douyin_route_t  ngx_http_douyin_aweme_pending_route =
    { ngx_http_douyin_aweme_pending_handler, NGX_HTTP_DOUYIN_NEEDS_STORE, 0,
      0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_aweme_status_route =
    { ngx_http_douyin_aweme_status_handler, NGX_HTTP_DOUYIN_NEEDS_STORE, 0,
      0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_video_read_route =
    { ngx_http_douyin_video_read_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0,
      0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_subtitles_route =
    { ngx_http_douyin_subtitles_handler, NGX_HTTP_DOUYIN_NEEDS_STORE, 0, 0,
      0 };
static ngx_http_douyin_route_t  ngx_http_douyin_stats_route =
    { ngx_http_douyin_stats_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_cleanup_route =
    { ngx_http_douyin_cleanup_handler, NGX_HTTP_DOUYIN_NEEDS_LISTING, 0, 0,
      0 };
static ngx_http_douyin_route_t  ngx_http_douyin_info_route =
    { ngx_http_douyin_info_handler, 0, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_docs_route =
    { ngx_http_douyin_docs_handler, 0, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_openapi_route =
    { ngx_http_douyin_openapi_handler, 0, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_error_route =
    { ngx_http_douyin_error_handler, 0, 0, 0, 0 };
static ngx_http_douyin_route_t  ngx_http_douyin_metrics_route =
    { ngx_http_douyin_metrics_handler, NGX_HTTP_DOUYIN_NEEDS_METRICS, 0, 0,
      0 };
static ngx_http_douyin_route_t  ngx_http_douyin_rss_route =
    { ngx_http_douyin_rss_handler,
      NGX_HTTP_DOUYIN_NEEDS_STORE|NGX_HTTP_DOUYIN_NEEDS_FEED, 0, 0, 0 };


static ngx_conf_num_bounds_t  ngx_http_douyin_batch_bounds = {
    ngx_conf_check_num_bounds, 1, NGX_HTTP_DOUYIN_BATCH_MAX
};

static ngx_conf_num_bounds_t  ngx_http_douyin_inflight_bounds = {
    ngx_conf_check_num_bounds, 1, 1000000
};


static ngx_command_t  ngx_http_douyin_commands[] = {

    { ngx_string("douyin_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_douyin_store,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_filesystem_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, filesystem_url),
      NULL },

    { ngx_string("douyin_filesystem_api"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_filesystem_api,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, ssl_verify),
      NULL },

    { ngx_string("douyin_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_ssl_trusted_certificate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_audio_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, audio_base_url),
      NULL },

    { ngx_string("douyin_asr_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, asr_url),
      NULL },

    { ngx_string("douyin_asr_model"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, asr_model),
      NULL },

    { ngx_string("douyin_asr_key_env"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, asr_key_env),
      NULL },

    { ngx_string("douyin_asr_batch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, asr_batch),
      &ngx_http_douyin_batch_bounds },

    { ngx_string("douyin_asr_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_douyin_asr_rate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_max_inflight"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, max_inflight),
      &ngx_http_douyin_inflight_bounds },

    { ngx_string("douyin_poll_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_douyin_poll_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_asr_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, asr_timeout),
      NULL },

    { ngx_string("douyin_http_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, http_timeout),
      NULL },

    { ngx_string("douyin_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_asr_language"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_asr_language,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_asr_vocabulary"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_asr_vocabulary,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_asr_diarization"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_douyin_asr_diarization,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_asr_word_filter"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_asr_word_filter,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_asr_channels"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_douyin_asr_channels,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_health_route },

    { ngx_string("douyin_process"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_process_route },

    { ngx_string("douyin_process_async"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_process_async_route },

    { ngx_string("douyin_process_pending"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_process_pending_route },

    { ngx_string("douyin_aweme_pending"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_aweme_pending_route },

    { ngx_string("douyin_aweme_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_aweme_status_route },

    { ngx_string("douyin_video_unread"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_video_unread_route },

    { ngx_string("douyin_video_delete"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_video_delete_route },

    { ngx_string("douyin_result"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_result_route },

    { ngx_string("douyin_videos"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_videos_route },

    { ngx_string("douyin_video"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_video_route },

    { ngx_string("douyin_video_read"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_video_read_route },

    { ngx_string("douyin_stats"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_stats_route },

    { ngx_string("douyin_subtitles"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_subtitles_route },

    { ngx_string("douyin_info"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_info_route },

    { ngx_string("douyin_docs"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_docs_route },

    { ngx_string("douyin_openapi"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_openapi_route },

    { ngx_string("douyin_error"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_error_route },

    { ngx_string("douyin_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_metrics_route },

    { ngx_string("douyin_rss"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_rss_route },

    { ngx_string("douyin_rss_token_env"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, rss_token_env),
      NULL },

    { ngx_string("douyin_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, public_url),
      NULL },

    { ngx_string("douyin_rss_item_link"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_douyin_rss_item_link,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_cleanup"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_douyin_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &ngx_http_douyin_cleanup_route },

    { ngx_string("douyin_process_schedule"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_douyin_process_schedule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_douyin_retention,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("douyin_listing_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_douyin_main_conf_t, listing_cache),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_douyin_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_douyin_postconfiguration,     /* postconfiguration */

    ngx_http_douyin_create_main_conf,      /* create main configuration */
    ngx_http_douyin_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_douyin_create_loc_conf,       /* create location configuration */
    ngx_http_douyin_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_douyin_module = {
    NGX_MODULE_V1,
    &ngx_http_douyin_module_ctx,           /* module context */
    ngx_http_douyin_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_douyin_init_module,           /* init module */
    ngx_http_douyin_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_douyin_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_douyin_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_douyin_main_conf_t));
    if (dmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dmcf->store = NULL;
     *     dmcf->filesystem_url = { 0, NULL };
     *     dmcf->audio_base_url = { 0, NULL };
     *     dmcf->asr_url = { 0, NULL };
     *     dmcf->asr_model = { 0, NULL };
     *     dmcf->asr_key_env = { 0, NULL };
     *     dmcf->thread_pool = NULL;
     *     dmcf->rate_zone = NULL;
     *     dmcf->metrics_zone = NULL;
     *     dmcf->metrics_proc = NULL;
     *     dmcf->needs = 0;
     *     dmcf->runner = NULL;
     *     dmcf->nprocess_at = 0;
     *     dmcf->process_pending = 0;
     *     dmcf->asr_language = { 0, NULL };
     *     dmcf->asr_vocabulary = { 0, NULL };
     *     dmcf->asr_speakers = 0;
     *     dmcf->asr_word_filter = { 0, NULL };
     *     dmcf->asr_channels = NULL;
     */

    dmcf->map_size = NGX_CONF_UNSET_SIZE;
    dmcf->asr_batch = NGX_CONF_UNSET_UINT;
    dmcf->submit_rate = NGX_CONF_UNSET_UINT;
    dmcf->query_rate = NGX_CONF_UNSET_UINT;
    dmcf->max_inflight = NGX_CONF_UNSET_UINT;
    dmcf->poll_interval = NGX_CONF_UNSET_MSEC;
    dmcf->poll_max = NGX_CONF_UNSET_MSEC;
    dmcf->asr_timeout = NGX_CONF_UNSET_MSEC;
    dmcf->http_timeout = NGX_CONF_UNSET_MSEC;
    dmcf->listing_cache = NGX_CONF_UNSET_MSEC;
    dmcf->retention = NGX_CONF_UNSET;
    dmcf->retention_at = NGX_CONF_UNSET_UINT;
    dmcf->filesystem_api = NGX_CONF_UNSET_UINT;
    dmcf->ssl_verify = NGX_CONF_UNSET;
    dmcf->asr_diarization = NGX_CONF_UNSET;

    return dmcf;
}


static char *
ngx_http_douyin_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t  name;

    ngx_conf_init_size_value(dmcf->map_size, 1024 * 1024 * 1024);
    ngx_conf_init_uint_value(dmcf->asr_batch, 1);
    ngx_conf_init_uint_value(dmcf->submit_rate, 10 * 1000);
    ngx_conf_init_uint_value(dmcf->query_rate, 20 * 1000);
    ngx_conf_init_uint_value(dmcf->max_inflight, 1000);
    ngx_conf_init_msec_value(dmcf->poll_interval, 1000);
    ngx_conf_init_msec_value(dmcf->poll_max, 5000);
    ngx_conf_init_msec_value(dmcf->asr_timeout, 3 * 60 * 60 * 1000);
    ngx_conf_init_msec_value(dmcf->http_timeout, 30000);
    ngx_conf_init_msec_value(dmcf->listing_cache, 30000);
    ngx_conf_init_value(dmcf->retention, 0);
    ngx_conf_init_uint_value(dmcf->retention_at, 3 * 60 + 7);
    ngx_conf_init_uint_value(dmcf->filesystem_api, 15);
    ngx_conf_init_value(dmcf->ssl_verify, 1);

    if (dmcf->poll_max < dmcf->poll_interval) {
        dmcf->poll_max = dmcf->poll_interval;
    }

    if (ngx_http_douyin_init_strings(cf, dmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_douyin_asr_options_check(cf, dmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_douyin_rss_init_main_conf(cf, dmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* counters are kept whenever something may count or show them */

    if (((dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_METRICS) || dmcf->store != NULL)
        && ngx_http_douyin_metrics_add_zone(cf, dmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* douyin_metrics alone needs no store: the store's gauges are left out */

    if ((dmcf->needs & ~NGX_HTTP_DOUYIN_NEEDS_METRICS) == 0
        && dmcf->store == NULL)
    {
        return NGX_CONF_OK;
    }

    if (ngx_http_douyin_needs_check(cf, dmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (dmcf->thread_pool == NULL) {
        dmcf->thread_pool = ngx_thread_pool_add(cf, NULL);
        if (dmcf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_str_set(&name, "douyin_asr_rate");

    dmcf->rate_zone = ngx_shared_memory_add(cf, &name, 64 * 1024,
                                            &ngx_http_douyin_module);
    if (dmcf->rate_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    dmcf->rate_zone->init = ngx_http_douyin_rate_init_zone;

    return NGX_CONF_OK;
}


/*
 * what the handlers of the configuration need (dmcf->needs) is there: the
 * store, file-system-go's URL; the ASR key is only warned about, by
 * "nginx -t".  NGX_OK, or NGX_ERROR (logged).
 */

static ngx_int_t
ngx_http_douyin_needs_check(ngx_conf_t *cf, ngx_http_douyin_main_conf_t *dmcf)
{
    if (dmcf->store == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "douyin handlers need \"douyin_store\" in the "
                           "http block");
        return NGX_ERROR;
    }

    if ((dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_FSGO)
        && dmcf->filesystem_url.data == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "douyin handlers need \"douyin_filesystem_url\" "
                           "in the http block");
        return NGX_ERROR;
    }

    if (dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_KEY) {

        /*
         * "nginx -t" warns when the key is not in its environment (an
         * admin testing an unrelated change on a shared gateway may not
         * have it); a start without it logs an error in each worker and
         * process calls answer 503.  Signals ("nginx -s reload") parse
         * the configuration too and stay quiet.
         */

        if (ngx_test_config
            && getenv((char *) dmcf->asr_key_env.data) == NULL)
        {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "environment variable \"%V\" (the ASR key, "
                               "see \"douyin_asr_key_env\") is not set: "
                               "started so, process calls answer 503",
                               &dmcf->asr_key_env);
        }
    }

    return NGX_OK;
}


/* the defaults of the string settings, NUL-terminated */

static ngx_int_t
ngx_http_douyin_init_strings(ngx_conf_t *cf, ngx_http_douyin_main_conf_t *dmcf)
{
    ngx_str_t  s;

    if (dmcf->asr_url.data == NULL) {
        ngx_str_set(&s, "https://dashscope.aliyuncs.com");
        if (ngx_http_douyin_cstr(cf, &dmcf->asr_url, &s) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (dmcf->asr_model.data == NULL) {
        ngx_str_set(&s, "fun-asr");
        if (ngx_http_douyin_cstr(cf, &dmcf->asr_model, &s) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (dmcf->asr_key_env.data == NULL) {
        ngx_str_set(&dmcf->asr_key_env, "ALIYUN_ACCESS_KEY");

    } else {
        /* a NUL-terminated copy for getenv() */
        s = dmcf->asr_key_env;
        dmcf->asr_key_env.data = ngx_pnalloc(cf->pool, s.len + 1);
        if (dmcf->asr_key_env.data == NULL) {
            return NGX_ERROR;
        }
        ngx_cpystrn(dmcf->asr_key_env.data, s.data, s.len + 1);
    }

    if (dmcf->audio_base_url.data == NULL) {
        dmcf->audio_base_url = dmcf->filesystem_url;
    }

    return NGX_OK;
}


static void *
ngx_http_douyin_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_douyin_loc_conf_t  *dlcf;

    dlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_douyin_loc_conf_t));
    if (dlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dlcf->handler = NULL;
     *     dlcf->id = NULL;
     *     dlcf->format = NULL;
     *     dlcf->async = 0;
     */

    return dlcf;
}


static char *
ngx_http_douyin_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_douyin_loc_conf_t  *prev = parent;
    ngx_http_douyin_loc_conf_t  *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    /*
     * handlers are not inherited by nested locations, each names its own;
     * but the methods that a limit_except block lets through are served
     * by the location's handler (as proxy_pass does)
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->lmt_excpt && clcf->handler == NULL && conf->handler == NULL
        && prev->handler != NULL)
    {
        conf->handler = prev->handler;
        conf->id = prev->id;
        conf->format = prev->format;
        conf->async = prev->async;
        conf->pending = prev->pending;
        conf->methods = prev->methods;
        clcf->handler = conf->handler;
    }

    return NGX_CONF_OK;
}


/* douyin_store PATH [map_size=SIZE]; */

static char *
ngx_http_douyin_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ssize_t     size;
    ngx_str_t  *value, s;

    if (dmcf->store != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dmcf->store = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (dmcf->store == NULL) {
        return NGX_CONF_ERROR;
    }

    dmcf->store->name = value[1];

    if (dmcf->store->name.data[dmcf->store->name.len - 1] == '/') {
        dmcf->store->name.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &dmcf->store->name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    dmcf->store->conf_file = cf->conf_file->file.name.data;
    dmcf->store->line = cf->conf_file->line;

    /* the master creates the folder and gives it to the worker user */

    if (ngx_add_path(cf, &dmcf->store) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "map_size=", 9) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 9;
        s.len = value[2].len - 9;

        size = ngx_parse_offset(&s);
        if (size == NGX_ERROR || size < 1024 * 1024) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid map_size \"%V\" (at least 1m)", &s);
            return NGX_CONF_ERROR;
        }

        dmcf->map_size = (size_t) size;
    }

    return NGX_CONF_OK;
}


/* a URL or name, kept NUL-terminated and without a trailing slash */

static char *
ngx_http_douyin_set_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t               *value, s;
    ngx_http_douyin_cstr_t  *field;

    field = (ngx_http_douyin_cstr_t *) (p + cmd->offset);

    if (field->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    s = value[1];

    if (cmd->offset != offsetof(ngx_http_douyin_main_conf_t, asr_model)) {

        while (s.len > 0 && s.data[s.len - 1] == '/') {
            s.len--;
        }

        if (!(s.len > 7 && ngx_strncasecmp(s.data, (u_char *) "http://", 7)
                           == 0)
            && !(s.len > 8 && ngx_strncasecmp(s.data, (u_char *) "https://",
                                              8) == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid URL \"%V\": an http:// or https:// "
                               "URL is expected", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_douyin_cstr(cf, field, &s) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * douyin_asr_rate submit=R query=R;  R is requests per second ("10",
 * "10r/s") or "off"; both default to fun-asr's limits (10 and 20).
 */

static char *
ngx_http_douyin_asr_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    u_char      *p;
    ngx_int_t    rate;
    ngx_str_t   *value, v;
    ngx_uint_t   i, *field;

    if (dmcf->submit_rate != NGX_CONF_UNSET_UINT
        || dmcf->query_rate != NGX_CONF_UNSET_UINT)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "submit=", 7) == 0) {
            field = &dmcf->submit_rate;
            v.data = value[i].data + 7;
            v.len = value[i].len - 7;

        } else if (ngx_strncmp(value[i].data, "query=", 6) == 0) {
            field = &dmcf->query_rate;
            v.data = value[i].data + 6;
            v.len = value[i].len - 6;

        } else {
            goto invalid;
        }

        if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
            *field = 0;
            continue;
        }

        p = v.data + v.len;

        if (v.len > 3 && ngx_strncmp(p - 3, "r/s", 3) == 0) {
            v.len -= 3;
        }

        rate = ngx_atoi(v.data, v.len);
        if (rate <= 0 || rate > 100000) {
            goto invalid;
        }

        *field = (ngx_uint_t) rate * 1000;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\": submit=R and query=R "
                       "with R a positive number of requests per second "
                       "or \"off\" are expected", &value[i]);
    return NGX_CONF_ERROR;
}


/* douyin_poll_interval TIME [max=TIME]; */

static char *
ngx_http_douyin_poll_interval(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t  *value, s;

    if (dmcf->poll_interval != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dmcf->poll_interval = ngx_parse_time(&value[1], 0);
    if (dmcf->poll_interval == (ngx_msec_t) NGX_ERROR
        || dmcf->poll_interval == 0)
    {
        return "has an invalid time";
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "max=", 4) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 4;
        s.len = value[2].len - 4;

        dmcf->poll_max = ngx_parse_time(&s, 0);
        if (dmcf->poll_max == (ngx_msec_t) NGX_ERROR
            || dmcf->poll_max < dmcf->poll_interval)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max=%V (a time not below the first "
                               "interval is expected)", &s);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* douyin_thread_pool NAME; the pool must be declared by thread_pool */

static char *
ngx_http_douyin_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t  *value;

    if (dmcf->thread_pool != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dmcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);

    if (dmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * douyin_process_schedule HH:MM ... [scope=all|pending];  local times of
 * day at which what POST /api/process/async starts runs by itself
 * (ngx_http_douyin_schedule.c); scope=pending starts what POST
 * /api/process/pending starts instead (the pushed videos only).
 */

static char *
ngx_http_douyin_process_schedule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_int_t    m;
    ngx_str_t   *value;
    ngx_uint_t   i, j;

    if (dmcf->nprocess_at > 0) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > 6
            && ngx_strncmp(value[i].data, "scope=", 6) == 0)
        {
            if (i != cf->args->nelts - 1) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" must come after the times",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            if (value[i].len == 9
                && ngx_strncmp(value[i].data + 6, "all", 3) == 0)
            {
                break;
            }

            if (value[i].len == 13
                && ngx_strncmp(value[i].data + 6, "pending", 7) == 0)
            {
                dmcf->process_pending = 1;
                break;
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": \"scope=all\" "
                               "or \"scope=pending\" is expected",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        m = ngx_http_douyin_time_of_day(&value[i]);
        if (m == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid time \"%V\": HH:MM, from 00:00 to "
                               "23:59, is expected", &value[i]);
            return NGX_CONF_ERROR;
        }

        for (j = 0; j < dmcf->nprocess_at; j++) {
            if (dmcf->process_at[j] == (ngx_uint_t) m) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "time \"%V\" is listed twice",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        if (dmcf->nprocess_at == NGX_HTTP_DOUYIN_TIMES_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "at most %d times are allowed",
                               NGX_HTTP_DOUYIN_TIMES_MAX);
            return NGX_CONF_ERROR;
        }

        dmcf->process_at[dmcf->nprocess_at++] = (ngx_uint_t) m;
    }

    if (dmcf->nprocess_at == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "at least one time HH:MM is expected");
        return NGX_CONF_ERROR;
    }

    /* what a scheduled run needs is what POST /api/process needs */
    dmcf->needs |= NGX_HTTP_DOUYIN_NEEDS_STORE|NGX_HTTP_DOUYIN_NEEDS_FSGO
                   |NGX_HTTP_DOUYIN_NEEDS_KEY;

    return NGX_CONF_OK;
}


/* douyin_retention AGE [at=HH:MM];  AGE in nginx time units, above 0 */

static char *
ngx_http_douyin_retention(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    time_t      age;
    ngx_int_t   m;
    ngx_str_t  *value, s;

    if (dmcf->retention != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    age = ngx_parse_time(&value[1], 1);
    if (age == (time_t) NGX_ERROR || age <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid AGE \"%V\": a time above 0, such as "
                           "\"45d\", is expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    dmcf->retention = age;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "at=", 3) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": \"at=HH:MM\" is "
                               "expected", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 3;
        s.len = value[2].len - 3;

        m = ngx_http_douyin_time_of_day(&s);
        if (m == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\": at=HH:MM, from 00:00 to "
                               "23:59, is expected", &value[2]);
            return NGX_CONF_ERROR;
        }

        dmcf->retention_at = (ngx_uint_t) m;
    }

    /* removing a video deletes its WAV on file-system-go first */
    dmcf->needs |= NGX_HTTP_DOUYIN_NEEDS_STORE|NGX_HTTP_DOUYIN_NEEDS_FSGO;

    return NGX_CONF_OK;
}


/* "HH:MM" (two digits each, 00:00 to 23:59) -> minutes, or NGX_ERROR */

static ngx_int_t
ngx_http_douyin_time_of_day(ngx_str_t *s)
{
    ngx_int_t  h, m;

    if (s->len != 5 || s->data[2] != ':') {
        return NGX_ERROR;
    }

    h = ngx_atoi(s->data, 2);
    m = ngx_atoi(s->data + 3, 2);

    if (h == NGX_ERROR || m == NGX_ERROR || h > 23 || m > 59) {
        return NGX_ERROR;
    }

    return h * 60 + m;
}


/*
 * douyin_health; douyin_process; douyin_process_async; douyin_result ID;
 * douyin_videos; douyin_video ID; douyin_video_read ID; douyin_stats;
 * douyin_subtitles ID FORMAT; douyin_info; douyin_docs; douyin_openapi;
 * douyin_error;
 * douyin_process_pending; douyin_aweme_pending ID; douyin_aweme_status ID;
 * douyin_video_unread ID; douyin_video_delete ID; douyin_rss;
 * douyin_cleanup;
 * The command's post field is the route (ngx_http_douyin_route_t); ID and
 * FORMAT may contain variables.
 */

static char *
ngx_http_douyin_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_loc_conf_t  *dlcf = conf;

    ngx_str_t                         *value;
    ngx_http_douyin_route_t           *route;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_douyin_main_conf_t       *dmcf;
    ngx_http_compile_complex_value_t   ccv;

    if (dlcf->handler != NULL) {
        return "is duplicate";
    }

    route = cmd->post;

    dlcf->handler = route->handler;
    dlcf->async = route->async;
    dlcf->pending = route->pending;
    dlcf->methods = route->methods;

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_douyin_module);
    dmcf->needs |= route->needs;

    value = cf->args->elts;

    if (cf->args->nelts >= 2) {
        dlcf->id = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (dlcf->id == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.complex_value = dlcf->id;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    /* douyin_subtitles ID FORMAT: srt, vtt or txt, checked per request */

    if (cf->args->nelts == 3) {
        dlcf->format = ngx_palloc(cf->pool,
                                  sizeof(ngx_http_complex_value_t));
        if (dlcf->format == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = dlcf->format;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = dlcf->handler;

    return NGX_CONF_OK;
}


/*
 * DashScope's recognition options (the submit's "parameters", see
 * ngx_http_douyin_dashscope_parameters() in ngx_http_douyin_dashscope.c):
 * each directive is checked here, so that a typo is an "nginx -t" error
 * with its file:line rather than a provider's 400 at the first submit.
 */

/* douyin_asr_language CODE;  language_hints: fun-asr reads the first */

static char *
ngx_http_douyin_asr_language(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    /* fun-asr's codes and paraformer-v2's "yue" (asr-providers.md 1.2) */

    static const char  *codes[] = {
        "zh", "en", "ja", "ko", "vi", "th", "id", "ms", "tl", "hi", "ar",
        "fr", "de", "es", "pt", "ru", "it", "nl", "sv", "da", "fi", "no",
        "el", "pl", "cs", "hu", "ro", "bg", "hr", "sk", "yue", NULL
    };

    if (dmcf->asr_language.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; codes[i] != NULL; i++) {
        if (value[1].len == ngx_strlen(codes[i])
            && ngx_strncmp(value[1].data, codes[i], value[1].len) == 0)
        {
            break;
        }
    }

    if (codes[i] == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown language \"%V\": one of zh en ja ko vi "
                           "th id ms tl hi ar fr de es pt ru it nl sv da fi "
                           "no el pl cs hu ro bg hr sk yue is expected",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    dmcf->asr_language = value[1];
    dmcf->asr_language_file = cf->conf_file->file.name.data;
    dmcf->asr_language_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* douyin_asr_vocabulary ID;  vocabulary_id, a hot-word list's id */

static char *
ngx_http_douyin_asr_vocabulary(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    u_char      c;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (dmcf->asr_vocabulary.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
        {
            break;
        }
    }

    if (value[1].len == 0 || value[1].len > 256 || i != value[1].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid vocabulary id \"%V\": 1 to 256 letters, "
                           "digits, \"-\", \"_\" or \".\" are expected",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    dmcf->asr_vocabulary = value[1];

    return NGX_CONF_OK;
}


/* douyin_asr_diarization on|off [speakers=N];  N: 2..100, a hint */

static char *
ngx_http_douyin_asr_diarization(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (dmcf->asr_diarization != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 2 && ngx_strncmp(value[1].data, "on", 2) == 0) {
        dmcf->asr_diarization = 1;

    } else if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        dmcf->asr_diarization = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": \"on\" or \"off\" is "
                           "expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    n = NGX_ERROR;

    if (value[2].len > 9 && ngx_strncmp(value[2].data, "speakers=", 9) == 0) {
        n = ngx_atoi(value[2].data + 9, value[2].len - 9);
    }

    if (n < 2 || n > 100 || !dmcf->asr_diarization) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": \"speakers=N\" with N "
                           "from 2 to 100, after \"on\", is expected",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    dmcf->asr_speakers = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/*
 * douyin_asr_word_filter JSON;  special_word_filter: a JSON object with
 * "filter_with_signed" and "filter_with_empty" ({"word_list":[words]})
 * and "system_reserved_filter" (boolean); sent as a string holding it.
 */

static char *
ngx_http_douyin_asr_word_filter(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    char       *text;
    cJSON      *json, *item;
    ngx_str_t  *value;

    if (dmcf->asr_word_filter.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    json = cJSON_ParseWithLength((char *) value[1].data, value[1].len);

    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid word filter: a JSON object is expected "
                           "(quote it in the configuration: '{...}')");
        return NGX_CONF_ERROR;
    }

    cJSON_ArrayForEach(item, json) {
        if (ngx_strcmp(item->string, "system_reserved_filter") == 0) {
            if (!cJSON_IsBool(item)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid word filter: "
                                   "\"system_reserved_filter\" must be "
                                   "true or false");
                goto failed;
            }

            continue;
        }

        if (ngx_strcmp(item->string, "filter_with_signed") != 0
            && ngx_strcmp(item->string, "filter_with_empty") != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid word filter: unknown key \"%s\" "
                               "(filter_with_signed, filter_with_empty and "
                               "system_reserved_filter are expected)",
                               item->string);
            goto failed;
        }

        if (ngx_http_douyin_word_list(cf, item, item->string) != NGX_OK) {
            goto failed;
        }
    }

    text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);

    if (text == NULL) {
        return NGX_CONF_ERROR;
    }

    dmcf->asr_word_filter.len = ngx_strlen(text);
    dmcf->asr_word_filter.data = ngx_pnalloc(cf->pool,
                                             dmcf->asr_word_filter.len + 1);
    if (dmcf->asr_word_filter.data == NULL) {
        cJSON_free(text);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(dmcf->asr_word_filter.data, text,
               dmcf->asr_word_filter.len + 1);
    cJSON_free(text);

    return NGX_CONF_OK;

failed:

    cJSON_Delete(json);
    return NGX_CONF_ERROR;
}


/* {"word_list":["word",...]} with at least one non-empty word */

static ngx_int_t
ngx_http_douyin_word_list(ngx_conf_t *cf, cJSON *json, const char *name)
{
    cJSON  *list, *w;

    list = cJSON_GetObjectItemCaseSensitive(json, "word_list");

    if (!cJSON_IsObject(json) || cJSON_GetArraySize(json) != 1
        || !cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
    {
        goto invalid;
    }

    cJSON_ArrayForEach(w, list) {
        if (!cJSON_IsString(w) || w->valuestring[0] == '\0') {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid word filter: \"%s\" must be "
                       "{\"word_list\":[\"word\",...]}", name);
    return NGX_ERROR;
}


/* douyin_asr_channels N ...;  channel_id: audio track indexes from 0 */

static char *
ngx_http_douyin_asr_channels(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i, j, *ch;

    if (dmcf->asr_channels != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dmcf->asr_channels = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_uint_t));
    if (dmcf->asr_channels == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        n = ngx_atoi(value[i].data, value[i].len);

        if (n == NGX_ERROR || n > 255) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid channel \"%V\": a track index from "
                               "0 to 255 is expected", &value[i]);
            return NGX_CONF_ERROR;
        }

        ch = dmcf->asr_channels->elts;

        for (j = 0; j < dmcf->asr_channels->nelts; j++) {
            if (ch[j] == (ngx_uint_t) n) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "channel \"%V\" is given twice",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        ch = ngx_array_push(dmcf->asr_channels);
        if (ch == NULL) {
            return NGX_CONF_ERROR;
        }

        *ch = (ngx_uint_t) n;
    }

    return NGX_CONF_OK;
}


/*
 * What needs the whole http block: a language the model does not read
 * (fun-asr-2025-08-25: zh and en only; paraformer-v2: zh en ja yue ko de
 * fr ru; the 8k and v1 paraformers take no language_hints), named with
 * the file:line of douyin_asr_language.
 */

static char *
ngx_http_douyin_asr_options_check(ngx_conf_t *cf,
    ngx_http_douyin_main_conf_t *dmcf)
{
    char        *model;
    ngx_str_t   *lang;
    const char  *allowed;
    u_char       code[8];

    lang = &dmcf->asr_language;
    model = dmcf->asr_model.data;

    if (lang->data == NULL) {
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(model, "fun-asr-2025-08-25") == 0) {
        allowed = " zh en ";

    } else if (ngx_strcmp(model, "paraformer-v2") == 0) {
        allowed = " zh en ja yue ko de fr ru ";

    } else if (ngx_strncmp(model, "paraformer", 10) == 0) {
        allowed = "";

    } else if (lang->len == 3 && ngx_strncmp(lang->data, "yue", 3) == 0) {
        allowed = "";                   /* fun-asr has no code for it */

    } else {
        return NGX_CONF_OK;
    }

    ngx_sprintf(code, " %V %Z", lang);

    if (ngx_strstr(allowed, code) != NULL) {
        return NGX_CONF_OK;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "the model \"%s\" does not read the language \"%V\" "
                  "of \"douyin_asr_language\" in %s:%ui", model, lang,
                  dmcf->asr_language_file, dmcf->asr_language_line);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_douyin_cstr(ngx_conf_t *cf, ngx_http_douyin_cstr_t *dst,
    ngx_str_t *src)
{
    dst->data = ngx_pnalloc(cf->pool, src->len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn((u_char *) dst->data, src->data, src->len + 1);
    dst->len = src->len;

    return NGX_OK;
}


/* douyin_filesystem_api 1.5 | 2; */

static char *
ngx_http_douyin_filesystem_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t  *value;

    if (dmcf->filesystem_api != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "1.5", 3) == 0) {
        dmcf->filesystem_api = 15;

    } else if (value[1].len == 1 && value[1].data[0] == '2') {
        dmcf->filesystem_api = 2;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": \"1.5\" or \"2\" is "
                           "expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* douyin_ssl_trusted_certificate FILE;  a PEM file, readable now */

static char *
ngx_http_douyin_ssl_trusted_certificate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_douyin_main_conf_t  *dmcf = conf;

    ngx_str_t        *value, name;
    ngx_file_info_t   fi;

    if (dmcf->ssl_trusted_certificate.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* ngx_conf_full_name() gives a NUL-terminated copy */

    if (ngx_file_info(name.data, &fi) == NGX_FILE_ERROR
        || access((char *) name.data, R_OK) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "douyin_ssl_trusted_certificate \"%V\" cannot be "
                           "read", &name);
        return NGX_CONF_ERROR;
    }

    dmcf->ssl_trusted_certificate = name;

    return NGX_CONF_OK;
}


/*
 * After the whole configuration is read: warn when the ASR key's
 * variable is not passed to workers by an "env" directive, when TLS
 * verification is off, when the ASR cloud is told to fetch the audio from
 * a private address (and, for the feed,
 * ngx_http_douyin_rss_init_module()).  This runs for "nginx -t" and at
 * every start and reload.
 */

static ngx_int_t
ngx_http_douyin_init_module(ngx_cycle_t *cycle)
{
    ngx_str_t                    *var;
    ngx_uint_t                    i;
    ngx_core_conf_t              *ccf;
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_douyin_module);

    if (dmcf != NULL && !dmcf->ssl_verify
        && (dmcf->needs & (NGX_HTTP_DOUYIN_NEEDS_FSGO
                           |NGX_HTTP_DOUYIN_NEEDS_KEY)))
    {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "douyin: \"douyin_ssl_verify off\": the TLS "
                      "certificates of file-system-go and the ASR provider "
                      "are not verified; anyone on the path can read and "
                      "change what they answer");
    }

    if (dmcf != NULL && (dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_FEED)) {
        ngx_http_douyin_rss_init_module(cycle, dmcf);
    }

    if (dmcf == NULL || !(dmcf->needs & NGX_HTTP_DOUYIN_NEEDS_KEY)) {
        return NGX_OK;
    }

    ngx_http_douyin_audio_url_check(cycle, dmcf);

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);
    var = ccf->env.elts;

    for (i = 0; i < ccf->env.nelts; i++) {
        if (var[i].len >= dmcf->asr_key_env.len
            && ngx_strncmp(var[i].data, dmcf->asr_key_env.data,
                           dmcf->asr_key_env.len) == 0
            && (var[i].len == dmcf->asr_key_env.len
                || var[i].data[dmcf->asr_key_env.len] == '='))
        {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "douyin: add \"env %V;\" to the main context, or worker "
                  "processes will not see the ASR key",
                  &dmcf->asr_key_env);

    return NGX_OK;
}


/*
 * The ASR cloud (DashScope) downloads every WAV from the audio base URL
 * (douyin_audio_base_url, else douyin_filesystem_url): at a private
 * address it cannot, and every video would fail at the provider
 * (FILE_DOWNLOAD_FAILED).  Warned when the ASR URL is public and the
 * audio URL private, both named; from the configuration's text alone:
 * nothing is resolved or contacted ("nginx -t" runs this too).
 */

static void
ngx_http_douyin_audio_url_check(ngx_cycle_t *cycle,
    ngx_http_douyin_main_conf_t *dmcf)
{
    if (dmcf->audio_base_url.data == NULL
        || ngx_http_douyin_url_private(&dmcf->asr_url)
        || !ngx_http_douyin_url_private(&dmcf->audio_base_url))
    {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "douyin: the ASR provider at \"%s\" would fetch the audio "
                  "from \"%s\" (%s), a private address it cannot reach "
                  "from the internet: every video would fail; set "
                  "\"douyin_audio_base_url\" to file-system-go's public "
                  "address",
                  dmcf->asr_url.data, dmcf->audio_base_url.data,
                  dmcf->audio_base_url.data == dmcf->filesystem_url.data
                  ? "douyin_filesystem_url, as douyin_audio_base_url is "
                    "not set"
                  : "douyin_audio_base_url");
}


/*
 * ngx_http_douyin_url_private: 1 when the host of the http(s) URL can
 * only be reached from inside: an IPv4 address in 10/8, 172.16/12,
 * 192.168/16 (RFC 1918), 127/8, 169.254/16 or 0/8; the IPv6 ::1, ::,
 * fc00::/7 or fe80::/10 (or an IPv4-mapped one of the above); "localhost"
 * or a name under it; or a name without a dot (a Docker service name such
 * as "file-system-go", a host of the LAN).  From the text only.
 */

static ngx_uint_t
ngx_http_douyin_url_private(ngx_http_douyin_cstr_t *url)
{
    u_char     *p, *host, *end, *last;
    size_t      len;
    in_addr_t   a;
#if (NGX_HAVE_INET6)
    u_char      a6[16];
#endif

    last = (u_char *) url->data + url->len;

    p = ngx_strlcasestrn((u_char *) url->data, last, (u_char *) "://",
                         3 - 1);
    if (p == NULL) {
        return 0;
    }

    host = p + 3;

    for (end = host; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }
    }

    /* user:password@ */

    for (p = host; p < end; p++) {
        if (*p == '@') {
            host = p + 1;
        }
    }

    if (host < end && *host == '[') {
        p = ngx_strlchr(host, end, ']');
        if (p == NULL) {
            return 0;
        }

#if (NGX_HAVE_INET6)
        if (ngx_inet6_addr(host + 1, p - host - 1, a6) != NGX_OK) {
            return 0;
        }

        if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *) a6)) {
            a = ((in_addr_t) a6[12] << 24) | (a6[13] << 16) | (a6[14] << 8)
                | a6[15];
            goto ipv4;
        }

        return IN6_IS_ADDR_LOOPBACK((struct in6_addr *) a6)
               || IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *) a6)
               || (a6[0] & 0xfe) == 0xfc
               || (a6[0] == 0xfe && (a6[1] & 0xc0) == 0x80);
#else
        return 0;
#endif
    }

    p = ngx_strlchr(host, end, ':');
    if (p != NULL) {
        end = p;
    }

    len = end - host;

    if (len > 0 && host[len - 1] == '.') {
        len--;
    }

    if (len == 0) {
        return 0;
    }

    a = ngx_inet_addr(host, len);

    if (a != INADDR_NONE) {
        a = ntohl(a);
        goto ipv4;
    }

    if ((len == 9 && ngx_strncasecmp(host, (u_char *) "localhost", 9) == 0)
        || (len > 10
            && ngx_strncasecmp(host + len - 10, (u_char *) ".localhost", 10)
               == 0))
    {
        return 1;
    }

    return ngx_strlchr(host, host + len, '.') == NULL;

ipv4:

    return (a >> 24) == 10 || (a >> 24) == 127 || (a >> 24) == 0
           || (a & 0xfff00000) == 0xac100000       /* 172.16.0.0/12 */
           || (a & 0xffff0000) == 0xc0a80000       /* 192.168.0.0/16 */
           || (a & 0xffff0000) == 0xa9fe0000;      /* 169.254.0.0/16 */
}


/*
 * douyin_error answers in the rewrite phase, as nginx's "return" does,
 * not as a content handler: error_page sends a request to its location
 * with what the failed location left, and the access phases would run
 * again there.  In a location with "satisfy any", an error after the
 * allow/deny lines refused (a password file that cannot be read: 500)
 * would then end as their 403, in HTML.
 */

static ngx_int_t
ngx_http_douyin_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_douyin_error_rewrite;

    return NGX_OK;
}


static ngx_int_t
ngx_http_douyin_error_rewrite(ngx_http_request_t *r)
{
    ngx_http_douyin_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_douyin_module);

    if (dlcf->handler != ngx_http_douyin_error_handler) {
        return NGX_DECLINED;
    }

    return ngx_http_douyin_error_handler(r);
}


static ngx_int_t
ngx_http_douyin_init_process(ngx_cycle_t *cycle)
{
    ngx_int_t                     rc;
    ngx_http_douyin_main_conf_t  *dmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_douyin_module);

    if (dmcf == NULL) {
        return NGX_OK;
    }

    if (ngx_http_douyin_metrics_init_process(cycle, dmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (dmcf->store == NULL) {
        return NGX_OK;
    }

    rc = ngx_http_douyin_runner_init(cycle, dmcf);

    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    /* the scheduled jobs, retention and settling run on the runner */

    return ngx_http_douyin_schedule_init(cycle, dmcf->runner);
}


static void
ngx_http_douyin_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_douyin_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_douyin_module);

    if (dmcf != NULL) {
        if (dmcf->runner != NULL) {
            ngx_http_douyin_schedule_exit(dmcf->runner);
        }

        ngx_http_douyin_runner_exit(cycle, dmcf);
        ngx_http_douyin_metrics_exit_process(dmcf);
    }
}

# conf/douyin-gateway.conf, included as a gateway host would: the routes
# under /api/douyin/..., mutating ones and the metrics only from trusted
# networks; the links they give (GET /api/douyin/ and
# /api/douyin/openapi.json) lead to routes of the gateway, not to the
# direct mount's paths.
use t::Douyin;
use Cwd qw(abs_path);
use t::Plan;
use Test::Nginx::Socket;

$ENV{TEST_NGINX_GATEWAY_CONF} = abs_path('conf/douyin-gateway.conf');

repeat_each(1);
no_root_location();

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: the gateway routes serve the same handlers under /api/douyin/
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- init
t::Emu::emu_wav('7609169800750206794', meta => { title => 't' });
--- request eval
[ "GET /api/douyin/health", "POST /api/douyin/process",
  "GET /api/douyin/videos/7609169800750206794/result",
  "GET /api/douyin/videos?status=completed", "GET /api/douyin/stats",
  "GET /api/douyin/videos/7609169800750206794",
  "GET /api/douyin/videos/7609169800750206794/subtitles.vtt",
  "POST /api/douyin/videos/7609169800750206794/read\n{\"is_read\":true}",
  "DELETE /api/douyin/videos/7609169800750206794?keep_file=true",
  "GET /api/douyin/", "GET /api/douyin/openapi.json",
  "GET /api/douyin/metrics" ]
--- response_body_like eval
[ qr/"status":"healthy"/, qr/"processed":1,"success":1/,
  qr/"status":"completed"/, qr/^\{"total_count":1,/,
  qr/^\{"total":1,"completed":1,/,
  qr/"title":"t",.*"subtitles":\{"srt":"\/api\/douyin\/videos\/7609169800750206794\/subtitles\.srt","vtt":"\/api\/douyin\/videos\/7609169800750206794\/subtitles\.vtt","txt":"\/api\/douyin\/videos\/7609169800750206794\/subtitles\.txt"\}\}$/,
  qr/^WEBVTT\n\n00:00:00\.000 --> 00:00:00\.500\ntranscript of\n\n00:00:00\.500 --> 00:00:01\.000\n7609169800750206794\.wav\n\n$/,
  qr/marked read/, qr/deleted; its file was kept/,
  qr/"service":"douyin-processor"/, qr/openapi/,
  qr/\ndouyin_videos_completed_total 1\n/ ]
--- timeout: 10
--- no_error_log
[error]



=== TEST 2: from an untrusted address: reads are open, changes and metrics are 403
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- more_headers
X-Forwarded-For: 203.0.113.7
--- request eval
[ "GET /api/douyin/health", "GET /api/douyin/videos/1/result",
  "GET /api/douyin/videos", "GET /api/douyin/videos/1/subtitles.srt",
  "POST /api/douyin/process",
  "POST /api/douyin/process/async",
  "POST /api/douyin/videos/1/read\n{\"is_read\":true}",
  "DELETE /api/douyin/videos/1", "GET /api/douyin/metrics" ]
--- error_code eval
[ 200, 200, 200, 404, 403, 403, 403, 403, 403 ]



=== TEST 3: behind the gateway, the info route's links and openapi.json's server are the gateway's
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- request eval
[ "GET /api/douyin/", "GET /api/douyin/docs", "GET /api/douyin/health",
  "GET /api/douyin/openapi.json", "GET /api/douyin/openapi.json",
  "GET /api/douyin/openapi.json", "HEAD /api/douyin/openapi.json",
  "POST /api/douyin/openapi.json" ]
--- error_code eval
[ 200, 200, 200, 200, 200, 200, 200, 405 ]
--- response_body_like eval
[ qr/^\{"service":"douyin-processor","version":"\d+\.\d+\.\d+","docs":"\/api\/douyin\/docs","health":"\/api\/douyin\/health"\}$/,
  qr/<html/, qr/"status":"healthy"/,
  qr/"servers":\s*\[\s*\{\s*"url":\s*"\/api\/douyin",/,
  qr/"paths":\s*\{\s*"\/health":.*"\/process":.*"\/videos\/\{aweme_id\}\/result":/s,
  qr/^(?!.*"\/api\/process").*$/s,
  qr/^$/, qr/"error":"METHOD_NOT_ALLOWED"/ ]
--- no_error_log
[error]

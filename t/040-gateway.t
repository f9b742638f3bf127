# conf/douyin-gateway.conf, included as a gateway host would: the routes
# under /api/douyin/... (and the collector-fed ones under /api/aweme/...),
# mutating ones only from trusted networks or for the owner (basic auth),
# the metrics only from trusted networks; the links they give (GET
# /api/douyin/ and /api/douyin/openapi.json) lead to routes of the
# gateway, not to the direct mount's paths.
use t::Douyin;
use Cwd qw(abs_path);
use t::Plan;
use Test::Nginx::Socket;

$ENV{TEST_NGINX_GATEWAY_CONF} = abs_path('conf/douyin-gateway.conf');

# the owner's credentials, as README "Access" makes them (openssl passwd)
sub write_htpasswd {
    my $hash = `openssl passwd -apr1 -salt x1y2z3 s3cret`;
    chomp $hash;
    die "openssl passwd failed\n" unless $hash =~ /^\$apr1\$/;
    open my $fh, '>', "$ENV{TEST_NGINX_SERVER_ROOT}/conf/douyin.htpasswd"
        or die "htpasswd: $!\n";
    print $fh "owner:$hash\n";
    close $fh;
}

# "Authorization: Basic ..." of user:password
sub basic { 'Authorization: Basic ' . MIME::Base64::encode_base64($_[0], '') }
use MIME::Base64 ();

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
  qr/marked read/, qr/deleted, its file was kept/,
  qr/"service":"douyin-processor"/, qr/openapi/,
  qr/\ndouyin_videos_completed_total 1\n/ ]
--- timeout: 10
--- no_error_log
[error]



=== TEST 2: from an untrusted address: reads are open, changes ask for the owner's password (401), metrics are 403
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
[ 200, 200, 200, 404, 401, 401, 401, 401, 403 ]
--- response_headers eval
[ ("") x 4, ('WWW-Authenticate: Basic realm="douyin"') x 4, "" ]



=== TEST 3: from the internet, the owner (basic auth) can process and delete from the browser; a wrong password is 401
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- init
main::write_htpasswd();
t::Emu::emu_wav('7609169800750206794');
t::Douyin::douyin_post('/api/douyin/aweme/7609169800750206794/pending',
            '{"audio_filename":"7609169800750206794.wav"}');
--- more_headers eval
[ "X-Forwarded-For: 203.0.113.7\n" . main::basic('owner:wrong'),
  "X-Forwarded-For: 203.0.113.7\n" . main::basic('owner:s3cret'),
  "X-Forwarded-For: 203.0.113.7\n" . main::basic('owner:s3cret'),
  "X-Forwarded-For: 203.0.113.7\n" . main::basic('owner:s3cret'),
  "X-Forwarded-For: 203.0.113.7",
  "X-Forwarded-For: 203.0.113.7\n" . main::basic('owner:s3cret') ]
--- request eval
[ "POST /api/douyin/process/pending\n{}",
  "POST /api/douyin/process/pending\n{}",
  "POST /api/aweme/7609169800750206794/unread",
  "DELETE /api/aweme/7609169800750206794?keep_file=true",
  "GET /api/aweme/7609169800750206794/status",
  "DELETE /api/douyin/videos/7609169800750206794" ]
--- error_code eval
[ 401, 200, 200, 200, 200, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"UNAUTHORIZED","detail":"[^"]+"\}$/,
  qr/^\{"success":true,"message":"[^"]+","data":\{"pending":1\}\}$/,
  qr/marked unread/, qr/deleted, its file was kept/,
  qr/^\{"known":true,"status":"deleted",/, qr/deleted with its file/ ]
--- timeout: 10



=== TEST 4: every collector-fed route is mounted under /api/douyin/ and /api/aweme/ (trusted network)
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- init
t::Emu::emu_wavs('11', '12');
--- request eval
[ "POST /api/douyin/aweme/11/pending\n{\"audio_filename\":\"11.wav\"}",
  "POST /api/aweme/12/pending\n{\"audio_filename\":\"12.wav\"}",
  "GET /api/douyin/aweme/11/status", "GET /api/aweme/12/status",
  "POST /api/douyin/process/pending\n{}",
  "GET /api/douyin/videos?status=pending&page_size=1000",
  "POST /api/douyin/aweme/11/read\n{\"is_read\":true}",
  "POST /api/douyin/aweme/11/unread",
  "POST /api/aweme/11/read\n{\"is_read\":true}",
  "DELETE /api/douyin/aweme/11?keep_file=true",
  "DELETE /api/aweme/12?keep_file=true",
  "GET /api/douyin/videos?status=deleted" ]
--- response_body_like eval
[ qr/is pending/, qr/is pending/,
  qr/"known":true,"status":"pending"/, qr/"known":true,"status":"pending"/,
  qr/"data":\{"pending":2\}/,
  qr/^\{"total_count":0,/,
  qr/marked read/, qr/marked unread/, qr/marked read/,
  qr/deleted, its file was kept/, qr/deleted, its file was kept/,
  qr/^\{"total_count":2,/ ]
--- timeout: 10



=== TEST 5: behind the gateway, the info route's links and openapi.json's server are the gateway's
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

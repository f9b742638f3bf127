# TLS to every upstream (issue 10): file-system-go and DashScope behind a
# real TLS server (a server of the nginx under test, on a port of its
# own, with a self-signed certificate made here by openssl, proxying to
# the emulators).  Verification is on by default and fails with a clear
# log line; it passes when the certificate is trusted
# (douyin_ssl_trusted_certificate); it passes with douyin_ssl_verify off,
# which is logged as a warning at start.
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

use Cwd ();
use File::Path ();
use IO::Socket::INET ();

repeat_each(1);
no_root_location();

# the certificate: self-signed, for the address the module connects to
my $dir = Cwd::abs_path('t') . "/servroot_tls_$$";
File::Path::make_path($dir);
END { File::Path::remove_tree($dir) if $dir && -d $dir }

system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $dir/key.pem "
       . "-out $dir/cert.pem -days 2 -subj /CN=127.0.0.1 "
       . "-addext subjectAltName=IP:127.0.0.1 2>/dev/null") == 0
    or die "openssl req failed\n";
system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $dir/other-key.pem "
       . "-out $dir/other.pem -days 2 -subj /CN=other 2>/dev/null") == 0
    or die "openssl req failed\n";

$ENV{TEST_NGINX_TLS_DIR} = $dir;

# a free port for the TLS server (the harness expands variables once, so
# $TEST_NGINX_RAND_PORT_n cannot be used inside $TEST_NGINX_TLS_HTTP)
my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Proto => 'tcp', Listen => 1, ReuseAddr => 1)
    or die "no free port: $!\n";
my $port = $sock->sockport;
close $sock;

# the usual http config with both upstreams over TLS, and the TLS server
my $http = $ENV{TEST_NGINX_DOUYIN_HTTP};
$http =~ s{douyin_filesystem_url \S+;}
          {douyin_filesystem_url https://127.0.0.1:$port;};
$http =~ s{douyin_asr_url \S+;}
          {douyin_asr_url https://127.0.0.1:$port;};

# DashScope fetches the audio itself, from the emulator
$ENV{TEST_NGINX_TLS_HTTP} = $http . <<"_EOC_";
    douyin_audio_base_url http://127.0.0.1:$ENV{TEST_NGINX_FSGO_PORT};

    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;

        location /api/v1/ {
            proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_DASHSCOPE_PORT};
        }

        location / {
            proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_FSGO_PORT};
        }
    }
_EOC_

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: verification is on by default: a self-signed file-system-go is refused, with a clear log line
--- http_config
    $TEST_NGINX_TLS_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001');
--- request
POST /api/process
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_UNAVAILABLE","detail":"[^"]+"\}$
--- error_log eval
[ qr/\[error\].*file-system-go listing failed: TLS certificate verification failed \(SSL certificate problem: self[- ]signed certificate\); trust its CA with douyin_ssl_trusted_certificate/ ]
--- no_error_log
douyin_ssl_verify off



=== TEST 2: refused: nothing was submitted to the provider
--- http_config
    $TEST_NGINX_TLS_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001');
t::Douyin::douyin_post('/api/process');
--- request
GET /emu/dashscope/stats
--- response_body_like: "submits":0,



=== TEST 3: a certificate that is not the server's own CA does not help
--- http_config
    $TEST_NGINX_TLS_HTTP
    douyin_ssl_trusted_certificate $TEST_NGINX_TLS_DIR/other.pem;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001');
--- request
POST /api/process
--- error_code: 502
--- error_log
TLS certificate verification failed



=== TEST 4: trusted with douyin_ssl_trusted_certificate: the listing, the submit, the polls, the delete all go over TLS
--- http_config
    $TEST_NGINX_TLS_HTTP
    douyin_ssl_trusted_certificate $TEST_NGINX_TLS_DIR/cert.pem;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001', meta => { title => 'over TLS' });
--- request eval
[ "POST /api/process", "GET /api/videos/7000000000000000001",
  "DELETE /api/aweme/7000000000000000001", "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processed 1 of 1 videos: 1 completed, 0 failed\.",/,
  qr/"status":"completed","title":"over TLS",/,
  qr/"success":true/,
  qr/"deleted":\["7000000000000000001\.wav"\]/ ]
--- timeout: 20
--- no_error_log
[error]
[warn]



=== TEST 5: douyin_ssl_verify off: works, and says so at start
--- http_config
    $TEST_NGINX_TLS_HTTP
    douyin_ssl_verify off;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001');
--- request
POST /api/process
--- response_body_like: ^\{"success":true,"message":"Processed 1 of 1 videos: 1 completed, 0 failed\.",
--- timeout: 20
--- error_log eval
[ qr/\[warn\].*"douyin_ssl_verify off": the TLS certificates of file-system-go and the ASR provider are not verified/ ]
--- no_error_log
[error]


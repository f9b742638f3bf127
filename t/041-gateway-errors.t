# The errors nginx raises itself in the shipped configurations (the 403
# of allow/deny, the 401 of auth_basic, 413 beyond client_max_body_size,
# the 500 of a missing password file, the 400 of a request refused before
# any location) come in the API's JSON error form, {"success":false,"error":
# "<CODE>","detail":"<sentence>"}, from douyin_error, read here with a
# real JSON parser (JSON::PP).  TEST 1 includes conf/douyin-gateway.conf as
# a gateway host would; TEST 2 takes the error_page line and the
# @douyin_error location of conf/nginx.conf's server, and its /metrics
# location.
use t::Douyin;
use Cwd qw(abs_path);
use Test::Nginx::Socket 'no_plan';   # --- init asserts

use HTTP::Tiny ();
use IO::Socket::INET ();
use JSON::PP ();

$ENV{TEST_NGINX_GATEWAY_CONF} = abs_path('conf/douyin-gateway.conf');

# the server-level error handling and the /metrics location of
# conf/nginx.conf, as they are written there
sub nginx_conf_part {
    open my $fh, '<', 'conf/nginx.conf' or die "conf/nginx.conf: $!\n";
    my $conf = do { local $/; <$fh> };
    my ($ep) = $conf =~ /^(\s*error_page [^;]*\@douyin_error;)$/m
        or die "conf/nginx.conf: no error_page ... \@douyin_error line\n";
    my ($loc) = $conf =~ /^(\s*location \@douyin_error \{.*?^\s*\})$/ms
        or die "conf/nginx.conf: no location \@douyin_error\n";
    my ($metrics) = $conf =~ /^(\s*location = \/metrics \{.*?^\s*\})$/ms
        or die "conf/nginx.conf: no location = /metrics\n";
    return "$ep\n$loc\n$metrics\n";
}
$ENV{TEST_NGINX_SERVICE_ERRORS} = nginx_conf_part();

# the harness's server sets client_max_body_size 30M: the gateway's
# locations are included a second time in a server of their own, on
# 127.0.0.2 and the test port, with the small limit a host could set
$ENV{TEST_NGINX_GATEWAY_SERVER} = <<"_EOC_";
    server {
        listen 127.0.0.2:@{[ Test::Nginx::Util::server_port() ]};
        client_max_body_size 1k;
        include $ENV{TEST_NGINX_GATEWAY_CONF};
    }
_EOC_

my $HTTP = HTTP::Tiny->new(timeout => 10, proxy => undef, http_proxy => undef);

# one request to 127.0.0.2 (the server above) or, with $TO1, 127.0.0.1:
# (status, headers, body)
our $TO1;
sub call {
    my ($method, $path, $body, $headers) = @_;
    my %o = (headers => $headers || {});
    $o{content} = $body if defined $body;
    my $res = $HTTP->request($method, 'http://127.0.0.' . ($TO1 ? 1 : 2) . ':'
                             . t::Douyin::douyin_port() . $path, \%o);
    return ($res->{status}, $res->{headers}, $res->{content});
}

# checks that the answer is the JSON error $code with $status
sub is_json_error {
    my ($what, $status, $code, $st, $h, $content) = @_;
    Test::More::is($st, $status, "$what: $status");
    Test::More::like($h->{'content-type'} // '', qr{^application/json\b},
                     "$what: Content-Type application/json");
    my $json = eval { JSON::PP->new->utf8->decode($content // '') };
    Test::More::ok(ref $json eq 'HASH', "$what: the body is a JSON object")
        or Test::More::diag("body: " . ($content // '(none)'));
    $json = {} unless ref $json eq 'HASH';
    Test::More::ok(exists $json->{success} && JSON::PP::is_bool($json->{success})
                   && !$json->{success}, "$what: success is false");
    Test::More::is($json->{error}, $code, "$what: error $code");
    Test::More::like($json->{detail} // '', qr/^\S.*\.$/,
                     "$what: detail is a sentence");
    Test::More::is(join(',', sort keys %$json), 'detail,error,success',
                   "$what: no other field");
}

# a request nginx refuses before any location (two Host headers), on a
# raw connection: (status, headers, body)
sub raw_bad_request {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => t::Douyin::douyin_port(),
                                  Timeout => 5) or die "connect: $!\n";
    print $s "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
             . "Connection: close\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $r, 2;
    my ($st) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my (%h, @kv);
    @kv = ($head // '') =~ /^([^:\r\n]+):[ \t]*([^\r\n]*)/mg;
    while (my ($k, $v) = splice @kv, 0, 2) {
        $h{lc $k} = $v;
    }
    return ($st, \%h, $body);
}

repeat_each(1);
no_root_location();

run_tests();

__DATA__

=== TEST 1: conf/douyin-gateway.conf: 403, 401, 413 and 500 raised by nginx are JSON errors; HEAD gets the headers only
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    $TEST_NGINX_GATEWAY_SERVER
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- init
my $far = { 'X-Forwarded-For' => '203.0.113.7' };
main::is_json_error('metrics from the internet (deny all)', 403, 'FORBIDDEN',
                    main::call(GET => '/api/douyin/metrics', undef, $far));
my ($st, $h, $c) = main::call(POST => '/api/douyin/process', '', $far);
main::is_json_error('process from the internet without a password', 401,
                    'UNAUTHORIZED', $st, $h, $c);
Test::More::is($h->{'www-authenticate'}, 'Basic realm="douyin"',
               '... with its WWW-Authenticate kept');
main::is_json_error('a push of 4 KiB over client_max_body_size 1k', 413,
                    'BODY_TOO_LARGE',
                    main::call(POST => '/api/douyin/aweme/7609169800750206794/pending',
                               '{"audio_filename":"' . ('x' x 4096) . '.wav"}'));
# a password given from the internet: without the password file nginx
# refuses (403), with one it cannot read (here a folder) it fails (500)
my $owner = { %$far, Authorization => 'Basic b3duZXI6czNjcmV0' };
main::is_json_error('a password, no password file', 403, 'FORBIDDEN',
                    main::call(POST => '/api/douyin/process', '', $owner));
mkdir "$ENV{TEST_NGINX_SERVER_ROOT}/conf/douyin.htpasswd"
    or die "mkdir: $!\n";
main::is_json_error('a password file that cannot be read', 500,
                    'INTERNAL_ERROR',
                    main::call(POST => '/api/douyin/process', '', $owner));
rmdir "$ENV{TEST_NGINX_SERVER_ROOT}/conf/douyin.htpasswd";
($st, $h, $c) = main::call(HEAD => '/api/douyin/metrics', undef, $far);
Test::More::is($st, 403, 'HEAD: 403');
Test::More::is($c // '', '', 'HEAD: no body');
Test::More::like($h->{'content-type'} // '', qr{^application/json\b},
                 'HEAD: Content-Type application/json');
--- request
GET /api/douyin/health
--- response_body_like: "status":"healthy"



=== TEST 2: conf/nginx.conf's server: 403, 413 and 400 (before any location) raised by nginx are JSON errors
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
    $TEST_NGINX_SERVICE_ERRORS
    location = /api/aweme/7609169800750206794/pending {
        client_max_body_size 1k;
        douyin_aweme_pending 7609169800750206794;
    }
--- init
local $main::TO1 = 1;
main::is_json_error('metrics from the internet (deny all)', 403, 'FORBIDDEN',
                    main::call(GET => '/metrics', undef,
                               { 'X-Forwarded-For' => '203.0.113.7' }));
main::is_json_error('a push of 4 KiB over client_max_body_size 1k', 413,
                    'BODY_TOO_LARGE',
                    main::call(POST => '/api/aweme/7609169800750206794/pending',
                               '{"audio_filename":"' . ('x' x 4096) . '.wav"}'));
main::is_json_error('a request with two Host headers', 400, 'BAD_REQUEST',
                    main::raw_bad_request());
--- request
GET /metrics
--- error_code: 200

# Configuration errors are clear "nginx -t" errors, naming the directive
# and the file:line, never a crash later.  Runs the real nginx -t with the
# module on small configurations (plain Test::More: a failing start is the
# point here, which a Test::Nginx block cannot express).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $nginx  = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($so)   = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');
plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $so && -f $so;

my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs";

sub nginx_t {
    my ($http, $server, %o) = @_;
    my $conf = "$dir/nginx.conf";
    open my $fh, '>', $conf or die $!;
    print $fh <<"_EOC_";
load_module $so;
error_log $dir/logs/error.log;
pid $dir/logs/nginx.pid;
env ALIYUN_ACCESS_KEY;
events {}
http {
    access_log off;
$http
    server {
        listen 127.0.0.1:1;
$server
    }
}
_EOC_
    close $fh;
    local $ENV{ALIYUN_ACCESS_KEY} = $ENV{ALIYUN_ACCESS_KEY};
    if ($o{no_key}) { delete $ENV{ALIYUN_ACCESS_KEY} }
    else            { $ENV{ALIYUN_ACCESS_KEY} = 'k' }
    my $out = `$nginx -t -p $dir/ -c $conf -e $dir/logs/error.log 2>&1`;
    return ($? == 0, $out);
}

my $base = <<"_EOC_";
    douyin_store $dir/store;
    douyin_filesystem_url http://127.0.0.1:8000;
_EOC_

my ($ok, $out) = nginx_t($base, 'location /p { douyin_process; }');
ok($ok, 'a complete configuration passes') or diag $out;

my @bad = (
    [ 'douyin_process without douyin_store',
      '    douyin_filesystem_url http://127.0.0.1:8000;',
      'location /p { douyin_process; }',
      qr/douyin handlers need "douyin_store" in the http block/ ],
    [ 'douyin_process without douyin_filesystem_url',
      "    douyin_store $dir/store;",
      'location /p { douyin_process; }',
      qr/douyin handlers need "douyin_filesystem_url"/ ],
    [ 'douyin_result without douyin_store', '',
      'location /r { douyin_result 1; }',
      qr/douyin handlers need "douyin_store"/ ],
    [ 'douyin_asr_batch 0', "$base    douyin_asr_batch 0;", '',
      qr/value must be between 1 and 100/ ],
    [ 'douyin_asr_batch 101', "$base    douyin_asr_batch 101;", '',
      qr/must be between 1 and 100/ ],
    [ 'douyin_asr_rate with a bad value', "$base    douyin_asr_rate submit=fast;", '',
      qr/invalid parameter "submit=fast"/ ],
    [ 'douyin_asr_rate twice',
      "$base    douyin_asr_rate submit=1;\n    douyin_asr_rate query=1;", '',
      qr/"douyin_asr_rate" directive is duplicate/ ],
    [ 'a URL that is not http(s)', "$base    douyin_asr_url ftp://x;", '',
      qr/invalid URL "ftp:\/\/x"/ ],
    [ 'douyin_poll_interval max below the first', "$base    douyin_poll_interval 5s max=1s;", '',
      qr/invalid max=1s/ ],
    [ 'map_size below 1m', "    douyin_store $dir/s2 map_size=1k;", '',
      qr/invalid map_size "1k"/ ],
    [ 'douyin_store unknown parameter', "    douyin_store $dir/s2 size=1g;", '',
      qr/invalid parameter "size=1g"/ ],
    [ 'douyin_thread_pool naming an undeclared pool',
      "$base    douyin_thread_pool nope;", 'location /p { douyin_process; }',
      qr/unknown thread pool "nope"/ ],
    [ 'a handler twice in one location', $base,
      'location /p { douyin_process; douyin_stats; }',
      qr/"douyin_stats" directive is duplicate/ ],
    [ 'a handler directive in the http block', "$base    douyin_health;", '',
      qr/"douyin_health" directive is not allowed here/ ],
    [ 'douyin_result without its ID', $base, 'location /r { douyin_result; }',
      qr/invalid number of arguments in "douyin_result"/ ],
    [ 'douyin_filesystem_api 3', "$base    douyin_filesystem_api 3;", '',
      qr/invalid value "3": "1\.5" or "2" is expected/ ],
    [ 'douyin_ssl_verify maybe', "$base    douyin_ssl_verify maybe;", '',
      qr/invalid value "maybe" in "douyin_ssl_verify" directive/ ],
    [ 'douyin_ssl_trusted_certificate that cannot be read',
      "$base    douyin_ssl_trusted_certificate $dir/missing.pem;", '',
      qr/douyin_ssl_trusted_certificate "\Q$dir\E\/missing\.pem" cannot be read/ ],
    [ 'douyin_aweme_pending without its ID', $base,
      'location /a { douyin_aweme_pending; }',
      qr/invalid number of arguments in "douyin_aweme_pending"/ ],
    [ 'a schedule at 25:00', "$base    douyin_process_schedule 09:45 25:00;", '',
      qr/invalid time "25:00": HH:MM, from 00:00 to 23:59, is expected/ ],
    [ 'a schedule at 9:5', "$base    douyin_process_schedule 9:5;", '',
      qr/invalid time "9:5": HH:MM, from 00:00 to 23:59, is expected/ ],
    [ 'a schedule at 09:60', "$base    douyin_process_schedule 09:60;", '',
      qr/invalid time "09:60"/ ],
    [ 'a schedule time twice', "$base    douyin_process_schedule 09:45 09:45;", '',
      qr/time "09:45" is listed twice/ ],
    [ 'a schedule without a time', "$base    douyin_process_schedule scope=all;", '',
      qr/at least one time HH:MM is expected/ ],
    [ 'a schedule with an unknown scope', "$base    douyin_process_schedule 09:45 scope=some;", '',
      qr/invalid parameter "scope=some": "scope=all" or "scope=pending" is expected/ ],
    [ 'a schedule with scope before a time', "$base    douyin_process_schedule scope=all 09:45;", '',
      qr/"scope=all" must come after the times/ ],
    [ 'a schedule without douyin_store',
      '    douyin_filesystem_url http://127.0.0.1:8000;' . "\n    douyin_process_schedule 09:45;", '',
      qr/douyin handlers need "douyin_store" in the http block/ ],
    [ 'a retention AGE of 0', "$base    douyin_retention 0;", '',
      qr/invalid AGE "0": a time above 0, such as "45d", is expected/ ],
    [ 'a retention AGE that is no time', "$base    douyin_retention soon;", '',
      qr/invalid AGE "soon"/ ],
    [ 'a retention at= without a time', "$base    douyin_retention 45d at=;", '',
      qr/invalid "at=": at=HH:MM, from 00:00 to 23:59, is expected/ ],
    [ 'a retention at=3:07', "$base    douyin_retention 45d at=3:07;", '',
      qr/invalid "at=3:07"/ ],
    [ 'a retention with an unknown parameter', "$base    douyin_retention 45d every=1d;", '',
      qr/invalid parameter "every=1d": "at=HH:MM" is expected/ ],
    [ 'douyin_retention twice',
      "$base    douyin_retention 45d;\n    douyin_retention 30d;", '',
      qr/"douyin_retention" directive is duplicate/ ],
    [ 'a retention without douyin_filesystem_url',
      "    douyin_store $dir/store;\n    douyin_retention 45d;", '',
      qr/douyin handlers need "douyin_filesystem_url"/ ],
    [ 'douyin_cleanup with an argument', $base,
      'location /c { douyin_cleanup 30; }',
      qr/invalid number of arguments in "douyin_cleanup"/ ],
);

for my $b (@bad) {
    my ($name, $http, $server, $re) = @$b;
    my ($ok, $out) = nginx_t($http, $server);
    ok(!$ok, "nginx -t fails: $name");
    like($out, $re, "... with a clear message: $name");
    like($out, qr/nginx\.conf:\d+/, "... naming the file and line: $name");
}

($ok, $out) = nginx_t("$base    douyin_process_schedule 09:45 17:15 scope=all;\n"
                      . "    douyin_retention 45d at=03:07;",
                      'location /c { douyin_cleanup; }');
ok($ok, 'a schedule and a retention pass') or diag $out;

($ok, $out) = nginx_t($base, 'location /p { douyin_process; }', no_key => 1);
ok($ok, 'nginx -t passes without the ASR key in its environment') or diag $out;
like($out, qr/\[warn\] environment variable "ALIYUN_ACCESS_KEY" \(the ASR key, see "douyin_asr_key_env"\) is not set: started so, process calls answer 503/,
     '... but warns, saying which variable');

($ok, $out) = nginx_t($base, 'location /h { douyin_health; } location /s { douyin_stats; }', no_key => 1);
ok($ok, 'routes that never call the provider need no key') or diag $out;
unlike($out, qr/ALIYUN_ACCESS_KEY/, '... and get no warning about it');

done_testing();

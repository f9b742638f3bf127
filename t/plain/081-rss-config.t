# The feed's directives: clear "nginx -t" errors naming the directive and
# the file:line, and warnings when the feed would answer 503 (plain Test::More: a failing start is the
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

# nginx -t of a configuration with the given main, http and server parts:
# (passed, what it said)
sub nginx_t {
    my ($main, $http, $server) = @_;
    my $conf = "$dir/nginx.conf";
    open my $fh, '>', $conf or die $!;
    print $fh <<"_EOC_";
load_module $so;
error_log $dir/logs/error.log warn;
pid $dir/logs/nginx.pid;
$main
events {}
http {
    access_log off;
    douyin_store $dir/store;
    douyin_filesystem_url http://127.0.0.1:8000;
$http
    server {
        listen 127.0.0.1:1;
$server
    }
}
_EOC_
    close $fh;
    unlink "$dir/logs/error.log";
    my $out = `$nginx -t -p $dir/ -c $conf -e $dir/logs/error.log 2>&1`;
    my $ok = ($? == 0);

    # what nginx says once the configuration is read goes to its error log
    if (open my $log, '<', "$dir/logs/error.log") {
        local $/;
        $out .= <$log> // '';
    }

    return ($ok, $out);
}

my $rss = 'location = /rss.xml { douyin_rss; }';
my $url = '    douyin_public_url https://h/api/douyin;';

my ($ok, $out) = nginx_t('env DOUYIN_RSS_TOKEN;', $url, $rss);
ok($ok, 'a complete feed configuration passes') or diag $out;
unlike($out, qr/\[warn\]/, '... without a warning') or diag $out;

($ok, $out) = nginx_t('env DOUYIN_RSS_TOKEN;',
    "$url\n    douyin_rss_item_link 'https://h/douyin/?video=\$id';\n"
    . "    douyin_rss_token_env FEED_SECRET;", $rss);
ok($ok, 'with an item link and another token variable') or diag $out;
like($out, qr/\[warn\] douyin: add "env FEED_SECRET;" to the main context, or the feed answers 503/,
     '... which must be passed with env, or nginx -t warns');

($ok, $out) = nginx_t('env DOUYIN_RSS_TOKEN;', '', $rss);
ok($ok, 'douyin_rss without douyin_public_url starts (a gateway upgrade keeps working)');
like($out, qr/\[warn\] douyin: "douyin_rss" needs "douyin_public_url" in the http block/,
     '... but nginx -t warns');

($ok, $out) = nginx_t('', $url, $rss);
like($out, qr/\[warn\] douyin: add "env DOUYIN_RSS_TOKEN;" to the main context/,
     'no env DOUYIN_RSS_TOKEN: nginx -t warns');

($ok, $out) = nginx_t('', '', 'location /s { douyin_stats; }');
ok($ok, 'no feed, no feed settings: passes') or diag $out;
unlike($out, qr/RSS|douyin_public_url/, '... and says nothing of the feed');

my @bad = (
    [ 'an item link without $id', "$url\n    douyin_rss_item_link https://h/douyin/;",
      qr/invalid link "https:\/\/h\/douyin\/": "\$id" \(the aweme_id\) is expected in it/ ],
    [ 'an item link that is not http(s)', "$url\n    douyin_rss_item_link ftp://h/\$id;",
      qr/invalid link "ftp:\/\/h\/\$id": an http:\/\/ or https:\/\/ URL is expected/ ],
    [ 'an item link twice',
      "$url\n    douyin_rss_item_link https://h/\$id;\n    douyin_rss_item_link https://h/\$id;",
      qr/"douyin_rss_item_link" directive is duplicate/ ],
    [ 'a public URL that is not http(s)', '    douyin_public_url h/api;',
      qr/invalid URL "h\/api": an http:\/\/ or https:\/\/ URL is expected/ ],
    [ 'douyin_rss with an argument', $url, 'location /r { douyin_rss x; }',
      qr/invalid number of arguments in "douyin_rss"/ ],
    [ 'douyin_rss in the http block', "$url\n    douyin_rss;",
      qr/"douyin_rss" directive is not allowed here/ ],
    [ 'douyin_public_url in a location', '', 'location /r { douyin_public_url https://h; }',
      qr/"douyin_public_url" directive is not allowed here/ ],
);

for my $b (@bad) {
    my ($name, $http, $server, $re) = @$b;
    if (ref $server) {
        $re = $server;
        $server = $rss;
    }
    ($ok, $out) = nginx_t('env DOUYIN_RSS_TOKEN;', $http, $server);
    ok(!$ok, "nginx -t fails: $name");
    like($out, $re, "... with a clear message: $name");
    like($out, qr/nginx\.conf:\d+/, "... naming the file and line: $name");
}

done_testing();

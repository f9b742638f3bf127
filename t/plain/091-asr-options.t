# DashScope's recognition options as directives (issue 13): every bad
# value is an "nginx -t" error naming the directive's file:line.  Plain
# Test::More over the real nginx -t, as t/015-config.t.
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
    my ($http, $server) = @_;
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
    douyin_store $dir/store;
    douyin_filesystem_url http://127.0.0.1:8000;
$http
    server {
        listen 127.0.0.1:1;
        location /p { douyin_process; }
$server
    }
}
_EOC_
    close $fh;
    local $ENV{ALIYUN_ACCESS_KEY} = 'k';
    my $out = `$nginx -t -p $dir/ -c $conf -e $dir/logs/error.log 2>&1`;
    return ($? == 0, $out);
}

my ($ok, $out) = nginx_t(<<'_EOC_', <<'_EOC_');
    douyin_asr_language zh;
    douyin_asr_vocabulary vocab-douyin-1a2b3c;
    douyin_asr_diarization on speakers=2;
    douyin_asr_word_filter '{"filter_with_signed":{"word_list":["a"]},"filter_with_empty":{"word_list":["b","c"]},"system_reserved_filter":true}';
    douyin_asr_channels 0 1;
_EOC_
        location ~ ^/v/(?<id>\d+)/subtitles\.(?<f>\w+)$ { douyin_subtitles $id $f; }
        location /s { douyin_subtitles 1 srt; }
_EOC_
ok($ok, 'every recognition option and douyin_subtitles pass nginx -t') or diag $out;

($ok, $out) = nginx_t("    douyin_asr_diarization off;\n    douyin_asr_language yue;\n"
                      . "    douyin_asr_model paraformer-v2;", '');
ok($ok, 'diarization off; yue with paraformer-v2') or diag $out;

my @bad = (
    [ 'an unknown language', 'douyin_asr_language xx;',
      qr/unknown language "xx": one of zh en ja/ ],
    [ 'a language twice', "douyin_asr_language zh;\n    douyin_asr_language en;",
      qr/"douyin_asr_language" directive is duplicate/ ],
    [ 'a language the model does not read',
      "douyin_asr_model fun-asr-2025-08-25;\n    douyin_asr_language ja;",
      qr/the model "fun-asr-2025-08-25" does not read the language "ja" of "douyin_asr_language"/ ],
    [ 'yue with fun-asr', 'douyin_asr_language yue;',
      qr/the model "fun-asr" does not read the language "yue"/ ],
    [ 'language_hints with an 8k paraformer',
      "douyin_asr_model paraformer-8k-v2;\n    douyin_asr_language zh;",
      qr/does not read the language "zh"/ ],
    [ 'a vocabulary id with a space', 'douyin_asr_vocabulary "my list";',
      qr/invalid vocabulary id "my list"/ ],
    [ 'a vocabulary id of 257 characters', 'douyin_asr_vocabulary ' . ('v' x 257) . ';',
      qr/invalid vocabulary id/ ],
    [ 'diarization maybe', 'douyin_asr_diarization maybe;',
      qr/invalid value "maybe": "on" or "off" is expected/ ],
    [ 'speakers=1', 'douyin_asr_diarization on speakers=1;',
      qr/invalid parameter "speakers=1": "speakers=N" with N from 2 to 100/ ],
    [ 'speakers=101', 'douyin_asr_diarization on speakers=101;',
      qr/invalid parameter "speakers=101"/ ],
    [ 'speakers with off', 'douyin_asr_diarization off speakers=2;',
      qr/invalid parameter "speakers=2"/ ],
    [ 'speakers=x', 'douyin_asr_diarization on speakers=x;',
      qr/invalid parameter "speakers=x"/ ],
    [ 'a word filter that is not JSON', "douyin_asr_word_filter 'not json';",
      qr/invalid word filter: a JSON object is expected/ ],
    [ 'a word filter that is an array', "douyin_asr_word_filter '[1]';",
      qr/invalid word filter: a JSON object is expected/ ],
    [ 'a word filter with an unknown key', q{douyin_asr_word_filter '{"filter":1}';},
      qr/invalid word filter: unknown key "filter"/ ],
    [ 'an empty word list', q{douyin_asr_word_filter '{"filter_with_empty":{"word_list":[]}}';},
      qr/invalid word filter: "filter_with_empty" must be \{"word_list":\["word",...\]\}/ ],
    [ 'a word list with a number', q{douyin_asr_word_filter '{"filter_with_signed":{"word_list":[1]}}';},
      qr/"filter_with_signed" must be/ ],
    [ 'system_reserved_filter not a boolean',
      q{douyin_asr_word_filter '{"system_reserved_filter":"yes"}';},
      qr/"system_reserved_filter" must be true or false/ ],
    [ 'a negative channel', 'douyin_asr_channels -1;',
      qr/invalid channel "-1": a track index from 0 to 255/ ],
    [ 'channel 256', 'douyin_asr_channels 0 256;', qr/invalid channel "256"/ ],
    [ 'a channel twice', 'douyin_asr_channels 0 1 0;',
      qr/channel "0" is given twice/ ],
    [ 'channels twice', "douyin_asr_channels 0;\n    douyin_asr_channels 1;",
      qr/"douyin_asr_channels" directive is duplicate/ ],
    [ 'douyin_subtitles without its format', '', qr/invalid number of arguments in "douyin_subtitles"/,
      'location /x { douyin_subtitles 1; }' ],
    [ 'a recognition option in a location', '', qr/"douyin_asr_language" directive is not allowed here/,
      'location /x { douyin_asr_language zh; }' ],
);

for my $b (@bad) {
    my ($name, $http, $re, $server) = @$b;
    my ($ok, $out) = nginx_t("    $http", $server // '');
    ok(!$ok, "nginx -t fails: $name");
    like($out, $re, "... with a clear message: $name");
    like($out, qr/nginx\.conf:\d+/, "... naming the file and line: $name");
}

done_testing();

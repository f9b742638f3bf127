# Subtitles and plain text of a transcript (issue 13): SRT, WebVTT and
# text from DashScope's sentences and words, checked with real parsers
# (t/subcheck.py: python3-srt, python3-webvtt); word timings on request;
# speaker labels with diarization; what a provider gives out of order.
# Blocks assert in --- init (the parsers' findings), hence no_plan.
use t::Douyin;
use t::Subtitles;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_root_location();

our $ZH1 = '春天来了，西湖边的柳树都发芽了，湖面上的游船一条接着一条，岸边的游客拿着手机拍个不停。';
our $ZH2 = '到了傍晚，夕阳把整个湖面染成了金色，远处的雷峰塔在晚霞中显得格外美丽。';
our $EN1 = 'The quick brown fox jumps over the lazy dog.';
our $EN2 = 'Pack my box with five dozen liquor jugs!';
our $LONG = '一二三四五六七八九十。';

# a result document the DashScope emulator returns as is for <stem>.wav
sub emu_doc {
    my ($stem, $extra, @sentences) = @_;
    my $file = t::Emu::emu_transcripts_dir() . "/$stem.json";
    open my $fh, '>:raw', $file or die "$file: $!\n";
    print {$fh} JSON::PP->new->canonical->encode({
        transcripts => [ { channel_id => 0, text => '', %$extra,
                           sentences => \@sentences } ] });
    close $fh;
}

# [begin, end, text, punctuation] -> a DashScope word
sub w { return { begin_time => $_[0], end_time => $_[1], text => $_[2],
                 punctuation => $_[3] // '' } }

run_tests();

__DATA__

=== TEST 1: SRT and WebVTT parse, cues split at words by max_chars and 7 s
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000001', seconds => 12.0, text => [$main::ZH1, $main::ZH2]);
t::Emu::emu_wav('8000000000000000002', seconds => 6.0, text => [$main::EN1, $main::EN2]);
t::Emu::emu_wav('8000000000000000003', seconds => 20.0, text => [$main::LONG]);
my ($st, $r) = t::Douyin::douyin_post('/api/process');
Test::More::is($r && $r->{data}{success}, 3, 'three videos transcribed');
for my $f ('srt', 'vtt') {
    t::Subtitles::subs_check('8000000000000000001', $f, text => $main::ZH1 . $main::ZH2,
               audio_end => 12, min_cues => 4);
    t::Subtitles::subs_check('8000000000000000002', $f, text => "$main::EN1 $main::EN2",
               audio_end => 6, cues => 4);
    t::Subtitles::subs_check('8000000000000000002', $f, text => "$main::EN1 $main::EN2",
               query => 'max_chars=200', max_chars => 200, cues => 2);
    t::Subtitles::subs_check('8000000000000000002', $f, text => "$main::EN1 $main::EN2",
               query => 'max_chars=8', max_chars => 8, long_ok => 1,
               min_cues => 10);
    t::Subtitles::subs_check('8000000000000000003', $f, text => $main::LONG,
               audio_end => 20, cues => 4);
}
--- request
GET /api/videos/8000000000000000002/subtitles.srt
--- response_headers
Content-Type: application/x-subrip; charset=utf-8
Content-Disposition: inline; filename="8000000000000000002.srt"
--- response_body eval
"1
00:00:00,000 --> 00:00:02,000
The quick brown fox jumps over

2
00:00:02,000 --> 00:00:03,000
the lazy dog.

3
00:00:03,000 --> 00:00:05,250
Pack my box with five dozen

4
00:00:05,250 --> 00:00:06,000
liquor jugs!

"
--- no_error_log
[error]



=== TEST 2: WebVTT, plain text and HEAD
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000001', seconds => 12.0, text => [$main::ZH1, $main::ZH2]);
t::Emu::emu_wav('8000000000000000002', seconds => 6.0, text => [$main::EN1, $main::EN2]);
t::Emu::emu_wav('8000000000000000003', seconds => 20.0, text => [$main::LONG]);
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/8000000000000000002/subtitles.vtt",
  "GET /api/videos/8000000000000000002/subtitles.txt",
  "GET /api/videos/8000000000000000001/subtitles.txt",
  "HEAD /api/videos/8000000000000000003/subtitles.vtt" ]
--- response_headers eval
[ "Content-Type: text/vtt; charset=utf-8\nContent-Disposition: inline; filename=\"8000000000000000002.vtt\"",
  "Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline; filename=\"8000000000000000002.txt\"",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Type: text/vtt; charset=utf-8\nContent-Disposition: inline; filename=\"8000000000000000003.vtt\"" ]
--- response_body eval
[ "WEBVTT

00:00:00.000 --> 00:00:02.000
The quick brown fox jumps over

00:00:02.000 --> 00:00:03.000
the lazy dog.

00:00:03.000 --> 00:00:05.250
Pack my box with five dozen

00:00:05.250 --> 00:00:06.000
liquor jugs!

",
  "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!\n",
  "$::ZH1 $::ZH2\n",
  "" ]
--- no_error_log
[error]



=== TEST 3: bad format, max_chars, id and method; a video not completed names its status
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000002', seconds => 6.0, text => [$main::EN1, $main::EN2]);
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/8000000000000000002/subtitles.mp4",
  "GET /api/videos/8000000000000000002/subtitles.",
  "GET /api/videos/8000000000000000002/subtitles.srt?max_chars=7",
  "GET /api/videos/8000000000000000002/subtitles.vtt?max_chars=201",
  "GET /api/videos/8000000000000000002/subtitles.srt?max_chars=abc",
  "GET /api/videos/x800/subtitles.srt",
  "GET /api/videos/8000000000000000009/subtitles.srt",
  "POST /api/videos/8000000000000000002/subtitles.srt\n{}",
  "GET /api/videos/8000000000000000002/subtitles.srt?max_chars=8" ]
--- error_code eval
[ 400, 400, 400, 400, 400, 400, 404, 405, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"INVALID_FORMAT","detail":"Subtitles are served as srt, vtt or txt\."\}$/,
  qr/"error":"INVALID_FORMAT"/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"max_chars must be an integer from 8 to 200\."\}$/,
  qr/"error":"INVALID_QUERY"/, qr/"error":"INVALID_QUERY"/,
  qr/"error":"INVALID_AWEME_ID"/,
  qr/^\{"success":false,"error":"VIDEO_NOT_COMPLETED","detail":"The video is pending: subtitles exist once it is completed\."\}$/,
  qr/"error":"METHOD_NOT_ALLOWED"/,
  qr/^1\n00:00:00,000 --> / ]
--- response_headers eval
[ "Content-Type: application/json; charset=utf-8", "", "", "", "", "", "",
  "Allow: GET, HEAD", "" ]



=== TEST 4: a failed video and one being transcribed: 404 naming the status
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000012');
t::Emu::emu_fault('dashscope', { route => 'task', stuck => 'RUNNING', count => 1 });
t::Douyin::douyin_post('/api/process/async');
t::Douyin::douyin_wait(['8000000000000000012'], status => qr/^processing$/);
t::Emu::emu_wav('8000000000000000011');
t::Emu::emu_fault('dashscope', { route => 'file', match => '0011.wav',
                         code => 'FILE_DOWNLOAD_FAILED' });
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/8000000000000000011/subtitles.srt",
  "GET /api/videos/8000000000000000012/subtitles.vtt",
  "GET /api/videos/8000000000000000012/subtitles.txt" ]
--- error_code eval
[ 404, 404, 404 ]
--- response_body eval
[ '{"success":false,"error":"VIDEO_NOT_COMPLETED","detail":"The video is failed: subtitles exist once it is completed."}',
  '{"success":false,"error":"VIDEO_NOT_COMPLETED","detail":"The video is processing: subtitles exist once it is completed."}',
  '{"success":false,"error":"VIDEO_NOT_COMPLETED","detail":"The video is processing: subtitles exist once it is completed."}' ]
--- timeout: 10



=== TEST 5: word timings only when asked; the detail links the subtitles and has its billed seconds
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000021', seconds => 2.0, text => ['你好，世界。', 'Hello world.']);
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/8000000000000000021/result",
  "GET /api/videos/8000000000000000021/result?words=true",
  "GET /api/videos/8000000000000000021/result?words=false",
  "GET /api/videos/8000000000000000021/result?words=yes",
  "GET /api/videos/8000000000000000021",
  "GET /api/videos/8000000000000000021?words=true",
  "GET /api/videos/8000000000000000021?words=1",
  "GET /api/videos?words=true" ]
--- error_code eval
[ 200, 200, 200, 400, 200, 200, 400, 200 ]
--- response_body_like eval
[ qr/^\{"success":true,"data":\{"aweme_id":"8000000000000000021","status":"completed","text":"你好，世界。Hello world\.","segments":\[\{"start_time":0,"end_time":1,"text":"你好，世界。","confidence":null\},\{"start_time":1,"end_time":2,"text":"Hello world\.","confidence":null\}\],"confidence":null,"audio_duration":2\}\}$/,
  qr/^\{"success":true,"data":\{"aweme_id":"8000000000000000021","status":"completed","text":"[^"]+","segments":\[\{"start_time":0,"end_time":1,"text":"你好，世界。","confidence":null,"words":\[\{"start_time":0,"end_time":0\.25,"text":"你","punctuation":""\},\{"start_time":0\.25,"end_time":0\.5,"text":"好","punctuation":"，"\},\{"start_time":0\.5,"end_time":0\.75,"text":"世","punctuation":""\},\{"start_time":0\.75,"end_time":1,"text":"界","punctuation":"。"\}\]\},\{"start_time":1,"end_time":2,"text":"Hello world\.","confidence":null,"words":\[\{"start_time":1,"end_time":1\.5,"text":"Hello ","punctuation":""\},\{"start_time":1\.5,"end_time":2,"text":"world","punctuation":"\."\}\]\}\],/,
  qr/^\{"success":true,"data":\{[^{]+"segments":\[\{"start_time":0,"end_time":1,"text":"你好，世界。","confidence":null\},/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"words must be true or false\."\}$/,
  qr/^\{"aweme_id":"8000000000000000021","status":"completed",.*"transcript":\{"text":"[^"]+","segments":\[\{"start_time":0,"end_time":1,"text":"你好，世界。","confidence":null\},.*"description":null,"error":null,"asr_seconds":2,"language":null,"subtitles":\{"srt":"\/api\/videos\/8000000000000000021\/subtitles\.srt","vtt":"\/api\/videos\/8000000000000000021\/subtitles\.vtt","txt":"\/api\/videos\/8000000000000000021\/subtitles\.txt"\}\}$/,
  qr/"segments":\[\{"start_time":0,"end_time":1,"text":"你好，世界。","confidence":null,"words":\[\{"start_time":0,"end_time":0\.25,"text":"你","punctuation":""\},/,
  qr/"error":"INVALID_QUERY"/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"8000000000000000021",(?!.*"words")(?!.*"subtitles").*\}$/ ]
--- no_error_log
[error]



=== TEST 6: asr_seconds: the stats and every detail carry what DashScope billed, a tombstone keeps its seconds; no directive, no parameters
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
    location = /metrics { douyin_metrics; }
--- init
t::Emu::emu_wav('8000000000000000031', seconds => 2.5);
t::Emu::emu_wav('8000000000000000032', seconds => 3.2);
t::Emu::emu_wav('8000000000000000033', seconds => 0.4);
t::Emu::emu_wav('8000000000000000034', seconds => 1.0);
t::Emu::emu_fault('dashscope', { route => 'file', match => '0034.wav',
                         code => 'FILE_DOWNLOAD_FAILED' });
my ($st) = t::Douyin::douyin_get('/api/stats');
t::Douyin::douyin_post('/api/process');
my $usage = 0;
my $emu = t::Emu::emu_stats('dashscope');
for my $tid (keys %{ $emu->{tasks} }) {
    my $t = t::Emu::emu_task($tid);
    $usage += $t->{usage}{duration} if $t->{usage};
}
Test::More::is($usage, 3 + 4 + 1, 'the emulator billed ceil(seconds) per task');
my ($s, $stats) = t::Douyin::douyin_get('/api/stats');
Test::More::is($stats->{asr_seconds}, $usage, 'stats: asr_seconds is the sum of usage.duration');
Test::More::is($stats->{asr_seconds_30d}, $usage, 'stats: all of it in the last 30 days');
my $sum = 0;
for my $id (31 .. 34) {
    my (undef, $d) = t::Douyin::douyin_get("/api/videos/80000000000000000$id");
    $sum += $d->{asr_seconds} // 0;
    Test::More::is($d->{asr_seconds}, undef, 'a failed video: asr_seconds null') if $id == 34;
}
Test::More::is($sum, $usage, 'the details add up to the stats');
# no recognition directive: the submit's parameters are {}
Test::More::is(scalar @{ $emu->{submit_bodies} }, 4, 'four submits recorded');
Test::More::is_deeply([ map { $_->{parameters} } @{ $emu->{submit_bodies} } ],
          [ {}, {}, {}, {} ], 'parameters: {} in every submit');
t::Douyin::douyin_get('/api/stats');
--- request eval
[ "GET /metrics", "DELETE /api/videos/8000000000000000032?keep_file=true",
  "GET /api/stats" ]
--- response_body_like eval
[ qr/\ndouyin_billed_audio_seconds_total 8\n/, qr/"success":true/,
  qr/^\{"total":3,"completed":2,"processing":0,"failed":1,"pending":0,"success_rate":0\.67,"listing_age":\d+,"asr_seconds":8,"asr_seconds_30d":8\}$/ ]
--- timeout: 20
--- no_error_log
[error]



=== TEST 7: diarization on with speakers=3: speaker_id in the result, labels in both formats
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_diarization on speakers=3;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000041', seconds => 8.0,
        text => ['你好，我是第一个说话的人。', '我是第二个。', '我是第三个人，我说的话比较长，要分成好几段字幕才能显示完整，所以请大家耐心地听我把话说完。', '又轮到我了。']);
t::Douyin::douyin_post('/api/process');
my $text = '你好，我是第一个说话的人。我是第二个。我是第三个人，我说的话比较长，要分成好几段字幕才能显示完整，所以请大家耐心地听我把话说完。又轮到我了。';
for my $f ('srt', 'vtt') {
    my $r = t::Subtitles::subs_check('8000000000000000041', $f, text => $text,
                       speakers => 1, audio_end => 8, min_cues => 5);
    Test::More::is_deeply([ sort { $a <=> $b } keys %{ { map { $_ => 1 } @{ $r->{labels} || [] } } } ],
              [1, 2, 3], "$f: speakers 1, 2 and 3 are labelled");
}
my $emu = t::Emu::emu_stats('dashscope');
Test::More::is_deeply($emu->{submit_bodies}[0]{parameters},
          { diarization_enabled => JSON::PP::true, speaker_count => 3 },
          'the submit asks DashScope for diarization with 3 speakers');
--- request eval
[ "GET /api/videos/8000000000000000041/result",
  "GET /api/videos/8000000000000000041/subtitles.srt?max_chars=200",
  "GET /api/videos/8000000000000000041/subtitles.vtt?max_chars=200" ]
--- response_body_like eval
[ qr/"segments":\[\{"start_time":0,"end_time":2,"text":"你好，我是第一个说话的人。","confidence":null,"speaker_id":0\},\{"start_time":2,"end_time":4,"text":"我是第二个。","confidence":null,"speaker_id":1\},\{[^}]+"speaker_id":2\},\{[^}]+"speaker_id":0\}\]/,
  qr/^1\n00:00:00,000 --> 00:00:02,000\n说话人1：你好，我是第一个说话的人。\n\n2\n00:00:02,000 --> 00:00:04,000\n说话人2：我是第二个。\n\n3\n00:00:04,000 --> 00:00:06,000\n说话人3：我是第三个人，.*\n\n4\n00:00:06,000 --> 00:00:08,000\n说话人1：又轮到我了。\n\n$/s,
  qr/^WEBVTT\n\n00:00:00\.000 --> 00:00:02\.000\n<v Speaker 1>你好，我是第一个说话的人。\n\n00:00:02\.000 --> 00:00:04\.000\n<v Speaker 2>我是第二个。\n\n.*<v Speaker 1>又轮到我了。\n\n$/s ]
--- timeout: 20
--- no_error_log
[error]



=== TEST 8: every recognition directive reaches the submit's parameters; two channels at the same times make one cue
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_language zh;
    douyin_asr_vocabulary vocab-douyin-2026.v1;
    douyin_asr_diarization off;
    douyin_asr_word_filter '{"filter_with_signed":{"word_list":["测试"]},"system_reserved_filter":false}';
    douyin_asr_channels 0 1;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000051', seconds => 2.0, channels => 2, text => ['双声道。']);
t::Douyin::douyin_post('/api/process');
my $emu = t::Emu::emu_stats('dashscope');
my $filter = '{"filter_with_signed":{"word_list":["测试"]},"system_reserved_filter":false}';
utf8::decode($filter);
Test::More::is_deeply($emu->{submit_bodies}[0]{parameters},
          { language_hints => ['zh'], vocabulary_id => 'vocab-douyin-2026.v1',
            diarization_enabled => JSON::PP::false,
            special_word_filter => $filter,
            channel_id => [0, 1] },
          'language_hints, vocabulary_id, diarization_enabled, special_word_filter, channel_id');
--- request eval
[ "GET /api/videos/8000000000000000051/result",
  "GET /api/videos/8000000000000000051/subtitles.srt" ]
--- response_body_like eval
[ qr/"status":"completed","text":"双声道。 双声道。","segments":\[\{[^}]+\},\{[^}]+\}\]/,
  qr/^1\n00:00:00,000 --> 00:00:02,000\n双声道。 双声道。\n\n$/ ]
--- timeout: 20
--- no_error_log
[error]




=== TEST 9: what a provider gives out of order still makes valid, monotonic cues
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('8000000000000000061', seconds => 8.0);
my @b = split //, do { my $t = '第一句话，和第二句重叠。'; utf8::decode($t); $t };
main::emu_doc('8000000000000000061', {},
    # words given backwards
    { sentence_id => 1, begin_time => 3000, end_time => 5000,
      text => '第二句话在这里。',
      words => [ reverse(main::w(3000, 3300, '第'), main::w(3300, 3600, '二'),
                 main::w(3600, 3900, '句'), main::w(3900, 4200, '话'),
                 main::w(4200, 4500, '在'), main::w(4500, 4800, '这'),
                 main::w(4800, 5000, '里', '。')) ] },
    # overlaps the sentence above
    { sentence_id => 2, begin_time => 0, end_time => 3500,
      text => '第一句话，和第二句重叠。',
      words => [ main::w(0, 300, '第'), main::w(300, 600, '一'),
                 main::w(600, 900, '句'), main::w(900, 1200, '话', '，'),
                 main::w(1200, 1500, '和'), main::w(1500, 1800, '第'),
                 main::w(1800, 2100, '二'), main::w(2100, 2400, '句'),
                 main::w(2400, 3000, '重'), main::w(3000, 3500, '叠', '。') ] },
    # no words at all
    { sentence_id => 3, begin_time => 5000, end_time => 6000,
      text => '没有词的句子。' },
    # past the end of the 8 s audio
    { sentence_id => 4, begin_time => 9000, end_time => 12000,
      text => '超过音频结尾。',
      words => [ main::w(9000, 10000, '超过'), main::w(10000, 11000, '音频'),
                 main::w(11000, 12000, '结尾', '。') ] },
    # markup, a line break, a word of no length, a broken word
    { sentence_id => 5, begin_time => 6000, end_time => 7000,
      text => "A <b>bold</b> & x\nnext zero",
      words => [ main::w(6000, 6200, 'A '), main::w(6200, 6400, '<b>bold</b> '),
                 main::w(6400, 6600, '& '), main::w(6600, 7000, "x\nnext", ' '),
                 main::w(7000, 7000, 'zero'),
                 { begin_time => 'soon', end_time => 1, text => '坏' } ] });
t::Emu::emu_wav('8000000000000000062', seconds => 8.0);
main::emu_doc('8000000000000000062', { language => 'zh' },
    { sentence_id => 1, begin_time => 0, end_time => 4000,
      text => '春眠不觉晓，处处闻啼鸟。' },
    { sentence_id => 2, begin_time => 4000, end_time => 8000,
      text => '夜来风雨声，花落知多少。' });
t::Emu::emu_wav('8000000000000000063', seconds => 8.0);
main::emu_doc('8000000000000000063', {},
    { sentence_id => 1, begin_time => 0, end_time => 1000, text => 'One.' },
    { sentence_id => 2, begin_time => 1200, end_time => 2000, text => 'Two.' },
    { sentence_id => 3, begin_time => 4000, end_time => 5000, text => 'Three.' },
    { sentence_id => 4, begin_time => 5100, end_time => 6000,
      text => 'x' x 130 },
    { sentence_id => 5, begin_time => 6100, end_time => 7000, text => 'Four.' });
t::Emu::emu_wav('8000000000000000064', seconds => 1.0);
main::emu_doc('8000000000000000064', {},
    { sentence_id => 1, begin_time => 0, end_time => 1000,
      text => 'a --> b' });
t::Emu::emu_wav('8000000000000000065', seconds => 0);
t::Douyin::douyin_post('/api/process');
my $text = '第一句话，和第二句重叠。第二句话在这里。没有词的句子。'
           . 'A <b>bold</b> & x next zero 超过音频结尾。';
for my $f ('srt', 'vtt') {
    t::Subtitles::subs_check('8000000000000000061', $f, text => $text, audio_end => 8,
               min_cues => 4);
    t::Subtitles::subs_check('8000000000000000061', $f, text => $text, audio_end => 8,
               query => 'max_chars=8', max_chars => 8, long_ok => 1,
               min_cues => 6);
    t::Subtitles::subs_check('8000000000000000062', $f, audio_end => 8,
               text => '春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。',
               query => 'max_chars=8', max_chars => 8, cues => 4);
    # no speech: a completed, empty transcript
    t::Subtitles::subs_check('8000000000000000065', $f, text => '', cues => 0);
}
--- request eval
[ "GET /api/videos/8000000000000000061/subtitles.srt",
  "GET /api/videos/8000000000000000062/result?words=true",
  "GET /api/videos/8000000000000000062",
  "GET /api/videos/8000000000000000062/subtitles.srt?max_chars=8",
  "GET /api/videos/8000000000000000063/subtitles.txt",
  "GET /api/videos/8000000000000000064/subtitles.srt",
  "GET /api/videos/8000000000000000064/subtitles.vtt",
  "GET /api/videos/8000000000000000061/subtitles.vtt",
  "GET /api/videos/8000000000000000065/subtitles.txt",
  "GET /api/videos/8000000000000000065/subtitles.vtt" ]
--- response_body_like eval
[ qr/^1\n00:00:00,000 --> 00:00:03,000\n第一句话，和第二句重叠。\n\n2\n00:00:03,000 --> 00:00:05,000\n第二句话在这里。\n\n3\n00:00:05,000 --> 00:00:06,000\n没有词的句子。\n\n4\n00:00:06,000 --> 00:00:07,000\nA <b>bold<\/b> & x next zero\n\n5\n00:00:07,000 --> 00:00:08,000\n超过音频结尾。\n\n$/s,
  qr/"segments":\[\{"start_time":0,"end_time":4,"text":"春眠不觉晓，处处闻啼鸟。","confidence":null,"words":null\},/,
  qr/"error":null,"asr_seconds":8,"language":"zh","subtitles":\{/,
  qr/^1\n00:00:00,000 --> 00:00:02,666\n春眠不觉晓，处处\n\n2\n00:00:02,666 --> 00:00:04,000\n闻啼鸟。\n\n3\n00:00:04,000 --> 00:00:06,666\n夜来风雨声，花落\n\n/,
  qr/^One\. Two\.\nThree\. x{130}\nFour\.\n$/,
  qr/^1\n00:00:00,000 --> 00:00:01,000\na -> b\n\n$/,
  qr/^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.000\na --&gt; b\n\n$/,
  qr/\nA &lt;b&gt;bold&lt;\/b&gt; &amp; x next/,
  qr/^$/, qr/^WEBVTT\n\n$/ ]
--- timeout: 20
--- no_error_log
[error]

# The collector-fed workflow (issue 10, api.md "The collector-fed
# workflow"): the collector's push and question, process/pending,
# tombstone deletes under both path families, the list's new filters and
# fields, and the newer file-system-go (douyin_filesystem_api 2).
use t::Douyin;
use Test::Nginx::Socket 'no_plan';   # --- init asserts (TEST 1, 2, 14, 15)

use Encode ();
use JSON::PP ();

master_on();
repeat_each(1);
no_root_location();

our $ID = '7609169800750206794';

# the UTF-8 bytes of a decoded JSON string (this file is not "use utf8")
sub b { defined $_[0] ? Encode::encode_utf8($_[0]) : undef }

# the provider's submits so far (every one is billed)
sub submits { t::Emu::emu_stats('dashscope')->{submits} }

sub push_body {
    my (%o) = @_;
    return JSON::PP->new->canonical->encode({
        audio_filename => "$ID.wav", title => '推送的标题', author => '作者',
        description => '推送的描述 #话题', video_publish_time =>
        '2026-02-27T12:00:00+08:00', %o });
}

run_tests();

__DATA__

=== TEST 1: the collector's two calls and the later front end's six, in order, with every field they read
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
my $J = JSON::PP->new->utf8;
my $num = qr/^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i;

# the collector: is the video known?  (then it uploads the WAV)
my ($st, $j) = t::Douyin::douyin_get("/api/aweme/$main::ID/status");
Test::More::is($st, 200, 'collector status: 200');
Test::More::is_deeply($j, { known => JSON::PP::false, status => undef,
                audio_filename => undef }, 'collector status: unknown');

# the sidecar's metadata loses to the push; it has no upload time
t::Emu::emu_wav($main::ID, seconds => 2, meta => { title => 'sidecar title',
        author => 'sidecar author', description => 'sidecar' },
        text => ['第一句话。', '第二句话。']);

# the collector pushes it
($st, $j) = t::Douyin::douyin_post("/api/aweme/$main::ID/pending", main::push_body());
Test::More::is($st, 200, 'collector push: 200');
Test::More::is($j->{success}, JSON::PP::true, 'collector push: success');
Test::More::like($j->{message} // '', qr/pending/, 'collector push: message');

($st, $j) = t::Douyin::douyin_get("/api/aweme/$main::ID/status");
Test::More::is_deeply($j, { known => JSON::PP::true, status => 'pending',
                audio_filename => "$main::ID.wav" }, 'collector status: pending');

# the front end: the list leaves pending videos out; the stats count them
($st, $j) = t::Douyin::douyin_get('/api/videos?page=1&page_size=100');
Test::More::is($st, 200, 'front end list: 200');
Test::More::is($j->{total_count}, 0, 'front end list: pending left out');
Test::More::is_deeply($j->{videos}, [], 'front end list: no video');

($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($st, 200, 'front end stats: 200');
Test::More::is($j->{$_}, { total => 1, completed => 0, processing => 0, failed => 0,
               pending => 1 }->{$_}, "front end stats: $_")
    for qw(total completed processing failed pending);
Test::More::like($j->{success_rate}, $num, 'front end stats: success_rate is a number');

# the front end's button
($st, $j) = t::Douyin::douyin_post('/api/process/pending', '{}');
Test::More::is($st, 200, 'process/pending: 200');
Test::More::is($j->{success}, JSON::PP::true, 'process/pending: success');
Test::More::is($j->{data}{pending}, 1, 'process/pending: data.pending');
Test::More::like($j->{message} // '', qr/\S/, 'process/pending: message');

t::Douyin::douyin_wait([$main::ID]);

($st, $j) = t::Douyin::douyin_get('/api/videos?page=1&page_size=100');
Test::More::is($j->{total_count}, 1, 'list: total_count');
Test::More::is($j->{page}, 1, 'list: page');
Test::More::is($j->{page_size}, 100, 'list: page_size');
my $v = $j->{videos}[0];
Test::More::is($v->{aweme_id}, $main::ID, 'item: aweme_id');
Test::More::is($v->{status}, 'completed', 'item: status');
Test::More::is(main::b($v->{title}), '推送的标题', 'item: the pushed title wins');
Test::More::is(main::b($v->{author}), '作者', 'item: the pushed author wins');
Test::More::like($v->{audio_url}, qr{^http://127\.0\.0\.1:\d+/audio/$main::ID\.wav$},
     'item: audio_url');
Test::More::is($v->{video_publish_time}, '2026-02-27T12:00:00+08:00',
   'item: video_publish_time');
Test::More::like($v->{pending_at}, qr/^\d+$/, 'item: pending_at, Unix s');
Test::More::like($v->{upload_time} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     'item: upload_time is the push time (no upload time from file-system-go)');
Test::More::like($v->{processed_at}, qr/^\d+$/, 'item: processed_at');
Test::More::is($v->{is_read}, JSON::PP::false, 'item: is_read');
Test::More::is($v->{read_at}, undef, 'item: read_at');
my $t = $v->{transcript};
Test::More::is(main::b($t->{text}), '第一句话。第二句话。', 'item: transcript.text');
Test::More::is($t->{confidence}, undef, 'item: transcript.confidence is null');
Test::More::like($t->{audio_duration}, $num, 'item: transcript.audio_duration');
Test::More::cmp_ok($t->{audio_duration}, '>', 1.9, 'item: the real length');
Test::More::is(scalar @{ $t->{segments} }, 2, 'item: two segments');
for my $s (@{ $t->{segments} }) {
    Test::More::like($s->{$_}, $num, "segment: $_") for qw(start_time end_time);
    Test::More::like($s->{text}, qr/\S/, 'segment: text');
    Test::More::ok(exists $s->{confidence}, 'segment: confidence');
}

($st, $j) = t::Douyin::douyin_get("/api/videos/$main::ID");
Test::More::is($st, 200, 'detail: 200');
Test::More::is(main::b($j->{description}), '推送的描述 #话题',
   'detail: the pushed description');
Test::More::is($j->{error}, undef, 'detail: error');
Test::More::is($j->{$_}, $v->{$_}, "detail: $_ as in the list")
    for qw(aweme_id status title author audio_url upload_time
           video_publish_time pending_at processed_at is_read read_at);

# the two deletes of the later front end: 200 with a JSON body
my $res;
($st, $j, $res) = t::Douyin::douyin_req('DELETE', "/api/aweme/$main::ID?keep_file=true");
Test::More::is($st, 200, 'delete (keep_file): 200');
Test::More::is($j->{success}, JSON::PP::true, 'delete (keep_file): JSON success');

($st, $j) = t::Douyin::douyin_get('/api/videos?page=1&page_size=100');
Test::More::is($j->{total_count}, 0, 'list: the tombstone is left out');
($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($j->{completed}, 0, 'stats: the tombstone is not counted');
Test::More::is($j->{total}, 0, 'stats: nor is its WAV, still listed');
($st, $j) = t::Douyin::douyin_get("/api/aweme/$main::ID/status");
Test::More::is($j->{status}, 'deleted', 'collector status: deleted');

($st, $j, $res) = t::Douyin::douyin_req('DELETE', "/api/aweme/$main::ID");
Test::More::is($st, 200, 'delete with the file: 200');
Test::More::is($j->{success}, JSON::PP::true, 'delete with the file: JSON success');
Test::More::is_deeply(t::Emu::emu_stats('fsgo')->{deleted}, ["$main::ID.wav"],
          'delete with the file: the WAV is deleted on file-system-go');
Test::More::is(main::submits(), 1, 'one provider submit in all');
--- request
GET /api/videos?status=deleted
--- response_body_like: ^\{"total_count":1,"videos":\[\{"aweme_id":"7609169800750206794","status":"deleted","title":"推送的标题",.*"transcript":null,.*\],"page":1,"page_size":20\}$
--- timeout: 20
--- no_error_log
[error]



=== TEST 2: a tombstone is sticky: /api/process, a re-push and process/pending never submit it again
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav($main::ID);
my ($st, $j) = t::Douyin::douyin_post('/api/process');
Test::More::is($j->{data}{processed}, 1, 'processed once');
Test::More::is(main::submits(), 1, 'one submit');
($st, $j) = t::Douyin::douyin_req('DELETE', "/api/videos/$main::ID?keep_file=true");
Test::More::is($st, 200, 'deleted, the file kept');
($st, $j) = t::Douyin::douyin_post('/api/process');
Test::More::is($j->{data}{processed}, 0, '/api/process: nothing processed');
($st, $j) = t::Douyin::douyin_post("/api/aweme/$main::ID/pending", main::push_body());
Test::More::is($st, 200, 're-push: 200');
Test::More::like($j->{message}, qr/already deleted/, 're-push: says it is deleted');
($st, $j) = t::Douyin::douyin_post('/api/process/pending', '{}');
Test::More::is($j->{data}{pending}, 0, 'process/pending: nothing');
($st, $j) = t::Douyin::douyin_post('/api/process/async');
Test::More::is($j->{data}{pending}, 0, '/api/process/async: nothing');
Test::More::is(main::submits(), 1, 'zero new provider submits');
--- request eval
[ "GET /api/videos/$::ID", "GET /api/videos/$::ID/result",
  "GET /api/videos?status=deleted", "GET /api/stats" ]
--- response_body_like eval
[ qr/^\{"aweme_id":"7609169800750206794","status":"deleted",.*"transcript":null,.*"error":null,"asr_seconds":null,"language":null,"subtitles":null\}$/,
  qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206794","status":"deleted","message":"[^"]+"\}\}$/,
  qr/^\{"total_count":1,/,
  qr/^\{"total":0,"completed":0,"processing":0,"failed":0,"pending":0,/ ]
--- timeout: 20
--- no_error_log
[error]



=== TEST 3: bad pushes: 400 naming the field, 413, 405; nothing is stored
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
my $p = "POST /api/aweme/$::ID/pending\n";
[ $p . '{"title":"t"}',
  $p . '{"audio_filename":""}',
  $p . '{"audio_filename":"' . ('1' x 252) . '.wav"}',
  $p . '{"audio_filename":"a/b.wav"}',
  $p . '{"audio_filename":"..wav"}',
  $p . '{"audio_filename":"a\u0000.wav"}',
  $p . '{"audio_filename":"a.mp3"}',
  $p . '{"audio_filename":5}',
  $p . '{"audio_filename":"a.wav","title":1}',
  $p . '{"audio_filename":"a.wav","author":null}',
  $p . '{"audio_filename":"a.wav","description":["x"]}',
  $p . '{"audio_filename":"a.wav","video_publish_time":"yesterday"}',
  $p . '{"audio_filename":"a.wav","video_publish_time":5}',
  $p . 'not json',
  $p . '["a.wav"]',
  $p . '{"audio_filename":"a.wav","title":"' . ('x' x 70000) . '"}',
  "POST /api/aweme/x12/pending\n" . '{"audio_filename":"a.wav"}',
  "POST /api/aweme/" . ('1' x 33) . "/pending\n" . '{"audio_filename":"a.wav"}',
  "GET /api/aweme/$::ID/pending",
  "GET /api/aweme/$::ID/status",
  "GET /api/videos?status=pending" ]
--- error_code eval
[ (400) x 15, 413, 400, 400, 405, 200, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"INVALID_BODY","detail":".*audio_filename.*"\}$/,
  (qr/"error":"INVALID_BODY","detail":".*audio_filename/) x 4,
  qr/"error":"INVALID_BODY","detail":".*NUL.*audio_filename/,
  (qr/"error":"INVALID_BODY","detail":".*audio_filename/) x 2,
  qr/"detail":".*title/, qr/"detail":".*author/,
  qr/"detail":".*description/,
  (qr/"detail":".*video_publish_time/) x 2,
  (qr/"error":"INVALID_BODY"/) x 2,
  qr/"error":"BODY_TOO_LARGE"/,
  (qr/"error":"INVALID_AWEME_ID"/) x 2,
  qr/"error":"METHOD_NOT_ALLOWED"/,
  qr/^\{"known":false,"status":null,"audio_filename":null\}$/,
  qr/^\{"total_count":0,"videos":\[\],/ ]
--- no_error_log
[error]



=== TEST 4: unknown fields are ignored; a re-push updates a pending video; status of an unknown id
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
my $p = "POST /api/aweme/$::ID/pending\n";
[ $p . '{"audio_filename":"' . $::ID . '.wav","extra":{"x":[1]},"title":"一"}',
  $p . '{"audio_filename":"' . $::ID . '.wav","title":"二","video_publish_time":null}',
  "GET /api/aweme/$::ID/status",
  "GET /api/videos/$::ID",
  "GET /api/videos?status=pending",
  "GET /api/videos/$::ID/result",
  "GET /api/aweme/42/status",
  "GET /api/aweme/x/status" ]
--- error_code eval
[ 200, 200, 200, 200, 200, 200, 200, 400 ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7609169800750206794 is pending\."\}$/,
  qr/"success":true/,
  qr/^\{"known":true,"status":"pending","audio_filename":"7609169800750206794\.wav"\}$/,
  qr/^\{"aweme_id":"7609169800750206794","status":"pending","title":"二","author":null,"audio_url":"[^"]+\/audio\/7609169800750206794\.wav","transcript":null,"processed_at":null,"upload_time":"[-0-9T:]+Z","video_publish_time":null,"pending_at":\d+,"is_read":false,"read_at":null,"description":null,"error":null,"asr_seconds":null,"language":null,"subtitles":null\}$/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"7609169800750206794","status":"pending",/,
  qr/"status":"pending"/,
  qr/^\{"known":false,"status":null,"audio_filename":null\}$/,
  qr/"error":"INVALID_AWEME_ID"/ ]
--- no_error_log
[error]



=== TEST 5: a push does not reset a completed video, nor a processing one
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav($main::ID);
t::Emu::emu_wav('7000000000000000002');
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('dashscope', { route => 'task', stuck => 'RUNNING' });
t::Douyin::douyin_post('/api/process/async');
t::Emu::emu_wav('7000000000000000003');
t::Douyin::douyin_post('/api/process/async');
t::Douyin::douyin_wait(['7000000000000000003'], status => qr/^processing$/);
--- request eval
[ "POST /api/aweme/$::ID/pending\n" . main::push_body(),
  "GET /api/videos/$::ID",
  "POST /api/aweme/7000000000000000003/pending\n" . main::push_body(),
  "GET /api/aweme/7000000000000000003/status",
  "POST /api/process/pending\n{}" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7609169800750206794 is already completed; nothing was changed\."\}$/,
  qr/"status":"completed","title":null,.*"transcript":\{"text":"[^"]+"/,
  qr/already processing/,
  qr/"status":"processing"/,
  qr/^\{"success":false,"message":"[^"]+","data":\{"pending":0\}\}$/ ]
--- timeout: 20



=== TEST 6: process/pending: a pushed video whose WAV is not listed stays pending; a failing listing changes nothing
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Douyin::douyin_post("/api/aweme/$main::ID/pending", main::push_body());
t::Douyin::douyin_post("/api/aweme/7000000000000000009/pending",
            '{"audio_filename":"custom name.wav"}');
t::Emu::emu_fault('fsgo', { route => 'query', status => 500, count => 1 });
--- request
POST /api/process/pending
{}
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_BAD_RESPONSE","detail":"[^"]+"\}$
--- error_log
file-system-go listing answered HTTP 500



=== TEST 7: a pushed video whose file is not listed stays pending; process/pending then says there is nothing to do
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Douyin::douyin_post("/api/aweme/$main::ID/pending", main::push_body());
t::Douyin::douyin_post("/api/aweme/7000000000000000009/pending",
            '{"audio_filename":"custom name.wav"}');
--- request eval
[ "GET /api/aweme/$::ID/status",
  "POST /api/process/pending",
  "GET /api/aweme/$::ID/status",
  "GET /api/stats" ]
--- response_body_like eval
[ qr/"status":"pending"/,
  qr/^\{"success":true,"message":"[^"]+","data":\{"pending":0\}\}$/,
  qr/"status":"pending"/,
  qr/^\{"total":0,"completed":0,"processing":0,"failed":0,"pending":2,/ ]



=== TEST 8: once listed (under any plain name), the pushed videos are transcribed; stats' total counts the <aweme_id>.wav files listed
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Douyin::douyin_post("/api/aweme/$main::ID/pending", main::push_body());
t::Douyin::douyin_post("/api/aweme/7000000000000000009/pending",
            '{"audio_filename":"custom name.wav"}');
t::Emu::emu_wav($main::ID, text => '你好。');
t::Emu::emu_wav('7000000000000000009', name => 'custom name.wav', text => 'Hi.');
my ($st, $j) = t::Douyin::douyin_post('/api/process/pending', '{}');
die "process/pending: $st\n" unless $st == 200 && $j->{data}{pending} == 2;
t::Douyin::douyin_wait([$main::ID, '7000000000000000009']);
--- request eval
[ "GET /api/videos/7000000000000000009", "GET /api/videos/$::ID/result",
  "GET /api/stats" ]
--- response_body_like eval
[ qr/"status":"completed",.*"audio_url":"[^"]+\/audio\/custom%20name\.wav","transcript":\{"text":"Hi\."/,
  qr/"status":"completed","text":"你好。",.*"title":"推送的标题"/,
  qr/^\{"total":1,"completed":2,"processing":0,"failed":0,"pending":0,/ ]
--- timeout: 20



=== TEST 9: deletes: a listed video never processed (keep_file) becomes a tombstone; an unknown id is 404; file-system-go failing changes nothing
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('11');
t::Emu::emu_wav('12');
t::Douyin::douyin_post('/api/process');
t::Emu::emu_wav('13');
t::Emu::emu_fault('fsgo', { route => 'delete', status => 500, count => 1 });
--- request eval
[ "DELETE /api/aweme/12",
  "GET /api/aweme/12/status",
  "DELETE /api/aweme/13?keep_file=true",
  "DELETE /api/aweme/99?keep_file=true",
  "DELETE /api/aweme/99",
  "DELETE /api/aweme/13?keep_file=true",
  "DELETE /api/aweme/13?keep_file=yes",
  "GET /api/aweme/13",
  "POST /api/process",
  "GET /api/videos?status=deleted",
  "GET /api/stats" ]
--- error_code eval
[ 502, 200, 200, 404, 404, 200, 400, 405, 200, 200, 200 ]
--- response_body_like eval
[ qr/"error":"FILESYSTEM_BAD_RESPONSE"/,
  qr/"status":"completed"/,
  qr/^\{"success":true,"message":"Video 13 deleted, its file was kept; it will not be transcribed again\."\}$/,
  qr/"error":"VIDEO_NOT_FOUND"/, qr/"error":"VIDEO_NOT_FOUND"/,
  qr/"success":true/,
  qr/"error":"INVALID_QUERY"/,
  qr/"error":"METHOD_NOT_ALLOWED"/,
  qr/"total":3,"processed":0,/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"13","status":"deleted",/,
  qr/^\{"total":2,"completed":2,"processing":0,"failed":0,"pending":0,/ ]
--- response_headers eval
[ "", "", "", "", "", "", "", "Allow: DELETE", "", "", "" ]
--- timeout: 20



=== TEST 10: read, unread under /api/aweme/; status=unread|read; page_size up to 1000
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('21', '22', '23');
t::Douyin::douyin_post('/api/process');
--- request eval
[ "POST /api/aweme/21/read\n{\"is_read\":true}",
  "POST /api/aweme/22/read\n{\"is_read\":true}",
  "POST /api/aweme/22/unread",
  "GET /api/videos?status=read",
  "GET /api/videos?status=unread&page_size=1000",
  "GET /api/videos?status=read&is_read=false",
  "GET /api/videos?page_size=1001",
  "GET /api/videos?status=gone",
  "POST /api/aweme/99/unread",
  "GET /api/aweme/21/unread",
  "GET /emu/fsgo/stats" ]
--- error_code eval
[ 200, 200, 200, 200, 200, 200, 400, 400, 404, 405, 200 ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 21 marked read\."\}$/,
  qr/marked read/,
  qr/^\{"success":true,"message":"Video 22 marked unread\."\}$/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"21",.*"is_read":true,/,
  qr/^\{"total_count":2,"videos":\[\{"aweme_id":"23",.*\{"aweme_id":"22",.*\],"page":1,"page_size":1000\}$/,
  qr/^\{"total_count":0,"videos":\[\]/,
  qr/"error":"INVALID_QUERY"/, qr/"error":"INVALID_QUERY"/,
  qr/"error":"VIDEO_NOT_FOUND"/, qr/"error":"METHOD_NOT_ALLOWED"/,
  qr/"marked":\["21\.wav","22\.wav"\]/ ]
--- timeout: 20



=== TEST 11: the newer file-system-go (douyin_filesystem_api 2): /api/files/query, no metadata call, DELETE /api/files/<f>
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_filesystem_api 2;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('fsgo', { api => '2' });
t::Emu::emu_wav($main::ID, meta => { title => 'sidecar' });
t::Douyin::douyin_post("/api/aweme/$main::ID/pending", main::push_body(title => 'pushed'));
t::Emu::emu_wav('7000000000000000001');
--- request eval
[ "POST /api/process",
  "POST /api/aweme/$::ID/read\n{\"is_read\":true}",
  "GET /api/videos/$::ID",
  "DELETE /api/aweme/7000000000000000001",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processed 2 of 2 videos: 2 completed, 0 failed\.",/,
  qr/marked read/,
  qr/"status":"completed","title":"pushed",.*"is_read":true,/,
  qr/"success":true/,
  qr/"requests":\{.*"query":[1-9]\d*,"metadata":0,.*"marked":\[\],"deleted":\["7000000000000000001\.wav"\]/ ]
--- timeout: 20
--- no_error_log
[error]



=== TEST 12: a module configured for 1.5 does not fall back to the newer routes
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('fsgo', { api => '2' });
t::Emu::emu_wav($main::ID);
--- request
POST /api/process
--- error_code: 502
--- response_body_like: "error":"FILESYSTEM_BAD_RESPONSE"
--- error_log
file-system-go listing answered HTTP 404



=== TEST 13: a module configured for 1.5 asks the newer server nothing of its routes
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('fsgo', { api => '2' });
t::Emu::emu_wav($main::ID);
t::Douyin::douyin_post('/api/process');
--- request
GET /emu/fsgo/stats
--- response_body_like: "requests":\{"health":\d+,"query":0,



=== TEST 14: a store made format 1 again, the workers restarted: upgraded in place, the video still there
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav($main::ID, meta => { title => 'kept' });
t::Douyin::douyin_post('/api/process');
my $store = "$ENV{TEST_NGINX_SERVER_ROOT}/html/store";
Test::More::like(`mdb_dump -p -s meta '$store'`, qr/^ format_version\n 3\n/m,
     'the store says format 3');
open my $fh, '|-', "mdb_load -T -s meta '$store'" or die "mdb_load: $!\n";
print $fh "format_version\n1\n";
close $fh or die "mdb_load failed\n";
Test::More::like(`mdb_dump -p -s meta '$store'`, qr/^ format_version\n 1\n/m,
     'the store says format 1');
t::Douyin::douyin_reload();
--- request
GET /api/videos/7609169800750206794
--- response_body_like: "status":"completed","title":"kept"
--- timeout: 20
--- error_log
upgraded from format version 1 to 2



=== TEST 15: a store upgraded from format 1 takes tombstones
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav($main::ID, meta => { title => 'kept' });
t::Douyin::douyin_post('/api/process');
my $store = "$ENV{TEST_NGINX_SERVER_ROOT}/html/store";
Test::More::like(`mdb_dump -p -s meta '$store'`, qr/^ format_version\n 3\n/m,
     'the store says format 3');
open my $fh, '|-', "mdb_load -T -s meta '$store'" or die "mdb_load: $!\n";
print $fh "format_version\n1\n";
close $fh or die "mdb_load failed\n";
Test::More::like(`mdb_dump -p -s meta '$store'`, qr/^ format_version\n 1\n/m,
     'the store says format 1');
t::Douyin::douyin_reload();
--- request eval
[ "DELETE /api/aweme/$::ID?keep_file=true", "GET /api/videos?status=deleted" ]
--- response_body_like eval
[ qr/"success":true/, qr/^\{"total_count":1,/ ]
--- timeout: 20
--- no_error_log
[error]



=== TEST 16: a push of 40 KiB, beyond nginx's body buffer (16 KiB: nginx keeps it in its temporary file), is stored whole
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
my $p = "POST /api/aweme/$::ID/pending\n";
[ $p . '{"audio_filename":"' . $::ID . '.wav","description":"'
     . ('d' x 40000) . '"}',
  "GET /api/videos/$::ID" ]
--- error_code eval
[ 200, 200 ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7609169800750206794 is pending\."\}$/,
  qr/"status":"pending",.*"description":"d{40000}"/ ]
--- no_error_log
[error]

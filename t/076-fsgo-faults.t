# What the real file-system-go does that the module must not miss: an
# upper-case ".WAV" (its name filter is case-sensitive), the files it
# lists that are not videos (counted in "ignored"), a metadata sidecar it
# fails to give (logged, fetched again by the next process call), the read
# record it keeps (removed when a video is marked unread); and a silent
# WAV, whose length is the provider's "properties", not 0.
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

repeat_each(1);
no_root_location();

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: an upper-case .WAV is listed, transcribed, found, with its metadata and its own URL
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206801', name => '7609169800750206801.WAV',
        seconds => 1.0, text => 'Upper case.',
        meta => { title => 'UP', author => 'A',
                  upload_time => '2026-02-27T12:00:00+08:00' });
t::Emu::emu_wav('7609169800750206802', seconds => 1.0);
--- request eval
[ "POST /api/process",
  "GET /api/videos/7609169800750206801/result",
  "GET /api/videos/7609169800750206801",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processed 2 of 2 videos: 2 completed, 0 failed\.","data":\{"total":2,"processed":2,"success":2,"failed":0,"ignored":0\}\}$/,
  qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206801","status":"completed","text":"Upper case\.",.*"audio_duration":1,"title":"UP","author":"A","description":"","upload_time":"2026-02-27T12:00:00\+08:00"\}\}$/,
  qr/"aweme_id":"7609169800750206801","status":"completed","title":"UP","author":"A","audio_url":"http:\/\/127\.0\.0\.1:\d+\/audio\/7609169800750206801\.WAV"/,
  qr/"audio_per_file":\{(?=[^}]*"7609169800750206801\.WAV":1)(?=[^}]*"7609169800750206802\.wav":1)[^}]*\}/ ]
--- timeout: 10
--- no_error_log
[error]
[warn]



=== TEST 2: an upper-case .WAV not transcribed yet is counted, pending (not unknown), with its own URL
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206811', name => '7609169800750206811.WAV');
t::Emu::emu_wav('7609169800750206812', name => '7609169800750206812.Wav');
--- request eval
[ "GET /api/stats",
  "GET /api/videos/7609169800750206811",
  "GET /api/videos?status=pending",
  "GET /emu/fsgo/stats" ]
--- error_code eval
[ 200, 200, 200, 200 ]
--- response_body_like eval
[ qr/^\{"total":2,"completed":0,"processing":0,"failed":0,"pending":2,/,
  qr/"aweme_id":"7609169800750206811","status":"pending","title":null,"author":null,"audio_url":"http:\/\/127\.0\.0\.1:\d+\/audio\/7609169800750206811\.WAV"/,
  qr/^\{"total_count":2,"videos":\[\{"aweme_id":"7609169800750206812",[^{}]*"audio_url":"[^"]*\/audio\/7609169800750206812\.Wav".*\{"aweme_id":"7609169800750206811",[^{}]*"audio_url":"[^"]*\/audio\/7609169800750206811\.WAV"/,
  qr/"queries":\["\{\\"filters\\":\{\}\}"\]/ ]
--- no_error_log
[error]



=== TEST 3: deleting an upper-case .WAV not transcribed yet deletes that file
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206813', name => '7609169800750206813.WAV');
t::Douyin::douyin_get('/api/stats');
--- request eval
[ "DELETE /api/videos/7609169800750206813",
  "GET /api/videos/7609169800750206813",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7609169800750206813 deleted with its file; it will not be transcribed again\."\}$/,
  qr/"status":"deleted",.*"audio_url":"[^"]*\/audio\/7609169800750206813\.WAV"/,
  qr/"deleted":\["7609169800750206813\.WAV"\]/ ]
--- no_error_log
[error]



=== TEST 4: a tombstone (keep_file) of an upper-case .WAV not transcribed yet keeps its name
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206814', name => '7609169800750206814.wAv');
--- request eval
[ "DELETE /api/videos/7609169800750206814?keep_file=true",
  "GET /api/videos/7609169800750206814",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"success":true,"message":"Video 7609169800750206814 deleted, its file was kept;/,
  qr/"status":"deleted",.*"audio_url":"[^"]*\/audio\/7609169800750206814\.wAv"/,
  qr/"deleted":\[\]/ ]
--- no_error_log
[error]



=== TEST 5: ignored counts every listed file that is not a video's WAV, sidecars aside
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001',
        meta => { title => 't', author => 'a' });
t::Emu::emu_wav('7000000000000000001', name => '7000000000000000001.WAV');
t::Emu::emu_wav('7000000000000000002', name => '7000000000000000002.WAV');
t::Emu::emu_file('7000000000000000003.mp3', 'mp3');
t::Emu::emu_file('7000000000000000004.wav.bak', 'old');
t::Emu::emu_file('notes.txt', 'not audio');
t::Emu::emu_wav('abc', name => 'abc.wav');
--- request eval
[ "POST /api/process/async", "POST /api/process",
  "GET /api/videos/7000000000000000001" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processing started\.","data":\{"total":2,"pending":2,"skip":0,"ignored":5\}\}$/,
  qr/^\{"success":true,"message":"Nothing to process\.","data":\{"total":2,"processed":0,"success":0,"failed":0,"ignored":5\}\}$/,
  qr/"audio_url":"[^"]*\/audio\/7000000000000000001\.wav"/ ]
--- no_error_log
[error]



=== TEST 6: a metadata sidecar file-system-go fails to give (500): a warning naming the video and the status
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206821', seconds => 1.0,
        meta => { title => 'later', author => 'B',
                  upload_time => '2026-02-28T12:00:00+08:00' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 500, count => 1 });
--- request
POST /api/process
--- response_body_like: "processed":1,"success":1,"failed":0,
--- timeout: 10
--- error_log eval
qr/\[warn\] .*douyin: video 7609169800750206821: file-system-go metadata of "7609169800750206821\.wav" failed: HTTP 500; stored without it, the next process call fetches it again/
--- no_error_log
[error]
test-key



=== TEST 7: after a metadata failure the video is completed without metadata, at the end of the list
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206821', seconds => 1.0,
        meta => { title => 'later', author => 'B',
                  upload_time => '2026-02-28T12:00:00+08:00' });
t::Emu::emu_wav('7609169800750206822', seconds => 1.0,
        meta => { title => 'older', author => 'C',
                  upload_time => '2026-02-20T12:00:00+08:00' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 500, count => 1,
                            match => '7609169800750206821' });
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/7609169800750206821/result", "GET /api/videos" ]
--- response_body_like eval
[ qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206821","status":"completed","text":"[^"]*","segments":\[[^\]]*\],"confidence":null,"audio_duration":1\}\}$/,
  qr/"videos":\[\{"aweme_id":"7609169800750206822",.*\{"aweme_id":"7609169800750206821"/ ]
--- no_error_log
[error]



=== TEST 8: the next process call fetches the missing metadata again, without transcribing again
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206821', seconds => 1.0,
        meta => { title => 'later', author => 'B',
                  upload_time => '2026-02-28T12:00:00+08:00' });
t::Emu::emu_wav('7609169800750206822', seconds => 1.0,
        meta => { title => 'older', author => 'C',
                  upload_time => '2026-02-20T12:00:00+08:00' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 500, count => 1,
                            match => '7609169800750206821' });
t::Douyin::douyin_post('/api/process');
--- request
POST /api/process
--- response_body_like: ^\{"success":true,"message":"Nothing to process\.","data":\{"total":2,"processed":0,
--- error_log eval
qr/\[notice\] .*douyin: video 7609169800750206821: its missing metadata was fetched again and stored/
--- no_error_log
[error]



=== TEST 9: the metadata fetched again is in the result and orders the list; one submit each in all
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206821', seconds => 1.0,
        meta => { title => 'later', author => 'B',
                  upload_time => '2026-02-28T12:00:00+08:00' });
t::Emu::emu_wav('7609169800750206822', seconds => 1.0,
        meta => { title => 'older', author => 'C',
                  upload_time => '2026-02-20T12:00:00+08:00' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 500, count => 1,
                            match => '7609169800750206821' });
t::Douyin::douyin_post('/api/process');
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/7609169800750206821/result",
  "GET /api/videos",
  "POST /api/process",
  "GET /emu/fsgo/stats",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"audio_duration":1,"title":"later","author":"B","description":"","upload_time":"2026-02-28T12:00:00\+08:00"\}\}$/,
  qr/"videos":\[\{"aweme_id":"7609169800750206821","status":"completed","title":"later",.*\{"aweme_id":"7609169800750206822"/,
  qr/"processed":0,/,
  qr/"metadata":3,/,
  qr/"accepted":2,.*"submits_per_file":\{"[^"]+":1,"[^"]+":1\}/ ]
--- no_error_log
[error]



=== TEST 10: metadata garbage (200, not JSON) is a failure too, logged as such
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206831', seconds => 1.0,
        meta => { title => 'T', author => 'D' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 200, count => 1,
                            body => 'not json' });
--- request
POST /api/process
--- response_body_like: "processed":1,"success":1,"failed":0,
--- timeout: 10
--- error_log eval
qr/\[warn\] .*video 7609169800750206831: file-system-go metadata of "7609169800750206831\.wav" failed: HTTP 200 without metadata;/
--- no_error_log
[error]



=== TEST 11: metadata failing again on the next call is logged again, and kept for the call after
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206831', seconds => 1.0,
        meta => { title => 'T', author => 'D' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 200, count => 1,
                            body => 'not json' });
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 503, count => 1 });
--- request
POST /api/process
--- response_body_like: "processed":0,
--- error_log eval
qr/\[warn\] .*video 7609169800750206831: file-system-go metadata of "7609169800750206831\.wav" failed: HTTP 503;/
--- no_error_log
[error]



=== TEST 12: after two failed fetches the third call stores the metadata
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206831', seconds => 1.0,
        meta => { title => 'T', author => 'D' });
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 200, count => 1,
                            body => 'not json' });
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('fsgo', { route => 'metadata', status => 503, count => 1 });
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/7609169800750206831/result",
  "POST /api/process",
  "GET /api/videos/7609169800750206831/result",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"audio_duration":1\}\}$/,
  qr/"processed":0,/,
  qr/"audio_duration":1,"title":"T","author":"D",/,
  qr/"metadata":3,/ ]
--- no_error_log
[error]



=== TEST 13: marking unread removes file-system-go's read record (DELETE /api/read/remove)
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206841', seconds => 0.5);
t::Emu::emu_wav('7609169800750206842', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
--- request eval
[ "POST /api/videos/7609169800750206841/read\n{\"is_read\":true}",
  "POST /api/videos/7609169800750206842/read\n{\"is_read\":true}",
  "POST /api/videos/7609169800750206841/read\n{\"is_read\":false}",
  "POST /api/aweme/7609169800750206842/unread",
  "GET /api/videos/7609169800750206841",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"success":true/, qr/"success":true/,
  qr/^\{"success":true,"message":"Video 7609169800750206841 marked unread\."\}$/,
  qr/^\{"success":true,"message":"Video 7609169800750206842 marked unread\."\}$/,
  qr/"is_read":false,"read_at":null/,
  qr/(?=.*"marked":\["7609169800750206841\.wav","7609169800750206842\.wav"\])(?=.*"unmarked":\["7609169800750206841\.wav","7609169800750206842\.wav"\])(?=.*"readremove":2,)/ ]
--- no_error_log
[error]



=== TEST 14: the read record is gone on file-system-go; unread of a video it never marked is fine
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206851', seconds => 0.5);
t::Emu::emu_wav('7609169800750206852', seconds => 0.5);
t::Emu::emu_wav('7609169800750206853', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
t::Douyin::douyin_post('/api/videos/7609169800750206851/read', '{"is_read":true}');
t::Douyin::douyin_post('/api/videos/7609169800750206853/read', '{"is_read":true}');
t::Douyin::douyin_post('/api/videos/7609169800750206851/read', '{"is_read":false}');
--- request eval
[ "POST /api/aweme/7609169800750206852/unread",
  "GET /api/videos/7609169800750206852",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7609169800750206852 marked unread\."\}$/,
  qr/"is_read":false/,
  qr/"read_records":\["7609169800750206853\.wav"\]/ ]
--- no_error_log
[error]



=== TEST 15: file-system-go failing the read removal: 502
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206861', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
t::Douyin::douyin_post('/api/videos/7609169800750206861/read', '{"is_read":true}');
t::Emu::emu_fault('fsgo', { route => 'readremove', status => 500, count => 1 });
--- request
POST /api/aweme/7609169800750206861/unread
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_BAD_RESPONSE","detail":"[^"]+"\}$
--- error_log
file-system-go mark unread answered HTTP 500



=== TEST 16: after a failed read removal the video stays read, here and on file-system-go
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206861', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
t::Douyin::douyin_post('/api/videos/7609169800750206861/read', '{"is_read":true}');
t::Emu::emu_fault('fsgo', { route => 'readremove', status => 500, count => 1 });
t::Douyin::douyin_post('/api/aweme/7609169800750206861/unread');
--- request eval
[ "GET /api/videos/7609169800750206861", "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"is_read":true,"read_at":\d+/,
  qr/"read_records":\["7609169800750206861\.wav"\]/ ]



=== TEST 17: a read removal answered 404 "Record not found" (JSON) is unread already
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206866', seconds => 0.5);
t::Emu::emu_wav('7609169800750206867', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('fsgo', { route => 'readremove', status => 404, count => 1,
                            match => 'remove',
                            body => '{"success":false,"error":"Record not found"}' });
--- request eval
[ "POST /api/aweme/7609169800750206866/unread",
  "POST /api/videos/7609169800750206867/read\n{\"is_read\":true}" ]
--- error_code eval
[ 200, 200 ]
--- response_body_like eval
[ qr/marked unread/, qr/marked read/ ]
--- no_error_log
[error]



=== TEST 18: a read removal answered with a plain-text 404 (no such route): 502
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206868', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('fsgo', { route => 'readremove', status => 404, count => 1,
                            content_type => 'text/plain; charset=utf-8',
                            body => "404 page not found\n" });
--- request
POST /api/aweme/7609169800750206868/unread
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_BAD_RESPONSE","detail":"[^"]+"\}$
--- error_log
file-system-go mark unread answered HTTP 404



=== TEST 19: the newer file-system-go has no read routes: unread calls nothing there
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_filesystem_api 2;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('fsgo', { api => '2' });
t::Emu::emu_wav('7609169800750206871', seconds => 0.5);
t::Douyin::douyin_post('/api/process');
--- request eval
[ "POST /api/videos/7609169800750206871/read\n{\"is_read\":true}",
  "POST /api/aweme/7609169800750206871/unread",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/marked read/, qr/marked unread/,
  qr/(?=.*"marked":\[\])(?=.*"unmarked":\[\])(?=.*"readremove":0,)/ ]
--- no_error_log
[error]



=== TEST 20: a silent WAV whose no-speech code links a result lasts its real length
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { silence => 'code' });
t::Emu::emu_wav('7609169800750206881', seconds => 3.0);
--- request eval
[ "POST /api/process", "GET /api/videos/7609169800750206881/result" ]
--- response_body_like eval
[ qr/"processed":1,"success":1,"failed":0/,
  qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206881","status":"completed","text":"","segments":\[\],"confidence":null,"audio_duration":3\}\}$/ ]
--- timeout: 10
--- no_error_log
[error]



=== TEST 21: a silent WAV answered as a result without sentences lasts its real length
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { silence => 'result' });
t::Emu::emu_wav('7609169800750206891', seconds => 3.0);
--- request eval
[ "POST /api/process", "GET /api/videos/7609169800750206891/result" ]
--- response_body_like eval
[ qr/"processed":1,"success":1,"failed":0/,
  qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206891","status":"completed","text":"","segments":\[\],"confidence":null,"audio_duration":3\}\}$/ ]
--- timeout: 10
--- no_error_log
[error]

# The routes beyond process and result (issue: every route of the replaced
# service): list, detail, stats, read, delete, service info, docs.
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

repeat_each(1);
no_root_location();

add_block_preprocessor(sub {
    my $block = shift;
    # the usual corpus, processed once, for blocks that ask for it
    if (defined $block->corpus) {
        my $init = $block->init // '';
        $block->set_value('init', q{
            t::Emu::emu_wav('7000000000000000001', meta => { title => 'old',
                    author => 'a', upload_time => '2026-01-01T08:00:00+08:00' });
            t::Emu::emu_wav('7000000000000000002', meta => { title => 'newest',
                    author => 'b', description => '描述',
                    upload_time => '2026-03-01T00:00:00Z' });
            t::Emu::emu_wav('7000000000000000003', meta => { title => 'middle',
                    author => 'c', upload_time => '2026-02-01T00:00:00Z' });
            t::Emu::emu_wav('7000000000000000004');
            t::Emu::emu_wav('7000000000000000005');
            t::Emu::emu_fault('dashscope', { route => 'file', match => '0005.wav',
                                     code => 'FILE_DOWNLOAD_FAILED' });
            t::Douyin::douyin_get('/api/stats');
            t::Douyin::douyin_post('/api/process');
        } . $init);
    }
});

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: before any process: nothing listed; pending comes from file-system-go
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('11', '12', '3');
--- request eval
[ "GET /api/videos", "GET /api/videos?status=pending",
  "GET /api/videos?status=pending&is_read=true", "GET /api/stats",
  "GET /api/videos/12" ]
--- response_body_like eval
[ qr/^\{"total_count":0,"videos":\[\],"page":1,"page_size":20\}$/,
  qr/^\{"total_count":3,"videos":\[\{"aweme_id":"12","status":"pending","title":null,"author":null,"audio_url":"http:\/\/127\.0\.0\.1:\d+\/audio\/12\.wav","transcript":null,"processed_at":null,"upload_time":null,"video_publish_time":null,"pending_at":null,"is_read":false,"read_at":null\},\{"aweme_id":"11",.*\{"aweme_id":"3",.*\],"page":1,"page_size":20\}$/,
  qr/^\{"total_count":0,"videos":\[\],/,
  qr/^\{"total":3,"completed":0,"processing":0,"failed":0,"pending":3,"success_rate":0,"listing_age":[01],"asr_seconds":0,"asr_seconds_30d":0\}$/,
  qr/^\{"aweme_id":"12","status":"pending",.*"description":null,"error":null,"asr_seconds":null,"language":null,"subtitles":null\}$/ ]
--- no_error_log
[error]



=== TEST 2: the list: newest upload_time first, then ids descending
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request
GET /api/videos
--- response_body_like: ^\{"total_count":5,"videos":\[\{"aweme_id":"7000000000000000002","status":"completed","title":"newest","author":"b","audio_url":"[^"]+/audio/7000000000000000002\.wav","transcript":\{"text":"[^"]+","segments":\[[^\]]+\],"confidence":null,"audio_duration":1\},"processed_at":\d+,"upload_time":"2026-03-01T00:00:00Z","video_publish_time":null,"pending_at":null,"is_read":false,"read_at":null\},\{"aweme_id":"7000000000000000003",.*\{"aweme_id":"7000000000000000001",.*\{"aweme_id":"7000000000000000005","status":"failed",.*"transcript":null,.*\{"aweme_id":"7000000000000000004",.*\],"page":1,"page_size":20\}$
--- timeout: 10



=== TEST 3: filters and paging
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /api/videos?status=completed&page_size=2",
  "GET /api/videos?status=completed&page_size=2&page=2",
  "GET /api/videos?status=completed&page_size=2&page=3",
  "GET /api/videos?status=failed",
  "GET /api/videos?status=processing",
  "GET /api/videos?is_read=false&page_size=1&page=5",
  "GET /api/videos?status=pending" ]
--- response_body_like eval
[ qr/^\{"total_count":4,"videos":\[\{"aweme_id":"7000000000000000002",.*\{"aweme_id":"7000000000000000003",.*\],"page":1,"page_size":2\}$/,
  qr/^\{"total_count":4,"videos":\[\{"aweme_id":"7000000000000000001",.*\{"aweme_id":"7000000000000000004",.*\],"page":2,"page_size":2\}$/,
  qr/^\{"total_count":4,"videos":\[\],"page":3,"page_size":2\}$/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"7000000000000000005","status":"failed",/,
  qr/^\{"total_count":0,"videos":\[\],/,
  qr/^\{"total_count":5,"videos":\[\{"aweme_id":"7000000000000000004",(?!.*"aweme_id").*\],"page":5,"page_size":1\}$/,
  qr/^\{"total_count":0,"videos":\[\],/ ]



=== TEST 4: bad queries are 400 and name the parameter and what it takes
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /api/videos?page=0", "GET /api/videos?page=-1",
  "GET /api/videos?page=abc", "GET /api/videos?page=1000001",
  "GET /api/videos?page_size=0", "GET /api/videos?page_size=1001",
  "GET /api/videos?page_size=", "GET /api/videos?status=done",
  "GET /api/videos?status=Completed", "GET /api/videos?is_read=yes",
  "GET /api/videos?page=%30", "GET /api/videos?page=%zz",
  "POST /api/videos" ]
--- error_code eval
[ 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 405 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"INVALID_QUERY","detail":"page must be a whole number from 1 to 1000000\."\}$/,
  qr/"detail":"page must be a whole number from 1 to 1000000\."/,
  qr/"detail":"page must be a whole number from 1 to 1000000\."/,
  qr/"detail":"page must be a whole number from 1 to 1000000\."/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"page_size must be a whole number from 1 to 1000\."\}$/,
  qr/"detail":"page_size must be a whole number from 1 to 1000\."/,
  qr/"detail":"page_size must be a whole number from 1 to 1000\."/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"status must be pending, processing, completed, failed, unread, read or deleted\."\}$/,
  qr/"detail":"status must be pending, processing, completed, failed, unread, read or deleted\."/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"is_read must be true or false\."\}$/,
  qr/"detail":"page must be a whole number from 1 to 1000000\."/,
  qr/"detail":"page must be a whole number from 1 to 1000000\."/,
  qr/"error":"METHOD_NOT_ALLOWED"/ ]



=== TEST 4b: query arguments are percent-decoded: %31 is 1
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /api/videos?status=%63ompleted&page_size=%32&page=%32",
  "GET /api/videos?status=completed&page_size=2&page=2",
  "GET /api/videos?is_read=%66alse&page_size=%31&page=%35",
  "GET /api/videos?status=%66%61%69%6C%65%64" ]
--- response_body_like eval
[ qr/^\{"total_count":4,"videos":\[\{"aweme_id":"7000000000000000001",.*\{"aweme_id":"7000000000000000004",.*\],"page":2,"page_size":2\}$/,
  qr/^\{"total_count":4,"videos":\[\{"aweme_id":"7000000000000000001",.*\{"aweme_id":"7000000000000000004",.*\],"page":2,"page_size":2\}$/,
  qr/^\{"total_count":5,"videos":\[\{"aweme_id":"7000000000000000004",(?!.*"aweme_id").*\],"page":5,"page_size":1\}$/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"7000000000000000005","status":"failed",/ ]



=== TEST 5: detail of a completed video, a failed one, unknown and bad ids
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /api/videos/7000000000000000002", "GET /api/videos/7000000000000000005",
  "GET /api/videos/42", "GET /api/videos/x42", "PUT /api/videos/42" ]
--- error_code eval
[ 200, 200, 404, 400, 405 ]
--- response_body_like eval
[ qr/^\{"aweme_id":"7000000000000000002","status":"completed","title":"newest","author":"b",.*"is_read":false,"read_at":null,"description":"描述","error":null,"asr_seconds":1,"language":null,"subtitles":\{"srt":"\/api\/videos\/7000000000000000002\/subtitles\.srt","vtt":"\/api\/videos\/7000000000000000002\/subtitles\.vtt","txt":"\/api\/videos\/7000000000000000002\/subtitles\.txt"\}\}$/,
  qr/^\{"aweme_id":"7000000000000000005","status":"failed",.*"transcript":null,.*"description":null,"error":"FILE_DOWNLOAD_FAILED","asr_seconds":null,"language":null,"subtitles":null\}$/,
  qr/^\{"success":false,"error":"VIDEO_NOT_FOUND","detail":"[^"]+"\}$/,
  qr/"error":"INVALID_AWEME_ID"/, qr/"error":"METHOD_NOT_ALLOWED"/ ]
--- response_headers eval
[ "", "", "", "", "Allow: GET, HEAD, DELETE" ]



=== TEST 6: stats count the store and the listing
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request
GET /api/stats
--- response_body_like: ^\{"total":5,"completed":4,"processing":0,"failed":1,"pending":0,"success_rate":0.8,"listing_age":\d+,"asr_seconds":4,"asr_seconds_30d":4\}$



=== TEST 7: mark read tells file-system-go, then the list and the filter see it
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "POST /api/videos/7000000000000000003/read\n{\"is_read\":true}",
  "GET /api/videos/7000000000000000003",
  "GET /api/videos?is_read=true",
  "GET /api/videos?is_read=false&status=completed",
  "GET /emu/fsgo/stats",
  "POST /api/videos/7000000000000000003/read\n{\"is_read\":false}",
  "GET /api/videos?is_read=true" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7000000000000000003 marked read\."\}$/,
  qr/"is_read":true,"read_at":\d+,/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"7000000000000000003",/,
  qr/^\{"total_count":3,/,
  qr/"marked":\["7000000000000000003\.wav"\]/,
  qr/marked unread\./,
  qr/^\{"total_count":0,/ ]
--- timeout: 10
--- no_error_log
[error]



=== TEST 8: bad read bodies: 400, 413, 404, 405, and nothing changes
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "POST /api/videos/7000000000000000003/read\nnot json",
  "POST /api/videos/7000000000000000003/read\n{\"is_read\":\"yes\"}",
  "POST /api/videos/7000000000000000003/read\n[true]",
  "POST /api/videos/7000000000000000003/read\n{\"is_read\":false,\"is_read\":true}",
  "POST /api/videos/7000000000000000003/read\n{\"is_read\":true,\"x\":1,\"is_read\":true}",
  "POST /api/videos/7000000000000000003/read\n{\"is_read\":true,\"pad\":\"" . ("x" x 2000) . "\"}",
  "POST /api/videos/99/read\n{\"is_read\":true}",
  "GET /api/videos/7000000000000000003/read",
  "POST /api/videos/abc/read\n{\"is_read\":true}",
  "GET /api/videos?is_read=true" ]
--- error_code eval
[ 400, 400, 400, 400, 400, 413, 404, 405, 400, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"INVALID_BODY","detail":".+"\}$/,
  qr/"error":"INVALID_BODY"/, qr/"error":"INVALID_BODY"/,
  qr/^\{"success":false,"error":"INVALID_BODY","detail":"The body has \\"is_read\\" more than once; give it once\."\}$/,
  qr/"detail":"The body has \\"is_read\\" more than once; give it once\."/,
  qr/"error":"BODY_TOO_LARGE"/, qr/"error":"VIDEO_NOT_FOUND"/,
  qr/"error":"METHOD_NOT_ALLOWED"/, qr/"error":"INVALID_AWEME_ID"/,
  qr/^\{"total_count":0,/ ]



=== TEST 9: a chunked read body works too
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
"POST /api/videos/7000000000000000001/read\r\ne\r\n{\"is_read\":tru\r\n2\r\ne}\r\n0\r\n\r\n"
--- more_headers
Transfer-Encoding: chunked
--- response_body_like: marked read\.



=== TEST 10: mark read when file-system-go fails: 502 and the record is unchanged
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'mark', status => 500, count => 1 });
--- request
POST /api/videos/7000000000000000002/read
{"is_read":true}
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_BAD_RESPONSE","detail":"[^"]+"\}$
--- error_log
file-system-go mark read answered HTTP 500



=== TEST 11: after mark read failed at file-system-go the video is still unread
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'mark', status => 500, count => 1 });
my ($st) = t::Douyin::douyin_post('/api/videos/7000000000000000002/read',
                                  '{"is_read":true}');
die "mark read answered $st, not 502\n" unless $st == 502;
--- request
GET /api/videos/7000000000000000002
--- response_body_like: "is_read":false,"read_at":null



=== TEST 12: delete leaves a tombstone and deletes the WAV; keep_file keeps the WAV
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "DELETE /api/videos/7000000000000000001",
  "DELETE /api/videos/7000000000000000002?keep_file=%74rue",
  "GET /emu/fsgo/stats",
  "GET /api/videos/7000000000000000001/result",
  "GET /api/videos/7000000000000000002",
  "GET /api/videos/7000000000000000001",
  "GET /api/stats",
  "DELETE /api/videos/7000000000000000001",
  "DELETE /api/videos/7000000000000000003?keep_file=maybe" ]
--- error_code eval
[ 200, 200, 200, 200, 200, 200, 200, 200, 400 ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Video 7000000000000000001 deleted with its file; it will not be transcribed again\."\}$/,
  qr/^\{"success":true,"message":"Video 7000000000000000002 deleted, its file was kept; it will not be transcribed again\."\}$/,
  qr/"deleted":\["7000000000000000001\.wav"\]/,
  qr/"status":"deleted"/,
  qr/^\{"aweme_id":"7000000000000000002","status":"deleted","title":"newest",.*"transcript":null,/,
  qr/^\{"aweme_id":"7000000000000000001","status":"deleted",/,
  qr/^\{"total":3,"completed":2,"processing":0,"failed":1,"pending":0,"success_rate":0.67,/,
  qr/"success":true/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"keep_file must be true or false\."\}$/ ]
--- timeout: 10



=== TEST 13: delete when file-system-go fails: 502, the record is left as it was
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', status => 500, count => 1 });
--- request
DELETE /api/videos/7000000000000000003
--- error_code: 502
--- response_body_like: "error":"FILESYSTEM_BAD_RESPONSE"
--- error_log
file-system-go delete answered HTTP 500



=== TEST 13b: a delete whose answer is lost after file-system-go acted: 504, outcome not known, the record unchanged; repeating it ends in a tombstone
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', close => 1, process => 1,
                            count => 1 });
--- request eval
[ "DELETE /api/videos/7000000000000000003",
  "GET /api/videos/7000000000000000003", "GET /emu/fsgo/stats",
  "DELETE /api/videos/7000000000000000003",
  "GET /api/videos/7000000000000000003" ]
--- error_code eval
[ 504, 200, 200, 200, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"FILESYSTEM_OUTCOME_UNKNOWN","detail":"[^"]*not known yet[^"]*"\}$/,
  qr/"status":"completed"/, qr/"deleted":\["7000000000000000003\.wav"\]/,
  qr/"success":true/, qr/"status":"deleted"/ ]



=== TEST 13c: a mark-read whose answer is lost after file-system-go acted: 504 and the log says so
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'mark', close => 1, process => 1,
                            count => 1 });
--- request
POST /api/videos/7000000000000000003/read
{"is_read":true}
--- error_code: 504
--- response_body_like: "error":"FILESYSTEM_OUTCOME_UNKNOWN"
--- error_log
file-system-go mark read sent, no answer



=== TEST 14: after delete failed at file-system-go the record is still there; keep_file deletes it without file-system-go
--- corpus
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', status => 500, count => 1 });
my ($st) = t::Douyin::douyin_call(DELETE => '/api/videos/7000000000000000003');
die "delete answered $st, not 502\n" unless $st == 502;
t::Emu::emu_fault('fsgo', { route => 'delete', status => 500, count => 1 });
--- request eval
[ "GET /api/videos/7000000000000000003",
  "DELETE /api/videos/7000000000000000003?keep_file=true",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"status":"completed"/, qr/"success":true/, qr/"deleted":\[\]/ ]



=== TEST 15: GET / is the service info; /docs and /openapi.json are served offline
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /", "GET /docs", "GET /openapi.json", "POST /" ]
--- error_code eval
[ 200, 200, 200, 405 ]
--- response_headers eval
[ "Content-Type: application/json; charset=utf-8",
  "Content-Type: text/html; charset=utf-8",
  "Content-Type: application/json; charset=utf-8", "Allow: GET, HEAD" ]
--- response_body_like eval
[ qr/^\{"service":"douyin-processor","version":"\d+\.\d+\.\d+","docs":"\/docs","health":"\/health"\}$/,
  qr/<html.*\/api\/videos/s,
  qr/^\{.*"openapi"\s*:\s*"3\.[01]\.\d+".*"\/api\/stats"/s,
  qr/"error":"METHOD_NOT_ALLOWED"/ ]



=== TEST 16: the module's own log lines: a process call at notice, each video at info
--- log_level: info
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000007', meta => { title => 'log' });
t::Emu::emu_wav('7000000000000000008');
t::Emu::emu_fault('dashscope', { route => 'file', match => '0008.wav',
                                 code => 'FILE_DOWNLOAD_FAILED' });
--- request
POST /api/process
--- response_body_like: "processed":2,"success":1,"failed":1
--- error_log eval
[ qr/\[notice\] .*douyin: a process call claimed 2 of 2 videos/,
  qr/\[notice\] .*douyin: a process call ended: Processed 2 of 2 videos: 1 completed, 1 failed\./,
  qr/\[info\] .*douyin: video 7000000000000000007 completed/,
  qr/\[info\] .*douyin: video 7000000000000000008 failed/ ]
--- timeout: 10

# POST /api/process, /api/process/async and GET /api/videos/{id}/result
# against the file-system-go and DashScope emulators (issue: the main job).
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

repeat_each(1);
no_root_location();

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: happy path: three videos transcribed, with text, segments and metadata
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7609169800750206791', seconds => 2.0,
        text => ['你好，世界。', 'Hello world.'],
        meta => { title => '标题一', author => '作者', description => '描述',
                  upload_time => '2026-02-27T12:00:00+08:00' });
t::Emu::emu_wav('7609169800750206792', seconds => 1.0);
t::Emu::emu_wav('7609169800750206793', seconds => 1.0);
t::Emu::emu_file('notes.txt', 'not audio');
--- request eval
[ "POST /api/process",
  "GET /api/videos/7609169800750206791/result",
  "GET /api/videos/7609169800750206792/result",
  "GET /emu/dashscope/stats" ]
--- response_headers eval
[ "Content-Type: application/json; charset=utf-8",
  "Content-Type: application/json; charset=utf-8", "", "" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processed 3 of 3 videos: 3 completed, 0 failed\.","data":\{"total":3,"processed":3,"success":3,"failed":0,"ignored":1\}\}$/,
  qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206791","status":"completed","text":"你好，世界。Hello world\.","segments":\[\{"start_time":0,"end_time":1,"text":"你好，世界。","confidence":null\},\{"start_time":1,"end_time":2,"text":"Hello world\.","confidence":null\}\],"confidence":null,"audio_duration":2,"title":"标题一","author":"作者","description":"描述","upload_time":"2026-02-27T12:00:00\+08:00"\}\}$/,
  qr/^\{"success":true,"data":\{"aweme_id":"7609169800750206792","status":"completed","text":"transcript of 7609169800750206792\.wav","segments":\[\{"start_time":0,"end_time":1,"text":"transcript of 7609169800750206792\.wav","confidence":null\}\],"confidence":null,"audio_duration":1\}\}$/,
  qr/"accepted":3,/ ]
--- timeout: 10
--- no_error_log
[error]
[warn]



=== TEST 2: a second /api/process skips what is completed
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('101', '102');
--- request eval
[ "POST /api/process", "POST /api/process", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":2,"processed":2,"success":2,"failed":0,/,
  qr/^\{"success":true,"message":"Nothing to process\.","data":\{"total":2,"processed":0,"success":0,"failed":0,"ignored":0\}\}$/,
  qr/"accepted":2,.*"submits_per_file":\{"[^"]+10[12]\.wav":1,"[^"]+10[12]\.wav":1\}/ ]
--- timeout: 10
--- no_error_log
[error]



=== TEST 3: result of an unknown id is pending; bad ids are 400
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /api/videos/7609169800750206799/result",
  "GET /api/videos/abc/result",
  "GET /api/videos/123456789012345678901234567890123/result",
  "GET /api/videos/-1/result",
  "HEAD /api/videos/1/result" ]
--- error_code eval
[ 200, 400, 400, 400, 200 ]
--- response_body eval
[ qq!{"success":true,"data":{"aweme_id":"7609169800750206799","status":"pending","message":"The video has not been processed yet."}}!,
  qq!{"success":false,"error":"INVALID_AWEME_ID","detail":"An aweme_id is 1 to 32 decimal digits."}!,
  qq!{"success":false,"error":"INVALID_AWEME_ID","detail":"An aweme_id is 1 to 32 decimal digits."}!,
  qq!{"success":false,"error":"INVALID_AWEME_ID","detail":"An aweme_id is 1 to 32 decimal digits."}!,
  "" ]
--- no_error_log
[error]



=== TEST 4: wrong methods are 405 with Allow
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request eval
[ "GET /api/process", "DELETE /api/process/async",
  "POST /api/videos/1/result\n{}" ]
--- error_code eval
[ 405, 405, 405 ]
--- response_headers eval
[ "Allow: POST", "Allow: POST", "Allow: GET, HEAD" ]
--- response_body_like eval
[ qr/"error":"METHOD_NOT_ALLOWED"/, qr/"error":"METHOD_NOT_ALLOWED"/,
  qr/"error":"METHOD_NOT_ALLOWED"/ ]
--- no_error_log
[error]



=== TEST 5: a video the provider cannot fetch fails with the provider's per-file code
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('201', '202');
t::Emu::emu_fault('dashscope', { route => 'file', match => '202.wav',
                         code => 'FILE_DOWNLOAD_FAILED',
                         message => 'download failed' });
--- request eval
[ "POST /api/process",
  "GET /api/videos/202/result",
  "GET /api/videos/201/result" ]
--- response_body_like eval
[ qr/"data":\{"total":2,"processed":2,"success":1,"failed":1,/,
  qr/^\{"success":true,"data":\{"aweme_id":"202","status":"failed","error":"FILE_DOWNLOAD_FAILED","message":"download failed"\}\}$/,
  qr/"status":"completed"/ ]
--- timeout: 10



=== TEST 6: a failed video is retried by the next /api/process
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('301');
t::Emu::emu_fault('dashscope', { route => 'file', match => '301.wav', count => 1,
                         code => 'FILE_DOWNLOAD_FAILED' });
--- request eval
[ "POST /api/process", "GET /api/videos/301/result",
  "POST /api/process", "GET /api/videos/301/result" ]
--- response_body_like eval
[ qr/"success":0,"failed":1/, qr/"status":"failed","error":"FILE_DOWNLOAD_FAILED"/,
  qr/"processed":1,"success":1,"failed":0/, qr/"status":"completed"/ ]
--- timeout: 10



=== TEST 7: batches: douyin_asr_batch 100 and 250 videos make 3 submits
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_batch 100;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_generate(250, seconds => 0.2);
--- request eval
[ "POST /api/process", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":250,"processed":250,"success":250,"failed":0,/,
  qr/"accepted":3,.*"files_per_submit":\[(?:100,100,50|100,50,100|50,100,100)\]/ ]
--- timeout: 30
--- no_error_log
[error]



=== TEST 8: a per-file failure inside a succeeded batch fails only that file
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_batch 100;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('401', '402', '403');
t::Emu::emu_fault('dashscope', { route => 'file', match => '402.wav',
                         code => 'FILE_404_NOT_FOUND',
                         message => 'The audio file cannot be found.' });
--- request eval
[ "POST /api/process", "GET /api/videos/402/result",
  "GET /api/videos/403/result", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":3,"processed":3,"success":2,"failed":1,/,
  qr/"status":"failed","error":"FILE_404_NOT_FOUND"/,
  qr/"status":"completed"/,
  qr/"accepted":1,.*"files_per_submit":\[3\]/ ]
--- timeout: 10



=== TEST 9: a 429 on submit is retried, then the video completes
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('501');
t::Emu::emu_fault('dashscope', { route => 'submit', status => 429,
                         code => 'Throttling.RateQuota', count => 1 });
--- request
POST /api/process
--- response_body_like: "processed":1,"success":1,"failed":0
--- timeout: 10
--- error_log
DashScope submit answered HTTP 429 Throttling.RateQuota (attempt 1), retrying
--- no_error_log
[error]



=== TEST 10: a 429 on submit costs one more submit than accepted
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('501');
t::Emu::emu_fault('dashscope', { route => 'submit', status => 429,
                         code => 'Throttling.RateQuota', count => 1 });
t::Douyin::douyin_post('/api/process');
--- request
GET /emu/dashscope/stats
--- response_body_like: ^\{"submits":2,"accepted":1,.*"throttled":1,



=== TEST 11: a 500 on query is retried, then the video completes
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('502');
t::Emu::emu_fault('dashscope', { route => 'query', status => 500,
                         code => 'InternalError', count => 2 });
--- request
POST /api/process
--- response_body_like: "processed":1,"success":1,"failed":0
--- timeout: 10
--- error_log
DashScope query answered HTTP 500 InternalError
--- no_error_log
[error]



=== TEST 12: a wrong key fails fast, with one error line and no key in the log
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('601', '602', '603');
t::Emu::emu_config('dashscope', { key => 'another-key' });
--- request
POST /api/process
--- response_body_like: "processed":3,"success":0,"failed":3
--- timeout: 10
--- grep_error_log eval: qr/the ASR provider rejected the key[^,\n]*/
--- grep_error_log_out
the ASR provider rejected the key from "ALIYUN_ACCESS_KEY": HTTP 401 InvalidApiKey; failing queued videos
--- no_error_log
test-key



=== TEST 13: a wrong key fails the videos with the provider's code, none was accepted
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('601', '602', '603');
t::Emu::emu_config('dashscope', { key => 'another-key' });
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/602/result", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"data":\{"aweme_id":"602","status":"failed","error":"InvalidApiKey","message":"[^"]+"\}\}$/,
  qr/"accepted":0,/ ]



=== TEST 14: file-system-go answering 500: 502, and nothing stored changes
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('701');
t::Emu::emu_fault('fsgo', { route => 'query', status => 500, count => 1 });
--- request
POST /api/process
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_BAD_RESPONSE","detail":"[^"]+"\}$
--- error_log
file-system-go listing answered HTTP 500



=== TEST 15: after file-system-go answered 500 the video is still pending and nothing was submitted
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('701');
t::Emu::emu_fault('fsgo', { route => 'query', status => 500, count => 1 });
t::Douyin::douyin_post('/api/process');
--- request eval
[ "GET /api/videos/701/result", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"status":"pending"/, qr/^\{"submits":0,/ ]



=== TEST 16: file-system-go answering garbage: 502
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('702');
t::Emu::emu_fault('fsgo', { route => 'query', status => 200, body => 'not json',
                    count => 1 });
--- request eval
[ "POST /api/process/async", "GET /api/videos/702/result" ]
--- error_code eval
[ 502, 200 ]
--- response_body_like eval
[ qr/"error":"FILESYSTEM_BAD_RESPONSE"/, qr/"status":"pending"/ ]



=== TEST 17: file-system-go down: 502 FILESYSTEM_UNAVAILABLE
--- http_config
    douyin_store html/store;
    douyin_filesystem_url http://127.0.0.1:1;
    douyin_asr_url http://127.0.0.1:$TEST_NGINX_DASHSCOPE_PORT;
--- config
    location = /api/process { douyin_process; }
--- request
POST /api/process
--- error_code: 502
--- response_body_like: ^\{"success":false,"error":"FILESYSTEM_UNAVAILABLE","detail":"[^"]+"\}$
--- error_log
file-system-go listing failed



=== TEST 18: an empty listing ({"success":true} without videos) is nothing to do
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- request
POST /api/process
--- response_body chomp
{"success":true,"message":"Nothing to process.","data":{"total":0,"processed":0,"success":0,"failed":0,"ignored":0}}
--- no_error_log
[error]



=== TEST 19: async answers at once; the videos complete in the background
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 1.0 });
t::Emu::emu_wavs('801', '802');
--- request eval
[ "POST /api/process/async", "GET /api/videos/801/result",
  "POST /api/process/async" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processing started\.","data":\{"total":2,"pending":2,"skip":0,"ignored":0\}\}$/,
  qr/^\{"success":true,"data":\{"aweme_id":"801","status":"processing","message":"[^"]+"\}\}$/,
  qr/"data":\{"total":2,"pending":0,"skip":2,/ ]
--- no_error_log
[error]



=== TEST 20: async: the videos are completed later
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 1.0 });
t::Emu::emu_wavs('801', '802');
t::Douyin::douyin_post('/api/process/async');
t::Douyin::douyin_wait(['801', '802']);
--- request eval
[ "GET /api/videos/801/result", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"status":"completed"/, qr/"accepted":2,/ ]
--- no_error_log
[error]



=== TEST 21: a task the provider never finishes fails with ASR_TIMEOUT
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_timeout 1s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('901');
t::Emu::emu_fault('dashscope', { route => 'task', stuck => 'RUNNING' });
--- request
POST /api/process
--- response_body_like: "processed":1,"success":0,"failed":1
--- timeout: 10
--- error_log
did not end within douyin_asr_timeout



=== TEST 22: a task the provider never finishes: the video's code is ASR_TIMEOUT
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_timeout 1s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('901');
t::Emu::emu_fault('dashscope', { route => 'task', stuck => 'RUNNING' });
t::Douyin::douyin_post('/api/process');
--- timeout: 10
--- request
GET /api/videos/901/result
--- response_body_like: "status":"failed","error":"ASR_TIMEOUT"



=== TEST 23: a task the provider fails as a whole fails its videos with its code
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('902');
t::Emu::emu_fault('dashscope', { route => 'task', code => 'InternalError.Timeout' });
--- request eval
[ "POST /api/process", "GET /api/videos/902/result" ]
--- response_body_like eval
[ qr/"processed":1,"success":0,"failed":1/,
  qr/"status":"failed","error":"InternalError.Timeout"/ ]
--- timeout: 10



=== TEST 24: silence is an empty transcript, not an error
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('903', seconds => 0);
--- request eval
[ "POST /api/process", "GET /api/videos/903/result" ]
--- response_body_like eval
[ qr/"processed":1,"success":1,"failed":0/,
  qr/^\{"success":true,"data":\{"aweme_id":"903","status":"completed","text":"","segments":\[\],"confidence":null,"audio_duration":0\}\}$/ ]
--- timeout: 10



=== TEST 25: a store that cannot be opened: a clear log line at start, then 503
--- http_config
    douyin_store html/not-a-folder;
    douyin_filesystem_url http://127.0.0.1:$TEST_NGINX_FSGO_PORT;
--- config
    location = /api/process { douyin_process; }
--- user_files
>>> not-a-folder
this is a file
--- request
POST /api/process
--- error_code: 503
--- response_body_like: ^\{"success":false,"error":"STORE_UNAVAILABLE","detail":"[^"]+"\}$
--- error_log eval
qr/\[alert\] .*douyin: store ".*not-a-folder": mdb_env_open\(\) failed: Not a directory/



=== TEST 26: a full store (MDB_MAP_FULL): 503 STORE_FULL, nothing stored
--- http_config
    douyin_store html/store map_size=1m;
    douyin_filesystem_url http://127.0.0.1:$TEST_NGINX_FSGO_PORT;
    douyin_asr_url http://127.0.0.1:$TEST_NGINX_DASHSCOPE_PORT;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_generate(8000, seconds => 0.01);
--- request
POST /api/process
--- error_code: 503
--- response_body_like: ^\{"success":false,"error":"STORE_FULL","detail":"[^"]+"\}$
--- timeout: 20
--- error_log
claiming videos failed: MDB_MAP_FULL



=== TEST 27: a full store: nothing was claimed or submitted
--- http_config
    douyin_store html/store map_size=1m;
    douyin_filesystem_url http://127.0.0.1:$TEST_NGINX_FSGO_PORT;
    douyin_asr_url http://127.0.0.1:$TEST_NGINX_DASHSCOPE_PORT;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_generate(8000, seconds => 0.01);
t::Douyin::douyin_post('/api/process');
--- timeout: 20
--- request eval
[ "GET /api/videos/7000000000000000001/result", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"status":"pending"/, qr/^\{"submits":0,/ ]

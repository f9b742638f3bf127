# DashScope answering 429 or 5xx (issue: fault figures: with 30 % 429 and
# 5 % 500, every video completes).  DashScope documents both as transient
# ("retry with exponential backoff"); a fixed number of attempts (6) used
# to fail a video whose calls met six of them in a row, about 1 in 500
# calls at those rates.  Now a provider call is tried again, with the
# backoff growing to 30 s, until douyin_asr_timeout after its batch
# started; only then do its videos fail with the provider's code.
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

repeat_each(1);
no_root_location();

# every request of a block checks the whole error.log of the block
check_accum_error_log();

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: a query answered 500 seven times in a row is tried again until it answers: the video completes
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7600000000000000001');
t::Emu::emu_fault('dashscope', { route => 'query', status => 500,
                                 code => 'InternalError', count => 7 });
--- request
POST /api/process
--- response_body_like: "data":\{"total":1,"processed":1,"success":1,"failed":0,
--- timeout: 40
--- error_log
DashScope query answered HTTP 500 InternalError (attempt 6), retrying
--- no_error_log
[error]



=== TEST 2: a submit answered 429 seven times in a row is tried again until it is accepted, once
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7600000000000000002');
t::Emu::emu_fault('dashscope', { route => 'submit', status => 429,
                                 code => 'Throttling.RateQuota', count => 7 });
--- request eval
[ "POST /api/process", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":1,"processed":1,"success":1,"failed":0,/,
  qr/^\{"submits":8,"accepted":1,.*"throttled":7,/ ]
--- timeout: 40



=== TEST 3: a provider that keeps failing fails the videos after douyin_asr_timeout, with its code
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_timeout 2s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7600000000000000003');
t::Emu::emu_fault('dashscope', { route => 'submit', status => 503,
                                 code => 'ModelUnavailable' });
--- request eval
[ "POST /api/process", "GET /api/videos/7600000000000000003/result" ]
--- response_body_like eval
[ qr/"data":\{"total":1,"processed":1,"success":0,"failed":1,/,
  qr/"status":"failed","error":"ModelUnavailable","message":"The ASR provider kept failing the request until douyin_asr_timeout\."/ ]
--- timeout: 20
--- error_log
still failing douyin_asr_timeout after the batch started: failing its 1 video(s)

# A submit whose answer is lost after it was sent (issue: an uncertain
# submit is resent blindly).  A submit is not idempotent: when the request
# went out and no answer came (a timeout, a connection cut), the module
# does not send it again and does not fail the video; it reads DashScope's
# task list (GET /api/v1/tasks?start_time&end_time&model_name&page_no
# &page_size) for the tasks made around the submit time, queries them for
# the one whose results name the video's file URL, and polls that task as
# if the submit had answered.  It submits again only when the list
# answered and no task of that time is the video's.  While the list fails
# the outcome stays unknown: the video stays processing, says so, and the
# list is read again later.  The submit time is in the store, so a worker
# that takes the video over (kill -9) settles it the same way.
#
# The DashScope emulator counts accepted submits per file URL
# (submits_per_file) and every submit request (submits).
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
no_root_location();

# every request of a block checks the whole error.log of the block
check_accum_error_log();

plan tests => repeat_each() * t::Plan::checks(blocks());

# waits until DashScope's task list was asked at least $n times
sub wait_lists {
    my ($n) = @_;
    my $deadline = Time::HiRes::time() + 15;
    until (t::Emu::emu_stats('dashscope')->{lists} >= $n) {
        die "the task list was not read $n time(s)\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
    return 1;
}

# POST /api/process/async, which must answer 200
sub start_async {
    my ($st) = t::Douyin::douyin_post('/api/process/async');
    die "POST /api/process/async answered $st\n" unless $st == 200;
    return 1;
}

run_tests();

__DATA__

=== TEST 1: the connection is cut after DashScope made the task: it is found in the list and adopted, one submit
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7500000000000000001');
t::Emu::emu_fault('dashscope', { route => 'submit', process => 1, close => 1,
                                 count => 1 });
--- request eval
[ "POST /api/process",
  "GET /api/videos/7500000000000000001/result",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"message":"Processed 1 of 1 videos: 1 completed, 0 failed\.",/,
  qr/^\{"success":true,"data":\{"aweme_id":"7500000000000000001","status":"completed","text":"transcript of 7500000000000000001\.wav",/,
  qr/^\{"submits":1,"accepted":1,"queries":\d+,"lists":[1-9]\d*,.*"submits_per_file":\{"[^"]+\/7500000000000000001\.wav":1\},"files_per_submit":\[1\],/ ]
--- timeout: 20
--- error_log eval
[ qr/\[warn\] .*DashScope submit got no answer after sending: [^;]+; the submit of 1 video\(s\) \(first 7500000000000000001\) may have reached DashScope: not sent again; its task list is read again in \d+ ms/,
  qr/\[notice\] .*the submit of 1 video\(s\) \(first 7500000000000000001\) whose answer was lost reached DashScope as task [-0-9a-f]+ \(found in its task list\): polling it, not submitting again/ ]
--- no_error_log
[error]
ASR_SUBMIT_UNCERTAIN



=== TEST 2: the answer comes after douyin_http_timeout: the task is found and adopted, one submit
--- http_config
    douyin_store html/store map_size=64m;
    douyin_filesystem_url http://127.0.0.1:$TEST_NGINX_FSGO_PORT;
    douyin_asr_url http://127.0.0.1:$TEST_NGINX_DASHSCOPE_PORT;
    douyin_thread_pool douyin;
    douyin_poll_interval 100ms max=300ms;
    douyin_http_timeout 1s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7500000000000000002');
t::Emu::emu_fault('dashscope', { route => 'submit', late_ms => 2500,
                                 count => 1 });
--- request eval
[ "POST /api/process",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":1,"processed":1,"success":1,"failed":0,/,
  qr/^\{"submits":1,"accepted":1,.*"submits_per_file":\{"[^"]+\/7500000000000000002\.wav":1\},/ ]
--- timeout: 20
--- error_log eval
[ qr/DashScope submit got no answer after sending: Timeout was reached; the submit of 1 video\(s\) \(first 7500000000000000002\) may have reached DashScope/,
  qr/whose answer was lost reached DashScope as task [-0-9a-f]+ \(found in its task list\)/ ]
--- no_error_log
[error]



=== TEST 3: the submit never reached DashScope: the list answers without it, it is sent again exactly once
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7500000000000000003');
t::Emu::emu_fault('dashscope', { route => 'submit', close => 1, count => 1 });
--- request eval
[ "POST /api/process",
  "GET /api/videos/7500000000000000003/result",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":1,"processed":1,"success":1,"failed":0,/,
  qr/"status":"completed"/,
  qr/^\{"submits":2,"accepted":1,.*"lists":[1-9]\d*,.*"submits_per_file":\{"[^"]+\/7500000000000000003\.wav":1\},"files_per_submit":\[1\],/ ]
--- timeout: 20
--- error_log eval
qr/\[notice\] .*the submit of 1 video\(s\) \(first 7500000000000000003\) whose answer was lost is not in DashScope's task list: submitted again as task [-0-9a-f]+/
--- no_error_log
[error]
found in its task list



=== TEST 4: while the task list fails, the outcome stays unknown: processing, saying so, never resent, the list read again
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7500000000000000004');
t::Emu::emu_fault('dashscope', { route => 'submit', process => 1, close => 1,
                                 count => 1 });
t::Emu::emu_fault('dashscope', { route => 'list', status => 500,
                                 code => 'InternalError' });
main::start_async();
main::wait_lists(3);
--- request eval
[ "GET /api/videos/7500000000000000004/result",
  "GET /api/videos?status=processing",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/^\{"success":true,"data":\{"aweme_id":"7500000000000000004","status":"processing","message":"The video is being transcribed; the ASR provider has not answered its submit yet, and it is not sent again unless the provider's task list shows that it never arrived\."\}\}$/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"7500000000000000004","status":"processing",/,
  qr/^\{"submits":1,"accepted":1,"queries":0,"lists":(?:[3-9]|\d\d+),.*"submits_per_file":\{"[^"]+\/7500000000000000004\.wav":1\},/ ]
--- timeout: 20
--- error_log eval
qr/\[warn\] .*DashScope's task list answered HTTP 500; the submit of 1 video\(s\) \(first 7500000000000000004\) may have reached DashScope: not sent again; its task list is read again in \d+ ms/
--- no_error_log
[error]



=== TEST 5: the task list fails three times, then answers: the task is adopted and the video completes, one submit
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7500000000000000005');
t::Emu::emu_fault('dashscope', { route => 'submit', process => 1, close => 1,
                                 count => 1 });
t::Emu::emu_fault('dashscope', { route => 'list', status => 500,
                                 code => 'InternalError', count => 3 });
--- request eval
[ "POST /api/process",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"data":\{"total":1,"processed":1,"success":1,"failed":0,/,
  qr/^\{"submits":1,"accepted":1,"queries":\d+,"lists":(?:[4-9]|\d\d+),.*"submits_per_file":\{"[^"]+\/7500000000000000005\.wav":1\},/ ]
--- timeout: 30
--- error_log eval
[ qr/DashScope's task list answered HTTP 500; the submit of 1 video\(s\)/,
  qr/whose answer was lost reached DashScope as task [-0-9a-f]+ \(found in its task list\)/ ]
--- no_error_log
[error]



=== TEST 6: kill -9 of the worker while the outcome is unknown: the next worker settles it from the store, one submit
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('7500000000000000006');
t::Emu::emu_fault('dashscope', { route => 'submit', process => 1, close => 1,
                                 count => 1 });
t::Emu::emu_fault('dashscope', { route => 'list', status => 500,
                                 code => 'InternalError', count => 3 });
main::start_async();
main::wait_lists(1);
my $pid = t::Douyin::douyin_worker_of('7500000000000000006')
    or die "no worker holds 7500000000000000006\n";
kill 'KILL', $pid or die "kill -9 $pid: $!\n";
t::Douyin::douyin_wait(['7500000000000000006'], timeout => 25);
--- request eval
[ "GET /api/videos/7500000000000000006/result",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"status":"completed"/,
  qr/^\{"submits":1,"accepted":1,.*"submits_per_file":\{"[^"]+\/7500000000000000006\.wav":1\},/ ]
--- timeout: 40
--- error_log eval
[ qr/\[alert\] \d+#\d+: worker process \d+ exited on signal 9/,
  qr/\[notice\] \d+#\d+: douyin: resuming 1 video\(s\) left processing by a worker that is gone/,
  qr/whose answer was lost reached DashScope as task [-0-9a-f]+ \(found in its task list\)/ ]

# Scheduled transcription and retention inside nginx (issue: runs by
# itself): douyin_process_schedule fires at a local time of day in the
# zone nginx's workers see ("env TZ=...;"), in exactly one of two workers,
# also across a reload just before the minute; douyin_retention removes
# completed videos older than its age (WAV first, then record) at start
# and keeps what file-system-go could not delete; POST /api/aweme/cleanup
# does the same on demand; GET /health shows the next times and the last
# runs.
#
# Only one block waits for a minute boundary (the transcription one, last
# in the file); the others need no wall-clock wait longer than 3 s.
use t::Douyin;
use t::Emu;
use Test::Nginx::Socket 'no_plan';

use JSON::PP ();
use POSIX ();
use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
no_shuffle();
no_root_location();

our %S;     # what a block leaves for the next ones

# a zone that is not the host's, so that firing at the right instant
# proves the workers use nginx's "env TZ", not the host's zone
$S{tz} = POSIX::strftime('%z', localtime) eq '+0800' ? 'America/New_York'
                                                     : 'Asia/Shanghai';

# HH:MM in zone $tz of the Unix time $t
sub s_hhmm {
    my ($tz, $t) = @_;
    local $ENV{TZ} = $tz;
    POSIX::tzset();
    my $s = POSIX::strftime('%H:%M', localtime $t);
    delete local $ENV{TZ};
    POSIX::tzset();
    return $s;
}

$ENV{TEST_NGINX_SCHED_TZ} = $S{tz};
$ENV{TEST_NGINX_SCHED_LOCATIONS} = $ENV{TEST_NGINX_DOUYIN_LOCATIONS} . <<'_EOC_';
    location = /health            { douyin_health; }
    location = /api/aweme/cleanup { douyin_cleanup; }
_EOC_

# the block that waits for a minute computes it when it starts: the
# next minute at least 12 s away, as HH:MM in $S{tz}
add_block_preprocessor(sub {
    my $block = shift;
    return unless $block->name =~ /at the next minute/;
    my $t = time;
    my $slot = $t - $t % 60 + 60;
    $slot += 60 if $slot - $t < 12;
    $S{slot} = $slot;
    $ENV{TEST_NGINX_SCHED_AT} = s_hhmm($S{tz}, $slot);
});

sub s_log_lines {
    my ($re) = @_;
    open my $fh, '<', "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log" or return ();
    return grep { $_ =~ $re } <$fh>;
}

# the records of the store, by aweme_id (mdb_dump of "videos")
sub s_records {
    my $store = "$ENV{TEST_NGINX_SERVER_ROOT}/html/store";
    my $dump = `mdb_dump -p -s videos '$store' 2>/dev/null`;
    my %rec;
    while ($dump =~ /^ (\d+)\n (.*)$/mg) {
        my ($id, $v) = ($1, $2);
        $v =~ s/\\\\/\\/g;
        $rec{$id} = $v;
    }
    return \%rec;
}

sub s_health {
    my ($st, $json) = t::Douyin::douyin_get('/health');
    die "GET /health answered $st\n" unless $st == 200 && $json;
    return $json;
}

run_tests();

__DATA__

=== TEST 1: retention: completed videos are processed; pending and failed ones are not
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_retention 2s;
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- init
t::Emu::emu_wavs(map { "71100000000000000$_" } 11 .. 14);
t::Emu::emu_wav('7110000000000000021');
t::Emu::emu_fault('dashscope', { route => 'file', match => '0021.wav',
                                 code => 'FILE_DOWNLOAD_FAILED' });
my ($st, $json) = t::Douyin::douyin_post('/api/process');
is($st, 200, 'POST /api/process answers 200');
is_deeply($json && $json->{data}, { total => 5, processed => 5, success => 4,
                                   failed => 1, ignored => 0 },
          '4 completed, 1 failed');
# a video listed after the processing: pending, no record
t::Emu::emu_wav('7110000000000000031');
# one WAV that file-system-go will not delete
t::Emu::emu_fault('fsgo', { route => 'delete', match => '0014.wav',
                            status => 500, count => 1 });
# and one that takes 2 s, so that the run is seen going
t::Emu::emu_fault('fsgo', { route => 'delete', match => '0011.wav',
                            delay_ms => 2000, count => 1 });
$S{t0} = time;
--- request
GET /api/stats
--- response_body_like: ^\{"total":6,"completed":4,"processing":0,"failed":1,"pending":1,
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: retention scheduled daily at 03:07 local time \(age 2 s\); next at \d{4}-\d\d-\d\dT03:07:00[+-]\d\d:\d\d/
--- no_error_log
[error]



=== TEST 2: ... a reload 2 s later: the run at start removes them, WAV first; a failed delete keeps its record
--- init
Time::HiRes::sleep(0.2) while time - $S{t0} < 3;
t::Douyin::douyin_reload();
my $deadline = time + 10;
Time::HiRes::sleep(0.05)
    until (s_health()->{schedule}{retention}{last_run} || {})->{running}
          || time > $deadline;
my ($st, $json) = t::Douyin::douyin_post('/api/aweme/cleanup?days=1');
is($st, 409, 'POST /api/aweme/cleanup while the run at start goes: 409');
is($json && $json->{error}, 'CLEANUP_RUNNING', '... CLEANUP_RUNNING');
Time::HiRes::sleep(0.1)
    until s_log_lines(qr/douyin: retention \(start\) ended/) >= 2
          || time > $deadline;
my $rec = s_records();
is_deeply([ sort keys %$rec ], [ '7110000000000000014', '7110000000000000021' ],
          'the store keeps the failed video and the one whose WAV could not '
          . 'be deleted');
like($rec->{'7110000000000000014'}, qr/"status":"completed"/,
     '... that one still completed');
like($rec->{'7110000000000000021'}, qr/"status":"failed"/,
     '... the failed one as it was');
my $fs = t::Emu::emu_stats('fsgo');
is_deeply([ sort @{ $fs->{deleted} } ],
          [ map { "71100000000000000$_.wav" } 11 .. 13 ],
          'file-system-go deleted the WAVs of the 3 removed videos');
for my $id (map { "71100000000000000$_" } 11 .. 13) {
    ok(!-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/$id.wav", "$id.wav is gone");
}
ok(-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7110000000000000014.wav",
   '7110000000000000014.wav is still there');
ok(-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7110000000000000031.wav",
   'the pending WAV is still there');
my $h = s_health()->{schedule}{retention};
is($h->{age}, 2, 'GET /health: retention age 2 s');
is_deeply($h->{times}, ['03:07'], '... at 03:07');
is($h->{last_run}{trigger}, 'start', '... the last run was the one at start');
is($h->{last_run}{removed}, 3, '... which removed 3');
is($h->{last_run}{failed}, 1, '... and failed 1');
ok(!$h->{last_run}{running} && $h->{last_run}{ended_at} >= $h->{last_run}{started_at},
   '... and has ended');
--- request
GET /api/videos/7110000000000000011/result
--- response_body_like: ^\{"success":true,"data":\{"aweme_id":"7110000000000000011","status":"pending",
--- error_log eval
[ qr/\[error\] \d+#\d+: douyin: retention: FILESYSTEM_BAD_RESPONSE: file-system-go delete answered HTTP 500; the record of 7110000000000000014 is kept and tried again at the next run/,
  qr/\[notice\] \d+#\d+: douyin: retention \(start\) ended: 3 of 4 completed video\(s\) processed more than 2 s ago removed, 1 failed/ ]



=== TEST 3: ... the next run retries the one that failed
--- init
t::Douyin::douyin_reload();
my $deadline = time + 10;
Time::HiRes::sleep(0.1)
    until s_log_lines(qr/douyin: retention \(start\) ended/) >= 3
          || time > $deadline;
is_deeply([ sort keys %{ s_records() } ], [ '7110000000000000021' ],
          'only the failed video is left in the store');
ok(!-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7110000000000000014.wav",
   '7110000000000000014.wav is gone now');
--- request
GET /api/stats
--- response_body_like: ^\{"total":2,"completed":0,"processing":0,"failed":1,"pending":1,



=== TEST 4: POST /api/aweme/cleanup: bad days, wrong method
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- request eval
[ "POST /api/aweme/cleanup?days=0", "POST /api/aweme/cleanup?days=abc",
  "POST /api/aweme/cleanup?days=36501", "GET /api/aweme/cleanup" ]
--- error_code eval
[ 400, 400, 400, 405 ]
--- response_body eval
[ qq/{"success":false,"error":"INVALID_QUERY","detail":"days must be a whole number of days from 1 to 36500."}/,
  qq/{"success":false,"error":"INVALID_QUERY","detail":"days must be a whole number of days from 1 to 36500."}/,
  qq/{"success":false,"error":"INVALID_QUERY","detail":"days must be a whole number of days from 1 to 36500."}/,
  qq/{"success":false,"error":"METHOD_NOT_ALLOWED","detail":"This method is not allowed here."}/ ]
--- no_error_log
[error]



=== TEST 5: ... a fresh completed video is not older than 1 day: nothing removed
--- init
t::Emu::emu_wavs('7120000000000000001');
t::Douyin::douyin_post('/api/process');
--- request
POST /api/aweme/cleanup?days=1
--- response_body chomp
{"success":true,"deleted":0,"failed":[]}
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: retention \(manual\) ended: 0 of 0 completed video\(s\) processed more than 86400 s ago removed, 0 failed/
--- no_error_log
[error]



=== TEST 6: ... days defaults to 30; the video stays
--- init
my ($st, $json) = t::Douyin::douyin_get('/api/videos/7120000000000000001/result');
is($json && $json->{data}{status}, 'completed', 'the video is still completed');
--- request
POST /api/aweme/cleanup
--- response_body_like: ^\{"success":true,"deleted":0,"failed":\[\]\}$
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: retention \(manual\) ended: 0 of 0 completed video\(s\) processed more than 2592000 s ago removed, 0 failed/



=== TEST 7: GET /health without schedules is what it was
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- request
GET /health
--- response_body_like: ^\{"status":"healthy","version":"0\.1\.0","processor_ready":true\}$



=== TEST 8: the next times follow the zone of nginx's "env TZ" (no wait)
--- main_config
    env ALIYUN_ACCESS_KEY;
    env TZ=America/Los_Angeles;
    thread_pool douyin threads=2;
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_process_schedule 09:45 17:15;
    douyin_retention 45d at=03:07;
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- init
my $deadline = time + 10;
Time::HiRes::sleep(0.1)
    until s_log_lines(qr/douyin: retention \(start\) ended/) || time > $deadline;
my $h = s_health()->{schedule};
is_deeply($h->{process}{times}, ['09:45', '17:15'], 'process times');
is($h->{process}{scope}, 'all', '... scope all');
is($h->{process}{last_run}, undef, '... never run');
is(s_hhmm('America/Los_Angeles', $h->{process}{next_at}) =~ /^(09:45|17:15)$/ ? 1 : 0, 1,
   '... next_at is 09:45 or 17:15 in Los Angeles') or diag($h->{process}{next_at});
cmp_ok($h->{process}{next_at}, '>', time, '... in the future');
cmp_ok($h->{process}{next_at}, '<=', time + 86400, '... within a day');
like($h->{process}{next}, qr/^\d{4}-\d\d-\d\dT(09:45|17:15):00-0[78]:00$/,
     '... next is a local ISO 8601 time with the zone offset');
is($h->{retention}{age}, 45 * 86400, 'retention age 45 days in s');
is(s_hhmm('America/Los_Angeles', $h->{retention}{next_at}), '03:07',
   '... next at 03:07 in Los Angeles');
--- request
GET /health
--- response_body_like: ^\{"status":"healthy","version":"0\.1\.0","processor_ready":true,"schedule":\{"process":\{"times":\["09:45","17:15"\],"next":"[^"]+","next_at":\d+,"last_run":null,"scope":"all"\},"retention":\{"times":\["03:07"\],"next":"[^"]+","next_at":\d+,"last_run":\{"trigger":"start",
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: transcription scheduled daily at 09:45 17:15 local time \(scope=all\); next at \d{4}-\d\d-\d\dT(09:45|17:15):00-0[78]:00/



=== TEST 9: transcription at the next minute, in a zone not the host's, two workers, a reload just before: one run; retention at the same minute skips while the run at start still goes
--- main_config
    env ALIYUN_ACCESS_KEY;
    env TZ=$TEST_NGINX_SCHED_TZ;
    thread_pool douyin threads=2;
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_process_schedule $TEST_NGINX_SCHED_AT;
    douyin_retention 2s at=$TEST_NGINX_SCHED_AT;
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- init
# a completed video whose WAV takes 4 s to delete (less than
# douyin_http_timeout): the retention run of the reload below still goes
# at the minute
t::Emu::emu_wavs('7130000000000000009');
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('fsgo', { route => 'delete', match => '0009.wav',
                            delay_ms => 4000, count => 1 });
t::Emu::emu_wavs('7130000000000000001', '7130000000000000002');
my $h = s_health()->{schedule}{process};
is($h->{next_at}, $S{slot}, 'GET /health: the next run is at the computed minute');
Time::HiRes::sleep(0.2) while time < $S{slot} - 2;
is(t::Emu::emu_stats('dashscope')->{submits}, 1, 'nothing more submitted before the minute');
t::Douyin::douyin_reload();
t::Douyin::douyin_wait([ '7130000000000000001', '7130000000000000002' ],
                       timeout => 30);
my $deadline = time + 15;
my ($last, $ret);
Time::HiRes::sleep(0.1)
    until ($last = s_health()->{schedule}{process}{last_run}) && $last->{ended_at}
          && ($ret = s_health()->{schedule}{retention}{last_run}) && $ret->{ended_at}
          || time > $deadline;
cmp_ok($last->{started_at}, '>=', $S{slot}, 'the run started at the minute, not before');
cmp_ok($last->{started_at}, '<=', $S{slot} + 5, '... and not late');
is($last->{trigger}, 'schedule', '... by the schedule');
is($last->{listed}, 3, '... 3 listed');
is($last->{started}, 2, '... 2 started');
is($last->{completed}, 2, '... 2 completed');
is($last->{failed}, 0, '... 0 failed');
is(scalar(s_log_lines(qr/douyin: scheduled transcription started: 3 video\(s\) listed, 2 to transcribe/)), 1,
   'one worker started it');
is(scalar(s_log_lines(qr/douyin transcription: slot $S{slot} run by another worker/)), 1,
   'the other worker found the slot taken');
my $per_file = t::Emu::emu_stats('dashscope')->{submits_per_file};
is_deeply([ sort values %$per_file ], [ 1, 1, 1 ], 'each video submitted once');
cmp_ok(scalar(s_log_lines(qr/\[notice\] \d+#\d+: douyin: retention \(schedule\) skipped: (the last run|this worker's run) is still going/)),
       '>=', 1, 'the retention at the minute skipped: the run at start still went');
is($ret->{trigger}, 'start', 'the last retention run is the one at start');
is($ret->{removed}, 1, '... which removed the old video');
ok(!-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7130000000000000009.wav", '... and its WAV');
--- request
GET /emu/dashscope/stats
--- response_body_like: ^\{"submits":3,"accepted":3,
--- timeout: 120
--- no_error_log
[error]

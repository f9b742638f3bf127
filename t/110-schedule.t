# Scheduled transcription and retention inside nginx (issue: runs by
# itself): douyin_process_schedule fires at a local time of day in the
# zone nginx's workers see ("env TZ=...;"), in exactly one of two workers,
# also across a reload just before the minute; douyin_retention removes
# completed videos older than its age (WAV first, then record) at start
# and keeps what file-system-go could not delete; POST /api/aweme/cleanup
# does the same on demand; GET /health shows the next times and the last
# runs.
#
# Two blocks wait for a minute boundary (TEST 7, TEST 8); the others need no
# wall-clock wait longer than 3 s.  Every block stands alone; the --- init
# code asserts, so the plan is not computed.
use t::Douyin;
use Test::Nginx::Socket 'no_plan';

use POSIX ();
use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
no_root_location();

# a zone that is not the host's, so that firing at the right instant
# proves the workers use nginx's "env TZ", not the host's zone
our $Tz = POSIX::strftime('%z', localtime) eq '+0800' ? 'America/New_York'
                                                      : 'Asia/Shanghai';
our $Slot;      # TEST 9's minute, Unix s

$ENV{TEST_NGINX_SCHED_TZ} = $Tz;
$ENV{TEST_NGINX_SCHED_LOCATIONS} = $ENV{TEST_NGINX_DOUYIN_LOCATIONS} . <<'_EOC_';
    location = /health            { douyin_health; }
    location = /api/aweme/cleanup { douyin_cleanup; }
_EOC_

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

# the block that waits for a minute computes it when it starts: the
# next minute at least 12 s away, as HH:MM in $Tz
add_block_preprocessor(sub {
    my $block = shift;
    return unless $block->name =~ /at the next minute/;
    my $t = time;
    $Slot = $t - $t % 60 + 60;
    $Slot += 60 if $Slot - $t < 12;
    $ENV{TEST_NGINX_SCHED_AT} = s_hhmm($Tz, $Slot);
});

# how many lines of error.log match $re (the log may hold earlier blocks'
# lines: compare counts taken in the block)
sub s_log_count {
    my ($re) = @_;
    open my $fh, '<', "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log" or return 0;
    return scalar grep { $_ =~ $re } <$fh>;
}

# waits up to $timeout s until s_log_count($re) reaches $n
sub s_wait_log {
    my ($re, $n, $timeout) = @_;
    my $deadline = time + ($timeout || 10);
    Time::HiRes::sleep(0.1)
        until s_log_count($re) >= $n || time > $deadline;
    return s_log_count($re);
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

# the pid of the master that a binary upgrade (USR2 to $old) started, or
# undef after 5 s: nginx.pid is renamed nginx.pid.oldbin, then written by
# the new master
sub s_new_master {
    my ($old) = @_;
    my $deadline = time + 5;
    while (time < $deadline) {
        if (-e "$ENV{TEST_NGINX_SERVER_ROOT}/logs/nginx.pid.oldbin"
            && open my $fh, '<', "$ENV{TEST_NGINX_SERVER_ROOT}/logs/nginx.pid")
        {
            my $pid = <$fh> // '';
            return $1 if $pid =~ /^(\d+)$/ && $1 != $old;
        }
        Time::HiRes::sleep(0.05);
    }
    return undef;
}

# a process runs (exists and is not a zombie)
sub s_alive {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat !~ /^\d+ \(.*\) Z/s;
}

sub s_wav_exists { -e "$ENV{TEST_NGINX_EMU_WAV_DIR}/$_[0].wav" }

run_tests();

__DATA__

=== TEST 1: retention: a reload 2 s after processing removes the completed videos, WAV first; a failed delete keeps its record and is retried; pending, pushed pending, failed and tombstones stay
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_retention 2s;
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- init
my $ended = qr/douyin: retention \(start\) ended/;
my $deadline = time + 10;
Time::HiRes::sleep(0.1)
    until (main::s_health()->{schedule}{retention}{last_run} || {})->{ended_at}
          || time > $deadline;
t::Emu::emu_wavs(map { "71100000000000000$_" } 11 .. 15);
t::Emu::emu_wav('7110000000000000021');
t::Emu::emu_fault('dashscope', { route => 'file', match => '0021.wav',
                                 code => 'FILE_DOWNLOAD_FAILED' });
my ($st, $json) = t::Douyin::douyin_post('/api/process');
Test::More::is_deeply($json && $json->{data},
    { total => 6, processed => 6, success => 5, failed => 1, ignored => 0 },
    'POST /api/process: 5 completed, 1 failed');
# a tombstone (its WAV kept) and a pushed video not listed yet: neither
# is "completed", so retention leaves both alone however old
($st, $json) = t::Douyin::douyin_req('DELETE',
                                     '/api/videos/7110000000000000015?keep_file=true');
Test::More::is($st, 200, 'DELETE 7110000000000000015, its file kept: a tombstone');
($st, $json) = t::Douyin::douyin_post('/api/aweme/7110000000000000041/pending',
    '{"audio_filename":"7110000000000000041.wav","title":"pushed"}');
Test::More::is($st, 200, 'the collector pushed 7110000000000000041');
my $t0 = time;
# listed after the processing: pending, no record
t::Emu::emu_wav('7110000000000000031');
# one WAV that file-system-go will not delete, one it takes 2 s to delete
t::Emu::emu_fault('fsgo', { route => 'delete', match => '0014.wav',
                            status => 500, count => 1 });
t::Emu::emu_fault('fsgo', { route => 'delete', match => '0011.wav',
                            delay_ms => 2000, count => 1 });
my $n = main::s_log_count($ended);
Time::HiRes::sleep(0.2) while time - $t0 < 3;
t::Douyin::douyin_reload();
$deadline = time + 10;
Time::HiRes::sleep(0.05)
    until (main::s_health()->{schedule}{retention}{last_run} || {})->{running}
          || time > $deadline;
($st, $json) = t::Douyin::douyin_post('/api/aweme/cleanup?days=1');
Test::More::is($st, 409, 'POST /api/aweme/cleanup while the run at start goes: 409');
Test::More::is($json && $json->{error}, 'CLEANUP_RUNNING', '... CLEANUP_RUNNING');
main::s_wait_log($ended, $n + 1);
my $rec = main::s_records();
Test::More::is_deeply([ sort keys %$rec ],
    [ '7110000000000000014', '7110000000000000015', '7110000000000000021',
      '7110000000000000041' ],
    'the store keeps the failed video, the one whose WAV could not be deleted, the tombstone and the pushed video');
Test::More::like($rec->{'7110000000000000015'}, qr/"status":"deleted"/,
                 '... the tombstone as it was');
Test::More::like($rec->{'7110000000000000041'}, qr/"status":"pending"/,
                 '... the pushed video still pending');
Test::More::like($rec->{'7110000000000000014'}, qr/"status":"completed"/,
                 '... that one still completed');
Test::More::like($rec->{'7110000000000000021'}, qr/"status":"failed"/,
                 '... the failed one as it was');
Test::More::is_deeply([ sort @{ t::Emu::emu_stats('fsgo')->{deleted} } ],
                      [ map { "71100000000000000$_.wav" } 11 .. 13 ],
                      'file-system-go deleted the WAVs of the 3 removed videos');
Test::More::ok(!main::s_wav_exists($_), "$_.wav is gone")
    for map { "71100000000000000$_" } 11 .. 13;
Test::More::ok(main::s_wav_exists('7110000000000000014'),
               '7110000000000000014.wav is still there');
Test::More::ok(main::s_wav_exists('7110000000000000031'),
               'the pending WAV is still there');
Test::More::ok(main::s_wav_exists('7110000000000000015'),
               "the tombstone's kept WAV is still there");
my $h = main::s_health()->{schedule}{retention};
Test::More::is($h->{age}, 2, 'GET /health: retention age 2 s');
Test::More::is_deeply($h->{times}, ['03:07'], '... at 03:07');
Test::More::is($h->{last_run}{trigger}, 'start', '... the last run was the one at start');
Test::More::is($h->{last_run}{removed}, 3, '... which removed 3');
Test::More::is($h->{last_run}{failed}, 1, '... and failed 1');
Test::More::ok(!$h->{last_run}{running}
               && $h->{last_run}{ended_at} >= $h->{last_run}{started_at},
               '... and has ended');
# the next run retries the one that failed
t::Douyin::douyin_reload();
main::s_wait_log($ended, $n + 2);
Test::More::is_deeply([ sort keys %{ main::s_records() } ],
                      [ '7110000000000000015', '7110000000000000021',
                        '7110000000000000041' ],
                      'the next run removed it: the failed video, the tombstone and the pushed video are left');
Test::More::ok(!main::s_wav_exists('7110000000000000014'),
               '7110000000000000014.wav is gone now');
--- request
GET /api/stats
--- response_body_like: ^\{"total":2,"completed":0,"processing":0,"failed":1,"pending":2,
--- error_log eval
[ qr/\[notice\] \d+#\d+: douyin: retention scheduled daily at 03:07 local time \(age 2 s\); next at \d{4}-\d\d-\d\dT03:07:00[+-]\d\d:\d\d/,
  qr/\[error\] \d+#\d+: douyin: retention: FILESYSTEM_BAD_RESPONSE: file-system-go delete answered HTTP 500; the record of 7110000000000000014 is kept and tried again at the next run/,
  qr/\[notice\] \d+#\d+: douyin: retention \(start\) ended: 3 of 4 completed video\(s\) processed more than 2 s ago removed, 1 failed/,
  qr/\[notice\] \d+#\d+: douyin: retention \(start\) ended: 1 of 1 completed video\(s\) processed more than 2 s ago removed, 0 failed/ ]
--- timeout: 30



=== TEST 2: POST /api/aweme/cleanup: bad days, wrong method
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
[ qq/{"success":false,"error":"INVALID_QUERY","detail":"days must be a whole number from 1 to 36500."}/,
  qq/{"success":false,"error":"INVALID_QUERY","detail":"days must be a whole number from 1 to 36500."}/,
  qq/{"success":false,"error":"INVALID_QUERY","detail":"days must be a whole number from 1 to 36500."}/,
  qq/{"success":false,"error":"METHOD_NOT_ALLOWED","detail":"This method is not allowed here."}/ ]
--- no_error_log
[error]



=== TEST 3: POST /api/aweme/cleanup?days=1: a fresh completed video is not removed
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    $TEST_NGINX_SCHED_LOCATIONS
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



=== TEST 4: POST /api/aweme/cleanup: days defaults to 30; the video stays
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- init
t::Emu::emu_wavs('7120000000000000002');
t::Douyin::douyin_post('/api/process');
my ($st, $json) = t::Douyin::douyin_post('/api/aweme/cleanup');
Test::More::is_deeply($json, { success => JSON::PP::true(), deleted => 0,
                               failed => [] }, 'nothing deleted');
--- request
GET /api/videos/7120000000000000002/result
--- response_body_like: "status":"completed"
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: retention \(manual\) ended: 0 of 0 completed video\(s\) processed more than 2592000 s ago removed, 0 failed/
--- no_error_log
[error]



=== TEST 5: GET /health without schedules is what it was
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- request
GET /health
--- response_body_like: ^\{"status":"healthy","version":"0\.1\.0","processor_ready":true\}$



=== TEST 6: the next times follow the zone of nginx's "env TZ" (no wait)
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
    until (main::s_health()->{schedule}{retention}{last_run} || {})->{ended_at}
          || time > $deadline;
my $h = main::s_health()->{schedule};
Test::More::is_deeply($h->{process}{times}, ['09:45', '17:15'], 'process times');
Test::More::is($h->{process}{scope}, 'all', '... scope all');
Test::More::is($h->{process}{last_run}, undef, '... never run');
Test::More::like(main::s_hhmm('America/Los_Angeles', $h->{process}{next_at}),
                 qr/^(?:09:45|17:15)$/,
                 '... next_at is 09:45 or 17:15 in Los Angeles');
Test::More::cmp_ok($h->{process}{next_at}, '>', time, '... in the future');
Test::More::cmp_ok($h->{process}{next_at}, '<=', time + 86400, '... within a day');
Test::More::like($h->{process}{next},
                 qr/^\d{4}-\d\d-\d\dT(?:09:45|17:15):00-0[78]:00$/,
                 '... next is a local ISO 8601 time with the zone offset');
Test::More::is($h->{retention}{age}, 45 * 86400, 'retention age 45 days in s');
Test::More::is(main::s_hhmm('America/Los_Angeles', $h->{retention}{next_at}),
               '03:07', '... next at 03:07 in Los Angeles');
Test::More::is($h->{retention}{last_run}{trigger}, 'start', '... run at start');
--- request
GET /health
--- response_body_like: ^\{"status":"healthy","version":"0\.1\.0","processor_ready":true,"schedule":\{"process":\{"times":\["09:45","17:15"\],"next":"[^"]+","next_at":\d+,"last_run":null,"scope":"all"\},"retention":\{"times":\["03:07"\],"next":"[^"]+","next_at":\d+,"last_run":\{"trigger":"start",
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: transcription scheduled daily at 09:45 17:15 local time \(scope=all\); next at \d{4}-\d\d-\d\dT(09:45|17:15):00-0[78]:00/



=== TEST 7: transcription at the next minute, in a zone not the host's, two workers, a reload and a binary upgrade just before: one run; retention at the same minute skips while the run at start still goes
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
my $slot = $main::Slot;
my $started = qr/douyin: scheduled transcription started: 3 video\(s\) listed, 2 to transcribe/;
my $skipped = qr/\[notice\] \d+#\d+: douyin: retention \(schedule\) skipped: (?:the last run|this worker's run) is still going/;
my ($n_started, $n_skipped) = map { main::s_log_count($_) } $started, $skipped;
# a completed video whose WAV takes 4 s to delete (less than
# douyin_http_timeout): the retention run of the reload below still goes
# at the minute
t::Emu::emu_wavs('7130000000000000009');
t::Douyin::douyin_post('/api/process');
t::Emu::emu_fault('fsgo', { route => 'delete', match => '0009.wav',
                            delay_ms => 4000, count => 1 });
t::Emu::emu_wavs('7130000000000000001', '7130000000000000002');
Test::More::is(main::s_health()->{schedule}{process}{next_at}, $slot,
               'GET /health: the next run is at the computed minute');
Time::HiRes::sleep(0.2) while time < $slot - 3;
Test::More::is(t::Emu::emu_stats('dashscope')->{submits}, 1,
               'nothing more submitted before the minute');
# a reload, then a binary upgrade: at the minute the reloaded workers of
# the old master and the workers of the new one all arm the same slot
t::Douyin::douyin_reload();
my $old = t::Douyin::douyin_master_pid();
kill 'USR2', $old or die "kill -USR2 $old: $!\n";
my $new = main::s_new_master($old);
Test::More::ok($new && main::s_alive($new) && main::s_alive($old),
               'a new master runs beside the old one');
t::Douyin::douyin_wait([ '7130000000000000001', '7130000000000000002' ],
                       timeout => 30);
my $deadline = time + 15;
my ($last, $ret);
Time::HiRes::sleep(0.1)
    until ($last = main::s_health()->{schedule}{process}{last_run})
          && $last->{ended_at}
          && ($ret = main::s_health()->{schedule}{retention}{last_run})
          && $ret->{ended_at}
          || time > $deadline;
Test::More::cmp_ok($last->{started_at}, '>=', $slot,
                   'the run started at the minute, not before');
Test::More::cmp_ok($last->{started_at}, '<=', $slot + 5, '... and not late');
Test::More::is($last->{trigger}, 'schedule', '... by the schedule');
Test::More::is($last->{listed}, 3, '... 3 listed');
Test::More::is($last->{started}, 2, '... 2 started');
Test::More::is($last->{completed}, 2, '... 2 completed');
Test::More::is($last->{failed}, 0, '... 0 failed');
Test::More::is(main::s_log_count($started) - $n_started, 1,
               'one worker started it');
Test::More::is(main::s_log_count(qr/douyin transcription: slot $slot run by another worker/), 3,
               'the other 3 workers (2 masters, 2 workers each) found the slot taken');
Test::More::is_deeply([ sort values %{ t::Emu::emu_stats('dashscope')->{submits_per_file} } ],
                      [ 1, 1, 1 ], 'each video submitted once');
Test::More::cmp_ok(main::s_log_count($skipped) - $n_skipped, '>=', 1,
                   'the retention at the minute skipped: the run at start still went');
Test::More::is($ret->{trigger}, 'start', 'the last retention run is the one at start');
Test::More::is($ret->{removed}, 1, '... which removed the old video');
Test::More::ok(!main::s_wav_exists('7130000000000000009'), '... and its WAV');
# the upgrade ends as it does in production: the old master quits
kill 'QUIT', $old;
$deadline = time + 10;
Time::HiRes::sleep(0.1) while main::s_alive($old) && time < $deadline;
Test::More::ok(!main::s_alive($old), 'the old master has quit');
--- request
GET /emu/dashscope/stats
--- response_body_like: ^\{"submits":3,"accepted":3,
--- timeout: 120
--- no_error_log
[error]



=== TEST 8: scope=pending at the next minute: the video the collector pushed is transcribed without any call; the listed WAV nobody pushed is not
--- main_config
    env ALIYUN_ACCESS_KEY;
    env TZ=$TEST_NGINX_SCHED_TZ;
    thread_pool douyin threads=2;
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_process_schedule $TEST_NGINX_SCHED_AT scope=pending;
--- config
    $TEST_NGINX_SCHED_LOCATIONS
--- init
my $slot = $main::Slot;
t::Emu::emu_wavs('7140000000000000001', '7140000000000000002');
my ($st, $json) = t::Douyin::douyin_post('/api/aweme/7140000000000000001/pending',
    '{"audio_filename":"7140000000000000001.wav","title":"pushed"}');
Test::More::is($st, 200, 'the collector pushed 7140000000000000001');
my $h = main::s_health()->{schedule}{process};
Test::More::is($h->{scope}, 'pending', 'GET /health: scope pending');
Test::More::is($h->{next_at}, $slot, '... the next run is at the computed minute');
Time::HiRes::sleep(0.2) while time < $slot - 2;
Test::More::is(t::Emu::emu_stats('dashscope')->{submits}, 0,
               'nothing submitted before the minute');
t::Douyin::douyin_wait([ '7140000000000000001' ], timeout => 30);
my $deadline = time + 15;
my $last;
Time::HiRes::sleep(0.1)
    until ($last = main::s_health()->{schedule}{process}{last_run})
          && $last->{ended_at}
          || time > $deadline;
Test::More::cmp_ok($last->{started_at}, '>=', $slot,
                   'the run started at the minute, not before');
Test::More::is($last->{trigger}, 'schedule', '... by the schedule');
Test::More::is($last->{started}, 1, '... 1 started');
Test::More::is($last->{completed}, 1, '... 1 completed');
my @files = keys %{ t::Emu::emu_stats('dashscope')->{submits_per_file} };
Test::More::ok(@files == 1 && $files[0] =~ /7140000000000000001\.wav$/,
               'only the pushed WAV was submitted');
my $rec = main::s_records();
Test::More::ok(!exists $rec->{'7140000000000000002'},
               'the WAV nobody pushed has no record');
--- request
GET /emu/dashscope/stats
--- response_body_like: ^\{"submits":1,"accepted":1,
--- error_log eval
qr/\[notice\] \d+#\d+: douyin: transcription scheduled daily at \d\d:\d\d local time \(scope=pending\); next at /
--- timeout: 120
--- no_error_log
[error]

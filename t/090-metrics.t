# douyin_metrics (issue 17): the Prometheus text format 0.0.4 that
# promtool accepts, counters that move as the work goes (with injected
# 429s, 5xx, per-file failures and a timeout), one set of counters for
# both workers, counters that survive a reload, and gauges that forget a
# worker killed by SIGKILL.  The gateway's refusal of untrusted addresses
# is in t/040-gateway.t.
#
# Calls that must reach a given worker use the test port's "reuseport"
# listener as t/030-workers.t does: a keep-alive connection asks GET
# /w/pid which worker it reached, and the call is sent on it only when it
# is the wanted one.  Every block stands alone (README "Tests").
use t::Douyin;
use t::Emu;
use Test::Nginx::Socket 'no_plan';   # --- init asserts, as many as the run needs

use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
no_root_location();

$ENV{TEST_NGINX_M_LOCATIONS} = $ENV{TEST_NGINX_DOUYIN_LOCATIONS} . <<'_EOC_';
    location = /metrics { douyin_metrics; }
    location = /w/pid { return 200 $pid; }
_EOC_

$ENV{TEST_NGINX_M_HTTP} = $ENV{TEST_NGINX_DOUYIN_HTTP} . <<"_EOC_";
    server {
        listen @{[ Test::Nginx::Util::server_port() ]} reuseport;
        server_name douyin-reuseport;
$ENV{TEST_NGINX_M_LOCATIONS}
    }
_EOC_

# the same with every call to another server limited to 1 s
($ENV{TEST_NGINX_M_HTTP_1S} = $ENV{TEST_NGINX_M_HTTP})
    =~ s/douyin_http_timeout \S+;/douyin_http_timeout 1s;/
    or die "no douyin_http_timeout in the default http config\n";

sub m_port { t::Douyin::douyin_port() }

# reads one response from $sock: (status, head, body); the body ends at
# Content-Length, or at the end of the connection
sub m_read {
    my ($sock, $timeout) = @_;
    my $sel = IO::Select->new($sock);
    my ($buf, $head, $len) = ('');
    my $deadline = Time::HiRes::time() + ($timeout || 30);
    while (1) {
        if (!defined $head && (my $p = index($buf, "\r\n\r\n")) >= 0) {
            $head = substr($buf, 0, $p);
            $buf = substr($buf, $p + 4);
            ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
        }
        last if defined $len && length $buf >= $len;
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        next if !defined $n && ($!{EAGAIN} || $!{EINTR});
        last unless $n;
    }
    return (0, '', '') unless defined $head;
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    return ($status, $head, defined $len ? substr($buf, 0, $len) : $buf);
}

# $method $path on the worker $want (a pid; undef: any): (status, head,
# body, pid)
sub m_call {
    my ($want, $method, $path) = @_;
    for (1 .. 100) {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => m_port(),
                                          Proto => 'tcp', Timeout => 5)
            or die "m_call: connect: $@\n";
        syswrite($sock, "GET /w/pid HTTP/1.1\r\nHost: localhost\r\n\r\n");
        my ($st, undef, $pid) = m_read($sock, 5);
        die "m_call: GET /w/pid answered '$st'\n" unless $st == 200;
        if (!defined $want || $pid == $want) {
            syswrite($sock, "$method $path HTTP/1.1\r\nHost: localhost\r\n"
                            . "Connection: close\r\nContent-Length: 0\r\n\r\n");
            my @res = m_read($sock, 60);
            close $sock;
            return (@res, $pid);
        }
        close $sock;
    }
    die "m_call: worker $want not reached in 100 connections\n";
}

# the metrics as one worker sees them: { 'name{labels}' => value }, the
# text, and the Content-Type
sub m_scrape {
    my ($want) = @_;
    my ($st, $head, $body) = m_call($want, GET => '/metrics');
    die "m_scrape: GET /metrics answered $st\n" unless $st == 200;
    my %m;
    for my $line (split /\n/, $body) {
        next if $line =~ /^#/;
        $m{$1} = $2 if $line =~ /^(\S+) (\S+)$/;
    }
    my ($type) = $head =~ /^Content-Type:\s*([^\r\n]*)/mi;
    return (\%m, $body, $type);
}

# promtool check metrics on $text: (exit code, output)
sub m_promtool {
    my ($text) = @_;
    my $tmp = File::Temp->new(SUFFIX => '.prom');
    print {$tmp} $text;
    close $tmp;
    my $out = `promtool check metrics < '$tmp' 2>&1`;
    return ($? == -1 ? 127 : $? >> 8, $out);
}

# the sum of the samples of a family ('name'), or of those whose labels
# begin so ('name{kind="submit"')
sub m_sum {
    my ($m, $name) = @_;
    my $sum = 0;
    $sum += $m->{$_} for grep { /^\Q$name\E(?:[{,]|$)/ } keys %$m;
    return $sum;
}

# the two running workers
sub m_workers {
    my $master = t::Douyin::douyin_master_pid();
    my $deadline = Time::HiRes::time() + 10;
    while (1) {
        my @w;
        opendir my $dh, '/proc' or die "m_workers: /proc: $!\n";
        for my $p (grep { /^\d+$/ } readdir $dh) {
            open my $fh, '<', "/proc/$p/stat" or next;
            my $stat = <$fh> // '';
            next unless $stat =~ /^\d+ \(.*\) (\S) (\d+)/s && $2 == $master
                        && $1 ne 'Z';
            open my $c, '<', "/proc/$p/cmdline" or next;
            my $cmd = do { local $/; <$c> } // '';
            push @w, $p if $cmd =~ /worker process\0*$/;
        }
        return sort { $a <=> $b } @w if @w == 2;
        die "m_workers: " . scalar(@w) . " workers\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

# waits until the metric $key (as seen by any worker) is $want
sub m_wait {
    my ($key, $want, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout || 20);
    my $m;
    while (1) {
        ($m) = main::m_scrape();
        return $m if ($m->{$key} // -1) == $want;
        die "m_wait: $key is " . ($m->{$key} // 'absent') . ", not $want\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

# waits until aweme_id's provider task runs in the emulator
sub m_wait_running {
    my ($id) = @_;
    my $deadline = Time::HiRes::time() + 10;
    my $tid;
    until (($tid = t::Douyin::douyin_task_of($id))
           && ((t::Emu::emu_task($tid) || {})->{status} // '') eq 'RUNNING')
    {
        die "m_wait_running: $id: no running task\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
    return $tid;
}

run_tests();

__DATA__

=== TEST 1: a fresh nginx: every family in the text format 0.0.4 that promtool accepts, all zero
--- http_config
    $TEST_NGINX_M_HTTP
--- config
    $TEST_NGINX_M_LOCATIONS
--- init
my ($m, $text, $type) = main::m_scrape();
Test::More::is($type, 'text/plain; version=0.0.4', 'Content-Type of the format 0.0.4');
my ($rc, $out) = main::m_promtool($text);
Test::More::is($rc, 0, 'promtool check metrics accepts it') or diag($out, $text);
my %typed = map { $_ => 1 } $text =~ /^# TYPE (\S+) \S+$/mg;
my %helped = map { $_ => 1 } $text =~ /^# HELP (\S+) \S/mg;
Test::More::is_deeply(\%helped, \%typed, 'every family has # HELP and # TYPE');
my @untyped = grep { my $f = $_; $f =~ s/\{.*//;
                     $f =~ s/_(?:bucket|sum|count)$// unless $typed{$f};
                     !$typed{$f} } keys %$m;
Test::More::is_deeply(\@untyped, [], 'every sample belongs to a typed family');
Test::More::is_deeply([sort keys %typed], [sort map { "douyin_$_" } qw(
    videos store_size_bytes store_used_bytes videos_claimed_total
    videos_resumed_total videos_completed_total videos_failed_total
    listing_videos listing_pending_videos listing_age_seconds
    videos_in_flight videos_queued thread_ops_running
    provider_requests_total filesystem_requests_total retries_total
    rate_limit_waits_total rate_limit_wait_seconds_total
    billed_audio_seconds_total thread_ops_total
    video_claim_to_stored_seconds provider_task_duration_seconds
    thread_op_duration_seconds)], 'the 23 families of README "Metrics"');
my @moved = grep { $m->{$_} != 0 && !/^douyin_store_\w+_bytes$/
                   && !/op="recover"/ && $_ ne 'douyin_thread_ops_running' }
             keys %$m;
Test::More::is_deeply(\@moved, [], 'nothing has counted yet (but the recovery ops, '
                       . 'every 3 s, which may be running)');
my %ops = map { /^douyin_thread_ops_total\{op="(\w+)"\}$/ ? ($1 => 1) : () }
          keys %$m;
Test::More::is_deeply([sort keys %ops], [sort qw(list submit poll fail
    recover listing read delete push list_pending lease lease_end
    expire_scan expire settle)], 'one op label per thread operation, 15');
Test::More::is($m->{'douyin_videos{status="completed"}'}, 0, 'no video in the store');
Test::More::cmp_ok($m->{douyin_store_size_bytes}, '==', 64 * 1024 * 1024,
       'the store map size is douyin_store map_size=64m');
Test::More::cmp_ok($m->{douyin_store_used_bytes}, '>', 0, 'the store uses some pages');
Test::More::ok(!exists $m->{douyin_listing_age_seconds},
   'no listing age before the first listing');
--- request eval
[ "GET /metrics", "HEAD /metrics", "POST /metrics" ]
--- error_code eval
[ 200, 200, 405 ]
--- response_headers_like eval
[ "Content-Type: text/plain; version=0\\.0\\.4", "Content-Type: text/plain; version=0\\.0\\.4", "Allow: GET, HEAD" ]
--- no_error_log
[error]



=== TEST 2: a process run with injected 429s, a 5xx, two per-file failures and a timeout: every counter moves by what happened
--- http_config
    $TEST_NGINX_M_HTTP_1S
    douyin_asr_rate submit=4 query=off;
--- config
    $TEST_NGINX_M_LOCATIONS
--- init
t::Emu::emu_wavs(map { "710000000000000000$_" } 1 .. 4);
t::Emu::emu_fault(dashscope => { route => 'submit', status => 429, count => 2 });
t::Emu::emu_fault(dashscope => { route => 'query', status => 500, count => 1 });
t::Emu::emu_fault(dashscope => { route => 'file', match => '7100000000000000002.wav',
                         code => 'FILE_404_NOT_FOUND' });
t::Emu::emu_fault(dashscope => { route => 'file', match => '7100000000000000003.wav',
                         code => 'InvalidFile.DownloadFailed' });
t::Emu::emu_fault(fsgo => { route => 'metadata', delay_ms => 1500, count => 1 });
my ($st, $json) = t::Douyin::douyin_post('/api/process');
Test::More::is_deeply($json && $json->{data}, { total => 4, processed => 4, success => 2,
                                   failed => 2, ignored => 0 },
          'the run: 2 completed, 2 failed');
my ($m, $text) = main::m_scrape();
my ($rc, $out) = main::m_promtool($text);
Test::More::is($rc, 0, 'promtool check metrics accepts it') or diag($out);
my %want = (
    'douyin_videos_claimed_total' => 4,
    'douyin_videos_completed_total' => 2,
    'douyin_videos_failed_total{code="FILE_404_NOT_FOUND"}' => 1,
    'douyin_videos_failed_total{code="InvalidFile.DownloadFailed"}' => 1,
    'douyin_videos{status="completed"}' => 2,
    'douyin_videos{status="failed"}' => 2,
    'douyin_videos{status="processing"}' => 0,
    'douyin_provider_requests_total{kind="submit",outcome="429"}' => 2,
    'douyin_provider_requests_total{kind="submit",outcome="2xx"}' => 4,
    'douyin_provider_requests_total{kind="query",outcome="5xx"}' => 1,
    'douyin_provider_requests_total{kind="result",outcome="2xx"}' => 2,
    'douyin_retries_total{step="submit"}' => 2,
    'douyin_retries_total{step="poll"}' => 1,
    'douyin_filesystem_requests_total{kind="list",outcome="2xx"}' => 1,
    'douyin_filesystem_requests_total{kind="metadata",outcome="timeout"}' => 1,
    'douyin_thread_ops_total{op="list"}' => 1,
    'douyin_thread_ops_total{op="submit"}' => 6,
    'douyin_thread_op_duration_seconds_count{op="submit"}' => 6,
    'douyin_video_claim_to_stored_seconds_count' => 4,
    'douyin_provider_task_duration_seconds_count' => 4,
    'douyin_listing_videos' => 4,
    'douyin_listing_pending_videos' => 0,
    'douyin_videos_in_flight' => 0,
    'douyin_videos_queued' => 0,
    'douyin_thread_ops_running' => 0,
);
Test::More::is($m->{$_}, $want{$_}, $_) for sort keys %want;
Test::More::is(main::m_sum($m, 'douyin_videos_failed_total'), 2, 'failures: 2 in all');
Test::More::is(main::m_sum($m, 'douyin_filesystem_requests_total{kind="metadata"'), 2,
   'metadata: one call per completed video');
my $submits = t::Emu::emu_stats('dashscope')->{submits};
Test::More::is(main::m_sum($m, 'douyin_provider_requests_total{kind="submit"'), $submits,
   "submits: as many as the emulator saw ($submits)");
Test::More::cmp_ok($m->{'douyin_rate_limit_waits_total{kind="submit"}'}, '>=', 3,
       '4 submits at 4/s: at least 3 waited for their slot');
Test::More::cmp_ok($m->{'douyin_rate_limit_wait_seconds_total{kind="submit"}'}, '>', 0.5,
       '... for more than 0.5 s in all');
Test::More::cmp_ok($m->{douyin_video_claim_to_stored_seconds_sum}, '>', 0,
       'claim to stored: some time');
Test::More::cmp_ok($m->{'douyin_video_claim_to_stored_seconds_bucket{le="+Inf"}'}, '==',
       4, '... +Inf bucket is the count');
Test::More::cmp_ok($m->{'douyin_listing_age_seconds'}, '<', 30, 'the listing is fresh');
--- request
GET /metrics
--- response_body_like: ^# HELP douyin_videos
--- error_log
DashScope submit answered HTTP 429



=== TEST 3: two workers, one set of counters: videos claimed on each are in flight and counted together
--- http_config
    $TEST_NGINX_M_HTTP
--- config
    $TEST_NGINX_M_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 2.0 });
my ($a, $b) = main::m_workers();
t::Emu::emu_generate(3, seconds => 0.2, start => '7200000000000000001');
my ($st, undef, $body) = main::m_call($a, POST => '/api/process/async');
Test::More::like($body, qr/"pending":3/, 'worker A claimed 3 videos');
t::Emu::emu_generate(2, seconds => 0.2, start => '7200000000000000101');
($st, undef, $body) = main::m_call($b, POST => '/api/process/async');
Test::More::like($body, qr/"pending":2/, 'worker B claimed 2 more');
main::m_wait_running($_) for qw(7200000000000000001 7200000000000000101);
my ($ma) = main::m_scrape($a);
my ($mb) = main::m_scrape($b);
Test::More::is($ma->{douyin_videos_in_flight}, 5, 'worker A sees 5 in flight');
Test::More::is($mb->{douyin_videos_in_flight}, 5, 'worker B sees 5 in flight');
Test::More::is($ma->{douyin_videos_claimed_total}, 5, 'worker A: 5 claimed in all');
Test::More::is($mb->{douyin_videos_claimed_total}, 5, 'worker B: 5 claimed in all');
t::Douyin::douyin_wait([ qw(7200000000000000001 7200000000000000002
                           7200000000000000003 7200000000000000101
                           7200000000000000102) ], timeout => 30);
($ma) = main::m_scrape($a);
($mb) = main::m_scrape($b);
for my $k ('douyin_videos_completed_total', 'douyin_videos_in_flight',
           'douyin_provider_requests_total{kind="submit",outcome="2xx"}',
           'douyin_videos{status="completed"}')
{
    Test::More::is($ma->{$k}, $mb->{$k}, "both workers show the same $k");
}
Test::More::is($ma->{douyin_videos_completed_total}, 5, '5 completed in all');
Test::More::is($ma->{'douyin_provider_requests_total{kind="submit",outcome="2xx"}'},
               5, '5 submits in all');
Test::More::is($ma->{douyin_videos_in_flight}, 0, 'none in flight any more');
--- request
GET /metrics
--- response_body_like: \ndouyin_videos_completed_total 5\n
--- no_error_log
[error]



=== TEST 4: a reload keeps the counters; a video handed over at the reload counts once, resumed
--- http_config
    $TEST_NGINX_M_HTTP
--- config
    $TEST_NGINX_M_LOCATIONS
--- init
my @old = main::m_workers();
t::Emu::emu_wavs('7250000000000000001', '7250000000000000002');
my ($st, $json) = t::Douyin::douyin_post('/api/process');
Test::More::is($json && $json->{data}{success}, 2, '2 videos completed first');
my ($m) = main::m_scrape();
Test::More::is($m->{douyin_videos_completed_total}, 2, 'completed: 2 before the reload');
t::Emu::emu_config('dashscope', { delay => 2.0 });
t::Emu::emu_wavs('7250000000000000003');
my $body;
($st, undef, $body) = main::m_call(undef, POST => '/api/process/async');
Test::More::like($body, qr/"pending":1/, 'one more video claimed');
main::m_wait_running('7250000000000000003');
t::Douyin::douyin_reload();
my @new = main::m_workers();
Test::More::ok(!grep({ my $n = $_; grep { $_ == $n } @old } @new),
               'new workers after the reload');
t::Douyin::douyin_wait(['7250000000000000003'], timeout => 30);
$m = main::m_wait('douyin_videos_completed_total', 3);
Test::More::is($m->{douyin_videos_claimed_total}, 3,
               'claimed: the 3, counted before the reload and after');
Test::More::is($m->{douyin_videos_resumed_total}, 1,
               'the handed-over video was resumed');
Test::More::is($m->{'douyin_provider_requests_total{kind="submit",outcome="2xx"}'},
               3, 'submits: 3, none twice');
Test::More::is($m->{douyin_videos_in_flight}, 0, 'none in flight');
Test::More::is($m->{douyin_video_claim_to_stored_seconds_count}, 3,
               'claim to stored: 3 observations');
--- request
GET /metrics
--- response_body_like: \ndouyin_videos_claimed_total 3\n
--- no_error_log
[error]



=== TEST 5: a worker killed by SIGKILL: its videos leave "in flight" with it and come back resumed
--- http_config
    $TEST_NGINX_M_HTTP
--- config
    $TEST_NGINX_M_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 2.0 });
t::Emu::emu_wavs('7300000000000000001');
my ($st, undef, $body) = main::m_call(undef, POST => '/api/process/async');
Test::More::like($body, qr/"pending":1/, 'one video claimed');
main::m_wait_running('7300000000000000001');
my $m = main::m_wait('douyin_videos_in_flight', 1);
Test::More::is($m->{douyin_videos_in_flight}, 1, 'in flight: 1');
t::Douyin::douyin_kill_owner('7300000000000000001');
t::Douyin::douyin_wait(['7300000000000000001'], timeout => 20);
$m = main::m_wait('douyin_videos_completed_total', 1);
Test::More::is($m->{douyin_videos_in_flight}, 0,
   'in flight: 0 (the killed worker\'s slot is not counted)');
Test::More::is($m->{douyin_videos_resumed_total}, 1, 'resumed: 1');
Test::More::is($m->{douyin_videos_claimed_total}, 1, 'claimed: 1');
--- request
GET /metrics
--- response_body_like: \ndouyin_videos_completed_total 1\n
--- error_log eval
qr/worker process \d+ exited on signal 9/



=== TEST 6: douyin_metrics without a store: the counters, no store gauges
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT reuseport;
        server_name douyin-reuseport;
        location = /metrics { douyin_metrics; }
        location = /w/pid { return 200 $pid; }
    }
--- config
    location = /metrics { douyin_metrics; }
    location = /w/pid { return 200 $pid; }
--- init
my ($m, $text) = main::m_scrape();
my ($rc, $out) = main::m_promtool($text);
Test::More::is($rc, 0, 'promtool check metrics accepts it') or diag($out);
Test::More::is($m->{douyin_videos_claimed_total}, 0, 'the counters are there');
Test::More::ok(!grep({ /^douyin_(?:videos\{|store_)/ } keys %$m),
   'no store counts or sizes without a store');
--- request
GET /metrics
--- response_body_like: \ndouyin_videos_in_flight 0\n
--- no_error_log
[error]

# A delete or mark-read that file-system-go took but did not answer in
# time (issue 14, item 2): the client gets 504 FILESYSTEM_OUTCOME_UNKNOWN,
# and the module settles the truth by itself afterwards, so that the store
# and file-system-go agree without the user repeating the call.  The
# emulator hangs past douyin_http_timeout (1s here) and then acts, or not.
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

repeat_each(1);
no_root_location();

# two workers: the note is in the store, so worker 0 settles what worker
# 1 answered, and a reload's new worker 0 what the old workers left
master_on();
workers(2);

# the usual http block with a 1 s timeout, so that a hang outlasts it
($ENV{TEST_NGINX_SETTLE_HTTP} = $ENV{TEST_NGINX_DOUYIN_HTTP})
    =~ s/douyin_http_timeout 5s;/douyin_http_timeout 1s;/ or die;

add_block_preprocessor(sub {
    my $block = shift;
    # three videos, processed once (by the newer file-system-go when the
    # block's configuration speaks its API)
    my $init = $block->init // '';
    my $api2 = ($block->http_config // '') =~ /douyin_filesystem_api 2/
               ? q{t::Emu::emu_config('fsgo', { api => '2' });} : '';
    $block->set_value('init', $api2 . q{
        t::Emu::emu_wav('7000000000000000001');
        t::Emu::emu_wav('7000000000000000002');
        t::Emu::emu_wav('7000000000000000003');
        my ($pst) = t::Douyin::douyin_post('/api/process');
        die "process answered $pst\n" unless $pst == 200;
    } . $init);
});

# polls GET $path until $re matches its body; dies after $timeout s
sub main::wait_for {
    my ($path, $re, $timeout) = @_;
    my $deadline = Time::HiRes::time() + $timeout;
    while (1) {
        my (undef, undef, $res) = t::Douyin::douyin_req(GET => $path);
        return 1 if $res->{content} =~ $re;
        die "wait_for: $path is still $res->{content}\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

# dies unless error.log has a line matching $re (the harness's error_log
# sees only what a request logged; these lines come from --- init's time)
# ($not: dies if it has one)
# (the line of a settled note comes just after its write: waits 5 s)
sub main::logged {
    my ($re, $not) = @_;
    my $log = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log";
    my $deadline = Time::HiRes::time() + ($not ? 0 : 5);
    while (1) {
        open my $fh, '<', $log or die "cannot open $log: $!\n";
        while (my $line = <$fh>) {
            next unless $line =~ $re;
            die "error.log has a line matching $re: $line" if $not;
            return 1;
        }
        return 1 if $not;
        die "error.log has no line matching $re\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: a delete file-system-go carries out after the timeout: 504, then the tombstone without a retry, and the stats agree
--- http_config
    $TEST_NGINX_SETTLE_HTTP
    douyin_listing_cache 2s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', delay_ms => 2500, count => 1 });
my ($st, $json) = t::Douyin::douyin_call(DELETE => '/api/videos/7000000000000000002');
die "delete answered $st, not 504\n" unless $st == 504;
die "the 504 does not say the module settles it: $json->{detail}\n"
    unless $json->{detail} =~ /not known yet.*settles/;
# file-system-go is still hung on it: nothing changed yet
my (undef, $d) = t::Douyin::douyin_get('/api/videos/7000000000000000002');
die "the record changed before file-system-go acted\n"
    unless $d->{status} eq 'completed';
main::wait_for('/api/videos/7000000000000000002/result',
               qr/"status":"deleted"/, 15);
main::logged(qr/file-system-go delete sent, no answer/);
main::logged(qr/douyin: video 7000000000000000002: the delete that file-system-go left unanswered is settled: file-system-go no longer has the WAV, the video is deleted/);
# each worker answers stats from its own listing (listing_age says how
# old) while one thread refreshes it: completed never exceeds total, and
# total comes to 2 once the listings are fresh again
my $deadline = Time::HiRes::time() + 10;
while (1) {
    my (undef, $s) = t::Douyin::douyin_get('/api/stats');
    die "stats say completed $s->{completed} > total $s->{total}\n"
        if $s->{completed} > $s->{total};
    last if $s->{total} == 2 && $s->{completed} == 2;
    die "stats still say total $s->{total}, completed $s->{completed}\n"
        if Time::HiRes::time() > $deadline;
    Time::HiRes::sleep(0.2);
}
--- request eval
[ "GET /api/videos/7000000000000000002", "GET /api/stats",
  "GET /emu/fsgo/stats", "GET /api/videos?status=completed" ]
--- response_body_like eval
[ qr/^\{"aweme_id":"7000000000000000002","status":"deleted",.*"transcript":null,/,
  qr/^\{"total":2,"completed":2,"processing":0,"failed":0,"pending":0,/,
  qr/"requests":\{[^}]*"delete":1[,}].*"deleted":\["7000000000000000002\.wav"\]/,
  qr/^\{"total_count":2,/ ]
--- timeout: 20



=== TEST 2: a delete file-system-go never carries out: 504, the record is kept and the note dropped once it has waited 10 timeouts
--- http_config
    $TEST_NGINX_SETTLE_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', delay_ms => 2500,
                            status => 500, count => 1 });
my ($st) = t::Douyin::douyin_call(DELETE => '/api/videos/7000000000000000003');
die "delete answered $st, not 504\n" unless $st == 504;
Time::HiRes::sleep(13);
main::logged(qr/douyin: video 7000000000000000003: the delete that file-system-go left unanswered is settled: file-system-go still has the WAV, the record is kept/);
--- request eval
[ "GET /api/videos/7000000000000000003", "GET /api/stats",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"aweme_id":"7000000000000000003","status":"completed",/,
  qr/^\{"total":3,"completed":3,"processing":0,"failed":0,/,
  qr/"requests":\{[^}]*"check":\d+[,}].*"deleted":\[\]/ ]
--- timeout: 25



=== TEST 3: a mark-read file-system-go carries out after the timeout: 504, then the record is read without a retry
--- http_config
    $TEST_NGINX_SETTLE_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'mark', delay_ms => 2500, count => 1 });
my ($st) = t::Douyin::douyin_post('/api/videos/7000000000000000001/read',
                                  '{"is_read":true}');
die "mark read answered $st, not 504\n" unless $st == 504;
my (undef, $d) = t::Douyin::douyin_get('/api/videos/7000000000000000001');
die "the record changed before file-system-go acted\n" if $d->{is_read};
main::wait_for('/api/videos/7000000000000000001', qr/"is_read":true/, 15);
main::logged(qr/douyin: video 7000000000000000001: the mark-read that file-system-go left unanswered is settled: file-system-go has it read, so has the record/);
--- request eval
[ "GET /api/videos/7000000000000000001", "GET /api/videos?is_read=true",
  "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"is_read":true,"read_at":\d+,/,
  qr/^\{"total_count":1,"videos":\[\{"aweme_id":"7000000000000000001",/,
  qr/"requests":\{[^}]*"mark":1[,}].*"marked":\["7000000000000000001\.wav"\]/ ]
--- timeout: 20



=== TEST 4: a later call that file-system-go answers wins over the note: unread stays unread
--- http_config
    $TEST_NGINX_SETTLE_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'mark', delay_ms => 2500,
                            status => 500, count => 1 });
my ($st) = t::Douyin::douyin_post('/api/videos/7000000000000000001/read',
                                  '{"is_read":true}');
die "mark read answered $st, not 504\n" unless $st == 504;
($st) = t::Douyin::douyin_post('/api/videos/7000000000000000001/read',
                               '{"is_read":true}');
die "mark read answered $st, not 200\n" unless $st == 200;
($st) = t::Douyin::douyin_post('/api/videos/7000000000000000001/unread');
die "unread answered $st, not 200\n" unless $st == 200;
Time::HiRes::sleep(3);
main::logged(qr/left unanswered is settled/, 'not');
--- request
GET /api/videos/7000000000000000001
--- response_body_like: "is_read":false,"read_at":null
--- timeout: 15



=== TEST 5: a reload between the 504 and file-system-go's late delete: the new workers settle it (the note is in the store)
--- http_config
    $TEST_NGINX_SETTLE_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', delay_ms => 4000, count => 1 });
my ($st) = t::Douyin::douyin_call(DELETE => '/api/videos/7000000000000000001');
die "delete answered $st, not 504\n" unless $st == 504;
t::Douyin::douyin_reload();
main::wait_for('/api/videos/7000000000000000001/result',
               qr/"status":"deleted"/, 20);
main::logged(qr/douyin: video 7000000000000000001: the delete that file-system-go left unanswered is settled: file-system-go no longer has the WAV/);
--- request eval
[ "GET /api/stats", "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/^\{"total":2,"completed":2,"processing":0,"failed":0,"pending":0,/,
  qr/"requests":\{[^}]*"delete":1[,}].*"deleted":\["7000000000000000001\.wav"\]/ ]
--- timeout: 30



=== TEST 6: stats between file-system-go's late delete and any check: the listing settles it first, so completed never exceeds total
--- http_config
    $TEST_NGINX_SETTLE_HTTP
    douyin_listing_cache 1s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
# the checks get no answer in time: only a listing can see the WAV gone
t::Emu::emu_fault('fsgo', { route => 'check', delay_ms => 3000 });
t::Emu::emu_fault('fsgo', { route => 'delete', delay_ms => 2000, count => 1 });
my ($st) = t::Douyin::douyin_call(DELETE => '/api/videos/7000000000000000002');
die "delete answered $st, not 504\n" unless $st == 504;
Time::HiRes::sleep(2.5);
my $s = t::Emu::emu_stats('fsgo');
die "file-system-go has not deleted the WAV yet\n"
    unless grep { $_ eq '7000000000000000002.wav' } @{ $s->{deleted} };
--- request eval
[ "GET /api/stats", "GET /api/videos/7000000000000000002/result" ]
--- response_body_like eval
[ qr/^\{"total":2,"completed":2,"processing":0,"failed":0,"pending":0,/,
  qr/"status":"deleted"/ ]
--- timeout: 20



=== TEST 7: the newer file-system-go (no check route): a late delete is seen gone in its listing, the tombstone follows
--- http_config
    $TEST_NGINX_SETTLE_HTTP
    douyin_filesystem_api 2;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_fault('fsgo', { route => 'delete', delay_ms => 2500, count => 1 });
my ($st) = t::Douyin::douyin_call(DELETE => '/api/videos/7000000000000000003');
die "delete answered $st, not 504\n" unless $st == 504;
main::wait_for('/api/videos/7000000000000000003/result',
               qr/"status":"deleted"/, 15);
main::logged(qr/douyin: video 7000000000000000003: the delete that file-system-go left unanswered is settled: file-system-go no longer has the WAV/);
--- request eval
[ "GET /emu/fsgo/stats" ]
--- response_body_like eval
[ qr/"requests":\{[^}]*"check":0[,}][^}]*"delete":1[,}].*"deleted":\["7000000000000000003\.wav"\]/ ]
--- timeout: 20

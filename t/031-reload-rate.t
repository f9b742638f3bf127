# Reloads while videos wait for their provider submit slot (issue: reload
# stalls the queue).  The submit rate is shared by every worker through
# the douyin_asr_rate zone; a worker that exits must not leave slots
# booked there, or the next workers queue behind bookings nobody will
# use.  A run of 100 videos at submit=10/s is reloaded three times: the
# provider must see every video submitted once, submits again within a
# few seconds of each reload (never a pause of the whole queue's length),
# and never more than 10 submits in any 1 s.
#
# TEST 2 checks what the provider counts when requests wait in the thread
# pool: every query takes 250 ms, so the pool's two threads are busy with
# polls and a submit waits behind them for a varying while after its
# admission.  Spaced where they were admitted (on the event loop's cached
# clock), submits then arrive bunched (6 in 1 s at submit=5: the cause of
# t/030-workers.t TEST 3 failing under load); spaced where they leave,
# they do not.
use t::Douyin;
use t::Emu;
use Test::Nginx::Socket 'no_plan';   # --- init asserts

use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
no_root_location();

# the emulator stamps requests with time.monotonic(): the same clock
sub mono { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

# the largest pause between two submits the provider saw, and where
sub max_gap {
    my ($t) = @_;
    my ($gap, $at) = (0, undef);
    for my $i (1 .. $#$t) {
        ($gap, $at) = ($t->[$i] - $t->[$i - 1], $t->[$i - 1])
            if $t->[$i] - $t->[$i - 1] > $gap;
    }
    return ($gap, $at);
}

run_tests();

__DATA__

=== TEST 1: three reloads while 100 videos wait for submit slots: no pause longer than a few seconds, each video once, at most 10 submits in any second
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_rate submit=10 query=20;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 0.5 });
my $ids = t::Emu::emu_generate(100, seconds => 0.2,
                               start => '7300000000000000001')->{ids};
my ($st) = t::Douyin::douyin_post('/api/process/async');
Test::More::is($st, 200, 'POST /api/process/async: 200');
my @reloads;
for my $i (1 .. 3) {
    Time::HiRes::sleep(1.5);
    push @reloads, main::mono();
    t::Douyin::douyin_reload();
}
t::Douyin::douyin_wait($ids, timeout => 60);
my $s = t::Emu::emu_stats('dashscope');
my $t = $s->{submit_times};
Test::More::is($s->{submits}, 100, '100 submits for 100 videos');
Test::More::is(scalar(grep { $_ == 1 } values %{ $s->{submits_per_file} }),
               100, 'each video submitted once');
my ($gap, $at) = main::max_gap($t);
Test::More::cmp_ok($gap, '<=', 4.0,
                   'no pause of more than 4 s between submits across the '
                   . 'reloads (the queue is not stalled behind slots booked '
                   . 'by exited workers)')
    or Test::More::diag(sprintf "a %.1f s pause from %.1f s after the first "
                        . "reload; reloads at %s; submits at %s", $gap,
                        $at - $reloads[0],
                        join(' ', map { sprintf '%.1f', $_ - $reloads[0] }
                                  @reloads),
                        join(' ', map { sprintf '%.2f', $_ - $reloads[0] }
                                  @$t));
my @after = grep { $_ > $reloads[-1] } @$t;
Test::More::ok(@after && $after[0] - $reloads[-1] <= 4.0,
               'submits go on within 4 s of the last reload')
    or Test::More::diag(@after ? sprintf("first after %.1f s",
                                         $after[0] - $reloads[-1])
                               : 'none after the last reload');
# the whole run: 100 slots of 105 ms, plus a few seconds per reload (the
# old worker's exit and the new workers' recovery), not a queue's length
Test::More::cmp_ok($t->[-1] - $t->[0], '<=', 10.5 + 3 * 4.0,
                   'the 100 submits took at most 22.5 s')
    or Test::More::diag(sprintf "%.1f s", $t->[-1] - $t->[0]);
--- request eval
[ "GET /emu/dashscope/max_rate?kind=submit&window=1.0",
  "GET /emu/dashscope/max_rate?kind=query&window=1.0" ]
--- response_body_like eval
[ qr/^\{"kind":"submit","window":1\.0,"max":(?:[1-9]|10),"count":100\}$/,
  qr/^\{"kind":"query","window":1\.0,"max":(?:[1-9]|1[0-9]|20),"count":\d+\}$/ ]
--- timeout: 90
--- no_error_log
[error]



=== TEST 2: submits spaced where they leave: with both threads often held by slow queries, never more than 5 submits in any 1 s at submit=5
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_asr_rate submit=5 query=20;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
# every query answers after 250 ms: the two threads of the pool are busy
# with polls most of the time, and a submit waits behind them for a
# varying while after its admission
t::Emu::emu_config('dashscope', { delay => 1.0 });
t::Emu::emu_fault('dashscope', { route => 'query', delay_ms => 250 });
my $ids = t::Emu::emu_generate(30, seconds => 0.2,
                               start => '7300000000000000201')->{ids};
my ($st) = t::Douyin::douyin_post('/api/process/async');
Test::More::is($st, 200, 'POST /api/process/async: 200');
t::Douyin::douyin_wait($ids, timeout => 60);
my $t = t::Emu::emu_stats('dashscope')->{submit_times};
Test::More::is(scalar @$t, 30, '30 submits');
--- request
GET /emu/dashscope/max_rate?kind=submit&window=1.0
--- response_body_like: ^\{"kind":"submit","window":1\.0,"max":[1-5],"count":30\}$
--- timeout: 90
--- no_error_log
[error]

# The per-worker file-system-go listing cache behind the stats, the
# pending list and the detail of unprocessed videos (issue 16): once a
# worker has a listing, no request waits for file-system-go; an old
# listing answers (with its listing_age) while one refresh runs, and a
# change this worker made shows at once.
use t::Douyin;
use Test::Nginx::Socket 'no_plan';   # --- init asserts
use Time::HiRes ();

repeat_each(1);
no_root_location();

# the listings file-system-go was asked for so far
sub queries { t::Emu::emu_stats('fsgo')->{requests}{query} // 0 }

# GETs /api/stats until $want->($json) holds; dies after 20 s
sub stats_until {
    my ($want, $what) = @_;
    my $deadline = Time::HiRes::time() + 20;
    while (1) {
        my ($st, $j) = t::Douyin::douyin_get('/api/stats');
        return $j if $st == 200 && $want->($j);
        die "stats never showed $what\n" if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

run_tests();

__DATA__

=== TEST 1: an old listing answers at once while one slow refresh runs; then the new figures show
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_listing_cache 2s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('11', '12');
my ($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($st, 200, 'the first listing: 200');
Test::More::is($j->{total}, 2, 'the first listing: total');
Test::More::is($j->{pending}, 2, 'the first listing: pending');

t::Emu::emu_wav('13');
Time::HiRes::sleep(2.5);        # older than douyin_listing_cache now
# the next listing takes 3 s
t::Emu::emu_fault('fsgo', { route => 'query', delay_ms => 3000, count => 1 });
my $before = main::queries();

for my $k (1 .. 3) {
    ($st, $j) = t::Douyin::douyin_get('/api/stats');
    Test::More::is($st, 200, "stats $k during the refresh: 200");
    Test::More::is($j->{total}, 2, "stats $k: total of the previous listing");
    Test::More::is($j->{pending}, 2, "stats $k: pending of the previous listing");
    Test::More::cmp_ok($j->{listing_age}, '>=', 2,
                       "stats $k: listing_age says how old it is");
}
($st, $j) = t::Douyin::douyin_get('/api/videos?status=pending');
Test::More::is($j->{total_count}, 2, 'the pending list: the previous listing');
($st) = t::Douyin::douyin_get('/api/videos/13');
Test::More::is($st, 404, 'the detail of the new WAV: not in the previous listing');

$j = main::stats_until(sub { $_[0]{total} == 3 }, 'the new WAV');
Test::More::is($j->{pending}, 3, 'after the refresh: pending');
Test::More::cmp_ok($j->{listing_age}, '<=', 1, 'after the refresh: listing_age');
Test::More::is(main::queries() - $before, 1,
               'one listing for every request that came meanwhile');
--- request eval
[ "GET /api/stats", "GET /api/videos?status=pending", "GET /api/videos/13" ]
--- response_body_like eval
[ qr/^\{"total":3,"completed":0,"processing":0,"failed":0,"pending":3,"success_rate":0,"listing_age":\d+,"asr_seconds":0,"asr_seconds_30d":0\}$/,
  qr/^\{"total_count":3,"videos":\[\{"aweme_id":"13",/,
  qr/^\{"aweme_id":"13","status":"pending",/ ]
--- timeout: 30
--- no_error_log
[error]



=== TEST 2: a refresh that fails keeps the previous listing, which answers; the next use lists again
--- http_config
    $TEST_NGINX_DOUYIN_HTTP
    douyin_listing_cache 1s;
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('11');
my ($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($j->{total}, 1, 'the first listing: total');
t::Emu::emu_wav('12');
Time::HiRes::sleep(1.5);
t::Emu::emu_fault('fsgo', { route => 'query', status => 500, count => 1 });
($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($st, 200, 'while the refresh fails: 200');
Test::More::is($j->{total}, 1, 'while the refresh fails: the previous listing');
$j = main::stats_until(sub { $_[0]{total} == 2 }, 'the second WAV');
Test::More::is($j->{pending}, 2, 'a later refresh: pending');
--- request
GET /api/stats
--- response_body_like: ^\{"total":2,"completed":0,"processing":0,"failed":0,"pending":2,
--- timeout: 30
--- error_log
file-system-go listing answered HTTP 500



=== TEST 3: a push and deletes show in the stats at once, and no request but a delete waits for a listing
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wavs('11', '12');
my ($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($j->{pending}, 2, 'the first listing: pending');
my $before = main::queries();

# a listed video without record is pushed: counted once, from the store
($st) = t::Douyin::douyin_post('/api/aweme/11/pending', '{"audio_filename":"11.wav"}');
Test::More::is($st, 200, 'push: 200');
($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($j->{total}, 2, 'after the push: total');
Test::More::is($j->{pending}, 2, 'after the push: pending counts it once');

# a listed video without record is deleted with its file: the cache knows
($st) = t::Douyin::douyin_req('DELETE', '/api/aweme/12');
Test::More::is($st, 200, 'delete of a listed video: 200');
($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($j->{total}, 1, 'after the delete: total');
Test::More::is($j->{pending}, 1, 'after the delete: pending');
Test::More::is(main::queries() - $before, 0,
               'neither the push nor the delete needed a listing');

# the pushed video (a record) is deleted, its file kept: whether its WAV
# is listed is file-system-go's to say, so the delete's answer waits for
# a listing, and the stats after it do not
($st) = t::Douyin::douyin_req('DELETE', '/api/aweme/11?keep_file=true');
Test::More::is($st, 200, 'delete of a record: 200');
Test::More::is(main::queries() - $before, 1, 'its answer waited for one listing');
($st, $j) = t::Douyin::douyin_get('/api/stats');
Test::More::is($j->{total}, 0, 'after it: total leaves the tombstone out');
Test::More::is($j->{pending}, 0, 'after it: pending');
Test::More::is(main::queries() - $before, 1, 'the stats did not list again');
--- request
GET /api/stats
--- response_body_like: ^\{"total":0,"completed":0,"processing":0,"failed":0,"pending":0,
--- no_error_log
[error]

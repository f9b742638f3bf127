# The read routes over store format 3: the texts each write stores for the
# result and the list ("views"), and the page index ("pages").  Every page
# of every filter, at every page size, is the slice of the whole list at
# its offset, while writes split chunks (more than 128 entries), move
# entries between prefixes (read, deleted) and empty chunks; and a format
# 2 store written by the previous release (t/data/format2.dump, made by
# t/data/make-format2.sh) is upgraded when opened and then serves the
# very bytes that release served (t/data/format2-bodies.json: the
# bodies, or the SHA-256 and length of those of 2 KiB or more).
#
# The blocks assert in their --- init, so the file says 'no_plan'.
use t::Douyin;
use Test::Nginx::Socket 'no_plan';
use Test::More ();
use Digest::SHA ();
use Encode ();
use HTTP::Tiny;
use JSON::PP ();

repeat_each(1);
no_root_location();

our $HttpConfig = $ENV{TEST_NGINX_DOUYIN_HTTP} . <<'_EOC_';
    douyin_asr_rate submit=off query=off;
    douyin_asr_batch 100;
_EOC_

my $HTTP = HTTP::Tiny->new(timeout => 30, proxy => undef,
                           http_proxy => undef);
my $JSON = JSON::PP->new->utf8->canonical;

# the body of GET $path (dies unless 200)
sub raw {
    my ($path) = @_;
    my $r = $HTTP->get('http://127.0.0.1:' . t::Douyin::douyin_port()
                       . $path);
    die "GET $path: $r->{status} $r->{content}\n" unless $r->{status} == 200;
    return $r->{content};
}

# every page of $query at each size, one past the end too, against the
# whole list (one page of 1000: no offset to find)
sub check_pages {
    my ($query, $name) = @_;
    my $all = $JSON->decode(raw("/api/videos?${query}page_size=1000"));
    my $n = scalar @{ $all->{videos} };
    Test::More::is($all->{total_count}, $n, "$name: total_count $n");
    for my $size (7, 20, 64, 129) {
        my (@got, @totals);
        for my $p (1 .. int(($n + $size - 1) / $size) + 1) {
            my $j = $JSON->decode(raw("/api/videos?${query}page=$p&page_size=$size"));
            push @got, @{ $j->{videos} };
            push @totals, $j->{total_count};
        }
        Test::More::is_deeply(\@got, $all->{videos},
                              "$name: the pages of $size are the whole list's slices");
        Test::More::is_deeply([ grep { $_ != $n } @totals ], [],
                              "$name: every page of $size says total_count $n");
    }
    return $n;
}

# the filters: one index, two prefixes merged, one prefix, three merged
our @Queries = ('', 'status=completed&', 'status=completed&is_read=false&',
               'is_read=false&');

# a store of format 2 as the previous release wrote it, from its dump
sub load_dump {
    my ($dump, $dir) = @_;
    mkdir $dir;
    system('mdb_load', '-f', $dump, $dir) == 0 or die "mdb_load $dump: $?\n";
}

load_dump('t/data/format2.dump', "$ENV{TEST_NGINX_EMU_DIR}/v2-store");

run_tests();

__DATA__

=== TEST 1: pages at any offset, of every filter, through splits, moves and deletes
--- http_config eval
$main::HttpConfig
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
# 150 videos with an upload time (one minute apart), 150 without (ids
# descending, after them): more than two chunks' worth in each index
t::Emu::emu_generate(150, start => '7300000000000000001', meta => 1, seconds => 0.2);
t::Emu::emu_generate(150, start => '7300000000000001001', seconds => 0.2);
my ($st, $j) = t::Douyin::douyin_post('/api/process');
Test::More::is($j->{data}{success}, 300, '300 videos completed');
main::check_pages($_, "300 completed, ?$_") for @main::Queries;
my $anchors = () = `mdb_dump -p -s pages '$ENV{TEST_NGINX_SERVER_ROOT}/html/store'` =~ /^ t/mg;
Test::More::cmp_ok($anchors, '>=', 3, "the list index is cut in chunks ($anchors)");
# marked read, deleted: entries leave c0 for c1 and d0, chunks empty
for my $i (map { $_ * 7 } 0 .. 39) {
    my $id = 7300000000000000001 + $i;
    $id += 1000 - 150 if $i >= 150;
    ($st) = t::Douyin::douyin_post("/api/videos/$id/read", '{"is_read":true}');
    Test::More::is($st, 200, "$id marked read") unless $st == 200;
}
for my $i (3 .. 40, 200 .. 235) {
    my $id = 7300000000000000001 + ($i < 150 ? $i : $i - 150 + 1000);
    ($st) = t::Douyin::douyin_req(DELETE => "/api/aweme/$id?keep_file=true");
    Test::More::is($st, 200, "$id deleted") unless $st == 200;
}
my $n = main::check_pages('', 'after reads and deletes');
Test::More::is($n, 300 - 38 - 36, 'the deleted ones are out of the list');
main::check_pages($_, "after reads and deletes, ?$_")
    for @main::Queries[1 .. 3], 'status=deleted&', 'status=read&';
--- request
GET /api/videos?page=4&page_size=7
--- response_body_like: ^\{"total_count":226,"videos":\[\{"aweme_id":"\d+","status":"completed","title":"title \d+","author":"author \d+","audio_url":"http://127\.0\.0\.1:\d+/audio/\d+\.wav",
--- timeout: 120
--- no_error_log
[error]



=== TEST 2: a format 2 store of the previous release is upgraded when opened and serves the same bytes
--- http_config eval
(my $c = $main::HttpConfig) =~ s{douyin_store html/store}{douyin_store $ENV{TEST_NGINX_EMU_DIR}/v2-store};
"$c    douyin_audio_base_url https://files.example.com;\n"
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
open my $fh, '<', 't/data/format2-bodies.json' or die "bodies: $!\n";
my $want = JSON::PP->new->utf8->decode(do { local $/; <$fh> });
for my $path (sort keys %$want) {
    my ($got, $w) = (main::raw($path), $want->{$path});
    if (ref $w) {
        Test::More::is(Digest::SHA::sha256_hex($got) . ' ' . length($got),
                       "$w->{sha256} $w->{bytes}",
                       "GET $path: the previous release's bytes (SHA-256, length)")
            or Test::More::diag($got);
    } else {
        Test::More::is($got, Encode::encode('UTF-8', $w),
                       "GET $path: the previous release's bytes");
    }
}
my $meta = `mdb_dump -p -s meta '$ENV{TEST_NGINX_EMU_DIR}/v2-store'`;
Test::More::like($meta, qr/^ format_version\n 3\n/m, 'format_version is 3 now');
main::check_pages($_, "the upgraded store, ?$_") for @main::Queries;
--- request
GET /api/videos?page=2&page_size=50
--- response_body_like: ^\{"total_count":\d+,"videos":\[\{"aweme_id":"\d+"
--- error_log
upgraded from format version 2 to 3
--- no_error_log
[error]

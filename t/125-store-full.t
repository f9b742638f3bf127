# A store that fills up while videos are transcribed (issue 14, item 8):
# clients see 503 STORE_FULL, the answer's counts match the store (the
# videos whose transcript could not be stored are still "processing"
# there, not failed), and once the store has room again the module
# stores them by itself: no reload, no second process call.
#
# The store is a 1 MiB map (douyin_store map_size=1m).  It is filled
# with pushed videos that carry large descriptions (never listed, so never
# transcribed); room comes back when those pushes are sent again with an
# empty description (a pending video takes a new push).
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;
use JSON::PP ();

repeat_each(1);
no_root_location();

# (and push bodies of 60 KB kept in memory: nginx's buffer is 16k)
($ENV{TEST_NGINX_FULL_HTTP} = $ENV{TEST_NGINX_DOUYIN_HTTP})
    =~ s/map_size=64m/map_size=1m/ or die;
$ENV{TEST_NGINX_FULL_HTTP} .= "    client_body_buffer_size 128k;\n";

my $JSON = JSON::PP->new->utf8->canonical;

# pushes filler $n (a video never listed) with a description of $len bytes:
# the status of the answer
sub main::filler {
    my ($n, $len) = @_;
    my ($st) = t::Douyin::douyin_post(
        '/api/aweme/' . (8100000000000000000 + $n) . '/pending',
        $JSON->encode({ audio_filename => "filler$n.wav",
                        description => 'x' x $len }));
    return $st;
}

# fills the store with fillers until a push is refused: how many went in
sub main::fill {
    my $n = 0;
    while (1) {
        my $st = main::filler($n, 60000);
        return $n if $st == 503;
        die "a filler push answered $st\n" unless $st == 200;
        die "the store never filled up\n" if ++$n > 40;
    }
}

# a long transcript, so that its record takes more room than is left
sub main::long_text {
    my ($id) = @_;
    return [ map { "Sentence $_ of video $id, " . ('words and more words ' x 8) }
             1 .. 60 ];
}

# dies unless error.log has a line matching $re (the harness's error_log
# sees only what a request logged; this comes from --- init's time)
sub main::logged {
    my ($re) = @_;
    my $log = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log";
    open my $fh, '<', $log or die "cannot open $log: $!\n";
    while (my $line = <$fh>) {
        return 1 if $line =~ $re;
    }
    die "error.log has no line matching $re\n";
}

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: transcripts that cannot be stored: 503 STORE_FULL with counts that match the store; room again: stored without a reload
--- http_config
    $TEST_NGINX_FULL_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
my $n = main::fill();
# a little room for the claims, not for the transcripts
main::filler(0, 0) == 200 or die "emptying filler 0 failed\n";
for my $id ('7000000000000000001', '7000000000000000002') {
    t::Emu::emu_wav($id, text => main::long_text($id));
}
my ($st, $json) = t::Douyin::douyin_post('/api/process');
die "process answered $st, not 503: " . JSON::PP->new->encode($json) . "\n"
    unless $st == 503 && $json->{error} eq 'STORE_FULL';
die "the 503 does not give the counts: $json->{detail}\n"
    unless $json->{detail} =~ /Processed 0 of 2 videos: 0 completed, 0 failed; 2 whose outcome could not be stored \(the transcript store is full\) stay processing/;
my (undef, $stats) = t::Douyin::douyin_get('/api/stats');
die "the stats do not say 2 processing: " . JSON::PP->new->encode($stats) . "\n"
    unless $stats->{processing} == 2 && $stats->{failed} == 0;
# room again: no reload, no second process call
main::filler($_, 0) == 200 or die "emptying filler $_ failed\n" for 1 .. $n - 1;
t::Douyin::douyin_wait(['7000000000000000001', '7000000000000000002'],
                       status => qr/^completed$/, timeout => 40);
main::logged(qr/douyin: storing the outcome failed: MDB_MAP_FULL.*; 1 video\(s\) stay processing, their outcome is stored once the store takes it/);
--- request eval
[ "GET /api/stats", "GET /api/videos/7000000000000000002/result",
  "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"completed":2,"processing":0,"failed":0,/,
  qr/"status":"completed","text":"Sentence 1 of video 7000000000000000002, /,
  qr/"accepted":2,/ ]
--- timeout: 90



=== TEST 2: a process call whose claims do not fit: 503 STORE_FULL, nothing claimed
--- http_config
    $TEST_NGINX_FULL_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
main::fill();
t::Emu::emu_generate(200, seconds => 0.1);
--- request eval
[ "POST /api/process", "GET /api/stats" ]
--- error_code eval
[ 503, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"STORE_FULL","detail":"The transcript store is full \(its map_size= or its disk\); nothing was changed\."\}$/,
  qr/"completed":0,"processing":0,"failed":0,/ ]
--- timeout: 60



=== TEST 3: file-system-go deletes or marks read, then the full store refuses the record: the 503 says what file-system-go did
--- http_config
    $TEST_NGINX_FULL_HTTP
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_wav('7000000000000000001');
t::Emu::emu_wav('7000000000000000002');
my ($st) = t::Douyin::douyin_post('/api/process');
die "process answered $st\n" unless $st == 200;
# to the last pages: smaller and smaller fillers until none fits
my $n = 0;
for my $len (60000, 8000, 1000, 100) {
    $n++ while main::filler(100 * $len + $n, $len) == 200;
}
--- request eval
[ "DELETE /api/videos/7000000000000000001",
  "POST /api/videos/7000000000000000002/read\n{\"is_read\":true}",
  "GET /emu/fsgo/stats" ]
--- error_code eval
[ 503, 503, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"STORE_FULL","detail":"file-system-go has deleted the WAV, but the transcript store is full, so the record is not a tombstone yet: repeat the delete once the store has room \(it is safe\)\."\}$/,
  qr/^\{"success":false,"error":"STORE_FULL","detail":"file-system-go has marked the file read, but the transcript store is full, so the record still says unread: repeat the call once the store has room \(it is safe\)\."\}$/,
  qr/"marked":\["7000000000000000002\.wav"\],"deleted":\["7000000000000000001\.wav"\]/ ]
--- timeout: 60

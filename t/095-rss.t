# The RSS feed (douyin_rss): read by real parsers (Debian's
# python3-feedparser, xmllint of libxml2-utils, and the terminal feed
# reader newsboat run without a terminal, all through t/rss-parse.py), its
# items against the store, the paragraph rule on a transcript with known
# gaps, hostile text, conditional GET, auth and bad queries, the token
# kept out of the logs, the same instants under TZ=UTC and
# TZ=Asia/Shanghai, the gateway's route, and the store's migration.
#
# The blocks assert in their --- init (a number that depends on the
# store's content), so the file says 'no_plan' (t/Plan.pm).
use t::Douyin;
use Test::Nginx::Socket 'no_plan';
use Test::More ();
use Cwd ();
use Encode ();
use File::Temp ();
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();
use Time::Local ();

our $Token = 'feed-token-0123456789abcdef';
$ENV{DOUYIN_RSS_TOKEN} = $Token;
$ENV{TEST_NGINX_RSS_TOKEN} = $Token;
$ENV{TEST_NGINX_GATEWAY_CONF} = Cwd::abs_path('conf/douyin-gateway.conf');

our $Python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
our $Parse = Cwd::abs_path('t/rss-parse.py');
our $Public = 'https://feeds.example.com/api/douyin';

our $MainConfig = $t::Douyin::MainConfig . "    env DOUYIN_RSS_TOKEN;\n";
our $HttpConfig = $ENV{TEST_NGINX_DOUYIN_HTTP} . <<'_EOC_';
    douyin_public_url https://feeds.example.com/api/douyin/;
    douyin_rss_item_link 'https://feeds.example.com/douyin/?video=$id&from=rss';
_EOC_

$ENV{TEST_NGINX_RSS_LOCATIONS} = $ENV{TEST_NGINX_DOUYIN_LOCATIONS} . <<'_EOC_';
    location = /api/rss.xml { douyin_rss; }
_EOC_

repeat_each(1);
no_root_location();

# runs before t::Douyin's (last registered first): the feed's settings,
# and TZ from "--- tz" for the nginx of the block
add_block_preprocessor(sub {
    my $block = shift;
    return unless defined $block->config;
    $block->set_value('main_config', $MainConfig)
        unless defined $block->main_config;
    $block->set_value('http_config', $HttpConfig)
        unless defined $block->http_config;
    if (defined $block->tz) {
        (my $tz = $block->tz) =~ s/\s+//g;
        $ENV{TZ} = $tz;
    } else {
        delete $ENV{TZ};
    }
});

my $JSON = JSON::PP->new->utf8->canonical;
my $HTTP = HTTP::Tiny->new(timeout => 30, proxy => undef, http_proxy => undef);

sub port { t::Douyin::douyin_port() }

# a request to the nginx under test: the HTTP::Tiny response
sub request {
    my ($method, $path, %headers) = @_;
    return $HTTP->request($method, 'http://127.0.0.1:' . port() . $path,
                          { headers => \%headers });
}

sub get { request('GET', @_) }

sub feed_path {
    my ($query) = @_;
    return "/api/rss.xml?token=$Token" . (defined $query ? "&$query" : '');
}

# the completed videos of the store, as the JSON API lists them
# (a transcript that is not UTF-8 is read with U+FFFD for its bad bytes)
sub completed {
    my $r = get('/api/videos?status=completed&page_size=100');
    die "GET /api/videos: $r->{status}\n" unless $r->{status} == 200;
    my $text = Encode::decode('UTF-8', $r->{content}, Encode::FB_DEFAULT);
    return @{ JSON::PP->new->decode($text)->{videos} };
}

# runs t/rss-parse.py: the parsed feed as a hash
sub parse {
    my (@args) = @_;
    my $out = `$Python $Parse @args`;
    die "rss-parse.py @args failed: $?\n" if $?;
    return $JSON->decode($out);
}

sub feedparser {
    my ($body) = @_;
    my $tmp = File::Temp->new(SUFFIX => '.xml');
    binmode $tmp;
    print {$tmp} $body;
    close $tmp;
    return parse('feedparser', $tmp->filename);
}

# xmllint --noout: well-formed (exit 0, nothing said)
sub xmllint {
    my ($body, $name) = @_;
    my $tmp = File::Temp->new(SUFFIX => '.xml');
    binmode $tmp;
    print {$tmp} $body;
    close $tmp;
    my $out = `xmllint --noout --nonet ${\ $tmp->filename} 2>&1`;
    Test::More::is($? >> 8, 0, "$name: xmllint: well-formed XML")
        or Test::More::diag($out);
    Test::More::is($out, '', "$name: xmllint says nothing");
}

# a literal of this file as characters (the file is read as UTF-8 bytes)
sub u {
    my ($s) = @_;
    return utf8::is_utf8($s) ? $s : Encode::decode('UTF-8', $s);
}

# the text of a string of characters, cut at n characters
sub first_chars {
    my ($s, $n) = @_;
    return length($s) > $n ? substr($s, 0, $n) : $s;
}

# every field of every item, against the store: what the spec says
sub check_items {
    my ($feed, $name, %o) = @_;
    my @videos = grep { $_->{transcript} && $_->{transcript}{text} ne '' }
                 completed();
    @videos = grep { !$_->{is_read} } @videos if $o{unread};
    @videos = sort { $b->{processed_at} <=> $a->{processed_at}
                     || length($b->{aweme_id}) <=> length($a->{aweme_id})
                     || $b->{aweme_id} cmp $a->{aweme_id} } @videos;
    splice @videos, $o{limit} if $o{limit} && @videos > $o{limit};

    my @e = @{ $feed->{entries} };
    Test::More::is(scalar @e, scalar @videos,
                   "$name: one item per completed video with text");
    Test::More::is_deeply([ map { $_->{id} } @e ],
                          [ map { $_->{aweme_id} } @videos ],
                          "$name: newest processed_at first");

    for my $i (0 .. $#videos) {
        my ($v, $x) = ($videos[$i], $e[$i]);
        last unless $x;
        my $id = $v->{aweme_id};
        my $text = $v->{transcript}{text};
        Test::More::is($x->{guidislink}, JSON::PP::false(),
                       "$name $id: guid isPermaLink=false");
        Test::More::is($x->{link},
                       "https://feeds.example.com/douyin/?video=$id&from=rss",
                       "$name $id: link from douyin_rss_item_link");
        Test::More::is($x->{published}, $v->{processed_at},
                       "$name $id: pubDate is processed_at");
        Test::More::like($x->{published_raw} // '',
                         qr/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/,
                         "$name $id: pubDate in RFC 822");
        Test::More::is($x->{author},
                       defined $v->{author} && $v->{author} ne ''
                       ? $v->{author} : undef,
                       "$name $id: author (none when empty)");
        next if $o{hostile} && $o{hostile} eq $id;
        Test::More::is($x->{title},
                       defined $v->{title} && $v->{title} ne ''
                       ? $v->{title} : first_chars($text, 30),
                       "$name $id: title (else the first 30 characters)");
        # (feedparser drops the white space at the end)
        (my $summary = first_chars($text, 200)) =~ s/\s+\z//;
        Test::More::is($x->{summary}, $summary,
                       "$name $id: description: the first 200 characters");
        Test::More::is(scalar @{ $x->{content} }, 1,
                       "$name $id: one content:encoded");
    }
    return @videos;
}

# the store's records as mdb_dump prints them, for the corruption check
sub store_path { "$ENV{TEST_NGINX_SERVER_ROOT}/html/store" }

# puts a raw value for a key of the "videos" database (as a broken
# write would), with mdb_load, nginx running
sub put_raw {
    my ($key, $value) = @_;
    my $in = "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n $key\n $value\nDATA=END\n";
    open my $fh, '|-', 'mdb_load', '-s', 'videos', store_path()
        or die "mdb_load: $!\n";
    print {$fh} "$in";
    close $fh or die "mdb_load failed: $?\n";
}

# the corpus: a transcript with known gaps, a hostile one, a long one,
# an empty one, a failed one
sub corpus {
    my ($prefix) = @_;
    $prefix //= '/api';
    t::Emu::emu_wav('7100000000000000001', meta => {
        title => '西湖的春天', author => '小林',
        description => '去西湖 #春天 #西湖，#旅行 #春天 #a #b #c',
        upload_time => '2026-03-01T08:00:00+08:00' },
        text => [ '@0-1000 第一句。', '@1200-2000 第二句。',
                  '@4000-5000 第三句。', '@5100-6000 第四句。',
                  '@6000-6500 第五句。', '@8000-9000 第六句。',
                  '@9000-10000 ' . ('长' x 125) . '。',
                  '@10000-11000 尾句。' ]);

    # no title; markup, "]]>", control characters and bytes that are not
    # UTF-8, as a provider could send them
    t::Emu::emu_wav('7100000000000000002', meta => { author => 'a&b <c>' });
    my $f = t::Emu::emu_transcripts_dir() . '/7100000000000000002.txt';
    open my $fh, '>:raw', $f or die "$f: $!\n";
    print {$fh} "<script>alert(1)</script> ]]> x & \"q\" \x01\x08\x1b ok"
              . " \xff\xfe bad \xc3\x28 \xc0\xaf \xed\xa0\x80 end\n";
    close $fh;

    t::Emu::emu_wav('7100000000000000003', meta => { title => '' },
        text => [ map { "Sentence number $_ of a long transcript." } 1 .. 9 ]);
    t::Emu::emu_wav('7100000000000000004', text => []);
    my $e = t::Emu::emu_transcripts_dir() . '/7100000000000000004.txt';
    open $fh, '>', $e or die "$e: $!\n";
    close $fh;
    t::Emu::emu_wav('7100000000000000005');
    t::Emu::emu_fault('dashscope', { route => 'file', match => '0005.wav',
                                     code => 'FILE_DOWNLOAD_FAILED' });
    my ($st, $json) = t::Douyin::douyin_post("$prefix/process");
    die "process: $st\n" unless $st == 200 && $json->{data}{success} == 4;
}

# a store of format 1 (before the feed index), as a release before the
# feed left it: its records and its format version, for the migration
sub make_store {
    my ($dir, $version, %records) = @_;
    mkdir $dir;
    my %dbs = (meta => { format_version => $version }, videos => \%records);
    for my $db (sort keys %dbs) {
        open my $fh, '|-', 'mdb_load', '-s', $db, $dir or die "mdb_load: $!\n";
        print {$fh} "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n";
        for my $k (sort keys %{ $dbs{$db} }) {
            (my $v = $dbs{$db}{$k}) =~ s/\\/\\\\/g;
            print {$fh} " $k\n $v\n";
        }
        print {$fh} "DATA=END\n";
        close $fh or die "mdb_load $db: $?\n";
    }
}

make_store("$ENV{TEST_NGINX_EMU_DIR}/v1-store", '1',
    '7200000000000000001' => '{"status":"completed","processed_at":1767225600,"text":"old one","segments":[],"title":"first","is_read":false}',
    '7200000000000000002' => '{"status":"completed","processed_at":1767312000,"text":"old two","segments":[],"title":"second","is_read":true}',
    '7200000000000000003' => '{"status":"failed","processed_at":1767312000,"error":"X"}',
    '7200000000000000004' => '{"status":"completed","processed_at":1767398400,"text":"","segments":[]}');
make_store("$ENV{TEST_NGINX_EMU_DIR}/v9-store", '9');

# the offset from UTC of the local times in the error log of the nginx
# under test (its last dated line), in s
sub log_offset {
    my $log = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log";
    open my $fh, '<', $log or die "$log: $!\n";
    my @lines = grep { m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d } } <$fh>;
    my ($y, $mo, $d, $h, $mi, $s) =
        $lines[-1] =~ m{^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) };
    return Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y) - time;
}

# the feed's instants are processed_at, written in GMT, whatever the zone
sub check_zone {
    my ($name) = @_;
    my $r = get(feed_path());
    my $f = feedparser($r->{content});
    my @v = check_items($f, $name, hostile => '7100000000000000002');
    my @days = qw(Sun Mon Tue Wed Thu Fri Sat);
    my @months = qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec);
    my @want = map {
        my @t = gmtime $_->{processed_at};
        sprintf('%s, %02d %s %d %02d:%02d:%02d GMT', $days[$t[6]], $t[3],
                $months[$t[4]], $t[5] + 1900, $t[2], $t[1], $t[0])
    } @v;
    my @got = $r->{content} =~ m{<pubDate>([^<]*)</pubDate>}g;
    Test::More::is_deeply(\@got, \@want,
                          "$name: every pubDate is processed_at in GMT");
}

run_tests();

__DATA__

=== TEST 1: the feed, read by feedparser, xmllint and newsboat: every field, the paragraph rule, hostile text
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- init
main::corpus();
my $r = main::get(main::feed_path());
Test::More::is($r->{status}, 200, 'feed: 200');
my $body = $r->{content};
main::xmllint($body, 'feed');
Test::More::ok(Encode::decode('UTF-8', "$body", Encode::FB_QUIET) && 1,
               'feed: the body is UTF-8');
my $copy = $body;
Test::More::ok(defined eval { Encode::decode('UTF-8', $copy, Encode::FB_CROAK) },
               'feed: the body is valid UTF-8 throughout') or Test::More::diag($@);
Test::More::unlike($body, qr/[\x00-\x08\x0b\x0c\x0e-\x1f]/,
                   'feed: no control character XML forbids');
Test::More::unlike($body, qr/<script>/, 'feed: no raw markup from a transcript');
Test::More::unlike($body, qr/token|\Q$main::Token\E/, 'feed: the token is nowhere in it');

my $f = main::feedparser($body);
Test::More::ok(!$f->{bozo}, 'feedparser: no bozo flag')
    or Test::More::diag($f->{bozo_exception});
Test::More::is($f->{version}, 'rss20', 'feedparser: RSS 2.0');
Test::More::is($f->{namespaces}{content}, 'http://purl.org/rss/1.0/modules/content/',
               'content namespace');
Test::More::ok(scalar(grep { $_ eq 'http://www.w3.org/2005/Atom' } values %{ $f->{namespaces} }),
               'atom namespace');
Test::More::is($f->{feed}{title}, 'Douyin transcripts', 'channel title');
Test::More::is($f->{feed}{link}, "$main::Public/", 'channel link');
Test::More::ok(length($f->{feed}{subtitle} // ''), 'channel description');
Test::More::is($f->{feed}{language}, 'zh-CN', 'language zh-CN');
Test::More::is($f->{feed}{ttl}, '300', 'ttl 300');
Test::More::is_deeply($f->{feed}{self}, ["$main::Public/rss.xml"],
                      'atom:link rel=self: the public URL, no token');
my @v = main::check_items($f, 'feedparser', hostile => '7100000000000000002');
Test::More::is(scalar @v, 3, 'three items: the empty and the failed ones are not');
my $newest = (sort { $b <=> $a } map { $_->{processed_at} } @v)[0];
Test::More::cmp_ok($f->{feed}{updated}, '>=', $newest,
                   'lastBuildDate: the last change, not before the newest item');
Test::More::cmp_ok($f->{feed}{updated}, '<=', time, '... and not in the future');

my %e = map { $_->{id} => $_ } @{ $f->{entries} };

# the paragraph rule: gaps of 0.2 s join, 2.0 s splits, 1.5 s joins,
# a paragraph of 120 characters or more ends
my $long = '长' x 125;
Test::More::is($e{'7100000000000000001'}{content}[0],
    main::u("<p>第一句。 第二句。</p><p>第三句。 第四句。 第五句。 第六句。 $long。</p><p>尾句。</p>"),
    'paragraphs: split on a gap over 1.5 s and after 120 characters');
Test::More::is_deeply($e{'7100000000000000001'}{tags}, [ map { main::u($_) } qw(春天 西湖 旅行 a b) ],
                      'categories: each #hashtag once, at most 5');
Test::More::is_deeply($e{'7100000000000000003'}{tags}, [], 'no hashtag, no category');
Test::More::is($e{'7100000000000000003'}{content}[0],
    '<p>' . join(' ', map { "Sentence number $_ of a long transcript." } 1 .. 4) . '</p><p>'
    . join(' ', map { "Sentence number $_ of a long transcript." } 5 .. 8) . '</p><p>'
    . 'Sentence number 9 of a long transcript.</p>',
    'paragraphs: 120 characters end one even without a gap (39 + 1 + 39 + 1 + 39 < 120)');

# hostile text: kept as text, never markup; bad bytes become U+FFFD
my $h = $e{'7100000000000000002'};
Test::More::ok($h, 'the hostile transcript is an item');
Test::More::is($h->{title}, '<script>alert(1)</script> ]]>',
               'its title: the first 30 characters, the markup as text');
Test::More::like($h->{content}[0] // '', qr/^<p>&lt;script&gt;alert\(1\)&lt;\/script&gt; \]\]&gt; x &amp; &quot;q&quot;  ok \x{fffd}\x{fffd} bad \x{fffd}\( \x{fffd}\x{fffd} \x{fffd}\x{fffd}\x{fffd} end<\/p>$/,
                 'its paragraphs: "]]>" does not end the CDATA, controls dropped, bad bytes U+FFFD');
Test::More::like($body, qr/<content:encoded><!\[CDATA\[<p>&lt;script&gt;alert\(1\)&lt;\/script&gt; \]\]&gt; x &amp; &quot;q&quot;  ok /,
                 'in the XML: the transcript HTML-escaped inside CDATA');
Test::More::like($body, qr/<description>&lt;script&gt;alert\(1\)&lt;\/script&gt; \]\]&gt; x &amp; &quot;q&quot;  ok /,
                 'in the XML: the description escaped');
Test::More::is($h->{author}, 'a&b <c>', 'its author, escaped and read back');

# newsboat, a terminal feed reader, non-interactively
my $dir = File::Temp->newdir();
my $nb = main::parse('newsboat', "'http://127.0.0.1:" . main::port()
                     . main::feed_path() . "'", $dir->dirname);
Test::More::is($nb->{exit}, 0, 'newsboat -x reload: exit 0')
    or Test::More::diag($nb->{stderr});
Test::More::is_deeply({ map { $_->{guid} => $_->{title} } @{ $nb->{items} } },
                      { map { $_->{aweme_id} => $e{$_->{aweme_id}}{title} } @v },
                      'newsboat: one item per video, the same titles');
Test::More::is_deeply({ map { $_->{guid} => $_->{pubDate} } @{ $nb->{items} } },
                      { map { $_->{aweme_id} => $_->{processed_at} } @v },
                      'newsboat: the same times');
Test::More::is_deeply([ map { $_->{unread} } @{ $nb->{items} } ], [ (1) x @v ],
                      'newsboat: all new to it');
--- request eval
"GET " . main::feed_path()
--- response_headers_like
Content-Type: application/rss\+xml; charset=utf-8
Cache-Control: public, max-age=300
X-Robots-Tag: noindex
ETag: "\d+-\d+-50a-[0-9a-f]{8}"
--- response_body_like: ^<\?xml version="1\.0" encoding="UTF-8"\?>\n<rss version="2\.0" .*</rss>\n$
--- timeout: 20
--- no_error_log
[error]



=== TEST 2: limit and include_read, from the index; HEAD
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- init
main::corpus();
my $f = main::feedparser(main::get(main::feed_path('limit=2'))->{content});
main::check_items($f, 'limit=2', limit => 2, hostile => '7100000000000000002');
my ($st) = t::Douyin::douyin_post('/api/videos/7100000000000000003/read', '{"is_read":true}');
Test::More::is($st, 200, 'marked one read');
$f = main::feedparser(main::get(main::feed_path('include_read=false'))->{content});
my @v = main::check_items($f, 'include_read=false', unread => 1,
                          hostile => '7100000000000000002');
Test::More::ok(!grep({ $_->{id} eq '7100000000000000003' } @{ $f->{entries} }),
               'include_read=false leaves the read one out');
$f = main::feedparser(main::get(main::feed_path('include_read=true'))->{content});
Test::More::ok(scalar(grep { $_->{id} eq '7100000000000000003' } @{ $f->{entries} }),
               'include_read=true keeps it');
my $r = main::get(main::feed_path());
my $h = main::request('HEAD', main::feed_path());
Test::More::is($h->{status}, 200, 'HEAD: 200');
Test::More::is($h->{content} // '', '', 'HEAD: no body');
Test::More::is($h->{headers}{'content-length'}, length($r->{content}),
               'HEAD: the Content-Length of the GET');
Test::More::is($h->{headers}{etag}, $r->{headers}{etag}, 'HEAD: the ETag of the GET');
--- request eval
"GET " . main::feed_path('limit=200&include_read=false')
--- response_headers_like
ETag: "\d+-\d+-200u-[0-9a-f]{8}"



=== TEST 3: conditional GET: 304 while nothing changes, 200 after a new transcript, a delete, a read flag
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- init
main::corpus();
sleep 1.1;      # Last-Modified is sent once its second is over
my $r = main::get(main::feed_path());
my $etag = $r->{headers}{etag};
my $lm = $r->{headers}{'last-modified'};
Test::More::like($etag, qr/^"[^"]+"$/, 'an ETag');
Test::More::like($lm // '', qr/ GMT$/, 'a Last-Modified');
my $c = main::get(main::feed_path(), 'If-None-Match' => $etag);
Test::More::is($c->{status}, 304, 'If-None-Match with the ETag: 304');
Test::More::is($c->{content} // '', '', '... no body');
Test::More::is($c->{headers}{etag}, $etag, '... the same ETag');
Test::More::is($c->{headers}{'cache-control'}, 'public, max-age=300', '... Cache-Control');
$c = main::get(main::feed_path(), 'If-None-Match' => "\"x\", W/$etag");
Test::More::is($c->{status}, 304, 'a list with the weak form of the ETag: 304');
$c = main::get(main::feed_path(), 'If-None-Match' => '"other"');
Test::More::is($c->{status}, 200, 'another ETag: 200');
$c = main::get(main::feed_path(), 'If-Modified-Since' => $lm);
Test::More::is($c->{status}, 304, 'If-Modified-Since the Last-Modified: 304');
$c = main::get(main::feed_path(), 'If-Modified-Since' => 'Mon, 01 Jan 2024 00:00:00 GMT');
Test::More::is($c->{status}, 200, 'If-Modified-Since earlier: 200');
$c = main::get(main::feed_path('limit=2'), 'If-None-Match' => $etag);
Test::More::is($c->{status}, 200, 'another limit has another ETag');
$c = main::get(main::feed_path('include_read=false'));
my $unread = $c->{headers}{etag};
Test::More::isnt($unread, $etag, 'the unread feed has its own ETag');

# a process run with nothing new changes nothing
my ($st) = t::Douyin::douyin_post('/api/process');
$c = main::get(main::feed_path(), 'If-None-Match' => $etag);
Test::More::is($c->{status}, 304, 'a run with nothing new: still 304');

# a new transcript: 200, a new ETag, the item first
t::Emu::emu_wav('7100000000000000009', meta => { title => 'new one' },
                text => ['A new transcript.']);
sleep 1.1;
($st) = t::Douyin::douyin_post('/api/process');
$c = main::get(main::feed_path('limit=1'), 'If-None-Match' => $etag);
Test::More::is($c->{status}, 200, 'after a new transcript: 200');
my $f = main::feedparser($c->{content});
Test::More::is($f->{entries}[0]{id}, '7100000000000000009', 'the new item comes first');
$c = main::get(main::feed_path(), 'If-None-Match' => $etag);
my $etag2 = $c->{headers}{etag};
Test::More::isnt($etag2, $etag, 'a new ETag');
$c = main::get(main::feed_path(), 'If-Modified-Since' => $lm);
Test::More::is($c->{status}, 200, 'If-Modified-Since the old Last-Modified: 200');

# a read flag changes the unread feed only
($st) = t::Douyin::douyin_post('/api/videos/7100000000000000009/read', '{"is_read":true}');
Test::More::is($st, 200, 'marked read');
$c = main::get(main::feed_path(), 'If-None-Match' => $etag2);
Test::More::is($c->{status}, 304, 'a read flag: the whole feed is unchanged, 304');
$c = main::get(main::feed_path('include_read=false'), 'If-None-Match' => $unread);
Test::More::is($c->{status}, 200, 'a read flag: the unread feed changed, 200');

# a delete
my $del = main::request('DELETE', '/api/videos/7100000000000000009?keep_file=true');
Test::More::is($del->{status}, 200, 'deleted');
$c = main::get(main::feed_path('limit=1'), 'If-None-Match' => $etag2);
Test::More::is($c->{status}, 200, 'after a delete: 200');
$f = main::feedparser($c->{content});
Test::More::isnt($f->{entries}[0]{id}, '7100000000000000009', 'the item is gone');

# a poll costs no record read: with a record broken behind nginx's
# back, the 304 still comes, while the full feed cannot be built; and
# a feed whose items do not include it is built without reading it
$c = main::get(main::feed_path());
$etag = $c->{headers}{etag};
my $oldest = (sort { $a->{processed_at} <=> $b->{processed_at}
                     || $a->{aweme_id} cmp $b->{aweme_id} }
              grep { $_->{transcript}{text} ne '' } main::completed())[0];
main::put_raw($oldest->{aweme_id}, '{broken');
$c = main::get(main::feed_path(), 'If-None-Match' => $etag);
Test::More::is($c->{status}, 304, 'a poll reads no record: 304 with a broken one');
$c = main::get(main::feed_path('limit=200'));
Test::More::is($c->{status}, 503, 'the whole feed reads it: 503');
Test::More::like($c->{content}, qr/"error":"STORE_ERROR"/, '... STORE_ERROR');
$c = main::get(main::feed_path('limit=1'));
Test::More::is($c->{status}, 200, 'limit=1 reads only the newest record: 200')
    or Test::More::diag($c->{content});

--- request eval
"GET " . main::feed_path('limit=1')
--- response_body_like: <guid isPermaLink="false">71000000000000000\d\d</guid>
--- timeout: 30



=== TEST 4: no or a wrong token: 401; bad limit or include_read: 400 naming it; other methods: 405
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- log_level: info
--- request eval
[ "GET /api/rss.xml", "GET /api/rss.xml?token=",
  "GET /api/rss.xml?token=wrong-token-value-0123456789",
  "GET /api/rss.xml?token=$main::Token" . "x",
  "GET /api/rss.xml?token=" . substr($main::Token, 0, -1),
  "GET /api/rss.xml?limit=0&token=$main::Token",
  "GET /api/rss.xml?token=$main::Token&limit=201",
  "GET /api/rss.xml?token=$main::Token&limit=abc",
  "GET /api/rss.xml?token=$main::Token&limit=-1",
  "GET /api/rss.xml?token=$main::Token&include_read=yes",
  "GET /api/rss.xml?token=nope&limit=0",
  "POST /api/rss.xml?token=$main::Token",
  "GET /api/rss.xml?token=feed%2Dtoken%2D0123456789abcdef&limit=200&include_read=false" ]
--- error_code eval
[ 401, 401, 401, 401, 401, 400, 400, 400, 400, 400, 401, 405, 200 ]
--- response_body_like eval
[ qr/^\{"success":false,"error":"INVALID_TOKEN","detail":"[^"]+"\}$/,
  qr/"error":"INVALID_TOKEN"/, qr/"error":"INVALID_TOKEN"/,
  qr/"error":"INVALID_TOKEN"/, qr/"error":"INVALID_TOKEN"/,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"limit [^"]+"\}$/,
  qr/"detail":"limit must be a whole number from 1 to 200\."/,
  qr/"detail":"limit /, qr/"detail":"limit /,
  qr/^\{"success":false,"error":"INVALID_QUERY","detail":"include_read must be true or false\."\}$/,
  qr/"error":"INVALID_TOKEN"/,
  qr/"error":"METHOD_NOT_ALLOWED"/,
  qr/^<\?xml .*<\/channel>\n<\/rss>\n$/s ]
--- no_error_log eval
[ "wrong-token-value", "0123456789", "[error]" ]



=== TEST 5: the logs hold at most the first 4 characters of a token
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- log_level: info
--- init
for my $q ('', '?token=', '?token=wrong-token-value-0123456789',
           "?token=${main::Token}x", '?token=' . substr($main::Token, 0, -1),
           '?token=nope&limit=0',
           '?token=feed%2Dtoken%2D0123456789abcdef&limit=200&include_read=false') {
    main::get("/api/rss.xml$q");
}
main::request('POST', "/api/rss.xml?token=$main::Token");
Time::HiRes::sleep(0.5);        # the log phase ends after the answer
my $log = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/access.log";
open my $fh, '<', $log or die "$log: $!\n";
my $text = do { local $/; <$fh> };
Test::More::like($text, qr{GET /api/rss\.xml\?token=wron\*\*\* }, 'a wrong token: 4 characters');
Test::More::like($text, qr{GET /api/rss\.xml\?token=feed\*\*\*&limit=200&include_read=false }, 'the right one: 4 characters');
Test::More::like($text, qr{GET /api/rss\.xml\?token=\*\*\*&limit=0 }, 'a short one: none');
Test::More::like($text, qr{POST /api/rss\.xml\?token=feed\*\*\* }, 'a 405 masks it too');
Test::More::unlike($text, qr/wrong-token-value|0123456789|feed%2D/, 'no token in the access log');
$log = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/error.log";
open $fh, '<', $log or die "$log: $!\n";
$text = do { local $/; <$fh> };
my @no = $text =~ /\[info\] .*douyin: feed request with no token, client: .*request: "GET \/api\/rss\.xml(?:\?token=)? HTTP/g;
Test::More::is(scalar @no, 2, 'the error log says when no token came (info)');
my @wrong = $text =~ /\[info\] .*douyin: feed request with a wrong token, client: .*request: "GET \/api\/rss\.xml\?token=(?:wron|feed)?\*\*\*(?:&limit=0)? HTTP/g;
Test::More::is(scalar @wrong, 4, 'and when a wrong one came, masked');
Test::More::unlike($text, qr/wrong-token-value|0123456789/, 'no token in the error log');
--- request
GET /api/stats



=== TEST 6: no secret in the environment: 503 that says so, and a warning at start
--- main_config eval: $t::Douyin::MainConfig
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- request eval
"GET " . main::feed_path()
--- error_code: 503
--- response_body_like: ^\{"success":false,"error":"RSS_TOKEN_MISSING","detail":"[^"]+douyin_rss_token_env\."\}$
--- error_log
add "env DOUYIN_RSS_TOKEN;" to the main context
the environment variable "DOUYIN_RSS_TOKEN" is not set



=== TEST 7: no douyin_public_url: 503 that says so
--- http_config eval: $ENV{TEST_NGINX_DOUYIN_HTTP}
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- request eval
"GET " . main::feed_path()
--- error_code: 503
--- response_body_like: "error":"RSS_NOT_CONFIGURED","detail":"[^"]+douyin_public_url\."
--- error_log
"douyin_rss" needs "douyin_public_url" in the http block



=== TEST 8: TZ=UTC: pubDate is processed_at, in GMT
--- tz: UTC
--- main_config eval: $main::MainConfig . "    env TZ;\n"
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- init
Test::More::cmp_ok(abs(main::log_offset()), '<', 120,
                   'the error log is in UTC: the zone is in force');
main::corpus();
main::check_zone('TZ=UTC');
--- request
GET /api/stats




=== TEST 9: TZ=Asia/Shanghai: the same instants, in GMT
--- tz: Asia/Shanghai
--- main_config eval: $main::MainConfig . "    env TZ;\n"
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- init
Test::More::cmp_ok(abs(main::log_offset() - 8 * 3600), '<', 120,
                   'the error log is in UTC+8: the zone is in force');
main::corpus();
main::check_zone('TZ=Asia/Shanghai');
--- request
GET /api/stats




=== TEST 10: the gateway's route /api/douyin/rss.xml
--- config
    include $TEST_NGINX_GATEWAY_CONF;
--- init
main::corpus('/api/douyin');
--- request eval
"GET /api/douyin/rss.xml?token=$main::Token&limit=1"
--- response_headers
Content-Type: application/rss+xml; charset=utf-8
--- response_body_like: <atom:link href="https://feeds\.example\.com/api/douyin/rss\.xml" rel="self" type="application/rss\+xml"/>.*<item>
--- no_error_log
[error]



=== TEST 11: a format 1 store (no feed index) is migrated when opened, and serves the feed
--- http_config eval
(my $c = $main::HttpConfig) =~ s{douyin_store html/store}{douyin_store $ENV{TEST_NGINX_EMU_DIR}/v1-store};
$c
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- init
my $f = main::feedparser(main::get(main::feed_path())->{content});
Test::More::is_deeply([ map { [ $_->{id}, $_->{title}, $_->{published} ] } @{ $f->{entries} } ],
                      [ [ '7200000000000000002', 'second', 1767312000 ],
                        [ '7200000000000000001', 'first', 1767225600 ] ],
                      'the migrated store: its completed transcripts, newest first');
$f = main::feedparser(main::get(main::feed_path('include_read=false'))->{content});
Test::More::is_deeply([ map { $_->{id} } @{ $f->{entries} } ], [ '7200000000000000001' ],
                      'and the read flags');
my $meta = `mdb_dump -p -s meta '$ENV{TEST_NGINX_EMU_DIR}/v1-store'`;
Test::More::like($meta, qr/^ format_version\n 3\n/m, 'format_version is 3 now');
--- request eval
"GET " . main::feed_path()
--- response_body_like: <guid isPermaLink="false">7200000000000000002</guid>
--- error_log
upgraded from format version 1 to 2: 2 transcripts indexed for the feed



=== TEST 12: a store of an unknown format is refused, not changed: 503
--- http_config eval
(my $c = $main::HttpConfig) =~ s{douyin_store html/store}{douyin_store $ENV{TEST_NGINX_EMU_DIR}/v9-store};
$c
--- config
    $TEST_NGINX_RSS_LOCATIONS
--- request eval
"GET " . main::feed_path()
--- error_code: 503
--- response_body_like: "error":"STORE_UNAVAILABLE"
--- error_log
has format version "9", this module reads version 3

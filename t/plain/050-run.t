# The README's `make run` (run.sh, issues 4 and 15): from nothing to
# transcripts of real speech through the gateway nginx, twice, then
# `./run.sh stop`.  Both entry points answer (the service of
# conf/nginx.conf and the gateway) and every link they give resolves; a
# busy port is refused before anything starts, naming what holds it; a
# port in TIME_WAIT is not busy; a plain `./run.sh stop` (make stop) finds
# a RUN_DIR copy.  Runs in its own scratch folder
# (RUN_DIR=t/servroot_run_<pid>: two runs side by side do not share it) on
# free ports, against the emulators (never the real DashScope).
use strict;
use warnings;

use Cwd ();
use File::Basename ();
use File::Path ();
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use Test::More;

my $repo = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..');
my $dir  = "$repo/t/servroot_run_$$";

for my $tool (qw(espeak-ng sox curl python3)) {
    plan skip_all => "$tool is not installed (scripts/debian-packages)"
        unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die "socket: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

my $port = free_port();
my $svc_port = free_port();
$svc_port = free_port() while $svc_port == $port;
delete @ENV{qw(ALIYUN_ACCESS_KEY DOUYIN_AUDIO_BASE_URL DOUYIN_FILESYSTEM_URL
               DOUYIN_ASR_URL RUN_FSGO_PORT RUN_ASR_PORT)};
$ENV{RUN_DIR}  = $dir;
$ENV{RUN_PORT} = $port;
$ENV{RUN_SERVICE_PORT} = $svc_port;
$ENV{CI}       = 'true';

File::Path::remove_tree($dir);
my $stopped;
END {
    local $?;
    system("$repo/run.sh", 'stop') if !$stopped && -d $dir;
    File::Path::remove_tree($dir) if -d $dir && !$ENV{TEST_NGINX_EMU_KEEP};
}

# a guard against a hang, not a speed target: on a loaded machine (2
# cores shared with other test runs) run.sh start alone takes over a minute
local $SIG{ALRM} = sub { die "t/plain/050-run.t: timed out\n" };
alarm 300;

sub run_sh {
    my $out = `cd '$repo' && ./run.sh @_ 2>&1`;
    return ($? >> 8, $out);
}

# a process is gone when it does not exist or is a zombie
sub alive {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    local $/;
    return <$fh> !~ /^State:\s*Z/m;
}

# the processes run.sh started: from its pid files, plus nginx's workers
sub started_pids {
    my @pids;
    for my $f (glob "$dir/*.pid") {
        open my $fh, '<', $f or next;
        my $pid = <$fh>;
        push @pids, $1 if defined $pid && $pid =~ /^(\d+)/;
    }
    my %master = map { $_ => 1 } @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $master{$2};
    }
    return @pids;
}

# the corpus: one Mandarin and one English sentence at least
my (%sentences, %title);
open my $tsv, '<', "$repo/scripts/corpus.tsv" or die "corpus.tsv: $!";
while (<$tsv>) {
    chomp;
    my ($id, $lang, $title, $author, $sentence) = split /\t/;
    next unless defined $sentence && $id =~ /^\d{19}$/;
    push @{ $sentences{$lang} }, $sentence;
    $title{$id} = $title;
}
close $tsv;
ok $sentences{cmn} && $sentences{en}, 'the corpus has Mandarin and English sentences';

sub get {
    my $res = HTTP::Tiny->new(timeout => 10)->get(shift);
    my $json = eval { JSON::PP->new->utf8->decode($res->{content}) };
    return ($res->{status}, $json);
}

# the TCP states of the sockets bound to 127.0.0.1:PORT (/proc/net/tcp)
sub tcp_states {
    my $port = shift;
    open my $fh, '<', '/proc/net/tcp' or return ();
    my @st;
    while (<$fh>) {
        push @st, $2 if /^\s*\d+: 0100007F:([0-9A-F]{4}) \S+ ([0-9A-F]{2})/ && hex($1) == $port;
    }
    return @st;
}

# 0: a busy port is refused before anything starts, naming who holds it
for my $case (['RUN_PORT', 'the gateway'], ['RUN_SERVICE_PORT', 'the service']) {
    my ($var, $what) = @$case;
    my $holder = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                       Listen => 1, ReuseAddr => 1) or die "socket: $!";
    my $busy = $holder->sockport;
    my ($rc, $out) = do {
        local $ENV{$var} = $busy;
        run_sh('start', '--no-wait');
    };
    isnt $rc, 0, "$var=$busy, a port this test listens on: start fails";
    like $out, qr/port $busy \(\Q$what\E, $var\) on 127\.0\.0\.1 is busy: pid $$ \(/,
        "the message names the port, $var and this process (pid $$)" or diag $out;
    like $out, qr/$var=(\d+) make run/, 'and says how to choose another port';
    my ($other) = $out =~ /$var=(\d+) make run/;
    ok $other && $other != $busy, "another port is proposed ($other)";
    is_deeply [glob "$dir/*.pid"], [], 'nothing was started';
    close $holder;
}

# a port whose last connection is in TIME_WAIT is free, as nginx sees it
# (it binds with SO_REUSEADDR): the server side closes first
{
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Listen => 1, ReuseAddr => 1) or die "listen $port: $!";
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die "connect: $!";
    my $s = $l->accept or die "accept: $!";
    close $s;
    sysread $c, my $buf, 1;      # the FIN
    close $c;
    close $l;
    my @st;
    for (1 .. 20) {
        @st = tcp_states($port);
        last if grep { $_ eq '06' } @st;
        select undef, undef, undef, 0.05;
    }
    ok((grep { $_ eq '06' } @st), "port $port has a connection in TIME_WAIT (states: @st)");
}

# 1: a fresh scratch folder: corpus made, everything transcribed
my ($rc, $out) = run_sh('start', '--no-wait');
is $rc, 0, 'first start exits 0 (on the port in TIME_WAIT)' or diag $out;
like $out, qr/the EMULATOR t\/emu\/fsgo\.py/, 'says file-system-go is the emulator';
like $out, qr/the DashScope EMULATOR/, 'says the ASR is the DashScope emulator';
like $out, qr/gateway at http:\/\/127\.0\.0\.1:$port\b/, "gateway on the given port $port";
like $out, qr/service at http:\/\/127\.0\.0\.1:$svc_port\b/, "service on the given port $svc_port";
like $out, qr/"processed": (\d+)/, 'prints the summary';
my ($processed) = $out =~ /"processed": (\d+)/;
is $processed, scalar(keys %title), 'first run processes every corpus video';
for my $lang (sort keys %sentences) {
    for my $s (@{ $sentences{$lang} }) {
        ok index($out, "text:   $s") >= 0, "prints the $lang transcript: $s";
    }
}
for my $id (sort keys %title) {
    like $out, qr/^\Q$id\E  completed/m, "$id completed";
    ok index($out, "title:  $title{$id}") >= 0, "$id: title from the .meta.json";
}
like $out, qr/curl -s -X POST http:\/\/127\.0\.0\.1:$port\/api\/douyin\/process/,
    'shows curl lines to paste (gateway)';
like $out, qr/curl -s http:\/\/127\.0\.0\.1:$svc_port\/health/,
    'shows curl lines to paste (service)';

# both entry points answer, on one store
{
    my ($id) = sort keys %title;
    my ($st, $j) = get("http://127.0.0.1:$svc_port/health");
    is $st, 200, 'the service answers GET /health';
    is $j && $j->{status}, 'healthy', '/health: healthy';
    ($st, $j) = get("http://127.0.0.1:$port/api/douyin/health");
    is $st, 200, 'the gateway answers GET /api/douyin/health';
    ($st, $j) = get("http://127.0.0.1:$svc_port/api/videos/$id/result");
    is $j && $j->{data}{status}, 'completed',
        "the service has what the gateway's process call transcribed ($id)";
    ($st, $j) = get("http://127.0.0.1:$svc_port/api/stats");
    is $j && $j->{completed}, scalar(keys %title), 'GET /api/stats on the service: every video completed';
    ($st, $j) = get("http://127.0.0.1:$port/api/douyin/stats");
    is $j && $j->{completed}, scalar(keys %title), 'GET /api/douyin/stats on the gateway: the same';
    ($st) = get("http://127.0.0.1:$svc_port/docs");
    is $st, 200, 'the service serves /docs';
    ($st) = get("http://127.0.0.1:$port/api/douyin/docs");
    is $st, 200, 'the gateway serves /api/douyin/docs';
}
like $out, qr/make stop/, 'says how to stop it';

# every link resolves where it is served, on both entry points: the info
# route's docs and health, openapi.json's server and paths, and the curl
# examples of /docs as its script makes them for that address (run by
# Node.js, t/docs-examples.js).  A link resolves when the answer is not
# the catch-all 404 NOT_FOUND of the confs (GET only: a 405 means the
# route is there; nothing is changed).
sub resolves {
    my $url = shift;
    my $res = HTTP::Tiny->new(timeout => 10)->get($url);
    my $j = eval { JSON::PP->new->utf8->decode($res->{content}) };
    return $res->{status} < 500
        && !($res->{status} == 404 && ref $j eq 'HASH' && ($j->{error} // '') eq 'NOT_FOUND');
}

my ($some_id) = sort keys %title;
my $node = grep { -x "$_/node" } split /:/, $ENV{PATH};
for my $entry (["http://127.0.0.1:$svc_port", '/'], ["http://127.0.0.1:$port", '/api/douyin/']) {
    my ($origin, $mount) = @$entry;
    my ($st, $info) = get("$origin$mount");
    is $st, 200, "GET $mount answers";
    for my $k (qw(docs health)) {
        my $link = ref $info eq 'HASH' ? $info->{$k} // '' : '';
        is $link, "$mount$k", "GET $mount: the $k link is $mount$k";
        is(HTTP::Tiny->new(timeout => 10)->get("$origin$link")->{status}, 200,
           "GET $mount: its $k link answers 200");
    }

    my ($ost, $oa) = get("${origin}${mount}openapi.json");
    is $ost, 200, "${mount}openapi.json answers";
    my $server = ref $oa eq 'HASH' && $oa->{servers} ? $oa->{servers}[0]{url} : '';
    is $server, $mount eq '/' ? '/' : '/api/douyin', "${mount}openapi.json: servers is the mount";
    $server = '' if $server eq '/';
    my @bad = grep { !resolves("$origin$server$_") }
              map { s/\{aweme_id\}/$some_id/r } sort keys %{ ref $oa eq 'HASH' && $oa->{paths} || {} };
    is_deeply \@bad, [], "${mount}openapi.json: every path resolves below its server";

    SKIP: {
        skip 'no Node.js to run the /docs script (nodejs, scripts/debian-packages)', 2 unless $node;
        my $page = HTTP::Tiny->new(timeout => 10)->get("${origin}${mount}docs")->{content};
        my $tmp = "$dir/docs.html";
        open my $fh, '>', $tmp or die "$tmp: $!";
        print $fh $page;
        close $fh;
        my $json = `node '$repo/t/docs-examples.js' '${origin}${mount}docs' < '$tmp'`;
        my $ex = eval { JSON::PP->new->utf8->decode($json) } || {};
        my @urls = map { m{(https?://[^\s'"]+)}g } @{ $ex->{examples} || [] };
        cmp_ok scalar(@urls), '>=', 12, "${mount}docs: its examples, as its script makes them ("
            . scalar(@urls) . ' URLs)';
        is_deeply [grep { index($_, "$origin$mount") != 0 || !resolves($_) } @urls], [],
            "${mount}docs: every example calls this server, below $mount, and resolves";
    }
}
my @first = started_pids();
cmp_ok scalar(@first), '>=', 5, 'nginx (master and 2 workers) and 2 emulators run';

# 2: again: the store persists, nothing is transcribed twice
($rc, $out) = run_sh('start', '--no-wait');
is $rc, 0, 'second start exits 0' or diag $out;
like $out, qr/stopping it first/, 'the first run is stopped first';
like $out, qr/0 made now/, 'the corpus is not made again';
like $out, qr/"message": "Nothing to process\."/, 'second run: nothing to process';
like $out, qr/"processed": 0,/, 'second run: 0 processed';
ok index($out, "text:   $sentences{cmn}[0]") >= 0, 'transcripts still printed (Mandarin)';
ok index($out, "text:   $sentences{en}[0]") >= 0, 'transcripts still printed (English)';
is_deeply [grep { alive($_) } @first], [], 'no process of the first run remains';

# 3: stop: a plain `./run.sh stop` (make stop) stops this RUN_DIR copy
# too, unless the user's own run/ demo is up (it would stop that as well)
my @second = started_pids();
cmp_ok scalar(@second), '>=', 5, 'the second run is up';
# (and another run of this file, from this checkout, is not up either:
# a plain stop would stop its copy too)
my @others;
if (open my $fh, '<', "$repo/.run-dirs") {
    @others = grep { $_ ne $dir && -s "$_/nginx.pid" } map { chomp; $_ } <$fh>;
}
my $users_demo = -s "$repo/run/nginx.pid" || @others;
SKIP: {
    skip 'run/ or another RUN_DIR copy is up: stop with RUN_DIR only', 1 if $users_demo;
    local $ENV{RUN_DIR};
    delete $ENV{RUN_DIR};
    ($rc, $out) = run_sh('stop');
    like $out, qr/stopped nginx \(pid \d+, \Q$dir\E\)/, 'a plain stop stops the RUN_DIR copy';
}
($rc, $out) = run_sh('stop') if $users_demo;
$stopped = 1;
is $rc, 0, 'stop exits 0' or diag $out;
my @left;
for (1 .. 50) {
    @left = grep { alive($_) } @second;
    last unless @left;
    select undef, undef, undef, 0.1;
}
is_deeply \@left, [], 'no process it started remains';
is_deeply [glob "$dir/*.pid"], [], 'no pid file remains';
ok(IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                          Listen => 1, ReuseAddr => 1), 'the gateway port is free again');
ok(IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $svc_port,
                          Listen => 1, ReuseAddr => 1), 'the service port is free again');
my @listed;
if (open my $fh, '<', "$repo/.run-dirs") {
    @listed = map { chomp; $_ } <$fh>;
}
ok !(grep { $_ eq $dir } @listed), '.run-dirs no longer lists it';

alarm 0;
File::Path::remove_tree($dir) unless $ENV{TEST_NGINX_EMU_KEEP};
done_testing;

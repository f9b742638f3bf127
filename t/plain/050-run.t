# The README's `make run` (run.sh, issue 4): from nothing to transcripts of
# real speech through the gateway nginx, twice, then `./run.sh stop`.
# Runs in its own scratch folder (RUN_DIR=t/servroot_run_<pid>: two runs
# side by side do not share it) on a free port,
# against the emulators (never the real DashScope).
use strict;
use warnings;

use Cwd ();
use File::Basename ();
use File::Path ();
use IO::Socket::INET;
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
delete @ENV{qw(ALIYUN_ACCESS_KEY DOUYIN_AUDIO_BASE_URL DOUYIN_FILESYSTEM_URL
               DOUYIN_ASR_URL RUN_FSGO_PORT RUN_ASR_PORT)};
$ENV{RUN_DIR}  = $dir;
$ENV{RUN_PORT} = $port;
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

# 1: a fresh scratch folder: corpus made, everything transcribed
my ($rc, $out) = run_sh('start', '--no-wait');
is $rc, 0, 'first start exits 0' or diag $out;
like $out, qr/the EMULATOR t\/emu\/fsgo\.py/, 'says file-system-go is the emulator';
like $out, qr/the DashScope EMULATOR/, 'says the ASR is the DashScope emulator';
like $out, qr/gateway at http:\/\/127\.0\.0\.1:$port\b/, "gateway on the given port $port";
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
    'shows curl lines to paste';
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

# 3: stop
my @second = started_pids();
cmp_ok scalar(@second), '>=', 5, 'the second run is up';
($rc, $out) = run_sh('stop');
$stopped = 1;
is $rc, 0, 'stop exits 0' or diag $out;
like $out, qr/stopped nginx/, 'stop stops nginx';
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

alarm 0;
File::Path::remove_tree($dir) unless $ENV{TEST_NGINX_EMU_KEEP};
done_testing;

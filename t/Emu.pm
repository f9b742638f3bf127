package t::Emu;

# Starts the file-system-go and DashScope emulators (t/emu/*.py) for a test
# file and gives it helpers to drive them.  POD at the end.

use strict;
use warnings;

use Cwd ();
use Exporter ();
use File::Basename ();
use File::Path ();
use File::Spec ();
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

our $VERSION = '0.01';
our @ISA     = ('Exporter');
our @EXPORT  = qw(
    emu_reset emu_wav emu_wavs emu_file emu_remove emu_generate emu_make_wav
    emu_fault emu_stats emu_config emu_max_rate emu_task emu_wait_task
    emu_url emu_http emu_port emu_dir emu_wav_dir emu_transcripts_dir
);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
# a guard against a hung emulator, not a speed target: on a loaded machine
# generating thousands of WAVs (emu_generate) takes well over 30 s
my $HTTP = HTTP::Tiny->new(
    timeout     => 120,
    keep_alive  => 0,
    agent       => 't::Emu/0.01',
    proxy       => undef,
    http_proxy  => undef,
    https_proxy => undef,
);

my ($Started, $OwnerPid, $Root, $WavDir, $TrDir);
my (%Pid, %Port);

sub import {
    my $class = shift;
    my %opt = (@_ % 2 == 0) ? @_ : ();
    _start(%opt) unless $Started;
    $class->export_to_level(1, $class, @EXPORT);
}

sub _python {
    return $ENV{TEST_NGINX_EMU_PYTHON} if $ENV{TEST_NGINX_EMU_PYTHON};
    return -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
}

sub _start {
    my %opt = @_;
    $Started  = 1;
    $OwnerPid = $$;

    my $tdir = File::Basename::dirname(Cwd::abs_path(__FILE__));
    my $emu  = File::Spec->catdir($tdir, 'emu');
    $Root   = File::Spec->catdir($tdir, "servroot_emu_$$");
    $WavDir = File::Spec->catdir($Root, 'wav');
    $TrDir  = File::Spec->catdir($Root, 'transcripts');
    File::Path::remove_tree($Root) if -d $Root;
    # scratch folders left by runs that were killed
    for my $old (glob File::Spec->catfile($tdir, 'servroot_emu_*')) {
        next unless $old =~ /servroot_emu_(\d+)\z/ && -d $old;
        next if kill(0, $1) || $!{EPERM};
        File::Path::remove_tree($old);
    }
    File::Path::make_path($WavDir, $TrDir);

    my $delay = defined $opt{delay} ? $opt{delay}
              : defined $ENV{TEST_NGINX_EMU_DELAY} ? $ENV{TEST_NGINX_EMU_DELAY}
              : 0.2;
    my $key = defined $opt{key} ? $opt{key} : 'test-key';

    _spawn('fsgo', "$emu/fsgo.py",
           '--root', $WavDir, @{ $opt{fsgo_args} || [] });
    _spawn('dashscope', "$emu/dashscope.py",
           '--transcripts', $TrDir, '--delay', $delay, '--key', $key,
           @{ $opt{dashscope_args} || [] });

    _wait_ready('fsgo', '/');
    _wait_ready('dashscope', '/__emu/config');

    $ENV{TEST_NGINX_FSGO_PORT}      = $Port{fsgo};
    $ENV{TEST_NGINX_DASHSCOPE_PORT} = $Port{dashscope};
    $ENV{TEST_NGINX_DASHSCOPE_KEY}  = $key;
    $ENV{TEST_NGINX_EMU_WAV_DIR}    = $WavDir;
    $ENV{TEST_NGINX_EMU_DIR}        = $Root;
    $ENV{TEST_NGINX_EMU_TRANSCRIPTS_DIR} = $TrDir;
    return;
}

sub _spawn {
    my ($name, $script, @args) = @_;
    my $portfile = File::Spec->catfile($Root, "$name.port");
    my $log      = File::Spec->catfile($Root, "$name.log");
    unlink $portfile;
    my $py = _python();
    my @cmd = ($py, $script, '--host', '127.0.0.1', '--port', 0,
               '--port-file', $portfile, '--parent-pid', $$, @args);
    push @cmd, '--verbose' if $ENV{TEST_NGINX_EMU_VERBOSE};
    my $pid = fork;
    die "t::Emu: fork failed: $!" unless defined $pid;
    if (!$pid) {
        open STDIN,  '<',  '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        { exec { $cmd[0] } @cmd; }
        print STDERR "t::Emu: cannot exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    $Pid{$name} = $pid;
    my $deadline = Time::HiRes::time() + 15;
    while (Time::HiRes::time() < $deadline) {
        if (-s $portfile) {
            open my $fh, '<', $portfile or next;
            my $p = <$fh>;
            close $fh;
            if (defined $p && $p =~ /^(\d+)/) {
                $Port{$name} = $1;
                return;
            }
        }
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $Pid{$name};
            die "t::Emu: $name emulator exited early (status $?): " . _slurp($log);
        }
        Time::HiRes::sleep(0.02);
    }
    die "t::Emu: $name emulator did not start in time: " . _slurp($log);
}

sub _wait_ready {
    my ($name, $path) = @_;
    my $url = "http://127.0.0.1:$Port{$name}$path";
    my $deadline = Time::HiRes::time() + 15;
    while (Time::HiRes::time() < $deadline) {
        my $res = HTTP::Tiny->new(timeout => 2, proxy => undef, http_proxy => undef)->get($url);
        return if $res->{status} == 200;
        Time::HiRes::sleep(0.05);
    }
    die "t::Emu: $name emulator does not answer on $url: "
        . _slurp(File::Spec->catfile($Root, "$name.log"));
}

sub _slurp {
    my $f = shift;
    open my $fh, '<', $f or return "(no log)";
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

sub _stop {
    return unless $OwnerPid && $$ == $OwnerPid;
    for my $name (keys %Pid) {
        kill 'TERM', $Pid{$name};
    }
    my $deadline = Time::HiRes::time() + 3;
    for my $name (keys %Pid) {
        my $pid = $Pid{$name};
        while (waitpid($pid, POSIX::WNOHANG()) == 0) {
            if (Time::HiRes::time() > $deadline) {
                kill 'KILL', $pid;
                waitpid($pid, 0);
                last;
            }
            Time::HiRes::sleep(0.02);
        }
        delete $Pid{$name};
    }
    if ($Root && -d $Root && !$ENV{TEST_NGINX_EMU_KEEP}) {
        File::Path::remove_tree($Root);
    }
}

END {
    local $?;
    _stop();
}

# ---------------------------------------------------------------------------
# helpers

sub _which {
    my $w = shift;
    $w = 'fsgo' unless defined $w;
    return 'fsgo'      if $w =~ /^(fsgo|fs|file-system-go|files?)$/i;
    return 'dashscope' if $w =~ /^(dashscope|ds|asr)$/i;
    die "t::Emu: unknown emulator '$w' (use 'fsgo' or 'dashscope')\n";
}

sub emu_port { return $Port{ _which(shift) } }
sub emu_dir             { $Root }
sub emu_wav_dir         { $WavDir }
sub emu_transcripts_dir { $TrDir }

sub emu_url {
    my ($which, $path) = @_;
    $path = '/' unless defined $path;
    return "http://127.0.0.1:$Port{ _which($which) }$path";
}

sub emu_http {
    my ($which, $method, $path, $body, $headers) = @_;
    my %h = %{ $headers || {} };
    my %o = (headers => \%h);
    if (defined $body) {
        if (ref $body) {
            $o{content} = $JSON->encode($body);
            $h{'Content-Type'} ||= 'application/json';
        } else {
            $o{content} = $body;
        }
    }
    return $HTTP->request($method, emu_url($which, $path), \%o);
}

sub _control {
    my ($which, $method, $path, $body) = @_;
    my $res = emu_http($which, $method, $path, $body);
    die "t::Emu: $method $path on $which: $res->{status} $res->{content}\n"
        unless $res->{success};
    return $JSON->decode($res->{content});
}

# turn UTF-8 octet strings (test files without "use utf8") into characters
sub _chars {
    my $v = shift;
    if (ref $v eq 'HASH')  { return { map { ($_ => _chars($v->{$_})) } keys %$v } }
    if (ref $v eq 'ARRAY') { return [ map { _chars($_) } @$v ] }
    return $v if !defined $v || ref $v || utf8::is_utf8($v);
    my $c = $v;
    return utf8::decode($c) ? $c : $v;
}

sub emu_reset {
    _control('fsgo', 'POST', '/__emu/reset', {});
    _control('dashscope', 'POST', '/__emu/reset', {});
    for my $dir ($WavDir, $TrDir) {
        opendir my $dh, $dir or next;
        for my $f (readdir $dh) {
            next if $f eq '.' || $f eq '..';
            my $p = File::Spec->catfile($dir, $f);
            if (-d $p && !-l $p) { File::Path::remove_tree($p) }
            else                 { unlink $p }
        }
        closedir $dh;
    }
    return 1;
}

sub emu_make_wav {
    my %o = @_;
    my $secs  = defined $o{seconds}  ? $o{seconds}  : 1.0;
    my $rate  = $o{rate}     || 16000;
    my $ch    = $o{channels} || 1;
    my $tone  = $o{tone}     || 0;
    my $n     = int($secs * $rate + 0.5);
    my $data;
    if ($tone) {
        my $amp = int(32767 * 0.3);
        my $w   = 2 * 3.14159265358979 * $tone / $rate;
        $data = pack('s<*', map { my $v = int($amp * sin($w * $_)); ($v) x $ch } 0 .. $n - 1);
    } else {
        $data = "\0" x ($n * $ch * 2);
    }
    return 'RIFF' . pack('V', 36 + length $data) . 'WAVE'
         . 'fmt ' . pack('VvvVVvv', 16, 1, $ch, $rate, $rate * $ch * 2, $ch * 2, 16)
         . 'data' . pack('V', length $data) . $data;
}

sub _write {
    my ($path, $bytes) = @_;
    my $tmp = "$path.tmp$$";
    open my $fh, '>:raw', $tmp or die "t::Emu: cannot write $tmp: $!";
    print {$fh} $bytes;
    close $fh or die "t::Emu: cannot write $tmp: $!";
    rename $tmp, $path or die "t::Emu: cannot rename $tmp: $!";
    return $path;
}

sub emu_wav {
    my ($id, %o) = @_;
    die "t::Emu: emu_wav needs an id\n" unless defined $id && length $id;
    my $name = defined $o{name} ? $o{name} : "$id.wav";
    my $bytes = defined $o{content} ? $o{content} : emu_make_wav(%o);
    my $path = _write(File::Spec->catfile($WavDir, $name), $bytes);
    if ($o{meta}) {
        my $meta = _chars({ filename => $name, %{ $o{meta} } });
        my $mname = ($o{meta_name} || '') eq 'id' ? "$id.meta.json" : "$name.meta.json";
        _write(File::Spec->catfile($WavDir, $mname), $JSON->encode($meta));
    }
    if (defined $o{text}) {
        my $t = _chars($o{text});
        my @lines = ref $t eq 'ARRAY' ? @$t : ($t);
        my $stem = $name;
        $stem =~ s/\.[^.]*\z//;
        my $txt = join('', map { "$_\n" } @lines);
        utf8::encode($txt);
        _write(File::Spec->catfile($TrDir, "$stem.txt"), $txt);
    }
    return $path;
}

sub emu_wavs {
    my @ids = @_;
    return map { emu_wav($_) } @ids;
}

sub emu_file {
    my ($name, $content) = @_;
    $content = '' unless defined $content;
    utf8::encode($content) if utf8::is_utf8($content);
    return _write(File::Spec->catfile($WavDir, $name), $content);
}

sub emu_remove {
    my ($name) = @_;
    $name .= '.wav' if $name =~ /^\d+\z/;
    my $n = 0;
    for my $f ($name, "$name.meta.json") {
        $n += unlink File::Spec->catfile($WavDir, $f);
    }
    (my $id = $name) =~ s/\.[^.]*\z//;
    unlink File::Spec->catfile($WavDir, "$id.meta.json");
    return $n;
}

sub emu_generate {
    my ($count, %o) = @_;
    return _control('fsgo', 'POST', '/__emu/generate', { count => $count, %o });
}

sub emu_fault {
    my ($which, $spec) = @_;
    return _control(_which($which), 'POST', '/__emu/fault', $spec || {});
}

sub emu_stats {
    my ($which) = @_;
    return _control(_which($which), 'GET', '/__emu/stats');
}

sub emu_config {
    my ($which, $cfg) = @_;
    return _control(_which($which), 'GET', '/__emu/config') unless $cfg;
    return _control(_which($which), 'POST', '/__emu/config', $cfg);
}

sub emu_max_rate {
    my ($kind, $window) = @_;
    $kind   = 'submit' unless defined $kind;
    $window = 1.0      unless defined $window;
    my $r = _control('dashscope', 'GET', "/__emu/max_rate?kind=$kind&window=$window");
    return $r->{max};
}

sub emu_task {
    my ($task_id) = @_;
    my $res = emu_http('dashscope', 'GET', "/__emu/task?id=$task_id");
    return undef unless $res->{success};
    return $JSON->decode($res->{content});
}

sub emu_wait_task {
    my ($task_id, $timeout) = @_;
    $timeout ||= 10;
    my $deadline = Time::HiRes::time() + $timeout;
    while (1) {
        my $t = emu_task($task_id);
        return $t if !$t || $t->{status} =~ /^(SUCCEEDED|FAILED|CANCELED)$/;
        return $t if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

1;

__END__

=head1 NAME

t::Emu - start the file-system-go and DashScope emulators for a test file

=head1 SYNOPSIS

    # run from the repository root:  prove -I. t/...
    use Test::More;
    use t::Emu;                       # both emulators are now listening

    emu_reset();
    emu_wav('7000000000000000001', seconds => 1.5,
            meta => { title => 'a title', author => 'me',
                      upload_time => '2026-02-27T12:00:00+08:00' },
            text => ['Hello world.', 'Second sentence.']);
    emu_fault(dashscope => { route => 'submit', status => 429, count => 1 });
    ...
    my $s = emu_stats('dashscope');
    is $s->{submits_per_file}{"http://127.0.0.1:$ENV{TEST_NGINX_FSGO_PORT}/audio/7000000000000000001.wav"}, 1;
    cmp_ok emu_max_rate('submit', 1.0), '<=', 10;

In a Test::Nginx file the ports are used as C<$TEST_NGINX_FSGO_PORT> and
C<$TEST_NGINX_DASHSCOPE_PORT> in config blocks.

=head1 DESCRIPTION

At import time (once per process) this module

=over

=item *

creates a scratch folder F<t/servroot_emu_E<lt>pidE<gt>/> with F<wav/> (the
folder file-system-go serves) and F<transcripts/> (the texts the DashScope
emulator returns), plus the emulators' logs;

=item *

starts F<t/emu/fsgo.py> and F<t/emu/dashscope.py> on free loopback ports
(C</usr/bin/python3> when present, else C<python3> from PATH, or
C<$TEST_NGINX_EMU_PYTHON>), each told to exit when this process is gone,
and waits until both answer;

=item *

sets C<$ENV{TEST_NGINX_FSGO_PORT}>, C<$ENV{TEST_NGINX_DASHSCOPE_PORT}>,
C<$ENV{TEST_NGINX_DASHSCOPE_KEY}> (C<test-key>), C<$ENV{TEST_NGINX_EMU_WAV_DIR}>,
C<$ENV{TEST_NGINX_EMU_TRANSCRIPTS_DIR}> and C<$ENV{TEST_NGINX_EMU_DIR}>;

=item *

in C<END>, stops both emulators and removes the scratch folder (kept when
C<TEST_NGINX_EMU_KEEP> is set).  The exit status of the test is preserved.

=back

It does not use Test::Nginx, so it works under the real harness, the
fallback in F<t/lib>, and plain Test::More.  Only core Perl modules
(HTTP::Tiny, JSON::PP, Time::HiRes, POSIX) are used.

=head2 Import options

    use t::Emu delay => 1.0, key => 'k',
               dashscope_args => ['--submit-rps', 10],
               fsgo_args      => [];

C<delay> is the DashScope task delay (seconds from submit to a terminal
state; default 0.2 here, or C<$TEST_NGINX_EMU_DELAY>).  C<emu_reset>
restores these start-up settings.  C<TEST_NGINX_EMU_VERBOSE=1> makes the
emulators log every request into F<t/servroot_emu_E<lt>pidE<gt>/*.log>.

=head1 FUNCTIONS

All are exported.  C<$which> is C<'fsgo'> or C<'dashscope'>.

=over

=item emu_reset()

Resets both emulators (faults, counters, tasks, marked/deleted lists,
DashScope settings back to the start-up ones) and empties the WAV and
transcripts folders.

=item emu_wav($id, %opt)

Writes F<E<lt>idE<gt>.wav> (a valid PCM WAV) into the WAV folder and returns
its path.  Options: C<seconds> (1.0), C<rate> (16000), C<channels> (1),
C<tone> (Hz; 0 = silence), C<name> (file name instead of C<$id.wav>),
C<content> (raw bytes instead of a WAV, e.g. to make a non-WAV file),
C<meta> (hashref written as the sidecar F<E<lt>nameE<gt>.meta.json>, with
C<filename> filled in; C<meta_name =E<gt> 'id'> writes
F<E<lt>idE<gt>.meta.json> instead), C<text> (string or arrayref of
sentences, written to F<transcripts/E<lt>stemE<gt>.txt>: the DashScope
emulator then returns these sentences for that file; without it the text
is C<"transcript of E<lt>file nameE<gt>">).  Strings may be characters or
UTF-8 bytes.  A file F<transcripts/E<lt>stemE<gt>.json> (a result document:
C<{"transcripts":[...]}>, odd shapes welcome) is returned as the file's
result as it is, with C<file_url> and, when missing, C<properties> filled
in.

The emulator honours C<diarization_enabled> (each sentence gets
C<speaker_id>, round robin over C<speaker_count>, default 2) and
C<channel_id> (one transcript per track the WAV has), and answers 400
C<InvalidParameter> when a recognition option of section 1.2 has the wrong
type.

=item emu_wavs(@ids)

C<emu_wav($_)> for each id (1 s of silence, no metadata).

=item emu_file($name, $bytes)

Writes an arbitrary file into the WAV folder.

=item emu_remove($id_or_filename)

Deletes a WAV and its sidecars from disk (as if removed behind the
module's back).

=item emu_make_wav(%opt)

Returns the bytes of a WAV (same options as C<emu_wav>).

=item emu_generate($count, seconds => 1.0, start => '7000000000000000001', meta => 0)

Asks the fsgo emulator to write C<$count> WAVs with consecutive 19-digit
ids; returns C<{ok, count, ids =E<gt> [...], bytes_each}>.

=item emu_fault($which, \%spec)

Adds an injected fault; returns C<{ok, faults =E<gt> [...]}>.  See
L</CONTROL API> for the spec.

=item emu_stats($which)

The emulator's C</__emu/stats> as a hashref.

=item emu_config($which [, \%settings])

Reads or changes settings live (DashScope: C<delay key max_files
submit_rps query_rps result_ttl task_ttl fetch_timeout transcripts
result_base region>; fsgo: C<root>, and C<api>: C<1.5> or C<2>, the newer
file-system-go with C</api/files/query> and C<DELETE /api/files/E<lt>fE<gt>>
and without the 1.5 listing, metadata, delete and read routes).  Returns the current settings.

=item emu_max_rate($kind, $window)

The largest number of DashScope requests of C<$kind> (C<submit>, C<query>,
C<list>, C<cancel>, C<result>) seen in any window of C<$window> seconds.

=item emu_task($task_id)

The DashScope emulator's internal view of a task (status, file_urls,
parameters, headers of the submit, the query output), or undef.

=item emu_wait_task($task_id [, $timeout])

Polls C<emu_task> until the task is terminal; returns it.

=item emu_url($which, $path), emu_port($which), emu_http($which, $method, $path [, $body [, \%headers]])

URL / port of an emulator, and a raw request (HTTP::Tiny response
hashref; a reference C<$body> is sent as JSON).

=item emu_dir(), emu_wav_dir(), emu_transcripts_dir()

The scratch folders.

=back

=head1 CONTROL API

Both emulators answer under C</__emu/> (not part of the real services).

fsgo:

    GET  /__emu/stats   {"requests":{"health":n,"query":n,"metadata":n,"check":n,
                          "delete":n,"download":n,"mark":n,"readfiles":n,
                          "readremove":n,"audio":n},
                         "audio_per_file":{"<name>":n},"marked":["<file>",...],
                         "deleted":["<file>",...],"faults":[...],"fault_hits":n,
                         "root":"<dir>"}
    POST /__emu/fault   {"route":"query|metadata|audio|download|mark|delete|check|
                          health|readfiles|*","status":500,"count":N,
                          "body":"raw body","content_type":"...","error":"msg",
                          "delay_ms":M,"match":"path substring","close":true}
    POST /__emu/reset   {} or {"wipe":true}
    POST /__emu/generate {"count":N,"seconds":1.0,"start":"7000000000000000001",
                          "meta":false,"tone":0}
    GET|POST /__emu/config {"root":"<dir>","api":"1.5"|"2"}

dashscope:

    GET  /__emu/stats   {"submits":n,"accepted":n,"rejected":n,"queries":n,
                         "lists":n,"cancels":n,"results_fetched":n,"throttled":n,
                         "submits_per_file":{"<url>":n},"files_per_submit":[n,...],
                         "submit_times":[s,...],"query_times":[s,...],
                         "list_times":[s,...],"file_fetches":{"<url>":n},
                         "tasks":{"<task_id>":"<status>"},
                         "last_submit":{"task_id","headers","body"},
                         "submit_bodies":[body,...] (every accepted submit),
                         "faults":[...],"fault_hits":n,"now":s}
    GET  /__emu/max_rate?kind=submit&window=1.0   {"kind","window","max","count"}
    GET  /__emu/task?id=<task_id>
    POST /__emu/fault   HTTP routes "submit|query|result|list|cancel|*":
                         {"route","status":429,"code":"Throttling","message":"...",
                          "count":N,"delay_ms":M,"body":"raw","close":true,
                          "process":true,"late_ms":L,"match":"path substring"}
                        task outcome, taken at submit (match = first file URL):
                         {"route":"task","code":"InternalError.Timeout"}  -> FAILED
                         {"route":"task","stuck":"RUNNING"|"PENDING"}      -> never ends
                        file outcome (match = file URL):
                         {"route":"file","match":"x.wav","code":"FILE_403_FORBIDDEN",
                          "message":"...","delay_ms":M}
    GET|POST /__emu/config {"delay":0.2,"key":"test-key","max_files":100,
                          "submit_rps":0,"query_rps":0,"result_ttl":86400,
                          "task_ttl":86400,"fetch_timeout":10,"transcripts":"<dir>",
                          "result_base":"http://127.0.0.1:<port>","region":"cn-beijing"}
    POST /__emu/reset

C<count> absent means unlimited.  C<rate> (0..1) makes a fault hit only
that share of the matching requests, drawn at random for each (a miss
goes on to the next fault): C<{"route":"*","status":429,"rate":0.3}>.
A fault with only C<delay_ms> delays and
then answers normally.  C<process> runs the request normally (e.g. creates
the task) and then answers with the fault.  C<close> drops the connection
without an answer.  C<late_ms> runs the request at once and sends its
real answer only C<late_ms> later (a client with a shorter timeout has
given up: a submit whose answer is lost although its task exists).
Times are the emulator's monotonic clock in seconds.

=cut

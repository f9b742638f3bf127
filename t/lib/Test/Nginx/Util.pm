package Test::Nginx::Util;

# Fallback implementation of Test::Nginx::Util (openresty/test-nginx).
#
# This half of the fallback holds the global settings, the servroot and
# nginx.conf generation, the nginx life cycle (start / stop / valgrind) and
# the error.log reader.  Test::Nginx::Socket holds the block runner, the
# HTTP client and the checks.  See the POD in Test/Nginx/Socket.pm.
#
# This file is a plain Perl module (no Spiffy source filter), so ordinary
# "sub name { ... }" definitions are fine here.

use strict;
use warnings;

use Cwd ();
use Exporter 'import';
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();
use POSIX ();
use Test::More ();
use Time::HiRes ();

# What upstream's Test::Nginx::Util imports, and so what --- init code sees
# by a short name there (a fractional sleep, the signal and wait macros).
use Time::HiRes qw(sleep);
use POSIX qw(SIGQUIT SIGKILL SIGTERM SIGHUP :sys_wait_h);
use Cwd qw(cwd);

our $VERSION = '0.001_fallback';

our @EXPORT = qw(
    repeat_each no_shuffle no_root_location log_level master_on master_off
    master_process_enabled workers worker_connections add_block_preprocessor
    env_to_nginx server_port server_port_for_client server_root html_dir
    timeout no_long_string check_accum_error_log no_check_leak bail_out
);

our @EXPORT_OK = qw(
    expand_env_in_text parse_timeout nginx_alive nginx_version_num
    start_nginx stop_nginx read_new_log_lines read_whole_log scan_alerts
    reset_block_state check_environment check_nginx_binary
    log_sleep is_running_under_valgrind eval_block_code
);

#--------------------------------------------------------------------------
# Settings (the setters below are exported through Test::Nginx::Socket)
#--------------------------------------------------------------------------

our $RepeatEach           = 1;
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} ? 1 : 0;
our $NoRootLocation       = 0;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = 'off';
our $Workers              = 1;
our $WorkerConnections    = 64;
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $NoLongString         = 0;
our $CheckAccumErrLog     = 0;
our @BlockPreprocessors;
our @EnvToNginx;

# TEST_NGINX_SLEEP: the basic delay unit (start-up settling, log checks).
our $Sleep = defined $ENV{TEST_NGINX_SLEEP} && length $ENV{TEST_NGINX_SLEEP}
           ? $ENV{TEST_NGINX_SLEEP} : 0.015;

our $NginxBinary = $ENV{TEST_NGINX_BINARY}
    || (-x '/usr/sbin/nginx' ? '/usr/sbin/nginx' : 'nginx');

our $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND};
$UseValgrind = undef if defined $UseValgrind
                        && ($UseValgrind eq '' || $UseValgrind eq '0');

our $Randomize = $ENV{TEST_NGINX_RANDOMIZE};

# The process that loaded us; END must not act in forked children.
my $MainPid = $$;

#--------------------------------------------------------------------------
# Ports and servroot (computed at load time so that server_port() and
# $ENV{TEST_NGINX_SERVER_PORT} are usable before run_tests()).
#--------------------------------------------------------------------------

our ($ServerPort, $ServerPortForClient, $ServRoot);

# Returns a TCP port nobody is bound to right now (random, 10000-59999).
# %avoid lists ports already handed out in this run.
my %HandedOutPorts;
sub pick_free_port {
    for (1 .. 1000) {
        my $port = 10000 + int(rand(50000));
        next if $HandedOutPorts{$port};
        next if defined $ServerPort && $port == $ServerPort;
        my $sock = IO::Socket::INET->new(
            LocalAddr => '0.0.0.0',
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 1,
            ReuseAddr => 1,
        ) or next;
        close $sock;
        $HandedOutPorts{$port} = 1;
        return $port;
    }
    die "Test::Nginx (fallback): cannot find a free TCP port\n";
}

if ($Randomize) {
    $ServerPort          = pick_free_port();
    $ServerPortForClient = $ServerPort;
    $ServRoot = File::Spec->catdir(Cwd::cwd(), 't', "servroot_$ServerPort");
} else {
    $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || 1984;
    $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
    $ServRoot = $ENV{TEST_NGINX_SERVROOT}
        ? File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT})
        : File::Spec->catdir(Cwd::cwd(), 't', 'servroot');
}
$ServRoot =~ s{/+\z}{};

our $ConfDir    = "$ServRoot/conf";
our $HtmlDir    = "$ServRoot/html";
our $LogDir     = "$ServRoot/logs";
our $ConfFile   = "$ConfDir/nginx.conf";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $PidFile    = "$LogDir/nginx.pid";

$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_HTML_DIR}    = $HtmlDir;

#--------------------------------------------------------------------------
# Public setters / getters
#--------------------------------------------------------------------------

sub repeat_each {
    if (@_) {
        my $n = shift;
        die "repeat_each: bad number '$n'\n" unless $n =~ /^\d+$/ && $n > 0;
        $RepeatEach = $n;
    }
    return $RepeatEach;
}

sub no_shuffle             { $NoShuffle = 1 }
sub no_root_location       { $NoRootLocation = 1 }
sub no_long_string         { $NoLongString = 1 }
sub check_accum_error_log  { $CheckAccumErrLog = 1 }
sub no_check_leak          { 1 }    # leak mode is not implemented: no-op
sub master_on              { $MasterProcessEnabled = 'on' }
sub master_off             { $MasterProcessEnabled = 'off' }
sub master_process_enabled {
    $MasterProcessEnabled = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcessEnabled eq 'on';
}

sub log_level          { $LogLevel = shift if @_;          $LogLevel }
sub workers            { $Workers = shift if @_;           $Workers }
sub worker_connections { $WorkerConnections = shift if @_; $WorkerConnections }
sub timeout            { $Timeout = shift if @_;           $Timeout }

sub add_block_preprocessor {
    my $code = shift;
    die "add_block_preprocessor: a code reference is required\n"
        unless ref $code eq 'CODE';
    push @BlockPreprocessors, $code;
}

sub env_to_nginx { push @EnvToNginx, @_ }

sub server_port            { $ServerPort }
sub server_port_for_client { $ServerPortForClient }
sub server_root            { $ServRoot }
sub html_dir               { $HtmlDir }

our $Bailed = 0;

# Stops nginx and aborts the whole prove run (Test::More::BAIL_OUT).
sub bail_out {
    my $msg = shift;
    $Bailed = 1;
    eval { stop_nginx() unless $ENV{TEST_NGINX_NO_CLEAN} && !$UseValgrind };
    Test::More::BAIL_OUT($msg);
}

sub is_running_under_valgrind { $UseValgrind ? 1 : 0 }

#--------------------------------------------------------------------------
# Environment / binary checks (called by run_tests)
#--------------------------------------------------------------------------

# Environment switches of the real Test::Nginx that this fallback does not
# implement.  Running anyway would pretend a mode that is not active.
my @UnsupportedEnv = qw(
    TEST_NGINX_CHECK_LEAK TEST_NGINX_USE_HUP TEST_NGINX_USE_HTTP2
    TEST_NGINX_USE_HTTP3 TEST_NGINX_USE_STAP TEST_NGINX_USE_RR
    TEST_NGINX_NO_NGINX_MANAGER TEST_NGINX_POSTPONE_OUTPUT
    TEST_NGINX_EVENT_TYPE_WITH_HTTP3
);

sub check_environment {
    for my $var (@UnsupportedEnv) {
        if ($ENV{$var}) {
            bail_out("$var is set, but this mode is not implemented by the "
                     . "fallback Test::Nginx::Socket (t/lib); install the "
                     . "real Test::Nginx or unset it");
        }
    }
    # Ctrl-C / kill: leave through END so that nginx gets stopped.
    my %num = (HUP => 1, INT => 2, TERM => 15);
    for my $sig (sort keys %num) {
        my $cur = $SIG{$sig};
        next if defined $cur && $cur ne '' && $cur ne 'DEFAULT';
        $SIG{$sig} = sub { exit 128 + $num{$sig} };
    }
}

our $NginxV;            # full "nginx -V" output
our $NginxVersion;      # e.g. "1.22.1"

sub nginx_version_num {
    my $v = shift // $NginxVersion // '0';
    my @p = (split(/\./, $v), 0, 0, 0);
    return $p[0] * 1_000_000 + $p[1] * 1_000 + $p[2];
}

# Runs "nginx -V" once; bails out when the binary does not work.
sub check_nginx_binary {
    return if defined $NginxV;
    my ($rc, $out) = run_capture($NginxBinary, '-V');
    if ($rc != 0) {
        bail_out("cannot run '$NginxBinary -V' (exit status $rc): $out");
    }
    $NginxV = $out;
    if ($out =~ m{version: \S+?/(\d+(?:\.\d+)*)}) {
        $NginxVersion = $1;
    } else {
        $NginxVersion = '0';
    }
}

# Runs a command with stdout+stderr captured in a temporary file (never a
# pipe: a daemonising nginx could keep a pipe open).  Returns ($exit, $out).
sub run_capture {
    my @cmd = @_;
    my $tmp = File::Temp->new(TEMPLATE => 'tnginx-out-XXXXXX', TMPDIR => 1);
    my $pid = fork;
    die "fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<',  '/dev/null';
        open STDOUT, '>&', $tmp;
        open STDERR, '>&', $tmp;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "cannot exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $rc = $? >> 8;
    $rc = 128 + ($? & 127) if $? & 127;
    my $out = '';
    if (open my $fh, '<', $tmp->filename) {
        local $/;
        $out = <$fh> // '';
    }
    return ($rc, $out);
}

#--------------------------------------------------------------------------
# Perl code of a block
#--------------------------------------------------------------------------

# The real Test::Nginx evaluates a block's "--- init" and "--- skip_eval"
# code with a string eval inside Test::Nginx::Util, so the code runs in
# package Test::Nginx::Util, under that file's "use strict; use warnings",
# and sees the lexicals $block and $name.  The two subs below do the same
# (this file, too, is package Test::Nginx::Util under strict and warnings),
# so that a test calling a helper by a short name, or using an undeclared
# global, fails here exactly as it fails there.  Test files therefore call
# their helpers by full name (t::Emu::emu_wav(...), main::helper(...)).
#
# Returns the value of the code; dies with the error when it fails.
sub eval_block_code {
    my ($block, $name, $code) = @_;
    my $r = eval $code;
    die $@ if $@;
    return $r;
}

#--------------------------------------------------------------------------
# $TEST_NGINX_* expansion
#--------------------------------------------------------------------------

my %BlockRandPorts;     # TEST_NGINX_RAND_PORT_n, fixed within one block

sub reset_block_state {
    %BlockRandPorts = ();
}

# Replaces $TEST_NGINX_[A-Z0-9_]+ in $text; an undefined variable bails.
sub expand_env_in_text {
    my ($text, $what) = @_;
    return $text unless defined $text && !ref $text;
    $text =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $val = $BlockRandPorts{$var} //= pick_free_port();
        } elsif (defined $ENV{$var}) {
            $val = $ENV{$var};
        } else {
            bail_out("$what: environment variable \$$var is not defined");
        }
        $val;
    }ge;
    return $text;
}

# "1.5", "3", "50ms", "2s" -> seconds.
sub parse_timeout {
    my $t = shift;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $t =~ /^(\d+(?:\.\d*)?)\s*ms$/;
    return $1        if $t =~ /^(\d+(?:\.\d*)?)\s*s?$/;
    return undef;
}

#--------------------------------------------------------------------------
# servroot and nginx.conf
#--------------------------------------------------------------------------

# Deletes what a previous run created, refuses to delete anything else
# (rmdir fails -> bail), and recreates logs/, html/ and conf/.
sub setup_server_root {
    if (-d $ServRoot) {
        opendir my $dh, $ServRoot or bail_out("cannot open $ServRoot: $!");
        my @entries = grep { $_ ne '.' && $_ ne '..' } readdir $dh;
        closedir $dh;
        for my $e (@entries) {
            next unless $e =~ /^(?:conf|logs|html|cache|.*_temp|.*_cache)$/;
            File::Path::remove_tree("$ServRoot/$e");
        }
        rmdir $ServRoot
            or bail_out("cannot remove servroot $ServRoot: $! (it contains "
                        . "files the harness did not create?)");
    }
    for my $d ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        File::Path::make_path($d);
        -d $d or bail_out("cannot create directory $d: $!");
    }
    write_file("$HtmlDir/index.html", "It works!");
}

sub write_file {
    my ($path, $content) = @_;
    my (undef, $dir) = File::Spec->splitpath($path);
    File::Path::make_path($dir) if length $dir && !-d $dir;
    open my $fh, '>', $path or bail_out("cannot write $path: $!");
    binmode $fh;
    print $fh $content;
    close $fh or bail_out("cannot write $path: $!");
}

sub nginx_module_disabled {
    my $name = shift;       # e.g. "http_fastcgi"
    return ($NginxV // '') =~ /--without-\Q$name\E_module\b/;
}

# Builds the text of conf/nginx.conf (spec section 7).  %$c holds the
# block-level pieces: config, http_config, main_config, post_main_config,
# log_level, server_name.
sub build_nginx_conf {
    my $c = shift;

    my $http_config = $c->{http_config} // '';
    my $level       = $c->{log_level} // $LogLevel;
    my $server_name = $c->{server_name} // 'localhost';
    my $daemon      = $UseValgrind ? 'off' : 'on';

    my $conf = <<"_EOC_";
worker_processes  $Workers;
daemon $daemon;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $level;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
_EOC_

    for my $e (@EnvToNginx) {
        $conf .= "env $e;\n";
    }

    if (my $mods = $ENV{TEST_NGINX_LOAD_MODULES}) {
        my @mods = grep { length } split /\s+/, $mods;
        $conf .= join(' ', map {
            'load_module ' . expand_env_in_text($_, 'TEST_NGINX_LOAD_MODULES')
            . ';'
        } @mods) . "\n";
    }

    $conf .= ($c->{main_config} // '') . "\n";

    $conf .= "http {\n";
    $conf .= "    access_log $AccLogFile;\n";
    $conf .= "    client_body_temp_path $ServRoot/client_body_temp;\n"
        unless $http_config =~ /\bclient_body_temp_path\b/;
    $conf .= "    proxy_temp_path $ServRoot/proxy_temp;\n"
        unless $http_config =~ /\bproxy_temp_path\b/;
    for my $m (qw(fastcgi scgi uwsgi)) {
        next if nginx_module_disabled("http_$m");
        next if $http_config =~ /\b${m}_temp_path\b/;
        $conf .= "    ${m}_temp_path $ServRoot/${m}_temp;\n";
    }
    $conf .= "    default_type text/plain;\n";
    $conf .= "    keepalive_timeout  68000ms;\n";
    $conf .= "$http_config\n";
    $conf .= <<"_EOC_";
    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;
_EOC_
    $conf .= ($c->{config} // '') . "\n";
    unless ($NoRootLocation) {
        $conf .= <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_
    }
    $conf .= "    }\n}\n";

    $conf .= ($c->{post_main_config} // '') . "\n";

    $conf .= "events {\n    accept_mutex off;\n"
           . "    worker_connections  $WorkerConnections;\n";
    $conf .= "    use $ENV{TEST_NGINX_EVENT_TYPE};\n"
        if $ENV{TEST_NGINX_EVENT_TYPE};
    $conf .= "}\n";
    $conf .= "env ASAN_OPTIONS;\n";

    if ($> == 0) {
        my $user = $ENV{TEST_NGINX_WORKER_USER} || 'root';
        $conf .= "user $user;\n";
    }
    return $conf;
}

#--------------------------------------------------------------------------
# nginx process life cycle
#--------------------------------------------------------------------------

our $ValgrindChild;     # pid of the foreground nginx under valgrind
our $LastConf;          # hashref given to the last start_nginx()
our $AlertOffset = 0;   # error.log offset already scanned for alerts
our $LastBlockName;     # block that ran last on the current nginx
our $LastBlockAllowed = [];   # its error_log patterns (alert exemptions)

# True when $pid is an existing, non-zombie process.
sub pid_alive {
    my $pid = shift;
    return 0 unless $pid && kill(0, $pid);
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh> // '';
        return 0 if $stat =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

sub read_pid_file {
    open my $fh, '<', $PidFile or return undef;
    my $pid = <$fh>;
    return undef unless defined $pid && $pid =~ /^\s*(\d+)/;
    $pid = $1;
    # Only ever signal a process that looks like our nginx (a stale pid
    # file could name an unrelated process after pid reuse).
    if (open my $c, '<', "/proc/$pid/cmdline") {
        local $/;
        my $cmd = <$c> // '';
        my $bin = (split m{/}, $NginxBinary)[-1];
        return undef if length $cmd
                        && $cmd !~ /nginx|valgrind|memcheck|\Q$bin\E/;
    }
    return $pid;
}

sub nginx_alive {
    return pid_alive($ValgrindChild) if $ValgrindChild;
    my $pid = read_pid_file();
    return $pid ? pid_alive($pid) : 0;
}

# Direct children of $pid (nginx workers), from /proc.
sub child_pids {
    my $ppid = shift;
    my @kids;
    opendir my $dh, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh> // '';
        push @kids, $p if $stat =~ /^\d+ \(.*\) \S+ (\d+)/s && $1 == $ppid;
    }
    return @kids;
}

# Waits until $pid is gone (reaping it when it is our child).
sub wait_pid_gone {
    my ($pid, $secs, $is_child) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    while (1) {
        if ($is_child) {
            return 1 if waitpid($pid, POSIX::WNOHANG()) == $pid;
            return 1 unless kill 0, $pid;
        } else {
            return 1 unless pid_alive($pid);
        }
        return 0 if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.01);
    }
}

# QUIT, wait up to the timeout, repeated TERM, then KILL (nginx + workers).
sub stop_nginx {
    my $is_child = $ValgrindChild ? 1 : 0;
    my $pid = $ValgrindChild || read_pid_file();
    if ($pid && ($is_child || pid_alive($pid))) {
        my @workers = child_pids($pid);
        kill 'QUIT', $pid;
        my $quit_wait = $UseValgrind ? 60 : $Timeout;
        unless (wait_pid_gone($pid, $quit_wait, $is_child)) {
            for (1 .. 10) {
                kill 'TERM', $pid;
                last if wait_pid_gone($pid, 0.2, $is_child);
            }
            if (pid_alive($pid)) {
                warn "Test::Nginx (fallback): nginx $pid did not stop, "
                     . "sending KILL\n";
                kill 'KILL', $pid, child_pids($pid), @workers;
                wait_pid_gone($pid, 2, $is_child);
            }
        }
        # Leftover workers of a killed master would keep the port busy.
        for my $w (@workers) {
            kill 'KILL', $w if pid_alive($w);
        }
    }
    $ValgrindChild = undef;
    unlink $PidFile if -e $PidFile && !nginx_alive_by_file();

    # Alerts logged while shutting down belong to the last block.
    scan_alerts($LastBlockName, $LastBlockAllowed, ' (at nginx shutdown)')
        if defined $LastBlockName;
    $LastBlockName = undef;
}

sub nginx_alive_by_file {
    my $pid = read_pid_file();
    return $pid ? pid_alive($pid) : 0;
}

# True when something listens on TCP $port (Linux /proc; connect fallback).
sub port_listening {
    my $port = shift;
    my $seen_proc = 0;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        $seen_proc = 1;
        while (my $line = <$fh>) {
            my @f = split ' ', $line;
            next unless @f > 3 && $f[1] =~ /:([0-9A-Fa-f]+)$/;
            return 1 if hex($1) == $port && $f[3] eq '0A';
        }
    }
    return 0 if $seen_proc;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return $s ? 1 : 0;
}

sub nginx_command {
    my @cmd = ($NginxBinary);
    push @cmd, '-e', $ErrLogFile if nginx_version_num() >= 1_019_005;
    push @cmd, '-p', "$ServRoot/", '-c', $ConfFile;
    return @cmd;
}

sub valgrind_prefix {
    return () unless $UseValgrind;
    if ($UseValgrind =~ /^\d+$/) {
        my @v = qw(valgrind --num-callers=100 -q --tool=memcheck
                   --leak-check=full --keep-debuginfo=yes
                   --show-possibly-lost=no --gen-suppressions=all);
        push @v, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
        return @v;
    }
    return ('valgrind', '-q', split(' ', $UseValgrind));
}

# One start attempt.  Returns (1) on success or (0, $output).
sub try_start_once {
    my @cmd = nginx_command();
    if ($UseValgrind) {
        my @full = (valgrind_prefix(), @cmd);
        my $pid = fork;
        bail_out("fork failed: $!") unless defined $pid;
        if ($pid == 0) {
            open STDIN,  '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            { no warnings 'exec'; exec { $full[0] } @full; }
            print STDERR "cannot exec $full[0]: $!\n";
            POSIX::_exit(127);
        }
        # Ready = listening and pid file written; failure = child exited.
        my $deadline = Time::HiRes::time() + 120;
        while (Time::HiRes::time() < $deadline) {
            if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
                return (0, "nginx under valgrind exited with status "
                           . ($? >> 8) . " (see its stderr above)");
            }
            if (-s $PidFile && port_listening($ServerPort)) {
                $ValgrindChild = $pid;
                Time::HiRes::sleep(0.1);
                return (1);
            }
            Time::HiRes::sleep(0.05);
        }
        kill 'KILL', $pid;
        waitpid($pid, 0);
        return (0, "nginx under valgrind did not start listening in 120 s");
    }

    my ($rc, $out) = run_capture(@cmd);
    return (0, "exit status $rc: $out") if $rc != 0;

    # The daemon child writes the pid file right after the parent exits.
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline) {
        my $pid = read_pid_file();
        return (1) if $pid && pid_alive($pid);
        Time::HiRes::sleep(0.01);
    }
    Test::More::diag("Test::Nginx (fallback): nginx started but no live pid "
                     . "in $PidFile");
    return (1);
}

# Stops the old nginx, rebuilds servroot, writes nginx.conf and the user
# files ($files: [[path, content, mtime-or-undef], ...]), starts nginx.
sub start_nginx {
    my ($conf, $files, $block_name) = @_;
    stop_nginx();
    setup_server_root();
    $AlertOffset = 0;
    $LastConf = $conf;
    write_file($ConfFile, build_nginx_conf($conf));
    write_user_files($files);

    # A config error is deterministic: retry only a little.  A busy port
    # (previous nginx still going away) gets the spec's ~30 s.
    my $start   = Time::HiRes::time();
    my $delay   = 0.05;
    my $tries   = 0;
    my $out     = '';
    while (1) {
        my ($ok, $msg) = try_start_once();
        if ($ok) {
            Time::HiRes::sleep($Sleep);
            return;
        }
        $out = $msg;
        $tries++;
        my $busy = $msg =~ /Address already in use|bind\(\)/;
        my $limit = $busy ? 30 : 1;
        last if Time::HiRes::time() - $start > $limit || (!$busy && $tries >= 3);
        Time::HiRes::sleep($delay);
        $delay *= 2 if $delay < 2;
    }
    $out =~ s/\s+\z//;
    bail_out("$block_name - cannot start nginx ($NginxBinary, conf "
             . "$ConfFile) after $tries attempts: $out");
}

sub write_user_files {
    my $files = shift or return;
    for my $f (@$files) {
        my ($name, $content, $mtime) = @$f;
        my $path = File::Spec->file_name_is_absolute($name)
                 ? $name : "$HtmlDir/$name";
        write_file($path, $content // '');
        utime($mtime, $mtime, $path) if defined $mtime;
    }
}

#--------------------------------------------------------------------------
# error.log
#--------------------------------------------------------------------------

sub log_sleep { Time::HiRes::sleep(3 * $Sleep) }

# Complete lines of error.log from byte $offset; returns (\@lines, $new).
# A trailing partial line is left for the next read.
sub read_new_log_lines {
    my $offset = shift // 0;
    open my $fh, '<', $ErrLogFile or return ([], $offset);
    binmode $fh;
    my $size = -s $fh // 0;
    $offset = 0 if $offset > $size;     # log was recreated
    seek $fh, $offset, 0;
    local $/;
    my $data = <$fh> // '';
    close $fh;
    my $end = rindex($data, "\n");
    return ([], $offset) if $end < 0;
    my $chunk = substr($data, 0, $end + 1);
    my @lines = split /\n/, $chunk;
    return (\@lines, $offset + $end + 1);
}

sub read_whole_log { (read_new_log_lines(0))[0] }

# A line reporting a problem nginx never logs in a healthy run.
sub is_alert_line {
    my $l = shift;
    return 1 if $l =~ m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:alert|emerg)\] };
    return 1 if $l =~ /^nginx: \[(?:alert|emerg)\] /;
    return 1 if $l =~ /Assertion .* failed/;
    return 0;
}

sub line_matches_any {
    my ($line, $pats) = @_;
    for my $p (@$pats) {
        if (ref $p eq 'Regexp') { return 1 if $line =~ $p }
        else                    { return 1 if index($line, $p) >= 0 }
    }
    return 0;
}

# Scans error.log lines not yet scanned; emits ONE failing assertion when
# [alert]/[emerg]/"Assertion ... failed" lines are found (nothing when
# clean, so plans are unaffected).  Lines matching $allowed (the block's
# own error_log patterns) are expected and exempt.
sub scan_alerts {
    my ($name, $allowed, $where) = @_;
    return if $ENV{TEST_NGINX_ALLOW_ALERTS} || $Bailed;
    my ($lines, $new) = read_new_log_lines($AlertOffset);
    $AlertOffset = $new;
    my @bad = grep { is_alert_line($_) && !line_matches_any($_, $allowed || []) }
              @$lines;
    return unless @bad;
    Test::More::fail(($name // $0) . " - no [alert]/[emerg] or assertion "
                     . "failure in error.log" . ($where // ''));
    my @show = @bad > 20 ? (@bad[0 .. 19], '...') : @bad;
    Test::More::diag("  offending error.log line(s):\n"
                     . join('', map { "    $_\n" } @show));
}

#--------------------------------------------------------------------------
# End of the run
#--------------------------------------------------------------------------

END {
    local $?;
    if ($$ == $MainPid && !$Bailed) {
        my $stop = !$ENV{TEST_NGINX_NO_CLEAN} || $UseValgrind;
        if (defined $LastBlockName) {
            Time::HiRes::sleep($Sleep);
            scan_alerts($LastBlockName, $LastBlockAllowed, ' (end of run)');
        }
        if ($stop) {
            stop_nginx() if defined $NginxV;
            if ($Randomize && -d $ServRoot) {
                File::Path::remove_tree($ServRoot);
            }
        }
    }
}

1;

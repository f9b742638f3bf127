#!/usr/bin/perl
#
# Self-test of the FALLBACK Test::Nginx::Socket in t/lib (used only when the
# real openresty Test::Nginx is not installed).
#
# It runs the small test files kept beside it in t/harness/*.tt (extension
# .tt so that "prove -r t" does not pick them up) with "perl -It/lib FILE" in
# subprocesses, each with its own servroot and port, against the real
# nginx binary (no module of this project is needed), and checks their
# exit status and TAP output: the passing files must exit 0 with only
# "ok" lines; every failing file must exit non-zero with the expected
# "not ok" lines or "Bail out!".
#
# Skipped when the real Test::Nginx is installed or nginx is unavailable.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes ();

my $ROOT    = abs_path(dirname(abs_path(__FILE__)) . '/../..');
my $LIB     = "$ROOT/t/lib";
my $HARNESS = "$ROOT/t/harness";
my $OURS    = abs_path("$LIB/Test/Nginx/Socket.pm");

#--------------------------------------------------------------------------
# Skip conditions
#--------------------------------------------------------------------------

# A Test/Nginx/Socket.pm anywhere in @INC that is not ours = the real one.
for my $dir (@INC) {
    next if ref $dir;
    my $f = "$dir/Test/Nginx/Socket.pm";
    next unless -f $f;
    my $abs = abs_path($f);
    next if defined $abs && $abs eq $OURS;
    plan skip_all => "the real Test::Nginx is installed ($f); "
                     . "the t/lib fallback is not used";
}

sub find_nginx {
    return $ENV{TEST_NGINX_BINARY} if $ENV{TEST_NGINX_BINARY};
    return '/usr/sbin/nginx' if -x '/usr/sbin/nginx';
    for my $d (File::Spec->path) {
        return "$d/nginx" if -x "$d/nginx";
    }
    return undef;
}

my $NGINX = find_nginx();
plan skip_all => 'no nginx binary found (set TEST_NGINX_BINARY)'
    unless $NGINX;
{
    my $v = `$NGINX -V 2>&1`;
    plan skip_all => "'$NGINX -V' does not work" if $? != 0;
}

my $TMP = tempdir('tnginx-selftest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $TMP;   # the non-root case below writes here too

#--------------------------------------------------------------------------
# Helpers
#--------------------------------------------------------------------------

my %Used;
sub free_port {
    for (1 .. 500) {
        my $p = 20000 + int(rand(30000));
        next if $Used{$p}++;
        my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $p,
                                      Proto => 'tcp', Listen => 1,
                                      ReuseAddr => 1) or next;
        close $s;
        return $p;
    }
    die "no free port\n";
}

sub slurp {
    my $f = shift;
    open my $fh, '<', $f or return '';
    local $/;
    return <$fh> // '';
}

sub port_in_use {
    my $port = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return $s ? 1 : 0;
}

# Runs t/harness/$file in a subprocess.  Options: env => {...} (extra
# environment), cwd => dir, as_user => [setpriv args].  Returns a hash with
# rc, out (stdout: TAP), err (stderr), port, servroot.
my $Seq = 0;
sub run_tt {
    my ($file, %o) = @_;
    my $port = free_port();
    my $servroot = "$TMP/" . basename($file, '.tt') . '-' . $Seq++;
    my $outf = "$servroot.out";
    my $errf = "$servroot.err";

    my %env = %ENV;
    delete $env{$_} for grep { /^TEST_NGINX_/ } keys %env;
    delete $env{PERL5LIB};
    delete $env{HARNESS_ACTIVE};
    $env{TEST_NGINX_BINARY}   = $NGINX;
    $env{TEST_NGINX_PORT}     = $port;
    $env{TEST_NGINX_SERVROOT} = $servroot;
    %env = (%env, %{ $o{env} || {} });

    my $cwd = $o{cwd} || $ROOT;
    my $path = $o{cwd} ? "$HARNESS/$file" : "t/harness/$file";
    my @cmd = ($^X, "-I$LIB", $path);
    unshift @cmd, @{ $o{as_user} } if $o{as_user};

    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        chdir $cwd or POSIX::_exit(126);
        %ENV = %env;
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', $outf or POSIX::_exit(126);
        open STDERR, '>', $errf or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    my $deadline = time + 180;
    my $rc;
    while (1) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            $rc = $? >> 8;
            $rc = 128 + ($? & 127) if $? & 127;
            last;
        }
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $rc = 'timeout';
            last;
        }
        Time::HiRes::sleep(0.05);
    }
    return { rc => $rc, out => slurp($outf), err => slurp($errf),
             port => $port, servroot => $servroot, file => $file };
}

sub show {
    my $r = shift;
    diag("---- $r->{file}: exit $r->{rc}\n---- stdout:\n$r->{out}"
         . "---- stderr:\n$r->{err}");
}

sub not_ok_lines { grep { /^not ok \d+/ } split /\n/, $_[0]{out} }
sub ok_lines     { grep { /^ok \d+/ }     split /\n/, $_[0]{out} }

# Every run must leave no nginx behind (END / bail_out stop it).
sub nginx_gone {
    my $r = shift;
    ok(!port_in_use($r->{port}),
       "$r->{file}: nginx stopped at exit (port $r->{port} free)");
}

# A passing file: exit 0, a plan, only ok lines, as many as planned.
sub expect_pass {
    my ($r, $planned) = @_;
    my ($plan) = $r->{out} =~ /^1\.\.(\d+)\s*$/m;
    my @ok = ok_lines($r);
    my $good = is($r->{rc}, 0, "$r->{file}: exits 0")
        & is(scalar(not_ok_lines($r)), 0, "$r->{file}: no 'not ok' line")
        & ok(defined $plan && $plan > 0 && $plan == @ok,
             "$r->{file}: prints a plan matching its " . scalar(@ok)
             . " ok lines");
    $good &= is($plan, $planned, "$r->{file}: plan is 1..$planned")
        if defined $planned;
    show($r) unless $good;
    nginx_gone($r);
}

# A failing file: non-zero exit, exactly $n "not ok" lines, each matching
# one of @res (in order).
sub expect_fail {
    my ($r, $n, @res) = @_;
    my @bad = not_ok_lines($r);
    my $good = isnt($r->{rc}, 0, "$r->{file}: exits non-zero");
    $good &= is(scalar(@bad), $n, "$r->{file}: $n 'not ok' line(s)");
    for my $i (0 .. $#res) {
        $good &= like($bad[$i] // '', $res[$i],
                      "$r->{file}: 'not ok' line " . ($i + 1) . " is right");
    }
    $good &= unlike($r->{out}, qr/^Bail out!/m, "$r->{file}: did not bail");
    show($r) unless $good;
    nginx_gone($r);
}

# A file that must abort the whole run with BAIL_OUT.
sub expect_bail {
    my ($r, $re) = @_;
    my $good = isnt($r->{rc}, 0, "$r->{file}: exits non-zero");
    $good &= like($r->{out}, qr/^Bail out!.*$re/m,
                  "$r->{file}: prints 'Bail out!' with the reason");
    show($r) unless $good;
    nginx_gone($r);
}

#--------------------------------------------------------------------------
# Passing files
#--------------------------------------------------------------------------

expect_pass(run_tt('units.tt'), 24);    # request/response unit checks
expect_pass(run_tt('pass.tt'));
expect_pass(run_tt('plan.tt'), 24);     # upstream plan arithmetic holds
expect_pass(run_tt('master.tt'), 4);

# TEST_NGINX_RANDOMIZE: random port and <cwd>/t/servroot_<port>, removed
# at the end of the run.
{
    my $cwd = "$TMP/randomize";
    mkdir $cwd;
    my $r = run_tt('plan.tt', cwd => $cwd,
                   env => { TEST_NGINX_RANDOMIZE => 1 });
    expect_pass($r, 24);
    my @left = glob("$cwd/t/servroot_*");
    is(scalar(@left), 0, 'randomize: t/servroot_<port> removed at exit')
        or diag("left: @left");
}

# Not running as root: no "user" line, everything inside servroot.
SKIP: {
    skip 'not root: the run above already was a non-root run', 4
        unless $> == 0;
    my $setpriv = -x '/usr/bin/setpriv' ? '/usr/bin/setpriv' : undef;
    my $uid = getpwnam('nobody');
    my $gid = getgrnam('nogroup') // getgrnam('nobody');
    skip 'setpriv or the nobody user is missing', 4
        unless $setpriv && defined $uid && defined $gid;
    my @as = ($setpriv, "--reuid=$uid", "--regid=$gid", '--clear-groups');
    system(@as, $^X, '-e', "exit(-r '$HARNESS/plan.tt' ? 0 : 1)");
    skip 'the repository is not readable by nobody', 4 if $? != 0;
    expect_pass(run_tt('plan.tt', as_user => \@as), 24);
}

#--------------------------------------------------------------------------
# Failing files: each must be reported as failed
#--------------------------------------------------------------------------

expect_fail(run_tt('fail-body.tt'), 1,
            qr/TEST 1: wrong body - response_body - response is expected/);

expect_fail(run_tt('fail-status.tt'), 2,
            qr/TEST 1: default 200 but got 404 - status code ok/,
            qr/TEST 2: expected 404 but got 200 - status code ok/);

expect_fail(run_tt('fail-error-log.tt'), 2,
            qr/TEST 1: .* pattern "this text is never logged" matches a line/,
            qr/TEST 2: .* pattern "\[error\]" should not match any line/);

expect_fail(run_tt('fail-alert.tt'), 3,
            qr{TEST 1: an \[alert\] line - no \[alert\]/\[emerg\]},
            qr{TEST 2: an \[emerg\] line - no \[alert\]/\[emerg\]},
            qr{TEST 3: an assertion failure - no \[alert\]/\[emerg\]});

expect_fail(run_tt('fail-real-alert.tt'), 1,
            qr{TEST 1: connection pool exhausted - no \[alert\]/\[emerg\]});

expect_fail(run_tt('fail-timeout.tt'), 1,
            qr/TEST 1: .* client socket timed out/);

expect_fail(run_tt('fail-headers.tt'), 2,
            qr/header Content-Type not present/,
            qr/header X-Foo ok/);

expect_fail(run_tt('fail-multi.tt'), 1,
            qr/response_body - response is expected \(req 1\)/);

expect_fail(run_tt('fail-body-like.tt'), 2,
            qr/TEST 1: like - response_body_like/,
            qr/TEST 2: unlike - response_body_unlike/);

expect_fail(run_tt('fail-crash.tt'), 2,
            qr/TEST 1: nginx is gone - connected to nginx/,
            qr/TEST 1: nginx is gone - nginx is still running after the block/);

#--------------------------------------------------------------------------
# Files that must abort the run
#--------------------------------------------------------------------------

expect_bail(run_tt('fail-emerg-start.tt'),
            qr/cannot start nginx.*unknown directive "no_such_directive_here"/);
expect_bail(run_tt('fail-unsupported.tt'),
            qr/'--- raw_request' is not supported/);
expect_bail(run_tt('fail-undef-var.tt'),
            qr/\$TEST_NGINX_NO_SUCH_VARIABLE_XYZ is not defined/);
expect_bail(run_tt('fail-no-config.tt'),
            qr/no '--- config' section/);
expect_bail(run_tt('fail-init.tt'),
            qr/init failed: Undefined subroutine &Test::Nginx::Util::helper/);

done_testing();

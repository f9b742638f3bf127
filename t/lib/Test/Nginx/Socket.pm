package Test::Nginx::Socket;

=head1 NAME

Test::Nginx::Socket - minimal FALLBACK for openresty's Test::Nginx::Socket

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';     # or: plan tests => ...
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello

=head1 WHAT THIS IS

This is B<not> openresty/test-nginx.  It is a small re-implementation of the
subset of C<Test::Nginx::Socket> this project's tests use, written from a
description of upstream's behaviour (block grammar, requests, checks and
their counting, error.log slicing, servroot, nginx.conf, life cycle and
environment), for machines where the real module cannot be installed (no
CPAN, no network).

It lives in F<t/lib> and is B<only> loaded when the real Test::Nginx is
missing: the Makefile adds C<-It/lib> (or PERL5LIB) only when
C<perl -MTest::Nginx::Socket -e1> fails.  Because C<-I> prepends to
C<@INC>, adding F<t/lib> unconditionally would shadow a real installation.

It is built on Test::Base (C<use Test::Base -Base>), so the block grammar,
filters (C<chomp>, C<chop>, C<eval>, ...), C<--- ONLY>, C<--- SKIP>,
C<--- LAST>, C<blocks()> and C<plan> behave exactly as upstream.

=head1 IMPLEMENTED

Functions: C<run_tests repeat_each no_shuffle no_root_location log_level
master_on master_off workers worker_connections add_block_preprocessor
env_to_nginx server_port server_root html_dir timeout no_long_string
check_accum_error_log bail_out>, plus Test::Base/Test::More's C<plan
blocks is like pass fail skip diag ...>.  C<$Test::Nginx::Util::ServerPort>
holds the listen port.

Sections: C<config http_config main_config post_main_config request>
(string, C<eval> string, C<eval> array of strings = one connection per
request), C<more_headers> (string or per-request array), C<error_code>,
C<error_code_like>, C<response_headers> (C<!Name> = absent),
C<response_headers_like>, C<response_body> (C<eq>, or a C<qr//> from eval),
C<response_body_like>, C<response_body_unlike>, C<response_body_json_sort>,
C<error_log>, C<no_error_log>, C<grep_error_log> + C<grep_error_log_out>,
C<timeout>, C<abort>, C<wait>, C<shutdown>, C<ignore_response>, C<init>,
C<user_files>, C<log_level>, C<server_name>, C<skip_eval>, C<skip_nginx>.

Environment: C<TEST_NGINX_BINARY> (default F</usr/sbin/nginx> when it
exists, else C<nginx> from PATH), C<TEST_NGINX_SERVER_PORT>,
C<TEST_NGINX_PORT>, C<TEST_NGINX_CLIENT_PORT>, C<TEST_NGINX_LOAD_MODULES>,
C<TEST_NGINX_USE_VALGRIND>, C<TEST_NGINX_NO_CLEAN>, C<TEST_NGINX_NO_SHUFFLE>,
C<TEST_NGINX_SERVROOT>, C<TEST_NGINX_RANDOMIZE>, C<TEST_NGINX_TIMEOUT>,
C<TEST_NGINX_SLEEP>, C<TEST_NGINX_LOG_LEVEL>, C<TEST_NGINX_EVENT_TYPE>,
C<TEST_NGINX_WORKER_USER>.  C<TEST_NGINX_SERVER_ROOT>,
C<TEST_NGINX_SERVER_PORT> and C<TEST_NGINX_HTML_DIR> are exported.

=head1 NOT IMPLEMENTED (the run BAILS OUT)

Sections C<raw_request pipelined_requests http2 http3 stap* tcp_* udp_*
stream_* curl* raw_response_headers_* must_die todo skip_nginx2 ...> and
packet-style requests (an eval array of arrayrefs).  Environment modes
C<TEST_NGINX_CHECK_LEAK>, C<_USE_HUP>, C<_USE_HTTP2>, C<_USE_HTTP3>,
C<_USE_STAP>, C<_USE_RR>, C<_NO_NGINX_MANAGER>.  A test that needs them
must never pass silently, so C<BAIL_OUT> is called instead.

=head1 STRICTER THAN UPSTREAM

After every request (and when nginx is stopped) the new lines of
F<error.log> are scanned for C<[alert]>, C<[emerg]> and
C<Assertion ... failed>.  If any is found, B<one failing assertion> named
C<"... - no [alert]/[emerg] or assertion failure in error.log"> is added.
Nothing is emitted when the log is clean, so C<plan tests =E<gt> ...>
arithmetic is the same as upstream.  Lines matched by one of the block's
own C<--- error_log> patterns are expected and exempt;
C<TEST_NGINX_ALLOW_ALERTS=1> disables the check.

Likewise a connection failure, a read/write timeout (unless C<--- abort>)
and a malformed chunked body each add one failing assertion.

=head1 PERL CODE IN BLOCKS

As upstream, C<--- init> and C<--- skip_eval> code is evaluated in package
C<Test::Nginx::Util>, under C<use strict> and C<use warnings>, with the
lexicals C<$block> and C<$name> in sight; C<eval> filters run in
C<Test::Base::Filter> (Test::Base's own).  A helper is therefore called by
its full name (C<t::Emu::emu_wav(...)>, C<main::helper(...)>): a short name
fails here exactly as it fails under the real Test::Nginx.  Upstream's
other Perl sections (C<request_eval>, C<response_body_eval>,
C<post_setup_server_root>) are not implemented and bail out.

=head1 OTHER DEVIATIONS

=over

=item * A failing nginx start is retried for ~30 s only when the port is
busy; other errors (bad config) bail after 3 quick attempts, with nginx's
own output in the BAIL_OUT message.

=item * A block without C<--- config> reuses the running nginx, unless it
has C<http_config>, C<main_config> or C<post_main_config> (then nginx is
restarted with an empty C<config>).

=item * Valgrind errors are only printed on stderr (as upstream).

=back

=cut

use Test::Base -Base;

our $VERSION = '0.001_fallback';

use Test::Nginx::Util qw(:DEFAULT
    expand_env_in_text parse_timeout nginx_alive nginx_version_num
    start_nginx stop_nginx read_new_log_lines read_whole_log scan_alerts
    reset_block_state check_environment check_nginx_binary log_sleep
    is_running_under_valgrind eval_block_code
);
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use List::Util ();
use Test::LongString ();
use Time::HiRes ();

# NOTE: Test::Base -Base runs the Spiffy source filter on this file, which
# injects "my $self = shift;" into every "sub name {" at column 0.  All
# subs below are therefore written "sub name () {" (the filter strips the
# empty prototype), i.e. they are plain functions.

our @EXPORT = qw(
    run_tests repeat_each no_shuffle no_root_location log_level master_on
    master_off master_process_enabled workers worker_connections
    add_block_preprocessor env_to_nginx server_port server_port_for_client
    server_root html_dir timeout no_long_string check_accum_error_log
    no_check_leak bail_out
);

# Sections of the real Test::Nginx::Socket that are not implemented here.
my @UnsupportedSections = qw(
    raw_request pipelined_requests http2 http3 quic
    stap stap_out stap_out_like stap_out_unlike
    tcp_listen tcp_query tcp_query_len tcp_reply tcp_reply_delay
    tcp_shutdown tcp_shutdown_delay tcp_no_close
    udp_listen udp_query udp_reply udp_reply_delay
    stream_config stream_server_config stream_server_config2
    stream_server_config3 stream_request stream_response
    stream_response_like stream_enable
    raw_response_headers_like raw_response_headers_unlike
    curl curl_error curl_options must_die todo skip_nginx2 skip_openssl
    error_log_file access_log response_body_filters response_trailers
    reload_config raw_request_middle_delay
    post_main_config_http3 exec_opts
    request_eval response_body_eval post_setup_server_root
);

# Expected-value sections that must be per-request arrays in a
# multi-request block.
my @PerRequestSections = qw(
    error_code error_code_like response_headers response_headers_like
    response_body response_body_like response_body_unlike
);

my $LastConfig;     # hashref of the config pieces nginx runs with
my $LastUserFiles;  # user_files of the block that started it

#==========================================================================
# Driver
#==========================================================================

sub run_tests () {
    check_environment();
    check_nginx_binary();

    my @blocks = blocks();
    unless ($Test::Nginx::Util::NoShuffle) {
        @blocks = List::Util::shuffle(@blocks);
    }
    for my $block (@blocks) {
        run_block($block);
    }
}

# Section value as a plain scalar/ref (undef when the section is absent).
sub sec () {
    my ($block, $name) = @_;
    return undef unless exists $block->{$name};
    return $block->{$name}[0];
}

sub has_sec () {
    my ($block, $name) = @_;
    return exists $block->{$name};
}

sub run_block () {
    my $block = shift;

    # Preprocessors: last registered runs first.
    for my $pre (reverse @Test::Nginx::Util::BlockPreprocessors) {
        $pre->($block);
    }

    my $name = "$0 " . ($block->name // '');

    for my $s (@UnsupportedSections) {
        if (has_sec($block, $s)) {
            bail_out("$name - section '--- $s' is not supported by the "
                     . "fallback Test::Nginx::Socket in t/lib; install the "
                     . "real Test::Nginx to run this test");
        }
    }

    reset_block_state();

    # --- skip_eval: N: perl-condition / --- skip_nginx: N: < 1.21.0
    if (defined(my $se = sec($block, 'skip_eval'))) {
        my ($n, $code) = $se =~ /^\s*(\d+)\s*:\s*(.*)$/s
            or bail_out("$name - bad --- skip_eval value '$se'");
        my $skip = eval { eval_block_code($block, $name, $code) };
        bail_out("$name - skip_eval - failed to eval the Perl code "
                 . "\"$code\": $@") if $@;
        if ($skip) { skip_n($name, $n, 'skip_eval'); return }
    }
    if (defined(my $sn = sec($block, 'skip_nginx'))) {
        my ($n, $op, $ver) =
            $sn =~ /^\s*(\d+)\s*:\s*(<=?|>=?|==|!=)\s*(\d+(?:\.\d+)*)\s*$/
            or bail_out("$name - bad --- skip_nginx value '$sn'");
        my ($have, $want) = (nginx_version_num(), nginx_version_num($ver));
        my $skip = $op eq '<'  ? $have <  $want : $op eq '<=' ? $have <= $want
                 : $op eq '>'  ? $have >  $want : $op eq '>=' ? $have >= $want
                 : $op eq '==' ? $have == $want : $have != $want;
        if ($skip) { skip_n($name, $n, "nginx $op $ver"); return }
    }

    # ---- the requests of this block ----
    my $request = sec($block, 'request');
    bail_out("$name - no '--- request' section") unless defined $request;
    my @requests;
    if (ref $request eq 'ARRAY') {
        @requests = @$request;
        bail_out("$name - '--- request eval' gave an empty array")
            unless @requests;
        for my $r (@requests) {
            if (ref $r) {
                bail_out("$name - packet-style requests (an array of "
                         . "arrayrefs) are not supported by the fallback "
                         . "Test::Nginx::Socket");
            }
        }
    } elsif (ref $request) {
        bail_out("$name - '--- request' must be a string or an array of "
                 . "strings, got " . ref($request));
    } else {
        @requests = ($request);
    }
    my $multi = @requests > 1;

    if ($multi) {
        for my $s (@PerRequestSections) {
            my $v = sec($block, $s);
            next unless defined $v;
            bail_out("$name - '--- $s' must be an array (use 'eval' and "
                     . "[...]) because the block sends "
                     . scalar(@requests) . " requests")
                unless ref $v eq 'ARRAY';
        }
    }
    if (has_sec($block, 'grep_error_log')
        xor has_sec($block, 'grep_error_log_out')) {
        bail_out("$name - '--- grep_error_log' and '--- grep_error_log_out' "
                 . "must be used together");
    }

    my $timeout = $Test::Nginx::Util::Timeout;
    if (defined(my $t = sec($block, 'timeout'))) {
        $timeout = parse_timeout($t);
        bail_out("$name - bad --- timeout value '$t'") unless defined $timeout;
    }

    # ---- nginx: (re)start when the block brings a configuration ----
    my $has_conf = grep { defined sec($block, $_) }
                   qw(config http_config main_config post_main_config);
    my $user_files = parse_user_files($block, $name);

    if ($has_conf) {
        my %conf;
        for my $s (qw(config http_config main_config post_main_config)) {
            my $v = sec($block, $s);
            $conf{$s} = defined $v
                ? expand_env_in_text($v, "$name - --- $s") : undef;
        }
        $conf{log_level}   = sec($block, 'log_level');
        $conf{server_name} = sec($block, 'server_name');
        $conf{server_name} =~ s/^\s+|\s+$//g if defined $conf{server_name};
        $conf{log_level}   =~ s/^\s+|\s+$//g if defined $conf{log_level};
        warn "$name\n" if is_running_under_valgrind();
        start_nginx(\%conf, $user_files, $name);
        $LastConfig    = \%conf;
        $LastUserFiles = $user_files;
    } elsif (!defined $LastConfig) {
        bail_out("$name - no '--- config' section and no previous block "
                 . "to take one from");
    } elsif (!nginx_alive()) {
        # Valgrind mode stops nginx after each block; any mode: nginx died.
        warn "$name\n" if is_running_under_valgrind();
        start_nginx($LastConfig, $user_files || $LastUserFiles, $name);
    } else {
        Test::Nginx::Util::write_user_files($user_files) if $user_files;
    }
    $Test::Nginx::Util::LastBlockName = $name;
    my @allowed = log_patterns(sec($block, 'error_log'));
    $Test::Nginx::Util::LastBlockAllowed = \@allowed;

    # ---- init ----
    if (defined(my $init = sec($block, 'init'))) {
        eval { eval_block_code($block, $name, $init); 1 }
            or bail_out("$name - init failed: $@");
    }

    # ---- requests x repeat_each ----
    my $log_offset = 0;     # reset at the start of every block
    my $repeat = $Test::Nginx::Util::RepeatEach;
    for my $rep (0 .. $repeat - 1) {
        if ($rep > 0 && $user_files) {
            Test::Nginx::Util::write_user_files($user_files);
        }
        for my $i (0 .. $#requests) {
            my $suffix = '';
            if ($multi || $repeat > 1) {
                $suffix = " (req $i" . ($repeat > 1 ? ", repeat $rep" : '')
                        . ')';
            }
            run_one_request($block, $name, $suffix, $requests[$i], $i,
                            $multi, $timeout, $rep, \$log_offset, \@allowed);
        }
    }

    # Late alerts (log phase, cleanup handlers) still belong to this block.
    Time::HiRes::sleep($Test::Nginx::Util::Sleep);
    scan_alerts($name, \@allowed, '');

    # A crash after the response was sent (e.g. in the log phase) leaves
    # no trace in a single-process nginx: check that nginx is still alive.
    unless (nginx_alive()) {
        fail("$name - nginx is still running after the block");
        diag("  nginx (pid file $Test::Nginx::Util::PidFile) is gone: "
             . "crashed or exited?");
    }

    # Under valgrind nginx is stopped after every block, so that leak
    # reports follow the block name printed on stderr.
    stop_nginx() if is_running_under_valgrind();
}

sub skip_n () {
    my ($name, $n, $why) = @_;
    SKIP: {
        Test::More::skip("$name - $why", $n * $Test::Nginx::Util::RepeatEach);
    }
}

# Picks element $i of a per-request section (an array is indexed by
# request; a single-request block may use a one-element array too).
sub per_req () {
    my ($block, $sec, $i, $multi) = @_;
    my $v = sec($block, $sec);
    return $v unless ref $v eq 'ARRAY';
    return $v->[$i];
}

sub run_one_request () {
    my ($block, $name, $suffix, $req_text, $i, $multi, $timeout, $rep,
        $log_offset_ref, $allowed) = @_;

    my $more = sec($block, 'more_headers');
    $more = $more->[$i] if ref $more eq 'ARRAY';

    my $raw_req = build_request($req_text, $more, $name);
    my $shutdown = sec($block, 'shutdown');
    my $abort    = has_sec($block, 'abort');

    my ($raw_resp, $timed_out, $err) =
        send_request($raw_req, $timeout, $shutdown, $name);

    if (defined $err) {
        fail("$name - connected to nginx at 127.0.0.1:"
             . server_port_for_client() . "$suffix");
        diag("  $err");
    }
    if ($timed_out) {
        if ($abort) {
            # --- abort: a timeout is expected; check what arrived.
        } else {
            fail("$name - request completed within ${timeout}s "
                 . "(ERROR: client socket timed out)$suffix");
        }
    }

    unless (has_sec($block, 'ignore_response')) {
        my ($res, $body, $status) = parse_response($raw_resp, $req_text,
                                                   $name, $suffix);
        check_response($block, $name, $suffix, $i, $multi, $res, $body,
                       $status);
    }

    if (defined(my $w = sec($block, 'wait'))) {
        $w =~ s/^\s+|\s+$//g;
        bail_out("$name - bad --- wait value '$w'")
            unless $w =~ /^\d+(?:\.\d*)?$/;
        Time::HiRes::sleep($w);
    }

    check_error_log($block, $name, $suffix, $rep, $log_offset_ref, $allowed);
}

#==========================================================================
# Building and sending requests (spec section 3)
#==========================================================================

sub build_request () {
    my ($text, $more, $name) = @_;
    $text = '' unless defined $text;
    utf8::encode($text) if utf8::is_utf8($text);

    # Drop leading whitespace and leading "#" comment lines.
    1 while $text =~ s/\A\s+// || $text =~ s/\A#[^\n]*(?:\n|\z)//;

    my ($line, $body) = split /\n/, $text, 2;
    $line = '' unless defined $line;
    $body = '' unless defined $body;
    $line =~ s/\s+\z//;
    my @tok = split ' ', $line;
    bail_out("$name - empty '--- request'") unless @tok;
    bail_out("$name - bad request line '$line' (more than 3 tokens)")
        if @tok > 3;
    my ($method, $uri, $ver) = @tok;
    $uri = '/'        unless defined $uri;
    $ver = 'HTTP/1.1' unless defined $ver;

    # more_headers: "Name: value" lines (blank and # lines skipped).
    my @headers;
    my $more_raw = defined $more ? $more : '';
    utf8::encode($more_raw) if utf8::is_utf8($more_raw);
    for my $h (split /\n/, $more_raw) {
        next if $h =~ /^\s*$/ || $h =~ /^\s*#/;
        my ($k, $v) = split /:/, $h, 2;
        $k =~ s/^\s+|\s+$//g;
        $v = '' unless defined $v;
        $v =~ s/^\s+|\s+$//g;
        push @headers, "$k: $v";
    }
    my $chunked = grep { /^Transfer-Encoding\s*:.*\bchunked\b/i } @headers;
    my $has_cl  = grep { /^Content-Length:/ } @headers;    # case-sensitive

    my $head = "$method $uri $ver\r\n";
    $head .= "Host: localhost\r\n"   unless grep { /^Host\s*:/i } @headers;
    $head .= "Connection: close\r\n"
        unless grep { /^Connection\s*:/i } @headers;
    $head .= "$_\r\n" for @headers;

    if (length $body) {
        if (!$chunked && !$has_cl) {
            $body =~ s/^\s+|\s+$//g;
            $head .= "Content-Length: " . length($body) . "\r\n";
        }
    }
    return "$head\r\n$body";
}

# Connects (retrying while nginx comes up), writes, optionally shuts the
# write side down, reads until EOF.  Every I/O wait is bounded by
# $timeout.  Returns ($response_bytes, $timed_out, $connect_error).
sub send_request () {
    my ($raw, $timeout, $shutdown, $name) = @_;
    local $SIG{PIPE} = 'IGNORE';

    my $port = server_port_for_client();
    my ($sock, $err);
    for my $attempt (1 .. 50) {
        $sock = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1',
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        last if $sock;
        $err = "cannot connect to 127.0.0.1:$port: $@";
        # No point waiting for an nginx that is not running any more.
        last if $attempt >= 3 && !nginx_alive();
        Time::HiRes::sleep(List::Util::min(1, 0.01 * 2 ** $attempt));
    }
    return ('', 0, $err) unless $sock;

    $sock->blocking(0);
    my $sel = IO::Select->new($sock);

    # Write everything (a write error such as EPIPE just stops writing:
    # nginx may already have answered, e.g. 413).
    my $off = 0;
    while ($off < length $raw) {
        unless ($sel->can_write($timeout)) {
            my $partial = read_all($sock, $sel, $timeout);
            close $sock;
            return ($partial->[0], 1, undef);
        }
        my $n = syswrite($sock, $raw, length($raw) - $off, $off);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
            last;
        }
        $off += $n;
    }

    if (defined $shutdown) {
        my $how = $shutdown =~ /^\s*(\d)\s*$/ ? $1 : 1;
        shutdown($sock, $how);
    }

    my ($resp, $to) = @{ read_all($sock, $sel, $timeout) };
    close $sock;
    return ($resp, $to, undef);
}

# Reads until EOF; returns [$bytes, $timed_out].
sub read_all () {
    my ($sock, $sel, $timeout) = @_;
    my $buf = '';
    while (1) {
        return [$buf, 1] unless $sel->can_read($timeout);
        my $n = sysread($sock, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
            last;   # ECONNRESET etc.: treat as end of response
        }
        last if $n == 0;
    }
    return [$buf, 0];
}

#==========================================================================
# Parsing responses
#==========================================================================

# Returns ($http_response_or_undef, $body, $status_string).
sub parse_response () {
    my ($raw, $req_text, $name, $suffix) = @_;
    $raw = '' unless defined $raw;

    my ($head, $body);
    my $p = index($raw, "\r\n\r\n");
    if ($p >= 0) {
        $head = substr($raw, 0, $p);
        $body = substr($raw, $p + 4);
    } else {
        $head = $raw;
        $body = '';
    }
    (my $lf_head = $head) =~ s/\r\n/\n/g;
    my $res = HTTP::Response->parse("$lf_head\n\n");
    my $status = defined $res->code ? $res->code : '';
    return ($res, '', '') if $raw eq '';

    my $code = $res->code || 0;
    my $is_head = $req_text =~ /^\s*HEAD\b/;
    return ($res, $body, $status) if $code == 304 || $code == 101;

    my $te = $res->header('Transfer-Encoding');
    if (defined $te && $te =~ /\bchunked\b/i) {
        my ($decoded, $err) = decode_chunked($body);
        if (defined $err) {
            fail("$name - response body uses a valid chunked encoding"
                 . $suffix);
            diag("  $err");
            return ($res, $decoded, '');
        }
        $body = $decoded;
    } elsif (defined(my $cl = $res->header('Content-Length'))) {
        if ($cl =~ /^\s*(\d+)\s*$/) {
            $cl = $1;
            if (length($body) > $cl) {
                warn "$name - response body is longer than Content-Length "
                     . "($cl); the excess is dropped$suffix\n";
                $body = substr($body, 0, $cl);
            } elsif (length($body) < $cl && !$is_head) {
                warn "$name - response body is shorter than "
                     . "Content-Length (" . length($body) . " < $cl)$suffix\n";
            }
        }
    }
    return ($res, $body, $status);
}

# Strict chunked decoding: returns ($data, undef) or ($partial, $error).
sub decode_chunked () {
    my $in = shift;
    my $out = '';
    my $pos = 0;
    while (1) {
        pos($in) = $pos;
        unless ($in =~ /\G([0-9a-fA-F]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
            my $ctx = substr($in, $pos, 20);
            return ($out, "bad chunk size line at byte $pos: '$ctx'");
        }
        my $size = hex $1;
        $pos = pos($in);
        if ($size == 0) {
            # Optional trailer lines, then an empty line.
            while (1) {
                my $e = index($in, "\r\n", $pos);
                return ($out, "missing the final CRLF of the chunked body")
                    if $e < 0;
                my $line = substr($in, $pos, $e - $pos);
                $pos = $e + 2;
                last if $line eq '';
            }
            return ($out, "garbage after the last chunk")
                if $pos < length $in;
            return ($out, undef);
        }
        return ($out, "truncated chunk (want $size bytes)")
            if $pos + $size + 2 > length $in;
        $out .= substr($in, $pos, $size);
        $pos += $size;
        return ($out, "chunk data not followed by CRLF at byte $pos")
            unless substr($in, $pos, 2) eq "\r\n";
        $pos += 2;
    }
}

#==========================================================================
# Checks (spec section 4)
#==========================================================================

sub subst_server_port () {
    my $s = shift;
    return $s unless defined $s && !ref $s;
    my $p  = server_port();
    my $pc = server_port_for_client();
    $s =~ s/\$ServerPortForClient\b/$pc/g;
    $s =~ s/\$ServerPort\b/$p/g;
    return $s;
}

sub check_response () {
    my ($block, $name, $suffix, $i, $multi, $res, $body, $status) = @_;

    # ---- status ----
    my $code_like = per_req($block, 'error_code_like', $i, $multi);
    my $code      = per_req($block, 'error_code', $i, $multi);
    if (defined $code_like) {
        my $re = ref $code_like eq 'Regexp' ? $code_like : qr/$code_like/;
        like($status, $re, "$name - status code ok$suffix");
    } else {
        $code = 200 unless defined $code;
        is($status, $code, "$name - status code ok$suffix");
    }

    # ---- headers ----
    my $hdrs = per_req($block, 'response_headers', $i, $multi);
    if (defined $hdrs) {
        my %expect = header_spec($hdrs, $name);
        for my $h (sort keys %expect) {
            if ($h =~ /^!\s*(.+)$/) {
                my $n = $1;
                ok(!defined($res->header($n)),
                   "$name - header $n not present$suffix")
                    or diag("  got $n: " . $res->header($n));
            } else {
                my $got = $res->header($h);
                $got = '' unless defined $got;
                is($got, subst_server_port($expect{$h}),
                   "$name - header $h ok$suffix");
            }
        }
    } elsif (defined(my $hl = per_req($block, 'response_headers_like', $i,
                                      $multi))) {
        my %expect = header_spec($hl, $name);
        for my $h (sort keys %expect) {
            my $got = $res->header($h);
            $got = '' unless defined $got;
            my $re = $expect{$h};
            $re = ref $re eq 'Regexp' ? $re : subst_server_port($re);
            like($got, qr/^(?:$re)$/, "$name - header $h like ok$suffix");
        }
    }

    # ---- body ----
    if (has_sec($block, 'response_body_json_sort') && length $body) {
        my $json = JSON::PP->new->utf8(1)->canonical(1)->allow_nonref(1);
        my $data = eval { $json->decode($body) };
        $body = $json->encode($data) . "\n" unless $@;
    }

    if (has_sec($block, 'response_body')) {
        my $exp = per_req($block, 'response_body', $i, $multi);
        return unless defined $exp;
        if (ref $exp eq 'Regexp') {
            like($body, $exp, "$name - response_body - like$suffix");
        } else {
            $exp = subst_server_port(
                expand_env_in_text($exp, "$name - --- response_body"));
            utf8::encode($exp) if utf8::is_utf8($exp);
            my $t = "$name - response_body - response is expected$suffix";
            if ($Test::Nginx::Util::NoLongString) {
                Test::More::is($body, $exp, $t);
            } else {
                Test::LongString::is_string($body, $exp, $t);
            }
        }
    } elsif (defined(my $like = per_req($block, 'response_body_like', $i,
                                        $multi))) {
        my $re = ref $like eq 'Regexp' ? $like
               : do { my $s = subst_server_port($like); qr/$s/s };
        like($body, $re, "$name - response_body_like - response is "
                         . "expected$suffix");
    } elsif (defined(my $unlike = per_req($block, 'response_body_unlike',
                                          $i, $multi))) {
        my $re = ref $unlike eq 'Regexp' ? $unlike
               : do { my $s = subst_server_port($unlike); qr/$s/s };
        unlike($body, $re, "$name - response_body_unlike - response is "
                           . "expected$suffix");
    }
}

# "Name: value" lines (or a hashref) -> hash; "!Name" = must be absent.
sub header_spec () {
    my ($spec, $name) = @_;
    return %$spec if ref $spec eq 'HASH';
    bail_out("$name - bad response_headers value (" . ref($spec) . ")")
        if ref $spec;
    my %h;
    for my $line (split /\n/, $spec) {
        next if $line =~ /^\s*$/ || $line =~ /^\s*#/;
        if ($line =~ /^\s*!\s*([^:\s]+)\s*$/) {
            $h{"!$1"} = undef;
            next;
        }
        my ($k, $v) = split /:/, $line, 2;
        $k =~ s/^\s+|\s+$//g;
        $v = '' unless defined $v;
        $v =~ s/^\s+|\s+$//g;
        $h{$k} = $v;
    }
    return %h;
}

#==========================================================================
# error.log checks (spec section 5)
#==========================================================================

# Section value -> list of patterns (strings are literal substrings).
sub log_patterns () {
    my $v = shift;
    return () unless defined $v;
    return ($v) if ref $v eq 'Regexp';
    return grep { defined && (ref || length) } @$v if ref $v eq 'ARRAY';
    my $s = $v;
    chomp $s;
    return grep { length } split /\n/, $s;
}

sub pat_desc () {
    my $p = shift;
    return ref $p eq 'Regexp' ? "$p" : "\"$p\"";
}

sub check_error_log () {
    my ($block, $name, $suffix, $rep, $offset_ref, $allowed) = @_;

    my @want    = log_patterns(sec($block, 'error_log'));
    my @notwant = log_patterns(sec($block, 'no_error_log'));
    my $grep    = sec($block, 'grep_error_log');
    my $has_log_checks = @want || @notwant
                         || has_sec($block, 'error_log')
                         || has_sec($block, 'no_error_log')
                         || defined $grep;

    unless ($has_log_checks) {
        scan_alerts($name, $allowed, $suffix);
        return;
    }

    log_sleep();
    my $lines;
    if ($Test::Nginx::Util::CheckAccumErrLog) {
        $lines = read_whole_log();
    } else {
        ($lines, $$offset_ref) = read_new_log_lines($$offset_ref);
    }
    # patterns see each line with its newline, as upstream reads them
    $lines = [ map { "$_\n" } @$lines ];

    for my $p (@want) {
        my $hit = grep { match_line($_, $p) } @$lines;
        ok($hit, "$name - pattern " . pat_desc($p)
                 . " matches a line in error.log$suffix");
    }

    for my $p (@notwant) {
        my @hits = grep { match_line($_, $p) } @$lines;
        if (!@hits) {
            pass("$name - pattern " . pat_desc($p)
                 . " does not match a line in error.log$suffix");
        } else {
            for my $l (@hits) {
                fail("$name - pattern " . pat_desc($p) . " should not match "
                     . "any line in error.log but matches line \"$l\"$suffix");
            }
        }
    }

    if (defined $grep) {
        # As upstream: the first match in each line, unless it runs into
        # the line's newline (so a plain section needs "chop" or "chomp",
        # and a regex must not swallow the end of the line).
        my $re = ref $grep eq 'Regexp' ? $grep : qr/\Q$grep\E/;
        my $got = '';
        for my $l (@$lines) {
            next unless $l =~ $re;
            my $m = $&;
            $got .= "$m\n" unless $m =~ /\n/;
        }
        my $exp = sec($block, 'grep_error_log_out');
        $exp = $exp->[$rep] if ref $exp eq 'ARRAY';
        my $t = "$name - grep_error_log_out$suffix";
        if (ref $exp eq 'Regexp') {
            like($got, $exp, $t);
        } else {
            $exp = expand_env_in_text($exp // '',
                                      "$name - --- grep_error_log_out");
            if ($Test::Nginx::Util::NoLongString) {
                Test::More::is($got, $exp, $t);
            } else {
                Test::LongString::is_string($got, $exp, $t);
            }
        }
    }

    scan_alerts($name, $allowed, $suffix);
}

sub match_line () {
    my ($line, $p) = @_;
    return $line =~ $p if ref $p eq 'Regexp';
    return index($line, $p) >= 0;
}

#==========================================================================
# --- user_files
#==========================================================================

# Returns [[name, content, mtime], ...] or undef.
sub parse_user_files () {
    my ($block, $name) = @_;
    my $uf = sec($block, 'user_files');
    return undef unless defined $uf;
    my @files;
    if (ref $uf eq 'ARRAY') {
        for my $f (@$uf) {
            bail_out("$name - --- user_files eval entries must be "
                     . "[name, body, date] arrays") unless ref $f eq 'ARRAY';
            my ($fn, $body, $date) = @$f;
            push @files, [$fn, expand_env_in_text($body // '',
                          "$name - --- user_files"), parse_date($date, $name)];
        }
        return \@files;
    }
    bail_out("$name - bad --- user_files value") if ref $uf;
    my $cur;
    for my $line (split /^/, $uf) {
        if ($line =~ /^>>>\s+(\S+)(?:\s+(.+?))?\s*$/) {
            $cur = [$1, '', parse_date($2, $name)];
            push @files, $cur;
            next;
        }
        bail_out("$name - --- user_files must start with a '>>> name' line")
            unless $cur;
        $cur->[1] .= $line;
    }
    $_->[1] = expand_env_in_text($_->[1], "$name - --- user_files")
        for @files;
    return \@files;
}

sub parse_date () {
    my ($date, $name) = @_;
    return undef unless defined $date && length $date;
    return $date if $date =~ /^\d+$/;
    require HTTP::Date;
    my $t = HTTP::Date::str2time($date);
    bail_out("$name - cannot parse user_files date '$date'")
        unless defined $t;
    return $t;
}

1;

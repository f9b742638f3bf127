# A private audio URL with a public ASR provider: the provider downloads
# every WAV from douyin_audio_base_url (else douyin_filesystem_url), so an
# address only reachable from inside fails every video at the provider.
# "nginx -t" and a start warn, naming both URLs, from the configuration
# alone: nothing is contacted while the configuration is tested.  Runs the
# real nginx with the module (plain Test::More: nginx -t's output and a
# real start's error log are what is checked).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes ();

my $nginx  = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($so)   = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');
plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $so && -f $so;

my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs";

# a configuration with the given http lines and a process route
sub write_conf {
    my ($http, $listen) = @_;
    my $conf = "$dir/nginx.conf";
    open my $fh, '>', $conf or die $!;
    print $fh <<"_EOC_";
load_module $so;
error_log $dir/logs/error.log notice;
pid $dir/logs/nginx.pid;
env ALIYUN_ACCESS_KEY;
events {}
http {
    access_log off;
    douyin_store $dir/store;
$http
    server {
        listen $listen;
        location /p { douyin_process; }
    }
}
_EOC_
    close $fh;
    return $conf;
}

# nginx -t: (passed, what it printed and logged)
sub nginx_t {
    my ($http) = @_;
    my $conf = write_conf($http, '127.0.0.1:1');
    unlink "$dir/logs/error.log";
    local $ENV{ALIYUN_ACCESS_KEY} = 'k';
    my $out = `$nginx -t -p $dir/ -c $conf -e $dir/logs/error.log 2>&1`;
    my $ok = ($? == 0);
    if (open my $log, '<', "$dir/logs/error.log") {
        local $/;
        $out .= <$log> // '';
    }
    return ($ok, $out);
}

my $dashscope = 'https://dashscope.aliyuncs.com';
my $warn = qr/\[warn\].*douyin: the ASR provider at "([^"]+)" would fetch the audio from "([^"]+)" \(([^)]+)\), a private address it cannot reach from the internet: every video would fail; set "douyin_audio_base_url" to file-system-go's public address/;

# private audio base URLs, with the default (public) ASR URL
for my $url ('http://10.0.0.5:8000', 'http://172.16.0.1', 'http://172.31.255.9:81',
             'http://192.168.1.20:8000', 'http://127.0.0.1:8000',
             'https://localhost', 'http://LOCALHOST:8000/files',
             'http://files.localhost', 'http://[::1]:8000', 'http://[fd00::5]',
             'http://[fe80::1]', 'http://[::ffff:192.168.0.2]',
             'http://169.254.1.1', 'http://file-system-go:8000',
             'http://user:pw@10.1.2.3:8000/x?y')
{
    my ($ok, $out) = nginx_t("    douyin_filesystem_url http://127.0.0.1:8000;\n"
                             . "    douyin_audio_base_url $url;");
    ok($ok, "audio $url: nginx -t passes") or diag $out;
    my @m = $out =~ $warn;
    (my $named = $url) =~ s{/+$}{};
    ok(@m && $m[0] eq $dashscope && $m[1] eq $named
       && $m[2] eq 'douyin_audio_base_url',
       "audio $url: nginx -t warns, naming both URLs") or diag $out;
}

# unset: the filesystem URL is what the provider would be given
my ($ok, $out) = nginx_t("    douyin_filesystem_url http://192.168.3.4:8000;\n"
                         . "    douyin_asr_url https://dashscope-intl.aliyuncs.com;");
ok($ok, 'no douyin_audio_base_url, a private filesystem URL: nginx -t passes');
my @m = $out =~ $warn;
ok(@m && $m[0] eq 'https://dashscope-intl.aliyuncs.com'
   && $m[1] eq 'http://192.168.3.4:8000'
   && $m[2] =~ /^douyin_filesystem_url, as douyin_audio_base_url is not set$/,
   '... warns, naming the ASR URL and the filesystem URL it falls back to')
    or diag $out;

# public audio URLs, or an ASR provider inside too: no warning
for my $case (['a public name', "    douyin_filesystem_url http://10.0.0.5:8000;\n"
                                . "    douyin_audio_base_url https://files.example.com;"],
              ['172.32.0.1 (outside 172.16/12)', "    douyin_filesystem_url http://10.0.0.5:8000;\n"
                                . "    douyin_audio_base_url http://172.32.0.1:8000;"],
              ['a public IPv6 address', "    douyin_filesystem_url http://10.0.0.5:8000;\n"
                                . "    douyin_audio_base_url http://[2001:db8::1]:8000;"],
              ['a public filesystem URL, no audio URL', "    douyin_filesystem_url https://fs.example.org;"],
              ['an ASR provider on the LAN too', "    douyin_filesystem_url http://10.0.0.5:8000;\n"
                                . "    douyin_asr_url http://10.0.0.9:8080;"])
{
    my ($ok, $out) = nginx_t($case->[1]);
    ok($ok, "$case->[0]: nginx -t passes") or diag $out;
    unlike($out, qr/would fetch the audio/, "$case->[0]: no warning") or diag $out;
}

# nothing is contacted while testing: a listener as the audio and
# filesystem URL sees no connection
my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1:0',
                              ReuseAddr => 1, Blocking => 0) or die "listen: $!";
my $lport = $l->sockport;
($ok, $out) = nginx_t("    douyin_filesystem_url http://127.0.0.1:$lport;");
like($out, $warn, 'a listener on loopback as the filesystem URL: a warning');
Time::HiRes::sleep(0.2);
ok(!defined $l->accept, '... and no connection to it from nginx -t');

# at start: the error log has the warning too
my $p = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0', ReuseAddr => 1)
    or die "listen: $!";
my $port = $p->sockport;
close $p;
my $conf = write_conf("    douyin_filesystem_url http://127.0.0.1:$lport;\n"
                      . "    douyin_audio_base_url http://10.20.30.40:8000;",
                      "127.0.0.1:$port");
unlink "$dir/logs/error.log";
{
    local $ENV{ALIYUN_ACCESS_KEY} = 'k';
    system($nginx, '-p', "$dir/", '-c', $conf, '-e', "$dir/logs/error.log",
           '-g', 'daemon on; master_process on; worker_processes 1;') == 0
        or BAIL_OUT("nginx did not start");
}
my $log = '';
for (1 .. 100) {
    if (open my $fh, '<', "$dir/logs/error.log") { local $/; $log = <$fh> // ''; }
    last if $log =~ /start worker process/;
    Time::HiRes::sleep(0.05);
}
system($nginx, '-p', "$dir/", '-c', $conf, '-e', "$dir/logs/error.log", '-s', 'quit');
@m = $log =~ $warn;
ok(@m && $m[0] eq $dashscope && $m[1] eq 'http://10.20.30.40:8000',
   'at start, the error log has the warning, naming both URLs') or diag $log;
for (1 .. 100) {
    last unless -e "$dir/logs/nginx.pid";
    Time::HiRes::sleep(0.05);
}
ok(!-e "$dir/logs/nginx.pid", 'nginx stopped');

done_testing();

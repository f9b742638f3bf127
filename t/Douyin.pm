package t::Douyin;

# Shared set-up for the module's Test::Nginx files: starts the emulators
# (t::Emu), puts the ASR key in the environment, and gives every block
# that has a --- config the module's usual main_config and http_config
# unless the block brings its own.  Also small helpers for blocks that act
# between requests (--- init): waiting for a video's status, killing the
# worker that holds a claim, reloading nginx.
#
#   use t::Douyin;                      # then use Test::Nginx::Socket as usual
#
# A block that needs more http directives writes its own http_config
# starting with $TEST_NGINX_DOUYIN_HTTP (the default one); a config may
# use $TEST_NGINX_DOUYIN_LOCATIONS (the API routes at /api/..., and
# /emu/dashscope/ and /emu/fsgo/ proxied to the emulators' control API).
#
# How a test file is written (the real Test::Nginx, openresty/test-nginx,
# and the fallback in t/lib behave the same here):
#
# - Perl code in a block (--- init, --- skip_eval) is evaluated by the
#   harness in its own package, Test::Nginx::Util, under "use strict": call
#   every helper by its full name -- t::Emu::emu_wav(...),
#   t::Douyin::douyin_wait(...), main::my_helper(...) for a sub of the test
#   file, Test::More::is(...) -- and keep values in "my" variables.
#   (eval filters, as in "--- request eval", run in Test::Base::Filter.)
# - Every block stands alone: it brings its own --- config (the harness
#   starts a fresh nginx, this file resets the emulators) and builds the
#   state it checks in its --- init, e.g. with t::Douyin::douyin_post().
#   Blocks run in random order (no no_shuffle()), as upstream's default.
# - The listen port is the harness's: server_port_for_client() below, or
#   $TEST_NGINX_SERVER_PORT in a config; never a fixed number.
# - The plan is computed, never written down:
#   plan tests => repeat_each() * t::Plan::checks(blocks());  (t/Plan.pm)
#   A file whose --- init asserts a varying number of times says 'no_plan'.

use strict;
use warnings;

use t::Emu;
use Test::Nginx::Socket ();
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes ();

use Exporter ();
our @ISA    = ('Exporter');
our @EXPORT = qw(douyin_port douyin_call douyin_req douyin_wait douyin_get douyin_post douyin_worker_of douyin_kill_owner
                 douyin_reload douyin_master_pid douyin_task_of emu_reset emu_wav emu_wavs
                 emu_fault emu_stats emu_config emu_max_rate emu_remove
                 emu_file emu_generate);

$ENV{ALIYUN_ACCESS_KEY} = 'test-key';

our $MainConfig = <<'_EOC_';
    env ALIYUN_ACCESS_KEY;
    thread_pool douyin threads=2;
_EOC_

our $HttpConfig = <<'_EOC_';
    douyin_store html/store map_size=64m;
    douyin_filesystem_url http://127.0.0.1:$TEST_NGINX_FSGO_PORT;
    douyin_asr_url http://127.0.0.1:$TEST_NGINX_DASHSCOPE_PORT;
    douyin_thread_pool douyin;
    douyin_poll_interval 100ms max=300ms;
    douyin_http_timeout 5s;
_EOC_

our $Locations = <<'_EOC_';
    location = /api/process        { douyin_process; }
    location = /api/process/async  { douyin_process_async; }
    location ~ ^/api/videos/(?<aweme_id>[^/]+)/result$ {
        douyin_result $aweme_id;
    }
    location = /api/videos         { douyin_videos; }
    location = /api/stats          { douyin_stats; }
    location = /api/process/pending { douyin_process_pending; }
    location ~ ^/api/(?:videos|aweme)/(?<aweme_id>[^/]+)/read$ {
        douyin_video_read $aweme_id;
    }
    location ~ ^/api/(?:videos|aweme)/(?<aweme_id>[^/]+)/unread$ {
        douyin_video_unread $aweme_id;
    }
    location ~ ^/api/(?:videos|aweme)/(?<aweme_id>[^/]+)/pending$ {
        douyin_aweme_pending $aweme_id;
    }
    location ~ ^/api/(?:videos|aweme)/(?<aweme_id>[^/]+)/status$ {
        douyin_aweme_status $aweme_id;
    }
    location ~ ^/api/videos/(?<aweme_id>[^/]+)/subtitles\.(?<format>[^/]*)$ {
        douyin_subtitles $aweme_id $format;
    }
    location ~ ^/api/videos/(?<aweme_id>[^/]+)$ {
        douyin_video $aweme_id;
    }
    location ~ ^/api/aweme/(?<aweme_id>[^/]+)$ {
        douyin_video_delete $aweme_id;
    }
    location = /                   { douyin_info; }
    location = /docs               { douyin_docs; }
    location = /openapi.json       { douyin_openapi; }
    location /emu/dashscope/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_DASHSCOPE_PORT/__emu/;
    }
    location /emu/fsgo/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_FSGO_PORT/__emu/;
    }
_EOC_

for my $text ($HttpConfig, $Locations) {
    $text =~ s/\$(TEST_NGINX_\w+)/$ENV{$1}/g;
}

$ENV{TEST_NGINX_DOUYIN_HTTP} = $HttpConfig;
$ENV{TEST_NGINX_DOUYIN_LOCATIONS} = $Locations;

Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;

    return unless defined $block->config;

    if (!defined $block->main_config) {
        $block->set_value('main_config', $MainConfig);
    }

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    # a fresh nginx starts from fresh emulators: reset them in --- init,
    # which runs once the harness has stopped the previous nginx (a
    # preprocessor runs before that, while the old workers may still be
    # talking to the emulators)
    my $init = defined $block->init ? $block->init : '';
    $block->set_value('init', "t::Emu::emu_reset();\n$init");
});

my $JSON = JSON::PP->new->utf8->canonical;
my $HTTP = HTTP::Tiny->new(timeout => 30, proxy => undef,
                           http_proxy => undef);

# the port of the nginx under test, as the harness picked it
sub douyin_port { Test::Nginx::Util::server_port_for_client() }

# one call on the nginx under test: (status, decoded JSON or undef)
sub douyin_call {
    my ($method, $path, $body) = @_;
    my %opt = defined $body || $method ne 'GET'
            ? (content => defined $body ? $body : '') : ();
    my $res = $HTTP->request($method, 'http://127.0.0.1:' . douyin_port()
                             . $path, \%opt);
    my $json = eval { $JSON->decode($res->{content}) };
    return ($res->{status}, $json);
}

# GET / POST a path of the nginx under test: (status, decoded JSON or undef)
sub douyin_get  { douyin_call(GET  => $_[0]) }
sub douyin_post { douyin_call(POST => $_[0], $_[1]) }

# any method on the nginx under test: (status, decoded JSON or undef,
# the HTTP::Tiny response); $body may be a string or undef
sub douyin_req {
    my ($method, $path, $body, $headers) = @_;
    my %o = (headers => $headers || {});
    $o{content} = $body if defined $body;
    my $res = $HTTP->request($method, 'http://127.0.0.1:' . douyin_port()
                             . $path, \%o);
    my $json = eval { $JSON->decode($res->{content}) };
    return ($res->{status}, $json, $res);
}

# waits until every given aweme_id has one of the statuses (default
# completed or failed); dies after $timeout seconds (default 20)
sub douyin_wait {
    my ($ids, %o) = @_;
    my $want = $o{status} || qr/^(?:completed|failed)$/;
    my $deadline = Time::HiRes::time() + ($o{timeout} || 20);
    for my $id (@$ids) {
        while (1) {
            my ($st, $json) = douyin_get("/api/videos/$id/result");
            my $s = $json && $json->{data} ? $json->{data}{status} : '';
            last if $s =~ $want;
            die "douyin_wait: $id is still '$s'\n"
                if Time::HiRes::time() > $deadline;
            Time::HiRes::sleep(0.05);
        }
    }
    return 1;
}

sub douyin_master_pid {
    my $root = $ENV{TEST_NGINX_SERVER_ROOT};
    open my $fh, '<', "$root/logs/nginx.pid" or die "no nginx.pid: $!\n";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

# the pid of the worker holding the claim on aweme_id, from the store
sub douyin_worker_of {
    my ($id) = @_;
    my $store = "$ENV{TEST_NGINX_SERVER_ROOT}/html/store";
    my $dump = `mdb_dump -p -s videos '$store' 2>/dev/null`;
    while ($dump =~ /^ \Q$id\E\n (.*)$/mg) {
        my $rec = $1;
        $rec =~ s/\\\\/\\/g;
        return $1 if $rec =~ /"owner":(\d+)/;
    }
    return undef;
}

# the provider task id stored for aweme_id, or undef
sub douyin_task_of {
    my ($id) = @_;
    my $store = "$ENV{TEST_NGINX_SERVER_ROOT}/html/store";
    my $dump = `mdb_dump -p -s videos '$store' 2>/dev/null`;
    while ($dump =~ /^ \Q$id\E\n (.*)$/mg) {
        my $rec = $1;
        return $1 if $rec =~ /"task_id":"([^"\\]+)"/;
    }
    return undef;
}

# kill -9 the worker that holds the claim on aweme_id; returns its pid
sub douyin_kill_owner {
    my ($id) = @_;
    my $deadline = Time::HiRes::time() + 5;
    my $pid;

    # once the provider's task id is stored: the case that must not
    # lead to a second submit
    until (($pid = douyin_worker_of($id)) && douyin_task_of($id)) {
        die "douyin_kill_owner: $id has no owner\n"
            if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
    kill 'KILL', $pid or die "kill -9 $pid: $!\n";
    return $pid;
}

# nginx -s reload, by signal to the master; waits for new workers
sub douyin_reload {
    my $master = douyin_master_pid();
    kill 'HUP', $master or die "kill -HUP $master: $!\n";
    Time::HiRes::sleep(0.5);
    return 1;
}

1;

#!/usr/bin/perl
#
# The deployment files (README "Deployment"): Dockerfile, docker/*.sh,
# docker-compose.yml, .env.example, .dockerignore.  There is no Docker
# engine here, so this checks what can be checked without one:
#
#   - the Dockerfile's build stage, rehearsed on this host: its COPYs into
#     a temporary folder (through .dockerignore), then its RUNs there, in
#     order; only the package install is not run, and its packages
#     (scripts/debian-packages-build) must be in scripts/debian-packages
#     (what CI installs) and own every system header the module includes.
#     The build RUN is `make`, the Makefile's default goal, which `make
#     test` also builds.  What the runtime stage takes from the build stage
#     must be there, the module's shared libraries must come from packages
#     the runtime stage installs, and the nginx version record must match
#     this host's nginx and stop the image build when it does not.
#   - the image's nginx configs, as the build stage made them, rewritten
#     by docker/entrypoint.sh from URL variables, pass `nginx -t` (both
#     variants) with the module built for the tests; bad values stop the
#     entrypoint; docker/apt-mirror.sh rewrites deb822 sources.
#   - `docker-compose config` accepts docker-compose.yml, with and without
#     the gateway profile, and it says what README promises.
#   - .env.example names every variable the image and compose read;
#     .gitignore and .dockerignore keep secrets and scratch out.
#   - a Dockerfile linter (npm's dockerfile-utils, installed into build/)
#     finds nothing; skipped, saying so, only when npm cannot install it;
#     shellcheck finds nothing in docker/*.sh, read as POSIX sh.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Test::More;

my $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../..');
chdir $ROOT or die "chdir $ROOT: $!\n";

my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($MODULE) = grep { m{/ngx_http_douyin_module\.so$} }
               split ' ', $ENV{TEST_NGINX_LOAD_MODULES} || '';
$MODULE ||= "$ROOT/build/ngx_http_douyin_module.so";

my $TMP = tempdir('douyin-deploy-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# dockerfile-utils, the linter: pinned, installed into build/ by npm
my $LINTER_PKG = 'dockerfile-utils@0.16.3';
my $LINTER_DIR = "$ROOT/build/npm-tools";

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!\n";
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!\n";
    print $fh $text;
    close $fh or die "$file: $!\n";
}

sub shq {
    my ($s) = @_;
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

# run(\%opt, argv...): (exit code, stdout+stderr); opt: env => { NAME =>
# value, or undef to unset }, clean => 1 (only env), cwd => folder
sub run {
    my ($opt, @argv) = @_;
    my (@unset, @set);
    for my $k (sort keys %{ $opt->{env} || {} }) {
        my $v = $opt->{env}{$k};
        if (defined $v) { push @set, "$k=$v" } else { push @unset, '-u', $k }
    }
    my $cmd = join ' ', map { shq($_) } 'env', ($opt->{clean} ? '-i' : ()),
                                        @unset, @set, @argv;
    $cmd = 'cd ' . shq($opt->{cwd}) . " && $cmd" if $opt->{cwd};
    my $out = `$cmd 2>&1`;
    my $rc = $? == -1 ? 127 : ($? & 127) ? 128 + ($? & 127) : $? >> 8;
    return ($rc, $out);
}

# the packages (no architecture) that own files matching the patterns
sub dpkg_owners {
    my (@patterns) = @_;
    my ($rc, $out) = run({}, 'dpkg', '-S', @patterns);
    my %own;
    for my $line (split /\n/, $out) {
        my ($pkgs) = $line =~ /^(\S.*?): \// or next;
        $own{ s/:[\w-]+$//r } = 1 for split /, /, $pkgs;
    }
    return sort keys %own;
}

sub list_file {
    my ($file) = @_;
    return grep { length && !/^#/ } map { s/^\s+|\s+$//gr } split /\n/,
           slurp($file);
}


# --- the Dockerfile, parsed ---------------------------------------------
#
# stages: [{ from => 'image', name => 'build' or undef, ins => [{ cmd =>
# 'RUN', args => '...', line => n }] }]; continuation lines are joined
# with one space, comment lines inside them dropped, as docker does.

sub parse_dockerfile {
    my ($text) = @_;
    my (@stages, $cur, $start);
    my $n = 0;
    for my $line (split /\n/, $text) {
        $n++;
        if (!defined $cur) {
            next if $line =~ /^\s*(?:#|$)/;
            $cur = '';
            $start = $n;
        } elsif ($line =~ /^\s*#/) {
            next;
        }
        if ($line =~ s/\\\s*$//) {
            $cur .= $line;
            next;
        }
        $cur .= $line;
        $cur =~ s/^\s+|\s+$//g;
        my ($cmd, $args) = $cur =~ /^(\S+)\s*(.*)$/s;
        $args =~ s/\s+/ /g;
        my $ins = { cmd => uc $cmd, args => $args, line => $start };
        if ($ins->{cmd} eq 'FROM') {
            my ($from, $name) = $args =~ /^(\S+)(?:\s+AS\s+(\S+))?$/i;
            push @stages, { from => $from, name => $name, ins => [] };
        }
        die "Dockerfile line $start: $ins->{cmd} before FROM\n"
            if !@stages && $ins->{cmd} ne 'ARG';
        push @{ $stages[-1]{ins} }, $ins if @stages;
        undef $cur;
    }
    return \@stages;
}

sub ins_of {
    my ($stage, $cmd) = @_;
    return grep { $_->{cmd} eq $cmd } @{ $stage->{ins} };
}

# COPY args: (\%flags, [sources], dest); JSON form not used here
sub copy_args {
    my ($args) = @_;
    my @w = split ' ', $args;
    my %flags;
    while (@w && $w[0] =~ /^--([\w-]+)=(.*)$/) {
        $flags{$1} = $2;
        shift @w;
    }
    my $dest = pop @w;
    return (\%flags, \@w, $dest);
}

# the packages an `apt-get install` in a RUN installs
sub apt_installs {
    my ($run) = @_;
    my ($list) = $run =~ /apt-get install\s+(.*?)(?:&&|;|$)/ or return;
    return grep { !/^-/ } split ' ', $list;
}


# --- .dockerignore, as docker's pattern matcher reads it -----------------

sub dockerignore {
    my @pats;
    for my $p (list_file("$ROOT/.dockerignore")) {
        my $neg = $p =~ s/^!//;
        $p =~ s{^/+}{};
        $p =~ s{/+$}{};
        my $re = '';
        while (length $p) {
            if    ($p =~ s{^\*\*/}{}) { $re .= '(?:.*/)?' }
            elsif ($p =~ s{^\*\*}{})  { $re .= '.*' }
            elsif ($p =~ s{^\*}{})    { $re .= '[^/]*' }
            elsif ($p =~ s{^\?}{})    { $re .= '[^/]' }
            else  { $p =~ s{^(.)}{}s; $re .= quotemeta $1 }
        }
        push @pats, [$neg, qr/^$re$/];
    }
    return \@pats;
}

# is PATH (relative to the context) left out?  A pattern that matches a
# parent folder leaves out what is in it; the last matching pattern wins.
sub ignored {
    my ($pats, $path) = @_;
    my @cand = ($path);
    push @cand, $1 while $cand[-1] =~ m{^(.*)/[^/]+$};
    my $out = 0;
    for my $p (@$pats) {
        $out = !$p->[0] if grep { $_ =~ $p->[1] } @cand;
    }
    return $out;
}


my $dockerfile = slurp("$ROOT/Dockerfile");
my $stages = parse_dockerfile($dockerfile);
my ($build) = grep { ($_->{name} || '') eq 'build' } @$stages;
my $runtime = $stages->[-1];

# what the build stage made, in the rehearsal: image path -> host path
my %built;
my $rehearsed;


subtest 'Dockerfile: two bookworm stages, no secret, the container set-up' => sub {
    is(scalar @$stages, 2, 'two stages');
    ok($build, 'a stage named build') or return;
    isnt($runtime, $build, 'the last stage is the runtime one');
    like($build->{from}, qr/^debian:bookworm(?:-slim)?$/,
         "build stage FROM $build->{from}");
    is($runtime->{from}, 'debian:bookworm-slim', 'runtime stage FROM');

    for my $st ($build, $runtime) {
        my $tag = $st == $build ? 'build' : 'runtime';
        ok((grep { $_->{args} eq 'APT_MIRROR=' } ins_of($st, 'ARG')),
           "$tag stage: ARG APT_MIRROR= (off by default)");
        my @runs = map { $_->{args} } ins_of($st, 'RUN');
        my ($first) = grep { /apt-get|deps\.sh/ } @runs;
        like($first // '', qr{^sh \S*apt-mirror\.sh "\$APT_MIRROR" && },
             "$tag stage: apt-mirror.sh runs before the first apt");
    }

    # no secret in any layer: the key is never an ENV/ARG, .env is never
    # copied, and the only value given is the build check's dummy
    for my $ins (map { @{ $_->{ins} } } @$stages) {
        next unless $ins->{args} =~ /ALIYUN|\.env\b/;
        if ($ins->{cmd} eq 'RUN') {
            my @vals = $ins->{args} =~ /ALIYUN_ACCESS_KEY=(\S+)/g;
            ok(!(grep { $_ ne 'image-build-check' } @vals),
               "line $ins->{line}: only the dummy key, for nginx -t");
        } else {
            fail("line $ins->{line}: $ins->{cmd} names the key or .env");
        }
    }

    my @rt = @{ $runtime->{ins} };
    my %one = map { $_->{cmd} => $_->{args} } @rt;
    is($one{VOLUME}, '["/var/lib/nginx/douyin"]', 'the store is a VOLUME');
    is($one{ENTRYPOINT}, '["douyin-entrypoint"]', 'ENTRYPOINT');
    is($one{CMD}, q{["nginx", "-g", "daemon off;"]}, 'CMD: nginx in front');
    is($one{STOPSIGNAL}, 'SIGQUIT', 'graceful stop');

    # EXPOSE and HEALTHCHECK against the configs they serve
    my %listen;
    for my $conf (qw(nginx.conf nginx-gateway.conf)) {
        $listen{$_} = $conf for slurp("$ROOT/conf/$conf") =~ /^\s*listen\s+(\d+)\s*;/mg;
    }
    is_deeply([sort split ' ', $one{EXPOSE}], [sort keys %listen],
              "EXPOSE: the configs' ports (@{[ sort keys %listen ]})");
    like($one{HEALTHCHECK}, qr{CMD curl -fsS -o /dev/null http://127\.0\.0\.1:8093/health\b},
         'HEALTHCHECK: GET /health on 8093');
    like(slurp("$ROOT/conf/nginx.conf"),
         qr/location = \/health \{\s*douyin_health;/, 'nginx.conf serves /health');

    # the runtime's apt: tidy, and what the module and the image use
    my ($apt) = grep { /apt-get install/ } map { $_->{args} } ins_of($runtime, 'RUN');
    like($apt, qr/apt-get install -y --no-install-recommends /, 'apt-get install -y --no-install-recommends');
    like($apt, qr{rm -rf /var/lib/apt/lists/\*$}, 'apt lists removed in the same layer');
    my %pkgs = map { $_ => 1 } apt_installs($apt);
    ok($pkgs{$_}, "runtime installs $_") for qw(nginx curl lmdb-utils ca-certificates);

    my @checks = map { $_->{args} } ins_of($runtime, 'RUN');
    ok((grep { m{sh /usr/local/share/douyin/nginx-version\.sh check /usr/local/share/douyin/nginx-version} } @checks),
       'runtime stage compares its nginx with the build stage\'s');
    ok((grep { /ALIYUN_ACCESS_KEY=image-build-check nginx -t(?: &&|$)/ } @checks),
       'runtime stage: nginx -t of nginx.conf, with the module');
    ok((grep { m{nginx -t -c /etc/nginx/nginx-gateway\.conf} } @checks),
       'runtime stage: nginx -t of nginx-gateway.conf');
    ok((grep { m{install -d -o www-data -g www-data -m 0750 /var/lib/nginx/douyin} } @checks),
       'the store folder belongs to the workers\' user');
};


subtest 'build stage: the same packages as CI and the same make' => sub {
    ok($build, 'build stage') or return;

    my @build_pkgs = list_file("$ROOT/scripts/debian-packages-build");
    my %ci = map { $_ => 1 } list_file("$ROOT/scripts/debian-packages");
    ok($ci{$_}, "$_ (build) is in scripts/debian-packages (CI)") for @build_pkgs;
    ok($ci{'docker-compose'}, 'docker-compose (this test) is in scripts/debian-packages');

    # every system header the module includes comes from a listed package
    my %bp = map { $_ => 1 } @build_pkgs;
    my %hdr;
    for my $src (glob "$ROOT/ngx_http_douyin_module/*.[ch]") {
        $hdr{$_} = 1 for slurp($src) =~ /^#include <([^>]+)>/mg;
    }
    for my $h (sort grep { !/^ngx_/ } keys %hdr) {
        my @own = dpkg_owners("*/include/$h", "*/include/*/$h");
        ok((grep { $bp{$_} } @own),
           "<$h> comes from a build package (@own)");
    }
    my ($src_pkg) = dpkg_owners('/usr/share/nginx/src/conf_flags');
    ok($src_pkg && $bp{$src_pkg}, 'the nginx source tree make uses comes from a build package ('
       . ($src_pkg // 'none') . ')');
    ok($bp{'build-essential'}, 'build-essential (make, gcc)');
    ok($bp{python3}, 'python3, for a Makefile recipe')
        if slurp("$ROOT/Makefile") =~ /^\t.*\bpython3\b/m;

    # the install RUN is the host's installer, on the build list
    my @ins = @{ $build->{ins} };
    ok((grep { $_->{cmd} eq 'COPY' && $_->{args} eq 'scripts/debian-packages-build scripts/debian-packages' } @ins),
       'the stage\'s scripts/debian-packages is the build list');
    my @runs = map { $_->{args} } grep { $_->{cmd} eq 'RUN' } @ins;
    is($runs[0], 'sh docker/apt-mirror.sh "$APT_MIRROR" && ./scripts/deps.sh',
       'packages: scripts/deps.sh, as `make` on a host');

    # the build RUN is `make`: the default goal, the module, what make
    # test (and so .ci/run) builds first
    my $mk = slurp("$ROOT/Makefile");
    my ($goal) = $mk =~ /^([A-Za-z][\w.-]*)\s*:(?!=)/m;
    is($goal, 'all', "the Makefile's default goal is all");
    like($mk, qr/^all:\s*\$\(MODULE\)\s*$/m, 'all: $(MODULE)');
    like($mk, qr/^test:\s*\$\(MODULE\)\s*$/m, 'test: $(MODULE)');
    like(slurp("$ROOT/.ci/run"), qr/^make test\s*$/m, '.ci/run runs make test');
    is(scalar(grep { $_ eq 'make' } @runs), 1, 'the stage runs `make` once, with no arguments');
    ok(!(grep { /\bmake\b/ && $_ ne 'make' } @runs), 'and no other make');
};


subtest 'build stage rehearsed: its COPYs and RUNs in a temporary folder' => sub {
    ok($build, 'build stage') or return;
    my $pats = dockerignore();
    my $fs = "$TMP/rehearsal";           # the stage's file system
    my $wd = '/';
    my %env = (PATH => $ENV{PATH}, HOME => $ENV{HOME} || '/root',
               LANG => 'C.UTF-8');
    my $skipped_install = 0;

    for my $ins (@{ $build->{ins} }) {
        my ($cmd, $args) = @$ins{qw(cmd args)};
        if ($cmd eq 'FROM') {
            next;
        } elsif ($cmd eq 'ARG') {
            my ($k, $v) = $args =~ /^(\w+)(?:=(.*))?$/;
            $env{$k} = $v // '';
        } elsif ($cmd eq 'WORKDIR') {
            $wd = $args =~ m{^/} ? $args : "$wd/$args";
            make_path("$fs$wd");
        } elsif ($cmd eq 'COPY') {
            my ($flags, $srcs, $dest) = copy_args($args);
            ok(!%$flags, "line $ins->{line}: COPY from the context") or next;
            $dest = "$wd/$dest" unless $dest =~ m{^/};
            my $into = $dest =~ m{/$} || @$srcs > 1;
            for my $src (@$srcs) {
                (my $rel = $src) =~ s{/+$}{};
                ok(-e "$ROOT/$rel", "$rel is in the context") or next;
                ok(!ignored($pats, $rel), "$rel is not in .dockerignore");
                my @files = -d "$ROOT/$rel"
                    ? grep { -f "$ROOT/$_" } map { s{^\Q$ROOT\E/}{}r }
                      split /\n/, `find '$ROOT/$rel' -type f`
                    : ($rel);
                for my $f (@files) {
                    next if ignored($pats, $f);
                    my $to = -d "$ROOT/$rel"
                        ? "$dest/" . substr($f, length($rel) + 1)
                        : $into ? "$dest/" . basename($f) : $dest;
                    $to =~ s{//+}{/}g;
                    make_path(dirname("$fs$to"));
                    system('cp', '-p', "$ROOT/$f", "$fs$to") == 0
                        or fail("cp $f"), next;
                }
            }
        } elsif ($cmd eq 'RUN') {
            if ($args =~ /apt-get|deps\.sh/) {
                # the package install: this host's packages stand in
                $skipped_install++;
                next;
            }
            unlike($args, qr{(?:^|\s)/(?!dev/null)}, "RUN $args: no absolute path")
                or next;
            my ($rc, $out) = run({ env => \%env, clean => 1, cwd => "$fs$wd" },
                                 'sh', '-c', $args);
            is($rc, 0, "RUN $args") or diag $out;
        } else {
            fail("line $ins->{line}: $cmd is not rehearsed; teach this test");
        }
    }
    is($skipped_install, 1, 'one package install RUN (not run here)');

    # everything the runtime stage takes from the build stage is there
    for my $ins (ins_of($runtime, 'COPY')) {
        my ($flags, $srcs, $dest) = copy_args($ins->{args});
        if (!defined $flags->{from}) {
            ok(-e "$ROOT/$_" && !ignored($pats, $_), "runtime COPY $_ is in the context")
                for @$srcs;
            next;
        }
        is($flags->{from}, 'build', "line $ins->{line}: COPY --from=build");
        for my $src (@$srcs) {
            ok(-e "$fs$src", "the build stage made $src") or next;
            my $to = $dest =~ m{/$} ? $dest . (-d "$fs$src" ? '' : basename($src)) : $dest;
            $built{$to} = "$fs$src";
        }
    }

    my $so = $built{'/usr/lib/nginx/modules/ngx_http_douyin_module.so'};
    ok($so && -s $so, 'the module for /usr/lib/nginx/modules') or return;
    ok($built{'/etc/nginx/'} && -f "$built{'/etc/nginx/'}/nginx.conf"
       && -f "$built{'/etc/nginx/'}/nginx-gateway.conf"
       && -f "$built{'/etc/nginx/'}/douyin-gateway.conf", 'the three configs for /etc/nginx');

    # the module's libraries come from packages the runtime stage's
    # apt-get install brings: listed, or what they depend on
    my ($apt) = grep { /apt-get install/ } map { $_->{args} } ins_of($runtime, 'RUN');
    my @rt = apt_installs($apt);
    my %rt = map { $_ => 1 } @rt;
    my ($rc, $out) = run({}, 'objdump', '-p', $so);
    my @needed = $out =~ /^\s*NEEDED\s+(\S+)/mg;
    ok(scalar @needed, 'the module links libraries: ' . join(' ', @needed));
    ($rc, $out) = run({}, 'apt-cache', 'depends', '--recurse', '--no-recommends',
        '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces',
        '--no-enhances', @rt);
    my %closure = map { $_ => 1 } grep { /^[\w.+-]+$/ } split /\n/, $out;
    SKIP: {
        skip "apt-cache knows no packages here (run apt-get update): $out", scalar @needed
            if $rc || !$closure{nginx};
        for my $lib (@needed) {
            my @pk = dpkg_owners("*/$lib");
            my ($in) = grep { $rt{$_} } @pk;
            ($in) = map { "$_, a dependency" } grep { $closure{$_} } @pk unless $in;
            ok($in, "$lib is in the runtime image: " . ($in // "none of @pk"));
        }
    }
    ok($rt{$_}, "the runtime stage lists $_") for qw(libcurl4 libcjson1 liblmdb0);
    # the schedule's local time: Beijing, with the zone data in the image
    ok($rt{tzdata}, 'the runtime stage lists tzdata');
    ok((grep { /^TZ[= ]Asia\/Shanghai$/ } map { $_->{args} } ins_of($runtime, 'ENV')),
       'the runtime stage sets TZ=Asia/Shanghai');
    for my $conf (qw(nginx.conf nginx-gateway.conf)) {
        like(slurp("$ROOT/conf/$conf"), qr/^env TZ=Asia\/Shanghai;$/m,
             "$conf: env TZ=Asia/Shanghai; for nginx's workers");
        like(slurp("$ROOT/conf/$conf"),
             qr/^\s*douyin_process_schedule 09:45 17:15 scope=all;\s+.*^\s*douyin_retention 45d at=03:07;$/ms,
             "$conf: transcription twice a day, 45 days kept");
    }

    # the nginx record: this host's nginx is the one it names; another
    # one stops the image build
    my $rec = $built{'/usr/local/share/douyin/nginx-version'};
    ok($rec && -s $rec, 'the build stage recorded its nginx') or return;
    my $sh = "$fs/src/docker/nginx-version.sh";
    ($rc, $out) = run({}, 'sh', $sh, 'check', $rec);
    is($rc, 0, 'nginx-version.sh check passes on the same nginx') or diag $out;
    spew("$TMP/other-version", "nginx version: nginx/1.99.0\nnginx 1.99.0-1\n");
    ($rc, $out) = run({}, 'sh', $sh, 'check', "$TMP/other-version");
    isnt($rc, 0, 'nginx-version.sh check fails on another nginx');
    like($out, qr/nginx versions differ/, 'and says so');
    $rehearsed = 1;
};


subtest 'docker/apt-mirror.sh' => sub {
    my $sources = <<'EOF';
Types: deb
URIs: http://debian.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://debian.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    my $f = "$TMP/debian.sources";
    spew($f, $sources);
    my ($rc, $out) = run({}, 'sh', 'docker/apt-mirror.sh', '', $f);
    is($rc, 0, 'no mirror: ok');
    is(slurp($f), $sources, 'no mirror: sources unchanged');

    for my $case (['mirrors.aliyun.com', 'http://mirrors.aliyun.com'],
                  ['https://mirrors.tuna.tsinghua.edu.cn/', 'https://mirrors.tuna.tsinghua.edu.cn'])
    {
        spew($f, $sources);
        ($rc, $out) = run({}, 'sh', 'docker/apt-mirror.sh', $case->[0], $f);
        is($rc, 0, "mirror $case->[0]") or diag $out;
        (my $want = $sources) =~ s{http://debian\.example}{$case->[1]}g;
        is(slurp($f), $want, "both URIs point at $case->[1]");
    }
    spew($f, $sources);
    ($rc, $out) = run({}, 'sh', 'docker/apt-mirror.sh', 'evil.example;rm', $f);
    isnt($rc, 0, 'a mirror that is not a host or URL is refused');
    is(slurp($f), $sources, 'and nothing changes');
};


subtest 'image configs + entrypoint: nginx -t, both variants' => sub {
    ok(-x $NGINX, "nginx at $NGINX") or return;
    ok(-f $MODULE, "module at $MODULE") or return;

    # the configs as the build stage made them (else, made here the same way)
    my $etc = "$TMP/etc-nginx";
    make_path($etc);
    my $made = $built{'/etc/nginx/'};
    if (!$made) {
        my ($rc, $out) = run({}, 'sh', 'docker/container-conf.sh', 'conf', "$TMP/made");
        is($rc, 0, 'container-conf.sh') or return diag $out;
        $made = "$TMP/made";
    }
    system('cp', "$made/$_", "$etc/$_") == 0 or die "cp $_\n"
        for qw(nginx.conf nginx-gateway.conf douyin-gateway.conf);

    for my $conf (qw(nginx.conf nginx-gateway.conf)) {
        my $t = slurp("$etc/$conf");
        like($t, qr/^user www-data;$/m, "$conf: workers run as www-data");
        like($t, qr/^error_log stderr\b/m, "$conf: error_log to stderr");
        like($t, qr/^env ALIYUN_ACCESS_KEY;$/m, "$conf: the key only through env");
        unlike($t, qr/^\s*daemon\b/m, "$conf: daemon comes from the command line");
    }

    my $confs = "$etc/nginx.conf $etc/nginx-gateway.conf";
    my %urls = (DOUYIN_FILESYSTEM_URL => undef, DOUYIN_AUDIO_BASE_URL => undef,
                DOUYIN_ASR_URL => undef, DOUYIN_FILESYSTEM_API => undef,
                DOUYIN_SSL_VERIFY => undef, DOUYIN_NGINX_CONFS => $confs);

    # nothing set: the configs stay as they are, the command runs
    my %before = map { $_ => slurp("$etc/$_") } qw(nginx.conf nginx-gateway.conf);
    my ($rc, $out) = run({ env => \%urls }, 'sh', 'docker/entrypoint.sh',
                         'sh', '-c', 'echo "ran: $0 $1"', 'a', 'b c');
    is($rc, 0, 'entrypoint with no URL set') or diag $out;
    is($out, "ran: a b c\n", 'it execs its arguments');
    is(slurp("$etc/$_"), $before{$_}, "$_ unchanged") for sort keys %before;

    # a bad value stops it, nothing changed
    for my $bad ('file-system-go:8000', 'http://a b', 'http://x;y', 'http://x|y') {
        ($rc, $out) = run({ env => { %urls, DOUYIN_FILESYSTEM_URL => $bad } },
                          'sh', 'docker/entrypoint.sh', 'echo', 'ran');
        isnt($rc, 0, "DOUYIN_FILESYSTEM_URL='$bad' is refused");
        unlike($out, qr/ran/, 'and nginx is not started');
    }
    for my $bad ([DOUYIN_FILESYSTEM_API => '3'], [DOUYIN_SSL_VERIFY => 'no']) {
        ($rc, $out) = run({ env => { %urls, @$bad } },
                          'sh', 'docker/entrypoint.sh', 'echo', 'ran');
        isnt($rc, 0, "$bad->[0]='$bad->[1]' is refused");
        like($out, qr/\Q$bad->[0]\E: '\Q$bad->[1]\E' is not one of/,
             '... saying what is expected');
    }
    is(slurp("$etc/$_"), $before{$_}, "$_ still unchanged") for sort keys %before;

    my %set = (%urls,
               DOUYIN_FILESYSTEM_URL => 'http://file-system-go:8000',
               DOUYIN_AUDIO_BASE_URL => 'https://files.example.com/base',
               DOUYIN_ASR_URL        => 'https://dashscope-intl.aliyuncs.com',
               DOUYIN_FILESYSTEM_API => '2',
               DOUYIN_SSL_VERIFY     => 'off');
    for my $pass (1, 2) {       # a restart runs it again over its own output
        ($rc, $out) = run({ env => \%set }, 'sh', 'docker/entrypoint.sh', 'true');
        is($rc, 0, "entrypoint with the URLs set (start $pass)") or diag $out;
    }
    for my $conf (qw(nginx.conf nginx-gateway.conf)) {
        my $t = slurp("$etc/$conf");
        like($t, qr/^\s*douyin_filesystem_url http:\/\/file-system-go:8000;$/m, "$conf: filesystem URL");
        like($t, qr/^\s*douyin_audio_base_url https:\/\/files\.example\.com\/base;$/m, "$conf: audio base URL");
        like($t, qr/^\s*douyin_asr_url https:\/\/dashscope-intl\.aliyuncs\.com;$/m, "$conf: ASR URL");
        like($t, qr/^\s*douyin_filesystem_api 2;/m, "$conf: file-system-go API 2");
        like($t, qr/^\s*douyin_ssl_verify off;/m, "$conf: TLS verification off");
        (my $rest = $t) =~ s/^\s*douyin_(?:(?:filesystem|audio_base|asr)_url|filesystem_api|ssl_verify) .*\n//mg;
        (my $was = $before{$conf}) =~ s/^\s*douyin_(?:(?:filesystem|audio_base|asr)_url|filesystem_api|ssl_verify) .*\n//mg;
        is($rest, $was, "$conf: no other line changed");
    }

    # one nginx per store: a second one waits for the first to stop; other
    # commands do not wait
    my $bin = "$TMP/fake-bin";
    make_path($bin);
    spew("$bin/nginx", "#!/bin/sh\necho \"\$NAME start\"; sleep 1.5; echo \"\$NAME end\"\n");
    chmod 0755, "$bin/nginx";
    my %lockenv = (%urls, PATH => "$bin:$ENV{PATH}", DOUYIN_STORE_LOCK => "$TMP/store.lock");
    ($rc, $out) = run({ env => \%lockenv }, 'sh', '-c',
        '(NAME=A sh docker/entrypoint.sh nginx -g "daemon off;") & sleep 0.4;'
        . ' sh docker/entrypoint.sh echo other; NAME=B sh docker/entrypoint.sh nginx; wait');
    is($rc, 0, 'two nginx on one store lock');
    like($out, qr/\AA start\nother\n[^\n]*another nginx runs on this store[^\n]*waiting for it to stop\nA end\nB start\nB end\n\z/,
         'the second nginx waits for the first; another command does not') or diag $out;

    # nginx -t, the image's paths mapped here: the module and the store
    for my $conf (qw(nginx.conf nginx-gateway.conf)) {
        my $t = slurp("$etc/$conf");
        is(($t =~ s{^load_module modules/ngx_http_douyin_module\.so;$}{load_module $MODULE;}mg), 1,
           "$conf: load_module mapped to the test module");
        is(($t =~ s{^(\s*douyin_store) /var/lib/nginx/douyin\b}{$1 $TMP/store-$conf}mg), 1,
           "$conf: store mapped to a temporary folder");
        spew("$etc/test-$conf", $t);
        ($rc, $out) = run({ env => { ALIYUN_ACCESS_KEY => 'test-key' } },
                          $NGINX, '-t', '-c', "$etc/test-$conf");
        is($rc, 0, "nginx -t -c $conf") or diag $out;
        like($out, qr/test is successful/, "$conf: test is successful");
        unlike($out, qr/\[(?:emerg|alert|crit|error)\]/, "$conf: no error") or diag $out;
    }
};


subtest 'docker-compose config' => sub {
    my $dc = `sh -c 'command -v docker-compose'`;
    chomp $dc;
    ok($dc, 'docker-compose is installed (scripts/debian-packages)') or return;

    # a project folder of its own, .env from .env.example: a real .env
    # here is neither needed nor touched
    my $proj = "$TMP/compose";
    make_path($proj);
    system('cp', "$ROOT/$_", "$proj/$_") == 0 or die "cp $_\n"
        for qw(docker-compose.yml Dockerfile);
    system('cp', "$ROOT/.env.example", "$proj/.env") == 0 or die "cp .env\n";

    my %env = map { $_ => undef } grep { /^(?:COMPOSE_|DOCKER_|DOUYIN_|APT_MIRROR$|ALIYUN_)/ } keys %ENV;

    my %cfg;
    for my $profile (undef, 'gateway') {
        my @p = defined $profile ? ('--profile', $profile) : ();
        my $tag = defined $profile ? "--profile $profile" : 'default';
        my ($rc, $out) = run({ env => \%env, cwd => $proj }, 'sh', '-c',
                             'docker-compose "$@" config > config.yml', 'sh', @p);
        is($rc, 0, "docker-compose $tag config") or diag($out), next;
        # python3-yaml comes with docker-compose
        my ($rc2, $json) = run({ cwd => $proj }, '/usr/bin/python3', '-c',
            'import json, yaml; print(json.dumps(yaml.safe_load(open("config.yml"))))');
        $cfg{$tag} = eval { JSON::PP->new->decode($json) };
        ok($cfg{$tag}, "$tag: the resolved config read") or diag $json;
    }
    my $c = $cfg{default} or return;
    my $svc = $c->{services}{'douyin-processor'};
    ok($svc, 'service douyin-processor') or return;
    ok(!$svc->{profiles}, 'it runs with no profile (docker-compose up -d)');
    is($svc->{restart}, 'unless-stopped', 'restart: unless-stopped');
    is($svc->{environment}{ALIYUN_ACCESS_KEY}, 'sk-replace-with-your-dashscope-key',
       'env_file .env reaches the container');
    is_deeply($svc->{volumes}, ['douyin-data:/var/lib/nginx/douyin:rw'], 'the store volume');
    is_deeply([keys %{ $svc->{networks} }], ['api-network'], 'on the gateway network');
    is_deeply($c->{networks}{'api-network'}, { external => JSON::PP::true, name => 'api-gateway_api-network' },
              'external network api-gateway_api-network');
    is($c->{volumes}{'douyin-data'}{name}, 'douyin-data', 'volume named douyin-data');
    is_deeply($svc->{ports}, ['127.0.0.1:8093:8093/tcp'], 'port 8093, published on the host\'s loopback');
    like(join(' ', @{ $svc->{healthcheck}{test} }), qr{ http://127\.0\.0\.1:8093/health$}, 'healthcheck /health');
    ok(!$svc->{command}, 'the image\'s command: nginx.conf');
    is($svc->{build}{context}, $proj, 'built from the repository');
    ok(exists $svc->{build}{args}{APT_MIRROR}, 'APT_MIRROR passed to the build');

    my $g = $cfg{'--profile gateway'} && $cfg{'--profile gateway'}{services}{'douyin-gateway'};
    ok($g, 'service douyin-gateway') or return;
    is_deeply($g->{profiles}, ['gateway'], 'only with --profile gateway');
    is_deeply($g->{command}, ['nginx', '-c', '/etc/nginx/nginx-gateway.conf', '-g', 'daemon off;'],
              'runs nginx-gateway.conf');
    is_deeply($g->{ports}, [{ published => 8010, target => 8010 }], 'port 8010');
    like(join(' ', @{ $g->{healthcheck}{test} }), qr{ http://127\.0\.0\.1:8010/api/douyin/health$},
         'healthcheck /api/douyin/health');
    like(slurp("$ROOT/conf/douyin-gateway.conf"), qr{location = /api/douyin/health \{\s*douyin_health;},
         'douyin-gateway.conf serves /api/douyin/health');
    is_deeply($g->{volumes}, $svc->{volumes}, 'the same store volume');
    is($g->{image}, $svc->{image}, 'the same image');
    ok(!$g->{container_name} && !$svc->{container_name},
       'no container_name (compose v2 refuses one name in two services)');
};


subtest '.env.example, .gitignore, .dockerignore' => sub {
    my $ex = slurp("$ROOT/.env.example");
    my %read;
    $read{$_} = 'docker-compose.yml' for slurp("$ROOT/docker-compose.yml") =~ /\$\{(\w+)/g;
    $read{$_} = 'docker/entrypoint.sh' for slurp("$ROOT/docker/entrypoint.sh") =~ /^set_url \w+ (\w+)$/mg;
    $read{$_} = 'Dockerfile ARG' for map { /^(\w+)/ } map { $_->{args} }
                                     map { ins_of($_, 'ARG') } @$stages;
    $read{$_} = 'nginx env' for slurp("$ROOT/conf/nginx.conf") =~ /^env (\w+);/mg;
    ok(exists $read{$_}, "$_ is read") for qw(ALIYUN_ACCESS_KEY DOUYIN_FILESYSTEM_URL
        DOUYIN_AUDIO_BASE_URL DOUYIN_ASR_URL APT_MIRROR);
    my @lines = split /\n/, $ex;
    for my $var (sort keys %read) {
        my ($i) = grep { $lines[$_] =~ /^\Q$var\E=/ } 0 .. $#lines;
        ok(defined $i, ".env.example sets $var ($read{$var})") or next;
        ok($i > 0 && $lines[$i - 1] =~ /^#/, "$var has a comment");
    }
    my ($key) = $ex =~ /^ALIYUN_ACCESS_KEY=(.*)$/m;
    unlike($key // '', qr/^sk-[0-9a-f]{16,}$/, 'no real key in .env.example');
    unlike($ex, qr/^\w+=.*["']/m, 'no quotes (docker-compose 1.x keeps them in env_file values)');

    my $pats = dockerignore();
    ok(ignored($pats, $_), ".dockerignore leaves out $_")
        for qw(.env .env.local .git/HEAD build/ngx_http_douyin_module.so
               build-asan/ngx_http_douyin_module.so
               t/servroot/conf/nginx.conf t/servroot_2/logs/error.log run/x data/x);
    ok(!ignored($pats, $_), ".dockerignore keeps $_")
        for qw(.env.example Dockerfile config Makefile ngx_http_douyin_module/ngx_http_douyin_module.c
               docker/entrypoint.sh conf/nginx.conf scripts/deps.sh);

    SKIP: {
        my ($rc) = run({}, 'git', 'rev-parse', '--git-dir');
        skip 'not a git work tree', 1 if $rc;
        for my $p (qw(.env build/x build-asan/x t/servroot/x t/servroot_1/x run/x data/x)) {
            ($rc) = run({}, 'git', 'check-ignore', '-q', '--no-index', $p);
            is($rc, 0, ".gitignore ignores $p");
        }
        ($rc) = run({}, 'git', 'check-ignore', '-q', '--no-index', '.env.example');
        isnt($rc, 0, '.gitignore keeps .env.example');
    }
};


subtest 'Dockerfile linter (dockerfile-utils)' => sub {
    my $bin = "$LINTER_DIR/node_modules/.bin/dockerfile-utils";
    if (!-x $bin) {
        my $npm = `sh -c 'command -v npm'`;
        chomp $npm;
        if (!$npm) {
            plan skip_all => "no npm here to install $LINTER_PKG (Node.js's npm)";
            return;
        }
        make_path($LINTER_DIR);
        my ($rc, $out) = run({ cwd => $LINTER_DIR }, 'npm', 'install', '--no-save',
            '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error',
            '--prefix', $LINTER_DIR, $LINTER_PKG);
        if ($rc || !-x $bin) {
            my @tail = (split /\n/, $out)[-5 .. -1];
            plan skip_all => "npm could not install $LINTER_PKG: "
                . join(' | ', grep { defined } @tail);
            return;
        }
    }

    # it does find faults (this run is not a silent pass)
    spew("$TMP/bad.Dockerfile", "FROM debian:bookworm-slim\nHEALTHCHECK --every=3s CMD true\nCOPY one\n");
    my ($rc, $out) = run({}, $bin, 'lint', "$TMP/bad.Dockerfile");
    like($out, qr/Unknown flag: every/, 'the linter finds a bad flag');
    like($out, qr/COPY requires at least two arguments/, 'and a bad COPY');

    ($rc, $out) = run({}, $bin, 'lint', "$ROOT/Dockerfile");
    is($rc, 0, 'dockerfile-utils lint Dockerfile');
    is($out, '', 'no error, no warning') or diag $out;
};


subtest 'docker/*.sh are POSIX sh (shellcheck)' => sub {
    my $sc = `sh -c 'command -v shellcheck'`;
    chomp $sc;
    ok($sc, 'shellcheck is installed (scripts/debian-packages)') or return;
    for my $script (sort glob 'docker/*.sh') {
        like(slurp($script), qr{\A#!/bin/sh\n}, "$script: #!/bin/sh");
        my ($rc, $out) = run({}, $sc, '-s', 'sh', $script);
        is($rc, 0, "shellcheck -s sh $script") or diag $out;
    }
};


subtest 'README has the Deployment section before Tests' => sub {
    my $readme = slurp("$ROOT/README.md");
    my $d = index $readme, "\n## Deployment\n";
    my $t = index $readme, "\n## Tests\n";
    ok($d > 0, '## Deployment');
    ok($t < 0 || $d < $t, 'before ## Tests');
};

done_testing();

# Installing into the system's nginx (README "In the gateway's own nginx",
# issue 15): `make install DESTDIR=...` lays out Debian's convention for
# dynamic modules, the installed conf loads the module in an nginx whose
# prefix is laid out as Debian's (nginx -t), and `make uninstall` removes
# what install put there.  Also the package lists make run and CI use,
# and the quiet build step (scripts/step.sh).  No nginx is started; no
# file outside a temporary folder is touched.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Find ();
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Test::More;

my $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../..');
chdir $ROOT or die "chdir $ROOT: $!\n";

my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $TMP = tempdir('douyin-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!\n";
    local $/;
    return scalar <$fh>;
}

sub run {
    my $out = `@_ 2>&1`;
    return ($? >> 8, $out);
}

sub list_file {
    return grep { length && !/^#/ } map { s/^\s+|\s+$//gr } split /\n/,
           slurp(shift);
}

sub tree {      # every file and symlink under a folder, relative
    my ($dir) = @_;
    my @all;
    File::Find::find({ no_chdir => 1, wanted => sub {
        push @all, substr($_, length($dir) + 1) if -f $_ || -l $_;
    } }, $dir);
    return sort @all;
}


subtest 'make install DESTDIR: Debian\'s layout' => sub {
    my $dest = "$TMP/root";
    my ($rc, $out) = run("make -s install DESTDIR=$dest");
    is($rc, 0, 'make install DESTDIR=...') or return diag $out;
    like($out, qr/next start/, 'it says when nginx loads the module');

    is_deeply([tree($dest)],
              [qw(etc/nginx/modules-enabled/50-mod-http-douyin.conf
                  usr/lib/nginx/modules/ngx_http_douyin_module.so
                  usr/share/nginx/modules-available/mod-http-douyin.conf)],
              'the module, its conf, and the symlink that enables it');

    my $so = "$dest/usr/lib/nginx/modules/ngx_http_douyin_module.so";
    is(slurp($so), slurp("$ROOT/build/ngx_http_douyin_module.so"), 'the .so is the one built');
    is((stat $so)[2] & 07777, 0644, 'the .so is mode 644');

    my $avail = "$dest/usr/share/nginx/modules-available/mod-http-douyin.conf";
    is(slurp($avail), "load_module modules/ngx_http_douyin_module.so;\n",
       'modules-available/mod-http-douyin.conf: the load_module line, as Debian\'s');
    is((stat $avail)[2] & 07777, 0644, 'the conf is mode 644');

    my $link = "$dest/etc/nginx/modules-enabled/50-mod-http-douyin.conf";
    ok(-l $link, 'modules-enabled/50-mod-http-douyin.conf is a symlink');
    is(readlink $link, '/usr/share/nginx/modules-available/mod-http-douyin.conf',
       'to the installed path (not under DESTDIR)');

    # Debian's nginx: prefix /usr/share/nginx, whose modules symlink
    # (nginx-common) points at ../../lib/nginx/modules; its nginx.conf
    # includes /etc/nginx/modules-enabled/*.conf in the main context
    symlink '../../lib/nginx/modules', "$dest/usr/share/nginx/modules"
        or die "symlink: $!\n";
    my $conf = "$TMP/nginx.conf";
    open my $fh, '>', $conf or die "$conf: $!\n";
    print $fh "include $dest/etc/nginx/modules-enabled/*.conf;\n"
            . "error_log $TMP/error.log notice;\npid $TMP/nginx.pid;\n"
            . "events {}\nhttp { server { listen 127.0.0.1:1; location = /health { douyin_health; } } }\n";
    close $fh;
    # the symlink names the path of a real install: read it under DESTDIR
    unlink $link;
    symlink $avail, $link or die "symlink: $!\n";
    ($rc, $out) = run($NGINX, '-t', '-p', "$dest/usr/share/nginx/", '-c', $conf);
    is($rc, 0, 'nginx -t with the installed conf and prefix laid out as Debian\'s')
        or diag $out;
    like($out, qr/test is successful/, 'douyin_health is known: the module was loaded');

    # again over an install: a new file, not the old one overwritten
    my $ino = (stat $so)[1];
    ($rc, $out) = run("make -s install DESTDIR=$dest");
    is($rc, 0, 'make install again') or diag $out;
    isnt((stat $so)[1], $ino, 'the .so is a new file (a running nginx keeps the old one mapped)');

    ($rc, $out) = run("make -s uninstall DESTDIR=$dest");
    is($rc, 0, 'make uninstall DESTDIR=...') or diag $out;
    unlink "$dest/usr/share/nginx/modules";     # the test's own (nginx-common's)
    is_deeply([tree($dest)], [], 'no file of the install is left');
    ok(!-e "$dest/usr/lib/nginx", 'the module folders it made are gone');
    ok(-d "$dest/etc/nginx/modules-enabled", 'modules-enabled (nginx-common\'s) stays');
};


subtest 'make uninstall keeps what is not ours' => sub {
    my $dest = "$TMP/shared";
    make_path("$dest/usr/lib/nginx/modules", "$dest/usr/share/nginx/modules-available");
    my $other = "$dest/usr/lib/nginx/modules/ngx_http_other_module.so";
    open my $fh, '>', $other or die "$other: $!\n";
    close $fh;
    my ($rc, $out) = run("make -s install DESTDIR=$dest && make -s uninstall DESTDIR=$dest");
    is($rc, 0, 'install, then uninstall') or diag $out;
    ok(-e $other, 'another module in the folder stays');
    ok(!-e "$dest/usr/lib/nginx/modules/ngx_http_douyin_module.so", 'ours is gone');
};


subtest 'package lists: make run installs less than CI' => sub {
    my %all = map { $_ => 1 } list_file('scripts/debian-packages');
    my @build = list_file('scripts/debian-packages-build');
    my @run = list_file('scripts/debian-packages-run');
    ok(@run, 'scripts/debian-packages-run lists packages');
    ok($all{$_}, "$_ (make run) is in scripts/debian-packages (CI)") for @build, @run;
    my %demo = map { $_ => 1 } @build, @run;
    ok(!$demo{$_}, "make run does not install $_")
        for qw(docker-compose shellcheck wrk libtest-base-perl libjson-validator-perl);
    like(slurp('run.sh'), qr/deps\.sh" "\$REPO\/scripts\/debian-packages-build" "\$REPO\/scripts\/debian-packages-run"/,
         'run.sh installs those two lists');
    like(slurp('.ci/run'), qr/scripts\/debian-packages\)/, '.ci/run installs the whole list');
};


subtest 'scripts/step.sh: one line per step, the log on failure' => sub {
    my $log = "$TMP/step.log";
    my ($rc, $out) = run('scripts/step.sh', $log, "'doing a thing'", 'sh', '-c',
                         "'echo noisy; echo more noise >&2'");
    is($rc, 0, 'a step that works exits 0');
    like($out, qr/\Adoing a thing \.\.\. ok \(\d+ s\)\n\z/, 'and prints one line') or diag $out;
    is(slurp($log), "noisy\nmore noise\n", 'what it said is in the log');

    ($rc, $out) = run('scripts/step.sh', $log, "'breaking'", 'sh', '-c',
                      "'echo the cause; exit 3'");
    is($rc, 3, 'a step that fails exits with its status');
    like($out, qr/\Abreaking \.\.\. FAILED \(\d+ s\)\n.*^the cause\n.*\Q$log\E/ms,
         'and shows the end of its log and where the log is') or diag $out;
};

done_testing();

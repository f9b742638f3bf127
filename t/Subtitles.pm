package t::Subtitles;

# Helpers for t/100-subtitles.t (call them by full name from a block,
# t::Subtitles::subs_check(...), as t/Douyin.pm says): fetch a video's subtitles from the nginx
# under test and check them with real parsers (t/subcheck.py: Debian's
# python3-srt and python3-webvtt), as Test::More assertions.
#
#   subs_check($id, 'srt', text => '...', max_chars => 32, speakers => 0,
#              audio_end => 12.0, query => 'max_chars=8', cues => 4);
#
# adds the assertions "... parses", "... has no error" and, with cues,
# "... has N cues"; returns the checker's report ({cues, labels, errors,
# texts}) or undef.  subs_fetch($path) returns (status, headers, body).

use strict;
use warnings;

use t::Douyin ();
use Exporter ();
use File::Temp ();
use HTTP::Tiny;
use JSON::PP ();
use Test::More ();
use Cwd ();
use File::Basename ();

our @ISA    = ('Exporter');
our @EXPORT = qw(subs_check subs_fetch subs_python);

my $HTTP = HTTP::Tiny->new(timeout => 10, proxy => undef, http_proxy => undef);
my $JSON = JSON::PP->new->utf8->canonical;
my $Dir  = File::Basename::dirname(Cwd::abs_path(__FILE__));

# the Debian python that has the parsers (not a pyenv or venv one)
sub subs_python {
    return -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
}

sub subs_fetch {
    my ($path, $method) = @_;
    my $port = t::Douyin::douyin_port();
    my $res = $HTTP->request($method || 'GET', "http://127.0.0.1:$port$path");
    return ($res->{status}, $res->{headers}, $res->{content});
}

sub subs_check {
    my ($id, $format, %o) = @_;
    my $path = "/api/videos/$id/subtitles.$format"
               . (defined $o{query} ? "?$o{query}" : '');
    my $name = "$format of $id" . (defined $o{query} ? " ($o{query})" : '');

    my ($status, $headers, $body) = subs_fetch($path);
    Test::More::is($status, 200, "$name: 200") or return undef;

    my $tmp = File::Temp->new(SUFFIX => ".$format");
    binmode $tmp;
    print {$tmp} $body;
    close $tmp;

    my $text = $o{text};
    utf8::decode($text) unless utf8::is_utf8($text);

    my $exp = File::Temp->new(SUFFIX => '.json');
    binmode $exp;
    print {$exp} $JSON->encode({
        text      => $text,
        max_chars => $o{max_chars} // 32,
        max_ms    => $o{max_ms} // 7000,
        speakers  => $o{speakers} ? JSON::PP::true : JSON::PP::false,
        audio_end => $o{audio_end},
        long_ok   => $o{long_ok} ? JSON::PP::true : JSON::PP::false,
    });
    close $exp;

    my $py = subs_python();
    my $out = `$py $Dir/subcheck.py $format $tmp $exp 2>&1`;
    my $report = eval { $JSON->decode($out) };

    Test::More::ok($report, "$name: the $format parser reads it")
        or Test::More::diag($out), return undef;
    Test::More::is_deeply($report->{errors}, [], "$name: valid, monotonic, "
                          . "every word once")
        or Test::More::diag("$body");

    # ffmpeg's subtitle demuxers too, where ffmpeg is installed (it is
    # not in scripts/debian-packages: a hundred packages for one check)
    SKIP: {
        my ($ff) = grep { -x "$_/ffmpeg" } split /:/, $ENV{PATH} // '';
        Test::More::skip("$name: ffmpeg is not installed", 1) unless $ff;
        my $out = `$ff/ffmpeg -nostdin -v error -i $tmp -f $format -y /dev/null 2>&1`;
        Test::More::is($? >> 8, 0, "$name: ffmpeg reads it") or Test::More::diag($out);
    }

    if (defined $o{cues}) {
        Test::More::is($report->{cues}, $o{cues}, "$name: $o{cues} cues");
    }

    if (defined $o{min_cues}) {
        Test::More::cmp_ok($report->{cues}, '>=', $o{min_cues},
                           "$name: at least $o{min_cues} cues");
    }

    return $report;
}

1;

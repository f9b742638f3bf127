package t::Plan;

# The number of assertions Test::Nginx::Socket makes for some blocks, for a
# plan computed from blocks() rather than written down:
#
#   use t::Plan;
#   plan tests => repeat_each() * t::Plan::checks(blocks());
#
# It counts as upstream Test::Nginx does (and the fallback in t/lib): for
# each request of a block, 1 for the status (unless --- ignore_response),
# 1 per distinct header name of response_headers (or, without it,
# response_headers_like), 1 for the body check (response_body, else
# response_body_like, else response_body_unlike), then 1 per error_log and
# no_error_log pattern and 1 for grep_error_log.  A block whose --- init
# asserts something itself cannot be counted: such a file says 'no_plan'.
# A passing run emits exactly this many; a failing one may emit more (a
# no_error_log pattern fails once per matching line).

use strict;
use warnings;

# the value of $section for request $i (an array is indexed by request)
sub _nth {
    my ($block, $section, $i) = @_;
    my $v = $block->$section;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub _headers {
    my $v = shift;
    return 0 unless defined $v;
    return scalar keys %$v if ref $v eq 'HASH';
    my %name;
    for my $line (split /\n/, $v) {
        next if $line =~ /^\s*(?:#|$)/;
        my ($n) = $line =~ /^\s*(!?\s*[^:\s]+)/ or next;
        $name{$n} = 1;
    }
    return scalar keys %name;
}

sub _patterns {
    my $v = shift;
    return 0 unless defined $v;
    return 1 if ref $v eq 'Regexp';
    return scalar grep { defined } @$v if ref $v eq 'ARRAY';
    chomp(my $s = $v);
    return scalar grep { length } split /\n+/, $s;
}

sub checks {
    my $n = 0;
    for my $block (@_) {
        my $req = $block->request;
        my $reqs = ref $req eq 'ARRAY' ? scalar @$req : 1;
        for my $i (0 .. $reqs - 1) {
            next if defined $block->ignore_response;
            $n += 1;
            $n += defined $block->response_headers
                ? _headers(_nth($block, 'response_headers', $i))
                : _headers(_nth($block, 'response_headers_like', $i));
            $n += 1 if defined $block->response_body
                ? defined _nth($block, 'response_body', $i)
                : defined(_nth($block, 'response_body_like', $i))
                  || defined(_nth($block, 'response_body_unlike', $i));
        }
        $n += $reqs * (_patterns($block->error_log)
                       + _patterns($block->no_error_log)
                       + (defined $block->grep_error_log ? 1 : 0));
    }
    return $n;
}

1;

# docs/openapi.json and docs/index.html, the API description the module
# serves at /openapi.json and /docs (built in by scripts/embed-docs.py).
# Plain Test::More; no nginx here.
#
#   (a) ngx_http_douyin_docs.c is what scripts/embed-docs.py generates;
#   (b) openapi.json is a valid OpenAPI 3.0 document (JSON::Validator,
#       Debian libjson-validator-perl, against the official 3.0 schema,
#       offline) and every example in it and in index.html fits its schema;
#   (c) it has every route, status, parameter and field of api.md;
#   (d) index.html is self-contained and shows every route.

use strict;
use warnings;

use Cwd qw(abs_path);
use FindBin;
use JSON::PP ();
use Test::More;

my $root = abs_path("$FindBin::Bin/../..");

my $json_text = slurp("$root/docs/openapi.json");
my $html = slurp("$root/docs/index.html");

my $doc = eval { JSON::PP->new->utf8->decode($json_text) };
ok($doc, 'docs/openapi.json is JSON') or diag($@);
$doc ||= {};


# the routes of api.md as mounted at /api/...: path => method => statuses

my %routes = (
    '/health' => { get => [200, 405] },
    '/' => { get => [200, 405] },
    '/api/process' => { post => [200, 405, 502, 503] },
    '/api/process/async' => { post => [200, 405, 502, 503] },
    '/api/aweme/cleanup' => { post => [200, 400, 405, 409, 503] },
    '/api/videos/{aweme_id}/result' => { get => [200, 400, 405, 503] },
    '/api/videos' => { get => [200, 400, 405, 503] },
    '/api/videos/{aweme_id}' => {
        get => [200, 400, 404, 405, 503],
        delete => [200, 400, 404, 405, 502, 503],
    },
    '/api/videos/{aweme_id}/read' => {
        post => [200, 400, 404, 405, 413, 502, 503],
    },
    '/api/videos/{aweme_id}/subtitles.{format}' => {
        get => [200, 400, 404, 405, 503],
    },
    '/api/stats' => { get => [200, 405, 502, 503] },
    # the collector-fed workflow (the later version)
    '/api/process/pending' => { post => [200, 405, 502, 503] },
    '/api/aweme/{aweme_id}/pending' => { post => [200, 400, 405, 413, 503] },
    '/api/aweme/{aweme_id}/status' => { get => [200, 400, 405, 503] },
    '/api/aweme/{aweme_id}/read' => {
        post => [200, 400, 404, 405, 413, 502, 503],
    },
    '/api/aweme/{aweme_id}/unread' => { post => [200, 400, 404, 405, 503] },
    '/api/aweme/{aweme_id}' => { delete => [200, 400, 404, 405, 502, 503] },
    '/api/rss.xml' => { get => [200, 304, 400, 401, 405, 503] },
    '/docs' => { get => [200, 405] },
    '/openapi.json' => { get => [200, 405] },
    '/metrics' => { get => [200, 405] },
);

my @methods = qw(get put post delete options head patch trace);


# (a) the generated C file is up to date

is(system('python3', "$root/scripts/embed-docs.py", '--check'), 0,
   'ngx_http_douyin_docs.c is up to date (embed-docs.py --check)');


# (b) a real OpenAPI validator

my $validator;

SKIP: {
    unless (eval { require JSON::Validator::Schema::OpenAPIv3; 1 }) {
        fail('JSON::Validator is installed (Debian libjson-validator-perl, '
             . 'listed in scripts/debian-packages)');
        diag($@);
        skip 'no JSON::Validator', 1;
    }

    # a copy: JSON::Validator may change the data it is given
    my $copy = JSON::PP->new->utf8->decode($json_text);

    $validator = eval { JSON::Validator::Schema::OpenAPIv3->new($copy) };
    ok($validator, 'openapi.json: every $ref resolves') or diag($@);

    if ($validator) {
        is($validator->specification,
           'https://spec.openapis.org/oas/3.0/schema/2019-04-02',
           'validated against the official OpenAPI 3.0 schema');

        my $errors = eval { $validator->errors } || ["validator died: $@"];
        is(scalar @$errors, 0, 'openapi.json is a valid OpenAPI 3.0 document')
            or diag(join "\n", map { "  $_" } @$errors);

        # examples are checked as responses are: "1" is not a number here
        $validator->coerce({});
    }
}

is($doc->{openapi}, '3.0.3', 'openapi 3.0.3');

# what the validator's schema does not check

my %op_ids;

for my $path (sort keys %{ $doc->{paths} || {} }) {
    my $item = $doc->{paths}{$path};

    for my $m (grep { $item->{$_} } @methods) {
        my $op = $item->{$m};
        my $id = $op->{operationId} // '';

        ok($id ne '' && !$op_ids{$id}++, "$m $path: unique operationId $id");

        my %in_path = map { $_->{name} => $_ }
                      grep { $_->{in} eq 'path' }
                      map { deref($_) }
                      @{ $item->{parameters} || [] },
                      @{ $op->{parameters} || [] };

        my @names = $path =~ /\{(\w+)\}/g;

        is_deeply([sort keys %in_path], [sort @names],
                  "$m $path: path parameters match the template");

        ok(!grep({ !$_->{required} } values %in_path),
           "$m $path: path parameters are required");
    }
}

is($doc->{info}{version}, header_version(),
   'info.version is NGX_HTTP_DOUYIN_VERSION');

is($doc->{servers}[0]{url}, '/', 'servers: "/"');

like($doc->{info}{description} // '', qr{/api/douyin/},
     'the description names the /api/douyin/ gateway prefix');

unlike($json_text, qr/(?<!\\)\\u[0-9a-fA-F]{4}/,
       'openapi.json has UTF-8 text, no \\u escapes');

# every example of openapi.json fits its schema

my $nexamples = 0;

for my $path (sort keys %{ $doc->{paths} || {} }) {
    my $item = $doc->{paths}{$path};

    for my $m (grep { $item->{$_} } @methods) {
        my $op = $item->{$m};

        for my $status (sort keys %{ $op->{responses} || {} }) {
            my $res = deref($op->{responses}{$status});

            for my $type (sort keys %{ $res->{content} || {} }) {
                for my $ex (examples($res->{content}{$type})) {
                    $nexamples++;
                    check_example("openapi.json: $m $path $status "
                                  . "$ex->[0]", $m, $path, $status,
                                  $type, $ex->[1]);
                }
            }
        }

        my $body = $op->{requestBody} or next;

        for my $type (sort keys %{ $body->{content} || {} }) {
            for my $ex (examples($body->{content}{$type})) {
                $nexamples++;

                next unless $validator;

                my @e = $validator->validate_request([$m, $path], {
                    body => sub {
                        { exists => 1, value => $ex->[1],
                          content_type => $type }
                    },
                    path => { map { $_ => '1' } $path =~ /\{(\w+)\}/g },
                });

                ok(!@e, "openapi.json: $m $path request example $ex->[0]")
                    or diag(join "\n", @e);
            }
        }
    }
}

cmp_ok($nexamples, '>=', 20, "openapi.json has examples ($nexamples)");


# (c) every route, status and field of api.md

is_deeply([sort keys %{ $doc->{paths} || {} }], [sort keys %routes],
          'the paths are the routes of api.md');

for my $path (sort keys %routes) {
    my $item = $doc->{paths}{$path} || {};

    is_deeply([grep { $item->{$_} } @methods],
              [grep { $routes{$path}{$_} } @methods],
              "$path: methods");

    for my $m (sort keys %{ $routes{$path} }) {
        my $responses = ($item->{$m} || {})->{responses} || {};

        for my $status (@{ $routes{$path}{$m} }) {
            ok($responses->{$status}, "$m $path: documents $status")
                or next;

            next if $status < 400;

            my $res = deref($responses->{$status});

            is(ref_name($res->{content}{'application/json'}{schema}),
               'Error', "$m $path $status: the Error schema");

            if ($status == 405) {
                ok($res->{headers}{Allow}, "$m $path 405: Allow header");
            }
        }

        for my $status (grep { /^[45]/ } keys %$responses) {
            is(ref_name(deref($responses->{$status})
                        ->{content}{'application/json'}{schema}),
               'Error', "$m $path $status: the Error schema");
        }
    }
}

ok(exists $doc->{paths}{'/docs'}{get}{responses}{200}{content}{'text/html'},
   '/docs is text/html');
ok(exists $doc->{paths}{'/openapi.json'}{get}{responses}{200}{content}
           {'application/json'},
   '/openapi.json is application/json');
ok(exists $doc->{paths}{'/metrics'}{get}{responses}{200}{content}
           {'text/plain'},
   '/metrics is text/plain');
like($doc->{paths}{'/metrics'}{get}{responses}{200}{description} // '',
     qr/text\/plain; version=0\.0\.4/,
     '/metrics: the Prometheus text format 0.0.4');

# the error body

fields('Error', schema('Error'), [qw(success error detail)],
       [qw(success error detail)]);

my $codes = schema('Error')->{properties}{error}{description} // '';
my $s503 = join ' ', map { $_->{value}{error} // '' }
    values %{ ($doc->{components}{responses}{ServiceUnavailable} || {})
              ->{content}{'application/json'}{examples} || {} };

for my $code (qw(STORE_UNAVAILABLE STORE_ERROR STORE_FULL ASR_KEY_MISSING
                 THREAD_POOL_UNAVAILABLE))
{
    like($codes, qr/\b$code\b/, "Error: names $code");
    like($s503, qr/\b$code\b/, "503: an example of $code");
}

like($codes, qr/\b$_\b/, "Error: names $_")
    for qw(INVALID_AWEME_ID METHOD_NOT_ALLOWED FILESYSTEM_UNAVAILABLE);

# success bodies

my $ok = sub { response_schema($_[0], $_[1], 200) };

fields('health', $ok->('get', '/health'),
       [qw(status version processor_ready schedule)]);
fields('health schedule', prop($ok->('get', '/health'), 'schedule'),
       [qw(process retention)]);
for my $job (qw(process retention)) {
    fields("health schedule $job",
           prop(prop($ok->('get', '/health'), 'schedule'), $job),
           [qw(times next next_at last_run), $job eq 'process' ? 'scope' : 'age'],
           [qw(times next next_at last_run), $job eq 'process' ? 'scope' : 'age']);
}
fields('cleanup', $ok->('post', '/api/aweme/cleanup'),
       [qw(success deleted failed)], [qw(success deleted failed)]);
fields('service info', $ok->('get', '/'),
       [qw(service version docs health)]);

fields('process', $ok->('post', '/api/process'),
       [qw(success message data)]);
fields('process data', prop($ok->('post', '/api/process'), 'data'),
       [qw(total processed success failed ignored)]);

fields('process async', $ok->('post', '/api/process/async'),
       [qw(success message data)]);
fields('process async data',
       prop($ok->('post', '/api/process/async'), 'data'),
       [qw(total pending skip ignored)]);

my @segment = qw(start_time end_time text confidence);
my @segment_added = qw(speaker_id words);
my @transcript = qw(text segments confidence audio_duration);
my @item = qw(aweme_id status title author audio_url transcript processed_at
              upload_time video_publish_time pending_at is_read read_at);

my $result = $ok->('get', '/api/videos/{aweme_id}/result');

fields('result', $result, [qw(success data)]);

my %variants;

for my $v (@{ deref(prop($result, 'data'))->{oneOf} || [] }) {
    my $status = deref(prop($v, 'status'))->{enum} || [];
    $variants{ $status->[0] // '' } = deref($v);
}

is_deeply([sort keys %variants],
          [sort qw(pending processing failed completed deleted)],
          'result: one shape per status');
fields('result deleted', $variants{deleted}, [qw(aweme_id status message)],
       [qw(aweme_id status message)]);

fields('result pending', $variants{pending}, [qw(aweme_id status message)],
       [qw(aweme_id status message)]);
fields('result processing', $variants{processing},
       [qw(aweme_id status message)], [qw(aweme_id status message)]);
fields('result failed', $variants{failed},
       [qw(aweme_id status error message)],
       [qw(aweme_id status error message)]);
fields('result completed', $variants{completed},
       [qw(aweme_id status text segments confidence audio_duration title
           author description upload_time)],
       [qw(aweme_id status text segments confidence audio_duration)]);
fields('result segment', items(prop($variants{completed}, 'segments')),
       [@segment, @segment_added], \@segment);
nullable('result completed', $variants{completed}, 'confidence');
nullable('result segment', items(prop($variants{completed}, 'segments')),
         'confidence');

my $list = $ok->('get', '/api/videos');

fields('list', $list, [qw(total_count videos page page_size)]);

my $li = items(prop($list, 'videos'));

fields('list item', $li, \@item, \@item);
fields('list item transcript', prop($li, 'transcript'), \@transcript);
fields('list item segment', items(prop(prop($li, 'transcript'), 'segments')),
       [@segment, @segment_added]);
nullable('list item', $li,
         qw(title author transcript processed_at upload_time
            video_publish_time pending_at read_at));
is(deref(prop($li, 'pending_at'))->{type}, 'integer', 'pending_at: integer');
nullable('list item transcript', prop($li, 'transcript'), 'confidence');
is(deref(prop($li, 'processed_at'))->{type}, 'integer',
   'processed_at: integer');
is(deref(prop($li, 'read_at'))->{type}, 'integer', 'read_at: integer');
is(deref(prop($li, 'is_read'))->{type}, 'boolean', 'is_read: boolean');

my $detail = $ok->('get', '/api/videos/{aweme_id}');

fields('detail', $detail,
       [@item, qw(description error asr_seconds language subtitles)],
       [@item, qw(description error asr_seconds language subtitles)]);
nullable('detail', $detail, qw(description error asr_seconds language subtitles));
fields('detail subtitles', prop($detail, 'subtitles'), [qw(srt vtt txt)],
       [qw(srt vtt txt)]);
fields('word', items(prop(items(prop($variants{completed}, 'segments')),
                          'words')),
       [qw(start_time end_time text punctuation)],
       [qw(start_time end_time text punctuation)]);

fields('delete', $ok->('delete', '/api/videos/{aweme_id}'),
       [qw(success message)]);
fields('read', $ok->('post', '/api/videos/{aweme_id}/read'),
       [qw(success message)]);

my $read_body = $doc->{paths}{'/api/videos/{aweme_id}/read'}{post}
                {requestBody} || {};

ok($read_body->{required}, 'read: the body is required');
fields('read body', $read_body->{content}{'application/json'}{schema},
       ['is_read'], ['is_read']);

# the collector-fed workflow

fields('delete (later version)', $ok->('delete', '/api/aweme/{aweme_id}'),
       [qw(success message)]);
fields('unread', $ok->('post', '/api/aweme/{aweme_id}/unread'),
       [qw(success message)]);
fields('read (later version)', $ok->('post', '/api/aweme/{aweme_id}/read'),
       [qw(success message)]);
fields('push', $ok->('post', '/api/aweme/{aweme_id}/pending'),
       [qw(success message)]);
fields('collector status', $ok->('get', '/api/aweme/{aweme_id}/status'),
       [qw(known status audio_filename)], [qw(known status audio_filename)]);
nullable('collector status', $ok->('get', '/api/aweme/{aweme_id}/status'),
         qw(status audio_filename));
fields('process/pending', $ok->('post', '/api/process/pending'),
       [qw(success message data)], [qw(success message data)]);
fields('process/pending data',
       prop($ok->('post', '/api/process/pending'), 'data'), ['pending'],
       ['pending']);

my $push_body = $doc->{paths}{'/api/aweme/{aweme_id}/pending'}{post}
                {requestBody} || {};

ok($push_body->{required}, 'push: the body is required');
fields('push body', $push_body->{content}{'application/json'}{schema},
       [qw(audio_filename title author description video_publish_time)],
       ['audio_filename']);
is(deref(prop($push_body->{content}{'application/json'}{schema},
              'audio_filename'))->{maxLength}, 255,
   'push body: audio_filename at most 255 bytes');

my $stats = $ok->('get', '/api/stats');

fields('stats', $stats, [qw(total completed processing failed pending
                            success_rate listing_age asr_seconds
                            asr_seconds_30d)]);
like(deref(prop($stats, $_))->{description} // '', qr/added/i,
     "$_: marked as added") for qw(asr_seconds asr_seconds_30d);
is(deref(prop($stats, 'listing_age'))->{type}, 'integer',
   'listing_age: integer');
is_deeply([@{ deref(prop($stats, 'success_rate')) }{qw(type minimum maximum)}],
          ['number', 0, 1], 'success_rate: number 0..1');

like(deref(prop(prop($ok->('post', '/api/process'), 'data'), 'ignored'))
     ->{description} // '', qr/added/i, 'ignored: marked as added');
like(deref(prop($stats, 'listing_age'))->{description} // '', qr/added/i,
     'listing_age: marked as added');

# parameters

my %p = params('get', '/api/videos');

is_deeply([sort keys %p], [qw(is_read page page_size status)],
          'list: query parameters');
is_deeply([@{ $p{page}{schema} || {} }{qw(type minimum default)}],
          ['integer', 1, 1], 'page: integer >= 1, default 1');
is_deeply([@{ $p{page_size}{schema} || {} }
           {qw(type minimum maximum default)}],
          ['integer', 1, 1000, 20], 'page_size: integer 1..1000, default 20');
is_deeply(deref($p{status}{schema})->{enum},
          [qw(pending processing completed failed unread read deleted)],
          'status: enum');
is(deref($p{is_read}{schema})->{type}, 'boolean', 'is_read: boolean');

%p = params('delete', '/api/videos/{aweme_id}');

is_deeply([@{ deref($p{keep_file}{schema}) }{qw(type default)}],
          ['boolean', JSON::PP::false], 'keep_file: boolean, default false');

for my $path ('/api/videos/{aweme_id}/result', '/api/videos/{aweme_id}') {
    %p = params('get', $path);
    is_deeply([@{ deref($p{words}{schema}) || {} }{qw(type default)}],
              ['boolean', JSON::PP::false], "get $path: words, boolean");
}

%p = params('get', '/api/videos/{aweme_id}/subtitles.{format}');
is_deeply([@{ $p{max_chars}{schema} || {} }{qw(type minimum maximum default)}],
          ['integer', 8, 200, 32], 'subtitles: max_chars 8..200, default 32');
is_deeply(deref($p{format}{schema})->{enum}, [qw(srt vtt txt)],
          'subtitles: format srt, vtt, txt');
is_deeply([sort keys %{ $doc->{paths}{'/api/videos/{aweme_id}/subtitles.{format}'}
                       {get}{responses}{200}{content} || {} }],
          ['application/x-subrip', 'text/plain', 'text/vtt'],
          'subtitles: the three content types');

for my $path (grep { /\{aweme_id\}/ } sort keys %routes) {
    for my $m (sort keys %{ $routes{$path} }) {
        %p = params($m, $path);
        is(deref($p{aweme_id}{schema})->{pattern}, '^[0-9]{1,32}$',
           "$m $path: aweme_id pattern");
    }
}


# (d) index.html

# a budget, not a format rule: one self-contained page that a phone loads in
# one small request.  It was 40 KB for the first version's 11 routes; the
# page now also documents the later version's routes, the feed and the
# metrics.
cmp_ok(length $html, '<', 56 * 1024, 'index.html is under 56 KB');
like($html, qr/<meta charset="utf-8">/i, 'index.html: UTF-8');
like($html, qr/\xe5\xa4\xa7\xe5\xae\xb6\xe5\xa5\xbd/,
     'index.html: Chinese examples as UTF-8');

unlike($html,
       qr/<(?:script|link|img|iframe|source|embed|object|audio|video)\b
          [^>]*\b(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?\/\//xi,
       'index.html: no script, stylesheet, image or frame from the network');
unlike($html, qr/url\(\s*["']?\s*(?:https?:)?\/\//i,
       'index.html: no url() from the network (fonts, images)');
unlike($html, qr/\@import/i, 'index.html: no CSS @import');

my $text = $html;
$text =~ s/<[^>]*>/ /g;
$text = entities($text);
$text =~ s/\s+/ /g;

for my $path (sort keys %routes) {
    for my $m (sort keys %{ $routes{$path} }) {
        my $M = uc $m;
        like($text, qr/\b$M \Q$path\E(?![\w\/.{])/,
             "index.html: mentions $M $path");
        like($html, qr{<h3><span class="m $m">$M</span> <code>\Q$path\E</code>},
             "index.html: a section for $M $path");
        my $url = curl_url($path);
        like($html, qr/curl[^<]*$url/, "index.html: a curl example for $path");
    }
}

like($text, qr/pending → processing → completed failed/,
     'index.html: the status lifecycle');
like($text, qr/\{"success":false,"error":/, 'index.html: the error format');

for my $code (qw(INVALID_AWEME_ID METHOD_NOT_ALLOWED BODY_TOO_LARGE
                 FILESYSTEM_UNAVAILABLE STORE_UNAVAILABLE STORE_ERROR
                 STORE_FULL ASR_KEY_MISSING THREAD_POOL_UNAVAILABLE))
{
    like($text, qr/\b$code\b/, "index.html: names $code");
}

# its example responses fit the schemas

my $nhtml = 0;

while ($html =~ /<pre[^>]*\bdata-example="(\w+) (\S+) (\d+)"[^>]*>(.*?)<\/pre>/sg)
{
    my ($m, $path, $status, $body) = (lc $1, $2, $3, entities($4));

    $nhtml++;

    my $ex = eval { JSON::PP->new->utf8->decode($body) };

    ok(defined $ex, "index.html: $m $path $status example is JSON")
        or diag($@), next;

    # a 405 example may show a method the route does not take

    if ($status == 405 && !$doc->{paths}{$path}{$m}) {
        ($m) = grep { $doc->{paths}{$path}{$_} } @methods;
    }

    check_example("index.html: $m $path $status example", $m, $path,
                  $status, 'application/json', $ex);
}

cmp_ok($nhtml, '>=', 15, "index.html has checked examples ($nhtml)");


# (e) the copy served under another mount (the gateway's /api/douyin/):
# the same operations at paths relative to the mount, whose URL the
# module puts in servers; a valid OpenAPI 3.0 document too

my $mounted_text = `python3 '$root/scripts/embed-docs.py' --mounted /api/douyin`;
is($?, 0, 'embed-docs.py --mounted');
my $mounted = eval { JSON::PP->new->utf8->decode($mounted_text) };
ok($mounted, 'the mounted copy is JSON') or diag($@);
$mounted ||= {};

is_deeply($mounted->{servers} && [map { $_->{url} } @{ $mounted->{servers} }],
          ['/api/douyin'], 'mounted copy: servers is the mount');

my %below = map { (s{^/api(?=/)}{}r) => $_ } keys %{ $doc->{paths} || {} };

is_deeply([sort keys %{ $mounted->{paths} || {} }], [sort keys %below],
          'mounted copy: /api/X is X below the mount, the rest as it is');

for my $path (sort keys %below) {
    is_deeply($mounted->{paths}{$path}, $doc->{paths}{ $below{$path} },
              "mounted copy: $path is $below{$path}");
}

is_deeply({ %$mounted, paths => undef, servers => undef, info => undef },
          { %$doc, paths => undef, servers => undef, info => undef },
          'mounted copy: everything else is the same');

like($mounted->{info}{description} // '', qr/relative to the server URL/,
     'mounted copy: the description says what its paths are');

if ($validator) {
    my $v = eval { JSON::Validator::Schema::OpenAPIv3->new(
                       JSON::PP->new->utf8->decode($mounted_text)) };
    my $errors = $v ? eval { $v->errors } || ["validator died: $@"]
                    : ["no validator: $@"];
    is(scalar @$errors, 0, 'the mounted copy is a valid OpenAPI 3.0 document')
        or diag(join "\n", map { "  $_" } @$errors);
}

done_testing();


sub slurp {
    my ($file) = @_;

    open my $fh, '<:raw', $file or die "$file: $!\n";
    local $/;
    return scalar <$fh>;
}

sub header_version {
    my $h = slurp("$root/ngx_http_douyin_module/ngx_http_douyin_module.h");
    return $h =~ /#define\s+NGX_HTTP_DOUYIN_VERSION\s+"([^"]+)"/ ? $1 : '?';
}

sub entities {
    my ($s) = @_;

    $s =~ s/&lt;/</g;
    $s =~ s/&gt;/>/g;
    $s =~ s/&quot;/"/g;
    $s =~ s/&#39;/'/g;
    $s =~ s/&amp;/&/g;

    return $s;
}

# a regex for the URL of a route in a curl example

sub curl_url {
    my ($path) = @_;
    my $re = quotemeta "http://127.0.0.1:8093$path";

    $re =~ s/\\\{aweme_id\\\}/[0-9]+/;
    $re =~ s/\\\{format\\\}/(?:srt|vtt|txt)/;

    return qr/$re(?![\w\/.])/;
}

# follows local $refs: "#/components/schemas/X" -> that node

sub deref {
    my ($node) = @_;
    my $n = 0;

    while (ref $node eq 'HASH' && defined $node->{'$ref'}) {
        my $ref = $node->{'$ref'};

        die "not a local \$ref: $ref\n" unless $ref =~ s{^#/}{};
        die "\$ref loop at $ref\n" if ++$n > 20;

        $node = $doc;

        for my $part (split m{/}, $ref) {
            $part =~ s/~1/\//g;
            $part =~ s/~0/~/g;
            $node = ref $node eq 'HASH' ? $node->{$part} : undef;
        }

        die "unresolved \$ref #/$ref\n" unless defined $node;
    }

    return $node;
}

sub ref_name {
    my ($node) = @_;

    return (ref $node eq 'HASH' && ($node->{'$ref'} // '') =~ m{/(\w+)$})
           ? $1 : '';
}

sub schema {
    return $doc->{components}{schemas}{ $_[0] } || {};
}

sub response_schema {
    my ($m, $path, $status) = @_;

    my $op = ($doc->{paths}{$path} || {})->{$m} || {};
    my $res = deref($op->{responses}{$status} || {});

    return $res->{content}{'application/json'}{schema} || {};
}

# the properties of a schema, allOf merged: name => schema

sub properties {
    my $s = deref($_[0]) || {};
    my %p;

    %p = (%p, properties($_)) for @{ $s->{allOf} || [] };
    %p = (%p, %{ $s->{properties} || {} });

    return %p;
}

sub required {
    my $s = deref($_[0]) || {};
    my %r = map { $_ => 1 } @{ $s->{required} || [] };

    %r = (%r, required($_)) for @{ $s->{allOf} || [] };

    return %r;
}

sub prop {
    my ($s, $name) = @_;
    my %p = properties($s);

    return $p{$name} || {};
}

sub items {
    return deref($_[0])->{items} || {};
}

sub fields {
    my ($what, $s, $names, $required) = @_;
    my %p = properties($s);

    is_deeply([sort keys %p], [sort @$names], "$what: fields");

    if ($required) {
        my %r = required($s);
        is_deeply([sort keys %r], [sort @$required], "$what: required");
    }
}

sub nullable {
    my ($what, $s, @names) = @_;

    ok(deref(prop($s, $_))->{nullable}, "$what: $_ is nullable")
        for @names;
}

sub params {
    my ($m, $path) = @_;
    my $item = $doc->{paths}{$path} || {};

    return map { $_->{name} => $_ }
           map { deref($_) }
           @{ $item->{parameters} || [] },
           @{ ($item->{$m} || {})->{parameters} || [] };
}

# [name, value] of a media type's example or examples

sub examples {
    my ($media) = @_;
    my @ex;

    push @ex, ['example', $media->{example}] if exists $media->{example};

    for my $name (sort keys %{ $media->{examples} || {} }) {
        push @ex, [$name, deref($media->{examples}{$name})->{value}];
    }

    return @ex;
}

sub check_example {
    my ($what, $m, $path, $status, $type, $value) = @_;

    return unless $validator;

    unless ((($doc->{paths}{$path} || {})->{$m} || {})->{responses}{$status})
    {
        fail("$what: no such operation or status");
        return;
    }

    my @e = $validator->validate_response([$m, $path, $status], {
        body => sub {
            { exists => 1, value => $value, content_type => $type }
        },
    });

    ok(!@e, "$what fits the schema") or diag(join "\n", @e);
}

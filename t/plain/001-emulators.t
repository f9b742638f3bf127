# Tests of the test emulators themselves (t/emu/fsgo.py, t/emu/dashscope.py)
# through t::Emu.  Plain Test::More; run from the repo root:
#     prove -I. -v t/plain/001-emulators.t

use strict;
use warnings;
use utf8;

use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time sleep);

use t::Emu;

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $J = JSON::PP->new->utf8->canonical;
my $FS = "http://127.0.0.1:$ENV{TEST_NGINX_FSGO_PORT}";
my $DS = "http://127.0.0.1:$ENV{TEST_NGINX_DASHSCOPE_PORT}";
my $KEY = $ENV{TEST_NGINX_DASHSCOPE_KEY};
my $http = HTTP::Tiny->new(timeout => 10, proxy => undef, http_proxy => undef);

sub req {
    my ($method, $url, $body, $headers) = @_;
    my %o = (headers => { %{ $headers || {} } });
    $o{content} = ref $body ? $J->encode($body) : $body if defined $body;
    return $http->request($method, $url, \%o);
}
sub dj { my $c = shift; my $v = eval { $J->decode($c) }; return $v }

my %DSH = ('Authorization' => "Bearer $KEY", 'Content-Type' => 'application/json',
           'X-DashScope-Async' => 'enable');
sub submit {
    my ($urls, %o) = @_;
    my $body = { model => $o{model} || 'fun-asr', input => { file_urls => $urls },
                 parameters => $o{parameters} || {} };
    return req('POST', "$DS/api/v1/services/audio/asr/transcription", $body,
               { %DSH, %{ $o{headers} || {} } });
}
sub query {
    my ($tid, $method) = @_;
    my $r = req($method || 'GET', "$DS/api/v1/tasks/$tid", undef,
                { Authorization => "Bearer $KEY" });
    return ($r, dj($r->{content}));
}
sub wait_done {
    my ($tid, $timeout) = @_;
    my $deadline = time + ($timeout || 10);
    my @seen;
    while (1) {
        my (undef, $q) = query($tid);
        my $s = $q->{output}{task_status};
        push @seen, $s unless @seen && $seen[-1] eq $s;
        return ($q, \@seen) if $s =~ /^(SUCCEEDED|FAILED|CANCELED|UNKNOWN)$/ || time > $deadline;
        sleep 0.03;
    }
}
sub audio_url { "$FS/audio/$_[0]" }
sub has_key_deep {
    my ($v, $key) = @_;
    if (ref $v eq 'HASH') {
        return 1 if exists $v->{$key};
        return grep { has_key_deep($_, $key) } values %$v;
    }
    if (ref $v eq 'ARRAY') { return grep { has_key_deep($_, $key) } @$v }
    return 0;
}
sub closed_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
        or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

my $t0 = time;

# ===========================================================================
# file-system-go
# ===========================================================================

subtest 'fsgo health' => sub {
    my $r = req('GET', "$FS/");
    is $r->{status}, 200, 'GET / 200';
    is $r->{headers}{'content-type'}, 'application/json', 'json content type';
    like $r->{content}, qr/\}\n\z/, 'Go encoder trailing newline';
    my $h = dj($r->{content});
    is $h->{service}, 'Audio File Server (Go)', 'service';
    is $h->{status}, 'running', 'status';
    is $h->{version}, '1.5.0', 'version';
};

subtest 'fsgo listing' => sub {
    emu_reset();
    my $r = req('POST', "$FS/api/videos/query", '{"filters":{"suffix":".wav"}}');
    is $r->{status}, 200, 'empty folder 200';
    is $r->{content}, qq({"success":true}\n), 'no videos key when nothing matches';

    emu_wav('7000000000000000002', seconds => 0.5);
    emu_wav('7000000000000000001', seconds => 0.25,
            meta => { title => '标题', author => 'a', description => 'd' });
    emu_wav('abc', seconds => 0.1);
    emu_file('notes.txt', "hello\n");

    $r = req('POST', "$FS/api/videos/query", '{"filters":{"suffix":".wav"}}');
    is $r->{status}, 200, 'listing 200';
    my $l = dj($r->{content});
    ok $l->{success}, 'success';
    is_deeply [ map { $_->{id} } @{ $l->{videos} } ],
        ['7000000000000000001', '7000000000000000002', 'abc'],
        'all .wav files, sorted, sidecars skipped, non-digit names included';
    my ($v) = grep { $_->{id} eq '7000000000000000002' } @{ $l->{videos} };
    is_deeply $v, { id => '7000000000000000002', filename => '7000000000000000002.wav',
                    size => -s "$ENV{TEST_NGINX_EMU_WAV_DIR}/7000000000000000002.wav",
                    url => '/audio/7000000000000000002.wav' }, 'video entry shape';
    is $v->{size}, 44 + 16000, 'size of a 0.5 s 16 kHz s16 mono WAV';

    $l = dj(req('POST', "$FS/api/videos/query",
                '{"filters":{"suffix":".wav","prefix":"7000000000000000001"}}')->{content});
    is scalar @{ $l->{videos} }, 1, 'prefix filter';

    $l = dj(req('POST', "$FS/api/videos/query", '{}')->{content});
    is_deeply [ map { $_->{filename} } @{ $l->{videos} } ],
        ['7000000000000000001.wav', '7000000000000000002.wav', 'abc.wav', 'notes.txt'],
        'no filter lists every file but the sidecars';

    # the real server's name filter is case-sensitive (strings.HasSuffix)
    emu_wav('7000000000000000003', name => '7000000000000000003.WAV', seconds => 0.1);
    $l = dj(req('POST', "$FS/api/videos/query", '{"filters":{"suffix":".wav"}}')->{content});
    ok !(grep { $_->{filename} =~ /\.WAV\z/ } @{ $l->{videos} }),
        'suffix ".wav" does not list X.WAV';
    $l = dj(req('POST', "$FS/api/videos/query", '{"filters":{}}')->{content});
    my ($up) = grep { $_->{filename} eq '7000000000000000003.WAV' } @{ $l->{videos} };
    is_deeply $up, { id => '7000000000000000003', filename => '7000000000000000003.WAV',
                     size => 44 + 3200, url => '/audio/7000000000000000003.WAV' },
        'no suffix lists X.WAV: id without its extension, url as named';
    is_deeply emu_stats('fsgo')->{queries}[-1], '{"filters":{}}', 'bodies recorded';
    unlink "$ENV{TEST_NGINX_EMU_WAV_DIR}/7000000000000000003.WAV";

    for my $bad ('', 'not json', '[]', '{"filters":"x"}') {
        $r = req('POST', "$FS/api/videos/query", $bad);
        is $r->{status}, 400, "bad body '$bad' -> 400";
        is $r->{content}, qq({"success":false,"error":"Invalid request body"}\n), 'error body';
    }
};

subtest 'fsgo metadata' => sub {
    my $r = req('GET', "$FS/api/metadata/7000000000000000001.wav");
    is $r->{status}, 200, 'metadata 200';
    my $m = dj($r->{content});
    ok $m->{success}, 'success';
    is_deeply [ sort keys %{ $m->{metadata} } ],
        [qw(author description filename title upload_time)], 'fields';
    is $m->{metadata}{title}, '标题', 'UTF-8 title';
    my $octets = '标题';
    utf8::encode($octets);
    like $r->{content}, qr/\Q$octets\E/, 'raw UTF-8, not \u escapes';
    is $m->{metadata}{filename}, '7000000000000000001.wav', 'filename';

    emu_wav('7000000000000000003', meta_name => 'id',
            meta => { title => 't3', upload_time => '2026-02-27T12:00:00.000+08:00' });
    $m = dj(req('GET', "$FS/api/metadata/7000000000000000003.wav")->{content});
    is $m->{metadata}{title}, 't3', '<id>.meta.json sidecar accepted';
    is $m->{metadata}{upload_time}, '2026-02-27T12:00:00+08:00', 'time re-encoded the Go way';

    $r = req('GET', "$FS/api/metadata/7000000000000000002.wav");
    is $r->{status}, 404, 'no sidecar -> 404';
    is $r->{content}, qq({"success":false,"error":"Metadata not found"}\n), '404 body';

    $r = req('GET', "$FS/api/metadata/a..b.wav");
    is $r->{status}, 400, '.. -> 400';
};

subtest 'fsgo audio and download' => sub {
    my $file = "$ENV{TEST_NGINX_EMU_WAV_DIR}/7000000000000000002.wav";
    my $bytes = do { local $/; open my $fh, '<:raw', $file or die; <$fh> };
    my $r = req('GET', audio_url('7000000000000000002.wav'));
    is $r->{status}, 200, 'audio 200';
    is $r->{headers}{'content-type'}, 'audio/x-wav', 'audio/x-wav';
    is $r->{headers}{'accept-ranges'}, 'bytes', 'Accept-Ranges';
    ok $r->{content} eq $bytes, 'whole file';

    $r = req('GET', audio_url('7000000000000000002.wav'), undef, { Range => 'bytes=0-11' });
    is $r->{status}, 206, 'Range -> 206';
    is $r->{headers}{'content-range'}, 'bytes 0-11/' . length($bytes), 'Content-Range';
    is substr($r->{content}, 0, 4) . substr($r->{content}, 8, 4), 'RIFFWAVE', 'RIFF/WAVE';
    $r = req('GET', audio_url('7000000000000000002.wav'), undef, { Range => 'bytes=-4' });
    is $r->{status}, 206, 'suffix range';
    is length $r->{content}, 4, '4 bytes';
    $r = req('GET', audio_url('7000000000000000002.wav'), undef, { Range => 'bytes=99999-' });
    is $r->{status}, 416, 'unsatisfiable range -> 416';

    $r = req('GET', audio_url('nope.wav'));
    is $r->{status}, 404, 'missing audio 404';
    is $r->{content}, "404 page not found\n", 'Go text body';

    $r = req('GET', "$FS/api/videos/7000000000000000002/download");
    is $r->{status}, 200, 'download 200';
    is $r->{headers}{'content-disposition'}, 'attachment; filename="7000000000000000002.wav"',
        'attachment';
    ok $r->{content} eq $bytes, 'download bytes';
    is req('GET', "$FS/api/videos/7999/download")->{status}, 404, 'download 404';
};

subtest 'fsgo mark and delete' => sub {
    my $r = req('POST', "$FS/api/read/mark", '{"filename":"7000000000000000001.wav"}');
    is $r->{status}, 200, 'mark 200';
    my $m = dj($r->{content});
    ok $m->{success} && length $m->{message}, 'success + message';
    is req('POST', "$FS/api/read/mark", 'nope')->{status}, 400, 'mark bad body 400';
    $r = req('POST', "$FS/api/read/mark", '{}');
    is $r->{status}, 400, 'mark without filename 400';
    is dj($r->{content})->{error}, 'Filename is required', 'error text';

    $r = req('DELETE', "$FS/api/videos/7000000000000000001.wav");
    is $r->{status}, 200, 'delete 200';
    is $r->{content}, qq({"success":true,"message":"File deleted successfully"}\n), 'delete body';
    ok !-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7000000000000000001.wav", 'file gone';
    ok !-e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7000000000000000001.wav.meta.json", 'sidecar gone';
    $r = req('DELETE', "$FS/api/videos/7000000000000000001.wav");
    is $r->{status}, 404, 'second delete 404';
    is $r->{content}, qq({"success":false,"error":"File not found"}\n), '404 body';
    is req('DELETE', "$FS/api/file/abc.wav")->{status}, 200, 'DELETE /api/file/ works too';

    $r = req('GET', "$FS/api/read/files?filename=7000000000000000001.wav");
    is scalar @{ dj($r->{content})->{records} || [] }, 1, 'read record made';
    $r = req('DELETE', "$FS/api/read/remove", '{"filename":"7000000000000000001.wav"}');
    is $r->{status}, 200, 'read/remove 200';
    ok dj($r->{content})->{success}, 'read/remove success';
    $r = req('GET', "$FS/api/read/files?filename=7000000000000000001.wav");
    ok !dj($r->{content})->{records}, 'read record gone';
    $r = req('DELETE', "$FS/api/read/remove", '{"filename":"7000000000000000001.wav"}');
    is $r->{content}, qq({"success":false,"error":"Record not found"}\n),
        'read/remove of no record';

    my $s = emu_stats('fsgo');
    is_deeply $s->{unmarked}, ['7000000000000000001.wav', '7000000000000000001.wav'],
        'read/remove recorded';
    is_deeply $s->{marked}, ['7000000000000000001.wav'], 'marked recorded';
    is_deeply $s->{deleted}, ['7000000000000000001.wav', 'abc.wav'], 'deleted recorded';
    is $s->{requests}{mark}, 3, 'mark requests counted';
    is $s->{requests}{delete}, 3, 'delete requests counted';
};

subtest 'fsgo faults' => sub {
    emu_fault(fsgo => { route => 'query', status => 500, count => 1 });
    my $r = req('POST', "$FS/api/videos/query", '{"filters":{"suffix":".wav"}}');
    is $r->{status}, 500, 'injected 500';
    is $r->{content}, qq({"success":false,"error":"Failed to read directory"}\n), 'Go body';
    is req('POST', "$FS/api/videos/query", '{}')->{status}, 200, 'count 1: next is fine';

    emu_fault(fsgo => { route => 'query', status => 200, body => 'not json', count => 1 });
    $r = req('POST', "$FS/api/videos/query", '{}');
    is $r->{content}, 'not json', 'garbage body';

    emu_fault(fsgo => { route => 'metadata', delay_ms => 300, count => 1 });
    my $t = time;
    $r = req('GET', "$FS/api/metadata/7000000000000000003.wav");
    cmp_ok time - $t, '>=', 0.29, 'delayed';
    is $r->{status}, 200, 'then answered normally';

    emu_fault(fsgo => { route => 'audio', status => 403, match => '7000000000000000003' });
    is req('GET', audio_url('7000000000000000003.wav'))->{status}, 403, 'match hits';
    is req('GET', audio_url('7000000000000000002.wav'))->{status}, 200, 'others unaffected';

    my $s = emu_stats('fsgo');
    is $s->{fault_hits}, 4, 'fault hits counted';

    # a directory that cannot be read
    emu_config(fsgo => { root => "$ENV{TEST_NGINX_EMU_DIR}/does-not-exist" });
    $r = req('POST', "$FS/api/videos/query", '{}');
    is $r->{status}, 500, 'unreadable dir -> 500';
    is dj($r->{content})->{error}, 'Failed to read directory', 'error text';
    emu_config(fsgo => { root => $ENV{TEST_NGINX_EMU_WAV_DIR} });
};

subtest 'fsgo generate and reset' => sub {
    emu_reset();
    is_deeply emu_stats('fsgo')->{marked}, [], 'reset clears marks';
    my $g = emu_generate(5, seconds => 0.1);
    is_deeply $g->{ids}, [ map { "700000000000000000$_" } 1 .. 5 ], 'deterministic ids';
    my $l = dj(req('POST', "$FS/api/videos/query", '{"filters":{"suffix":".wav"}}')->{content});
    is scalar @{ $l->{videos} }, 5, 'listed';
    is $l->{videos}[0]{size}, 44 + 3200, 'valid short WAVs';
    emu_reset();
    $l = dj(req('POST', "$FS/api/videos/query", '{"filters":{"suffix":".wav"}}')->{content});
    ok !exists $l->{videos}, 'emu_reset empties the folder';
};

subtest 'fsgo newer version (api 2)' => sub {
    emu_reset();
    emu_wav('7000000000000000001');
    is emu_config(fsgo => { api => '2' })->{api}, '2', 'switched to api 2';
    my $r = req('POST', "$FS/api/files/query", '{"filters":{"suffix":".wav"}}');
    is $r->{status}, 200, '/api/files/query 200';
    is_deeply dj($r->{content}), { success => JSON::PP::true, videos => [
        { filename => '7000000000000000001.wav', size => 32044,
          url => '/audio/7000000000000000001.wav' } ] },
        'entries without "id"';
    like dj(req('GET', "$FS/")->{content})->{version}, qr/^2\./, 'health says 2.x';
    for my $old (['POST', '/api/videos/query', '{}'],
                 ['GET', '/api/metadata/7000000000000000001.wav'],
                 ['DELETE', '/api/videos/7000000000000000001.wav'],
                 ['DELETE', '/api/file/7000000000000000001.wav'],
                 ['POST', '/api/read/mark', '{"filename":"a.wav"}']) {
        $r = req($old->[0], "$FS$old->[1]", $old->[2]);
        is $r->{status}, 404, "$old->[0] $old->[1]: gone in 2";
        is $r->{content}, "404 page not found\n", '... gorilla/mux\'s 404';
    }
    ok -e "$ENV{TEST_NGINX_EMU_WAV_DIR}/7000000000000000001.wav",
       'nothing deleted by the old route';
    $r = req('DELETE', "$FS/api/files/7000000000000000001.wav");
    is $r->{status}, 200, 'DELETE /api/files/<f> 200';
    is req('DELETE', "$FS/api/files/7000000000000000001.wav")->{status}, 404,
       'again: 404';
    my $s = emu_stats('fsgo');
    is $s->{api}, '2', 'stats name the version';
    is $s->{requests}{query}, 1, 'the new listing counted as query';
    is_deeply $s->{deleted}, ['7000000000000000001.wav'], 'deleted recorded';
    emu_config(fsgo => { api => '1.5' });
    is req('POST', "$FS/api/files/query", '{}')->{status}, 404,
       '1.5 has no /api/files/';
    emu_config(fsgo => { api => '2' });
    emu_reset();
    is emu_stats('fsgo')->{api}, '1.5', 'emu_reset restores the start-up version';
};

# ===========================================================================
# DashScope
# ===========================================================================

subtest 'dashscope request errors' => sub {
    emu_reset();
    emu_wav('7100000000000000001', seconds => 0.2);
    my @u = (audio_url('7100000000000000001.wav'));

    my $r = submit(\@u, headers => { Authorization => 'Bearer wrong' });
    is $r->{status}, 401, 'wrong key 401';
    my $e = dj($r->{content});
    is $e->{code}, 'InvalidApiKey', 'code';
    is $e->{message}, 'Invalid API-key provided.', 'message';
    ok $e->{request_id}, 'request_id';

    $r = req('POST', "$DS/api/v1/services/audio/asr/transcription",
             { model => 'fun-asr', input => { file_urls => \@u } },
             { Authorization => "Bearer $KEY" });
    is $r->{status}, 403, 'no X-DashScope-Async 403';
    is dj($r->{content})->{code}, 'AccessDenied', 'AccessDenied';
    like dj($r->{content})->{message}, qr/synchronous/, 'sync message';

    $r = submit([]);
    is $r->{status}, 400, 'empty file_urls 400';
    is dj($r->{content})->{code}, 'InvalidParameter', 'InvalidParameter';
    $r = req('POST', "$DS/api/v1/services/audio/asr/transcription",
             { model => 'fun-asr', input => {} }, \%DSH);
    is $r->{status}, 400, 'missing file_urls 400';
    $r = req('POST', "$DS/api/v1/services/audio/asr/transcription",
             { input => { file_urls => \@u } }, \%DSH);
    is $r->{status}, 400, 'missing model 400';
    $r = submit(\@u, model => 'whisper-1');
    is $r->{status}, 400, 'unknown model 400';
    is dj($r->{content})->{message}, 'Model not exist.', 'Model not exist.';
    $r = req('POST', "$DS/api/v1/services/audio/asr/transcription", '{oops', \%DSH);
    is $r->{status}, 400, 'bad JSON 400';
    emu_config(dashscope => { max_files => 2 });
    is submit([ (@u) x 3 ])->{status}, 400, 'over max_files 400';
    is submit(\@u, model => 'paraformer-v2')->{status}, 200, 'paraformer accepted';

    my $s = emu_stats('dashscope');
    is $s->{submits}, 9, 'every submit counted';
    is $s->{accepted}, 1, 'one accepted';
    is $s->{rejected}, 8, 'eight rejected';
};

my ($good_tid, $good_q);
subtest 'dashscope happy path' => sub {
    emu_reset();
    emu_config(dashscope => { delay => 0.4 });
    emu_wav('7100000000000000001', seconds => 1.5, tone => 440,
            text => ['Hello world, this is a test.', '这里是第二句。']);
    my $url = audio_url('7100000000000000001.wav');
    my $r = submit([$url]);
    is $r->{status}, 200, 'submit 200';
    my $sub = dj($r->{content});
    like $sub->{request_id}, qr/^[0-9a-f-]{36}\z/, 'request_id uuid';
    like $sub->{output}{task_id}, qr/^[0-9a-f-]{36}\z/, 'task_id uuid';
    is $sub->{output}{task_status}, 'PENDING', 'PENDING';
    my $tid = $good_tid = $sub->{output}{task_id};

    my (undef, $q) = query($tid);
    is $q->{output}{task_status}, 'PENDING', 'query right after: PENDING';
    like $q->{output}{submit_time}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\z/, 'submit_time';
    ok !exists $q->{usage}, 'no usage yet';

    my $seen;
    ($q, $seen) = wait_done($tid);
    is_deeply $seen, [qw(PENDING RUNNING SUCCEEDED)], 'PENDING -> RUNNING -> SUCCEEDED';
    $good_q = $q;
    my $o = $q->{output};
    is $o->{task_status}, 'SUCCEEDED', 'SUCCEEDED';
    ok $o->{scheduled_time} && $o->{end_time}, 'times';
    is_deeply $o->{task_metrics}, { TOTAL => 1, SUCCEEDED => 1, FAILED => 0 }, 'metrics';
    is $q->{usage}{duration}, 2, 'usage.duration = ceil(1.5)';
    is scalar @{ $o->{results} }, 1, 'one result';
    my $res = $o->{results}[0];
    is $res->{file_url}, $url, 'file_url';
    is $res->{subtask_status}, 'SUCCEEDED', 'subtask SUCCEEDED';
    like $res->{transcription_url}, qr{^http://127\.0\.0\.1:\d+/results/\Q$tid\E/0\.json\?Expires=(\d+)&Signature=x\z},
        'transcription_url';
    my ($exp) = $res->{transcription_url} =~ /Expires=(\d+)/;
    cmp_ok abs($exp - (time + 86400)), '<', 5, 'Expires = end + 24 h';

    # a query by POST gives the same
    my (undef, $q2) = query($tid, 'POST');
    is $q2->{output}{task_status}, 'SUCCEEDED', 'POST query';

    $r = req('GET', $res->{transcription_url});   # no Authorization
    is $r->{status}, 200, 'result JSON fetched without auth';
    my $doc = dj($r->{content});
    is $doc->{file_url}, $url, 'doc file_url';
    is_deeply $doc->{properties}, { audio_format => 'pcm_s16le', channels => [0],
        original_sampling_rate => 16000, original_duration_in_milliseconds => 1500 },
        'properties from the WAV header';
    my $tr = $doc->{transcripts}[0];
    is $tr->{channel_id}, 0, 'channel_id 0';
    is $tr->{content_duration_in_milliseconds}, 1500, 'content duration';
    is $tr->{text}, 'Hello world, this is a test.这里是第二句。', 'text from the transcript file';
    my @s = @{ $tr->{sentences} };
    is scalar @s, 2, 'two sentences';
    is_deeply [ map { $_->{sentence_id} } @s ], [1, 2], 'sentence ids from 1';
    is $s[0]{begin_time}, 0, 'first begins at 0';
    is $s[0]{end_time}, $s[1]{begin_time}, 'contiguous';
    is $s[1]{end_time}, 1500, 'last ends at the audio end';
    ok !(grep { $_->{begin_time} =~ /\D/ || $_->{end_time} =~ /\D/ } @s), 'integer ms';
    is $s[1]{text}, '这里是第二句。', 'sentence text';
    is $s[0]{words}[0]{text}, 'Hello ', 'Latin word keeps its space';
    is $s[0]{words}[1]{punctuation}, ', ', 'punctuation';
    is join('', map { $_->{text} } @{ $s[1]{words} }), '这里是第二句', 'CJK words';
    ok !has_key_deep($doc, 'confidence'), 'no confidence anywhere';
    ok !has_key_deep($q, 'confidence'), 'no confidence in the query';

    (my $tampered = $res->{transcription_url}) =~ s/Expires=(\d+)/'Expires=' . ($1 + 1)/e;
    is req('GET', $tampered)->{status}, 403, 'tampered Expires 403';
    is req('GET', "$DS/results/$tid/7.json?Expires=1&Signature=x")->{status}, 404, 'no such result 404';
};

subtest 'dashscope per-file failures' => sub {
    emu_config(dashscope => { delay => 0.2 });
    emu_wav('7100000000000000002', seconds => 0.3);          # no transcript file
    emu_file('7100000000000000003.wav', "this is not a wav file\n");
    emu_wav('7100000000000000004', seconds => 0.3);
    emu_fault(fsgo => { route => 'audio', status => 403, match => '7100000000000000004' });
    my $dead = closed_port();
    my @urls = (audio_url('7100000000000000002.wav'), audio_url('missing.wav'),
                audio_url('7100000000000000003.wav'), audio_url('7100000000000000004.wav'),
                "http://127.0.0.1:$dead/x.wav");
    my $tid = dj(submit(\@urls)->{content})->{output}{task_id};
    my ($q) = wait_done($tid);
    my $o = $q->{output};
    is $o->{task_status}, 'SUCCEEDED', 'batch with one good file SUCCEEDED';
    is_deeply $o->{task_metrics}, { TOTAL => 5, SUCCEEDED => 1, FAILED => 4 }, 'metrics';
    is_deeply [ map { $_->{subtask_status} } @{ $o->{results} } ],
        [qw(SUCCEEDED FAILED FAILED FAILED FAILED)], 'subtask statuses';
    is_deeply [ map { $_->{code} } @{ $o->{results} }[1 .. 4] ],
        [qw(FILE_404_NOT_FOUND FILE_CHECK_FAILED FILE_403_FORBIDDEN InvalidFile.DownloadFailed)],
        'per-file codes';
    is $o->{results}[4]{message}, 'The audio file cannot be downloaded.', 'download message';
    ok !exists $o->{results}[1]{transcription_url}, 'no transcription_url on failure';
    is $q->{usage}{duration}, 1, 'usage counts only good files';
    my $doc = dj(req('GET', $o->{results}[0]{transcription_url})->{content});
    is $doc->{transcripts}[0]{text}, 'transcript of 7100000000000000002.wav', 'default text';
    is $doc->{transcripts}[0]{sentences}[0]{end_time}, 300, 'spans the audio';

    $tid = dj(submit([ audio_url('gone1.wav'), audio_url('gone2.wav') ])->{content})
        ->{output}{task_id};
    ($q) = wait_done($tid);
    $o = $q->{output};
    is $o->{task_status}, 'FAILED', 'all files failed -> FAILED';
    is $o->{code}, 'FILE_404_NOT_FOUND', 'output.code of the first failure';
    ok length $o->{message}, 'output.message';
    is scalar @{ $o->{results} }, 2, 'results kept';
    is_deeply $o->{task_metrics}, { TOTAL => 2, SUCCEEDED => 0, FAILED => 2 }, 'metrics';
    ok !exists $q->{usage}, 'no usage on FAILED';

    emu_fault(dashscope => { route => 'task', code => 'InternalError.Timeout', count => 1 });
    $tid = dj(submit([ audio_url('7100000000000000002.wav') ])->{content})->{output}{task_id};
    ($q) = wait_done($tid);
    is $q->{output}{task_status}, 'FAILED', 'task-level fault FAILED';
    is $q->{output}{code}, 'InternalError.Timeout', 'task-level code';
    ok !exists $q->{output}{results}, 'no results';

    emu_fault(dashscope => { route => 'file', code => 'SUCCESS_WITH_NO_VALID_FRAGMENT',
                             match => '7100000000000000002', count => 1 });
    $tid = dj(submit([ audio_url('7100000000000000002.wav') ])->{content})->{output}{task_id};
    ($q) = wait_done($tid);
    is $q->{output}{results}[0]{code}, 'SUCCESS_WITH_NO_VALID_FRAGMENT', 'file-level fault';

    # silence: a WAV of zeros is a file without speech, in either shape
    emu_wav('7100000000000000005', seconds => 0.5);
    emu_wav('7100000000000000006', seconds => 0.5, tone => 440);
    for my $shape ('result', 'code') {
        emu_config(dashscope => { silence => $shape });
        $tid = dj(submit([ audio_url('7100000000000000005.wav'),
                           audio_url('7100000000000000006.wav') ])->{content})
            ->{output}{task_id};
        ($q) = wait_done($tid);
        my ($silent, $tone) = @{ $q->{output}{results} };
        is $silent->{subtask_status}, $shape eq 'result' ? 'SUCCEEDED' : 'FAILED',
            "silence $shape: subtask status";
        is $silent->{code}, $shape eq 'result' ? undef : 'SUCCESS_WITH_NO_VALID_FRAGMENT',
            "silence $shape: code";
        $doc = dj(req('GET', $silent->{transcription_url})->{content});
        is $doc->{properties}{original_duration_in_milliseconds}, 500,
            "silence $shape: properties give the real length";
        is_deeply $doc->{transcripts}[0]{sentences}, [], "silence $shape: no sentence";
        is $tone->{subtask_status}, 'SUCCEEDED', "silence $shape: a tone is speech";
    }
    emu_config(dashscope => { silence => undef });
};

subtest 'dashscope unknown, cancel, list' => sub {
    my ($r, $q) = query('00000000-1111-2222-3333-444444444444');
    is $r->{status}, 200, 'unknown id 200';
    is_deeply $q->{output}, { task_id => '00000000-1111-2222-3333-444444444444',
                              task_status => 'UNKNOWN' }, 'UNKNOWN shape';

    emu_config(dashscope => { delay => 5 });
    my $tid = dj(submit([ audio_url('7100000000000000002.wav') ])->{content})->{output}{task_id};
    $r = req('POST', "$DS/api/v1/tasks/$tid/cancel", '', { Authorization => "Bearer $KEY" });
    is $r->{status}, 200, 'cancel PENDING 200';
    (undef, $q) = query($tid);
    is $q->{output}{task_status}, 'CANCELED', 'CANCELED';
    $r = req('POST', "$DS/api/v1/tasks/$tid/cancel", '', { Authorization => "Bearer $KEY" });
    is $r->{status}, 400, 'cancel again 400';
    is dj($r->{content})->{code}, 'UnsupportedOperation', 'UnsupportedOperation';
    $r = req('POST', "$DS/api/v1/tasks/$good_tid/cancel", '', { Authorization => "Bearer $KEY" });
    is $r->{status}, 400, 'cancel SUCCEEDED task 400';
    emu_config(dashscope => { delay => 0.2 });

    $r = req('GET', "$DS/api/v1/tasks?page_no=1&page_size=2&model_name=fun-asr", undef,
             { Authorization => "Bearer $KEY" });
    is $r->{status}, 200, 'list 200';
    my $l = dj($r->{content});
    my $n = scalar keys %{ emu_stats('dashscope')->{tasks} };
    is $l->{total}, $n, 'total';
    is $l->{total_page}, int(($n + 1) / 2), 'total_page';
    is scalar @{ $l->{data} }, 2, 'page size';
    is $l->{data}[0]{task_id}, $tid, 'newest first';
    is $l->{data}[0]{status}, 'CANCELED', 'status';
    like $l->{data}[0]{gmt_create}, qr/^\d{13}\z/, 'epoch ms';
    $l = dj(req('GET', "$DS/api/v1/tasks?status=SUCCEEDED&page_size=100", undef,
                { Authorization => "Bearer $KEY" })->{content});
    ok !(grep { $_->{status} ne 'SUCCEEDED' } @{ $l->{data} }), 'status filter';
    ok $l->{total} >= 2, 'succeeded tasks listed';
};

subtest 'dashscope throttling, faults, stats' => sub {
    emu_reset();
    emu_wav('7200000000000000001', seconds => 0.2);
    my $url = audio_url('7200000000000000001.wav');

    emu_fault(dashscope => { route => 'submit', status => 429, count => 1 });
    my $r = submit([$url]);
    is $r->{status}, 429, 'injected 429';
    is dj($r->{content})->{code}, 'Throttling.RateQuota', 'default 429 code';
    $r = submit([$url]);
    is $r->{status}, 200, 'then success';
    my $tid = dj($r->{content})->{output}{task_id};

    emu_fault(dashscope => { route => 'query', status => 500, count => 1 });
    my ($qr, $q) = query($tid);
    is $qr->{status}, 500, 'injected query 500';
    is $q->{code}, 'InternalError', 'InternalError';
    emu_fault(dashscope => { route => 'query', status => 503, code => 'ModelServingError', count => 1 });
    ($qr, $q) = query($tid);
    is $qr->{status}, 503, 'injected query 503';
    is $q->{code}, 'ModelServingError', 'given code';
    emu_fault(dashscope => { route => 'query', body => 'raw garbage', count => 1 });
    ($qr) = query($tid);
    is $qr->{content}, 'raw garbage', 'raw body';
    ($q) = wait_done($tid);
    is $q->{output}{task_status}, 'SUCCEEDED', 'task unaffected';

    # "process": the task is created although the client sees an error
    emu_fault(dashscope => { route => 'submit', status => 504, process => 1, count => 1 });
    is submit([$url])->{status}, 504, 'submit answered 504';

    emu_config(dashscope => { submit_rps => 3 });
    my @st = map { submit([$url])->{status} } 1 .. 5;
    is scalar(grep { $_ == 200 } @st), 3, '3 of 5 admitted at 3/s';
    is scalar(grep { $_ == 429 } @st), 2, 'the rest throttled';
    emu_config(dashscope => { submit_rps => 0 });

    my $s = emu_stats('dashscope');
    is $s->{submits}, 8, 'submits';
    is $s->{accepted}, 5, 'accepted (incl. the processed 504)';
    is $s->{throttled}, 3, 'throttled (1 injected + 2 limited)';
    is $s->{submits_per_file}{$url}, 5, 'submits_per_file';
    is_deeply $s->{files_per_submit}, [1, 1, 1, 1, 1], 'files_per_submit';
    is scalar @{ $s->{submit_times} }, 8, 'submit_times';
    is scalar @{ $s->{query_times} }, $s->{queries}, 'query_times';
    is $s->{tasks}{$tid}, 'SUCCEEDED', 'tasks map';
    cmp_ok $s->{file_fetches}{$url}, '>=', 1, 'file fetches recorded';
    cmp_ok emu_max_rate('submit', 1.0), '>=', 5, 'max_rate sees the burst';
    is emu_max_rate('submit', 0.000001), 1, 'tiny window';
    is $s->{last_submit}{body}{model}, 'fun-asr', 'last submit body recorded';
    ok !exists $s->{last_submit}{headers}{Authorization}, 'key not recorded';

    emu_reset();
    $s = emu_stats('dashscope');
    is $s->{submits}, 0, 'reset clears counters';
    is_deeply $s->{tasks}, {}, 'reset clears tasks';
    (undef, $q) = query($tid);
    is $q->{output}{task_status}, 'UNKNOWN', 'old task UNKNOWN after reset';
    is emu_config('dashscope')->{delay}, 0.2, 'reset restores start-up delay';
};

subtest 'dashscope result expiry' => sub {
    emu_wav('7300000000000000001', seconds => 0.1);
    emu_config(dashscope => { delay => 0.1, result_ttl => 0 });
    my $tid = dj(submit([ audio_url('7300000000000000001.wav') ])->{content})->{output}{task_id};
    my ($q) = wait_done($tid);
    my $u = $q->{output}{results}[0]{transcription_url};
    my ($exp) = $u =~ /Expires=(\d+)/;
    sleep 0.05 while time <= $exp + 0.01;
    my $r = req('GET', $u);
    is $r->{status}, 403, 'expired link 403';
    like $r->{content}, qr/expired/, 'OSS-style error';
};

cmp_ok time - $t0, '<', 20, 'whole file under 20 s';

done_testing;

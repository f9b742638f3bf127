# A worker that shuts down hands its work over: a caller waiting on
# POST /api/process is answered at once, and the new workers finish the
# videos from their stored task ids, with one submit each.
use t::Douyin;
use t::Plan;
use Test::Nginx::Socket;

master_on();
workers(2);
repeat_each(1);
no_root_location();

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: a reload while POST /api/process waits: the answer says what was handed over
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 2.5 });
t::Emu::emu_wavs('501', '502', '503');
# nginx -s reload, one second into the request
my $master = t::Douyin::douyin_master_pid();
if (fork() == 0) { sleep 1; kill 'HUP', $master; POSIX::_exit(0); }
--- request
POST /api/process
--- response_body_like: ^\{"success":true,"message":"Processed 0 of 3 videos: 0 completed, 0 failed; nginx is reloading or stopping, 3 go on in the next worker processes\.","data":\{"total":3,"processed":0,"success":0,"failed":0,"ignored":0\}\}$
--- timeout: 10



=== TEST 2: after that reload the new workers complete them, each submitted once
--- config
    $TEST_NGINX_DOUYIN_LOCATIONS
--- init
t::Emu::emu_config('dashscope', { delay => 2.5 });
t::Emu::emu_wavs('501', '502', '503');
my $master = t::Douyin::douyin_master_pid();
if (fork() == 0) { sleep 1; kill 'HUP', $master; POSIX::_exit(0); }
my ($st, $json) = t::Douyin::douyin_post('/api/process');
die "POST /api/process answered $st\n" unless $st == 200;
t::Douyin::douyin_wait(['501', '502', '503'], timeout => 20);
--- request eval
[ "GET /api/videos/502/result", "GET /emu/dashscope/stats" ]
--- response_body_like eval
[ qr/"status":"completed"/,
  qr/"accepted":3,.*"submits_per_file":\{"[^"]+50[123]\.wav":1,"[^"]+50[123]\.wav":1,"[^"]+50[123]\.wav":1\}/ ]
--- timeout: 25

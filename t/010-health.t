# GET /health: the douyin_health handler (api.md "Routes kept").
use t::Plan;
use Test::Nginx::Socket;

repeat_each(2);
master_on();
workers(2);

plan tests => repeat_each() * t::Plan::checks(blocks());

run_tests();

__DATA__

=== TEST 1: GET /health answers the health JSON with 2 workers, no alert
--- config
    location = /health { douyin_health; }
--- request
GET /health
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"status":"healthy","version":"0.1.0","processor_ready":true}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: HEAD /health gives the headers and no body
--- config
    location = /health { douyin_health; }
--- request
HEAD /health
--- response_headers
Content-Type: application/json; charset=utf-8
Content-Length: 61
--- response_body chomp
--- no_error_log
[error]



=== TEST 3: POST /health is 405 with Allow and the JSON error
--- config
    location = /health { douyin_health; }
--- request
POST /health
{"x":1}
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"success":false,"error":"METHOD_NOT_ALLOWED","detail":"This method is not allowed here."}
--- no_error_log
[alert]



=== TEST 4: DELETE /health is 405 too
--- config
    location = /health { douyin_health; }
--- request
DELETE /health
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body_like: "error":"METHOD_NOT_ALLOWED"
--- no_error_log
[alert]



=== TEST 5: the same handler mounted under the gateway prefix
--- config
    location = /api/douyin/health { douyin_health; }
--- request
GET /api/douyin/health
--- response_body_like: ^\{"status":"healthy","version":"\d+\.\d+\.\d+","processor_ready":true\}$
--- no_error_log
[error]



=== TEST 6: a route without a handler is not answered by the module
--- config
    location = /health { douyin_health; }
--- request
GET /nothing-here
--- error_code: 404
--- no_error_log
[alert]

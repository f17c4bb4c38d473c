#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# A fleet on loopback: several daemons (the real control server and
# /metrics over a fake kernel: control/testing/fake_daemon), daedalusctl
# fanning out over all of them with one endpoint down, TLS and mutual TLS
# with the Diagnostics policy, and a real Prometheus server scraping the
# fleet, queried through its HTTP API: the series' names, types and
# labels, every query of the Grafana dashboard in docs/, and the alerting
# rules of docs/ evaluated on the fleet's series.
set -uo pipefail
# Under `bazel test --config=aarch64` the programs are aarch64: run them
# through the emulator bazel/run_under_emulator.sh names.
emu=${DDV_EMULATOR:-}
fake=$1 ctl=$2 pki_script=$3 dashboard=$4 alerts=$5
# /tmp, not $TEST_TMPDIR: socket paths must stay under 108 bytes.
dir=$(mktemp -d /tmp/ddv-fleet-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fails=0
check() {  # check DESC CMD...
	local desc=$1
	shift
	if "$@"; then echo "ok   $desc"; else echo "FAIL $desc"; fails=$((fails + 1)); fi
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# start_daemon NAME ARGS...: runs fake_daemon, waits for "ready", sets
# grpc_port and metrics_port.
start_daemon() {
	local name=$1
	shift
	$emu "$fake" --socket "$dir/$name.sock" --listen 127.0.0.1:0 "$@" >"$dir/$name.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do grep -q '^ready' "$dir/$name.out" && break; sleep 0.1; done
	grpc_port=$(sed -n 's/^ready grpc=\([0-9]*\) metrics=.*/\1/p' "$dir/$name.out")
	metrics_port=$(sed -n 's/^ready grpc=[0-9]* metrics=\([0-9]*\)/\1/p' "$dir/$name.out")
	[ -n "$grpc_port" ] || { echo "FAIL $name did not start:"; cat "$dir/$name.out"; exit 1; }
}

# --- the fleet: three live boards, one dead --------------------------------
endpoints=() scrape=()
for b in a b c; do
	start_daemon "$b" --insecure-loopback
	endpoints+=("127.0.0.1:$grpc_port")
	scrape+=("127.0.0.1:$metrics_port")
done
start_daemon dead --insecure-loopback
dead="127.0.0.1:$grpc_port"
scrape+=("127.0.0.1:$metrics_port")
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null
list="${endpoints[0]},${endpoints[1]},$dead,${endpoints[2]}"

$emu "$ctl" --insecure --dial-timeout 1 --endpoints "$list" -o json status >"$dir/status.json" 2>"$dir/status.err"
rc=$?
check "fleet status with one board down exits 3" test "$rc" -eq 3
python3 - "$dir/status.json" "$list" >"$dir/json.check" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["endpoints"]
want = sys.argv[2].split(",")
assert [r["endpoint"] for r in rows] == want, rows
assert [r["ok"] for r in rows] == [True, True, False, True], rows
assert [r["exit_code"] for r in rows] == [0, 0, 3, 0], rows
assert "cannot reach daedalusd" in rows[2]["error"], rows[2]
assert "result" not in rows[2]
for r in (rows[0], rows[1], rows[3]):
    res = r["result"]
    assert res["daemon_version"] == "0.0.0-fake", res
    assert res["kernel"]["state"] == "UP", res
    assert res["capabilities"]["codecs"] == ["H264", "VP9"], res
print("json rows as expected")
PY
check "status -o json: one row per endpoint, in order, the dead one failed" \
	grep -q 'json rows as expected' "$dir/json.check" || cat "$dir/json.check"
check "stderr stays empty in json mode" test ! -s "$dir/status.err"

$emu "$ctl" --insecure --dial-timeout 1 --endpoints "$list" status >"$dir/status.txt" 2>"$dir/status.err"
check "fleet status table exits 3" test $? -eq 3
check "table: header and 4 rows" test "$(wc -l <"$dir/status.txt")" -eq 5
check "table: the dead row says so" grep -q "^$dead  *ERROR: cannot reach daedalusd" "$dir/status.txt"
check "table: live rows are up" test "$(grep -c ' up ' "$dir/status.txt")" -eq 3
check "stderr names the dead endpoint" grep -q "daedalusctl: $dead: cannot reach" "$dir/status.err"

DAEDALUS_ENDPOINTS="${endpoints[0]},${endpoints[1]}" DAEDALUS_INSECURE=1 $emu "$ctl" -o json stats \
	>"$dir/stats.json" 2>&1
check "endpoints and flags from the environment; stats exits 0" test $? -eq 0
check "stats json carries frames_out" test "$(grep -o '"frames_out":"9"' "$dir/stats.json" | wc -l)" -ge 2
$emu "$ctl" --insecure --endpoints "$list" --dial-timeout 1 ping -c 2 -i 0 >"$dir/ping.txt" 2>&1
check "fleet ping exits 3 (one board down)" test $? -eq 3
check "fleet ping: a row per live board with 2/2 replies" \
	test "$(grep -cE '^127\.0\.0\.1:[0-9]+ +2 +2 +0%' "$dir/ping.txt")" -eq 3
$emu "$ctl" --insecure --endpoints "${endpoints[0]}" watch -i 0.2 -c 2 >"$dir/watch.txt" 2>&1
check "watch -c 2 prints header and 2 lines" test "$(wc -l <"$dir/watch.txt")" -eq 3

# --- TLS and mutual TLS -----------------------------------------------------
bash "$pki_script" "$dir/pki" >/dev/null
p=$dir/pki
start_daemon secure --tls-cert "$p/server.pem" --tls-key "$p/server-key.pem" \
	--tls-client-ca "$p/ca.pem" --diagnostics-cn operator
secure="127.0.0.1:$grpc_port"
$emu "$ctl" --endpoints "$secure" --tls-ca "$p/ca.pem" --dial-timeout 2 status >"$dir/nocert" 2>&1
check "mTLS: a client without a certificate is refused (exit 3)" test $? -eq 3
check "mTLS: the refusal hints at the TLS options" grep -q 'TLS: check --tls-ca' "$dir/nocert"
$emu "$ctl" --endpoints "$secure" --tls-ca "$p/ca.pem" --tls-cert "$p/rogue.pem" \
	--tls-key "$p/rogue-key.pem" --dial-timeout 2 status >/dev/null 2>&1
check "mTLS: a certificate from an untrusted CA is refused" test $? -eq 3
$emu "$ctl" --endpoints "$secure" --tls-ca "$p/ca.pem" --tls-cert "$p/viewer.pem" \
	--tls-key "$p/viewer-key.pem" status >"$dir/viewer" 2>&1
check "mTLS: a trusted certificate is served" test $? -eq 0
check "mTLS: status over TLS shows the daemon" grep -q 'daedalusd 0.0.0-fake' "$dir/viewer"
$emu "$ctl" --endpoints "$secure" --tls-ca "$p/ca.pem" --tls-cert "$p/viewer.pem" \
	--tls-key "$p/viewer-key.pem" ping -c 1 >"$dir/viewer-ping" 2>&1
check "Diagnostics policy: viewer may not ping (exit 6)" test $? -eq 6
check "Diagnostics policy: the error says why" grep -q 'limited to client certificates named operator' "$dir/viewer-ping"
DAEDALUS_TLS_CA=$p/ca.pem DAEDALUS_TLS_CERT=$p/operator.pem DAEDALUS_TLS_KEY=$p/operator-key.pem \
	$emu "$ctl" --endpoints "$secure" ping -c 1 >"$dir/operator-ping" 2>&1
check "Diagnostics policy: operator may ping (TLS options from the environment)" test $? -eq 0
$emu "$ctl" --endpoints "$secure" --insecure --dial-timeout 1 status >/dev/null 2>&1
check "plaintext client cannot talk to the TLS port" test $? -eq 3

# --- a real Prometheus scrapes the fleet ----------------------------------
prom_port=$(free_port)
targets=$(printf "'%s'," "${scrape[@]}")
cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $(readlink -f "$alerts")
scrape_configs:
  - job_name: daedalus
    scrape_timeout: 900ms
    static_configs:
      - targets: [${targets%,}]
YML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)
query() {  # query PROMQL: prints the JSON answer
	curl -s --max-time 5 --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"
}
count_results() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["data"]["result"]) if d.get("status")=="success" else -1)'; }
ready=no
for _ in $(seq 120); do
	if [ "$(query 'up' 2>/dev/null | count_results 2>/dev/null)" = 4 ] &&
		[ "$(query 'daedalus_build_info' 2>/dev/null | count_results 2>/dev/null)" = 3 ]; then
		ready=yes
		break
	fi
	sleep 0.5
done
check "Prometheus scraped all four targets" test "$ready" = yes || tail -20 "$dir/prometheus.log"
check "up: 3 boards up" test "$(query 'up == 1' | count_results)" -eq 3
check "up: the dead board is down" test "$(query 'up == 0' | count_results)" -eq 1
check "daedalus_build_info has the version label" \
	test "$(query 'daedalus_build_info{version="0.0.0-fake"} == 1' | count_results)" -eq 3
check "daedalus_frames_out_total is 9 for h264 on each board" \
	test "$(query 'daedalus_frames_out_total{codec="h264"} == 9' | count_results)" -eq 3
check "daedalus_frames_out_total exists for vp9 at 0 (every announced codec)" \
	test "$(query 'daedalus_frames_out_total{codec="vp9"} == 0' | count_results)" -eq 3
check "decode errors by codec and reason" \
	test "$(query 'daedalus_decode_errors_total{codec="h264",reason="corrupt_bitstream"} == 1' | count_results)" -eq 3
# The fleet-metrics series: their values on each of the three boards.
while read -r promql; do
	check "$promql on each board" test "$(query "$promql" | count_results)" -eq 3
done <<'EOF'
daedalus_decode_busy_seconds_total{codec="h264"} == 2.5
daedalus_decode_busy_seconds_total{codec="vp9"} == 0
daedalus_sessions{codec="h264"} == 1
daedalus_sessions{codec="vp9"} == 0
daedalus_sessions_opened_total{codec="h264"} == 2
daedalus_sessions_closed_total{codec="h264"} == 1
daedalus_frames_dropped_total{codec="h264",reason="flushed"} == 3
daedalus_frames_dropped_total{codec="h264",reason="client_gone"} == 0
daedalus_kernel_jobs_timed_out_total == 1
daedalus_kernel_streams_failed_total == 1
daedalus_kernel_streams_resumed_total == 1
daedalus_frames_dropped_total{codec="h264",reason="resumed"} == 0
daedalus_kernel_daemon_attaches_total == 2
daedalus_decode_parallelism == 1
daedalus_device_cpus == 4
daedalus_device_info{board="Fake Board Rev 1.0",kernel="6.12.0-fake",module_version="0.1.0",protocol="1",ffmpeg="Lavc-fake"} == 1
EOF
# Their types, as Prometheus read them from the exposition.
types_ok() {
	curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/metadata" | python3 -c '
import json, sys
meta = json.load(sys.stdin)["data"]
want = {
    "daedalus_decode_busy_seconds_total": "counter",
    "daedalus_sessions": "gauge",
    "daedalus_sessions_opened_total": "counter",
    "daedalus_sessions_closed_total": "counter",
    "daedalus_frames_dropped_total": "counter",
    "daedalus_frames_out_total": "counter",
    "daedalus_decode_errors_total": "counter",
    "daedalus_kernel_jobs_timed_out_total": "counter",
    "daedalus_kernel_streams_failed_total": "counter",
    "daedalus_kernel_streams_resumed_total": "counter",
    "daedalus_kernel_daemon_attaches_total": "counter",
    "daedalus_device_info": "gauge",
    "daedalus_device_cpus": "gauge",
    "daedalus_decode_parallelism": "gauge",
}
bad = {n: meta.get(n, [{}])[0].get("type") for n, t in want.items()
       if meta.get(n, [{}])[0].get("type") != t}
print("     types: " + (f"wrong {bad}" if bad else f"{len(want)} as expected"))
sys.exit(1 if bad else 0)'
}
check "the new series have their types (counter/gauge)" types_ok
# Bounded cardinality: no label beyond these on any daedalus_ series (no
# per-stream or per-context label).
labels_ok() {
	curl -s --max-time 5 --get "http://127.0.0.1:$prom_port/api/v1/labels" \
		--data-urlencode 'match[]={__name__=~"daedalus_.*"}' | python3 -c '
import json, sys
names = set(json.load(sys.stdin)["data"])
allowed = {"__name__", "instance", "job", "codec", "reason", "kind", "direction", "queue",
           "mode", "le", "version", "ffmpeg_version", "board", "kernel", "module_version",
           "protocol", "ffmpeg"}
print("     labels:", " ".join(sorted(names)))
sys.exit(0 if names <= allowed and "codec" in names else 1)'
}
check "daedalus_ series carry only bounded labels (codec, reason, ...)" labels_ok
check "latency histogram buckets exist from the start" \
	test "$(query 'daedalus_job_latency_seconds_bucket{le="+Inf"}' | count_results)" -eq 3
check "no series carries a host label" test "$(query '{__name__=~"daedalus_.*", host!=""}' | count_results)" -eq 0

# Every query of the Grafana dashboard runs (with its variables filled in).
python3 - "$dashboard" >"$dir/exprs" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["panels"]:
    for t in p["targets"]:
        print(t["expr"].replace("$job", ".*").replace("$instance", ".*"))
PY
bad=0 n=0
while IFS= read -r expr; do
	n=$((n + 1))
	status=$(query "$expr" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status"))')
	[ "$status" = success ] || { echo "     dashboard query failed: $expr"; bad=$((bad + 1)); }
done <"$dir/exprs"
check "all $n Grafana dashboard queries are valid PromQL over the fleet's series" test "$bad" -eq 0
dashboard_uses() {  # every new family has a panel
	local name
	for name in daedalus_decode_busy_seconds_total daedalus_sessions daedalus_frames_dropped_total \
		daedalus_kernel_jobs_timed_out_total daedalus_device_info; do
		grep -q "$name" "$dashboard" || { echo "     no panel for $name"; return 1; }
	done
}
check "the dashboard has panels for utilisation, sessions, drops, kernel failures, devices" dashboard_uses

# The alerting rules, loaded by the real Prometheus, evaluate without error
# on the fleet's series; the dead board's DaedalusDaemonDown is pending
# (its `for` is 2 minutes).
rules_ok() {
	local i
	for i in $(seq 40); do
		curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/rules" | python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = [r["name"] for r in rules if r.get("health") != "ok"]
print(f"     rules: {len(rules)} loaded, not ok: {bad}")
sys.exit(0 if len(rules) >= 8 and not bad else 1)' >"$dir/rules.txt" && return 0
		sleep 0.5
	done
	cat "$dir/rules.txt"
	return 1
}
check "the alerting rules load and evaluate healthy on the fleet's series" rules_ok
check "DaedalusDaemonDown is pending for the dead board" \
	test "$(query 'ALERTS{alertname="DaedalusDaemonDown",alertstate="pending",instance="'"${scrape[3]}"'"}' | count_results)" -eq 1

echo "fleet test: $fails failed"
[ "$fails" -eq 0 ]

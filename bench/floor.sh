#!/usr/bin/env bash
# The HTTP engine's floor on this machine (issue 11): could a different
# engine on the data path (github.com/valyala/fasthttp) reach nginx where
# Go's net/http cannot? Measures, alternating targets, ROUNDS times, req/s
# and the server's CPU µs per request (user+system ticks of its processes
# from /proc/PID/stat ÷ requests) for
#
#   refusals:     nginx limit_req, wootguard flood (RACK_ATTACK_LIMIT=1), a
#                 bare net/http 429 and a bare fasthttp 429 (bench/floor);
#   pass-through: nginx proxy, wootguard pass, a bare httputil.ReverseProxy
#                 (bench/upstream -proxy), a bare fasthttp proxy
#                 (bench/floor), and the upstream directly.
#
# Setup as bench/run: the stand-in Chatwoot (bench/upstream), nginx with
# limit_req zones (worker_processes auto, upstream keepalive 64), wootguard
# serve with the Chatwoot preset and default features on, memory store;
# wrk -t1 -c64 with X-Forwarded-For: 203.0.113.7; everything on 127.0.0.1,
# stopped and removed on exit. Prints a Markdown report (OUT=file also
# writes it there); writes nothing else.
#
#   flock /tmp/wg-bench.lock bench/floor.sh                 # ~4 minutes
#   ROUNDS=1 DURATION=2s flock /tmp/wg-bench.lock bench/floor.sh
set -euo pipefail

DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1}
CONNS=${CONNS:-64}
PORT_BASE=${PORT_BASE:-19180}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQ_PATH=/api/v1/accounts/1/conversations?page=1
CLIENT=203.0.113.7

TMP=$(mktemp -d /tmp/wootguard-floor.XXXXXX)
PIDS=()
cleanup() {
	local rc=$?
	set +e
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ "${KEEP:-0}" = 1 ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/floor.sh: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
command -v go >/dev/null || die "Go is needed to build wootguard and bench/floor"
. "$ROOT/bench/lib.sh"
install_missing wrk:wrk nginx:nginx-light curl:curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "building ..." >&2
(cd "$ROOT" && go build -o "$TMP/wootguard" ./cmd/wootguard && go build -o "$TMP/upstream" ./bench/upstream)
(cd "$ROOT/bench/floor" && go build -o "$TMP/floor" .) # its own module: wootguard does not depend on fasthttp

port() { echo $((PORT_BASE + $1)); }
P_UP=$(port 1) P_NX=$(port 2) P_NXF=$(port 3) P_WG=$(port 4) P_WGF=$(port 5) P_GP=$(port 6)
P_N429=$(port 7) P_F429=$(port 8) P_FP=$(port 9)
for p in $P_UP $P_NX $P_NXF $P_WG $P_WGF $P_GP $P_N429 $P_F429 $P_FP $(port 21) $(port 22); do
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && die "127.0.0.1:$p is in use: set PORT_BASE"
done

# --- nginx (bench/run's config, without the sign-in location) -------------------
mkdir -p "$TMP/nx"
cat >"$TMP/nx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $TMP/nx/pid;
error_log $TMP/nx/error.log; # default level: one line per limit_req refusal, as nginx ships
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nx/body; proxy_temp_path $TMP/nx/proxy;
    fastcgi_temp_path $TMP/nx/fcgi; uwsgi_temp_path $TMP/nx/uwsgi; scgi_temp_path $TMP/nx/scgi;
    limit_req_zone \$http_x_forwarded_for zone=req_ip:20m rate=100000r/s;
    limit_req_zone \$http_x_forwarded_for zone=flood_ip:20m rate=1r/m;
    limit_req_status 429;
    upstream chatwoot { server 127.0.0.1:$P_UP; keepalive 64; }
    map \$http_x_forwarded_for \$client { default \$http_x_forwarded_for; }
    server {
        listen 127.0.0.1:$P_NX;
        location / {
            limit_req zone=req_ip burst=100000 nodelay;
            proxy_pass http://chatwoot; proxy_http_version 1.1; proxy_set_header Connection "";
            proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$client;
        }
    }
    server {
        listen 127.0.0.1:$P_NXF;
        location / {
            limit_req zone=flood_ip;
            proxy_pass http://chatwoot; proxy_http_version 1.1; proxy_set_header Connection "";
        }
    }
}
EOF

# --- wootguard (bench/run's configs: preset, default features, memory store) ----
admin_port=$(port 20)
: >"$TMP/features.txt"
wg_config() { # name port rack_attack_limit
	printf 'RACK_ATTACK_LIMIT=%s\n' "$3" >"$TMP/$1.env"
	cat >"$TMP/$1.yaml" <<EOF
listen: 127.0.0.1:$2
upstream: http://127.0.0.1:$P_UP
preset: chatwoot
chatwoot_env_file: $1.env
client_ip: {trusted_proxies: [127.0.0.1]}
store: {kind: memory}
EOF
	admin_port=$((admin_port + 1))
	printf 'admin: {listen: "127.0.0.1:%s", token: bench-admin-token}\n' "$admin_port" >"$TMP/$1.admin"
	cat "$TMP/$1.yaml" "$TMP/$1.admin" >"$TMP/$1.try.yaml"
	if "$TMP/wootguard" check-config "$TMP/$1.try.yaml" >/dev/null 2>&1; then
		mv "$TMP/$1.try.yaml" "$TMP/$1.yaml"
		echo "wootguard $1: admin listener (metrics) on" >>"$TMP/features.txt"
	else
		echo "wootguard $1: this build has no admin listener: metrics off" >>"$TMP/features.txt"
	fi
}
wg_config pass "$P_WG" 1000000000
wg_config flood "$P_WGF" 1

# --- start -----------------------------------------------------------------------
declare -A TPID # target -> the process whose CPU time its requests cost (nginx: with its workers)
start() { # target command...
	local t=$1
	shift
	"$@" >"$TMP/$t.log" 2>&1 &
	PIDS+=($!)
	TPID[$t]=$!
}
start direct "$TMP/upstream" -listen "127.0.0.1:$P_UP"
start go-proxy "$TMP/upstream" -listen "127.0.0.1:$P_GP" -proxy "http://127.0.0.1:$P_UP"
start fasthttp-proxy "$TMP/floor" -mode fasthttp-proxy -listen "127.0.0.1:$P_FP" -upstream "127.0.0.1:$P_UP"
start nethttp-429 "$TMP/floor" -mode nethttp-429 -listen "127.0.0.1:$P_N429"
start fasthttp-429 "$TMP/floor" -mode fasthttp-429 -listen "127.0.0.1:$P_F429"
start nginx "$NGINX" -e "$TMP/nx/error.log" -p "$TMP/nx" -c "$TMP/nx/nginx.conf"
TPID[nginx-429]=${TPID[nginx]}
for n in pass flood; do
	start "wootguard-$n" env -u RACK_ATTACK_LIMIT -u ENABLE_RACK_ATTACK -u RACK_ATTACK_ALLOWED_IPS \
		"$TMP/wootguard" serve --config "$TMP/$n.yaml"
done

declare -A URL=(
	[direct]=$P_UP [go-proxy]=$P_GP [fasthttp-proxy]=$P_FP [nginx]=$P_NX [wootguard-pass]=$P_WG
	[nginx-429]=$P_NXF [wootguard-flood]=$P_WGF [nethttp-429]=$P_N429 [fasthttp-429]=$P_F429
)
for t in "${!URL[@]}"; do URL[$t]="http://127.0.0.1:${URL[$t]}$REQ_PATH"; done
REFUSE=(nginx-429 wootguard-flood nethttp-429 fasthttp-429)
PASS=(nginx wootguard-pass go-proxy fasthttp-proxy direct)

# --- checks: each target answers as it should ----------------------------------------
get() { curl -s -o "${2:-/dev/null}" -w '%{http_code} %{size_download}' -H "X-Forwarded-For: $CLIENT" "$1" || true; }
for t in "${PASS[@]}" "${REFUSE[@]}"; do
	for _ in $(seq 50); do
		[ "$(get "${URL[$t]}" | cut -d' ' -f1)" = 000 ] || continue 2
		sleep 0.1
	done
	tail -n 20 "$TMP"/*.log >&2 || true
	die "$t: nothing answers on ${URL[$t]}"
done
want=$(get "${URL[direct]}")
[ "${want%% *}" = 200 ] || die "direct answers $want, want 200"
for t in "${PASS[@]}"; do
	got=$(get "${URL[$t]}")
	[ "$got" = "$want" ] || die "$t answers $got, want $want (status, body bytes) as direct"
done
for t in "${REFUSE[@]}"; do
	for _ in 1 2 3; do got=$(get "${URL[$t]}"); done
	[ "${got%% *}" = 429 ] || die "$t answers $got, want 429"
done
# The two bare 429s must send the same answer (Date aside, header order aside).
answer() { curl -si -H "X-Forwarded-For: $CLIENT" "$1" | tr -d '\r' | grep -vi '^date:' | sort; }
diff <(answer "${URL[nethttp-429]}") <(answer "${URL[fasthttp-429]}") >&2 ||
	die "fasthttp-429 and nethttp-429 answer differently"

# --- measure -------------------------------------------------------------------------
cpu_ticks() { proc_ticks "${TPID[$1]}"; } # target
RES="$TMP/results.tsv"
: >"$RES"
run_wrk() { # path target
	local t0 ticks out rps p50 p99 n non2xx cpu
	wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -H "X-Forwarded-For: $CLIENT" "${URL[$2]}" >/dev/null 2>&1 || true
	t0=$(cpu_ticks "$2")
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "X-Forwarded-For: $CLIENT" "${URL[$2]}")
	ticks=$(($(cpu_ticks "$2") - t0))
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rps" "$p50" "$p99" "$n" "${non2xx:-0}" "$cpu" >>"$RES"
	printf '  %-7s %-16s %9s req/s  p50 %s  p99 %s ms  %s CPU µs/req  non-2xx %s/%s\n' "$1" "$2" "$rps" "$p50" "$p99" "$cpu" "${non2xx:-0}" "$n" >&2
}
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	for t in "${REFUSE[@]}"; do run_wrk refuse "$t"; done
	for t in "${PASS[@]}"; do run_wrk pass "$t"; done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------------
range() { # path target column: min–max over the rounds
	awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1 == s && $2 == t {print $c}' "$RES" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'
}
declare -A WHAT=(
	[nginx-429]="nginx limit_req (error-log line per refusal)"
	[wootguard-flood]="wootguard flood (preset, RACK_ATTACK_LIMIT=1)"
	[nethttp-429]="bare net/http 429 (bench/floor)"
	[fasthttp-429]="bare fasthttp 429 (bench/floor)"
	[nginx]="nginx proxy (keepalive 64)"
	[wootguard-pass]="wootguard pass (preset, memory store)"
	[go-proxy]="bare httputil.ReverseProxy (bench/upstream -proxy)"
	[fasthttp-proxy]="bare fasthttp proxy (bench/floor, HostClient)"
	[direct]="direct (the upstream itself)"
)
report() {
	echo "- run: $started, \`ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP bench/floor.sh\` (wrk -t$THREADS -c$CONNS -d$DURATION --latency after a $WARMUP warm-up per target; targets alternating; medians of $ROUNDS rounds); load average $load_start at the start, $load_end at the end"
	echo "- machine: nproc $(nproc); $(lscpu | awk -F: '/^Model name/ {sub(/^ +/, "", $2); print $2; exit}'); kernel $(uname -r); $(go version | cut -d' ' -f3); nginx $("$NGINX" -v 2>&1 | cut -d/ -f2) (worker_processes auto); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); fasthttp $(cd "$ROOT/bench/floor" && go list -m -f '{{.Version}}' github.com/valyala/fasthttp)"
	echo "- **wrk, the servers and the upstream share the same $(nproc) cores**: req/s are ratios of one run; CPU µs/req is the server's own (user+system from /proc/PID/stat ÷ requests; nginx with its workers; for the proxies, not the upstream's)"
	sed 's/^/- /' "$TMP/features.txt"
	echo
	echo "| path | target | req/s | p50 ms | p99 ms | CPU µs/req (rounds) | req/s ÷ nginx | CPU/req ÷ nginx |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	local p t nx
	for p in refuse pass; do
		nx=nginx
		[ "$p" = refuse ] && nx=nginx-429
		local list=("${PASS[@]}")
		[ "$p" = refuse ] && list=("${REFUSE[@]}")
		for t in "${list[@]}"; do
			echo "| $([ "$p" = refuse ] && echo "refusal (429)" || echo "pass-through (200, 2,241 B)") | ${WHAT[$t]} | $(med "$p" "$t" 3) | $(med "$p" "$t" 4) | $(med "$p" "$t" 5) | $(med "$p" "$t" 8) ($(range "$p" "$t" 8)) | $(ratio "$(med "$p" "$t" 3)" "$(med "$p" "$nx" 3)") | $(ratio "$(med "$p" "$t" 8)" "$(med "$p" "$nx" 8)") |"
		done
	done
	echo
	echo "Raw runs (path, target, req/s, p50 ms, p99 ms, requests, non-2xx, CPU µs/req):"
	echo
	echo '```'
	cat "$RES"
	echo '```'
}
report >"$TMP/report.md"
cat "$TMP/report.md"
[ -n "${OUT:-}" ] && cp "$TMP/report.md" "$OUT" && echo "wrote $OUT" >&2
exit 0

#!/usr/bin/env bash
# End-to-end proxy benchmark for the wootguard gateway, on loopback only.
#
# Starts a stand-in Chatwoot (bench/upstream: 200 + ~2 KB JSON), nginx as a
# plain reverse proxy in front of it, a bare Go httputil.ReverseProxy
# (bench/upstream -proxy: Go's own proxying cost, no rules), and wootguard
# (chatwoot preset) in front of it three times: with RACK_ATTACK_LIMIT so
# high that nothing is throttled (pass path), with RACK_ATTACK_LIMIT=10 so
# the benchmark client is throttled after ten requests (429 path), and the
# same with log.level error (the cost of the one log line per refusal). Then runs wrk against each in turn, ROUNDS times
# round-robin, and prints one table: medians of requests/s, p50 and p99
# latency, and the ratios to the direct upstream. Everything listens on
# 127.0.0.1 and is stopped and removed on exit.
#
#   sudo bench/proxy.sh                  # defaults: -t2 -c50 -d10s, 3 rounds
#   DURATION=5s ROUNDS=1 bench/proxy.sh  # quicker
#
# Needs Go (the project's toolchain) to build; installs wrk, nginx and curl
# with apt-get when they are missing (root). The load generator and the
# servers share the machine's cores: read the numbers as relative.
set -euo pipefail

THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
PORT_BASE=${PORT_BASE:-18080}
REQ_PATH=${REQ_PATH:-/api/v1/accounts/1/conversations?page=1}
CLIENT_IP=203.0.113.7 # the benchmark client, as wootguard sees it (X-Forwarded-For from a trusted 127.0.0.1)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/wootguard-bench.XXXXXX)
PIDS=()
POLICY_RC=""

cleanup() {
	local rc=$?
	set +e
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	[ -n "$POLICY_RC" ] && rm -f "$POLICY_RC"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "proxy.sh: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
command -v go >/dev/null || die "Go is needed to build wootguard (see go.mod for the version)"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run as root to apt-get install them"
	# Keep Debian from starting the packaged nginx service (on port 80, all
	# interfaces) while installing: this benchmark runs its own on loopback.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		POLICY_RC=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
		chmod +x "$POLICY_RC"
	fi
	echo "installing ${missing[*]} ..." >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	[ -n "$POLICY_RC" ] && rm -f "$POLICY_RC" && POLICY_RC=""
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# --- build -------------------------------------------------------------------
echo "building wootguard and the stand-in upstream ..." >&2
(cd "$ROOT" && go build -o "$TMP/wootguard" ./cmd/wootguard && go build -o "$TMP/upstream" ./bench/upstream)

P_UP=$((PORT_BASE + 1))
P_NGINX=$((PORT_BASE + 2))
P_PASS=$((PORT_BASE + 3))
P_429=$((PORT_BASE + 4))
P_429Q=$((PORT_BASE + 5))
P_GO=$((PORT_BASE + 6))
for p in $P_UP $P_NGINX $P_GO $P_PASS $P_429 $P_429Q; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "127.0.0.1:$p is in use: set PORT_BASE"
	fi
done

# --- configs -----------------------------------------------------------------
wg_config() { # name port limit loglevel
	printf 'RACK_ATTACK_LIMIT=%s\n' "$3" >"$TMP/$1.env"
	cat >"$TMP/$1.yaml" <<EOF
listen: 127.0.0.1:$2
upstream: http://127.0.0.1:$P_UP
preset: chatwoot
chatwoot_env_file: $1.env
client_ip:
  trusted_proxies: [127.0.0.1] # wrk plays the TLS terminator; the client is $CLIENT_IP
log:
  level: $4
EOF
}
wg_config pass "$P_PASS" 1000000000 info
wg_config throttled "$P_429" 10 info
wg_config throttled-quiet "$P_429Q" 10 error

mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<EOF
worker_processes $(nproc);
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    upstream chatwoot {
        server 127.0.0.1:$P_UP;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$P_NGINX;
        location / {
            proxy_pass http://chatwoot;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
EOF

# --- start -------------------------------------------------------------------
"$TMP/upstream" -listen "127.0.0.1:$P_UP" >"$TMP/upstream.log" 2>&1 &
PIDS+=($!)
"$TMP/upstream" -listen "127.0.0.1:$P_GO" -proxy "http://127.0.0.1:$P_UP" >"$TMP/goproxy.log" 2>&1 &
PIDS+=($!)
"$NGINX" -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
PIDS+=($!)
for n in pass throttled throttled-quiet; do
	# Chatwoot's variables come from the env file only, not from this shell.
	env -u RACK_ATTACK_LIMIT -u ENABLE_RACK_ATTACK -u RACK_ATTACK_ALLOWED_IPS \
		"$TMP/wootguard" serve --config "$TMP/$n.yaml" >"$TMP/$n.log" 2>&1 &
	PIDS+=($!)
done

HDR=(-H "X-Forwarded-For: $CLIENT_IP" -H "api_access_token: bench-token")
status() { curl -s -o /dev/null -w '%{http_code}' "${HDR[@]}" "http://127.0.0.1:$1$REQ_PATH" || true; }
for p in $P_UP $P_NGINX $P_GO $P_PASS $P_429 $P_429Q; do
	for _ in $(seq 50); do
		[ "$(status "$p")" = 200 ] && continue 2
		sleep 0.1
	done
	tail -n 20 "$TMP"/*.log "$TMP"/nginx/error.log >&2 || true
	die "nothing answers 200 on 127.0.0.1:$p"
done
for p in $P_429 $P_429Q; do # use up the ten requests of this minute
	for _ in $(seq 12); do s=$(status "$p"); done
	[ "$s" = 429 ] || die "127.0.0.1:$p: expected 429 once over the limit, got $s"
done
up_len=$(curl -s "${HDR[@]}" "http://127.0.0.1:$P_UP$REQ_PATH" | wc -c)
wg_len=$(curl -s "${HDR[@]}" "http://127.0.0.1:$P_PASS$REQ_PATH" | wc -c)
[ "$up_len" = "$wg_len" ] || die "body through wootguard is $wg_len bytes, direct $up_len"

# --- machine -----------------------------------------------------------------
echo "# wootguard proxy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
echo "- $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $("$NGINX" -v 2>&1 | cut -d' ' -f3) ($(nproc) workers, access_log off)"
echo "- wrk -t$THREADS -c$CONNS -d$DURATION --latency (after a $WARMUP warm-up) GET $REQ_PATH, ${up_len}-byte body, $ROUNDS round(s) round-robin, medians"
echo "- load generator and all servers share the same $(nproc) cores"
echo

# --- run ---------------------------------------------------------------------
NAMES=("direct upstream" "nginx (reverse proxy)" "Go httputil.ReverseProxy" "wootguard, pass" "wootguard, 429" "wootguard, 429, log.level error")
PORTS=($P_UP $P_NGINX $P_GO $P_PASS $P_429 $P_429Q)

to_ms() { # wrk latency (850.00us, 1.20ms, 1.01s) -> ms
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.3f", n }'
}

RES="$TMP/results.tsv"
: >"$RES"
for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$TMP/rounds.txt" >&2
	for i in "${!PORTS[@]}"; do
		url="http://127.0.0.1:${PORTS[$i]}$REQ_PATH"
		wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${HDR[@]}" "$url" >/dev/null
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${HDR[@]}" "$url")
		rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
		p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
		p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
		total=$(awk '/requests in/ {print $1}' <<<"$out")
		non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
		errs=$(awk '/Socket errors:/ {e = 0; for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) e += $i; print e}' <<<"$out")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$rps" "$p50" "$p99" "$total" "${non2xx:-0}" "${errs:-0}" >>"$RES"
		printf '  %-32s %10s req/s  p50 %s ms  p99 %s ms  non-2xx %s/%s\n' "${NAMES[$i]}" "$rps" "$p50" "$p99" "${non2xx:-0}" "$total" |
			tee -a "$TMP/rounds.txt" >&2
	done
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$TMP/rounds.txt" >&2

median() { # column, target index
	awk -F'\t' -v c="$1" -v t="$2" '$1 == t {print $c}' "$RES" | sort -g |
		awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
base_rps=$(median 2 0)
base_p50=$(median 3 0)
base_p99=$(median 4 0)
echo "| target | requests/s | p50 ms | p99 ms | req/s vs direct | p50 vs direct | p99 vs direct | non-2xx / requests (last round) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for i in "${!PORTS[@]}"; do
	rps=$(median 2 "$i")
	p50=$(median 3 "$i")
	p99=$(median 4 "$i")
	last=$(awk -F'\t' -v t="$i" '$1 == t {n = $6; tot = $5} END {print n " / " tot}' "$RES")
	awk -v name="${NAMES[$i]}" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v br="$base_rps" -v b50="$base_p50" -v b99="$base_p99" -v last="$last" \
		'BEGIN {printf "| %s | %.0f | %.2f | %.2f | %.2f | %.2fx | %.2fx | %s |\n", name, rps, p50, p99, rps / br, p50 / b50, p99 / b99, last}'
done
errs=$(awk -F'\t' '{e += $7} END {print e + 0}' "$RES")
echo
echo "socket errors over all runs: $errs"
echo
echo "Every run (load average: 1, 5, 15 minutes, the whole machine):"
echo
echo '```'
cat "$TMP/rounds.txt"
echo '```'

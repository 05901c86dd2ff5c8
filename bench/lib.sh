# Shared by bench/run and bench/floor.sh (sourced, not run): installing
# what a benchmark needs, CPU ticks of a server, and the report's
# arithmetic. Each script defines die() before sourcing this.

# install_missing CMD:PACKAGE...: apt-get installs the packages whose
# command is missing (as root), with a temporary policy-rc.d so Debian
# starts no packaged daemon (nginx on :80, redis on :6379) meanwhile; an
# existing policy-rc.d is left as it was.
install_missing() {
	local missing=() want had_policy=0
	for want in "$@"; do
		command -v "${want%%:*}" >/dev/null || [ -x "/usr/sbin/${want%%:*}" ] || missing+=("${want#*:}")
	done
	((${#missing[@]})) || return 0
	[ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run as root to apt-get install them"
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	((had_policy)) || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
	echo "installing ${missing[*]} ..." >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	((had_policy)) || rm -f /usr/sbin/policy-rc.d
}

CLK_TCK=$(getconf CLK_TCK)

# proc_ticks PID: user+system clock ticks of PID and its children (nginx:
# master and workers), 0 without a PID. CPU per request is what the load of
# other processes on a shared machine changes least.
proc_ticks() {
	local t=0 p f
	[ -n "${1:-}" ] || { echo 0; return; }
	for p in $1 $(pgrep -P "$1" 2>/dev/null); do
		f=($(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null)) || continue
		t=$((t + ${f[11]:-0} + ${f[12]:-0}))
	done
	echo "$t"
}

# to_ms LATENCY: wrk's latency (850.00us, 1.20ms, 1.01s, 1.00m) in ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
	if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.3f", n }'; }

# med SCENARIO TARGET COLUMN: the median of COLUMN over the rounds in $RES.
med() {
	awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1 == s && $2 == t && $c != "" {print $c}' "$RES" | sort -g |
		awk '{v[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# ratio A B: A/B to two places, "–" when either is missing or B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f", a / b }'; }

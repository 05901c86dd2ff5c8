# Docker engine for the real-engine docker-compose update test
# (cmd/wootguard/update_docker_test.go):
#   WOOTGUARD_TEST_DOCKER_HOST  the daemon's socket, unix://…
#   WOOTGUARD_TEST_DOCKER_BIN   a directory with Debian's docker and docker-compose
# The daemon is private to this test run: its own data root, exec root,
# socket and containerd namespace under $work; no bridge and no iptables
# rules (the test's containers use host networking and listen on 127.0.0.1).
#
# This is the one service allowed to be missing: dockerd needs root and a
# kernel with overlay mounts and cgroups. When it cannot start, this prints
# why and exports WOOTGUARD_TEST_DOCKER_SKIP=<reason>; the test then skips
# with that reason (it never passes without an engine).
svc_docker_packages() {
	[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || echo docker.io
	[ -x /usr/bin/docker-compose ] || echo docker-compose
}

svc_docker_skip() {
	export WOOTGUARD_TEST_DOCKER_SKIP="$1"
	log "docker: not started, the real-engine compose test will SKIP: $1"
}

svc_docker_start() {
	local d="$work/docker" pid i
	if [ "$(id -u)" != 0 ]; then
		svc_docker_skip "dockerd needs root (scripts/test runs as uid $(id -u))"
		return 0
	fi
	mkdir -p "$d/bin"
	ln -sf /usr/bin/docker "$d/bin/docker"
	ln -sf /usr/bin/docker-compose "$d/bin/docker-compose"
	log "starting dockerd on unix://$d/docker.sock"
	/usr/sbin/dockerd --bridge=none --iptables=false --ip-masq=false \
		--data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
		--host "unix://$d/docker.sock" --shutdown-timeout 5 \
		--containerd-namespace wootguard-test --containerd-plugins-namespace wootguard-test-plugins \
		>"$d/dockerd.log" 2>&1 &
	pid=$!
	add_cleanup "svc_docker_stop $pid '$d'"
	for ((i = 0; i < 150; i++)); do
		if DOCKER_HOST="unix://$d/docker.sock" /usr/bin/docker version >/dev/null 2>&1; then
			export WOOTGUARD_TEST_DOCKER_HOST="unix://$d/docker.sock"
			export WOOTGUARD_TEST_DOCKER_BIN="$d/bin"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			svc_docker_skip "dockerd exited: $(tail -n 3 "$d/dockerd.log" | tr '\n' ' ')"
			return 0
		fi
		sleep 0.2
	done
	svc_docker_skip "dockerd did not answer within 30s (see the end of its log: $(tail -3 "$d/dockerd.log" | tr '\n' ' '))"
	svc_docker_stop "$pid" "$d"
	return 0
}

# svc_docker_stop PID DIR stops the daemon (it stops its containerd) and
# unmounts what it left under DIR, so that removing $work is safe.
svc_docker_stop() {
	local i
	kill "$1" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || true
	awk -v d="$2/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}

# Redis for the shared-store tests (internal/store/redis, internal/gateway):
# the tests start their own redis-server / redis-sentinel processes on free
# 127.0.0.1 ports in t.TempDir() (they kill, restart, fill and fail over
# them), so this only exports the binaries' paths:
#   WOOTGUARD_TEST_REDIS_SERVER    redis-server
#   WOOTGUARD_TEST_REDIS_SENTINEL  redis-sentinel
svc_redis_packages() {
	command -v redis-server >/dev/null || echo redis-server
	command -v redis-sentinel >/dev/null || echo redis-sentinel
	command -v redis-cli >/dev/null || echo redis-tools
}

svc_redis_start() {
	export WOOTGUARD_TEST_REDIS_SERVER="$(command -v redis-server)"
	export WOOTGUARD_TEST_REDIS_SENTINEL="$(command -v redis-sentinel)"
	log "redis: tests start their own servers with $WOOTGUARD_TEST_REDIS_SERVER"
}

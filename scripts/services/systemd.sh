# systemd-analyze for the systemd unit recipes in deploy/systemd (deploy
# tests run `systemd-analyze verify` on them): WOOTGUARD_TEST_SYSTEMD_ANALYZE
# is its path. Nothing is started; PID 1 need not be systemd.
svc_systemd_packages() {
	command -v systemd-analyze >/dev/null 2>&1 || echo systemd
}

svc_systemd_start() {
	export WOOTGUARD_TEST_SYSTEMD_ANALYZE
	WOOTGUARD_TEST_SYSTEMD_ANALYZE=$(command -v systemd-analyze)
}

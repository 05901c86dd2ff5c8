# promtool (Debian's prometheus package) checks deploy/prometheus/*.yml:
# WOOTGUARD_TEST_PROMTOOL is its path. Nothing is started.
svc_promtool_packages() {
	command -v promtool >/dev/null 2>&1 || echo prometheus
}

svc_promtool_start() {
	WOOTGUARD_TEST_PROMTOOL=$(command -v promtool)
	export WOOTGUARD_TEST_PROMTOOL
}

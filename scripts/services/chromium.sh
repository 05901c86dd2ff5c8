# Headless Chromium for the dashboard and replay-report browser tests:
# WOOTGUARD_TEST_CHROMIUM is its path (internal/testsvc.Browser starts it).
svc_chromium_packages() {
	[ -x /usr/bin/chromium ] || echo chromium
}

svc_chromium_start() {
	export WOOTGUARD_TEST_CHROMIUM=/usr/bin/chromium
	# Screenshots the browser tests take land here (kept when TEST_ARTIFACTS is set).
	export WOOTGUARD_TEST_ARTIFACTS="${WOOTGUARD_TEST_ARTIFACTS:-$work/artifacts}"
	mkdir -p "$WOOTGUARD_TEST_ARTIFACTS"
}

# The Rails oracle for the gateway's fidelity tests: Chatwoot's Rack::Attack
# rules restated in Ruby, inside real Rack::Attack behind Rack::MethodOverride
# with ActionDispatch loaded, under Puma. WOOTGUARD_TEST_RAILS_ORACLE is its
# URL (internal/gateway/oracle_test.go, internal/railsreq/oracle_test.go).
svc_rails_oracle_packages() {
	local p
	for p in ruby ruby-rack ruby-actionpack ruby-activemodel ruby-rack-attack puma; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}

svc_rails_oracle_start() {
	local port dir="$PWD/internal/gateway/testdata/rails_oracle"
	port=$(freeport)
	log "starting the Rails oracle on 127.0.0.1:$port"
	# Chatwoot's defaults: no RACK_ATTACK_* tuning leaks in from the caller.
	(cd "$dir" && exec env -u RACK_ATTACK_LIMIT -u RACK_ATTACK_ALLOWED_IPS -u ENABLE_RACK_ATTACK \
		puma --silent -b "tcp://127.0.0.1:$port" -t 1:1 -e production config.ru >"$work/rails_oracle.log" 2>&1) &
	add_cleanup "kill $!"
	wait_port "$port" 300 || { cat "$work/rails_oracle.log" >&2; return 1; }
	export WOOTGUARD_TEST_RAILS_ORACLE="http://127.0.0.1:$port"
}

# PostgreSQL for the backup and update tests: WOOTGUARD_TEST_DATABASE_URL.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

svc_postgres_packages() {
	[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || echo postgresql postgresql-client
}

svc_postgres_start() {
	local pgdata="$work/pg" as_pg=() port
	# initdb refuses to run as root: run the server as the postgres user then.
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --home-dir "$work" postgres
		as_pg=(runuser -u postgres --)
		mkdir -p "$pgdata" && chown postgres "$pgdata"
	fi
	port=$(freeport)
	log "starting PostgreSQL on 127.0.0.1:$port"
	"${as_pg[@]}" "$(pg_bin)/initdb" -D "$pgdata" -A trust -U postgres --no-sync >/dev/null
	"${as_pg[@]}" "$(pg_bin)/pg_ctl" -D "$pgdata" -w -l "$pgdata/server.log" \
		-o "-k $pgdata -p $port -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
	add_cleanup "${as_pg[*]} $(pg_bin)/pg_ctl -D $pgdata -m immediate stop"
	export WOOTGUARD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	export PATH="$(pg_bin):$PATH" # pg_dump/pg_restore of the server's own version
}

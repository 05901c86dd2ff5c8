# nginx, only to check the syntax of deploy/proxy/nginx.conf (nginx -t; no
# server is started): WOOTGUARD_TEST_NGINX_BIN is its path.
svc_nginxsyntax_packages() {
	[ -x /usr/sbin/nginx ] || echo nginx-light
}

svc_nginxsyntax_start() {
	export WOOTGUARD_TEST_NGINX_BIN=/usr/sbin/nginx
}

package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// bundle plays `bundle exec …` inside a stand-in Chatwoot image, the way
// Chatwoot's compose file runs the app: rails server, migrations, Sidekiq.
func bundle(args []string) error {
	if len(args) < 2 || args[0] != "exec" {
		return fmt.Errorf("bundle: only `bundle exec rails|sidekiq …` is faked (got %q)", args)
	}
	if os.Getenv("FAKECW_DB") == "" {
		os.Setenv("FAKECW_DB", databaseURLFromChatwootEnv())
	}
	switch cmd := strings.Join(args[1:], " "); {
	case cmd == "rails db:chatwoot_prepare":
		return migrate()
	case strings.HasPrefix(cmd, "rails s ") || strings.HasPrefix(cmd, "rails server "):
		port, bind := "3000", "127.0.0.1"
		for i := 3; i+1 < len(args); i++ {
			switch args[i] {
			case "-p", "--port":
				port = args[i+1]
			case "-b", "--binding":
				bind = args[i+1]
			}
		}
		os.Setenv("FAKECW_ADDR", bind+":"+port)
		return serve()
	case strings.HasPrefix(cmd, "sidekiq"):
		// A worker holds no port; it only has to run until stopped.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		fmt.Println("sidekiq (fake) started")
		<-ctx.Done()
		return nil
	default:
		return fmt.Errorf("bundle exec %s: not faked", cmd)
	}
}

// databaseURLFromChatwootEnv builds the URL from the variables Chatwoot's
// .env sets (POSTGRES_HOST, _PORT, _USERNAME, _PASSWORD, _DATABASE), or
// takes DATABASE_URL as Chatwoot does when it is set.
func databaseURLFromChatwootEnv() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(get("POSTGRES_USERNAME", "postgres"), os.Getenv("POSTGRES_PASSWORD")),
		Host:     get("POSTGRES_HOST", "postgres") + ":" + get("POSTGRES_PORT", "5432"),
		Path:     "/" + get("POSTGRES_DATABASE", "chatwoot_production"),
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

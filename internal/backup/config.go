package backup

import (
	"net"
	"net/url"
)

// Config is the updates.backup section of the wootguard config file.
type Config struct {
	Dir         string    `yaml:"dir"`
	DatabaseURL string    `yaml:"database_url"`
	StorageDir  string    `yaml:"storage_dir"`
	EnvFile     string    `yaml:"env_file"`
	ToolPrefix  []string  `yaml:"tool_prefix"`
	Retention   Retention `yaml:"retention"`
}

// DatabaseURLFromEnv returns the database URL the way Chatwoot finds it:
// DATABASE_URL wins, else one is built from POSTGRES_HOST, POSTGRES_PORT,
// POSTGRES_USERNAME, POSTGRES_PASSWORD and POSTGRES_DATABASE (with
// Chatwoot's defaults localhost, 5432, postgres, chatwoot_production).
// It returns "" when none of these variables is set.
func DatabaseURLFromEnv(getenv func(string) string) string {
	if u := getenv("DATABASE_URL"); u != "" {
		return u
	}
	host, port := getenv("POSTGRES_HOST"), getenv("POSTGRES_PORT")
	user, pass := getenv("POSTGRES_USERNAME"), getenv("POSTGRES_PASSWORD")
	db := getenv("POSTGRES_DATABASE")
	if host == "" && port == "" && user == "" && pass == "" && db == "" {
		return ""
	}
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "5432"
	}
	if user == "" {
		user = "postgres"
	}
	if db == "" {
		db = "chatwoot_production"
	}
	u := &url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, port), Path: "/" + db}
	if pass != "" {
		u.User = url.UserPassword(user, pass)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

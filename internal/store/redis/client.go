package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ClientOptions says where Redis is. Exactly one of URL, Sentinels (with
// MasterName) or ClusterNodes picks the mode.
type ClientOptions struct {
	URL              string // redis://[user:pass@]host:port/db, rediss:// (TLS), unix:///path?db=N
	Password         string // used when the URL has none
	DB               int    // -1: from the URL
	Sentinels        []string
	MasterName       string
	SentinelPassword string
	ClusterNodes     []string
	TLSSkipVerify    bool // REDIS_OPENSSL_VERIFY_MODE=none
	Timeout          time.Duration
	DialTimeout      time.Duration
	PoolSize         int
}

// NewClient builds the go-redis client for o and a short description of
// the server (no password) for logs and Stats. Retries are off: a
// retried script could count a request twice, and the failure policy
// handles errors.
func NewClient(o ClientOptions) (goredis.UniversalClient, string, error) {
	quietOnce.Do(func() { goredis.SetLogger(quietLogger{}) })
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dial := o.DialTimeout
	if dial <= 0 {
		dial = time.Second
	}
	var tlsConf *tls.Config
	switch {
	case len(o.ClusterNodes) > 0:
		if strings.HasPrefix(o.URL, "rediss://") {
			tlsConf = &tls.Config{InsecureSkipVerify: o.TLSSkipVerify, MinVersion: tls.VersionTLS12}
		}
		c := goredis.NewClusterClient(&goredis.ClusterOptions{
			Addrs: o.ClusterNodes, Password: o.Password, TLSConfig: tlsConf,
			DialTimeout: dial, ReadTimeout: timeout, WriteTimeout: timeout, ContextTimeoutEnabled: true,
			PoolSize: o.PoolSize, MaxRetries: -1, DialerRetries: 1,
		})
		return c, "cluster " + strings.Join(o.ClusterNodes, ","), nil
	case len(o.Sentinels) > 0:
		if o.MasterName == "" {
			return nil, "", errors.New("redis sentinels need a master name (store.sentinel_master or REDIS_SENTINEL_MASTER_NAME)")
		}
		db := max(o.DB, 0)
		password := o.Password
		if o.URL != "" {
			// Chatwoot keeps the password (and db) in REDIS_URL even with
			// sentinels; take them from there.
			if opt, err := goredis.ParseURL(o.URL); err == nil {
				if password == "" {
					password = opt.Password
				}
				if o.DB < 0 {
					db = opt.DB
				}
				if opt.TLSConfig != nil {
					tlsConf = &tls.Config{InsecureSkipVerify: o.TLSSkipVerify, MinVersion: tls.VersionTLS12}
				}
			}
		}
		c := goredis.NewFailoverClient(&goredis.FailoverOptions{
			MasterName: o.MasterName, SentinelAddrs: o.Sentinels, SentinelPassword: o.SentinelPassword,
			Password: password, DB: db, TLSConfig: tlsConf,
			DialTimeout: dial, ReadTimeout: timeout, WriteTimeout: timeout, ContextTimeoutEnabled: true,
			PoolSize: o.PoolSize, MaxRetries: -1, DialerRetries: 1,
		})
		return c, fmt.Sprintf("sentinel %s master %q db %d", strings.Join(o.Sentinels, ","), o.MasterName, db), nil
	}
	if o.URL == "" {
		return nil, "", errors.New("redis store needs store.url (or REDIS_URL, or sentinels)")
	}
	opt, err := goredis.ParseURL(o.URL)
	if err != nil {
		return nil, "", fmt.Errorf("bad redis url: %v", err)
	}
	if opt.Password == "" {
		opt.Password = o.Password
	}
	if o.DB >= 0 {
		opt.DB = o.DB
	}
	if opt.TLSConfig != nil {
		opt.TLSConfig.InsecureSkipVerify = o.TLSSkipVerify
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.ContextTimeoutEnabled = dial, timeout, timeout, true
	opt.MaxRetries, opt.DialerRetries = -1, 1
	if o.PoolSize > 0 {
		opt.PoolSize = o.PoolSize
	}
	return goredis.NewClient(opt), redactURL(o.URL, opt.DB), nil
}

// redactURL prints a Redis URL without its password.
func redactURL(raw string, db int) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "redis"
	}
	u.User = nil
	if u.Scheme == "unix" {
		return fmt.Sprintf("unix://%s db %d", u.Path, db)
	}
	return fmt.Sprintf("%s://%s/%d", u.Scheme, u.Host, db)
}

var quietOnce sync.Once

// quietLogger sends go-redis' own messages (a failed dial on every probe
// while Redis is down) to slog at debug level: the store logs the
// transitions that matter once each.
type quietLogger struct{}

func (quietLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

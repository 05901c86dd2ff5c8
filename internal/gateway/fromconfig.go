package gateway

import (
	"log/slog"
	"time"

	"github.com/wootguard/wootguard/internal/clientip"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store"
)

// FromConfig compiles a checked configuration into gateway Options over
// the given store.
func FromConfig(c *config.Gateway, st store.Store, log *slog.Logger) (Options, error) {
	eng, err := engine(c, st, log)
	if err != nil {
		return Options{}, err
	}
	return Options{
		Upstream:         c.Upstream,
		Engine:           eng,
		Resolver:         clientip.NewWithHeader(c.TrustedProxies, clientip.Header(c.ClientIPHeader)),
		RetryAfter:       c.RetryAfter,
		RateLimitHeaders: c.RateLimitHeaders,
		BodyLimit:        c.BodyLimit,
		BodyTimeout:      time.Duration(c.Server.BodyTimeout),
		UpstreamTimeout:  time.Duration(c.Server.UpstreamTimeout),
		Logger:           log,
		Limits: Limits{
			RequestsPerClient:       c.Limits.ConnectionsPerClient,
			BufferedBodies:          c.Limits.BufferedBodies,
			BufferedBodiesPerClient: c.Limits.BufferedBodiesPerClient,
			BodyMemory:              int64(c.Limits.BodyMemory),
			SmallBodySize:           int64(c.Limits.SmallBodySize),
			SmallBodyTimeout:        time.Duration(c.Limits.SmallBodyTimeout),
		},
		WebsocketPaths: c.Limits.WebsocketPaths,

		RefusalLogLimit:       c.Operations.RefusalLogLimit,
		MaintenanceRetryAfter: c.Operations.MaintenanceRetry,
		UpstreamIdleConns:     c.Limits.Connections,
	}, nil
}

// Engine compiles the configuration's merged rule set (with the
// installation's key secret when there is one, so its keys are the ones
// serve stores; it never creates one).
func Engine(c *config.Gateway, st store.Store) (*rules.Engine, error) {
	secret, err := readKeySecret(c, st)
	if err != nil {
		return nil, err
	}
	return compile(c, st, secret)
}

func engine(c *config.Gateway, st store.Store, log *slog.Logger) (*rules.Engine, error) {
	secret, err := KeySecret(c, st, log)
	if err != nil {
		return nil, err
	}
	return compile(c, st, secret)
}

func compile(c *config.Gateway, st store.Store, secret []byte) (*rules.Engine, error) {
	return rules.Compile(c.Spec, rules.Options{Store: st, Prefix: c.Prefix, StripExtension: c.StripExtension, KeySecret: secret, IPv6Prefix: c.IPv6Prefix})
}

package gateway

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/store"
	"github.com/wootguard/wootguard/internal/store/memory"
	"github.com/wootguard/wootguard/internal/store/redis"
)

// OpenStore builds the configured counter store: the bounded memory store
// (with its snapshot, when configured), or Redis with the memory store as
// its local fallback. The caller closes it.
func OpenStore(c *config.Gateway, log *slog.Logger) (store.Store, error) {
	sc := c.StoreConfig
	if sc.Kind != "redis" {
		return memory.New(memory.Options{MaxKeys: c.MaxKeys, Snapshot: sc.Snapshot, SnapshotEvery: sc.SnapshotInterval, Logger: log}), nil
	}
	// The local fallback of a Redis store keeps no snapshot: Redis holds
	// the durable state.
	mem := memory.New(memory.Options{MaxKeys: c.MaxKeys, Logger: log})
	client, detail, err := redis.NewClient(redis.ClientOptions{URL: sc.URL, Password: sc.Password, DB: sc.DB,
		Sentinels: sc.Sentinels, MasterName: sc.SentinelMaster, SentinelPassword: sc.SentinelPassword,
		ClusterNodes: sc.ClusterNodes, TLSSkipVerify: sc.TLSSkipVerify, Timeout: sc.Timeout,
		DialTimeout: sc.DialTimeout, PoolSize: sc.PoolSize})
	if err != nil {
		mem.Close()
		return nil, fmt.Errorf("store: %v", err)
	}
	st, err := redis.New(redis.Options{Client: client, Prefix: c.Prefix, Timeout: sc.Timeout, OnError: sc.OnError,
		Local: mem, Logger: log, Detail: detail})
	if err != nil {
		client.Close()
		mem.Close()
		return nil, fmt.Errorf("store: %v", err)
	}
	log.Info("counting in redis", "server", detail, "on_error", sc.OnError, "timeout", sc.Timeout.String(), "from_chatwoot_env", sc.FromEnv)
	return &withLocal{Store: st, local: mem}, nil
}

// withLocal closes the fallback store with the Redis one.
type withLocal struct {
	*redis.Store
	local *memory.Store
}

func (w *withLocal) Close() error {
	err := w.Store.Close()
	w.local.Close()
	return err
}

func ceilSec(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

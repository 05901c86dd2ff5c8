package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wootguard/wootguard/internal/store"
)

// adminTimeout bounds the operator calls (scans are slower than a program).
const adminTimeout = 10 * time.Second

// globEscape escapes SCAN MATCH's special characters.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

// scan calls fn with every Redis key matching pattern, on every primary
// (in a Cluster the hash tag puts them all on one, but a resharding may be
// under way).
func (s *Store) scan(ctx context.Context, pattern string, fn func(c goredis.Cmdable, keys []string) error) error {
	each := func(ctx context.Context, c goredis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, 1000).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := fn(c, keys); err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cc, ok := s.client.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return each(ctx, c) })
	}
	return each(ctx, s.client)
}

// Reset implements store.Store: deletes every key starting with prefix.
func (s *Store) Reset(ctx context.Context, prefix string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	n := 0
	err := s.scan(ctx, globEscape(s.key(prefix))+"*", func(c goredis.Cmdable, keys []string) error {
		d, err := c.Unlink(ctx, keys...).Result()
		n += int(d)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("redis store: reset: %w", err)
	}
	return n, nil
}

// Bans implements store.Inspector.
func (s *Store) Bans(ctx context.Context, now time.Time, prefix string) ([]store.Ban, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	var out []store.Ban
	err := s.scan(ctx, globEscape(s.key(prefix))+"*", func(c goredis.Cmdable, keys []string) error {
		var bans []string
		for _, k := range keys {
			if strings.Contains(k, "2ban:ban:") { // fail2ban:ban:RULE, allow2ban:ban:RULE
				bans = append(bans, k)
			}
		}
		if len(bans) == 0 {
			return nil
		}
		pipe := c.Pipeline()
		ttls := make([]*goredis.DurationCmd, len(bans))
		vals := make([]*goredis.StringCmd, len(bans))
		for i, k := range bans {
			ttls[i], vals[i] = pipe.PTTL(ctx, k), pipe.Get(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
			return err
		}
		for i, k := range bans {
			left := ttls[i].Val()
			if left <= 0 {
				continue // expired between SCAN and PTTL
			}
			b := store.Ban{Key: s.unkey(k), Expires: now.Add(left)}
			// The value is "since_us:expires_us" (script.lua).
			since, _, _ := strings.Cut(vals[i].Val(), ":")
			if us, err := strconv.ParseInt(since, 10, 64); err == nil && us > 1 {
				b.Since = time.UnixMicro(us)
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("redis store: bans: %w", err)
	}
	return out, nil
}

// Delete implements store.Inspector.
func (s *Store) Delete(ctx context.Context, keys ...string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	rks := make([]string, len(keys))
	for i, k := range keys {
		rks[i] = s.key(k)
	}
	n, err := s.client.Del(ctx, rks...).Result()
	if err != nil {
		return int(n), fmt.Errorf("redis store: delete: %w", err)
	}
	return int(n), nil
}

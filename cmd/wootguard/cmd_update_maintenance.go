package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wootguard/wootguard/internal/config"
)

// updateMaintenance gives update apply/resume a switch for the gateway's
// maintenance mode. With "auto" it is used when a gateway with this
// config file's admin listener answers on this host: that gateway is taken
// to front the production instance. "on" requires it; "off" never uses it.
func updateMaintenance(env *cliEnv, mode, cfgPath string) (func(ctx context.Context, on bool) error, error) {
	if mode == "off" {
		return nil, nil
	}
	if mode != "auto" && mode != "on" {
		return nil, fmt.Errorf("--maintenance %q: want auto, on or off", mode)
	}
	none := func(why string) (func(context.Context, bool) error, error) {
		if mode == "on" {
			return nil, fmt.Errorf("--maintenance on: %s", why)
		}
		return nil, nil
	}
	cfg, err := config.Load(cfgPath, env.Getenv)
	if err != nil {
		return none("cannot read the gateway part of " + cfgPath + ": " + err.Error())
	}
	if cfg.Operations.AdminListen == "" {
		return none("admin.listen is off in " + cfgPath)
	}
	f := adminFlags{url: new(string), token: new(string), config: &cfgPath, format: new(string)}
	c, err := f.client(env)
	if err != nil {
		return none(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// The maintenance endpoint, not /healthz: a gateway that refuses this
	// config's token is some other gateway.
	if err := c.Do(ctx, "GET", "/api/maintenance", nil, nil); err != nil {
		return none("no gateway with this config's admin token answers at " + c.BaseURL + " (" + err.Error() + ")")
	}
	fmt.Fprintf(env.Stderr, "wootguard: the gateway at %s fronts this instance: maintenance mode goes on during the production swap\n", c.BaseURL)
	return func(ctx context.Context, on bool) error {
		return c.Do(ctx, "POST", "/api/maintenance", map[string]bool{"on": on}, nil)
	}, nil
}

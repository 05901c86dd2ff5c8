package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/store"
)

// sharedSecreter is a store that can hold the installation's key secret
// for every gateway using it (the Redis store).
type sharedSecreter interface {
	SharedSecret(ctx context.Context, candidate []byte) ([]byte, error)
}

var processSecret = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
})

// KeySecret returns the secret that hashes secret key parts (tokens) in
// this installation: store.key_secret, else store.key_secret_file (created
// with a random secret when missing), else one kept in the shared Redis
// (so every gateway hashes alike), else a file next to the memory store's
// snapshot, else a random secret for this process (nothing outlives it).
func KeySecret(c *config.Gateway, st store.Store, log *slog.Logger) ([]byte, error) {
	return keySecret(c, st, log, secretFile)
}

// readKeySecret is KeySecret for a reader of the installation (replay):
// it never creates a secret file, so a run as another user cannot leave
// one the gateway cannot read. A missing file gives a secret of this
// process.
func readKeySecret(c *config.Gateway, st store.Store) ([]byte, error) {
	return keySecret(c, st, nil, func(path string) ([]byte, error) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return processSecret(), nil
		}
		return secretFile(path)
	})
}

func keySecret(c *config.Gateway, st store.Store, log *slog.Logger, secretFile func(string) ([]byte, error)) ([]byte, error) {
	sc := c.StoreConfig
	switch {
	case sc.KeySecret != "":
		return []byte(sc.KeySecret), nil
	case sc.KeySecretFile != "":
		return secretFile(sc.KeySecretFile)
	}
	if ss, ok := st.(sharedSecreter); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := ss.SharedSecret(ctx, randomSecret())
		if err == nil {
			return s, nil
		}
		if log != nil {
			log.Warn("could not read the key secret from redis: tokens are hashed with a secret of this process only, so their counters are not shared until a restart with redis up; set store.key_secret to avoid this", "err", err.Error())
		}
		return processSecret(), nil
	}
	if sc.Snapshot != "" {
		return secretFile(sc.Snapshot + ".key")
	}
	return processSecret(), nil
}

func randomSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

// secretFile reads the secret at path, creating the file (mode 0600) with
// a random secret when it does not exist.
func secretFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		s := randomSecret()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(append(s, '\n'))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				return s, nil
			}
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("store.key_secret_file: %v", err)
		}
		data, err = os.ReadFile(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("store.key_secret_file: %v", err)
	}
	s := strings.TrimSpace(string(data))
	if len(s) < 16 {
		return nil, fmt.Errorf("store.key_secret_file %s: a secret needs at least 16 characters", path)
	}
	return []byte(s), nil
}

package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServerOptions are the listener's limits.
type ServerOptions struct {
	ReadHeaderTimeout time.Duration // slowloris guard on headers
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration // grace period for in-flight requests
	Logger            *slog.Logger
}

// Serve answers on ln with h until ctx ends, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish within
// ShutdownTimeout, and closes what is left.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServerOptions) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	o.Logger.Info("shutting down", "grace", o.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

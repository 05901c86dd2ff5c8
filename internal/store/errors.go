package store

import (
	"errors"
	"time"
)

// Unavailable is implemented by errors meaning "the store cannot answer
// and its failure policy says refuse" (store.on_error: deny): the gateway
// answers 503 with Retry-After instead of letting the request through.
type Unavailable interface {
	error
	StoreUnavailable() (retryAfter time.Duration)
}

// IsUnavailable reports whether err is (or wraps) an Unavailable error
// and, if so, the Retry-After it asks for.
func IsUnavailable(err error) (time.Duration, bool) {
	if err == nil {
		return 0, false // every decision asks: errors.As's target would cost an allocation
	}
	var u Unavailable
	if errors.As(err, &u) {
		return u.StoreUnavailable(), true
	}
	return 0, false
}

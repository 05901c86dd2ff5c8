package notify

import (
	"context"
	"errors"
)

// Multi sends every event to each of its senders; one failing channel
// does not stop the others. The error joins every failure.
type Multi []Sender

// Send delivers e to all senders.
func (m Multi) Send(ctx context.Context, e Event) error {
	var errs []error
	for _, s := range m {
		if err := s.Send(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

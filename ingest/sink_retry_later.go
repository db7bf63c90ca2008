package ingest

import (
	"errors"
	"time"
)

// retryLaterError is the capability a sink's error may have to say "nothing was stored; the
// client should send it again after RetryAfter" (a forwarding queue that is full in
// backpressure mode). The edge answers such errors 429 with Retry-After, or gRPC
// ResourceExhausted with RetryInfo, instead of 503. Log sinks may instead wrap logs.ErrBusy.
type retryLaterError interface {
	error
	RetryAfter() time.Duration
}

// sinkRetryAfter is the retry delay err asks for, 0 if it asks for none.
func sinkRetryAfter(err error) time.Duration {
	var rl retryLaterError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter(), 0)
	}
	return 0
}

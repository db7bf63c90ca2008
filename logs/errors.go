package logs

import "errors"

// Sentinel errors. ErrInvalidQuery and ErrLineTooLarge are permanent (bad input: map them to
// 400); the others are not.
var (
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("logs store closed")
	// ErrInvalidQuery wraps every query that does not parse; the message says why.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrLineTooLarge rejects a batch holding a Raw line over Options.MaxLineBytes.
	ErrLineTooLarge = errors.New("log line too large")
	// ErrBusy is returned by WriteLogs when its context ends while it waits for indexing to
	// catch up with a burst; nothing of the batch was stored, and the client should retry.
	ErrBusy = errors.New("log store busy indexing")
	// ErrNotFound is returned by Context for an unknown or expired line id.
	ErrNotFound = errors.New("log line not found")
)

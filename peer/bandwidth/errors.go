package bandwidth

import "errors"

// ErrStopped is returned by a wait that ended because its stream's
// limited direction was cancelled.
var ErrStopped = errors.New("bandwidth: stream cancelled while waiting")

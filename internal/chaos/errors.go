package chaos

import "errors"

// ErrUnsupported: the Network cannot inject this kind of fault (loopback
// has no partitions or impairments).
var ErrUnsupported = errors.New("chaos: fault not supported by this network")

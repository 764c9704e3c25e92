package bandwidth

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadRate is wrapped by ParseRate's errors.
var ErrBadRate = errors.New("bad rate")

// Rate is a bandwidth in bytes per second; 0 means unlimited.
type Rate float64

// Bounds of a Rate other than 0.
const (
	// MinRate is the lowest limit accepted: below it a piece of a few MiB
	// would take minutes per stream and transfers would run into the
	// request timeouts of the other side (a stalled stream is given up
	// after 30 s).
	MinRate Rate = 8 << 10
	// MaxRate is the highest limit accepted (a limit above any link is
	// "unlimited": use 0).
	MaxRate Rate = 1e12
)

// units are the accepted units and their bytes per second, each also
// accepted with "/s" after it; longest first so "MiB" is not read as "B".
// Case matters only between b (bit) and B (byte).
var units = []struct {
	name  string
	bytes float64
}{
	{"Gbit", 1e9 / 8}, {"Mbit", 1e6 / 8}, {"kbit", 1e3 / 8}, {"Kbit", 1e3 / 8}, {"bit", 1.0 / 8},
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1},
}

// ParseRate reads a rate: a decimal number and a unit, with or without
// "/s" (10MB/s, 80Mbit/s, 512KiB/s, 1.5GB, 100kbit/s). Units: B, kB (or
// KB), MB, GB (powers of 1000), KiB, MiB, GiB (powers of 1024), bit, kbit
// (or Kbit), Mbit, Gbit (bits: an eighth of a byte each). "0" (any unit or
// none), "unlimited", "off" and "" mean no limit. A rate other than 0 must
// lie within MinRate and MaxRate. Errors wrap ErrBadRate.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "", "0", "unlimited", "off", "none":
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/s")
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return 0, fmt.Errorf("%w: %q has no unit (say e.g. 10MB/s, 80Mbit/s or 512KiB/s)", ErrBadRate, s)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("%w: %q does not start with a number", ErrBadRate, s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %q: %q is not a number", ErrBadRate, s, num)
	}
	mult := 0.0
	for _, u := range units {
		if unit == u.name {
			mult = u.bytes
			break
		}
	}
	if mult == 0 {
		return 0, fmt.Errorf("%w: %q: unknown unit %q (units: B, kB, MB, GB, KiB, MiB, GiB, bit, kbit, Mbit, Gbit, each optionally /s)", ErrBadRate, s, unit)
	}
	r := Rate(v * mult)
	if r == 0 {
		return 0, nil
	}
	if err := r.Check(); err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return r, nil
}

// Check says whether r is a valid limit: 0 (none) or within MinRate and
// MaxRate. Its error wraps ErrBadRate.
func (r Rate) Check() error {
	switch {
	case r == 0:
		return nil
	case math.IsNaN(float64(r)) || r < 0:
		return fmt.Errorf("%w: %v bytes/s is not a rate", ErrBadRate, float64(r))
	case r < MinRate:
		return fmt.Errorf("%w: %s is below the lowest limit, %s (use 0 for none)", ErrBadRate, r, MinRate)
	case r > MaxRate:
		return fmt.Errorf("%w: %s is above the highest limit, %s (use 0 for none)", ErrBadRate, r, MaxRate)
	}
	return nil
}

// String writes r in the unit that writes it shortest, with at most three
// decimals (ParseRate reads it back to within 0.1 %): "unlimited",
// "512KiB/s", "10MB/s", "1.5GB/s".
func (r Rate) String() string {
	if r == 0 {
		return "unlimited"
	}
	best := ""
	for _, u := range []struct {
		n string
		b float64
	}{{"GiB/s", 1 << 30}, {"GB/s", 1e9}, {"MiB/s", 1 << 20}, {"MB/s", 1e6}, {"KiB/s", 1 << 10}, {"kB/s", 1e3}, {"B/s", 1}} {
		v := float64(r) / u.b
		if v < 1 && u.b > 1 {
			continue
		}
		s := strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) + u.n
		if best == "" || len(s) < len(best) {
			best = s
		}
	}
	return best
}

// UnmarshalText lets a Rate be a flag or a config value (ParseRate).
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText writes String.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

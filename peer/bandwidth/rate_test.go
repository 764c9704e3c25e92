package bandwidth

import (
	"errors"
	"math"
	"testing"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Rate
		wantErr string // "" : no error; else a part of the message
	}{
		{"10MB/s", 10e6, ""},
		{"10MB", 10e6, ""},
		{"80Mbit/s", 10e6, ""},
		{"512KiB/s", 512 << 10, ""},
		{"1.5GB/s", 1.5e9, ""},
		{"2MiB/s", 2 << 20, ""},
		{"1GiB", 1 << 30, ""},
		{"100kB/s", 1e5, ""},
		{"100KB/s", 1e5, ""},
		{"800kbit/s", 1e5, ""},
		{"800Kbit/s", 1e5, ""},
		{"1Gbit/s", 1.25e8, ""},
		{"65536B/s", 65536, ""},
		{"655360bit/s", 81920, ""},
		{" 10 MB/s ", 10e6, ""},
		{".5MB/s", 5e5, ""},
		{"0", 0, ""},
		{"0MB/s", 0, ""},
		{"", 0, ""},
		{"unlimited", 0, ""},
		{"off", 0, ""},
		{"10", 0, "has no unit"},
		{"MB/s", 0, "does not start with a number"},
		{"-5MB/s", 0, "does not start with a number"},
		{"10mb/s", 0, "unknown unit"},
		{"10Mb/s", 0, "unknown unit"},
		{"10Mbps", 0, "unknown unit"},
		{"10 MB/h", 0, "unknown unit"},
		{"1e6B/s", 0, "unknown unit"},
		{"1.2.3MB/s", 0, "is not a number"},
		{".MB/s", 0, "is not a number"},
		{"./s", 0, "has no unit"},
		{"1KiB/s", 0, "below the lowest limit"},
		{"8000B/s", 0, "below the lowest limit"},
		{"2000GB/s", 0, "above the highest limit"},
		{"2TB/s", 0, "unknown unit"},
		{"99999999999999999999999GB/s", 0, "above the highest limit"},
	} {
		got, err := ParseRate(tc.in)
		if tc.wantErr != "" {
			if err == nil || !errors.Is(err, ErrBadRate) || !contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRate(%q) = %v, %v; want error with %q wrapping ErrBadRate", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || math.Abs(float64(got-tc.want)) > 1e-6*float64(tc.want) {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, float64(got), err, float64(tc.want))
		}
	}
}

func TestRateString(t *testing.T) {
	for _, tc := range []struct {
		r    Rate
		want string
	}{
		{0, "unlimited"},
		{512 << 10, "512KiB/s"},
		{10e6, "10MB/s"},
		{1.5e9, "1.5GB/s"},
		{12345678, "12.346MB/s"},
		{2 << 20, "2MiB/s"},
		{1 << 30, "1GiB/s"},
		{MinRate, "8KiB/s"},
		{1000 << 10, "1024kB/s"},
		{1.25e8, "125MB/s"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("Rate(%v).String() = %q, want %q", float64(tc.r), got, tc.want)
		}
		back, err := ParseRate(tc.r.String())
		if err != nil || math.Abs(float64(back-tc.r)) > 1e-3*float64(tc.r) {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.r.String(), float64(back), err, float64(tc.r))
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

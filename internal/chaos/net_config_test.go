package chaos

import (
	"math"
	"slices"
	"testing"
	"time"
)

// These tests need no root: they check the LAN's arguments.

func TestPartitionGroups(t *testing.T) {
	tests := []struct {
		name    string
		groups  [][]int
		want    []int
		wantErr bool
	}{
		{"none", nil, []int{-1, -1, -1}, false},
		{"two groups, one host left out", [][]int{{0}, {2}}, []int{0, -1, 1}, false},
		{"every host", [][]int{{2, 0}, {1}}, []int{0, 1, 0}, false},
		{"unknown host", [][]int{{0}, {3}}, nil, true},
		{"negative host", [][]int{{-1}}, nil, true},
		{"host in two groups", [][]int{{0, 1}, {1}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := partitionGroups(3, tt.groups)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckImpairment(t *testing.T) {
	tests := []struct {
		name    string
		im      Impairment
		wantErr bool
	}{
		{"zero", Impairment{}, false},
		{"everything", Impairment{Loss: 0.1, Dup: 1, Reorder: 0.5, Delay: time.Second, Jitter: time.Millisecond}, false},
		{"loss above 1", Impairment{Loss: 1.5}, true},
		{"negative dup", Impairment{Dup: -0.1}, true},
		{"NaN reorder", Impairment{Reorder: math.NaN()}, true},
		{"negative delay", Impairment{Delay: -time.Second}, true},
		{"negative jitter", Impairment{Jitter: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkImpairment(tt.im); (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckHostNames(t *testing.T) {
	tests := []struct {
		name    string
		hosts   []string
		wantErr bool
	}{
		{"suite hosts", []string{"tracker", "peer1", "peer_2", "peer-3"}, false},
		{"none", nil, true},
		{"empty name", []string{""}, true},
		{"slash", []string{"a/b"}, true},
		{"space", []string{"a b"}, true},
		{"too long", []string{"abcdefghijklmnopqrstuvwxyz0123456"}, true},
		{"twice", []string{"peer", "peer"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkHostNames(tt.hosts); (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestNamespaceOwner(t *testing.T) {
	tests := []struct {
		ns   string
		pid  int
		isOK bool
	}{
		{"dsc-123-abcdef-rt", 123, true},
		{"dsc-9-0a0b0c-h1-peer1", 9, true},
		{"dsc-x-abcdef-rt", 0, false},
		{"dsc-0-abcdef-rt", 0, false},
		{"other-123-abcdef", 0, false},
		{"dsc-123", 0, false},
	}
	for _, tt := range tests {
		pid, ok := namespaceOwner(tt.ns)
		if ok != tt.isOK || (ok && pid != tt.pid) {
			t.Errorf("namespaceOwner(%q) = %d, %v; want %d, %v", tt.ns, pid, ok, tt.pid, tt.isOK)
		}
	}
}

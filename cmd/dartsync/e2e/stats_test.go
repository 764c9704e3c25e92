package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// stats is the part of a peer's stats.json the tests read by name.
type stats struct {
	BytesReceived  int64  `json:"bytes_received"`
	BytesLocal     int64  `json:"bytes_local"`
	FilesApplied   int64  `json:"files_applied"`
	FilesDeleted   int64  `json:"files_deleted"`
	ScansCompleted int64  `json:"scans_completed"`
	PiecesLocal    int64  `json:"pieces_local"`
	PiecesFetched  int64  `json:"pieces_fetched"`
	LocalChanges   int64  `json:"local_changes"`
	Paused         bool   `json:"paused"`
	PausedReason   string `json:"paused_reason"`
}

// changeKeys are the counters of files a peer changed on disk.
var changeKeys = []string{"files_applied", "files_deleted", "conflicts"}

// readStatsJSON decodes the peer's STATE/stats.json into v.
func readStatsJSON(stateDir string, v any) error {
	b, err := os.ReadFile(filepath.Join(stateDir, "stats.json"))
	if err != nil {
		return err
	}
	return json.Unmarshal(bytes.TrimSpace(b), v)
}

func readStats(stateDir string) (stats, error) {
	var s stats
	err := readStatsJSON(stateDir, &s)
	return s, err
}

// readCounters reads the numeric counters of a peer's stats.json: the
// counters named by keys (an error if one is missing), or with no keys
// every numeric field (stats.json also holds paused and its reason).
func readCounters(stateDir string, keys ...string) (map[string]int64, error) {
	var all map[string]any
	if err := readStatsJSON(stateDir, &all); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	if len(keys) == 0 {
		for k, v := range all {
			if n, ok := v.(float64); ok {
				out[k] = int64(n)
			}
		}
		return out, nil
	}
	for _, k := range keys {
		v, ok := all[k].(float64)
		if !ok {
			return nil, fmt.Errorf("stats.json: no counter %q", k)
		}
		out[k] = int64(v)
	}
	return out, nil
}

// settle returns what read returns once it has stayed the same for half a
// second (a peer rewrites stats.json every 50 ms while its counters change).
func settle[T any](t *testing.T, what string, read func() (T, error), same func(x, y T) bool) T {
	t.Helper()
	var last T
	var since time.Time
	eventually(t, 20*time.Second, what, func() (bool, string) {
		s, err := read()
		if err != nil {
			return false, err.Error()
		}
		if since.IsZero() || !same(s, last) {
			last, since = s, time.Now()
			return false, "changing"
		}
		return time.Since(since) > 500*time.Millisecond, "changing"
	})
	return last
}

// settledStats returns pp's stats once they stop changing.
func settledStats(t *testing.T, pp *peerProc) stats {
	t.Helper()
	return settle(t, pp.name+" stats settle",
		func() (stats, error) { return readStats(pp.state) },
		func(x, y stats) bool { return x == y })
}

// settledCounters returns pp's counters (those named by keys, or all)
// once they stop changing.
func settledCounters(t *testing.T, pp *peerProc, keys ...string) map[string]int64 {
	t.Helper()
	return settle(t, pp.name+" counters settle",
		func() (map[string]int64, error) { return readCounters(pp.state, keys...) },
		maps.Equal[map[string]int64])
}

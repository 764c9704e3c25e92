package peer

import (
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// TestUpdatesOfOurVersionsStoreNoWant: in one batch of tracker updates
// (the echo of our own reports during a catch-up, mixed with others'
// versions), an update for exactly the version our index holds stores no
// want and forgets an older one; any other version is stored as a want
// (a path we lack, another version of a path we have, a path below one
// we have, in whatever order the batch holds them).
func TestUpdatesOfOurVersionsStoreNoWant(t *testing.T) {
	d := applyFixture(t)
	ours := []string{"d/a", "d/b", "d.txt", "z"}
	var put []index.Entry
	for _, p := range ours {
		put = append(put, index.Entry{Manifest: version(t, p, []byte("ours "+p), time.Unix(1_700_000_000, 0))})
	}
	if err := d.idx.Update(index.Batch{Put: put, Wants: []index.Want{{Manifest: version(t, "z", []byte("old"), time.Time{}), Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, data string
		want       bool // a want is stored
	}{
		{"z", "ours z", false},
		{"d/a", "ours d/a", false},
		{"d/b", "theirs", true},
		{"d.txt", "ours d.txt", false},
		{"d/a/x", "below a file", true},
		{"new", "theirs", true},
		{"c", "theirs", true},
	}
	var batch []tracker.Entry
	for i, tt := range tests {
		batch = append(batch, entry(t, tt.path, tt.data, uint64(10+i)))
	}
	d.handler.Updates(batch)
	for _, tt := range tests {
		id, ok := d.idx.WantID(tt.path)
		v := version(t, tt.path, []byte(tt.data), time.Time{})
		if ok != tt.want || (ok && id != v.ID) {
			t.Errorf("%s: want stored %v (%s), expected %v", tt.path, ok, id.Short(), tt.want)
		}
	}
	if got, want := d.idx.Seq(), uint64(10+len(tests)-1); got != want {
		t.Errorf("Seq = %d, want %d", got, want)
	}
}

package ignore

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestCheckerBounded asks a Checker about the files of many directories, as
// a census of a large folder does, and checks what it remembers stays
// bounded, never refers to the caller's buffer, and its answers stay right
// after it starts over.
func TestCheckerBounded(t *testing.T) {
	m, problems := New(true, []byte("skip/\n*.tmp\n"))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	c := m.Checker()
	for d := range 3 * checkerDirs {
		buf := []byte(fmt.Sprintf("top/d%05d/f.bin", d))
		p := unsafe.String(&buf[0], len(buf)) // a slice of a page, as the index hands out
		if c.Ignored(p, false) {
			t.Fatalf("%s ignored", p)
		}
		if len(c.dirs) > checkerDirs {
			t.Fatalf("after %d directories the checker remembers %d (bound %d)", d+1, len(c.dirs), checkerDirs)
		}
		for k := range c.dirs {
			if kp := unsafe.StringData(k); uintptr(unsafe.Pointer(kp)) >= uintptr(unsafe.Pointer(&buf[0])) &&
				uintptr(unsafe.Pointer(kp)) < uintptr(unsafe.Pointer(&buf[0]))+uintptr(len(buf)) {
				t.Fatalf("remembered directory %q points into the caller's buffer", k)
			}
		}
	}
	for _, tc := range []struct {
		path string
		dir  bool
		want bool
	}{
		{"top/d00001/f.bin", false, false},
		{"skip/a/b.bin", false, true},
		{"top/skip/x", false, true},
		{"top/d00002/x.tmp", false, true},
		{"top/d00002", true, false},
	} {
		if got := c.Ignored(tc.path, tc.dir); got != tc.want {
			t.Errorf("Ignored(%q, %v) = %v, want %v", tc.path, tc.dir, got, tc.want)
		}
	}
}

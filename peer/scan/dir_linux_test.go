//go:build linux

package scan

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDirNamesTypes: the Linux directory reader gives every name of a
// directory (none of "." and ".."), with the type os.ReadDir gives and the
// type its lstat gives (the fallback for a file system that lists no
// types), and lstats it to what os.Lstat says.
func TestDirNamesTypes(t *testing.T) {
	root := t.TempDir()
	write(t, root, "sub/file", []byte("x"), 0o755)
	if err := os.Mkdir(filepath.Join(root, "sub", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, "file", filepath.Join(root, "sub", "link"))
	if err := syscall.Mkfifo(filepath.Join(root, "sub", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	osEnts, err := os.ReadDir(filepath.Join(root, "sub"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{}
	for _, e := range osEnts {
		want[e.Name()] = e.Type()
	}
	d, err := openDir(filepath.Join(root, "sub"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	ents, err := d.names("sub", make([]byte, 64), nil) // a small buffer: several reads
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(want) {
		t.Fatalf("names %+v, want %v", ents, want)
	}
	for _, e := range ents {
		typ, ok := want[e.name]
		if !ok || e.typ != typ || e.rel != "sub/"+e.name {
			t.Errorf("%+v: want type %v (listed: %v)", e, typ, ok)
		}
		if lt, err := d.lstatType(e.name); err != nil || lt != typ {
			t.Errorf("%s: lstatType %v, %v; want %v", e.name, lt, err, typ)
		}
		c := child{dirEnt: e}
		d.lstat(&c)
		fi, err := os.Lstat(filepath.Join(root, "sub", e.name))
		if err != nil {
			t.Fatal(err)
		}
		if c.err != nil || c.st != StatOf(fi) || c.perm != fi.Mode().Perm() {
			t.Errorf("%s: lstat %+v %v %v, os.Lstat %+v %v", e.name, c.st, c.perm, c.err, StatOf(fi), fi.Mode().Perm())
		}
	}
	if _, err := d.lstatType("gone"); !os.IsNotExist(err) {
		t.Errorf("lstatType of a missing name: %v", err)
	}
}

//go:build !linux

package scan

import "os"

// dirHandle is an open directory of the walk; its names are lstat-ed by
// their full path.
type dirHandle struct {
	f    *os.File
	path string
}

// openDir opens the directory at full for reading its names.
func openDir(full string) (*dirHandle, error) {
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	return &dirHandle{f: f, path: full}, nil
}

func (d *dirHandle) close() { d.f.Close() }

// names appends the names of the directory to out (unsorted), each as its
// folder-relative path under prefix ("" for the root), with its type.
func (d *dirHandle) names(prefix string, _ []byte, out []dirEnt) ([]dirEnt, error) {
	ents, err := d.f.ReadDir(-1)
	if err != nil {
		return out, err
	}
	for _, de := range ents {
		e := newDirEnt(prefix, []byte(de.Name()))
		e.typ = de.Type()
		out = append(out, e)
	}
	return out, nil
}

// lstat fills in c's Stat and permission bits, or its error.
func (d *dirHandle) lstat(c *child) {
	fi, err := os.Lstat(d.path + string(os.PathSeparator) + c.name)
	if err != nil {
		c.err = err
		return
	}
	c.st = statOf(fi)
	c.perm = fi.Mode().Perm()
}

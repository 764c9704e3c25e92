//go:build linux

package scan

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory of the walk: its names are read with
// getdents into the walk's buffer (one allocation per name: its
// folder-relative path) and lstat-ed relative to it (fstatat), without
// resolving its path again.
type dirHandle struct {
	fd   int
	path string
}

// openDir opens the directory at full for reading its names.
func openDir(full string) (*dirHandle, error) {
	for {
		fd, err := unix.Open(full, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return &dirHandle{fd: fd, path: full}, nil
		case !errors.Is(err, unix.EINTR):
			return nil, &fs.PathError{Op: "open", Path: full, Err: err}
		}
	}
}

func (d *dirHandle) close() { unix.Close(d.fd) }

// Offsets in a struct linux_dirent64.
const (
	direntReclen = 16
	direntType   = 18
	direntName   = 19
)

// names appends the names of the directory to out (unsorted), each as its
// folder-relative path under prefix ("" for the root), with its type;
// buf is the walk's getdents buffer. A name of unknown type (DT_UNKNOWN)
// is lstat-ed for it, and left out if it is gone by then (as os.ReadDir).
func (d *dirHandle) names(prefix string, buf []byte, out []dirEnt) ([]dirEnt, error) {
	for {
		n, err := unix.Getdents(d.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return out, &fs.PathError{Op: "readdirent", Path: d.path, Err: err}
		}
		if n <= 0 {
			return out, nil
		}
		for rec := buf[:n]; len(rec) > direntName; {
			reclen := int(binary.NativeEndian.Uint16(rec[direntReclen:]))
			if reclen < direntName || reclen > len(rec) {
				break
			}
			name, typ := rec[direntName:reclen], rec[direntType]
			rec = rec[reclen:]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if string(name) == "." || string(name) == ".." {
				continue
			}
			e := newDirEnt(prefix, name)
			if t, ok := dtType(typ); ok {
				e.typ = t
			} else if e.typ, err = d.lstatType(e.name); errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return out, err
			}
			out = append(out, e)
		}
	}
}

// dtType is the type bits of a d_type; false if unknown.
func dtType(t byte) (fs.FileMode, bool) {
	switch t {
	case unix.DT_REG:
		return 0, true
	case unix.DT_DIR:
		return fs.ModeDir, true
	case unix.DT_LNK:
		return fs.ModeSymlink, true
	case unix.DT_FIFO:
		return fs.ModeNamedPipe, true
	case unix.DT_SOCK:
		return fs.ModeSocket, true
	case unix.DT_BLK:
		return fs.ModeDevice, true
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice, true
	}
	return 0, false
}

// lstatType is the type bits of name's lstat.
func (d *dirHandle) lstatType(name string) (fs.FileMode, error) {
	var st unix.Stat_t
	if err := d.fstatat(name, &st); err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return 0, nil
	case unix.S_IFDIR:
		return fs.ModeDir, nil
	case unix.S_IFLNK:
		return fs.ModeSymlink, nil
	case unix.S_IFIFO:
		return fs.ModeNamedPipe, nil
	case unix.S_IFSOCK:
		return fs.ModeSocket, nil
	case unix.S_IFBLK:
		return fs.ModeDevice, nil
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice, nil
	}
	return fs.ModeIrregular, nil
}

// fstatat lstats name in d; the error is an *fs.PathError naming the full
// path, as os.Lstat's.
func (d *dirHandle) fstatat(name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(d.fd, name, st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, unix.EINTR):
			return &fs.PathError{Op: "lstat", Path: d.path + string(os.PathSeparator) + name, Err: err}
		}
	}
}

// lstat fills in c's Stat and permission bits, or its error.
func (d *dirHandle) lstat(c *child) {
	var st unix.Stat_t
	if c.err = d.fstatat(c.name, &st); c.err != nil {
		return
	}
	c.st = Stat{Size: st.Size, ModTime: st.Mtim.Nano(), Inode: st.Ino, Ctime: st.Ctim.Nano()}
	c.perm = fs.FileMode(st.Mode & 0o777)
}

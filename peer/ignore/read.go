package ignore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the ignore file, at the top of a folder.
const FileName = ".dartsyncignore"

// MaxFileSize bounds the ignore file (64 KiB, a few thousand patterns):
// every pattern is tried on every path a scan walks.
const MaxFileSize = 64 << 10

// Sentinel errors of Read.
var (
	// ErrTooLarge: the ignore file is larger than MaxFileSize.
	ErrTooLarge = errors.New("ignore file larger than 64 KiB")
	// ErrNotRegular: the ignore file is a directory, a symlink or another
	// non-regular file.
	ErrNotRegular = errors.New("ignore file is not a regular file")
)

// Read returns the contents of the ignore file of the folder root; nil and
// no error if there is none. A file too large (ErrTooLarge), not regular
// (ErrNotRegular) or unreadable, or a missing folder, is an error: the
// caller keeps its rules.
func Read(root string) ([]byte, error) {
	p := filepath.Join(root, FileName)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		if _, rerr := os.Stat(root); rerr != nil {
			return nil, fmt.Errorf("ignore: folder: %w", rerr) // the folder is gone, not the file
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ignore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("ignore: %s: %w", p, ErrNotRegular)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("ignore: %s: %w", p, ErrTooLarge)
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // removed since the lstat
	}
	if err != nil {
		return nil, fmt.Errorf("ignore: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("ignore: read %s: %w", p, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("ignore: %s: %w", p, ErrTooLarge) // grew since the lstat
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

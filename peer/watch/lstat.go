package watch

import "os"

func lstat(p string) (os.FileInfo, error) { return os.Lstat(p) }

package peer

import (
	"io/fs"

	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// statOf returns the index stat of an lstat result: size, mtime, inode and
// inode change time, as the scanner takes them (scan.StatOf; inode and
// ctime are 0 where the platform has none).
func statOf(fi fs.FileInfo) index.Stat { return indexStat(scan.StatOf(fi)) }

// indexStat is the index form of a scanner Stat.
func indexStat(s scan.Stat) index.Stat {
	return index.Stat{Size: s.Size, ModTime: s.ModTime, Inode: s.Inode, Ctime: s.Ctime}
}

// scanStat is the scanner form of an index Stat (the mode is not kept).
func scanStat(s index.Stat) scan.Stat {
	return scan.Stat{Size: s.Size, ModTime: s.ModTime, Inode: s.Inode, Ctime: s.Ctime}
}

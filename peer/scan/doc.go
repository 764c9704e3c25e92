// Package scan walks a synced folder and gives the manifest of every
// regular file and directory in it, in walk order and in bounded batches,
// hashing only what changed.
//
// Terms:
//
//   - Entry: one regular file or directory of the folder, with its manifest,
//     the Stat that was taken before it was hashed, and whether this scan
//     hashed it.
//   - Stat: the stat data that proves a file unchanged since it was hashed:
//     size, modification time (ns), inode and inode change time (ctime, ns;
//     inode and ctime are 0 where the platform has none). The ctime catches a
//     same-size rewrite that restores the mtime (cp -p, rsync -t --inplace,
//     touch -r); it also moves on a chmod or a new hard link, which costs
//     one rehash of an unchanged file.
//   - Prev: the caller's previous state of a path (last manifest and Stat).
//     A file whose Stat equals Prev's and whose manifest was built with the
//     same piece size is not read again: its previous manifest is reused
//     (Hashed false).
//   - Ignored: a path Options.Ignore names (the folder's ignore rules): not
//     listed, not skipped, and an ignored directory is not entered.
//   - Skip: a path that exists but is not synced: a symlink or other
//     non-regular file (never followed), a name ValidatePath refuses, an
//     unreadable file or directory, or a file that kept changing while it was
//     hashed. A caller must not treat a skipped path as deleted.
//
// A file modified (or its ctime changed) less than 50 ms before it would be
// hashed is hashed only after that window: timestamps are coarse, and a second same-size write in
// the same timestamp tick would otherwise be invisible to every later scan.
//
// The state directory (manifest.StateDir) at the top of the folder is not
// walked. Files that vanish between the walk and their hashing are left out
// (they are gone).
//
//   - Walk order: the order of a depth-first walk that lists each
//     directory's names sorted (os.ReadDir), a directory just before what
//     it holds: paths compared component by component, so "a/x" comes
//     before "a.txt". It is the order of the peer's index pages
//     (peer/index.ComparePaths). Entries and skipped paths come in walk
//     order, whatever the number of workers.
//   - Batch: a bounded run of the walk (Options.Batch entries and skipped
//     paths at most). Stream gives the folder batch by batch, so memory is
//     bounded by the batch and the hashing window, not by the number of
//     files (the largest single directory's names are read at once).
//
// The walk reads each directory once (names and types; on Linux with
// getdents into one buffer) and lstats its directories and regular files
// a chunk at a time on a small pool (Options.StatWorkers; on Linux
// relative to the open directory), then hands them on in walk order: a
// rescan of an unchanged tree costs one lstat per entry, on several
// cores.
//
// Hashing runs on a bounded pool of Options.Workers goroutines (default
// GOMAXPROCS), several files at once, while the walk goes on; outcomes are
// put back in walk order. A large file is also hashed on all cores by
// manifest.Build. Memory is bounded by the pool and the window, not by file
// sizes.
package scan

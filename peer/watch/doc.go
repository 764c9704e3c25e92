// Package watch tells the peer which parts of its folder may have changed.
//
// Terms:
//
//   - Watcher: fsnotify watches on the folder and every directory below it
//     (directories that appear are watched as they appear, removed ones are
//     dropped), except the state directory manifest.StateDir and the
//     directories Options.Skip names (ignored ones).
//   - Quiet: a path is reported once no event has touched it for Options.Delay
//     (debouncing), so a file being written is not hashed half-way.
//   - Completion hint: the system says a file is complete: it was closed
//     after writing, or renamed into a watched directory (Linux: inotify's
//     IN_CLOSE_WRITE and IN_MOVED_TO, read from a second inotify instance
//     because fsnotify does not export them; hint_linux.go). Such a path is
//     quiet after Options.Settle instead of Delay, and its ordinary events
//     in the hintGrace that follows (fsnotify's queue is read apart, so a
//     write's own event may arrive after its close) keep it at Settle.
//     Elsewhere, or where the hint instance cannot watch a directory, every
//     path waits for Delay.
//   - Change: what the Watcher emits: folder-relative paths that may have
//     changed, or All when only a full scan can tell (event queue overflow,
//     the kernel's watch limit reached, the periodic rescan, a new directory
//     whose contents appeared before it was watched is reported by its path).
//     Root: the folder itself or its state directory was created, removed or
//     renamed (the consumer checks the folder marker); reported without
//     waiting for quiet. A removed or renamed root is no longer watched: the
//     consumer starts a new Watcher once the folder is back.
//
// The Watcher never reads files; the consumer rescans what a Change names.
package watch

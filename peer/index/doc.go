// Package index is the peer's embedded record of what it last synced.
//
// Terms:
//
//   - Entry: for one folder-relative path, the manifest of the version the peer
//     last synced (reported to or applied from the tracker) and the Stat of the
//     file on disk when it was synced (size, mtime, inode and inode change
//     time). A file whose Stat still matches is known to be unchanged without
//     reading it. A deleted path keeps its tombstone. Entries written before
//     the ctime was kept read with ctime 0 (unknown): such a file is hashed
//     once and, if unchanged, recorded again with its ctime.
//   - Want: a version the tracker announced that the peer has not applied yet,
//     with the devices that own it. Wants are persisted together with the last
//     tracker sequence number, so a restart never forgets work it acknowledged.
//   - Seq: the highest tracker sequence number whose changes are either applied
//     or stored as wants; the peer registers with it to receive only later ones.
//   - Membership: the tracker address and device ID remembered after the first
//     successful join, so later runs need neither address nor token.
//
// The index lives in one bbolt file; all entries are also kept in memory, so
// lookups during a scan cost no disk I/O. Writes go through Update, which
// commits a whole batch in one transaction.
package index

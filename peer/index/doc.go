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
//     Wants lists them as heads (no piece lists, manifest.UnmarshalHead);
//     Want decodes one whole.
//   - Seq: the highest tracker sequence number whose changes are either applied
//     or stored as wants; the peer registers with it to receive only later ones.
//   - Membership: the tracker address and device ID remembered after the first
//     successful join, so later runs need neither address nor token.
//   - Epoch: the tracker epoch Seq counts in (tracker.Epoch). It is set to
//     none before a re-announce and to the tracker's epoch once the
//     re-announce is answered, so an interrupted re-announce is redone.
//   - Heard: the highest sequence number of Epoch this peer heard of: Seq,
//     or the tracker's answer to one of its reports, whichever is higher
//     (heard.go). It is stored no later than what the answer made the peer
//     record, and sent at registration, so a tracker whose state lacks a
//     commit the peer relies on asks it to re-announce.
//   - History: per path, the file IDs its entry held before the current one
//     (at most MaxHistory, newest first, repeats included: X, deleted, X
//     again holds X twice). A re-announce sends them as the entry's
//     ancestors, so the tracker can tell an older version of the path from a
//     concurrent one, and order versions that came back.
//
// The index lives in one bbolt file; all entries are also kept in memory, so
// lookups during a scan cost no disk I/O. Writes go through Update, which
// commits a whole batch in one transaction.
package index

package chunkstore

import (
	"errors"
	"unsafe"
)

// directAlign is the alignment of a direct write's memory, offset and
// length: a multiple of the logical block size of any disk in use.
const directAlign = 4096

// errNoDirect: the file system or the alignment does not allow a direct
// write; the caller writes through the page cache instead.
var errNoDirect = errors.New("chunkstore: direct I/O not available")

// writeAt writes a verified piece's bytes at off in the partial file.
//
// Where the platform allows it, whole aligned pieces are written directly
// to the disk (O_DIRECT) rather than through the page cache. A download is
// written once and not read back, and it is fsynced before it is renamed
// into place anyway, so the page cache buys nothing; filling it costs a
// page allocation per 4 KiB, which on a VM whose free memory went back to
// the host costs several CPU-seconds per GiB (measured on the 2-core dev
// VM: 1 GiB in 1 MiB writes from 4 goroutines then fsync took 4.2-4.8 s
// and 6.6 CPU-s through the page cache, 0.8-1.2 s and 0.2-0.3 CPU-s
// direct; 0.7 s and 0.35 CPU-s through the page cache when its memory had
// just been freed). The last, shorter piece, unaligned buffers and
// single-piece files go through the page cache (a direct write would be a
// device write of its own, where a CommitBatch writes the data of many such
// files together: with 10 000 files of 4 KiB on the 2-core VM, a third less
// CPU, 2014-2162 files/s instead of 1485-1632); the first refusal (a file
// system without O_DIRECT, such as an older tmpfs) turns direct writes off
// for the store.
// Durability is unchanged: flush and Commit fdatasync/fsync the file,
// which also commits the block allocations of direct writes.
func (p *Partial) writeAt(data []byte, off int64) error {
	if len(p.m.Pieces) > 1 && p.s.direct.Load() && directAligned(data, off) {
		err := p.s.writeDirect(p.path, data, off)
		if !errors.Is(err, errNoDirect) {
			return err
		}
		if p.s.direct.CompareAndSwap(true, false) {
			p.s.log.Info("chunkstore: direct writes refused; writing through the page cache", "file", p.path)
		}
	}
	_, err := p.f.WriteAt(data, off)
	return err
}

// directAligned reports whether data and off meet directAlign.
func directAligned(data []byte, off int64) bool {
	return len(data) > 0 && len(data)%directAlign == 0 && off%directAlign == 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(data)))%directAlign == 0
}

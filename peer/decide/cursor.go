package decide

import (
	"fmt"

	"github.com/dartsync/dartsync/peer/index"
)

// Pager returns up to n index entries whose paths come after `after` in
// walk order, in walk order (index.Index.Page, index.PageReader.Page: the
// slice may be reused by the next call, which the Cursor allows).
type Pager func(after string, n int) ([]index.Entry, error)

// cursorPage is how many entries a Cursor reads at a time.
const cursorPage = 2048

// Cursor reads the index forward in walk order, one page at a time: a
// page of entries in memory, whatever the size of the index. Not safe for
// concurrent use.
type Cursor struct {
	page  Pager
	n     int
	buf   []index.Entry
	i     int
	after string
	end   bool
	err   error
}

// NewCursor returns a cursor at the first entry of the index page reads.
func NewCursor(page Pager) *Cursor { return &Cursor{page: page, n: cursorPage} }

// Peek returns the entry at the cursor; ok is false at the end of the
// index or after a read error (Err).
func (c *Cursor) Peek() (*index.Entry, bool) {
	for c.i >= len(c.buf) {
		if c.end || c.err != nil {
			return nil, false
		}
		buf, err := c.page(c.after, c.n)
		if err != nil {
			c.err = fmt.Errorf("read index page after %q: %w", c.after, err)
			return nil, false
		}
		c.buf, c.i = buf, 0
		if len(buf) == 0 { // a short page need not be the last
			c.end = true
			return nil, false
		}
		c.after = buf[len(buf)-1].Manifest.Path
	}
	return &c.buf[c.i], true
}

// Next moves the cursor past the entry Peek returned.
func (c *Cursor) Next() {
	if c.i < len(c.buf) {
		c.buf[c.i] = index.Entry{} // not kept alive by the page
		c.i++
	}
}

// Seek returns the entry of path, moving the cursor past every entry
// before it; ok is false if the index has none. Paths must be asked in
// walk order (the scan's Prev).
func (c *Cursor) Seek(path string) (index.Entry, bool) {
	for {
		e, ok := c.Peek()
		if !ok {
			return index.Entry{}, false
		}
		switch index.ComparePaths(e.Manifest.Path, path) {
		case -1:
			c.Next()
		case 0:
			return *e, true
		default:
			return index.Entry{}, false
		}
	}
}

// Err is the error that ended the cursor early, if any.
func (c *Cursor) Err() error { return c.err }

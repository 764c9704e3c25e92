package ignore

import (
	"fmt"
	"testing"
)

// BenchmarkIgnored: one path three directories deep against the defaults
// and ten patterns, the cost per path a scan's diff pays.
func BenchmarkIgnored(b *testing.B) {
	m, _ := New(true, []byte("*.log\nbuild/\n/dist\nnode_modules/\n**/cache/**\n!keep.log\n*.o\n*.pyc\n__pycache__/\ndocs/**/draft-*\n"))
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = fmt.Sprintf("src/pkg%d/sub/file%d.go", i%10, i)
	}
	b.Run("Ignored", func(b *testing.B) {
		for i := range b.N {
			m.Ignored(paths[i%len(paths)], false)
		}
	})
	b.Run("Checker", func(b *testing.B) {
		c := m.Checker()
		for i := range b.N {
			c.Ignored(paths[i%len(paths)], false)
		}
	})
}

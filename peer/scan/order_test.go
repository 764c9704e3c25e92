package scan

// walkCompare orders paths in walk order (peer/index.ComparePaths, which
// this package cannot import): component by component, "a/x" before
// "a.txt".
func walkCompare(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		ca, cb := a[i], b[i]
		switch {
		case ca == cb:
			continue
		case ca == '/':
			return -1
		case cb == '/':
			return 1
		case ca < cb:
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

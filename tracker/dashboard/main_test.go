package dashboard_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind (trackers, clients
// and HTTP servers are all stopped by their tests' cleanups).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

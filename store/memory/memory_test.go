package memory_test

import (
	"testing"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) babysitter.Store { return memory.New() })
}

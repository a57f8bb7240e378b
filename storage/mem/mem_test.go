package mem_test

import (
	"testing"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/storage/storagetest"
)

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return mem.New() })
}

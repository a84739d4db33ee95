package memstore_test

import (
	"testing"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/storage/storagetest"
)

func TestStore_MeetsTheStorageContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) zocket.Storage { return memstore.New() })
}

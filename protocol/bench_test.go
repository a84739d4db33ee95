package protocol_test

import (
	"testing"

	"github.com/zocket-go/zocket/protocol"
)

var rpcFrame = []byte(`{"type":"rpc","id":"rpc_12345_mwx6ar59","actor":"counter","actorId":"rtt","method":"add","input":{"amount":5}}`)

func BenchmarkParseRPC(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(rpcFrame)))
	for b.Loop() {
		if _, err := protocol.Parse(rpcFrame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResult(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 128)
	id, res := []byte(`"rpc_12345_mwx6ar59"`), []byte(`42`)
	for b.Loop() {
		buf = protocol.AppendResult(buf[:0], id, res)
	}
}

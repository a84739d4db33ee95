package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	ok := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for _, s := range []string{``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":1,}`, `[1,]`, `01`, `-`, `-0`, `1.`, `1.5e`, `1e+5`,
		`"\u00e9"`, `"\u00g9"`, `"\x"`, "\"\x01\"", `"a`, `tru`, `true `, ` null`, `{"a" 1}`, `{"a":}`, `[1 2]`,
		`{"a":{"b":[true,false,null,"x",-1.5E-3]}}`, "\"\xff\"", deep, ok} {
		if got, want := valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("valid(%.40q) = %v, json.Valid = %v", s, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"type":"rpc","input":[1,{"a":"\u1234"}]}`, `-0.5e+3`, `[`, `"\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := valid(data), json.Valid(data); got != want {
			t.Fatalf("valid(%q) = %v, json.Valid = %v", data, got, want)
		}
	})
}

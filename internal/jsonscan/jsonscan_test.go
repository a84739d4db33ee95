package jsonscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCursor_WalksMembersAndElementsWithNestedValuesAndEscapes(t *testing.T) {
	var got []string
	c := NewCursor([]byte(` { "a" : [1, {"x":"]"}] , "b\"c":"s,}", "d":null } `)[1:])
	for {
		k, v, ok := c.Next(true)
		if !ok {
			break
		}
		got = append(got, string(k)+"="+string(v))
	}
	assert.Equal(t, []string{`a=[1, {"x":"]"}]`, `b\"c="s,}"`, `d=null`}, got)

	got = nil
	c = NewCursor([]byte(`[ 1 ,"two",[3],{} ]`))
	for {
		_, v, ok := c.Next(false)
		if !ok {
			break
		}
		got = append(got, string(v))
	}
	assert.Equal(t, []string{"1", `"two"`, "[3]", "{}"}, got)

	c = NewCursor([]byte(`{}`))
	_, _, ok := c.Next(true)
	assert.False(t, ok)
}

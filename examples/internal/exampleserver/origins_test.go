package exampleserver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOrigins_ComeFromACommaSeparatedFlag(t *testing.T) {
	ctx := WithOrigins(context.Background(), splitList(" localhost:5173, ,*.example.com"))
	assert.Equal(t, []string{"localhost:5173", "*.example.com"}, Origins(ctx))
	assert.Empty(t, Origins(WithOrigins(context.Background(), splitList(""))), "no flag: same origin only")
	assert.Empty(t, Origins(context.Background()))
}

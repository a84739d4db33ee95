package wscore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/transport/wscore"
)

func TestValidate_ReportsEveryNegativeField(t *testing.T) {
	err := wscore.Options{ReadLimit: -1, PingTimeout: -1, SendQueue: -1, SendQueueBytes: -1, WriteTimeout: -1}.Validate()
	require.ErrorIs(t, err, wscore.ErrInvalidOptions)
	for _, field := range []string{"ReadLimit", "PingTimeout", "SendQueue", "SendQueueBytes", "WriteTimeout"} {
		assert.ErrorContains(t, err, field)
	}
}

func TestValidate_AcceptsZeroValuesAndPingsDisabledByANegativeInterval(t *testing.T) {
	assert.NoError(t, wscore.Options{}.Validate())
	assert.NoError(t, wscore.Options{PingInterval: -1}.Validate())
}

func TestWithDefaults_ReplacesZeroFieldsOnly(t *testing.T) {
	o := wscore.Options{SendQueue: 7, PingInterval: -1}.WithDefaults()
	assert.Equal(t, int64(wscore.DefaultReadLimit), o.ReadLimit)
	assert.Equal(t, time.Duration(-1), o.PingInterval, "pings stay disabled")
	assert.Equal(t, wscore.DefaultPingTimeout, o.PingTimeout)
	assert.Equal(t, 7, o.SendQueue)
	assert.Equal(t, wscore.DefaultSendQueueBytes, o.SendQueueBytes)
	assert.Equal(t, wscore.DefaultWriteTimeout, o.WriteTimeout)
	assert.NotNil(t, o.Logger)
}

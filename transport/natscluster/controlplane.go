package natscluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ControlPlane is the runtime's side of the control plane's HTTP API
// (docs/distributed.md): the status report. (The bundle download has no Go
// counterpart: actors are compiled in.)
type ControlPlane struct {
	URL     string // base URL; a trailing "/" is ignored
	Token   string // CONTROL_PLANE_INTERNAL_TOKEN
	Timeout time.Duration
	Client  *http.Client // default: http.DefaultClient
}

// RuntimeReport is the body of POST /api/internal/runtime/report.
type RuntimeReport struct {
	DeploymentID string   `json:"deploymentId"`
	Status       string   `json:"status"` // "ready" or "failed"
	ActorTypes   []string `json:"actorTypes,omitempty"`
	Message      string   `json:"message,omitempty"`
}

// Report posts r, bounded by Timeout (default 5 s); a status other than
// 2xx is an error "Runtime status report responded <status>".
func (cp *ControlPlane) Report(ctx context.Context, r RuntimeReport) error {
	status, _, err := postJSON(ctx, cp.Client, cp.Timeout, strings.TrimSuffix(cp.URL, "/")+"/api/internal/runtime/report", cp.Token, r)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("Runtime status report responded %d", status)
	}
	return nil
}

// postJSON posts v as JSON to the control plane at url (with a bearer
// token, within timeout, default 5 s) and returns the status and up to 1
// MiB of the answer.
func postJSON(ctx context.Context, client *http.Client, timeout time.Duration, url, token string, v any) (int, []byte, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}

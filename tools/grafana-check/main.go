// Command grafana-check loads a Grafana dashboard with Grafana's own schema
// types (grafana-foundation-sdk, strict: unknown or missing fields fail) and
// prints every panel's Prometheus queries as JSON lines, so a test can check
// them against what the service really exports.
//
//	grafana-check deploy/grafana/t4dm.json
//
// Exit codes: 0 loaded, 1 the file does not load as a dashboard, 2 usage.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

type query struct {
	Panel string `json:"panel"`
	Expr  string `json:"expr"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: grafana-check DASHBOARD.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	// Panel options and queries are typed by their plugin (timeseries, stat, prometheus, ...).
	plugins.RegisterDefaultPlugins()
	var board dashboard.Dashboard
	if err := board.UnmarshalJSONStrict(raw); !isNil(err) {
		fail(err)
	}
	if err := board.Validate(); err != nil {
		fail(err)
	}
	// The dashboard's own unmarshaller checks every panel but, in this SDK version, keeps none of
	// them (it treats each panel's empty error list as a failure), so read the panels again one by one.
	var raws struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &raws); err != nil {
		fail(err)
	}
	out := json.NewEncoder(os.Stdout)
	for i, rawPanel := range raws.Panels {
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(rawPanel, &kind); err != nil {
			fail(err)
		}
		if kind.Type == "row" {
			continue // a row groups panels; it has no queries
		}
		var panel dashboard.Panel
		if err := panel.UnmarshalJSONStrict(rawPanel); !isNil(err) {
			fail(fmt.Errorf("panels[%d]: %w", i, err))
		}
		title := ""
		if panel.Title != nil {
			title = *panel.Title
		}
		if panel.Datasource == nil || panel.Datasource.Type == nil || *panel.Datasource.Type != "prometheus" {
			fail(fmt.Errorf("panel %q does not query a Prometheus data source", title))
		}
		// Same trap as above for the panel's queries: read them one by one.
		var targets struct {
			Targets []json.RawMessage `json:"targets"`
		}
		if err := json.Unmarshal(rawPanel, &targets); err != nil {
			fail(err)
		}
		if len(targets.Targets) == 0 {
			fail(fmt.Errorf("panel %q has no queries", title))
		}
		for j, rawTarget := range targets.Targets {
			var target prometheus.Dataquery
			if err := target.UnmarshalJSONStrict(rawTarget); !isNil(err) {
				fail(fmt.Errorf("panel %q, targets[%d]: %w", title, j, err))
			}
			if err := out.Encode(query{Panel: title, Expr: target.Expr}); err != nil {
				fail(err)
			}
		}
	}
}

// isNil: the strict unmarshaller returns its (possibly empty) error list as an error, so an
// empty list is a non-nil interface holding no errors.
func isNil(err error) bool {
	errs, isList := err.(cog.BuildErrors)
	return err == nil || (isList && len(errs) == 0)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "grafana-check: %v\n", err)
	os.Exit(1)
}

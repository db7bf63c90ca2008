// Package web serves Vigil's embedded user interface (go:embed): every script, style and font
// comes from the binary, none from another host. The UI is a single page of plain ES modules
// under assets/ (no build step, so building the binary needs no Node.js): app.js routes a path
// to a page module under assets/pages/, lib/ holds the shared pieces (the page context, charts
// over the vendored uPlot, a virtualised list, formatting), and vendor/ holds third-party code
// with its licence.
//
// Handler serves those files and answers index.html for any other GET that names no asset
// (SPA routing: /traces/<id> reloads into the same page), plus pages/index.json, the list of
// page modules present, so the router can say "not built yet" for a page that is not there
// without a failed request. API routes are mounted before it, so they never reach it.
//
// Dashboards serves /api/v1/dashboards: dashboard files (JSON or YAML) in one folder, validated
// before they are written atomically, plus the built-in read-only Golden signals dashboard.
//
// It reads the stores only through their HTTP query APIs, as any other client would; it must
// not import a store.
package web

// Package web serves Vigil's embedded user interface (go:embed): every script, style and font
// comes from the binary, none from another host. Until the full UI lands, the index page lists
// what this Vigil serves and links to its APIs.
//
// It reads the stores only through their HTTP query APIs, as any other client would; it must
// not import a store.
package web

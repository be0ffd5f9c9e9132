// Command hclread reads an HCL spec on standard input and prints, as JSON, the
// document provision's HCL reader (provision/spec/loader_hcl.py, on python-hcl2)
// builds from it, as flat lists (cheap to decode):
//
//	{"data": ...,                                   the spec's plain data
//	 "paths": [parent, key, parent, key, ...],      path i (from 1) is path parent + (key,);
//	                                                path 0 is the root, ()
//	 "locations": [path, line, column, ...],        in the order the reader records them
//	 "duplicates": [path, line, column, first_line, ...]}
//
// (see provision/spec/hclread.py).
//
// It parses with hashicorp/hcl's hclsyntax and covers the plain subset of HCL
// whose python-hcl2 rendering is known exactly: blocks with quoted labels,
// attributes, objects, tuples, quoted strings without escapes or directives
// whose interpolations are plain references, decimal numbers, booleans, null
// and plain references. For anything else -- a syntax error, an expression
// outside that subset, a block python-hcl2's reader would report, nesting deeper
// than -max-depth -- it prints the reason on standard error and exits with 3, and
// the caller reads the file with python-hcl2 (which then gives the diagnostics).
//
// Lines and columns are 1-based; columns count characters (code points), as
// python-hcl2's parser does.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const exitFallback = 3

// fallback aborts the read: the caller uses python-hcl2 instead.
type fallback struct{ reason string }

func bail(format string, args ...any) { panic(fallback{fmt.Sprintf(format, args...)}) }

// read builds the document of src, or says why it falls back.
func read(src []byte, maxDepth int) (r *reader, data *object, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(fallback)
			if !ok {
				panic(p)
			}
			err = fmt.Errorf("%s", f.reason)
		}
	}()
	r = &reader{src: src, lineStarts: []int{0}, maxDepth: maxDepth, nodes: map[nodeKey]path{}}
	for i, c := range src {
		if c == '\n' {
			r.lineStarts = append(r.lineStarts, i+1)
		}
	}
	root := &node{}
	r.locate(root, pos{1, 1})
	data = newObject()
	seen := map[string]bool{}
	start := 0
	for _, end := range append(chunks(src, chunkSize), len(src)) {
		at := hcl.Pos{Byte: start, Line: sort.SearchInts(r.lineStarts, start+1), Column: 1}
		file, diags := hclsyntax.ParseConfig(src[start:end], "spec.hcl", at)
		if diags.HasErrors() {
			return nil, nil, fmt.Errorf("syntax: %s", diags.Error())
		}
		r.fill(data, file.Body.(*hclsyntax.Body), root, true, seen)
		start = end
	}
	return r, data, nil
}

func main() {
	maxDepth := flag.Int("max-depth", 64, "deepest key path accepted (longer ones fall back)")
	flag.Parse()
	debug.SetGCPercent(400) // a short run on one file: trade memory for fewer collections
	src, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r, data, err := read(src, *maxDepth)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitFallback)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	w.WriteString(`{"data":`)
	write(w, data)
	locations := make([]any, 0, 3*len(r.located))
	for _, p := range r.located {
		locations = append(locations, r.id(p), p.at.line, p.at.column)
	}
	duplicates := make([]any, 0, 4*len(r.duplicates))
	for _, d := range r.duplicates {
		duplicates = append(duplicates, r.id(d.path), d.at.line, d.at.column, d.firstLine)
	}
	w.WriteString(`,"paths":`)
	write(w, r.table)
	w.WriteString(`,"locations":`)
	write(w, locations)
	w.WriteString(`,"duplicates":`)
	write(w, duplicates)
	w.WriteString("}\n")
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// The document python-hcl2's reader builds, built from hclsyntax's syntax tree.

package main

import (
	"bytes"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var topBlock = map[string]string{"variable": "variables", "environment": "environments", "resource": "resources"}

// number is a JSON number token, kept as text.
type number string

// object is a map that keeps its keys in insertion order, like a Python dict.
type object struct {
	keys   []string
	values map[string]any
}

func newObject() *object { return &object{values: map[string]any{}} }

func (o *object) has(k string) bool { _, ok := o.values[k]; return ok }

func (o *object) set(k string, v any) {
	if !o.has(k) {
		o.keys = append(o.keys, k)
	}
	o.values[k] = v
}

type pos struct{ line, column int }

// path is a key path: a node of a tree rooted at (), one node per distinct path
// (see extend), which holds the path's location once it has one and, once written
// out, its id in the path table.
type path = *node

type node struct {
	parent  path
	key     any // string or int
	depth   int
	id      int // 0: the root, or not yet in the table
	at      pos
	located bool
}

type nodeKey struct {
	parent path
	key    any
}

type duplicate struct {
	path      path
	at        pos
	firstLine int
}

type reader struct {
	src        []byte
	lineStarts []int
	maxDepth   int
	nodes      map[nodeKey]path
	located    []path // in the order their locations were first recorded
	duplicates []duplicate
	table      []any // parent id, key, parent id, key, ...: path i+1 is table[2i:2i+2]
}

func (r *reader) pos(p hcl.Pos) pos {
	off := p.Byte
	line := sort.Search(len(r.lineStarts), func(i int) bool { return r.lineStarts[i] > off })
	start := r.lineStarts[line-1]
	return pos{line, utf8.RuneCount(r.src[start:off]) + 1}
}

func (r *reader) raw(rng hcl.Range) string { return string(r.src[rng.Start.Byte:rng.End.Byte]) }

// extend is the path p + (k,): the same node for the same path.
func (r *reader) extend(p path, k any) path {
	nk := nodeKey{p, k}
	if n, ok := r.nodes[nk]; ok {
		return n
	}
	n := &node{parent: p, key: k, depth: p.depth + 1}
	r.nodes[nk] = n
	return n
}

// id is p's id in the path table, adding p (after its parents) when it is not there yet.
func (r *reader) id(p path) int {
	if p.id > 0 || p.parent == nil {
		return p.id
	}
	parent := r.id(p.parent)
	r.table = append(r.table, parent, p.key)
	p.id = len(r.table) / 2
	return p.id
}

func (r *reader) location(p path) (pos, bool) { return p.at, p.located }

// locate is doc.locations[path] = at (a dict keeps a replaced key in place).
func (r *reader) locate(p path, at pos) {
	if p.depth > r.maxDepth {
		bail("nests deeper than %d levels", r.maxDepth)
	}
	if !p.located {
		p.located = true
		r.located = append(r.located, p)
	}
	p.at = at
}

// put mirrors loader_hcl._put.
func (r *reader) put(result *object, key string, value any, p path, at pos) {
	sub := r.extend(p, key)
	if result.has(key) {
		first, _ := r.location(sub)
		r.duplicates = append(r.duplicates, duplicate{sub, at, first.line})
		return
	}
	r.locate(sub, at)
	result.set(key, value)
}

type item struct {
	start int
	attr  *hclsyntax.Attribute
	block *hclsyntax.Block
}

// body mirrors loader_hcl._body: attributes and blocks in source order.
func (r *reader) body(b *hclsyntax.Body, p path, top bool) *object {
	result := newObject()
	r.fill(result, b, p, top, map[string]bool{})
	return result
}

// fill adds the items of b to result. The top-level body may come in several parts
// (see chunks), filled in order with one “seen“.
func (r *reader) fill(result *object, b *hclsyntax.Body, p path, top bool, seen map[string]bool) {
	items := make([]item, 0, len(b.Attributes)+len(b.Blocks))
	for name, a := range b.Attributes {
		if seen[name] { // hclsyntax reports this within one part; across parts, so do we
			bail("attribute %q redefined", name)
		}
		seen[name] = true
		items = append(items, item{start: a.SrcRange.Start.Byte, attr: a})
	}
	for _, blk := range b.Blocks {
		items = append(items, item{start: blk.TypeRange.Start.Byte, block: blk})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].start < items[j].start })
	for _, it := range items {
		if a := it.attr; a != nil {
			name := r.raw(a.NameRange)
			if !isIdent(name) {
				bail("attribute name %q", name)
			}
			at := r.pos(a.NameRange.Start)
			if result.has(name) {
				r.put(result, name, nil, p, at)
				continue
			}
			sub := r.extend(p, name)
			r.locate(sub, at)
			result.set(name, r.expr(a.Expr, sub))
		} else {
			r.block(it.block, result, p, top)
		}
	}
}

// block mirrors loader_hcl._block (whose diagnostics make this read fall back).
func (r *reader) block(b *hclsyntax.Block, result *object, p path, top bool) {
	kind := r.raw(b.TypeRange)
	if !isIdent(kind) {
		bail("block type %q", kind)
	}
	names := make([]string, len(b.LabelRanges))
	for i, rng := range b.LabelRanges {
		names[i] = r.quoted(rng, false)
	}
	at := r.pos(b.TypeRange.Start)
	key := kind
	if top {
		if mapped, ok := topBlock[kind]; ok {
			key = mapped
			if len(names) != 1 {
				bail("'%s' block with %d labels", kind, len(names))
			}
		}
	}
	if len(names) > 1 {
		bail("block '%s' with %d labels", kind, len(names))
	}
	if len(names) == 0 {
		if result.has(key) {
			r.put(result, key, nil, p, at)
			return
		}
		sub := r.extend(p, key)
		r.locate(sub, at)
		result.set(key, r.body(b.Body, sub, false))
		return
	}
	if !result.has(key) {
		result.set(key, newObject())
	}
	group, ok := result.values[key].(*object)
	if !ok {
		r.put(result, key, nil, p, at)
		return
	}
	sub := r.extend(p, key)
	if _, seen := r.location(sub); !seen {
		r.locate(sub, at)
	}
	value := r.body(b.Body, r.extend(sub, names[0]), false)
	r.put(group, names[0], value, sub, at)
}

// quoted is the text of a quoted string that python-hcl2 passes through as it
// is written: no escapes, no directives, and (with refs) interpolations only of
// plain references.
func (r *reader) quoted(rng hcl.Range, refs bool) string {
	text := r.raw(rng)
	if len(text) < 2 || text[0] != '"' || text[len(text)-1] != '"' {
		bail("not a quoted string: %q", text)
	}
	inner := text[1 : len(text)-1]
	if bytes.ContainsAny([]byte(inner), "\\\"\n\r") || bytes.Contains([]byte(inner), []byte("%{")) ||
		bytes.Contains([]byte(inner), []byte("$$")) {
		bail("string with escapes or directives: %q", text)
	}
	for i := 0; i < len(inner); i++ {
		if inner[i] != '$' || i+1 >= len(inner) || inner[i+1] != '{' {
			continue
		}
		if !refs {
			bail("interpolation in %q", text)
		}
		end := bytes.IndexByte([]byte(inner[i:]), '}')
		if end < 0 || !isRef(inner[i+2:i+end]) {
			bail("interpolation in %q", text)
		}
		i += end
	}
	return inner
}

// expr mirrors loader_hcl._expr for the subset, and bails outside it.
func (r *reader) expr(e hclsyntax.Expression, p path) any {
	switch x := e.(type) {
	case *hclsyntax.ObjectConsExpr:
		obj := newObject()
		for _, el := range x.Items {
			k, ok := el.KeyExpr.(*hclsyntax.ObjectConsKeyExpr)
			if !ok || k.ForceNonLiteral {
				bail("object key")
			}
			var key string
			switch w := k.Wrapped.(type) {
			case *hclsyntax.ScopeTraversalExpr:
				key = r.raw(w.SrcRange)
				if !isIdent(key) {
					bail("object key %q", key)
				}
			case *hclsyntax.TemplateExpr:
				key = r.quoted(w.SrcRange, false)
			default:
				bail("object key")
			}
			at := r.pos(k.Range().Start)
			if obj.has(key) {
				r.put(obj, key, nil, p, at)
				continue
			}
			sub := r.extend(p, key)
			r.locate(sub, at)
			obj.set(key, r.expr(el.ValueExpr, sub))
		}
		return obj
	case *hclsyntax.TupleConsExpr:
		items := make([]any, 0, len(x.Exprs))
		for i, el := range x.Exprs {
			sub := r.extend(p, i)
			r.locate(sub, r.pos(el.Range().Start))
			items = append(items, r.expr(el, sub))
		}
		return items
	case *hclsyntax.TemplateExpr, *hclsyntax.TemplateWrapExpr:
		return r.quoted(e.Range(), true)
	case *hclsyntax.ScopeTraversalExpr:
		text := r.raw(x.SrcRange)
		if !isRef(text) {
			bail("reference %q", text)
		}
		if len(x.Traversal) == 1 {
			return text // python-hcl2 renders a bare name as the name itself
		}
		return "${" + text + "}"
	case *hclsyntax.LiteralValueExpr, *hclsyntax.UnaryOpExpr:
		return r.literal(r.raw(e.Range()))
	}
	bail("expression %T", e)
	return nil
}

func (r *reader) literal(text string) any {
	switch {
	case text == "true":
		return true
	case text == "false":
		return false
	case text == "null":
		return nil
	case isInt(text):
		sign, digits := "", text
		if digits[0] == '-' {
			sign, digits = "-", digits[1:]
		}
		for len(digits) > 1 && digits[0] == '0' {
			digits = digits[1:]
		}
		return number(sign + digits)
	case isFloat(text):
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			bail("number %q", text)
		}
		sign, digits := "", text
		if digits[0] == '-' {
			sign, digits = "-", digits[1:]
		}
		for len(digits) > 1 && digits[0] == '0' && digits[1] != '.' {
			digits = digits[1:]
		}
		return number(sign + digits)
	}
	bail("literal %q", text)
	return nil
}

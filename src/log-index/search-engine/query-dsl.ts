// Compiles the operator query AST (query.ts) and a LogQuery's window into the search engines' query DSL.
// Only clauses that Elasticsearch 7.10+/8/9 and OpenSearch 1-3 share: bool, term, match_phrase, prefix, range, exists.
import type { QueryNode } from '../query.ts'
import type { ResolvedFilter } from '../resolve.ts'

export type Dsl = Record<string, unknown>

export function compileQueryDsl(node: QueryNode): Dsl {
  switch (node.kind) {
    case 'all':
      return { match_all: {} }
    case 'and':
      return { bool: { filter: node.children.map(compileQueryDsl) } }
    case 'or':
      return { bool: { should: node.children.map(compileQueryDsl), minimum_should_match: 1 } }
    case 'not':
      return { bool: { must_not: [compileQueryDsl(node.child)] } }
    case 'text': {
      // A prefix is a term-level query on the analysed terms, so the parser has lower-cased it already.
      const clauses = node.fields.map((field) =>
        node.prefix
          ? { prefix: { [field]: { value: node.text } } }
          : { match_phrase: { [field]: { query: node.text } } },
      )
      return clauses.length === 1 ? clauses[0]! : { bool: { should: clauses, minimum_should_match: 1 } }
    }
    case 'term':
      return { term: { [node.field]: { value: node.value } } }
    case 'prefix':
      return { prefix: { [node.field]: { value: node.value } } }
    case 'exists':
      return { exists: { field: node.field } }
    case 'range': {
      const bounds: Record<string, unknown> = {}
      for (const key of ['gt', 'gte', 'lt', 'lte'] as const) if (node[key] !== undefined) bounds[key] = node[key]
      // Dates go as epoch ms so the engine's rounding of partial dates (2026-03 in an lte) never applies.
      if (node.field === '@timestamp') bounds.format = 'epoch_millis'
      return { range: { [node.field]: bounds } }
    }
  }
}

/** The window [from, to) plus the query, as one filter-context bool (no scoring: results sort by time). */
export function compileFilterDsl(filter: ResolvedFilter): Dsl {
  const clauses: Dsl[] = [{ range: { '@timestamp': { gte: filter.fromMs, lt: filter.toMs, format: 'epoch_millis' } } }]
  if (filter.node.kind !== 'all') clauses.push(compileQueryDsl(filter.node))
  return { bool: { filter: clauses } }
}

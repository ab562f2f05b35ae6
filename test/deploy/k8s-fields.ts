// Unknown fields in a Kubernetes or KEDA object (a misspelled `readinessprobe` that the API server's strict field
// validation refuses): the compiled JSON schemas of kubernetes-models allow extra properties, so the object is walked
// along the TypeScript declarations the same packages ship, read with the TypeScript compiler API.
import { join } from 'node:path'
import ts from 'typescript'
import { REPO_ROOT } from '../support/cli-process.ts'

/** apiVersion and kind → the module and interface that declare it. */
const DECLARATIONS: Record<string, [module: string, name: string]> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'batch/v1/Job': ['kubernetes-models/batch/v1/Job', 'IJob'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': [
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'IHorizontalPodAutoscaler',
  ],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
  'keda.sh/v1alpha1/TriggerAuthentication': [
    '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
    'ITriggerAuthentication',
  ],
}

let cached: { checker: ts.TypeChecker; types: Map<string, ts.Type> } | null = null

/** One program for every declared kind (a second or two, once per test file). */
function declaredTypes() {
  if (cached) return cached
  const file = join(REPO_ROOT, 'test/deploy/k8s-declarations.virtual.ts')
  const entries = Object.entries(DECLARATIONS)
  const source = entries
    .map(([, [module, name]], i) => `import type { ${name} as T${i} } from '${module}'\nexport type K${i} = T${i}`)
    .join('\n')
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    noEmit: true,
    skipLibCheck: true,
    strict: true,
    types: [],
  }
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (f) => f === file || fileExists.call(host, f)
  host.readFile = (f) => (f === file ? source : readFile.call(host, f))
  host.getSourceFile = (f, language, ...rest) =>
    f === file ? ts.createSourceFile(f, source, language) : getSourceFile.call(host, f, language, ...rest)
  const program = ts.createProgram([file], options, host)
  const checker = program.getTypeChecker()
  const sf = program.getSourceFile(file)!
  const problems = ts.getPreEmitDiagnostics(program, sf)
  if (problems.length)
    throw new Error(ts.flattenDiagnosticMessageText(problems[0]!.messageText, '\n') || 'cannot read the declarations')
  const types = new Map<string, ts.Type>()
  for (const statement of sf.statements)
    if (ts.isTypeAliasDeclaration(statement)) {
      const index = Number(statement.name.text.slice(1))
      types.set(entries[index]![0], checker.getTypeAtLocation(statement.name))
    }
  cached = { checker, types }
  return cached
}

/** Paths (spec.template.spec.containers[0].readinessprobe) of the fields the declared type does not have. */
export async function findUnknownFields(apiVersion: string, kind: string, object: unknown): Promise<string[]> {
  const { checker, types } = declaredTypes()
  const type = types.get(`${apiVersion}/${kind}`)
  if (!type) throw new Error(`no declaration of ${apiVersion} ${kind} (add it to test/deploy/k8s-fields.ts)`)
  const unknown: string[] = []
  walk(checker, object, type, '', unknown)
  return unknown
}

function walk(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return
  const type = checker.getNonNullableType(declared)
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number)
    if (element) for (const [i, v] of value.entries()) walk(checker, v, element, `${path}[${i}]`, out)
    return
  }
  // A union of object shapes: the member that explains the most of the value.
  const candidates = type.isUnion() ? type.types.filter((t) => t.flags & ts.TypeFlags.Object) : [type]
  let best: string[] | null = null
  for (const candidate of candidates) {
    const found: string[] = []
    const index = checker.getIndexTypeOfType(candidate, ts.IndexKind.String)
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key
      const property = checker.getPropertyOfType(candidate, key)
      if (property) walk(checker, child, checker.getTypeOfSymbol(property), at, found)
      else if (index) walk(checker, child, index, at, found)
      else found.push(at)
    }
    if (!best || found.length < best.length) best = found
  }
  out.push(...(best ?? []))
}

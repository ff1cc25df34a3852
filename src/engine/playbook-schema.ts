import { z } from 'zod';
import type { ActionDefinition } from '../actions/define.js';
import { actions as registeredActions } from '../actions/index.js';

/**
 * The playbook format v1 as one zod schema. The validator (src/engine/playbook.ts) checks the
 * structure with it, and `cicd-ir schema` turns the same schema into JSON Schema for editors:
 * what an editor accepts and what `validate` accepts cannot drift apart. Checks zod cannot
 * express (registry lookups, references, cycles) live in playbook.ts.
 */

/** `15m`, `2h`, `1h30m`, `500ms`, `7d`. Units: ms, s, m, h, d. */
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration like `15m` or `1h30m`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
  return total;
}

/** Step ids and input names: lower-case kebab or snake case, usable in `steps.<id>` / `inputs.<name>`. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** `provider.verb-noun`: `github.disable-workflow`, `aws.revoke-role-sessions`. */
export const ACTION_ID_PATTERN = /^[a-z][a-z0-9]*\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export const INPUT_TYPES = ['string', 'string[]', 'boolean', 'duration', 'timestamp'] as const;

const duration = z.string().regex(DURATION_PATTERN, { error: 'expected a duration such as 30s, 15m, 2h or 1h30m' });

/**
 * The longest step timeout and retry backoff. Timers hold at most 2^31-1 ms (24.8 days): a
 * longer one fires at once, so a `25d` timeout would fail every attempt immediately. No single
 * containment step should run past a day anyway.
 */
export const MAX_STEP_DURATION_MS = 24 * 3_600_000;

/** A duration capped at MAX_STEP_DURATION_MS, checked by validate as the run would need it. */
const stepDuration = duration.refine((text) => (parseDuration(text) ?? 0) <= MAX_STEP_DURATION_MS, { error: 'at most 24h (timers cannot hold more than 24.8 days, and no step should run past a day)' });

export const InputSchema = z
  .strictObject({
    type: z.enum(INPUT_TYPES).describe('string, string[] (comma-separated or repeated --var), boolean, duration (15m, 2h) or timestamp (ISO-8601 with a zone)'),
    description: z.string().optional().describe('Shown by `cicd-ir plan` and in error messages.'),
    required: z.boolean().default(false).describe('The run refuses to start without it. A required input has no default.'),
    default: z
      .union([z.string(), z.boolean(), z.number(), z.array(z.string())])
      .optional()
      .describe('Used when no --var gives the input; coerced like a --var value.'),
  })
  .describe('A typed input, set with `--var name=value`.');

export const RetrySchema = z
  .strictObject({
    attempts: z.int().min(1).max(10).describe('Total tries, the first included (1 = no retry).'),
    backoff: stepDuration.default('1s').describe('Wait before the first retry; doubles after each failed try.'),
  })
  .describe('Retry a failed step.');

export const StepSchema = z
  .strictObject({
    id: z.string().regex(NAME_PATTERN, { error: 'a step id is lower-case kebab or snake case: disable-workflow' }).describe('Unique id: `steps.<id>.outputs.<name>` refers to it.'),
    name: z.string().optional().describe('Human-readable title shown in progress and reports.'),
    uses: z.string().regex(ACTION_ID_PATTERN, { error: 'an action id is provider.verb-noun: github.disable-workflow' }).describe('The action to run: `cicd-ir actions list` shows them.'),
    with: z.record(z.string(), z.unknown()).default({}).describe("The action's parameters; values may hold ${{ }} expressions."),
    needs: z
      .union([z.string(), z.array(z.string())], { error: 'needs is a step id or a list of step ids' })
      .optional()
      .describe('Step ids this step waits for. A step that reads steps.X.outputs also waits for X.'),
    if: z.union([z.string(), z.boolean()], { error: 'if is an expression or a boolean' }).optional().describe('Run the step only when this expression is true (bare or in ${{ }}).'),
    for_each: z
      .union([z.array(z.unknown()), z.string()], { error: 'for_each is a list or one ${{ }} expression that gives a list' })
      .optional()
      .describe('Fan out: run once per element, each seeing it as ${{ item }}.'),
    retry: RetrySchema.optional(),
    timeout: stepDuration.optional().describe('Fail the step (each fan-out element) after this long.'),
    continue_on_error: z.boolean().default(false).describe('A failure of this step does not fail the run (dependants still wait for it).'),
  })
  .describe('One step: an action with its parameters.');

export const PlaybookSchema = z
  .strictObject({
    name: z.string().min(1).describe('Playbook name.'),
    description: z.string().default('').describe('What the playbook does and when to run it.'),
    inputs: z.record(z.string().regex(NAME_PATTERN), InputSchema).default({}).describe('Typed inputs, set with --var name=value.'),
    steps: z.array(StepSchema).min(1, { error: 'a playbook needs at least one step' }).describe('The steps; independent ones run concurrently.'),
  })
  .describe('A cicd-ir playbook (format v1).');

export type PlaybookDocument = z.output<typeof PlaybookSchema>;
export type StepDocument = z.output<typeof StepSchema>;
export type InputDocument = z.output<typeof InputSchema>;

/** The keys an object at this schema path allows, for "unknown key" messages. */
export const ALLOWED_KEYS = {
  playbook: Object.keys(PlaybookSchema.shape),
  input: Object.keys(InputSchema.shape),
  step: Object.keys(StepSchema.shape),
  retry: Object.keys(RetrySchema.shape),
} as const;

/** Matches a string that is one `${{ ... }}` expression: any such value is accepted where a typed value is expected. */
const EXPRESSION_JSON_SCHEMA = {
  type: 'string',
  pattern: '^\\s*\\$\\{\\{.*\\}\\}\\s*$',
  description: 'An expression evaluated at run time.',
};

type JsonObject = Record<string, unknown>;

/** The formats JSON Schema 2020-12 defines; zod adds its own (`starts_with`, `includes`) that editors reject or ignore. */
const STANDARD_FORMATS = new Set([
  'date-time', 'date', 'time', 'duration', 'email', 'idn-email', 'hostname', 'idn-hostname', 'ipv4', 'ipv6',
  'uri', 'uri-reference', 'iri', 'iri-reference', 'uuid', 'uri-template', 'json-pointer', 'relative-json-pointer', 'regex',
]);

function toJson(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    // The pattern zod emits next to a non-standard format already says the same thing.
    override: ({ jsonSchema }) => {
      if (typeof jsonSchema.format === 'string' && !STANDARD_FORMATS.has(jsonSchema.format)) delete jsonSchema.format;
    },
  }) as JsonObject;
  delete json.$schema;
  return json;
}

/** An action's `with:` schema where each top-level field may also be an expression. */
function actionWithSchema(action: ActionDefinition): JsonObject {
  const json = toJson(action.schema);
  const properties = json.properties as Record<string, JsonObject> | undefined;
  if (properties) {
    for (const [key, property] of Object.entries(properties)) {
      properties[key] = { anyOf: [property, EXPRESSION_JSON_SCHEMA] };
    }
  }
  return { ...json, description: action.summary };
}

/**
 * JSON Schema (draft 2020-12) of the playbook format, from the zod schema the validator uses.
 * Each registered action adds an if/then on the step (`uses` equals its id, then `with` is the
 * action's schema), so editors complete and check parameters per action.
 */
export function playbookJsonSchema(registry: readonly ActionDefinition[] = registeredActions): object {
  const json = toJson(PlaybookSchema);
  const steps = (json.properties as Record<string, JsonObject>).steps!;
  const step = steps.items as JsonObject;
  const stepProperties = step.properties as Record<string, JsonObject>;
  if (registry.length > 0) {
    const ids = registry.map((action) => action.id).sort();
    stepProperties.uses = { ...stepProperties.uses, enum: ids };
    step.allOf = [...registry]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((action) => ({
        if: { properties: { uses: { const: action.id } }, required: ['uses'] },
        then: { properties: { with: actionWithSchema(action) } },
      }));
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'cicd-ir playbook',
    ...json,
  };
}

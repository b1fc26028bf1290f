import type { ApprovalRequest } from '../../domain/approval.js';
import type { JsonObject, JsonValue } from '../../domain/json-value.js';

/** The parts of a JSON Schema property the form can render; anything else is shown read-only. */
interface PropertySchema {
  type?: string;
  enum?: JsonValue[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  description?: string;
  items?: { type?: string };
  /** The catalog's own words for a refusal (input-problems.ts); the pattern's is the browser's hint too. */
  'x-responder-messages'?: Record<string, string>;
}

const FIELD_PREFIX = 'm.';

function propertiesOf(schema: Record<string, unknown>): [string, PropertySchema][] {
  const properties = (schema.properties ?? {}) as Record<string, PropertySchema>;
  return Object.entries(properties);
}

function Field(props: { name: string; schema: PropertySchema; value: JsonValue | undefined; required: boolean }) {
  const { name, schema, value, required } = props;
  const id = `field-${name}`;
  const field = `${FIELD_PREFIX}${name}`;
  const hint = schema.description ? <small id={`${id}-hint`}>{schema.description}</small> : null;
  const described = schema.description ? `${id}-hint` : undefined;
  let control;
  if (schema.enum) {
    control = (
      <select id={id} name={field} required={required} aria-describedby={described}>
        {schema.enum.map((option) => (
          <option value={String(option)} selected={option === value}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (schema.type === 'integer' || schema.type === 'number') {
    control = (
      <input id={id} name={field} type="number" value={value === undefined ? '' : String(value)} required={required} min={schema.minimum} max={schema.maximum} step={schema.type === 'integer' ? 1 : 'any'} aria-describedby={described} />
    );
  } else if (schema.type === 'boolean') {
    control = <input id={id} name={field} type="checkbox" value="true" checked={value === true} aria-describedby={described} />;
  } else if (schema.type === 'array') {
    control = (
      <textarea id={id} name={field} rows={3} aria-describedby={described}>
        {Array.isArray(value) ? value.map(String).join('\n') : ''}
      </textarea>
    );
  } else {
    control = (
      <input id={id} name={field} value={value === undefined ? '' : String(value)} required={required} pattern={schema.pattern} title={schema['x-responder-messages']?.pattern} minlength={schema.minLength} maxlength={schema.maxLength} aria-describedby={described} />
    );
  }
  return (
    <div class="field">
      <label for={id}>
        {name}
        {schema.type === 'array' ? ' (one per line)' : ''}
      </label>
      {control}
      {hint}
    </div>
  );
}

/** Approve, reject, or approve changed inputs — a form generated from the action's JSON Schema. */
export function DecisionForm(props: { incidentId: string; request: ApprovalRequest; inputsSchema: Record<string, unknown>; csrf: string | null; error?: { detail: string; errors?: { path: string; message: string }[] } }) {
  const { request } = props;
  const required = new Set((props.inputsSchema.required as string[] | undefined) ?? []);
  return (
    <form method="post" action={`/incidents/${props.incidentId}/decide`} class="decide" aria-labelledby="decide-heading">
      <h3 id="decide-heading">Your decision on round {request.round}</h3>
      {props.error ? (
        <div class="error" role="alert">
          <p>{props.error.detail}</p>
          {props.error.errors?.length ? (
            <ul>
              {props.error.errors.map((e) => (
                <li>
                  {e.path}: {e.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <input type="hidden" name="requestId" value={request.id} />
      {props.csrf ? <input type="hidden" name="csrf" value={props.csrf} /> : null}
      <div class="field">
        <label for="reason">Reason (goes into the audit trail)</label>
        <textarea id="reason" name="reason" required maxlength={2000} rows={2}></textarea>
      </div>
      <div class="buttons">
        <button type="submit" name="decision" value="approve" class="approve">
          Approve
        </button>
        <button type="submit" name="decision" value="reject" class="reject" formnovalidate>
          Reject
        </button>
      </div>
      <details>
        <summary>Change the inputs, then approve the changed action</summary>
        <p>Changed inputs end this round: they are dry-run and checked by policy again, and a new round asks for approvals of exactly them.</p>
        {propertiesOf(props.inputsSchema).map(([name, schema]) => (
          <Field name={name} schema={schema} value={(request.inputs as JsonObject)[name]} required={required.has(name)} />
        ))}
        <button type="submit" name="decision" value="modify">
          Approve with these inputs
        </button>
      </details>
    </form>
  );
}

/**
 * The modifications a submitted form carries: each field typed as its schema says, only those that
 * differ from the request's inputs. Values that do not parse stay strings, so the schema check names them.
 */
export function modificationsFromForm(form: Record<string, string | undefined>, inputsSchema: Record<string, unknown>, current: JsonObject): JsonObject {
  const changed: JsonObject = {};
  for (const [name, schema] of propertiesOf(inputsSchema)) {
    const raw = form[`${FIELD_PREFIX}${name}`];
    let value: JsonValue | undefined;
    if (schema.type === 'boolean') value = raw === 'true';
    else if (raw === undefined) continue;
    else if (schema.type === 'integer' || schema.type === 'number') value = raw.trim() === '' ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw;
    else if (schema.type === 'array') value = raw.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
    else value = raw;
    if (value === undefined) continue;
    if (JSON.stringify(value) !== JSON.stringify(current[name])) changed[name] = value;
  }
  return changed;
}

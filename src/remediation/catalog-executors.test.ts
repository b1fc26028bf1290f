import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalog, rollbackInputs } from './catalog.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (id: string, settings: string) => `id: ${id}
title: ${id}
type: restart
risk: low
targetType: service
targetInput: service
targets: { service: service, host: host }
${settings}
inputs:
  type: object
  properties:
    service: { type: string }
    host: { type: string }
`;

function catalogOf(files: Record<string, string>) {
  dir = mkdtempSync(join(tmpdir(), 'responder-catalog-exec-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return () => loadCatalog(dir, { inventoryHosts: ['web1'] });
}

describe('catalog executor settings and rollbacks', () => {
  it('a kestra or http entry needs no playbook, only its own settings; a rollback maps inputs from the action it undoes', () => {
    const catalog = catalogOf({
      'scale.yaml': entry('scale', 'executor: kestra\nkestra: { flowId: scale-deployment }\nrollback: { action: unscale, inputs: { service: inputs.service, host: inputs.host, note: "value:undo" } }'),
      'unscale.yaml': entry('unscale', 'executor: http\nhttp: { endpoint: scaler }'),
    })();
    const scale = catalog.get('scale')!;
    expect(scale.kestra).toEqual({ namespace: 'platform.remediation', flowId: 'scale-deployment' });
    expect(scale.playbookPath).toBeNull();
    expect(rollbackInputs(scale, { service: 'shop', host: 'web1' })).toEqual({ action: 'unscale', inputs: { service: 'shop', host: 'web1', note: 'undo' } });
    expect(rollbackInputs(catalog.get('unscale')!, { service: 'shop' })).toBeNull();
  });

  it('refuses an entry without its executor settings, a rollback naming no catalog action or an input that does not exist, and a flow id that is a path', () => {
    const load = catalogOf({
      'a.yaml': entry('a', 'executor: ansible'),
      'b.yaml': entry('b', 'executor: kestra'),
      'c.yaml': entry('c', 'executor: http'),
      'd.yaml': entry('d', 'executor: http\nhttp: { endpoint: x }\nrollback: { action: no-such-action, inputs: { service: inputs.nope } }'),
      'e.yaml': entry('e', 'executor: kestra\nkestra: { flowId: "../../flows/x" }'),
    });
    expect(load).toThrow(/a\.yaml: executor ansible needs a playbook/);
    expect(load).toThrow(/b\.yaml: executor kestra needs kestra\.flowId/);
    expect(load).toThrow(/c\.yaml: executor http needs http\.endpoint/);
    expect(load).toThrow(/d: rollback\.action no-such-action is not in the catalog/);
    expect(load).toThrow(/d: rollback\.inputs\.service reads inputs\.nope, which is not one of the input properties/);
    expect(load).toThrow(/e\.yaml: kestra\.flowId/);
  });
});

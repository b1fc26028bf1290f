import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../remediation/catalog.js';
import { allowedCatalogActions, checkAgentProposal, citesShownSource, modelFacingSchema, proposalToolSchema } from './agent-proposal.js';

// The shipped catalog, with some hosts of the scenario inventory (src/eval/scenarios/inventory.ini).
const catalog = loadCatalog(join(import.meta.dirname, '..', '..', 'remediations'), { inventoryHosts: ['api1', 'web1', 'lb1', 'db1', 'cache1', 'app1'] });
const valid = {
  diagnosis: 'worker wedged',
  evidence: [{ source: 'Error logs', summary: 'event loop blocked 40 times' }],
  action: { id: 'restart-service', inputs: { service: 'worker', host: 'app1' } },
  risk: 'medium',
  confidence: 0.8,
};
/** What the model was shown: context section titles and the tools it called. */
const SHOWN = ['The alert', 'Logs over the last 60 min', 'query_prometheus'];

describe('checkAgentProposal', () => {
  it('turns valid model output into an agent proposal carrying the gathered evidence first', () => {
    const check = checkAgentProposal(valid, catalog, ['restart-service'], [{ kind: 'alert', summary: 'HighCpu' }], SHOWN);
    expect(check).toEqual({
      ok: true,
      proposal: {
        diagnosis: 'worker wedged',
        evidence: [
          { kind: 'alert', summary: 'HighCpu' },
          { kind: 'agent', summary: 'event loop blocked 40 times', data: { source: 'Error logs' } },
        ],
        action: valid.action,
        risk: 'medium',
        confidence: 0.8,
        source: 'agent',
      },
    });
  });

  it('accepts "no action" as an answer', () => {
    expect(checkAgentProposal({ ...valid, action: null }, catalog, ['restart-service'], [], SHOWN).ok).toBe(true);
  });

  it('names every schema problem', () => {
    const check = checkAgentProposal({ diagnosis: '', evidence: [], action: null, risk: 'extreme', confidence: 2, extra: 1 }, catalog, [], [], SHOWN);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problems).toEqual([
      'diagnosis: say what is wrong',
      'evidence: cite at least one piece of evidence you were shown',
      "risk: Invalid enum value. Expected 'low' | 'medium' | 'high', received 'extreme'",
      'confidence: Number must be less than or equal to 1',
      "(proposal): Unrecognized key(s) in object: 'extra'",
    ]);
  });

  it('refuses an action the route does not allow, even one in the catalog', () => {
    const check = checkAgentProposal({ ...valid, action: { id: 'block-host', inputs: { ip: '1.2.3.4', reason: 'abuse', duration: '1h' } } }, catalog, ['restart-service'], [], SHOWN);
    expect(check).toEqual({ ok: false, problems: ['action.id: "block-host" is not an action you may propose; choose one of restart-service or null'] });
  });

  it("refuses inputs the action's schema rejects", () => {
    const check = checkAgentProposal({ ...valid, action: { id: 'restart-service', inputs: { service: 'worker; rm -rf /', host: 'app1' } } }, catalog, ['restart-service'], [], SHOWN);
    expect(check).toEqual({ ok: false, problems: ["action.inputs.service: must be a systemd unit name like nginx or nginx.service: letters, digits and @ . _ : - only, not starting with '-'"] });
  });

  it('names an item of a list input and an input the action lacks where they sit in the proposal', () => {
    const check = checkAgentProposal(
      { ...valid, action: { id: 'clear-disk-space', inputs: { host: 'app1', paths: ['/var/log/app', '/var/log/../../etc'], min_age_days: 7, force: true } } },
      catalog,
      ['clear-disk-space'],
      [],
      SHOWN,
    );
    expect(!check.ok && check.problems).toEqual([
      'action.inputs: "force" is not an input of this action; it takes host, paths, min_age_days',
      "action.inputs.paths[1]: must not contain a '..' or '.' segment or '//' (no path traversal)",
      'action.inputs.paths[1]: must be an absolute path with no "..", "." or empty segment and no trailing slash; got "/var/log/../../etc"',
    ]);
  });

  it('refuses a host that is not exactly one inventory host: all, a group, a pattern, a list', () => {
    for (const host of ['all', 'scenario', 'web*', 'web1:api1', 'web1,api1']) {
      const check = checkAgentProposal({ ...valid, action: { id: 'restart-service', inputs: { service: 'worker', host } } }, catalog, ['restart-service'], [], SHOWN);
      expect(check.ok, host).toBe(false);
      expect(!check.ok && check.problems.join(' '), host).toContain(`action.inputs.host: must name exactly one inventory host (not a group, a pattern or "all"); ${JSON.stringify(host)} is not one of`);
    }
  });
});

describe('evidence citations', () => {
  it('refuses evidence that cites nothing the model was shown, as a small model hands in', () => {
    const check = checkAgentProposal({ ...valid, evidence: [{ source: 'None', summary: 'No evidence provided.' }], confidence: 1 }, catalog, ['restart-service'], [], SHOWN);
    expect(check).toEqual({
      ok: false,
      problems: ['evidence.0.source: "None" is neither a context section nor a tool you called; cite one of "The alert", "Logs over the last 60 min", "query_prometheus"'],
    });
  });

  it('refuses a tool the model never called, and names only the bad items', () => {
    const evidence = [{ source: 'query_prometheus', summary: 'queue 4800' }, { source: 'query_loki_logs', summary: 'made up' }];
    const check = checkAgentProposal({ ...valid, evidence }, catalog, ['restart-service'], [], SHOWN);
    expect(!check.ok && check.problems).toEqual([expect.stringMatching(/^evidence\.1\.source: "query_loki_logs" is neither/)]);
  });

  it('accepts a shortened section title, a tool name in a phrase, any case', () => {
    for (const source of ['Error logs', 'logs', 'the ALERT', 'query_prometheus (range)', 'QUERY_PROMETHEUS']) expect(citesShownSource(source, SHOWN), source).toBe(true);
    for (const source of ['', 'None', 'over the last 60 min', 'prometheus', 'tool']) expect(citesShownSource(source, SHOWN), source).toBe(false);
  });
});

describe('proposalToolSchema', () => {
  it('offers exactly the allowed actions, each with its own input schema', () => {
    const schema = proposalToolSchema(catalog, ['restart-service', 'block-host']) as { properties: { action: { anyOf: { properties?: { id: { const: string } } }[] } } };
    expect(schema.properties.action.anyOf.map((a) => a.properties?.id.const ?? null)).toEqual(['restart-service', 'block-host', null]);
  });

  it('shows each input by its description, leaving regexes and limits to validation, which still applies them', () => {
    const schema = proposalToolSchema(catalog, ['block-host']) as { properties: { action: { anyOf: { properties?: { inputs: { properties: Record<string, Record<string, unknown>> } } }[] } } };
    const ip = schema.properties.action.anyOf[0]!.properties!.inputs.properties.ip!;
    expect(ip).toEqual({ type: 'string', description: 'one IPv4 or IPv6 address, e.g. 10.0.4.15 (no prefix length, no range)', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] });
    const loopback = { ...valid, action: { id: 'block-host', inputs: { ip: '127.0.0.1', reason: 'abuse', duration: '1h' } } };
    expect(checkAgentProposal(loopback, catalog, ['block-host'], [], SHOWN)).toEqual({ ok: false, problems: ['action.inputs.ip: must be a single remote host, not the unspecified (0.0.0.0, ::), broadcast (255.255.255.255) or a loopback (127.x.x.x, ::1) address'] });
  });

  it("tells where a path input may point: the catalog's pathRoots, which no schema keyword carries", () => {
    const schema = proposalToolSchema(catalog, ['clear-disk-space', 'rollback-config']) as { properties: { action: { anyOf: { properties?: { inputs: { properties: Record<string, Record<string, unknown>> } } }[] } } };
    const [clear, rollback] = schema.properties.action.anyOf;
    expect(clear!.properties!.inputs.properties.paths!.description).toMatch(/\(under \/var\/log, \/var\/cache, \/var\/tmp, \/tmp\)$/);
    expect(rollback!.properties!.inputs.properties.config_path!.description).toMatch(/\(under \/etc\)$/);
    expect(rollback!.properties!.inputs.properties.host!.description).not.toMatch(/under/);
  });

  it('keeps the pattern of an undescribed input and properties named like keywords', () => {
    const inputs = { type: 'object', properties: { pattern: { type: 'string', description: 'a glob', pattern: '^[*a-z]+$' }, not: { type: 'string', pattern: '^[a-z]+$', maxLength: 9 } } };
    expect(modelFacingSchema(inputs)).toEqual({ type: 'object', properties: { pattern: { type: 'string', description: 'a glob' }, not: { type: 'string', pattern: '^[a-z]+$' } } });
  });

  it('reads an empty route list as the whole catalog and drops ids the catalog lacks', () => {
    expect(allowedCatalogActions(catalog, []).sort()).toEqual(['block-host', 'clear-disk-space', 'restart-service', 'rollback-config', 'scale-deployment']);
    expect(allowedCatalogActions(catalog, ['restart-service', 'format-disk'])).toEqual(['restart-service']);
  });
});

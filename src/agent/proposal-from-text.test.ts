import { describe, expect, it } from 'vitest';
import { proposalFromText } from './proposal-from-text.js';

const proposal = { diagnosis: 'worker wedged', evidence: [{ source: 'Logs', summary: 'blocked' }], action: null, risk: 'low', confidence: 0.5 };

describe('proposalFromText', () => {
  it('reads a ```json block, the format the seed asks models for', () => {
    expect(proposalFromText(`Here is my analysis.\n\`\`\`json\n${JSON.stringify(proposal, null, 2)}\n\`\`\`\nDone.`)).toEqual(proposal);
  });

  it('reads a submit_proposal call written as text, in the shapes llama.cpp models write it', () => {
    const call = { name: 'submit_proposal', arguments: proposal };
    expect(proposalFromText(`<tool_call>\n${JSON.stringify(call)}\n</tool_call>`)).toEqual(proposal);
    expect(proposalFromText(JSON.stringify({ name: 'submit_proposal', arguments: JSON.stringify(proposal) }))).toEqual(proposal);
    expect(proposalFromText(`\`\`\`\n${JSON.stringify({ function: { name: 'submit_proposal', arguments: proposal } })}\n\`\`\``)).toEqual(proposal);
  });

  it('takes the last proposal when the model drafted more than one', () => {
    const final = { ...proposal, diagnosis: 'final' };
    expect(proposalFromText(`\`\`\`json\n${JSON.stringify(proposal)}\n\`\`\`\nRevised:\n\`\`\`json\n${JSON.stringify(final)}\n\`\`\``)).toEqual(final);
  });

  it('finds nothing in prose, in another tool call, in broken JSON or in a bare array', () => {
    expect(proposalFromText('I think you should restart it.')).toBeNull();
    expect(proposalFromText(JSON.stringify({ name: 'query_prometheus', arguments: { expr: 'up' } }))).toBeNull();
    expect(proposalFromText('```json\n{"diagnosis": "x",\n```')).toBeNull();
    expect(proposalFromText('[1, 2]')).toBeNull();
    expect(proposalFromText('{"__proto__": {"polluted": true}}')).toBeNull();
  });

  it('hands back what it found unvalidated: validation is the caller\'s', () => {
    expect(proposalFromText('{"diagnosis": 42}')).toEqual({ diagnosis: 42 });
  });

  it('does not search a huge answer', () => {
    expect(proposalFromText(`${'x'.repeat(70_000)}${JSON.stringify(proposal)}`)).toBeNull();
  });
});

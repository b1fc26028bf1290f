import { expect, it } from 'vitest';
import { nothingDone, parseRecap } from './ansible-recap.js';

const noHosts = `
PLAY [nosuch] ******************************************************************
skipping: no hosts matched

PLAY RECAP *********************************************************************

`;
const allSkipped = `
PLAY [localhost] ***************************************************************

TASK [ansible.builtin.debug] ***************************************************
skipping: [localhost]

PLAY RECAP *********************************************************************
localhost                  : ok=0    changed=0    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
`;
const ran = `
PLAY RECAP *********************************************************************
web1                       : ok=2    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
`;

it('reads the recap hosts', () => {
  expect(parseRecap(ran)).toEqual([{ host: 'web1', ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0 }]);
  expect(parseRecap(noHosts)).toEqual([]);
  expect(parseRecap('no recap at all')).toEqual([]);
});

it('an exit 0 with no host matched is nothing done, in a dry run too', () => {
  expect(nothingDone(noHosts, false)).toMatch(/no host of the inventory matched/);
  expect(nothingDone(noHosts, true)).toMatch(/no host of the inventory matched/);
  expect(nothingDone('', false)).toMatch(/no host/);
});

it('every task skipped is nothing done for a real run, expected for a check run', () => {
  expect(nothingDone(allSkipped, false)).toMatch(/every task was skipped on localhost/);
  expect(nothingDone(allSkipped, true)).toBeNull();
  expect(nothingDone(ran, false)).toBeNull();
});

it('a recap-looking line inside task output before the recap is not counted', () => {
  const spoof = `TASK [echo] ****\nok: [web1] => {"msg": "web1 : ok=1 changed=1 unreachable=0 failed=0 skipped=0"}\n${noHosts}`;
  expect(nothingDone(spoof, false)).toMatch(/no host/);
});

import { describe, expect, it } from 'vitest';
import type { IncidentNotice } from './incident-notice.js';
import { chatSafe, ntfyBody, webhookBody } from './notice-senders.js';

const notice: IncidentNotice = { kind: 'approval-requested', incidentId: 'i1', subject: 'DiskFull on web1', detail: 'Responder asks 2 approver(s)', state: null, link: 'https://r.example/incidents/i1' };

describe('notification bodies', () => {
  it('are the Slack incoming-webhook shape with the incident link', () => {
    expect(webhookBody(notice)).toEqual({ text: '🙋 [Responder] DiskFull on web1: Responder asks 2 approver(s) — https://r.example/incidents/i1' });
  });

  it('keep alert text from pinging or linking in Slack, Mattermost and Rocket.Chat', () => {
    expect(chatSafe('<!here> <@U1> <https://x|y> @channel & co')).toBe('&lt;!here&gt; &lt;@\u2060U1&gt; &lt;https://x|y&gt; @\u2060channel &amp; co');
  });

  it('publish to ntfy as JSON at the server root, the topic in the body, an approval request at least at priority 4', () => {
    expect(ntfyBody(notice, 'https://ntfy.example.org/alerts/oncall', 2)).toEqual({
      serverUrl: 'https://ntfy.example.org/alerts/',
      body: { topic: 'oncall', title: 'Responder: DiskFull on web1', message: 'Responder asks 2 approver(s)', priority: 4, tags: ['approval-requested'], click: 'https://r.example/incidents/i1' },
    });
    expect(ntfyBody({ ...notice, kind: 'result', link: null }, 'https://ntfy.sh/t', 2).body).toEqual({ topic: 't', title: 'Responder: DiskFull on web1', message: 'Responder asks 2 approver(s)', priority: 2, tags: ['result'] });
  });

  it('carry a hostile title with a line break in the JSON body, where it cannot become a header', () => {
    const { body } = ntfyBody({ ...notice, subject: 'x\r\nAuthorization: Bearer stolen' }, 'https://ntfy.sh/t', 3);
    expect(body.title).toBe('Responder: x\r\nAuthorization: Bearer stolen');
  });
});

/**
 * Mail sent over SMTP_URL lands in Mailpit, whose HTTP API (MAILPIT_API_URL)
 * lets tests read what a buyer would receive.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { requireEnv } from '../../harness/runtime';

interface MailpitSummary {
  ID: string;
  Subject: string;
}

async function findBySubject(api: string, subject: string): Promise<MailpitSummary | undefined> {
  const query = encodeURIComponent(`subject:"${subject}"`);
  const res = await fetch(`${api}/api/v1/search?query=${query}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { messages: MailpitSummary[] };
  return body.messages.find((m) => m.Subject === subject);
}

describe('SMTP (Mailpit locally)', () => {
  test('a message sent over SMTP is readable through the Mailpit API', async () => {
    const api = process.env.MAILPIT_API_URL;
    if (!api) {
      // External SMTP (no Mailpit): only sending can be checked.
      console.warn('MAILPIT_API_URL is not set; skipping the read-back');
    }
    const transport = nodemailer.createTransport(requireEnv('SMTP_URL'));
    const subject = `platform test ${randomUUID()}`;
    try {
      const info = await transport.sendMail({
        from: process.env.MAIL_FROM ?? 'onsale <tickets@onsale.test>',
        to: 'buyer@example.test',
        subject,
        text: 'Your tickets are confirmed.',
      });
      expect(info.accepted).toEqual(['buyer@example.test']);
    } finally {
      transport.close();
    }
    if (!api) return;

    // Mailpit stores asynchronously; poll briefly.
    let found: MailpitSummary | undefined;
    for (let attempt = 0; attempt < 50 && !found; attempt++) {
      found = await findBySubject(api, subject);
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toBeDefined();
    const message = (await (await fetch(`${api}/api/v1/message/${found!.ID}`)).json()) as {
      Subject: string;
      Text: string;
      To: { Address: string }[];
    };
    expect(message.Subject).toBe(subject);
    expect(message.Text.trim()).toBe('Your tickets are confirmed.');
    expect(message.To.map((t) => t.Address)).toEqual(['buyer@example.test']);
  });
});

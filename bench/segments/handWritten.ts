/**
 * The baseline of the predicate benchmark: the same conditions written by hand in
 * plain JavaScript, as a developer would for one fixed segment, with the segment
 * language's semantics (a missing value fails a comparison, `notIn` holds on a
 * missing value, ASCII-only case folding, windows relative to `now`).
 */
import type { PersonMember } from '../../subgraphs/segment/language/index.js';

const DAY = 86_400_000;
const lowerAscii = (text: string) => text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

export interface HandWrittenCase {
  name: string;
  expression: string;
  predicate: (member: PersonMember, now: Date) => boolean;
}

export const HAND_WRITTEN_CASES: readonly HandWrittenCase[] = [
  {
    name: 'DESIGN example (title, account, pricing visits, open opportunity)',
    expression:
      'jobTitle.contains("vp", false) and account.annualRevenue >= 100000000 ' +
      'and events.count(type = "web.pageView" and url.contains("/pricing") and timestamp occurs <= 30 days before now) >= 3 ' +
      'and opportunities.any(role = "Decision Maker" and stage notIn ["Closed Won", "Closed Lost"])',
    predicate: (member, now) => {
      const title = member.jobTitle;
      if (typeof title !== 'string' || !lowerAscii(title).includes('vp')) return false;
      const revenue = member.account?.annualRevenue;
      if (typeof revenue !== 'number' || !(revenue >= 100_000_000)) return false;
      const to = now.getTime();
      const from = to - 30 * DAY;
      let visits = 0;
      for (const event of member.events ?? []) {
        const at = event.timestamp instanceof Date ? event.timestamp.getTime() : NaN;
        if (event.type === 'web.pageView' && typeof event.url === 'string' && event.url.includes('/pricing') && at >= from && at <= to) visits++;
      }
      if (visits < 3) return false;
      return (member.opportunities ?? []).some(
        (opportunity) => opportunity.role === 'Decision Maker' && opportunity.stage !== 'Closed Won' && opportunity.stage !== 'Closed Lost',
      );
    },
  },
  {
    name: 'Own fields (country, score, consent, not a customer)',
    expression: 'country in ["US", "CA", "GB"] and leadScore >= 40 and not consents.marketingEmail = "n" and account.type != "Customer"',
    predicate: (member) => {
      const country = member.country;
      if (country !== 'US' && country !== 'CA' && country !== 'GB') return false;
      if (typeof member.leadScore !== 'number' || !(member.leadScore >= 40)) return false;
      if (member.consents?.marketingEmail === 'n') return false;
      // != holds for any present value of another kind too; only a missing one fails it.
      const type = member.account?.type;
      return type !== undefined && type !== null && type !== 'Customer';
    },
  },
  {
    name: 'Relations (email engagement, decision-maker roles)',
    expression:
      'events.any(type = "email.open" and timestamp occurs <= 14 days before now) ' +
      'and accounts.any(isPrimary = true and industry = "Software") and opportunities.count(role = "Decision Maker") >= 1',
    predicate: (member, now) => {
      const to = now.getTime();
      const from = to - 14 * DAY;
      const opened = (member.events ?? []).some((event) => {
        const at = event.timestamp instanceof Date ? event.timestamp.getTime() : NaN;
        return event.type === 'email.open' && at >= from && at <= to;
      });
      if (!opened) return false;
      if (!(member.accounts ?? []).some((account) => account.isPrimary === true && account.industry === 'Software')) return false;
      let roles = 0;
      for (const opportunity of member.opportunities ?? []) if (opportunity.role === 'Decision Maker') roles++;
      return roles >= 1;
    },
  },
];
